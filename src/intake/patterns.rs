//! The phrasing narrative reports share, as data: how figures are printed (the lexer), how a
//! sentence falls into clauses and labels, and the word lists that say what a label is about.
//!
//! Everything here works on one line of a document at a time, in char indices. Matching is done
//! on a folded copy of the line (full-width digits and punctuation as ASCII, ideographic and
//! no-break spaces as ' '), one char for one char, so an index found in the folded copy is an
//! index into the printed line too; texts taken into a record are always the printed chars.
//!
//! # Figures
//! A figure is a number as printed with what follows it: `1809.48万元`, `1,799.48万元`,
//! `１８０９．４８万元`, `18 094 800.00元`, `12939栋`, `9.76%`, `1万余个` (10000 个), `4万5千余亩`
//! (45000 亩), `1000余万元` (1000 万元), `7.3万亩` (万亩 is the unit). The rule for 万: directly
//! before a measure word it is part of the unit (`7.3万亩`, `1000余万元`); before 余/多 it multiplies
//! (`1万余人次` is 10000 人次, `10万余元` 100000 元). Digits are exact (`Decimal` from the text).
//!
//! Which numbers are *not* quantities (and so never become fields or indicator rows):
//! - years (`2022年`, `2022年度`), months (`5月份`) and days (`25日`): time references, not outputs;
//!   a year is read for the fiscal year and for the year a prior-year figure names;
//! - ordinals: a line's numbering (`1、`, `（一）`, `1.`, `一是`) and `第N`;
//! - numbers without a measure word (`3.15、4.15等特定日期`, `365国道`), and numbers in quotation
//!   marks (`“6.26”国际禁毒日`): names and dates, not counts;
//! - identifiers glued to Latin letters (`G4`, `5G`) and the numbers of a document reference
//!   (`湘财绩【2013】29号`, read as a basis document).
//!
//! Chinese numerals count only directly before a measure word of things built or set up
//! (`建立一个垃圾集中填埋场`, `成立环卫队一个`), never inside set phrases (`一村一品`, `三会一课`).
use std::ops::Range;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::domain::record::{
    EconomicClass, ExpenditureStructure, IncomeCategory, NarrativeCategory, ThreePublicItem, UnitType,
};

/// Full-width forms folded to ASCII and other spaces to `' '`: one char for one char.
pub fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{a0}' | '\u{2002}'..='\u{200a}' | '\u{202f}' | '\t' => ' ',
        '\u{2212}' => '-',
        _ => c,
    }
}

/// The unit a figure is printed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    Yuan,
    WanYuan,
    YiYuan,
    /// `万` alone after a number (`其他收入0万`): 万元 where the label is about money
    Wan,
    Percent,
    /// A four-digit year followed by 年 (or 年度)
    Year,
    Month,
    Day,
    /// A measure word as printed: 栋, 人次, 万亩, 小时 …
    Measure(String),
    /// No unit: a bare number
    None,
}

/// A number as printed, with its unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// First char (a digit, a minus sign or a Chinese numeral)
    pub start: usize,
    /// One past the unit and any approximation marker (`余`, `多`, `左右`)
    pub end: usize,
    /// The number as printed (万/千 inside the number applied: `4万5千` is 45000)
    pub value: Decimal,
    pub unit: Unit,
    /// Printed as approximate: 余, 多, 左右, 以上
    pub approx: bool,
    /// Written in Chinese numerals (`一个`)
    pub chinese: bool,
    /// Inside quotation marks: a name (`“6.26”`), not a figure
    pub quoted: bool,
}

impl Figure {
    pub fn is_money(&self) -> bool {
        matches!(self.unit, Unit::Yuan | Unit::WanYuan | Unit::YiYuan | Unit::Wan)
    }

    pub fn is_date(&self) -> bool {
        matches!(self.unit, Unit::Year | Unit::Month | Unit::Day)
    }

    /// A count, amount or rate: something a field or an indicator row can hold.
    pub fn is_quantity(&self) -> bool {
        !self.quoted && !self.is_date() && self.unit != Unit::None
    }

    pub fn year(&self) -> Option<i32> {
        (self.unit == Unit::Year).then(|| i32::try_from(self.value.trunc().mantissa()).ok()).flatten()
    }

    /// The measure word of a count, or `%`, or the money unit as printed.
    pub fn unit_text(&self) -> String {
        match &self.unit {
            Unit::Yuan => "元".into(),
            Unit::WanYuan | Unit::Wan => "万元".into(),
            Unit::YiYuan => "亿元".into(),
            Unit::Percent => "%".into(),
            Unit::Measure(m) => m.clone(),
            Unit::Year => "年".into(),
            Unit::Month => "月".into(),
            Unit::Day => "日".into(),
            Unit::None => String::new(),
        }
    }
}

/// Why an amount could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// More than two fraction digits in 元 (the record keeps cents)
    Fraction,
    /// Not a money figure
    NotMoney,
}

/// A money figure in 元 with exactly two fraction digits, never rounded: `89.974万元` is
/// 899740.00, `1.234567万元` cannot be stored.
pub fn amount_in_yuan(figure: &Figure) -> Result<Decimal, AmountError> {
    let factor = match figure.unit {
        Unit::Yuan => Decimal::ONE,
        Unit::WanYuan | Unit::Wan => Decimal::from(10_000),
        Unit::YiYuan => Decimal::from(100_000_000),
        _ => return Err(AmountError::NotMoney),
    };
    // beyond any budget (and beyond what Decimal multiplies without overflow)
    if figure.value.abs() > Decimal::from(1_000_000_000_000_000_i64) {
        return Err(AmountError::Fraction);
    }
    let yuan = if factor == Decimal::from(10_000) {
        crate::domain::money::wan_to_yuan(figure.value)
    } else {
        figure.value * factor
    };
    if crate::domain::money::significant_scale(yuan) > 2 {
        return Err(AmountError::Fraction);
    }
    Ok(crate::domain::money::with_scale(yuan, 2))
}

