//! What aggregates can compute: the measures (with 中文 labels and units), how each is
//! aggregated, the dimensions to group by, and exact percentiles.
use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::{record::Direction, region_code::RegionLevel};

/// How a measure is aggregated over records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    Sum,
    Avg,
    Min,
    Max,
    Median,
    P25,
    P75,
    Count,
    /// A ratio of two sums (never an average of ratios)
    Ratio,
}

impl Aggregation {
    pub const SELECTABLE: [Aggregation; 8] =
        [Self::Sum, Self::Avg, Self::Min, Self::Max, Self::Median, Self::P25, Self::P75, Self::Count];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Avg => "avg",
            Self::Min => "min",
            Self::Max => "max",
            Self::Median => "median",
            Self::P25 => "p25",
            Self::P75 => "p75",
            Self::Count => "count",
            Self::Ratio => "ratio",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::SELECTABLE.into_iter().find(|a| a.as_str() == text)
    }

    /// The fraction of the way through the sorted values, for percentiles.
    pub fn percentile(self) -> Option<Decimal> {
        match self {
            Self::Median => Some(Decimal::new(5, 1)),
            Self::P25 => Some(Decimal::new(25, 2)),
            Self::P75 => Some(Decimal::new(75, 2)),
            _ => None,
        }
    }
}

/// What a measure is computed from, per record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A column expression of `evaluations e`.
    Column(&'static str),
    /// The number of records.
    Records,
    /// sum(numerator) / sum(denominator) over records where both are present.
    Ratio { numerator: &'static str, denominator: &'static str },
    /// An indicator of the library, by code: its actual values.
    IndicatorActual(String),
    /// An indicator's completion: sum(actual) / sum(target), or sum(target) / sum(actual) for an
    /// indicator whose library direction is `<=` (`reverse`: less is better).
    IndicatorCompletion { code: String, reverse: bool },
}

/// A measure of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    pub name: String,
    pub label_zh: String,
    pub unit: Cow<'static, str>,
    pub default: Aggregation,
    pub source: Source,
}

