//! Deterministic synthetic records for a whole region, anchored on the reference report
//! (荫田镇 2022: 1809.48万元 income and spending), for demos, benchmarks and load tests.
//!
//! Figures scale with the township's size (a hash of its code) and kind (街道, 镇, 乡), grow
//! about 4% a year, cross-foot by construction, and state the prior-year figures of the
//! record generated for the year before. A few townships skip a year and a few records
//! break a consistency rule on purpose, so checks and coverage have something to find.
use rust_decimal::Decimal;

use super::record::*;

/// A township to generate records for.
#[derive(Debug, Clone)]
pub struct Township {
    pub code: String,
    pub name: String,
    pub county_name: String,
}

/// One in this many (township, year) pairs has no record.
const MISSING_ONE_IN: u64 = 61;
/// One in this many records states a basic-expenditure total 10万元 off (rule 3).
const BROKEN_ONE_IN: u64 = 97;

/// splitmix64: a fixed, fast hash, so the same inputs always give the same record.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn seed(code: &str, year: i32, salt: u64) -> u64 {
    let code: u64 = code.parse().unwrap_or(0);
    mix(mix(code ^ (salt << 40)) ^ year as u64)
}

/// A number in [low, high) from a seed, with 4 decimals.
fn between(seed: u64, low: i64, high: i64) -> Decimal {
    let span = (high - low) * 10_000;
    Decimal::new(low * 10_000 + (seed % span as u64) as i64, 4)
}

/// 万元 with two decimals → 元.
fn wan(value: Decimal) -> Decimal {
    let mut yuan = value.round_dp(2) * Decimal::from(10_000);
    yuan.rescale(2);
    yuan
}

/// Whether the township files for that year.
pub fn files(code: &str, year: i32) -> bool {
    !seed(code, year, 1).is_multiple_of(MISSING_ONE_IN)
}

/// The figures of one township-year, in 万元.
struct Figures {
    total: Decimal,
    basic: Decimal,
    wages: Decimal,
    goods: Decimal,
    subsidies: Decimal,
    project: Decimal,
    fund: Decimal,
    reception: Decimal,
    vehicle: Decimal,
}

fn figures(code: &str, year: i32) -> Figures {
    // 街道 (7th digit 0) are larger, 乡 (2, 3) smaller than 镇 (1).
    let kind_factor = match code.as_bytes().get(6) {
        Some(b'0') => Decimal::new(14, 1),
        Some(b'2') | Some(b'3') => Decimal::new(7, 1),
        _ => Decimal::ONE,
    };
    let size = between(seed(code, 0, 2), 45, 180) / Decimal::ONE_HUNDRED * kind_factor;
    let growth = Decimal::ONE
        + Decimal::new(4, 2) * Decimal::from(year - 2022)
        + between(seed(code, year, 3), 0, 6) / Decimal::ONE_HUNDRED;
    let total = (Decimal::new(180_948, 2) * size * growth).round_dp(2);
    let basic = (total * between(seed(code, year, 4), 42, 58) / Decimal::ONE_HUNDRED).round_dp(2);
    let wages = (basic * between(seed(code, year, 5), 84, 92) / Decimal::ONE_HUNDRED).round_dp(2);
    let subsidies = (basic * between(seed(code, year, 6), 1, 3) / Decimal::ONE_HUNDRED).round_dp(2);
    let goods = basic - wages - subsidies;
    let fund = (total * between(seed(code, year, 7), 0, 2) / Decimal::ONE_HUNDRED).round_dp(2);
    let reception = (between(seed(code, year, 8), 3, 12) * size).round_dp(2);
    let vehicle = (between(seed(code, year, 9), 0, 3) * size).round_dp(2);
    Figures { total, basic, wages, goods, subsidies, project: total - basic, fund, reception, vehicle }
}