/// A money figure in another unit's terms (for a figure whose printed unit is a slip).
pub fn amount_as(figure: &Figure, unit: Unit) -> Result<Decimal, AmountError> {
    amount_in_yuan(&Figure { unit, ..figure.clone() })
}

/// A percentage as a fraction with at least four fraction digits, as printed: `9.76%` is
/// `0.0976`, `100.00%` is `1.0000`, `9.765%` is `0.09765`.
pub fn fraction(percent: Decimal) -> Decimal {
    let scale = (percent.scale() + 2).clamp(4, 28);
    crate::domain::money::with_scale(percent / Decimal::from(100), scale)
}

/// Measure words, longest first where one is a prefix of another.
pub const MEASURES: &[&str] = &[
    "平方公里",
    "平方千米",
    "个百分点",
    "平方米",
    "立方米",
    "千瓦时",
    "工作日",
    "人次",
    "批次",
    "个月",
    "小时",
    "分钟",
    "公里",
    "千米",
    "公顷",
    "公斤",
    "千克",
    "千瓦",
    "延米",
    "亿元",
    "万元",
    "元",
    "亩",
    "人",
    "名",
    "户",
    "家",
    "个",
    "支",
    "座",
    "栋",
    "幢",
    "间",
    "套",
    "处",
    "所",
    "次",
    "批",
    "场",
    "期",
    "起",
    "件",
    "宗",
    "项",
    "条",
    "份",
    "册",
    "本",
    "张",
    "块",
    "台",
    "辆",
    "艘",
    "部",
    "头",
    "只",
    "羽",
    "匹",
    "株",
    "棵",
    "口",
    "眼",
    "盏",
    "篇",
    "位",
    "轮",
    "天",
    "周",
    "吨",
    "斤",
    "米",
    "方",
    "分",
    "%",
    "‰",
    "㎡",
];

/// Measure words printed with 万 as part of the unit (`7.3万亩`, `9.2883万羽`, `1.2万人次`).
const WAN_MEASURES: &[&str] = &[
    "平方米",
    "立方米",
    "千瓦时",
    "人次",
    "亩",
    "羽",
    "头",
    "只",
    "吨",
    "株",
    "棵",
    "人",
    "户",
    "册",
    "份",
    "斤",
    "公斤",
    "元",
    "套",
    "件",
    "尾",
    "字",
];

/// Measure words a Chinese numeral may stand before (`一个`, `两支`).
const CHINESE_MEASURES: &[char] =
    &['个', '支', '座', '家', '名', '户', '辆', '台', '处', '项', '条', '批', '场', '所', '套', '间', '栋', '次'];

fn starts_with_at(chars: &[char], at: usize, word: &str) -> bool {
    (at..).zip(word.chars()).all(|(i, w)| chars.get(i) == Some(&w))
}

/// Where `word` occurs in `chars[range]`, as a range of `chars`.
pub fn find_in(chars: &[char], range: Range<usize>, word: &str) -> Option<Range<usize>> {
    let len = word.chars().count();
    if len == 0 || range.end < range.start + len {
        return None;
    }
    (range.start..=range.end - len).find(|&i| starts_with_at(chars, i, word)).map(|i| i..i + len)
}

/// The measure word at `at`, longest match: the unit and its length in chars.
fn measure_at(f: &[char], at: usize) -> Option<(Unit, usize)> {
    if f.get(at) == Some(&'万') {
        if f.get(at + 1) == Some(&'元') {
            return Some((Unit::WanYuan, 2));
        }
        for m in WAN_MEASURES {
            if starts_with_at(f, at + 1, m) {
                return Some((Unit::Measure(format!("万{m}")), 1 + m.chars().count()));
            }
        }
        return None;
    }
    for m in MEASURES {
        if starts_with_at(f, at, m) {
            let len = m.chars().count();
            // 方 and 分 are measures only at a clause end or before punctuation (方面, 分别 are words)
            if matches!(*m, "方" | "分") && f.get(at + 1).is_some_and(|c| is_cjk(*c) && !"，。；、".contains(*c))
            {
                return None;
            }
            // 次 in 次性, 名 in 名单, 期 in 期间, 天 in 天然: not measures
            if let Some(next) = f.get(at + len) {
                let word: String = [f[at], *next].iter().collect();
                if [
                    "次性", "名单", "名称", "期间", "天然", "起草", "部门", "部署", "口号", "所有", "台账", "户籍",
                    "条件",
                ]
                .contains(&word.as_str())
                {
                    return None;
                }
            }
            let unit = match *m {
                "元" => Unit::Yuan,
                "万元" => Unit::WanYuan,
                "亿元" => Unit::YiYuan,
                "%" => Unit::Percent,
                _ => Unit::Measure((*m).to_owned()),
            };
            return Some((unit, len));
        }
    }
    None
}

pub fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// Digits with thousands separators (`,` or a space before a group of exactly three digits) and a
/// decimal part; returns the digits without separators and the index after the number.
fn number_at(f: &[char], at: usize) -> (String, usize) {
    let mut digits = String::new();
    let mut i = at;
    let mut group = 0;
    let mut grouped = false;
    while i < f.len() {
        let c = f[i];
        if c.is_ascii_digit() {
            digits.push(c);
            group += 1;
            i += 1;
            continue;
        }
        // A separator only between groups: at most three digits before the first one and then
        // groups of exactly three.
        if (c == ',' || c == ' ') && (grouped && group == 3 || !grouped && (1..=3).contains(&group)) {
            let mut j = i + 1;
            if c == ' ' {
                while f.get(j) == Some(&' ') {
                    j += 1;
                }
            }
            let three = (0..3).all(|k| f.get(j + k).is_some_and(|d| d.is_ascii_digit()));
            if three && !f.get(j + 3).is_some_and(|d| d.is_ascii_digit()) {
                grouped = true;
                group = 0;
                i = j;
                continue;
            }
        }
        break;
    }
    if f.get(i) == Some(&'.') && f.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
        digits.push('.');
        i += 1;
        while i < f.len() && f[i].is_ascii_digit() {
            digits.push(f[i]);
            i += 1;
        }
    }
    (digits, i)
}

