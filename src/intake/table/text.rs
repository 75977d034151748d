//! The text of table cells: label keys, numbers, amounts, rates, dates, unit references, targets.
//!
//! Cells come with full-width or half-width punctuation and stray spaces; a label is compared by a
//! key that erases those differences, while every value keeps its printed text.
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::domain::money::{significant_scale, wan_to_yuan, with_scale};
use crate::domain::record::{Achievement, Direction, ReportedIn, UnitReference};

/// Half-width form of a full-width character (`（` → `(`, `：` → `:`, `５` → `5`); the ideographic
/// space becomes a space; a few look-alike brackets and dashes become their ASCII forms.
pub fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' => ' ',
        '【' | '〔' | '〖' => '(',
        '】' | '〕' | '〗' => ')',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        _ => c,
    }
}

/// The key a label is looked up by: half-width, without whitespace.
pub fn key(text: &str) -> String {
    text.chars().map(half_width).filter(|c| !c.is_whitespace()).collect()
}

/// Whether a cell's text holds a digit (such a cell, unless some field or label used it, is listed
/// as unmatched).
pub fn has_digit(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit() || ('\u{FF10}'..='\u{FF19}').contains(&c))
}

/// A cell that says "nothing here": empty, or a dash or slash placeholder.
pub fn is_placeholder(text: &str) -> bool {
    let key = key(text);
    key.is_empty() || key.chars().all(|c| matches!(c, '-' | '/' | '\\' | '_' | '—' | '…' | '.' | '*'))
}

/// A decimal number spelt out in full: `89.974`, `-3`, `1,329,120.67`, `１２` (full-width). No
/// exponent, no unit.
pub fn parse_number(text: &str) -> Option<Decimal> {
    let key = key(text);
    let digits = strip_thousands(&key)?;
    let body = digits.strip_prefix(['+', '-']).unwrap_or(&digits);
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let plain = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !plain(whole) || !plain(fraction) || (body.contains('.') && fraction.is_empty()) {
        return None;
    }
    Decimal::from_str(digits.trim_start_matches('+')).ok()
}

/// `1,329,120.67` → `1329120.67`; a comma anywhere but between groups of three digits refuses.
fn strip_thousands(key: &str) -> Option<String> {
    if !key.contains(',') {
        return Some(key.to_owned());
    }
    let (whole, fraction) = key.split_once('.').map_or((key, None), |(w, f)| (w, Some(f)));
    let unsigned = whole.trim_start_matches(['+', '-']);
    let groups: Vec<&str> = unsigned.split(',').collect();
    let first_ok = (1..=3).contains(&groups[0].len());
    if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
        return None;
    }
    let mut out: String = whole.chars().filter(|c| *c != ',').collect();
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    Some(out)
}

/// A figure read from an amount cell.
#[derive(Debug, Clone, PartialEq)]
pub enum AmountCell {
    /// Nothing stated (empty, `—`)
    Empty,
    /// The amount in 元, exact, at most two fraction digits
    Yuan(Decimal),
    /// A number that is no whole number of 分 once in 元 (e.g. `1.2345678` 万元): never rounded
    Inexact(Decimal),
    /// Text that is no amount
    Text,
}

/// An amount cell in the block's unit; a unit printed in the cell itself (`89.974万元`, `899740元`)
/// wins over the block's.
pub fn parse_amount(text: &str, unit: ReportedIn) -> AmountCell {
    if is_placeholder(text) {
        return AmountCell::Empty;
    }
    let key = key(text);
    let (number, unit) = if let Some(number) = key.strip_suffix("万元") {
        (number, ReportedIn::TenThousandYuan)
    } else if let Some(number) = key.strip_suffix('元') {
        (number, ReportedIn::Yuan)
    } else {
        (key.as_str(), unit)
    };
    let Some(value) = parse_number(number) else { return AmountCell::Text };
    let yuan = match unit {
        ReportedIn::TenThousandYuan => wan_to_yuan(value),
        ReportedIn::Yuan => value,
    };
    if significant_scale(yuan) > 2 {
        AmountCell::Inexact(value)
    } else {
        AmountCell::Yuan(with_scale(yuan.normalize(), 2))
    }
}

