//! The indicator library (指标库): what a definition holds, the rules its input keeps, and how a
//! record's indicator rows are checked against it and matched to it by name.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    record::{Direction, EvaluationInput, EvaluationKind, IndicatorLevel1, IndicatorLevel2},
    FieldError,
};

/// What a library code looks like (also the measure names' `indicator.<code>.…`).
pub const CODE_PATTERN: &str = "^[A-Za-z0-9_-]{1,64}$";

pub fn valid_code(code: &str) -> bool {
    (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One definition of the library.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IndicatorDefinition {
    /// 指标编码, unique and never reused
    #[schema(example = "HN-02")]
    pub code: String,
    /// 指标名称 (三级指标)
    #[schema(example = "排查农村自建房屋")]
    pub name: String,
    /// 一级指标
    pub level_1: IndicatorLevel1,
    /// 二级指标
    pub level_2: IndicatorLevel2,
    /// 计量单位
    #[schema(example = "栋")]
    pub unit_of_measure: Option<String>,
    /// 指标方向 (none: a qualitative indicator)
    pub direction: Option<Direction>,
    /// The kinds of record it applies to
    pub kinds: Vec<EvaluationKind>,
    /// Other names it is printed under; a row without a code is matched by these too
    pub aliases: Vec<String>,
    /// 评分方法: how a row of it is scored
    pub scoring_method: Option<String>,
    /// 来源: where the definition comes from
    pub source: Option<String>,
    /// Retired: kept for the records that use it, not offered for new forms
    pub retired: bool,
    pub retired_at: Option<DateTime<Utc>>,
    /// Bumped on every change; the `ETag`
    pub revision: i32,
    pub updated_at: DateTime<Utc>,
    /// Who changed it last
    pub updated_by: String,
}

/// A definition as an admin writes it (`POST` with its `code`; `PUT` without one, or the same).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDefinitionInput {
    /// 指标编码: letters, digits, `-` and `_`, at most 64 (required on `POST`)
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "HN-02")]
    pub code: Option<String>,
    /// 指标名称, 1–200 characters
    #[schema(min_length = 1, max_length = 200, example = "排查农村自建房屋")]
    pub name: String,
    pub level_1: IndicatorLevel1,
    pub level_2: IndicatorLevel2,
    /// 计量单位, at most 20 characters
    #[serde(default)]
    #[schema(max_length = 20, example = "栋")]
    pub unit_of_measure: Option<String>,
    #[serde(default)]
    pub direction: Option<Direction>,
    /// The kinds of record it applies to: at least one
    #[schema(min_items = 1)]
    pub kinds: Vec<EvaluationKind>,
    /// Other names it is printed under, at most 20, each 1–200 characters
    #[serde(default)]
    #[schema(max_items = 20)]
    pub aliases: Vec<String>,
    /// 评分方法, at most 2,000 characters
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub scoring_method: Option<String>,
    /// 来源, at most 200 characters
    #[serde(default)]
    #[schema(max_length = 200)]
    pub source: Option<String>,
}

impl IndicatorDefinitionInput {
    /// Every rule the input breaks, by field.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Some(code) = &self.code {
            if !valid_code(code) {
                errors.push(FieldError::new(
                    "code",
                    "invalid_code",
                    "1 to 64 letters, digits, `-` or `_` (it names measures: indicator.<code>.actual)",
                ));
            }
        }
        let mut text = |field: &str, value: &str, max: usize| {
            let chars = value.chars().count();
            if value.trim().is_empty() {
                errors.push(FieldError::new(field, "blank", "must not be empty or only spaces"));
            } else if chars > max {
                errors.push(FieldError::new(field, "too_long", format!("at most {max} characters")));
            }
        };
        text("name", &self.name, 200);
        if let Some(unit) = &self.unit_of_measure {
            text("unit_of_measure", unit, 20);
        }
        if let Some(method) = &self.scoring_method {
            text("scoring_method", method, 2000);
        }
        if let Some(source) = &self.source {
            text("source", source, 200);
        }
        for (i, alias) in self.aliases.iter().enumerate() {
            text(&format!("aliases[{i}]"), alias, 200);
        }
        if self.aliases.len() > 20 {
            errors.push(FieldError::new("aliases", "too_many", "at most 20 aliases"));
        }
        if self.kinds.is_empty() {
            errors.push(FieldError::new("kinds", "empty", "name at least one kind of record"));
        }
        for (i, kind) in self.kinds.iter().enumerate() {
            if self.kinds[..i].contains(kind) {
                errors.push(FieldError::new(format!("kinds[{i}]"), "duplicate", "each kind once"));
            }
        }
        errors
    }
}

/// What the library holds for the codes and names of some records' indicator rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LibraryMatches {
    /// The kinds each code applies to, for the codes given that exist
    pub codes: HashMap<String, Vec<EvaluationKind>>,
    /// For each row name asked, the definitions whose name or alias it matches: (code, kinds)
    pub names: HashMap<String, Vec<(String, Vec<EvaluationKind>)>>,
}