/// (name, 中文 label, unit, default aggregation, column of `evaluations e`)
const COLUMN_MEASURES: [(&str, &str, &str, Aggregation, &str); 40] = [
    ("income.total", "收入总计", "元", Aggregation::Sum, "e.income_total"),
    ("expenditure.total", "支出总计", "元", Aggregation::Sum, "e.expenditure_total"),
    ("expenditure.basic", "基本支出", "元", Aggregation::Sum, "e.expenditure_basic_total"),
    ("expenditure.project", "项目支出", "元", Aggregation::Sum, "e.expenditure_project_total"),
    ("three_public.total", "三公经费合计", "元", Aggregation::Sum, "e.three_public_total"),
    ("three_public.overseas_travel", "因公出国(境)费", "元", Aggregation::Sum, "e.overseas_travel_amount"),
    ("three_public.vehicle_purchase", "公务用车购置费", "元", Aggregation::Sum, "e.vehicle_purchase_amount"),
    ("three_public.vehicle_operation", "公务用车运行维护费", "元", Aggregation::Sum, "e.vehicle_operation_amount"),
    ("three_public.reception", "公务接待费", "元", Aggregation::Sum, "e.reception_amount"),
    ("three_public.budget", "三公经费预算数", "元", Aggregation::Sum, "e.three_public_budget"),
    ("three_public.overseas_travel.budget", "因公出国(境)费预算数", "元", Aggregation::Sum, "e.overseas_travel_budget"),
    (
        "three_public.vehicle_purchase.budget",
        "公务用车购置费预算数",
        "元",
        Aggregation::Sum,
        "e.vehicle_purchase_budget",
    ),
    (
        "three_public.vehicle_operation.budget",
        "公务用车运行维护费预算数",
        "元",
        Aggregation::Sum,
        "e.vehicle_operation_budget",
    ),
    ("three_public.reception.budget", "公务接待费预算数", "元", Aggregation::Sum, "e.reception_budget"),
    ("running_costs", "机关运行经费", "元", Aggregation::Sum, "e.running_costs_amount"),
    ("budget.initial", "年初预算数", "元", Aggregation::Sum, "e.budget_initial"),
    ("budget.adjusted", "全年预算数", "元", Aggregation::Sum, "e.budget_adjusted"),
    ("budget.executed", "全年执行数", "元", Aggregation::Sum, "e.budget_executed"),
    (
        "funds.current_appropriation.initial",
        "当年财政拨款年初预算数",
        "元",
        Aggregation::Sum,
        "e.funds_current_initial",
    ),
    (
        "funds.current_appropriation.adjusted",
        "当年财政拨款全年预算数",
        "元",
        Aggregation::Sum,
        "e.funds_current_adjusted",
    ),
    (
        "funds.current_appropriation.executed",
        "当年财政拨款全年执行数",
        "元",
        Aggregation::Sum,
        "e.funds_current_executed",
    ),
    ("funds.carried_over.initial", "上年结转资金年初预算数", "元", Aggregation::Sum, "e.funds_carried_initial"),
    ("funds.carried_over.adjusted", "上年结转资金全年预算数", "元", Aggregation::Sum, "e.funds_carried_adjusted"),
    ("funds.carried_over.executed", "上年结转资金全年执行数", "元", Aggregation::Sum, "e.funds_carried_executed"),
    ("funds.other.initial", "其他资金年初预算数", "元", Aggregation::Sum, "e.funds_other_initial"),
    ("funds.other.adjusted", "其他资金全年预算数", "元", Aggregation::Sum, "e.funds_other_adjusted"),
    ("funds.other.executed", "其他资金全年执行数", "元", Aggregation::Sum, "e.funds_other_executed"),
    ("staff", "年末在职人员", "人", Aggregation::Sum, "e.staff_at_year_end"),
    ("staff.administrative", "行政在职人员", "人", Aggregation::Sum, "e.staff_in_post_administrative"),
    ("staff.civil_service_managed", "参公在职人员", "人", Aggregation::Sum, "e.staff_in_post_civil_service_managed"),
    ("staff.institutional", "事业在职人员", "人", Aggregation::Sum, "e.staff_in_post_institutional"),
    ("staff.government_workers", "机关工勤在职人员", "人", Aggregation::Sum, "e.staff_in_post_government_workers"),
    ("staff.retired", "离退休人员", "人", Aggregation::Sum, "e.staff_retired"),
    ("staff.hired", "外聘人员", "人", Aggregation::Sum, "e.staff_hired"),
    ("staffing_quota", "编制数", "人", Aggregation::Sum, STAFFING_QUOTA_TOTAL),
    ("staffing_quota.administrative", "行政编制", "人", Aggregation::Sum, "e.staffing_quota_administrative"),
    (
        "staffing_quota.civil_service_managed",
        "参公编制",
        "人",
        Aggregation::Sum,
        "e.staffing_quota_civil_service_managed",
    ),
    ("staffing_quota.institutional", "事业编制", "人", Aggregation::Sum, "e.staffing_quota_institutional"),
    (
        "staffing_quota.government_workers",
        "机关工勤编制",
        "人",
        Aggregation::Sum,
        "e.staffing_quota_government_workers",
    ),
    ("score", "总得分", "分", Aggregation::Avg, "coalesce(e.total_score, e.computed_total_score)"),
];

/// A record's staffing quota: its stated total, else the sum of the categories it states.
const STAFFING_QUOTA_TOTAL: &str = "coalesce(e.staffing_quota_total, CASE WHEN num_nonnulls(\
     e.staffing_quota_administrative, e.staffing_quota_civil_service_managed, e.staffing_quota_institutional, \
     e.staffing_quota_government_workers) > 0 THEN coalesce(e.staffing_quota_administrative, 0) \
     + coalesce(e.staffing_quota_civil_service_managed, 0) + coalesce(e.staffing_quota_institutional, 0) \
     + coalesce(e.staffing_quota_government_workers, 0) END)";

