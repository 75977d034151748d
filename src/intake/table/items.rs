//! A project's items (明细) as its annual-target texts list them after 其中:
//! `其中30万元用于审计、30万元用于设计规划测绘` or `其中村级组织运转400000元、村民组长、党小组长基本报酬252000元`.
use rust_decimal::Decimal;

use super::text::{parse_amount, AmountCell};
use crate::domain::record::{Project, ReportedIn};

/// One item a text names, with its amount in 元.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub name: String,
    pub amount: Decimal,
}

struct AmountAt {
    /// Char index where the number starts
    start: usize,
    /// Char index past the unit
    end: usize,
    yuan: Decimal,
}

fn is_number_char(c: char) -> bool {
    c.is_ascii_digit() || c == '.' || c == ','
}

/// The items listed after the first 其中 of a text, up to the end of its sentence. An amount that
/// is no whole number of 分 in 元, or an item without a name, ends the list.
pub fn items(text: &str) -> Vec<Item> {
    let chars: Vec<char> = text.chars().collect();
    let Some(start) = (0..chars.len().saturating_sub(1)).find(|&i| chars[i] == '其' && chars[i + 1] == '中') else {
        return Vec::new();
    };
    let mut from = start + 2;
    while from < chars.len() && matches!(chars[from], ':' | '：' | ',' | '，' | ' ') {
        from += 1;
    }
    let until = (from..chars.len()).find(|&i| matches!(chars[i], '。' | ';' | '；')).unwrap_or(chars.len());
    let list = &chars[from..until];
    let mut amounts = Vec::new();
    let mut i = 0;
    while i < list.len() {
        if !list[i].is_ascii_digit() || (i > 0 && is_number_char(list[i - 1])) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < list.len() && is_number_char(list[j]) {
            j += 1;
        }
        let number: String = list[i..j].iter().collect();
        let (unit, end) = if list[j..].starts_with(&['万', '元']) {
            (ReportedIn::TenThousandYuan, j + 2)
        } else if list[j..].starts_with(&['元']) {
            (ReportedIn::Yuan, j + 1)
        } else {
            i = j;
            continue;
        };
        match parse_amount(&number, unit) {
            AmountCell::Yuan(yuan) => amounts.push(AmountAt { start: i, end, yuan }),
            _ => break,
        }
        i = end;
    }
    if amounts.is_empty() {
        return Vec::new();
    }
    let text_of = |from: usize, to: usize| -> String {
        let trim = |c: &char| matches!(c, '、' | ',' | '，' | '和' | '及' | ' ' | ':' | '：' | '为');
        let slice = &list[from..to];
        let lead = slice.iter().take_while(|c| trim(c)).count();
        let tail = slice[lead..].iter().rev().take_while(|c| trim(c)).count();
        slice[lead..slice.len() - tail].iter().collect()
    };
    // `30万元用于审计`: the name follows its amount; `审计30万元`: it precedes it.
    let follows = list[amounts[0].end..].starts_with(&['用', '于']);
    let mut out = Vec::new();
    for (k, amount) in amounts.iter().enumerate() {
        let name = if follows {
            let next = amounts.get(k + 1).map_or(list.len(), |a| a.start);
            if !list[amount.end..].starts_with(&['用', '于']) {
                break;
            }
            text_of(amount.end + 2, next)
        } else {
            let previous = if k == 0 { 0 } else { amounts[k - 1].end };
            text_of(previous, amount.start)
        };
        if name.is_empty() {
            break;
        }
        out.push(Item { name, amount: amount.yuan });
    }
    // `其中中央资金50万元、县级配套30万元` lists where the money came from, not what it was for.
    if out.iter().any(|item| is_funding_source(&item.name)) {
        return Vec::new();
    }
    out
}

fn is_funding_source(name: &str) -> bool {
    const WORDS: [&str; 14] = [
        "中央",
        "省级",
        "市级",
        "县级",
        "区级",
        "乡级",
        "镇级",
        "本级",
        "上级",
        "配套",
        "自筹",
        "财政拨款",
        "财政资金",
        "结转",
    ];
    WORDS.iter().any(|word| name.contains(word))
}

/// The project's items from its expected and achieved texts: budgets from the one, execution from
/// the other, matched by name (an item only one text names keeps only its side).
pub fn project_items(expected: Option<&str>, achieved: Option<&str>) -> Vec<Project> {
    let planned = expected.map(items).unwrap_or_default();
    let done = achieved.map(items).unwrap_or_default();
    let mut projects: Vec<Project> = planned
        .iter()
        .map(|item| Project {
            name: item.name.clone(),
            budget: Some(item.amount),
            executed: None,
            progress: None,
            note: None,
        })
        .collect();
    let mut taken = vec![false; projects.len()];
    for item in done {
        let exact = projects.iter().enumerate().position(|(i, p)| !taken[i] && p.name == item.name);
        let loose = || {
            projects
                .iter()
                .enumerate()
                .position(|(i, p)| !taken[i] && (p.name.contains(&item.name) || item.name.contains(&p.name)))
        };
        match exact.or_else(loose) {
            Some(i) => {
                taken[i] = true;
                projects[i].executed = Some(item.amount);
            }
            None => projects.push(Project {
                name: item.name,
                budget: None,
                executed: Some(item.amount),
                progress: None,
                note: None,
            }),
        }
    }
    projects
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn item(name: &str, amount: &str) -> Item {
        Item { name: name.into(), amount: Decimal::from_str(amount).unwrap() }
    }

    #[test]
    fn names_after_their_amounts() {
        let text = "申请预算资金90万元，其中30万元用于基建工程项目预算编制、30万元用于审计、30万元用于设计规划测绘";
        assert_eq!(
            items(text),
            vec![item("基建工程项目预算编制", "300000"), item("审计", "300000"), item("设计规划测绘", "300000")]
        );
    }

    #[test]
    fn names_before_their_amounts_even_with_a_comma_inside() {
        let text = "村级补助及运转经费预算2026400元，其中村级组织运转400000元、村民组长、党小组长基本报酬252000元、村民监督委员会工资28000元";
        assert_eq!(
            items(text),
            vec![
                item("村级组织运转", "400000"),
                item("村民组长、党小组长基本报酬", "252000"),
                item("村民监督委员会工资", "28000")
            ]
        );
        let done = "完成89.97万元，其中基建工程项目预算编制30万元、审计30万元、设计规划测绘29.99万元。另有说明100元";
        assert_eq!(items(done)[2], item("设计规划测绘", "299900"));
        assert_eq!(items(done).len(), 3);
    }

    #[test]
    fn funding_sources_are_no_items() {
        assert!(items("申请资金80万元，其中中央资金50万元、县级配套30万元").is_empty());
        assert!(items("其中当年财政拨款60万元、上年结转20万元").is_empty());
    }

    #[test]
    fn no_list_no_items() {
        assert!(items("完成全部工作任务").is_empty());
        assert!(items("其中大部分已完成").is_empty());
    }

    #[test]
    fn budgets_and_execution_are_paired_by_name() {
        let projects =
            project_items(Some("其中审计30万元、测绘30万元"), Some("其中测绘29.99万元、审计30万元、其他1元"));
        let pairs: Vec<(&str, Option<String>, Option<String>)> = projects
            .iter()
            .map(|p| (p.name.as_str(), p.budget.map(|d| d.to_string()), p.executed.map(|d| d.to_string())))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("审计", Some("300000.00".into()), Some("300000.00".into())),
                ("测绘", Some("300000.00".into()), Some("299900.00".into())),
                ("其他", None, Some("1.00".into())),
            ]
        );
    }
}
