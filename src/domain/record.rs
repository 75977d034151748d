//! The evaluation record (预算绩效评价记录) as clients send and receive it.
//!
//! One struct tree serves input and output: serde reads it strictly (unknown fields are
//! rejected) and `validate` checks what types cannot (ranges, scales, known regions).
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An amount of money in 元, exact, at most two fraction digits. A JSON string such as
/// `"18094800.00"`; a JSON number is read exactly from its text.
pub type Amount = Decimal;

/// Kind of evaluation (评价类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationKind {
    /// 部门整体支出绩效自评 (department-overall self-evaluation)
    DepartmentOverall,
    /// 项目支出绩效自评 (project self-evaluation)
    Project,
    /// 部门评价 (department evaluation)
    DepartmentEvaluation,
    /// 财政评价 (finance-bureau evaluation)
    FinanceEvaluation,
}

impl EvaluationKind {
    /// The Chinese name, as a finance officer reads it in a table (`labels=zh` exports).
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::DepartmentOverall => "部门整体支出绩效自评",
            Self::Project => "项目支出绩效自评",
            Self::DepartmentEvaluation => "部门评价",
            Self::FinanceEvaluation => "财政评价",
        }
    }
}

/// Evaluation method (评价方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationMethod {
    /// 单位自评
    SelfEvaluation,
    /// 部门评价
    DepartmentEvaluation,
    /// 财政评价
    FinanceEvaluation,
    /// 第三方评价
    ThirdParty,
}

/// The unit the source report states its amounts in; amounts here are always 元, and this
/// tells how much rounding the report's own sums may carry (0.01元 or 0.01万元).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportedIn {
    /// 元
    Yuan,
    /// 万元 (10,000 元), two decimals
    #[default]
    TenThousandYuan,
}

/// Income category (收入类别), as in the 部门决算 income table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncomeCategory {
    /// 一般公共预算财政拨款收入
    GeneralBudgetAppropriation,
    /// 政府性基金预算财政拨款收入
    GovernmentFundAppropriation,
    /// 国有资本经营预算财政拨款收入
    StateCapitalAppropriation,
    /// 上级补助收入
    HigherLevelSubsidy,
    /// 事业收入
    Institutional,
    /// 经营收入
    Business,
    /// 附属单位上缴收入
    AffiliatedRemittance,
    /// 其他收入
    Other,
}

/// Expenditure structure (支出结构).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExpenditureStructure {
    /// 基本支出
    Basic,
    /// 项目支出
    Project,
    /// 经营支出
    Business,
}

/// Economic classification of an expenditure line (支出经济分类), or for basic
/// expenditure the split into personnel and public funds (人员经费/公用经费).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EconomicClass {
    /// 工资福利支出
    WagesWelfare,
    /// 商品和服务支出
    GoodsServices,
    /// 对个人和家庭的补助
    HouseholdSubsidies,
    /// 资本性支出
    Capital,
    /// 其他支出
    Other,
    /// 人员经费
    Personnel,
    /// 公用经费
    PublicFunds,
}

/// Item of the three public expenses (三公经费) a prior-year figure refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThreePublicItem {
    /// 三公经费合计
    Total,
    /// 因公出国(境)费
    OverseasTravel,
    /// 公务用车购置费
    VehiclePurchase,
    /// 公务用车运行维护费
    VehicleOperation,
    /// 公务接待费
    Reception,
}

/// First-level indicator (一级指标).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorLevel1 {
    /// 产出指标
    Output,
    /// 效益指标
    Effect,
    /// 满意度指标
    Satisfaction,
    /// 决策指标 (full evaluations)
    Decision,
    /// 过程指标 (full evaluations)
    Process,
}

/// Second-level indicator (二级指标).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorLevel2 {
    /// 数量指标
    Quantity,
    /// 质量指标
    Quality,
    /// 时效指标
    Timeliness,
    /// 成本指标
    Cost,
    /// 经济效益指标
    EconomicBenefit,
    /// 社会效益指标
    SocialBenefit,
    /// 生态效益指标
    EcologicalBenefit,
    /// 可持续影响指标
    SustainableImpact,
    /// 服务对象满意度指标
    ServiceSatisfaction,
    /// 项目立项
    ProjectInitiation,
    /// 绩效目标
    PerformanceTargets,
    /// 资金投入
    FundingInput,
    /// 资金管理
    FundManagement,
    /// 组织实施
    Organisation,
    /// 预算执行
    BudgetExecution,
}