/// A rate as printed: `100%`, `108.20%` → `1.0000`, `1.0820`; a bare `0` is 0. A bare number above 1
/// is read as a percentage and a bare fraction as a fraction, and the second member says so.
pub fn parse_rate(text: &str) -> Option<(Decimal, Option<&'static str>)> {
    let key = key(text);
    if let Some(number) = key.strip_suffix('%') {
        return Some((parse_number(number)? * Decimal::new(1, 2), None));
    }
    let value = parse_number(&key)?;
    if value.is_zero() {
        Some((value, None))
    } else if value > Decimal::ONE {
        Some((value * Decimal::new(1, 2), Some("printed without %; read as a percentage")))
    } else {
        Some((value, Some("printed without %; read as a fraction")))
    }
}

/// Points (分值, 得分) as printed: `10`, `8.5`, `10分`.
pub fn parse_points(text: &str) -> Option<Decimal> {
    let key = key(text);
    parse_number(key.strip_suffix('分').unwrap_or(&key))
}

/// The first date in a text: `2021年5月18日`, `2021-05-18`, `2021.5.18`, `2021/5/18`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let chars: Vec<char> = key(text).chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if let Some(date) = date_at(&chars[i..]) {
            return Some(date);
        }
        i += 1;
    }
    None
}