/// (name, 中文 label, unit, numerator, denominator)
const RATIO_MEASURES: [(&str, &str, &str, &str, &str); 5] = [
    // Against the adjusted budget, or the initial one where a record gives no adjusted budget (as
    // the forms compute a record's rate).
    ("execution_rate", "预算执行率", "比率", "e.budget_executed", "coalesce(e.budget_adjusted, e.budget_initial)"),
    ("three_public.share", "三公经费占支出比重", "比率", "e.three_public_total", "e.expenditure_total"),
    ("three_public.budget_execution", "三公经费预算执行率", "比率", "e.three_public_total", "e.three_public_budget"),
    ("three_public.per_staff", "人均三公经费", "元/人", "e.three_public_total", "e.staff_at_year_end"),
    ("expenditure.per_staff", "人均支出", "元/人", "e.expenditure_total", "e.staff_at_year_end"),
];

/// Every fixed measure of the model (indicator measures are named by code: see `parse_measure`).
pub fn catalogue() -> Vec<Measure> {
    let mut measures: Vec<Measure> = COLUMN_MEASURES
        .iter()
        .map(|&(name, label, unit, default, column)| Measure {
            name: name.to_owned(),
            label_zh: label.to_owned(),
            unit: Cow::Borrowed(unit),
            default,
            source: Source::Column(column),
        })
        .collect();
    measures.push(Measure {
        name: "records".to_owned(),
        label_zh: "记录数".to_owned(),
        unit: Cow::Borrowed("份"),
        default: Aggregation::Count,
        source: Source::Records,
    });
    measures.extend(RATIO_MEASURES.iter().map(|&(name, label, unit, numerator, denominator)| Measure {
        name: name.to_owned(),
        label_zh: label.to_owned(),
        unit: Cow::Borrowed(unit),
        default: Aggregation::Ratio,
        source: Source::Ratio { numerator, denominator },
    }));
    measures
}

/// The shape of a measure, as the OpenAPI document states it (`measures` and `order` items):
/// every fixed measure with the aggregations it takes, and the indicator measures by code.
/// Whether an indicator code is in the library is not a shape (422).
pub fn measure_pattern() -> String {
    let escape = |name: &str| name.replace('.', "\\.");
    let aggregations: Vec<&str> = Aggregation::SELECTABLE.iter().map(|a| a.as_str()).collect();
    let any_aggregation = format!("(?::(?:{}))?", aggregations.join("|"));
    let (ratios, others): (Vec<Measure>, Vec<Measure>) = catalogue()
        .into_iter()
        .filter(|m| !matches!(m.source, Source::Records))
        .partition(|m| m.default == Aggregation::Ratio);
    let names = |list: &[Measure]| list.iter().map(|m| escape(&m.name)).collect::<Vec<_>>().join("|");
    let code = "indicator\\.[A-Za-z0-9_-]{1,64}";
    format!(
        "(?:(?:{}){any_aggregation}|(?:{})|records(?::count)?|{code}\\.actual{any_aggregation}|{code}\\.completion)",
        names(&others),
        names(&ratios),
    )
}

/// A measure with the aggregation asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureSpec {
    pub measure: Measure,
    pub aggregation: Aggregation,
}

impl MeasureSpec {
    /// The key of its value in a row: `expenditure.total:sum`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.measure.name, self.aggregation.as_str())
    }

    /// Fraction digits of its values: rates and shares 4, counts and head counts 0, else 2.
    pub fn scale(&self) -> u32 {
        match (self.aggregation, &self.measure.source) {
            (Aggregation::Count, _) => 0,
            (Aggregation::Sum | Aggregation::Min | Aggregation::Max, _) if self.measure.unit == "人" => 0,
            (Aggregation::Ratio, _) if self.measure.unit == "比率" => 4,
            (_, Source::IndicatorCompletion { .. }) => 4,
            _ => 2,
        }
    }

    /// Whether its values add up across groups (so shares of a parent make sense).
    pub fn is_additive(&self) -> bool {
        matches!(self.aggregation, Aggregation::Sum | Aggregation::Count)
    }
}