/// How far a qualitative indicator was achieved (达成情况), scored as a band of its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Achievement {
    /// 达成 (national default: 80–100 % of the weight)
    Achieved,
    /// 部分达成 (50–80 %)
    PartlyAchieved,
    /// 未达成 (0–50 %)
    NotAchieved,
}

/// Direction of an indicator's target (指标方向): `>=` positive, `<=` reverse, `=` exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Direction {
    /// ≥ (正向指标)
    #[serde(rename = ">=")]
    AtLeast,
    /// ≤ (反向指标)
    #[serde(rename = "<=")]
    AtMost,
    /// = (定值指标)
    #[serde(rename = "=")]
    Exactly,
}

/// Narrative section of work achievements (工作成效).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NarrativeCategory {
    /// 党的建设
    PartyBuilding,
    /// 项目建设
    ProjectConstruction,
    /// 农业农村
    AgricultureRural,
    /// 社会事务
    SocialAffairs,
    /// 综合治理
    ComprehensiveGovernance,
    /// 预算与经费管理 (budget and running-cost control)
    BudgetManagement,
    /// 其他
    Other,
}

/// Grade (评价等级): 优 90–100, 良 80–<90, 中 60–<80, 差 <60.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 优
    Excellent,
    /// 良
    Good,
    /// 中
    Fair,
    /// 差
    Poor,
}

impl Grade {
    /// The Chinese name (`labels=zh` exports).
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Excellent => "优",
            Self::Good => "良",
            Self::Fair => "中",
            Self::Poor => "差",
        }
    }
}

/// Review status (审核状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 草稿
    Draft,
    /// 已提交
    Submitted,
    /// 已退回
    Returned,
    /// 已审核
    Approved,
    /// 已公开
    Published,
}

/// The record as a client sends it: identity, then one member per group of DOMAIN.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationInput {
    /// 区划代码: the township's 9-digit code (the 12-digit finance form is accepted and normalised).
    #[schema(example = "430482104")]
    pub region_code: String,
    /// 年度: the fiscal year evaluated, 1990–2100.
    #[schema(example = 2022, minimum = 1990, maximum = 2100)]
    pub fiscal_year: i32,
    /// 评价类型
    pub kind: EvaluationKind,
    /// 单位名称 (budget unit name)
    #[schema(example = "常宁市荫田镇人民政府")]
    pub unit: String,
    /// 项目 (the project a `project` record evaluates; required for that kind, part of the record's
    /// identity, so that one unit files one record per project and year)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectIdentity>,
    /// 预算单位编码 (optional budget unit code)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_unit_code: Option<String>,
    /// 评价方式
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<EvaluationMethod>,
    /// 评价依据 (basis documents, e.g. 湘财绩【2013】29号)
    #[serde(default)]
    pub basis_documents: Vec<String>,
    /// 报告单位 (issuer)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// 报告日期
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_date: Option<NaiveDate>,
    /// 报告金额单位: the unit the source report states amounts in (amounts here are always 元).
    #[serde(default)]
    pub reported_in: ReportedIn,
    /// 单位概况 (unit profile)
    #[serde(default)]
    pub profile: UnitProfile,
    /// 收入 (income)
    #[serde(default)]
    pub income: Income,
    /// 支出 (expenditure)
    #[serde(default)]
    pub expenditure: Expenditure,
    /// 预算执行 (budget execution of the whole record: the funds block of the self-evaluation table)
    #[serde(default)]
    pub budget_execution: BudgetExecution,
    /// 年度总体目标 (annual target: expected and achieved, as the table states them)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annual_target: Option<AnnualTarget>,
    /// 三公经费 (three public expenses)
    #[serde(default)]
    pub three_public_expenses: ThreePublicExpenses,
    /// 机关运行经费 (running costs)
    #[serde(default)]
    pub running_costs: RunningCosts,
    /// 绩效指标 (performance indicators, three-level tree flattened to rows)
    #[serde(default)]
    pub indicators: Vec<Indicator>,
    /// 项目 (projects); in a `project` record, the project's items (明细), which add up to its funds
    #[serde(default)]
    pub projects: Vec<Project>,
    /// 工作成效与评价过程 (narrative)
    #[serde(default)]
    pub narrative: Narrative,
    /// 评价结论 (conclusion, problems, suggestions)
    #[serde(default)]
    pub conclusion: Conclusion,
}