fn date_at(chars: &[char]) -> Option<NaiveDate> {
    let (year, rest) = digits(chars, 4, 4)?;
    let (sep, rest) = rest.split_first()?;
    if !matches!(sep, '年' | '-' | '.' | '/') {
        return None;
    }
    let (month, rest) = digits(rest, 1, 2)?;
    let (sep2, rest) = rest.split_first()?;
    let expected = if *sep == '年' { '月' } else { *sep };
    if *sep2 != expected {
        return None;
    }
    let (day, _) = digits(rest, 1, 2)?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

fn digits(chars: &[char], min: usize, max: usize) -> Option<(u32, &[char])> {
    let n = chars.iter().take(max + 1).take_while(|c| c.is_ascii_digit()).count();
    if n < min || n > max {
        return None;
    }
    let value = chars[..n].iter().collect::<String>().parse().ok()?;
    Some((value, &chars[n..]))
}

/// A fiscal year printed as `（2022年度）`, `2022年度`, `2022 年度`; with `loose`, also `2022年`
/// not followed by a month (`2022年项目支出绩效自评表`).
pub fn parse_year(text: &str, loose: bool) -> Option<i32> {
    let chars: Vec<char> = key(text).chars().collect();
    for i in 0..chars.len() {
        if i > 0 && chars[i - 1].is_ascii_digit() {
            continue;
        }
        let Some((year, rest)) = digits(&chars[i..], 4, 4) else { continue };
        if !(1990..=2100).contains(&year) {
            continue;
        }
        match rest {
            ['年', '度', ..] => return Some(year as i32),
            ['年', next, ..] if loose && !next.is_ascii_digit() => return Some(year as i32),
            ['年'] if loose => return Some(year as i32),
            _ => {}
        }
    }
    None
}

/// A budget unit as forms print it: `219-池州市贵池区棠溪镇人民政府`, `219 池州…`, `（219）池州…`,
/// `池州…（219）`, or a name alone.
pub fn parse_unit_reference(text: &str) -> Option<UnitReference> {
    let text = text.trim();
    if is_placeholder(text) {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let open = |c: char| matches!(half_width(c), '(' | '[');
    let close = |c: char| matches!(half_width(c), ')' | ']');
    let is_code = |s: &[char]| {
        !s.is_empty()
            && s.len() <= 30
            && s.iter().all(|c| c.is_ascii_alphanumeric())
            && s.iter().any(|c| c.is_ascii_digit())
    };
    let reference = |code: &[char], name: &[char]| {
        let name: String = name.iter().collect::<String>().trim().to_owned();
        (!name.is_empty()).then(|| UnitReference { code: Some(code.iter().collect()), name })
    };
    // (219)name
    if chars.first().is_some_and(|c| open(*c)) {
        if let Some(end) = chars.iter().position(|c| close(*c)) {
            if is_code(&chars[1..end]) {
                if let Some(unit) = reference(&chars[1..end], &chars[end + 1..]) {
                    return Some(unit);
                }
            }
        }
    }
    // name(219)
    if chars.last().is_some_and(|c| close(*c)) {
        if let Some(start) = chars.iter().rposition(|c| open(*c)) {
            if is_code(&chars[start + 1..chars.len() - 1]) {
                if let Some(unit) = reference(&chars[start + 1..chars.len() - 1], &chars[..start]) {
                    return Some(unit);
                }
            }
        }
    }
    // 219-name, 219 name, 219：name
    let n = chars.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
    if n > 0 && is_code(&chars[..n]) {
        let rest = &chars[n..];
        let separators = rest
            .iter()
            .take_while(|c| c.is_whitespace() || matches!(half_width(**c), '-' | '_' | ':' | '、' | '.' | '—'))
            .count();
        if separators > 0 {
            if let Some(unit) = reference(&chars[..n], &rest[separators..]) {
                return Some(unit);
            }
        }
    }
    Some(UnitReference { code: None, name: text.to_owned() })
}

/// How a unit reference prints: `219-池州市贵池区棠溪镇人民政府`, or the name alone.
pub fn format_unit_reference(unit: &UnitReference) -> String {
    match &unit.code {
        Some(code) => format!("{code}-{}", unit.name),
        None => unit.name.clone(),
    }
}

/// A target cell (年度指标值) read into direction, value and unit, or kept as qualitative text.
///
/// `text` holds the printed text whenever the parts would not print back to it: qualitative text
/// (`及时`), but also `≧90%`, `>=90%`, `不低于90%`, `2天以内`, `1,000个`. A target printed in the
/// canonical form `≥50个`, `≤90万元`, `=8个`, `100%`, `168起` keeps no text: the parts say it all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub direction: Option<Direction>,
    pub value: Option<Decimal>,
    pub unit: Option<String>,
    pub text: Option<String>,
}

/// Reads a target cell; see [`Target`] for the convention on the printed text.
pub fn parse_target(text: &str) -> Target {
    let printed = text.trim();
    if printed.is_empty() {
        return Target::default();
    }
    match quantity(printed) {
        Some(q) if !q.approximate => {
            let canonical = format_target(q.direction, Some(q.value), q.unit.as_deref());
            Target {
                direction: q.direction,
                value: Some(q.value),
                unit: q.unit,
                text: (canonical != printed).then(|| printed.to_owned()),
            }
        }
        _ => Target { text: Some(printed.to_owned()), ..Target::default() },
    }
}

/// The canonical print of a target: `≥50个`, `≤90万元`, `=8个`, `100%`.
pub fn format_target(direction: Option<Direction>, value: Option<Decimal>, unit: Option<&str>) -> String {
    let symbol = match direction {
        Some(Direction::AtLeast) => "≥",
        Some(Direction::AtMost) => "≤",
        Some(Direction::Exactly) => "=",
        None => "",
    };
    let value = value.map(|v| v.to_string()).unwrap_or_default();
    format!("{symbol}{value}{}", unit.unwrap_or(""))
}

/// An actual cell (实际完成值) read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actual {
    pub value: Option<Decimal>,
    pub unit: Option<String>,
    /// The printed text, when the value alone (or with the unit) would not print back to it
    pub text: Option<String>,
    /// Stated in words: 达成预期指标, 部分达成, 未完成 …
    pub achievement: Option<Achievement>,
}