fn chinese_digit(c: char) -> Option<u32> {
    "零一二三四五六七八九".chars().position(|d| d == c).map(|p| p as u32).or((c == '两').then_some(2))
}

/// A Chinese numeral up to 99 (`一`, `十二`, `三十`, `两`) starting at `at`.
fn chinese_number_at(f: &[char], at: usize) -> Option<(u32, usize)> {
    let mut i = at;
    let mut value = 0;
    let mut current = None;
    while i < f.len() && i < at + 3 {
        if let Some(d) = chinese_digit(f[i]) {
            if current.is_some() {
                return None;
            }
            current = Some(d);
        } else if f[i] == '十' {
            value += current.unwrap_or(1) * 10;
            current = None;
        } else {
            break;
        }
        i += 1;
    }
    (i > at).then(|| (value + current.unwrap_or(0), i))
}

/// The figures of a line, in order. `skip` chars at the start (the line's own numbering) are not
/// read.
pub fn figures(f: &[char], skip: usize) -> Vec<Figure> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut i = skip;
    while i < f.len() {
        let c = f[i];
        match c {
            '“' | '「' | '『' => quoted = true,
            '”' | '」' | '』' => quoted = false,
            _ => {}
        }
        if c.is_ascii_digit() {
            if i > 0 && f[i - 1].is_ascii_alphabetic() {
                while i < f.len() && f[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                continue;
            }
            let (figure, next) = figure_at(f, i, quoted);
            if let Some(figure) = figure {
                out.push(figure);
            }
            i = next.max(i + 1);
            continue;
        }
        if chinese_digit(c).is_some() || c == '十' {
            if let Some(figure) = chinese_figure_at(f, i, quoted) {
                i = figure.end;
                out.push(figure);
                continue;
            }
        }
        i += 1;
    }
    out
}

fn chinese_figure_at(f: &[char], at: usize, quoted: bool) -> Option<Figure> {
    if at > 0 && (chinese_digit(f[at - 1]).is_some() || "第每这那哪十".contains(f[at - 1])) {
        return None;
    }
    let (value, end) = chinese_number_at(f, at)?;
    let measure = *f.get(end)?;
    if value == 0 || !CHINESE_MEASURES.contains(&measure) {
        return None;
    }
    // 一次性, 一个个: not counts
    if f.get(end + 1).is_some_and(|c| *c == '性' || *c == measure || chinese_digit(*c).is_some()) {
        return None;
    }
    Some(Figure {
        start: at,
        end: end + 1,
        value: Decimal::from(value),
        unit: Unit::Measure(measure.to_string()),
        approx: false,
        chinese: true,
        quoted,
    })
}

fn figure_at(f: &[char], at: usize, quoted: bool) -> (Option<Figure>, usize) {
    let (digits, number_end) = number_at(f, at);
    let Ok(mut value) = Decimal::from_str(&digits) else { return (None, number_end) };
    let negative = at > 0 && f[at - 1] == '-' && (at < 2 || !f[at - 2].is_alphanumeric());
    let start = if negative { at - 1 } else { at };
    if negative {
        value = -value;
    }
    let integer = !digits.contains('.');
    let mut k = number_end;
    while f.get(k) == Some(&' ') && k < number_end + 2 {
        k += 1;
    }
    let make = |unit: Unit, end: usize, value: Decimal, approx: bool| Figure {
        start,
        end,
        value,
        unit,
        approx,
        chinese: false,
        quoted,
    };
    // Dates
    match f.get(k) {
        Some('年') => {
            let year = integer && digits.len() == 4 && (1900..=2100).contains(&digits.parse::<i32>().unwrap_or(0));
            if year {
                let end = if f.get(k + 1) == Some(&'度') { k + 2 } else { k + 1 };
                return (Some(make(Unit::Year, end, value, false)), end);
            }
            return (Some(make(Unit::Measure("年".into()), k + 1, value, false)), k + 1);
        }
        Some('月') if integer && f.get(k + 1) != Some(&'饼') => {
            let end = if f.get(k + 1) == Some(&'份') { k + 2 } else { k + 1 };
            return (Some(make(Unit::Month, end, value, false)), end);
        }
        Some('日') if integer && value <= Decimal::from(31) => {
            return (Some(make(Unit::Day, k + 1, value, false)), k + 1);
        }
        _ => {}
    }
    let trailing = |end: usize, approx: bool| -> (usize, bool) {
        for marker in ["左右", "以上", "余", "多"] {
            if starts_with_at(f, end, marker) {
                // 多 and 余 after a unit only when not the start of a word (多元, 余额)
                if matches!(marker, "余" | "多") && f.get(end + 1).is_some_and(|c| is_cjk(*c)) {
                    continue;
                }
                return (end + marker.chars().count(), true);
            }
        }
        (end, approx)
    };
    if let Some((unit, len)) = measure_at(f, k) {
        let (end, approx) = trailing(k + len, false);
        return (Some(make(unit, end, value, approx)), end);
    }
    let mut approx = false;
    let mut j = k;
    if matches!(f.get(j), Some('余' | '多')) {
        approx = true;
        j += 1;
        if let Some((unit, len)) = measure_at(f, j) {
            let (end, approx) = trailing(j + len, approx);
            return (Some(make(unit, end, value, approx)), end);
        }
    }
    if let Some(&m) = f.get(j).filter(|c| matches!(**c, '万' | '千' | '亿')) {
        let factor = Decimal::from(match m {
            '万' => 10_000,
            '千' => 1_000,
            _ => 100_000_000,
        });
        let Some(mut scaled) = value.checked_mul(factor) else { return (None, j + 1) };
        let mut j2 = j + 1;
        // 4万5千: the thousands after the ten-thousands
        if m == '万' && f.get(j2).is_some_and(|c| c.is_ascii_digit()) {
            let (more, after) = number_at(f, j2);
            if f.get(after) == Some(&'千') {
                if let Some(more) = Decimal::from_str(&more).ok().and_then(|m| m.checked_mul(Decimal::from(1_000))) {
                    scaled = scaled.checked_add(more).unwrap_or(scaled);
                    j2 = after + 1;
                }
            }
        }
        if matches!(f.get(j2), Some('余' | '多')) {
            approx = true;
            j2 += 1;
        }
        if let Some((unit, len)) = measure_at(f, j2) {
            let end = j2 + len;
            let (end, approx) = trailing(end, approx);
            return (Some(make(unit, end, scaled, approx)), end);
        }
        if m == '万' && j2 == j + 1 + usize::from(approx) {
            return (Some(make(Unit::Wan, j2, value, approx)), j2);
        }
    }
    (Some(make(Unit::None, number_end, value, false)), number_end)
}