/// 项目信息: the project a project self-evaluation (项目支出绩效自评表) is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectIdentity {
    /// 项目名称 (part of the record's identity)
    #[schema(example = "委托业务项目")]
    pub name: String,
    /// 项目编码
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// 主管部门 (competent department; forms print it as `219-池州市贵池区棠溪镇人民政府`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub competent_department: Option<UnitReference>,
    /// 实施单位 (implementing unit, same form)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementing_unit: Option<UnitReference>,
}

/// A budget unit as a form names it: its code, when printed, and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitReference {
    /// 单位编码 (e.g. `219001`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "219")]
    pub code: Option<String>,
    /// 单位名称
    #[schema(example = "池州市贵池区棠溪镇人民政府")]
    pub name: String,
}

/// 年度总体目标: the annual target block of a self-evaluation table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnualTarget {
    /// 预期目标 (expected)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// 实际完成情况 (achieved)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achieved: Option<String>,
    /// 分值 printed beside the target (`年度目标1：(80分)`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "80")]
    pub weight: Option<Decimal>,
}

/// 单位概况 (unit profile).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitProfile {
    /// 部门职责 (duties), in the report's order
    #[serde(default)]
    pub duties: Vec<String>,
    /// 内设机构 (internal units), e.g. 3 × 中心
    #[serde(default)]
    pub internal_units: Vec<InternalUnit>,
    /// 编制数 (staffing quota)
    #[serde(default)]
    pub staffing_quota: StaffingQuota,
    /// 年末在职人员 (staff in post at year end, the stated total)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_at_year_end: Option<i32>,
    /// 在职人员 by staffing category
    #[serde(default, skip_serializing_if = "StaffInPost::is_empty")]
    pub staff_in_post: StaffInPost,
    /// 离退休人员 (retired)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<i32>,
    /// 外聘、临时人员 (hired or temporary staff)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hired: Option<i32>,
    /// 公务用车 (official vehicles held)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official_vehicles: Option<i32>,
    /// 纳入部门决算编制范围的单位 (budget units consolidated in the accounts)
    #[serde(default, skip_serializing_if = "ConsolidatedUnits::is_empty")]
    pub consolidated_units: ConsolidatedUnits,
}

/// 内设机构: a kind of internal unit and how many there are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InternalUnit {
    /// 机构名称或类别 (e.g. 中心, 执法队)
    pub name: String,
    /// 个数
    pub count: i32,
}

/// 编制数 (staffing quota): the stated total and its categories.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffingQuota {
    /// 编制总数 as stated
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i32>,
    /// 行政编制
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub administrative: Option<i32>,
    /// 参公编制 (civil-service-managed institutions)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civil_service_managed: Option<i32>,
    /// 事业编制
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institutional: Option<i32>,
    /// 机关工勤编制 (government service workers)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub government_workers: Option<i32>,
}

/// 在职人员 by staffing category; their stated total is `staff_at_year_end`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffInPost {
    /// 行政
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub administrative: Option<i32>,
    /// 参公
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civil_service_managed: Option<i32>,
    /// 事业
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institutional: Option<i32>,
    /// 机关工勤
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub government_workers: Option<i32>,
}

impl StaffInPost {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Type of a budget unit (单位性质).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitType {
    /// 行政单位
    Administrative,
    /// 参照公务员法管理事业单位 (参公)
    CivilServiceManaged,
    /// 事业单位
    Institutional,
    /// 其他
    Other,
}

/// The budget units a township's accounts consolidate (田心乡 2022: 10 units, 3 行政 and 7 事业).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsolidatedUnits {
    /// 单位个数 as stated
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_count: Option<i32>,
    /// 单位个数 by type as stated
    #[serde(default, skip_serializing_if = "UnitTypeCounts::is_empty")]
    pub stated_by_type: UnitTypeCounts,
    /// 单位名单
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<ConsolidatedUnit>,
}