/// Reads an actual cell. A plain quantity (`50`, `95%`, `168起`) gives the value; an approximate one
/// (`21000余亩`) the value and the text; one with a direction (`2天以内`) or a unit other than the
/// target's, or any other text, only the text, with the achievement its words state.
pub fn parse_actual(text: &str, unit_of_measure: Option<&str>) -> Actual {
    let printed = text.trim();
    if printed.is_empty() {
        return Actual::default();
    }
    let text_only = || Actual {
        text: Some(printed.to_owned()),
        achievement: (!has_digit(printed)).then(|| achievement_of(printed)).flatten(),
        ..Actual::default()
    };
    let Some(q) = quantity(printed) else { return text_only() };
    let compatible = match (&q.unit, unit_of_measure) {
        (Some(unit), Some(expected)) => unit == expected,
        _ => true,
    };
    if q.direction.is_some() || !compatible {
        return text_only();
    }
    let value = q.value.to_string();
    let canonical =
        !q.approximate && (printed == value || q.unit.as_ref().is_some_and(|u| printed == format!("{value}{u}")));
    Actual { value: Some(q.value), unit: q.unit, text: (!canonical).then(|| printed.to_owned()), achievement: None }
}

/// The achievement a qualitative actual states in words.
pub fn achievement_of(text: &str) -> Option<Achievement> {
    let key = key(text);
    let any = |words: &[&str]| words.iter().any(|w| key.contains(w));
    if any(&["未达成", "未完成", "未达到", "没有达到", "没有完成", "未实现"]) {
        Some(Achievement::NotAchieved)
    } else if any(&["部分达成", "部分完成", "部分达到", "基本达成", "基本完成", "基本达到", "部分实现", "基本实现"])
    {
        Some(Achievement::PartlyAchieved)
    } else if any(&["达成", "达到预期", "达到目标", "已完成", "完成", "已实现", "实现预期", "达标"])
    {
        Some(Achievement::Achieved)
    } else {
        None
    }
}

struct Quantity {
    direction: Option<Direction>,
    value: Decimal,
    unit: Option<String>,
    /// 余, 多, 约, 左右: "about" or "more than" the value
    approximate: bool,
}

const PREFIXES: &[(&str, Option<Direction>)] = &[
    ("大于等于", Some(Direction::AtLeast)),
    ("大于或等于", Some(Direction::AtLeast)),
    ("不低于", Some(Direction::AtLeast)),
    ("不少于", Some(Direction::AtLeast)),
    ("不小于", Some(Direction::AtLeast)),
    ("至少", Some(Direction::AtLeast)),
    ("小于等于", Some(Direction::AtMost)),
    ("小于或等于", Some(Direction::AtMost)),
    ("不高于", Some(Direction::AtMost)),
    ("不超过", Some(Direction::AtMost)),
    ("不多于", Some(Direction::AtMost)),
    ("不大于", Some(Direction::AtMost)),
    ("控制在", Some(Direction::AtMost)),
    ("最多", Some(Direction::AtMost)),
    (">=", Some(Direction::AtLeast)),
    ("=>", Some(Direction::AtLeast)),
    ("<=", Some(Direction::AtMost)),
    ("=<", Some(Direction::AtMost)),
    ("≥", Some(Direction::AtLeast)),
    ("≧", Some(Direction::AtLeast)),
    ("⩾", Some(Direction::AtLeast)),
    ("≤", Some(Direction::AtMost)),
    ("≦", Some(Direction::AtMost)),
    ("⩽", Some(Direction::AtMost)),
    ("==", Some(Direction::Exactly)),
    ("=", Some(Direction::Exactly)),
    ("等于", Some(Direction::Exactly)),
    (">", Some(Direction::AtLeast)),
    ("<", Some(Direction::AtMost)),
    ("大于", Some(Direction::AtLeast)),
    ("高于", Some(Direction::AtLeast)),
    ("超过", Some(Direction::AtLeast)),
    ("多于", Some(Direction::AtLeast)),
    ("小于", Some(Direction::AtMost)),
    ("低于", Some(Direction::AtMost)),
    ("少于", Some(Direction::AtMost)),
    ("达到", None),
    ("完成", None),
];