/// How a line is numbered: the length of its ordinal (`1、`, `（一）`, `一、`, `1.`, `(1)`) and the
/// heading level it would have: 1 for `一、`, 2 for `（一）`, 3 for `1、`/`1.`, 4 for `（1）`.
pub fn ordinal(f: &[char]) -> Option<(usize, u8)> {
    let mut i;
    let level;
    if f.first() == Some(&'(') {
        i = 1;
        let digits = f[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let chinese = f[i..].iter().take_while(|c| chinese_digit(**c).is_some() || **c == '十').count();
        if digits > 0 && digits <= 2 {
            i += digits;
            level = 4;
        } else if chinese > 0 && chinese <= 3 {
            i += chinese;
            level = 2;
        } else {
            return None;
        }
        if f.get(i) != Some(&')') {
            return None;
        }
        i += 1;
    } else {
        let digits = f.iter().take_while(|c| c.is_ascii_digit()).count();
        let chinese = f.iter().take_while(|c| chinese_digit(**c).is_some() || **c == '十').count();
        if digits > 0 && digits <= 2 {
            i = digits;
            match f.get(i) {
                Some('、') | Some(')') => i += 1,
                Some('.') if !f.get(i + 1).is_some_and(|c| c.is_ascii_digit()) => i += 1,
                _ => return None,
            }
            level = 3;
        } else if chinese > 0 && chinese <= 3 && f.get(chinese) == Some(&'、') {
            i = chinese + 1;
            level = 1;
        } else if f.first() == Some(&'第') {
            let n = f[1..].iter().take_while(|c| chinese_digit(**c).is_some() || **c == '十').count();
            if n == 0 || !matches!(f.get(1 + n), Some('部' | '章')) {
                return None;
            }
            i = 1 + n + if f.get(2 + n) == Some(&'分') { 2 } else { 1 };
            level = 1;
        } else {
            return None;
        }
    }
    while f.get(i) == Some(&' ') {
        i += 1;
    }
    Some((i, level))
}

/// `一是`, `二是` … `十是` at `at`: the start of an enumerated item in running text.
pub fn item_marker_at(f: &[char], at: usize) -> Option<usize> {
    let (value, end) = chinese_number_at(f, at)?;
    (value > 0 && f.get(end) == Some(&'是') && (at == 0 || !is_cjk(f[at - 1]) || "。；，:：".contains(f[at - 1])))
        .then_some(end + 1 - at)
}

/// Sentence ends: 。；; ! ? and a `.` not after a digit (a half-width full stop: `1.2万元.较`).
pub fn is_sentence_end(f: &[char], i: usize) -> bool {
    match f[i] {
        '。' | ';' | '!' | '?' => true,
        '.' => i > 0 && !f[i - 1].is_ascii_digit() && !f.get(i + 1).is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// The sentences of a line, as ranges (each includes its closing punctuation).
pub fn sentences(f: &[char]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..f.len() {
        if is_sentence_end(f, i) {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < f.len() {
        out.push(start..f.len());
    }
    out.retain(|r| f[r.clone()].iter().any(|c| !c.is_whitespace()));
    out
}

/// A bracket group that is part of a word (`因公出国（境）`, `社区戒毒（康复）`): short, no digits.
fn word_bracket(f: &[char], open: usize) -> Option<usize> {
    let close = (open + 1..(open + 6).min(f.len())).find(|&j| f[j] == ')')?;
    (close > open + 1 && f[open + 1..close].iter().all(|c| is_cjk(*c))).then_some(close)
}

/// Clause boundaries of a sentence: punctuation that ends a clause, including `、` after a
/// figure (`悬挂横幅20余条、发放…`) but not inside a list of names (`鸡、鸭、鹅9.2883万羽`), and
/// brackets except those inside a word.
pub fn clauses(f: &[char], sentence: Range<usize>, figures: &[Figure]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = sentence.start;
    let mut i = sentence.start;
    while i < sentence.end {
        // a thousands separator (1,799.48) is part of its figure
        if let Some(fig) = figures.iter().find(|fig| fig.start < i && i < fig.end) {
            i = fig.end;
            continue;
        }
        let c = f[i];
        let boundary = match c {
            ',' | ':' | '。' | ';' | '!' | '?' | ')' => true,
            '.' => is_sentence_end(f, i),
            '(' => match word_bracket(f, i) {
                Some(close) => {
                    i = close + 1;
                    continue;
                }
                None => true,
            },
            '、' => figures.iter().any(|fig| fig.start >= start && fig.end <= i && fig.is_quantity()),
            _ => false,
        };
        if boundary {
            if i > start {
                out.push(start..i);
            }
            start = i + 1;
        }
        i += 1;
    }
    if start < sentence.end {
        out.push(start..sentence.end);
    }
    out
}

/// Folded text of a range without quotation marks and spaces: what labels are matched on.
pub fn key(f: &[char], range: Range<usize>) -> String {
    f[range].iter().filter(|c| !matches!(c, '“' | '”' | '‘' | '’' | '"' | '\'' | ' ' | '「' | '」')).collect()
}

/// Words before a figure that carry no meaning for its label (`其中财政拨款收入为`).
pub const LABEL_LEADS: &[&str] = &[
    "其中",
    "包括",
    "另外",
    "另",
    "此外",
    "同时",
    "并且",
    "并",
    "还",
    "均",
    "即",
    "含",
    "共计",
    "共",
    "累计",
    "合计",
    "总计",
    "全年来",
    "全年",
    "今年以来",
    "今年来",
    "今年",
    "年内",
    "年末",
    "截至目前",
    "截至年底",
    "目前",
    "现已",
    "已经",
    "已",
    "全镇",
    "我镇",
    "全乡",
    "我乡",
    "本镇",
    "本乡",
    "全街道",
    "先后",
    "首先",
    "其次",
    "再次",
    "最后",
];

/// Adverbs before a verb, dropped from indicator names (`大力推进` → `推进`).
pub const ADVERBS: &[&str] = &[
    "积极",
    "大力",
    "深入",
    "全面",
    "持续",
    "认真",
    "切实",
    "不断",
    "扎实",
    "稳步",
    "加快",
    "着力",
    "进一步",
    "严格",
    "有效",
    "主动",
    "及时",
    "广泛",
    "统筹",
    "扎实",
    "全力",
    "共同",
    "大幅",
];

/// Verbs of work in general, dropped where a topic is named (`深入推进环境卫生综合整治`).
pub const GENERIC_VERBS: &[&str] =
    &["推进", "推动", "开展", "落实", "加强", "抓好", "做好", "抓实", "实施", "强化", "完善", "坚持", "抓"];

/// Copulas and quantifiers between a label and its figure (`普及率达100%`, `人员超过1万余人次`).
pub const LABEL_TAILS: &[&str] = &[
    "达到",
    "已达",
    "多达",
    "高达",
    "超过",
    "约为",
    "共计",
    "共有",
    "就有",
    "已有",
    "累计",
    "合计",
    "总计",
    "分别为",
    "分别",
    "为",
    "是",
    "达",
    "逾",
    "约",
    "近",
    "共",
    "计",
    "了",
];

/// Markers of what is planned, not done: the figure is a target (`投产后将提供`, `预计可实现`).
pub const FUTURE_MARKERS: &[&str] =
    &["投产后", "建成后", "完成后", "预计", "计划", "力争", "预期", "有望", "可望", "将", "拟", "可"];

/// Verbs that begin an output (`排查房屋12939栋`, `下派4支…工作队`), longest first where one is a
/// prefix of another. A label that is only one of these (`已经拆除438栋`) takes its object from
/// the clause before.
pub const OUTPUT_VERBS: &[&str] = &[
    "走访慰问",
    "批评警告",
    "除险加固",
    "排查出",
    "查处",
    "查获",
    "排查",
    "摸排",
    "拆除",
    "发放",
    "建立",
    "成立",
    "新建",
    "建成",
    "组建",
    "设立",
    "聘请",
    "聘用",
    "招聘",
    "处理",
    "种植",
    "栽植",
    "开展",
    "举办",
    "召开",
    "组织",
    "检查",
    "出动",
    "扣押",
    "制作",
    "竖立",
    "安装",
    "悬挂",
    "张贴",
    "印发",
    "接受",
    "接收",
    "受理",
    "办理",
    "办结",
    "解除",
    "化解",
    "调解",
    "解决",
    "下载",
    "走访",
    "慰问",
    "救助",
    "帮扶",
    "资助",
    "培训",
    "完成",
    "改造",
    "修建",
    "修缮",
    "维修",
    "硬化",
    "铺设",
    "整治",
    "清理",
    "清运",
    "收集",
    "巡逻",
    "巡查",
    "签订",
    "覆盖",
    "引进",
    "争取",
    "投入",
    "下派",
    "派驻",
    "选派",
    "流转",
    "造林",
    "治理",
    "加固",
    "整改",
    "劝返",
    "劝导",
    "查验",
    "参加",
    "提供",
    "带动",
    "吸纳",
    "安置",
    "消除",
    "复垦",
    "接待",
    "发现",
    "处置",
    "督办",
    "新增",
    "购买",
    "购置",
    "投资",
    "发动",
    "动员",
    "宣讲",
    "举行",
    "设置",
    "筹集",
];

/// Prepositions that open a phrase before the verb (`向重点村…下派`); the phrase is dropped from
/// an indicator's name.
pub const PREPOSITIONS: &[char] = &['向', '在', '为', '给', '从', '与', '对', '以', '按', '经'];

/// Labels that name an attribute of the clause before (`年产值1000余万元` after `油菜种植21000余亩`).
pub const ATTRIBUTES: &[&str] = &["种植面积", "总产值", "年产值", "产值", "面积", "产量", "年收入", "收入"];

/// Area units: a planting label with one of these is an area (`油菜种植21000余亩` → 油菜种植面积).
pub const AREA_UNITS: &[&str] = &["亩", "万亩", "公顷", "平方米", "平方公里", "平方千米", "㎡"];

/// Words of an effect (效益) rather than an output, by kind.
pub const ECONOMIC_EFFECTS: &[&str] = &["产值", "税收", "收入", "增收", "利润", "销售额", "营业额", "经济效益"];
pub const ECOLOGICAL_EFFECTS: &[&str] = &["生态", "森林覆盖", "绿化率", "空气质量", "水质", "减排"];
pub const SOCIAL_EFFECTS: &[&str] =
    &["就业", "岗位", "受益", "辐射", "覆盖", "化解", "戒断", "未复吸", "用户", "普及率", "升学率"];

/// Units that count people: a row in one may take its object from a row in another
/// (`接受社区矫正对象11名，解除1人`).
pub const PERSON_UNITS: &[&str] = &["人", "名", "人次"];

/// Units of time for timeliness rows (`24小时值守`).
pub const DURATION_UNITS: &[&str] = &["小时", "工作日", "天", "分钟"];

/// Money in narrative that is an output (disbursed to people: `发放临时救助资金101400余元`).
pub const DISBURSEMENT_WORDS: &[&str] = &["发放", "补助", "救助", "补贴", "慰问金", "抚养费", "奖励"];

/// The longest entry of `words` that `text` starts with.
pub fn longest_prefix<'a>(text: &str, words: &[&'a str]) -> Option<&'a str> {
    words.iter().copied().filter(|w| text.starts_with(w)).max_by_key(|w| w.len())
}

pub fn contains_any(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| text.contains(w))
}

/// The area of a work-achievement section, by the words of its title.
pub fn category_of(key: &str) -> NarrativeCategory {
    let has = |words: &[&str]| contains_any(key, words);
    if has(&["党"]) {
        NarrativeCategory::PartyBuilding
    } else if has(&["项目"]) {
        NarrativeCategory::ProjectConstruction
    } else if has(&["农业", "农村", "乡村", "三农", "脱贫", "扶贫"]) {
        NarrativeCategory::AgricultureRural
    } else if has(&["社会事务", "民生", "社会保障", "社保", "教育", "卫生", "文化"]) {
        NarrativeCategory::SocialAffairs
    } else if has(&["综合治理", "综治", "治理", "平安", "安全", "信访", "维稳"]) {
        NarrativeCategory::ComprehensiveGovernance
    } else if has(&["经费", "预算", "财务", "三公"]) {
        NarrativeCategory::BudgetManagement
    } else {
        NarrativeCategory::Other
    }
}

/// What a money label is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Money {
    IncomeTotal,
    IncomeLine(IncomeCategory),
    OpeningCarryOver,
    ExpenditureTotal,
    Structure(ExpenditureStructure),
    YearEndCarryOver,
    ExpenditureLine(EconomicClass),
    ThreePublic(ThreePublicItem),
    VehiclesCombined,
    RunningCosts,
}