/// The record of a township for a year (whether or not `files` says it is filed).
pub fn record(township: &Township, year: i32) -> EvaluationInput {
    let code = township.code.as_str();
    let f = figures(code, year);
    let prior = figures(code, year - 1);
    let is_street = code.as_bytes().get(6) == Some(&b'0');
    let unit = if is_street {
        format!("{}{}办事处", township.county_name, township.name)
    } else {
        format!("{}{}人民政府", township.county_name, township.name)
    };
    let staff_quota_admin = 12 + (seed(code, 0, 10) % 20) as i32;
    let staff_quota_inst = 30 + (seed(code, 0, 11) % 50) as i32;
    let staff = staff_quota_admin + staff_quota_inst - (seed(code, year, 12) % 6) as i32;
    let basic_total =
        if seed(code, year, 13).is_multiple_of(BROKEN_ONE_IN) { f.basic + Decimal::from(10) } else { f.basic };
    // Vacancies (quota − staff) fall on both categories, so neither is over its quota.
    let vacancies = staff_quota_admin + staff_quota_inst - staff;
    let staff_in_post_admin = staff_quota_admin - vacancies.min((seed(code, year, 19) % 3) as i32);
    // 三公 budgets: the actual spending is 80–100 % of them.
    let within = |actual: Decimal, salt: u64| {
        (actual * Decimal::ONE_HUNDRED / between(seed(code, year, salt), 80, 100)).round_dp(2)
    };
    let (reception_budget, vehicle_budget) = (within(f.reception, 31), within(f.vehicle, 32));

    // Indicators: weights 10 (budget execution) + 50 (outputs) + 30 (effects) + 10 (satisfaction).
    let rate = between(seed(code, year, 14), 86, 100);
    let rows: [(IndicatorLevel1, IndicatorLevel2, &str, &str, i64, i64); 7] = [
        (IndicatorLevel1::Process, IndicatorLevel2::BudgetExecution, "预算执行率", "%", 100, 10),
        (
            IndicatorLevel1::Output,
            IndicatorLevel2::Quantity,
            "排查农村自建房屋",
            "栋",
            3000 + (seed(code, 0, 15) % 12000) as i64,
            20,
        ),
        (
            IndicatorLevel1::Output,
            IndicatorLevel2::Quantity,
            "各村聘请保洁员",
            "人",
            30 + (seed(code, 0, 16) % 120) as i64,
            15,
        ),
        (IndicatorLevel1::Output, IndicatorLevel2::Quality, "小型水库除险加固完成率", "%", 100, 15),
        (IndicatorLevel1::Effect, IndicatorLevel2::SocialBenefit, "适龄儿童义务教育普及率", "%", 100, 15),
        (IndicatorLevel1::Effect, IndicatorLevel2::EcologicalBenefit, "生活垃圾无害化处理率", "%", 100, 15),
        (IndicatorLevel1::Satisfaction, IndicatorLevel2::ServiceSatisfaction, "群众满意度", "%", 95, 10),
    ];
    let indicators: Vec<Indicator> = rows
        .iter()
        .enumerate()
        .map(|(i, &(level_1, level_2, name, unit_of_measure, target, weight))| {
            let target = Decimal::from(target);
            let achieved =
                if i == 0 { rate } else { between(seed(code, year, 20 + i as u64), 85, 101).min(Decimal::ONE_HUNDRED) };
            let actual =
                (target * achieved / Decimal::ONE_HUNDRED).round_dp(if unit_of_measure == "%" { 2 } else { 0 });
            let indicator = Indicator {
                level_1,
                level_1_points: None,
                level_2,
                name: name.to_owned(),
                code: Some(format!("HN-{:02}", i + 1)),
                matched_code: None,
                unit_of_measure: Some(unit_of_measure.to_owned()),
                direction: Some(Direction::AtLeast),
                target: Some(target),
                target_text: None,
                actual: Some(actual.normalize()),
                actual_text: None,
                weight: Some(Decimal::from(weight).round_dp(2)),
                score: None,
                achievement: None,
                applicable: true,
                deviation_reason: None,
            };
            Indicator { score: super::scoring::indicator_score(&indicator), ..indicator }
        })
        .collect();
    let two = |d: Decimal| {
        let mut d = d;
        d.rescale(2);
        d
    };
    let total_score = indicators.iter().filter_map(|i| i.score).sum::<Decimal>();
    let grade = super::scoring::grade_for(total_score, &super::scoring::ScoringRuleSet::default().grade_bands);
    EvaluationInput {
        region_code: township.code.clone(),
        fiscal_year: year,
        kind: EvaluationKind::DepartmentOverall,
        unit: unit.clone(),
        project: None,
        budget_unit_code: None,
        method: Some(EvaluationMethod::SelfEvaluation),
        basis_documents: vec!["湘财绩【2013】29号".to_owned()],
        issuer: Some(unit),
        report_date: chrono::NaiveDate::from_ymd_opt(year + 1, 3, 1 + (seed(code, year, 30) % 28) as u32),
        reported_in: ReportedIn::TenThousandYuan,
        profile: UnitProfile {
            duties: vec![
                "执行本级人民代表大会决议和上级行政机关的决定和命令".to_owned(),
                "负责本辖区经济社会发展各项工作".to_owned(),
            ],
            internal_units: vec![
                InternalUnit { name: "中心".to_owned(), count: 3 },
                InternalUnit { name: "执法队".to_owned(), count: 1 },
            ],
            staffing_quota: StaffingQuota {
                administrative: Some(staff_quota_admin),
                institutional: Some(staff_quota_inst),
                ..StaffingQuota::default()
            },
            staff_at_year_end: Some(staff),
            staff_in_post: StaffInPost {
                administrative: Some(staff_in_post_admin),
                institutional: Some(staff - staff_in_post_admin),
                ..StaffInPost::default()
            },
            retired: Some(5 + (seed(code, year, 18) % 30) as i32),
            hired: None,
            official_vehicles: Some(1 + (seed(code, 0, 17) % 2) as i32),
            consolidated_units: ConsolidatedUnits::default(),
        },
        income: Income {
            total: Some(wan(f.total)),
            opening_carry_over: None,
            prior_year: None,
            lines: vec![
                IncomeLine {
                    category: IncomeCategory::GeneralBudgetAppropriation,
                    amount: wan(f.total - f.fund),
                    initial_budget: None,
                    adjusted_budget: None,
                    stated_share: None,
                    note: None,
                },
                IncomeLine {
                    category: IncomeCategory::GovernmentFundAppropriation,
                    amount: wan(f.fund),
                    initial_budget: None,
                    adjusted_budget: None,
                    stated_share: None,
                    note: None,
                },
            ],
        },
        expenditure: Expenditure {
            total: Some(wan(f.total)),
            basic_total: Some(wan(basic_total)),
            project_total: Some(wan(f.project)),
            business_total: None,
            year_end_carry_over: None,
            prior_year: None,
            lines: vec![
                ExpenditureLine {
                    structure: ExpenditureStructure::Basic,
                    economic_class: Some(EconomicClass::WagesWelfare),
                    name: Some("工资福利支出".to_owned()),
                    initial_budget: None,
                    adjusted_budget: None,
                    executed: Some(wan(f.wages)),
                },
                ExpenditureLine {
                    structure: ExpenditureStructure::Basic,
                    economic_class: Some(EconomicClass::GoodsServices),
                    name: Some("商品和服务支出".to_owned()),
                    initial_budget: None,
                    adjusted_budget: None,
                    executed: Some(wan(f.goods)),
                },
                ExpenditureLine {
                    structure: ExpenditureStructure::Basic,
                    economic_class: Some(EconomicClass::HouseholdSubsidies),
                    name: Some("对个人和家庭的补助".to_owned()),
                    initial_budget: None,
                    adjusted_budget: None,
                    executed: Some(wan(f.subsidies)),
                },
                ExpenditureLine {
                    structure: ExpenditureStructure::Project,
                    economic_class: None,
                    name: Some("项目支出".to_owned()),
                    initial_budget: None,
                    adjusted_budget: None,
                    executed: Some(wan(f.project)),
                },
            ],
        },
        budget_execution: BudgetExecution {
            initial_budget: Some(wan((f.total * Decimal::new(95, 2)).round_dp(2))),
            adjusted_budget: Some(wan((f.total * Decimal::ONE_HUNDRED / rate).round_dp(2))),
            executed: Some(wan(f.total)),
            ..BudgetExecution::default()
        },
        annual_target: None,
        three_public_expenses: ThreePublicExpenses {
            total: Some(wan(f.reception + f.vehicle)),
            budget_total: Some(wan(reception_budget + vehicle_budget)),
            overseas_travel: Some(OverseasTravel {
                amount: Some(two(Decimal::ZERO)),
                budget: Some(two(Decimal::ZERO)),
                delegations: Some(0),
                persons: Some(0),
                ..OverseasTravel::default()
            }),
            vehicle_purchase: None,
            vehicle_operation: Some(VehicleCost {
                amount: Some(wan(f.vehicle)),
                budget: Some(wan(vehicle_budget)),
                vehicles: Some(1),
                ..VehicleCost::default()
            }),
            reception: Some(Reception {
                amount: Some(wan(f.reception)),
                budget: Some(wan(reception_budget)),
                batches: Some((f.reception * Decimal::from(30)).round().try_into().unwrap_or(0)),
                persons: Some((f.reception * Decimal::from(380)).round().try_into().unwrap_or(0)),
                ..Reception::default()
            }),
            prior_year: vec![
                PriorYearFigure {
                    item: ThreePublicItem::Reception,
                    fiscal_year: year - 1,
                    amount: Some(wan(prior.reception)),
                    stated_change: Some(wan(f.reception - prior.reception)),
                    stated_change_pct: change_pct(f.reception, prior.reception),
                    reason: None,
                },
                PriorYearFigure {
                    item: ThreePublicItem::VehicleOperation,
                    fiscal_year: year - 1,
                    amount: Some(wan(prior.vehicle)),
                    stated_change: Some(wan(f.vehicle - prior.vehicle)),
                    stated_change_pct: None,
                    reason: None,
                },
            ],
        },
        running_costs: RunningCosts {
            amount: Some(wan(f.goods)),
            prior_year_amount: Some(wan(prior.goods)),
            prior_fiscal_year: Some(year - 1),
            stated_change: Some(wan(f.goods - prior.goods)),
            stated_change_pct: None,
        },
        indicators,
        projects: vec![Project {
            name: "农村环境卫生综合整治".to_owned(),
            budget: Some(wan((f.project * Decimal::new(1, 1)).round_dp(2))),
            executed: Some(wan((f.project * Decimal::new(1, 1) * rate / Decimal::ONE_HUNDRED).round_dp(2))),
            progress: Some(Decimal::new(10_000, 4)),
            note: None,
        }],
        narrative: Narrative {
            sections: vec![NarrativeSection {
                category: NarrativeCategory::Other,
                title: Some("工作成效".to_owned()),
                text: format!("{}{}年度各项工作有序推进。", township.name, year),
            }],
            introduction: None,
            evaluation_purpose: Some(
                "了解本部门年度财政资金预算支出的绩效状况，为今后预算安排提供决策支持。".to_owned(),
            ),
            evaluation_process: None,
        },
        conclusion: Conclusion {
            text: Some(format!("{year}年预算执行情况良好，支出管理规范。")),
            total_score: Some(two(total_score)),
            grade: Some(grade),
            problems: vec!["资金使用计划和进度有待进一步加强。".to_owned()],
            suggestions: vec!["加快项目专项资金审批。".to_owned()],
            budget_disclosed: Some(true),
            final_accounts_disclosed: Some(true),
        },
    }
}