const SUFFIXES: &[(&str, Direction)] = &[
    ("及以上", Direction::AtLeast),
    ("或以上", Direction::AtLeast),
    ("以上", Direction::AtLeast),
    ("及以下", Direction::AtMost),
    ("或以下", Direction::AtMost),
    ("以下", Direction::AtMost),
    ("以内", Direction::AtMost),
    ("之内", Direction::AtMost),
    ("内", Direction::AtMost),
];

/// Characters a unit of measure may hold besides letters: `%`, `‰`, `/` (吨/日), `·`, `²`, `³`.
fn unit_like(unit: &str) -> bool {
    let n = unit.chars().count();
    (1..=6).contains(&n)
        && unit.chars().all(|c| c.is_alphabetic() || matches!(c, '%' | '‰' | '/' | '·' | '²' | '³' | '㎡' | '㎞'))
}

/// `≥ 90 %` → (≥, 90, %); `2天以内` → (≤, 2, 天); `21000余亩` → (21000, 亩, approximate).
fn quantity(printed: &str) -> Option<Quantity> {
    let key = key(printed);
    let mut rest = key.as_str();
    let mut direction = None;
    let mut approximate = false;
    if let Some(after) = rest.strip_prefix('约') {
        rest = after;
        approximate = true;
    }
    for (prefix, dir) in PREFIXES {
        if let Some(after) = rest.strip_prefix(prefix) {
            rest = after;
            direction = *dir;
            break;
        }
    }
    let end = rest
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || matches!(c, '.' | ',')))
        .map_or(rest.len(), |(i, _)| i);
    let value = parse_number(&rest[..end])?;
    rest = &rest[end..];
    for marker in ["余", "多"] {
        if let Some(after) = rest.strip_prefix(marker) {
            rest = after;
            approximate = true;
        }
    }
    for (suffix, dir) in SUFFIXES {
        if let Some(before) = rest.strip_suffix(suffix) {
            if direction.is_some() || (*suffix == "内" && before.is_empty()) {
                return None;
            }
            rest = before;
            direction = Some(*dir);
            break;
        }
    }
    for marker in ["左右", "余", "多"] {
        if let Some(before) = rest.strip_suffix(marker) {
            rest = before;
            approximate = true;
        }
    }
    if let Some(before) = rest.strip_suffix("左右") {
        rest = before;
        approximate = true;
    }
    let unit = match rest {
        "" => None,
        unit if unit_like(unit) => Some(unit.to_owned()),
        _ => return None,
    };
    Some(Quantity { direction, value, unit, approximate })
}

/// Splits a text longer than Excel's cell limit into pieces (by characters, at most `max_utf16`
/// UTF-16 units each).
pub fn chunks(text: &str, max_utf16: usize) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut used = 0;
    for c in text.chars() {
        if used + c.len_utf16() > max_utf16 {
            out.push(String::new());
            used = 0;
        }
        used += c.len_utf16();
        out.last_mut().expect("one piece at least").push(c);
    }
    out
}

/// An amount in 元 as a table prints it in its unit: 899740.00元 → `89.974` (万元), `899740` (元).
pub fn format_amount(yuan: Decimal, unit: ReportedIn) -> String {
    let value = match unit {
        ReportedIn::TenThousandYuan => yuan / Decimal::from(10_000),
        ReportedIn::Yuan => yuan,
    };
    value.normalize().to_string()
}