/// Money labels, most specific first: the first word found in a label decides.
pub const MONEY_LABELS: &[(&str, Money)] = &[
    ("因公出国", Money::ThreePublic(ThreePublicItem::OverseasTravel)),
    ("出国(境)", Money::ThreePublic(ThreePublicItem::OverseasTravel)),
    ("公务用车购置及运行", Money::VehiclesCombined),
    ("购置及运行", Money::VehiclesCombined),
    ("公务用车购置", Money::ThreePublic(ThreePublicItem::VehiclePurchase)),
    ("车辆购置", Money::ThreePublic(ThreePublicItem::VehiclePurchase)),
    ("公车购置", Money::ThreePublic(ThreePublicItem::VehiclePurchase)),
    ("公务用车运行", Money::ThreePublic(ThreePublicItem::VehicleOperation)),
    ("公务用车运维", Money::ThreePublic(ThreePublicItem::VehicleOperation)),
    ("公车运行", Money::ThreePublic(ThreePublicItem::VehicleOperation)),
    ("车辆运行", Money::ThreePublic(ThreePublicItem::VehicleOperation)),
    ("公务接待", Money::ThreePublic(ThreePublicItem::Reception)),
    ("接待费", Money::ThreePublic(ThreePublicItem::Reception)),
    ("招待费", Money::ThreePublic(ThreePublicItem::Reception)),
    ("三公", Money::ThreePublic(ThreePublicItem::Total)),
    ("机关运行经费", Money::RunningCosts),
    ("运行经费", Money::RunningCosts),
    ("年初结转和结余", Money::OpeningCarryOver),
    ("年初结转", Money::OpeningCarryOver),
    ("上年结转", Money::OpeningCarryOver),
    ("年末结转和结余", Money::YearEndCarryOver),
    ("年末结转", Money::YearEndCarryOver),
    ("结转下年", Money::YearEndCarryOver),
    ("工资福利", Money::ExpenditureLine(EconomicClass::WagesWelfare)),
    ("商品和服务", Money::ExpenditureLine(EconomicClass::GoodsServices)),
    ("商品服务", Money::ExpenditureLine(EconomicClass::GoodsServices)),
    ("对个人和家庭", Money::ExpenditureLine(EconomicClass::HouseholdSubsidies)),
    ("资本性支出", Money::ExpenditureLine(EconomicClass::Capital)),
    ("人员经费", Money::ExpenditureLine(EconomicClass::Personnel)),
    ("公用经费", Money::ExpenditureLine(EconomicClass::PublicFunds)),
    ("其他支出", Money::ExpenditureLine(EconomicClass::Other)),
    ("基本支出", Money::Structure(ExpenditureStructure::Basic)),
    ("项目支出", Money::Structure(ExpenditureStructure::Project)),
    ("经营支出", Money::Structure(ExpenditureStructure::Business)),
    ("政府性基金", Money::IncomeLine(IncomeCategory::GovernmentFundAppropriation)),
    ("国有资本经营", Money::IncomeLine(IncomeCategory::StateCapitalAppropriation)),
    ("上级补助", Money::IncomeLine(IncomeCategory::HigherLevelSubsidy)),
    ("附属单位上缴", Money::IncomeLine(IncomeCategory::AffiliatedRemittance)),
    ("事业收入", Money::IncomeLine(IncomeCategory::Institutional)),
    ("经营收入", Money::IncomeLine(IncomeCategory::Business)),
    ("一般公共预算", Money::IncomeLine(IncomeCategory::GeneralBudgetAppropriation)),
    ("公共财政拨款", Money::IncomeLine(IncomeCategory::GeneralBudgetAppropriation)),
    ("财政拨款", Money::IncomeLine(IncomeCategory::GeneralBudgetAppropriation)),
    ("其他收入", Money::IncomeLine(IncomeCategory::Other)),
    ("收入", Money::IncomeTotal),
    ("支出", Money::ExpenditureTotal),
];