impl ConsolidatedUnits {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Counts of units by type, as a document states them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitTypeCounts {
    /// 行政单位
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub administrative: Option<i32>,
    /// 参公单位
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civil_service_managed: Option<i32>,
    /// 事业单位
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institutional: Option<i32>,
    /// 其他
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<i32>,
}

impl UnitTypeCounts {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One consolidated budget unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsolidatedUnit {
    /// 单位名称
    pub name: String,
    /// 单位性质
    pub unit_type: UnitType,
    /// 单位编码
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// 上年数 of a total and the change a document states against it (较上年增加/减少…，增长/下降…%).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorYearTotal {
    /// 所述年度
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_year: Option<i32>,
    /// 上年数 (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "8014212.00")]
    pub amount: Option<Amount>,
    /// 增减额 as stated (元, negative for a decrease)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "91351.00")]
    pub stated_change: Option<Amount>,
    /// 增减率 as stated (a fraction, negative for a decrease: 下降9.76% is "-0.0976")
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "0.0113")]
    pub stated_change_pct: Option<Decimal>,
}

/// 收入 (income).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Income {
    /// 收入总计 as stated (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "18094800.00")]
    pub total: Option<Amount>,
    /// 年初结转和结余 (opening carry-over, 元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub opening_carry_over: Option<Amount>,
    /// 收入明细 (lines by category)
    #[serde(default)]
    pub lines: Vec<IncomeLine>,
    /// 上年收入 and the stated change
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_year: Option<PriorYearTotal>,
}

/// 收入明细行.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomeLine {
    /// 收入类别
    pub category: IncomeCategory,
    /// 金额 (元)
    #[schema(value_type = String, example = "17994800.00")]
    pub amount: Amount,
    /// 年初预算数 (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub initial_budget: Option<Amount>,
    /// 全年预算数 (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub adjusted_budget: Option<Amount>,
    /// 占收入总计比重 as stated (a fraction: 占100.00% is "1.0000")
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "0.9945")]
    pub stated_share: Option<Decimal>,
    /// 说明
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// 支出 (expenditure).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Expenditure {
    /// 支出总计 as stated (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "18094800.00")]
    pub total: Option<Amount>,
    /// 基本支出 as stated (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "9080400.00")]
    pub basic_total: Option<Amount>,
    /// 项目支出 as stated (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "9014400.00")]
    pub project_total: Option<Amount>,
    /// 经营支出 as stated (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub business_total: Option<Amount>,
    /// 年末结转和结余 (year-end carry-over, 元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub year_end_carry_over: Option<Amount>,
    /// 支出明细 (lines by structure and economic class)
    #[serde(default)]
    pub lines: Vec<ExpenditureLine>,
    /// 上年支出 and the stated change
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_year: Option<PriorYearTotal>,
}

/// 支出明细行 with its budget execution (年初预算数, 全年预算数, 全年执行数).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpenditureLine {
    /// 支出结构
    pub structure: ExpenditureStructure,
    /// 经济分类
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub economic_class: Option<EconomicClass>,
    /// 名称
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 年初预算数 (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub initial_budget: Option<Amount>,
    /// 全年预算数 (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub adjusted_budget: Option<Amount>,
    /// 全年执行数 (元); absent in a budget statement, which states only budgets
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "8095400.00")]
    pub executed: Option<Amount>,
}