/// A rate as a table prints it: `1.0000` → `100.00%`; more digits are kept.
pub fn format_rate(rate: Decimal) -> String {
    let percent = rate * Decimal::ONE_HUNDRED;
    if significant_scale(percent) <= 2 {
        format!("{}%", with_scale(percent, 2))
    } else {
        format!("{}%", percent.normalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn target(direction: Option<Direction>, value: &str, unit: Option<&str>, text: Option<&str>) -> Target {
        Target { direction, value: Some(dec(value)), unit: unit.map(str::to_owned), text: text.map(str::to_owned) }
    }

    #[test]
    fn targets_in_the_canonical_form_keep_no_text() {
        use Direction::*;
        assert_eq!(parse_target("≥50个"), target(Some(AtLeast), "50", Some("个"), None));
        assert_eq!(parse_target("≤90万元"), target(Some(AtMost), "90", Some("万元"), None));
        assert_eq!(parse_target("=8个"), target(Some(Exactly), "8", Some("个"), None));
        assert_eq!(parse_target("≥100%"), target(Some(AtLeast), "100", Some("%"), None));
        assert_eq!(parse_target("100%"), target(None, "100", Some("%"), None));
        assert_eq!(parse_target("168起"), target(None, "168", Some("起"), None));
        assert_eq!(parse_target(" ≤202.6万元 "), target(Some(AtMost), "202.6", Some("万元"), None));
        assert_eq!(parse_target("0"), target(None, "0", None, None));
    }

    #[test]
    fn other_spellings_keep_the_printed_text_beside_the_parts() {
        use Direction::*;
        assert_eq!(parse_target("≧90%"), target(Some(AtLeast), "90", Some("%"), Some("≧90%")));
        assert_eq!(parse_target(">=90%"), target(Some(AtLeast), "90", Some("%"), Some(">=90%")));
        assert_eq!(parse_target("＞＝90％"), target(Some(AtLeast), "90", Some("%"), Some("＞＝90％")));
        assert_eq!(parse_target("不低于90%"), target(Some(AtLeast), "90", Some("%"), Some("不低于90%")));
        assert_eq!(parse_target("≥ 90 %"), target(Some(AtLeast), "90", Some("%"), Some("≥ 90 %")));
        assert_eq!(parse_target("2天以内"), target(Some(AtMost), "2", Some("天"), Some("2天以内")));
        assert_eq!(parse_target("90万元以内"), target(Some(AtMost), "90", Some("万元"), Some("90万元以内")));
        assert_eq!(parse_target("3日内"), target(Some(AtMost), "3", Some("日"), Some("3日内")));
        assert_eq!(parse_target("95%以上"), target(Some(AtLeast), "95", Some("%"), Some("95%以上")));
        assert_eq!(parse_target("1,000个"), target(None, "1000", Some("个"), Some("1,000个")));
        assert_eq!(parse_target("≥40吨/日"), target(Some(AtLeast), "40", Some("吨/日"), None));
        assert_eq!(parse_target("达到100%"), target(None, "100", Some("%"), Some("达到100%")));
    }

    #[test]
    fn qualitative_targets_are_text() {
        for text in [
            "及时",
            "有效改善",
            "严格执行相关制度规定",
            "在项目计划完成时间内完成",
            "建成后供水范围辐射常宁东部4个乡镇",
            "90%-100%",
            "≥90%且≤100%",
            "约50个",
        ] {
            assert_eq!(parse_target(text), Target { text: Some(text.to_owned()), ..Target::default() }, "{text}");
        }
        assert_eq!(parse_target("  "), Target::default());
    }

    #[test]
    fn actuals() {
        let plain = |v: &str, unit: Option<&str>| Actual {
            value: Some(dec(v)),
            unit: unit.map(str::to_owned),
            ..Actual::default()
        };
        assert_eq!(parse_actual("50", Some("个")), plain("50", None));
        assert_eq!(parse_actual("168起", Some("起")), plain("168", Some("起")));
        assert_eq!(parse_actual("95%", Some("%")), plain("95", Some("%")));
        assert_eq!(
            parse_actual("21000余亩", Some("亩")),
            Actual {
                value: Some(dec("21000")),
                unit: Some("亩".into()),
                text: Some("21000余亩".into()),
                achievement: None
            }
        );
        assert_eq!(parse_actual("2天以内", Some("天")), Actual { text: Some("2天以内".into()), ..Actual::default() });
        assert_eq!(
            parse_actual("899740元", Some("万元")),
            Actual { text: Some("899740元".into()), ..Actual::default() }
        );
        let words = |text: &str, achievement| Actual { text: Some(text.into()), achievement, ..Actual::default() };
        assert_eq!(parse_actual("达成预期指标", None), words("达成预期指标", Some(Achievement::Achieved)));
        assert_eq!(parse_actual("部分达成", None), words("部分达成", Some(Achievement::PartlyAchieved)));
        assert_eq!(parse_actual("基本完成", None), words("基本完成", Some(Achievement::PartlyAchieved)));
        assert_eq!(parse_actual("未完成", None), words("未完成", Some(Achievement::NotAchieved)));
        assert_eq!(parse_actual("有效改善", None), words("有效改善", None));
    }

    #[test]
    fn numbers_amounts_and_rates() {
        assert_eq!(parse_number("89.974"), Some(dec("89.974")));
        assert_eq!(parse_number(" 1,329,120.67 "), Some(dec("1329120.67")));
        assert_eq!(parse_number("１２"), Some(dec("12")));
        assert_eq!(parse_number("1,32"), None);
        assert_eq!(parse_number("1e5"), None);
        assert_eq!(parse_number("5."), None);
        assert_eq!(parse_number("-3"), Some(dec("-3")));
        let wan = ReportedIn::TenThousandYuan;
        assert_eq!(parse_amount("89.974", wan), AmountCell::Yuan(dec("899740.00")));
        assert_eq!(parse_amount("0", wan), AmountCell::Yuan(dec("0.00")));
        assert_eq!(parse_amount("—", wan), AmountCell::Empty);
        assert_eq!(parse_amount("1329120.67元", wan), AmountCell::Yuan(dec("1329120.67")));
        assert_eq!(parse_amount("1.2345678", wan), AmountCell::Inexact(dec("1.2345678")));
        assert_eq!(parse_amount("0.125", ReportedIn::Yuan), AmountCell::Inexact(dec("0.125")));
        assert_eq!(parse_amount("见附表", wan), AmountCell::Text);
        assert_eq!(parse_rate("100%"), Some((dec("1.00"), None)));
        assert_eq!(parse_rate("108.20%").unwrap().0.to_string(), "1.0820");
        assert_eq!(parse_rate("0"), Some((dec("0"), None)));
        assert_eq!(parse_rate("99.97").unwrap().0, dec("0.9997"));
        assert_eq!(format_amount(dec("899740.00"), wan), "89.974");
        assert_eq!(format_amount(dec("8105563.00"), ReportedIn::Yuan), "8105563");
        assert_eq!(format_rate(dec("1.0820")), "108.20%");
        assert_eq!(format_rate(dec("0.123456")), "12.3456%");
    }

    #[test]
    fn dates_years_and_units() {
        let may18 = NaiveDate::from_ymd_opt(2021, 5, 18);
        for text in ["2021年5月18日", "填报日期：2021-05-18", "2021.5.18", "2021/05/18", "2021 年 5 月 18 日"]
        {
            assert_eq!(parse_date(text), may18, "{text}");
        }
        assert_eq!(parse_date("2021年5月"), None);
        assert_eq!(parse_year("（2022年度）", false), Some(2022));
        assert_eq!(parse_year("2022 年度", false), Some(2022));
        assert_eq!(parse_year("2022年项目支出绩效自评表", false), None);
        assert_eq!(parse_year("2022年项目支出绩效自评表", true), Some(2022));
        assert_eq!(parse_year("2021年5月18日", true), None);
        let unit =
            |code: Option<&str>, name: &str| Some(UnitReference { code: code.map(str::to_owned), name: name.into() });
        let name = "池州市贵池区棠溪镇人民政府";
        for text in [
            "219-池州市贵池区棠溪镇人民政府",
            "219 池州市贵池区棠溪镇人民政府",
            "（219）池州市贵池区棠溪镇人民政府",
            "池州市贵池区棠溪镇人民政府(219)",
            "【219】池州市贵池区棠溪镇人民政府",
        ] {
            assert_eq!(parse_unit_reference(text), unit(Some("219"), name), "{text}");
        }
        assert_eq!(parse_unit_reference(name), unit(None, name));
        assert_eq!(parse_unit_reference("—"), None);
    }
}