/// 增减率 of two 万元 figures as a fraction with four decimals, as documents print it.
fn change_pct(current: Decimal, prior: Decimal) -> Option<Decimal> {
    let change = (wan(current) - wan(prior)).checked_div(wan(prior))?;
    Some(super::scoring::rounded(change, 4))
}

/// The shapes of the project self-evaluations a township files, after the published 棠溪镇 tables
/// (FORMS.md): name, 预期目标, budget in 万元 at size 1, and the indicator rows.
struct ProjectShape {
    name: &'static str,
    expected: &'static str,
    budget: i64,
    rows: &'static [ProjectRow],
}

/// (level 1, level 2, name, unit, direction and target, or a qualitative target text, weight)
type ProjectRow =
    (IndicatorLevel1, IndicatorLevel2, &'static str, &'static str, Option<(Direction, i64)>, &'static str, i64);

const PROJECT_SHAPES: [ProjectShape; 3] = [
    ProjectShape {
        name: "委托业务项目",
        expected: "申请预算资金用于基建工程项目预算编制、审计和设计规划测绘",
        budget: 90,
        rows: &[
            (
                IndicatorLevel1::Output,
                IndicatorLevel2::Quantity,
                "基建工程委托业务项目数量",
                "个",
                Some((Direction::AtLeast, 50)),
                "",
                8,
            ),
            (
                IndicatorLevel1::Output,
                IndicatorLevel2::Quality,
                "委托业务报告合格率",
                "%",
                Some((Direction::AtLeast, 100)),
                "",
                8,
            ),
            (IndicatorLevel1::Output, IndicatorLevel2::Quality, "经费支出合规性", "", None, "严格执行相关制度规定", 8),
            (
                IndicatorLevel1::Output,
                IndicatorLevel2::Timeliness,
                "提交报告及时性",
                "",
                None,
                "在项目计划完成时间内完成",
                8,
            ),
            (
                IndicatorLevel1::Output,
                IndicatorLevel2::Cost,
                "项目总成本",
                "万元",
                Some((Direction::AtMost, 90)),
                "",
                8,
            ),
            (IndicatorLevel1::Output, IndicatorLevel2::Cost, "单项业务成本", "", None, "符合相关规定", 10),
            (IndicatorLevel1::Effect, IndicatorLevel2::SocialBenefit, "社会效益", "", None, "效果明显", 10),
            (IndicatorLevel1::Effect, IndicatorLevel2::EcologicalBenefit, "生态效益", "", None, "效果明显", 10),
            (IndicatorLevel1::Effect, IndicatorLevel2::SustainableImpact, "可持续影响", "", None, "效果明显", 10),
            (
                IndicatorLevel1::Satisfaction,
                IndicatorLevel2::ServiceSatisfaction,
                "服务对象满意度",
                "%",
                Some((Direction::AtLeast, 90)),
                "",
                10,
            ),
        ],
    },
    ProjectShape {
        name: "村级补助及运转经费",
        expected: "保障村级组织正常运转和村干部基本报酬",
        budget: 200,
        rows: &[
            (
                IndicatorLevel1::Output,
                IndicatorLevel2::Quantity,
                "补助村(社区)数量",
                "个",
                Some((Direction::Exactly, 8)),
                "",
                8,
            ),
            (
                IndicatorLevel1::Output,
                IndicatorLevel2::Quantity,
                "保障村干部人数",
                "个",
                Some((Direction::Exactly, 42)),
                "",
                8,
            ),
            (IndicatorLevel1::Output, IndicatorLevel2::Quality, "补助资格合规性", "", None, "合规", 8),
            (
                IndicatorLevel1::Output,
                IndicatorLevel2::Quality,
                "补助标准执行准确率",
                "%",
                Some((Direction::AtLeast, 100)),
                "",
                8,
            ),
            (IndicatorLevel1::Output, IndicatorLevel2::Timeliness, "资金拨付及时性", "", None, "及时", 8),
            (
                IndicatorLevel1::Output,
                IndicatorLevel2::Cost,
                "项目总成本",
                "万元",
                Some((Direction::AtMost, 200)),
                "",
                10,
            ),
            (IndicatorLevel1::Effect, IndicatorLevel2::SocialBenefit, "村级组织运转保障", "", None, "效果明显", 15),
            (IndicatorLevel1::Effect, IndicatorLevel2::SustainableImpact, "村干部队伍稳定性", "", None, "效果明显", 15),
            (
                IndicatorLevel1::Satisfaction,
                IndicatorLevel2::ServiceSatisfaction,
                "村干部满意度",
                "%",
                Some((Direction::AtLeast, 90)),
                "",
                10,
            ),
        ],
    },
    ProjectShape {
        name: "农村人居环境整治",
        expected: "完成农村生活垃圾收运和村庄保洁，改善农村人居环境",
        budget: 60,
        rows: &[
            (
                IndicatorLevel1::Output,
                IndicatorLevel2::Quantity,
                "聘请保洁员人数",
                "人",
                Some((Direction::AtLeast, 100)),
                "",
                15,
            ),
            (
                IndicatorLevel1::Output,
                IndicatorLevel2::Quantity,
                "生活垃圾日处理量",
                "吨/日",
                Some((Direction::AtLeast, 40)),
                "",
                15,
            ),
            (IndicatorLevel1::Output, IndicatorLevel2::Timeliness, "垃圾清运及时性", "", None, "及时", 10),
            (
                IndicatorLevel1::Output,
                IndicatorLevel2::Cost,
                "项目总成本",
                "万元",
                Some((Direction::AtMost, 60)),
                "",
                10,
            ),
            (
                IndicatorLevel1::Effect,
                IndicatorLevel2::EcologicalBenefit,
                "生活垃圾无害化处理率",
                "%",
                Some((Direction::AtLeast, 100)),
                "",
                15,
            ),
            (IndicatorLevel1::Effect, IndicatorLevel2::SocialBenefit, "村容村貌改善", "", None, "有效改善", 15),
            (
                IndicatorLevel1::Satisfaction,
                IndicatorLevel2::ServiceSatisfaction,
                "群众满意度",
                "%",
                Some((Direction::AtLeast, 90)),
                "",
                10,
            ),
        ],
    },
];

/// One in this many project records states its 年度资金总额 row as 0/0/0 while its source row
/// carries the money, as published tables do (a `funds_total` finding).
const EMPTY_TOTAL_ROW_ONE_IN: u64 = 53;

/// How many project self-evaluations a township files for a year: two or three.
pub fn project_count(code: &str, year: i32) -> usize {
    2 + (seed(code, year, 40) % 2) as usize
}

/// The project self-evaluations a township files for a year: two or three, of the shapes above.
pub fn project_records(township: &Township, year: i32) -> Vec<EvaluationInput> {
    let code = township.code.as_str();
    let count = project_count(code, year);
    let unit = format!("{}{}人民政府", township.county_name, township.name);
    let size = figures(code, year).total / Decimal::new(180_948, 2);
    PROJECT_SHAPES
        .iter()
        .take(count)
        .enumerate()
        .map(|(p, shape)| project_record(township, year, &unit, size, p as u64, shape))
        .collect()
}

fn project_record(
    township: &Township,
    year: i32,
    unit: &str,
    size: Decimal,
    p: u64,
    shape: &ProjectShape,
) -> EvaluationInput {
    let code = township.code.as_str();
    let salt = |n: u64| 100 + p * 20 + n;
    let budget = (Decimal::from(shape.budget) * size).round_dp(2);
    let rate = between(seed(code, year, salt(1)), 70, 100) / Decimal::ONE_HUNDRED;
    let executed = (budget * rate).round_dp(2);
    let weight = Decimal::new(1000, 2);
    let exact_rate = wan(executed) / wan(budget);
    let funds_score = super::scoring::rounded(exact_rate.min(Decimal::ONE) * weight, 2);
    let empty_total = seed(code, year, salt(2)).is_multiple_of(EMPTY_TOTAL_ROW_ONE_IN);
    let zero = || Some(wan(Decimal::ZERO));
    let indicators: Vec<Indicator> = shape
        .rows
        .iter()
        .enumerate()
        .map(|(i, &(level_1, level_2, name, unit_of_measure, target, target_text, weight))| {
            let weight = Decimal::new(weight * 100, 2);
            let level_1_points = Some(Decimal::new(
                match level_1 {
                    IndicatorLevel1::Output => 5000,
                    IndicatorLevel1::Effect => 3000,
                    _ => 1000,
                },
                2,
            ));
            let base = Indicator {
                level_1,
                level_1_points,
                level_2,
                name: name.to_owned(),
                code: None,
                matched_code: None,
                unit_of_measure: (!unit_of_measure.is_empty()).then(|| unit_of_measure.to_owned()),
                direction: None,
                target: None,
                target_text: None,
                actual: None,
                actual_text: None,
                weight: Some(weight),
                score: None,
                achievement: None,
                applicable: true,
                deviation_reason: None,
            };
            match target {
                Some((direction, target)) => {
                    let target = Decimal::from(target);
                    let reached = between(seed(code, year, salt(3) + i as u64), 92, 101).min(Decimal::ONE_HUNDRED);
                    let actual = match direction {
                        Direction::Exactly => target,
                        Direction::AtMost if unit_of_measure == "万元" => executed.min(target * size).round_dp(2),
                        Direction::AtMost => target,
                        Direction::AtLeast => (target * reached / Decimal::ONE_HUNDRED).round_dp(0),
                    };
                    let target = if direction == Direction::AtMost && unit_of_measure == "万元" {
                        (target * size).round_dp(2)
                    } else {
                        target
                    };
                    let row = Indicator {
                        direction: Some(direction),
                        target: Some(target.normalize()),
                        actual: Some(actual.normalize()),
                        ..base
                    };
                    Indicator { score: super::scoring::indicator_score(&row), ..row }
                }
                None => Indicator {
                    target_text: Some(target_text.to_owned()),
                    actual_text: Some("达成预期指标".to_owned()),
                    achievement: Some(Achievement::Achieved),
                    score: Some(weight),
                    ..base
                },
            }
        })
        .collect();
    let total_score = funds_score + indicators.iter().filter_map(|i| i.score).sum::<Decimal>();
    let grade = super::scoring::grade_for(total_score, &super::scoring::ScoringRuleSet::default().grade_bands);
    let department = UnitReference { code: Some("219".to_owned()), name: unit.to_owned() };
    let implementing = UnitReference { code: Some("219001".to_owned()), name: unit.to_owned() };
    EvaluationInput {
        region_code: township.code.clone(),
        fiscal_year: year,
        kind: EvaluationKind::Project,
        unit: unit.to_owned(),
        project: Some(ProjectIdentity {
            name: shape.name.to_owned(),
            code: Some(format!("{code}-{year}-{:02}", p + 1)),
            competent_department: Some(department),
            implementing_unit: Some(implementing),
        }),
        budget_unit_code: None,
        method: Some(EvaluationMethod::SelfEvaluation),
        basis_documents: Vec::new(),
        issuer: Some(unit.to_owned()),
        report_date: chrono::NaiveDate::from_ymd_opt(year + 1, 3, 1 + (seed(code, year, salt(4)) % 28) as u32),
        reported_in: ReportedIn::TenThousandYuan,
        profile: UnitProfile::default(),
        income: Income::default(),
        expenditure: Expenditure::default(),
        budget_execution: BudgetExecution {
            initial_budget: if empty_total { zero() } else { Some(wan(budget)) },
            adjusted_budget: if empty_total { zero() } else { Some(wan(budget)) },
            executed: if empty_total { zero() } else { Some(wan(executed)) },
            weight: Some(weight),
            stated_rate: Some(super::scoring::rounded(exact_rate, 4)),
            score: Some(funds_score),
            sources: FundSources {
                current_appropriation: Some(FundFigures {
                    initial_budget: Some(wan(budget)),
                    adjusted_budget: Some(wan(budget)),
                    executed: Some(wan(executed)),
                }),
                ..FundSources::default()
            },
        },
        annual_target: Some(AnnualTarget {
            expected: Some(format!("{}；年度预算{}万元", shape.expected, budget)),
            achieved: Some(format!("完成年度目标，执行资金{}万元", executed)),
            weight: None,
        }),
        three_public_expenses: ThreePublicExpenses::default(),
        running_costs: RunningCosts::default(),
        indicators,
        projects: Vec::new(),
        narrative: Narrative::default(),
        conclusion: Conclusion {
            total_score: Some(super::scoring::rounded(total_score, 2)),
            grade: Some(grade),
            ..Conclusion::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        rules::{check, CheckContext, Severity},
        scoring::ScoringRuleSet,
        validation::validate,
    };

    fn township(code: &str) -> Township {
        Township { code: code.to_owned(), name: "荫田镇".to_owned(), county_name: "常宁市".to_owned() }
    }

    #[test]
    fn records_are_deterministic_valid_and_cross_foot() {
        let rules = ScoringRuleSet::default();
        let mut checked = 0;
        for code in ["430482104", "430102001", "430124203", "431103100"] {
            for year in 2018..=2024 {
                let record = record(&township(code), year);
                assert_eq!(record, super::record(&township(code), year), "deterministic");
                let valid = validate(record.clone()).unwrap_or_else(|e| panic!("{code} {year}: {e:?}"));
                assert_eq!(valid.record, record, "already canonical");
                let prior = super::record(&township(code), year - 1);
                let findings = check(&record, &CheckContext { prior_year: Some(&prior), rules: &rules });
                let broken = seed(code, year, 13).is_multiple_of(BROKEN_ONE_IN);
                let errors: Vec<_> = findings.iter().filter(|f| f.severity != Severity::Note).collect();
                if broken {
                    assert!(errors.iter().any(|f| f.rule == "basic_expenditure_total"), "{errors:?}");
                } else {
                    assert!(errors.is_empty(), "{code} {year}: {errors:?}");
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 28);
    }

    #[test]
    fn project_records_are_complete_tables_that_score_as_stated() {
        let rules = ScoringRuleSet::default();
        let (mut checked, mut empty_totals) = (0, 0);
        for i in 0..300 {
            let code = format!("4304{:05}", i);
            for year in [2021, 2022] {
                let records = project_records(&township(&code), year);
                assert!((2..=3).contains(&records.len()));
                let names: std::collections::HashSet<_> =
                    records.iter().map(|r| r.project.as_ref().unwrap().name.clone()).collect();
                assert_eq!(names.len(), records.len(), "one record per project");
                for record in records {
                    let valid = validate(record.clone()).unwrap_or_else(|e| panic!("{code} {year}: {e:?}"));
                    assert_eq!(valid.record, record, "already canonical");
                    let assessment = crate::domain::scoring::assess(&record, &rules);
                    assert_eq!(assessment.weight_total.unwrap().to_string(), "100.00");
                    assert_eq!(assessment.total_score, record.conclusion.total_score, "{code} {year}");
                    let findings = check(&record, &CheckContext { prior_year: None, rules: &rules });
                    let serious: Vec<_> = findings.iter().filter(|f| f.severity != Severity::Note).collect();
                    if crate::domain::scoring::total_row_is_empty_while_sources_carry_money(&record) {
                        empty_totals += 1;
                        assert!(serious.iter().all(|f| f.rule == "funds_total"), "{serious:?}");
                        assert_eq!(serious.len(), 3, "initial, adjusted and executed");
                    } else {
                        assert!(serious.is_empty(), "{code} {year}: {serious:?}");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 1200, "{checked}");
        assert!((3..40).contains(&empty_totals), "{empty_totals}");
    }

    #[test]
    fn a_few_townships_miss_a_year_and_a_few_records_are_broken() {
        let codes: Vec<String> = (0..2000).map(|i| format!("4304{:05}", i)).collect();
        let missing = codes.iter().filter(|c| !files(c, 2022)).count();
        assert!((10..60).contains(&missing), "{missing}");
        let broken = codes.iter().filter(|c| seed(c, 2022, 13).is_multiple_of(BROKEN_ONE_IN)).count();
        assert!((5..50).contains(&broken), "{broken}");
    }
}