/// Parses `name` or `name:aggregation`; indicator measures are `indicator.<code>.actual` and
/// `indicator.<code>.completion`.
pub fn parse_measure(text: &str) -> Result<MeasureSpec, String> {
    let (name, aggregation) = match text.split_once(':') {
        Some((name, aggregation)) => (name, Some(aggregation)),
        None => (text, None),
    };
    let measure = match catalogue().into_iter().find(|m| m.name == name) {
        Some(measure) => measure,
        None => {
            indicator_measure(name).ok_or_else(|| format!("unknown measure `{name}`; GET /api/v1/model lists them"))?
        }
    };
    let aggregation = match aggregation {
        None => measure.default,
        Some(text) => {
            let aggregation = Aggregation::parse(text).ok_or_else(|| {
                format!("unknown aggregation `{text}`; use sum, avg, min, max, median, p25, p75 or count")
            })?;
            if measure.default == Aggregation::Ratio {
                return Err(format!("`{name}` is a ratio of sums and takes no aggregation"));
            }
            if matches!(measure.source, Source::Records) && aggregation != Aggregation::Count {
                return Err("`records` is a count".to_owned());
            }
            aggregation
        }
    };
    Ok(MeasureSpec { measure, aggregation })
}

fn indicator_measure(name: &str) -> Option<Measure> {
    let rest = name.strip_prefix("indicator.")?;
    let (code, what) = rest.rsplit_once('.')?;
    let valid = !code.is_empty()
        && code.len() <= 64
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return None;
    }
    match what {
        "actual" => Some(Measure {
            name: name.to_owned(),
            label_zh: format!("指标{code}实际完成值"),
            unit: Cow::Borrowed("指标单位"),
            default: Aggregation::Sum,
            source: Source::IndicatorActual(code.to_owned()),
        }),
        "completion" => Some(Measure {
            name: name.to_owned(),
            label_zh: format!("指标{code}完成率"),
            unit: Cow::Borrowed("比率"),
            default: Aggregation::Ratio,
            source: Source::IndicatorCompletion { code: code.to_owned(), reverse: false },
        }),
        _ => None,
    }
}