pub fn classify_money(key: &str) -> Option<Money> {
    for (word, money) in MONEY_LABELS {
        if !key.contains(word) {
            continue;
        }
        // 政府性基金预算支出, 财政拨款支出: spending by source, which the record does not hold
        if matches!(money, Money::IncomeLine(_)) && key.contains("支出") {
            return None;
        }
        return Some(*money);
    }
    None
}

/// Words of a stated change and of a prior year (`较上年减少`, `增长1.13%`, `基本持平`).
pub const INCREASE: &[&str] = &["增加", "增长", "上升", "提高", "增"];
pub const DECREASE: &[&str] = &["减少", "下降", "降低", "节约", "压减", "减", "少"];
pub const FLAT: &[&str] = &["持平", "相同", "不变", "一致", "相当"];
pub const PRIOR_YEAR_WORDS: &[&str] = &["上一年度", "上年同期", "上年度", "上一年", "上年", "去年"];

/// The sign of a stated change: +1 for 增加/增长, -1 for 减少/下降, by the first such word.
pub fn change_sign(text: &str) -> Option<i8> {
    let up = INCREASE.iter().filter_map(|w| text.find(w)).min();
    let down = DECREASE.iter().filter_map(|w| text.find(w)).min();
    match (up, down) {
        (Some(u), Some(d)) => Some(if u < d { 1 } else { -1 }),
        (Some(_), None) => Some(1),
        (None, Some(_)) => Some(-1),
        (None, None) => None,
    }
}