/// The codes given and the names of rows without one, each once: what to look up.
pub fn wanted<'a>(records: impl IntoIterator<Item = &'a EvaluationInput>) -> (Vec<String>, Vec<String>) {
    let (mut codes, mut names) = (Vec::new(), Vec::new());
    for record in records {
        for row in &record.indicators {
            match &row.code {
                Some(code) => codes.push(code.clone()),
                None => names.push(row.name.clone()),
            }
        }
    }
    for list in [&mut codes, &mut names] {
        list.sort();
        list.dedup();
    }
    (codes, names)
}

/// Checks each row's `code` against the library and sets `matched_code` on rows without one:
/// the one definition (for the record's kind) whose name or alias the row's name matches, none
/// when no definition or more than one does. A `matched_code` sent in is replaced.
pub fn resolve(record: &mut EvaluationInput, library: &LibraryMatches) -> Vec<FieldError> {
    let kind = record.kind;
    let mut errors = Vec::new();
    for (i, row) in record.indicators.iter_mut().enumerate() {
        row.matched_code = None;
        match &row.code {
            Some(code) => match library.codes.get(code) {
                None => errors.push(FieldError::new(
                    format!("indicators[{i}].code"),
                    "unknown_indicator_code",
                    format!("no indicator `{code}` in the library; GET /api/v1/indicator-definitions lists them"),
                )),
                Some(kinds) if !kinds.contains(&kind) => errors.push(FieldError::new(
                    format!("indicators[{i}].code"),
                    "indicator_not_for_kind",
                    format!(
                        "indicator `{code}` applies to {}, not to this record's kind",
                        kinds
                            .iter()
                            .map(|k| serde_plain::to_string(k).unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
                Some(_) => {}
            },
            None => {
                let candidates: Vec<&String> = (library.names.get(&row.name).into_iter().flatten())
                    .filter(|(_, kinds)| kinds.contains(&kind))
                    .map(|(code, _)| code)
                    .collect();
                if let [only] = candidates.as_slice() {
                    row.matched_code = Some((*only).clone());
                }
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::record::Indicator;

    fn row(name: &str, code: Option<&str>) -> Indicator {
        serde_json::from_value(serde_json::json!({
            "level_1": "output", "level_2": "quantity", "name": name, "code": code,
        }))
        .unwrap()
    }

    fn record(rows: Vec<Indicator>) -> EvaluationInput {
        let mut record: EvaluationInput = serde_json::from_value(serde_json::json!({
            "region_code": "430482104", "fiscal_year": 2022, "kind": "department_overall",
            "unit": "荫田镇人民政府",
        }))
        .unwrap();
        record.indicators = rows;
        record
    }

    fn library() -> LibraryMatches {
        let department = vec![EvaluationKind::DepartmentOverall];
        LibraryMatches {
            codes: HashMap::from([
                ("HN-02".to_owned(), department.clone()),
                ("AH-05".to_owned(), vec![EvaluationKind::Project]),
            ]),
            names: HashMap::from([
                ("排查农村自建房屋".to_owned(), vec![("HN-02".to_owned(), department.clone())]),
                ("项目总成本".to_owned(), vec![("AH-05".to_owned(), vec![EvaluationKind::Project])]),
                ("满意度".to_owned(), vec![("A".to_owned(), department.clone()), ("B".to_owned(), department.clone())]),
            ]),
        }
    }

    #[test]
    fn a_code_must_be_in_the_library_and_for_the_kind() {
        let mut r = record(vec![row("x", Some("HN-02")), row("y", Some("XX-99")), row("z", Some("AH-05"))]);
        let errors = resolve(&mut r, &library());
        let codes: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            codes,
            [("indicators[1].code", "unknown_indicator_code"), ("indicators[2].code", "indicator_not_for_kind")]
        );
    }

    #[test]
    fn a_row_without_a_code_is_matched_only_to_one_definition_of_its_kind() {
        let mut sent = row("排查农村自建房屋", None);
        sent.matched_code = Some("FORGED".into());
        let mut r = record(vec![sent, row("项目总成本", None), row("满意度", None), row("新指标", None)]);
        assert!(resolve(&mut r, &library()).is_empty());
        let matched: Vec<Option<&str>> = r.indicators.iter().map(|i| i.matched_code.as_deref()).collect();
        assert_eq!(matched, [Some("HN-02"), None, None, None]);
    }

    #[test]
    fn wanted_lists_codes_and_uncoded_names_once() {
        let r = record(vec![row("a", Some("HN-02")), row("b", None), row("b", None), row("c", Some("HN-02"))]);
        assert_eq!(wanted([&r]), (vec!["HN-02".to_owned()], vec!["b".to_owned()]));
    }

    #[test]
    fn input_rules_name_their_fields() {
        let input: IndicatorDefinitionInput = serde_json::from_value(serde_json::json!({
            "code": "a b", "name": " ", "level_1": "output", "level_2": "quantity",
            "kinds": ["project", "project"], "aliases": [""],
        }))
        .unwrap();
        let fields: Vec<String> = input.problems().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["code", "name", "aliases[0]", "kinds[1]"]);
        assert!(valid_code("HN-02") && valid_code("a_b") && !valid_code("") && !valid_code(&"x".repeat(65)));
    }
}