/// 预算执行 of the whole record, the funds block (项目资金 / 预算执行情况) of the self-evaluation
/// tables: the 年度资金总额 row as stated (年初预算数, 全年预算数, 全年执行数, 元), the block's 分值,
/// stated 执行率 and 得分, and its rows by source (其中).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetExecution {
    /// 年初预算数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub initial_budget: Option<Amount>,
    /// 全年预算数 (adjusted budget)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub adjusted_budget: Option<Amount>,
    /// 全年执行数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub executed: Option<Amount>,
    /// 分值 of the funds block (usually 10; 20 in some provinces' department tables)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "10")]
    pub weight: Option<Decimal>,
    /// 执行率 as stated (a fraction: 100% is "1.0000")
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "1.0000")]
    pub stated_rate: Option<Decimal>,
    /// 得分 as stated
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "10")]
    pub score: Option<Decimal>,
    /// 其中: the funds by source
    #[serde(default, skip_serializing_if = "FundSources::is_empty")]
    pub sources: FundSources,
}

/// 资金来源: the 其中 rows of the funds block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundSources {
    /// 当年财政拨款 (this year's appropriation)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_appropriation: Option<FundFigures>,
    /// 上年结转资金 (carried over from the year before)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_over: Option<FundFigures>,
    /// 其他资金 (other funds)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<FundFigures>,
}

impl FundSources {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The rows stated, with their member names.
    pub fn rows(&self) -> impl Iterator<Item = (&'static str, &FundFigures)> {
        [
            ("current_appropriation", &self.current_appropriation),
            ("carried_over", &self.carried_over),
            ("other", &self.other),
        ]
        .into_iter()
        .filter_map(|(name, row)| Some((name, row.as_ref()?)))
    }
}

/// One row of the funds block: 年初预算数, 全年预算数, 全年执行数 (元).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundFigures {
    /// 年初预算数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "900000.00")]
    pub initial_budget: Option<Amount>,
    /// 全年预算数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "899740.00")]
    pub adjusted_budget: Option<Amount>,
    /// 全年执行数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "899740.00")]
    pub executed: Option<Amount>,
}

/// 三公经费 (three public expenses): actual (决算数) against budget (预算数) for the total and each
/// item, with the prior-year figures the report states.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreePublicExpenses {
    /// 三公经费合计 as stated (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "107000.00")]
    pub total: Option<Amount>,
    /// 三公经费预算数 (budget of the total, 元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "124000.00")]
    pub budget_total: Option<Amount>,
    /// 因公出国(境)费
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overseas_travel: Option<OverseasTravel>,
    /// 公务用车购置费 (vehicles: 购置数, bought)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_purchase: Option<VehicleCost>,
    /// 公务用车运行维护费 (vehicles: 保有量, held)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_operation: Option<VehicleCost>,
    /// 公务接待费
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reception: Option<Reception>,
    /// 上年数: prior-year figures as this report states them, each with the year it names
    #[serde(default)]
    pub prior_year: Vec<PriorYearFigure>,
}

/// 因公出国(境)费 with 团组数 and 人次.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverseasTravel {
    /// 决算数 (actual, 元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "0.00")]
    pub amount: Option<Amount>,
    /// 预算数 (budget, 元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub budget: Option<Amount>,
    /// 占三公经费比重 as stated (a fraction)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub stated_share: Option<Decimal>,
    /// 团组数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegations: Option<i32>,
    /// 人次
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persons: Option<i32>,
}

/// 公务用车购置或运行维护费 with the number of vehicles (购置数 / 保有量).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleCost {
    /// 决算数 (actual, 元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "12000.00")]
    pub amount: Option<Amount>,
    /// 预算数 (budget, 元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub budget: Option<Amount>,
    /// 占三公经费比重 as stated (a fraction)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub stated_share: Option<Decimal>,
    /// 车辆数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicles: Option<i32>,
}

/// 公务接待费 with 批次 and 人次.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reception {
    /// 决算数 (actual, 元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "95000.00")]
    pub amount: Option<Amount>,
    /// 预算数 (budget, 元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub budget: Option<Amount>,
    /// 占三公经费比重 as stated (a fraction)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub stated_share: Option<Decimal>,
    /// 接待批次
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batches: Option<i32>,
    /// 接待人次
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persons: Option<i32>,
}