/// Where a comparison word stands in a label key (`较`, `比`, `同比`, `相比`), and its length.
pub fn comparator(key: &str) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    for word in ["同比", "相比", "较", "比"] {
        for (at, _) in key.match_indices(word) {
            let after = &key[at + word.len()..];
            let before = &key[..at];
            if word == "比" && (["重", "例", "率"].iter().any(|w| after.starts_with(w)) || before.ends_with('占'))
            {
                continue;
            }
            if best.is_none_or(|b| at < b.0) {
                best = Some((at, word.len()));
            }
            break;
        }
    }
    best
}

/// A staffing category (编制 and 在职 are counted by these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffCategory {
    Administrative,
    CivilServiceManaged,
    Institutional,
    GovernmentWorkers,
}

pub fn staff_category(key: &str) -> Option<StaffCategory> {
    if key.contains("工勤") {
        Some(StaffCategory::GovernmentWorkers)
    } else if key.contains("参公") || key.contains("参照公务员") {
        Some(StaffCategory::CivilServiceManaged)
    } else if key.contains("行政") && key.contains("事业") {
        None
    } else if key.contains("事业") {
        Some(StaffCategory::Institutional)
    } else if key.contains("行政") {
        Some(StaffCategory::Administrative)
    } else {
        None
    }
}