impl Source {
    /// The library code of an indicator measure.
    pub fn indicator_code(&self) -> Option<&str> {
        match self {
            Self::IndicatorActual(code) | Self::IndicatorCompletion { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Names an indicator measure after its library definition: its name in the label, the
/// definition's unit for actual values, and for completion the direction (`<=`: target ÷ actual).
pub fn describe_indicator(measure: &mut Measure, name: &str, unit: Option<&str>, direction: Option<Direction>) {
    match &mut measure.source {
        Source::IndicatorActual(_) => {
            measure.label_zh = format!("{name}实际完成值");
            measure.unit = Cow::Owned(unit.unwrap_or_default().to_owned());
        }
        Source::IndicatorCompletion { reverse, .. } => {
            measure.label_zh = format!("{name}完成率");
            *reverse = direction == Some(Direction::AtMost);
        }
        _ => {}
    }
}

/// A dimension to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Province,
    Prefecture,
    County,
    Township,
    FiscalYear,
    Kind,
    Status,
    Grade,
}

impl Dimension {
    pub const ALL: [Dimension; 8] = [
        Self::Province,
        Self::Prefecture,
        Self::County,
        Self::Township,
        Self::FiscalYear,
        Self::Kind,
        Self::Status,
        Self::Grade,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Prefecture => "prefecture",
            Self::County => "county",
            Self::Township => "township",
            Self::FiscalYear => "fiscal_year",
            Self::Kind => "kind",
            Self::Status => "status",
            Self::Grade => "grade",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Province => "省",
            Self::Prefecture => "市(州)",
            Self::County => "县(市、区)",
            Self::Township => "乡镇(街道)",
            Self::FiscalYear => "年度",
            Self::Kind => "评价类型",
            Self::Status => "审核状态",
            Self::Grade => "评价等级",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }

    /// Digits of the region code at this level, for the region dimensions.
    pub fn code_len(self) -> Option<usize> {
        self.region_level().map(RegionLevel::code_len)
    }

    /// The division level of a region dimension.
    pub fn region_level(self) -> Option<RegionLevel> {
        match self {
            Self::Province => Some(RegionLevel::Province),
            Self::Prefecture => Some(RegionLevel::Prefecture),
            Self::County => Some(RegionLevel::County),
            Self::Township => Some(RegionLevel::Township),
            _ => None,
        }
    }

    /// The region level one above (None for province and for non-region dimensions).
    pub fn parent(self) -> Option<Self> {
        match self {
            Self::Prefecture => Some(Self::Province),
            Self::County => Some(Self::Prefecture),
            Self::Township => Some(Self::County),
            _ => None,
        }
    }
}

/// The `fraction` percentile of sorted values, interpolating linearly between neighbours
/// (as PostgreSQL's percentile_cont does), exactly in decimal.
pub fn percentile(sorted: &[Decimal], fraction: Decimal) -> Option<Decimal> {
    let last = sorted.len().checked_sub(1)?;
    let position = fraction * Decimal::from(last);
    let below = position.floor();
    let index = usize::try_from(below.mantissa() / 10_i128.pow(below.scale())).ok()?;
    let weight = position - below;
    let low = sorted[index];
    Some(match sorted.get(index + 1) {
        Some(high) if !weight.is_zero() => low + (*high - low) * weight,
        _ => low,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn parses_measures_with_and_without_aggregation() {
        let spec = parse_measure("expenditure.total").unwrap();
        assert_eq!((spec.key(), spec.scale()), ("expenditure.total:sum".to_owned(), 2));
        assert_eq!(parse_measure("score").unwrap().key(), "score:avg");
        assert_eq!(parse_measure("three_public.total:median").unwrap().aggregation, Aggregation::Median);
        let ratio = parse_measure("execution_rate").unwrap();
        assert_eq!((ratio.key(), ratio.scale()), ("execution_rate:ratio".to_owned(), 4));
        assert_eq!(parse_measure("three_public.per_staff").unwrap().scale(), 2);
        assert_eq!(parse_measure("staff").unwrap().scale(), 0);
        assert_eq!(parse_measure("staff:avg").unwrap().scale(), 2);
        assert!(parse_measure("execution_rate:avg").unwrap_err().contains("ratio"));
        assert!(parse_measure("nope").unwrap_err().contains("unknown measure"));
        assert!(parse_measure("expenditure.total:mode").unwrap_err().contains("unknown aggregation"));
    }

    #[test]
    fn indicator_measures_are_named_by_library_code() {
        let actual = parse_measure("indicator.HN-02.actual:avg").unwrap();
        assert_eq!(actual.measure.source, Source::IndicatorActual("HN-02".into()));
        let mut completion = parse_measure("indicator.HN-02.completion").unwrap();
        assert_eq!(completion.aggregation, Aggregation::Ratio);
        assert!(parse_measure("indicator.a b.actual").is_err());
        assert!(parse_measure("indicator.HN-02.weight").is_err());

        let mut actual = actual.measure;
        describe_indicator(&mut actual, "排查农村自建房屋", Some("栋"), Some(Direction::AtLeast));
        assert_eq!((actual.label_zh.as_str(), actual.unit.as_ref()), ("排查农村自建房屋实际完成值", "栋"));
        describe_indicator(&mut completion.measure, "项目总成本", Some("万元"), Some(Direction::AtMost));
        assert_eq!(completion.measure.source, Source::IndicatorCompletion { code: "HN-02".into(), reverse: true });
        assert_eq!(completion.measure.source.indicator_code(), Some("HN-02"));
    }

    #[test]
    fn percentiles_interpolate_exactly() {
        let values = [d("1"), d("2"), d("3"), d("4")];
        assert_eq!(percentile(&values, d("0.5")), Some(d("2.5")));
        assert_eq!(percentile(&values, d("0.25")), Some(d("1.75")));
        assert_eq!(percentile(&values, d("0.75")), Some(d("3.25")));
        assert_eq!(percentile(&[d("0.10"), d("0.20"), d("0.40")], d("0.5")), Some(d("0.20")));
        assert_eq!(percentile(&[d("7")], d("0.25")), Some(d("7")));
        assert_eq!(percentile(&[], d("0.5")), None);
    }

    #[test]
    fn region_dimensions_know_their_parents() {
        assert_eq!(Dimension::County.parent(), Some(Dimension::Prefecture));
        assert_eq!(Dimension::Province.parent(), None);
        assert_eq!(Dimension::Township.code_len(), Some(9));
        assert_eq!(Dimension::FiscalYear.code_len(), None);
    }
}