/// 上年数: a prior-year figure as stated, with the year the report names, and the change the
/// report states against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorYearFigure {
    /// 项目
    pub item: ThreePublicItem,
    /// 所述年度
    pub fiscal_year: i32,
    /// 金额 (元); a report may state only the change
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "24000.00")]
    pub amount: Option<Amount>,
    /// 本年较该年增减额 as stated (元, negative for a decrease)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "-12000.00")]
    pub stated_change: Option<Amount>,
    /// 增减率 as stated (a fraction, negative for a decrease)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "-0.5000")]
    pub stated_change_pct: Option<Decimal>,
    /// 增减原因
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// 机关运行经费 (running costs) with the prior-year amount and change the report states.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunningCosts {
    /// 本年金额 (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "795200.00")]
    pub amount: Option<Amount>,
    /// 上年金额 as stated (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "923900.00")]
    pub prior_year_amount: Option<Amount>,
    /// 上年金额所述年度
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prior_fiscal_year: Option<i32>,
    /// 增减额 as stated (元, negative for a decrease)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "-128700.00")]
    pub stated_change: Option<Amount>,
    /// 增减率 as stated (a fraction, negative for a decrease)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "-0.1393")]
    pub stated_change_pct: Option<Decimal>,
}

/// 绩效指标: one row of the three-level indicator tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// 一级指标
    pub level_1: IndicatorLevel1,
    /// 一级指标分值, where the form prints it in the label (产出指标(50分))
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "50")]
    pub level_1_points: Option<Decimal>,
    /// 二级指标
    pub level_2: IndicatorLevel2,
    /// 三级指标名称
    pub name: String,
    /// 指标库编码: the code of a definition in the indicator library
    /// (`/api/v1/indicator-definitions`); an unknown code is refused (422)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$", example = "HN-02")]
    pub code: Option<String>,
    /// The library code this row was matched to by its name, when it gives no `code` itself.
    /// Set by the service on every write (a value sent is ignored); aggregates by code count it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(read_only, example = "HN-02")]
    pub matched_code: Option<String>,
    /// 计量单位 (e.g. 栋, 人, %, 吨/日)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_of_measure: Option<String>,
    /// 指标方向
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// 目标值 (quantitative, exact decimal, at most 6 fraction digits)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "12939")]
    pub target: Option<Decimal>,
    /// 目标值 (qualitative text)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_text: Option<String>,
    /// 实际完成值 (quantitative)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "12939")]
    pub actual: Option<Decimal>,
    /// 实际完成值 (qualitative text)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_text: Option<String>,
    /// 分值 (weight)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "10.00")]
    pub weight: Option<Decimal>,
    /// 得分 (score as stated)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub score: Option<Decimal>,
    /// 达成情况 of a qualitative row, where the form states it: scored in the province's bands
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achievement: Option<Achievement>,
    /// 是否适用: rows that do not apply are dropped from scoring
    #[serde(default = "default_true")]
    pub applicable: bool,
    /// 偏差原因
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation_reason: Option<String>,
}

fn default_true() -> bool {
    true
}

/// 项目: a project with its budget, execution and progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// 项目名称
    pub name: String,
    /// 预算数 (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub budget: Option<Amount>,
    /// 执行数 (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub executed: Option<Amount>,
    /// 进度 (0–1, four decimals: "0.8000" is 80%)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "0.8000")]
    pub progress: Option<Decimal>,
    /// 说明
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// 工作成效 sections and the evaluation's purpose and process.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Narrative {
    /// 工作成效 by area
    #[serde(default)]
    pub sections: Vec<NarrativeSection>,
    /// 前言: the report's opening (basis and organisation of the evaluation)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduction: Option<String>,
    /// 绩效评价目的
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_purpose: Option<String>,
    /// 绩效评价实施过程
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_process: Option<String>,
}

/// 工作成效: one area of the work achievements and its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NarrativeSection {
    /// 类别
    pub category: NarrativeCategory,
    /// 标题
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// 正文
    pub text: String,
}

/// 评价结论, 存在的问题, 建议 and 预决算公开.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Conclusion {
    /// 评价结论
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// 总得分 (0–100)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "89.50")]
    pub total_score: Option<Decimal>,
    /// 评价等级
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// 存在的问题
    #[serde(default)]
    pub problems: Vec<String>,
    /// 建议
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// 预算公开
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_disclosed: Option<bool>,
    /// 决算公开
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_accounts_disclosed: Option<bool>,
}