pub fn unit_type(key: &str) -> Option<UnitType> {
    if key.contains("参公") || key.contains("参照公务员") {
        Some(UnitType::CivilServiceManaged)
    } else if key.contains("行政") {
        Some(UnitType::Administrative)
    } else if key.contains("事业") {
        Some(UnitType::Institutional)
    } else if key.contains("其他") {
        Some(UnitType::Other)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold_str(text: &str) -> Vec<char> {
        text.chars().map(fold).collect()
    }

    fn one(text: &str) -> Figure {
        let f = fold_str(text);
        let found = figures(&f, 0);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        found.into_iter().next().unwrap()
    }

    fn dec(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn money_in_wan_and_yuan_is_exact() {
        for (text, yuan) in [
            ("1809.48万元", "18094800.00"),
            ("１８０９．４８万元", "18094800.00"),
            ("1,799.48万元", "17994800.00"),
            ("18 094 800.00元", "18094800.00"),
            ("1329120.67元", "1329120.67"),
            ("89.974万元", "899740.00"),
            ("0万", "0.00"),
            ("10万余元", "100000.00"),
            ("1000余万元", "10000000.00"),
            ("50多万元", "500000.00"),
            ("1.2亿元", "120000000.00"),
            ("92.39元", "92.39"),
        ] {
            let figure = one(text);
            assert!(figure.is_money(), "{text}");
            assert_eq!(amount_in_yuan(&figure), Ok(dec(yuan)), "{text}");
            assert_eq!(amount_in_yuan(&figure).unwrap().to_string(), yuan, "{text}");
            assert_eq!(figure.end - figure.start, text.chars().count(), "{text} is one figure");
        }
        assert_eq!(amount_in_yuan(&one("1.2345678万元")), Err(AmountError::Fraction));
        assert_eq!(amount_in_yuan(&one("1.234567万元")), Ok(dec("12345.67")));
        assert_eq!(amount_in_yuan(&one("12.345元")), Err(AmountError::Fraction));
    }

    #[test]
    fn wan_before_a_measure_is_the_unit_and_before_yu_a_multiplier() {
        let cases = [
            ("7.3万亩", "7.3", "万亩", false),
            ("9.2883万羽", "9.2883", "万羽", false),
            ("1万余个", "10000", "个", true),
            ("超过1万余人次", "10000", "人次", true),
            ("4万5千余亩", "45000", "亩", true),
            ("21000余亩", "21000", "亩", true),
            ("12000多亩", "12000", "亩", true),
            ("12939栋", "12939", "栋", false),
            ("30余人次", "30", "人次", true),
            ("24小时", "24", "小时", false),
            ("100%", "100", "%", false),
            ("９．７６％", "9.76", "%", false),
            ("500余人", "500", "人", true),
            ("3 个", "3", "个", false),
        ];
        for (text, value, unit, approx) in cases {
            let figure = one(text);
            assert_eq!(figure.value, dec(value), "{text}");
            assert_eq!(figure.unit_text(), unit, "{text}");
            assert_eq!(figure.approx, approx, "{text}");
        }
    }

    #[test]
    fn years_dates_and_bare_numbers_are_not_quantities() {
        let f = fold_str("2022年9月，6月25日，5月份，“6.26”国际禁毒日，365国道，3.15、4.15等日期，G4高速，2022年度");
        let found = figures(&f, 0);
        let units: Vec<_> = found.iter().map(|fig| (fig.value.to_string(), fig.unit.clone(), fig.quoted)).collect();
        assert_eq!(
            units,
            [
                ("2022".into(), Unit::Year, false),
                ("9".into(), Unit::Month, false),
                ("6".into(), Unit::Month, false),
                ("25".into(), Unit::Day, false),
                ("5".into(), Unit::Month, false),
                ("6.26".into(), Unit::None, true),
                ("365".into(), Unit::None, false),
                ("3.15".into(), Unit::None, false),
                ("4.15".into(), Unit::None, false),
                ("2022".into(), Unit::Year, false),
            ]
        );
        assert!(found.iter().all(|fig| !fig.is_quantity()));
        assert_eq!(found[0].year(), Some(2022));
    }

    #[test]
    fn lists_are_not_thousands() {
        let f = fold_str("累计排查1597户，4949人");
        let found = figures(&f, 0);
        assert_eq!(found.iter().map(|fig| fig.value).collect::<Vec<_>>(), [dec("1597"), dec("4949")]);
        let f = fold_str("排查1597,4949人");
        assert_eq!(figures(&f, 0).len(), 2);
    }

    #[test]
    fn chinese_numerals_count_only_before_a_measure_word() {
        let f = fold_str(
            "建立一个垃圾集中填埋场，成立环卫队一个，一村一品，三会一课，“一户一宅”，一次性，第一个，两支队伍",
        );
        let found: Vec<_> = figures(&f, 0).into_iter().filter(|fig| !fig.quoted).collect();
        assert_eq!(found.iter().map(|fig| fig.value).collect::<Vec<_>>(), [dec("1"), dec("1"), dec("2")]);
        assert!(found.iter().all(|fig| fig.chinese));
    }

    #[test]
    fn percentages_become_fractions_as_printed() {
        assert_eq!(fraction(dec("9.76")).to_string(), "0.0976");
        assert_eq!(fraction(dec("100.00")).to_string(), "1.0000");
        assert_eq!(fraction(dec("80")).to_string(), "0.8000");
        assert_eq!(fraction(dec("1.13")).to_string(), "0.0113");
        assert_eq!(fraction(dec("9.765")).to_string(), "0.09765");
    }

    #[test]
    fn ordinals_and_levels() {
        for (text, len, level) in [
            ("一、基本情况：", 2, 1),
            ("（一）部门职责", 3, 2),
            ("(二) 部门单位构成", 4, 2),
            ("1、执行本级", 2, 3),
            ("1.绩效评价目的", 2, 3),
            ("１．绩效评价目的", 2, 3),
            ("10、负责", 3, 3),
            ("（1）资金", 3, 4),
            ("第一部分 基本情况", 5, 1),
        ] {
            assert_eq!(ordinal(&fold_str(text)), Some((len, level)), "{text}");
        }
        for text in ["1.2万元", "2022年度", "一是强化", "本单位"] {
            assert_eq!(ordinal(&fold_str(text)), None, "{text}");
        }
        assert_eq!(item_marker_at(&fold_str("一是强化组织建设"), 0), Some(2));
        assert_eq!(item_marker_at(&fold_str("十是"), 0), Some(2));
    }

    #[test]
    fn sentences_end_at_full_stops_and_semicolons_but_not_decimal_points() {
        let f = fold_str("其中：公务接待费9.5万元、公务用车运行费1.2万元.较2021年减少；三公持平。末句");
        let found: Vec<String> = sentences(&f).into_iter().map(|r| f[r].iter().collect()).collect();
        assert_eq!(found, ["其中:公务接待费9.5万元、公务用车运行费1.2万元.", "较2021年减少;", "三公持平。", "末句"]);
    }

    #[test]
    fn clauses_split_lists_after_figures_only() {
        let text = "全年鸡、鸭、鹅9.2883万羽，悬挂横幅20余条、发放禁毒知识小手册1000余份，因公出国（境）费用0万元";
        let f = fold_str(text);
        let figs = figures(&f, 0);
        let found: Vec<String> = clauses(&f, 0..f.len(), &figs).into_iter().map(|r| f[r].iter().collect()).collect();
        assert_eq!(
            found,
            ["全年鸡、鸭、鹅9.2883万羽", "悬挂横幅20余条", "发放禁毒知识小手册1000余份", "因公出国(境)费用0万元"]
        );
    }

    #[test]
    fn money_labels_most_specific_first() {
        for (label, money) in [
            ("本单位2022年度收入总计", Money::IncomeTotal),
            ("其中财政拨款收入", Money::IncomeLine(IncomeCategory::GeneralBudgetAppropriation)),
            ("其他政府性基金收入", Money::IncomeLine(IncomeCategory::GovernmentFundAppropriation)),
            ("其他收入", Money::IncomeLine(IncomeCategory::Other)),
            ("全年总支出", Money::ExpenditureTotal),
            ("其中基本支出为", Money::Structure(ExpenditureStructure::Basic)),
            ("对个人和家庭的补助", Money::ExpenditureLine(EconomicClass::HouseholdSubsidies)),
            ("我镇三公经费支出合计", Money::ThreePublic(ThreePublicItem::Total)),
            ("其中因公出国(境)费用", Money::ThreePublic(ThreePublicItem::OverseasTravel)),
            ("公务用车运行维护费", Money::ThreePublic(ThreePublicItem::VehicleOperation)),
            ("招待费", Money::ThreePublic(ThreePublicItem::Reception)),
            ("机关运行经费合计", Money::RunningCosts),
            ("公务用车购置及运行维护费", Money::VehiclesCombined),
        ] {
            assert_eq!(classify_money(label), Some(money), "{label}");
        }
        // spending by source has no field
        assert_eq!(classify_money("政府性基金预算支出"), None);
        assert_eq!(classify_money("新建村级公路"), None);
    }

    #[test]
    fn comparisons_and_changes() {
        assert_eq!(comparator("其中招待费较2021年"), Some((15, 3)));
        assert_eq!(comparator("占比"), None);
        assert_eq!(comparator("比重"), None);
        assert_eq!(comparator("同比增长").map(|c| c.0), Some(0));
        assert_eq!(change_sign("上年减少"), Some(-1));
        assert_eq!(change_sign("增长"), Some(1));
        assert_eq!(change_sign("2021年"), None);
        assert_eq!(staff_category("机关工勤编制"), Some(StaffCategory::GovernmentWorkers));
        assert_eq!(staff_category("机关事业编制"), Some(StaffCategory::Institutional));
        assert_eq!(staff_category("行政事业编制"), None);
        assert_eq!(unit_type("其中行政单位"), Some(UnitType::Administrative));
        assert_eq!(category_of("农业农村方面"), NarrativeCategory::AgricultureRural);
        assert_eq!(category_of("其他方面"), NarrativeCategory::Other);
    }
}
