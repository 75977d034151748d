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
    /// 预算执行 (budget execution of the whole record)
    #[serde(default)]
    pub budget_execution: BudgetExecution,
    /// 三公经费 (three public expenses)
    #[serde(default)]
    pub three_public_expenses: ThreePublicExpenses,
    /// 机关运行经费 (running costs)
    #[serde(default)]
    pub running_costs: RunningCosts,
    /// 绩效指标 (performance indicators, three-level tree flattened to rows)
    #[serde(default)]
    pub indicators: Vec<Indicator>,
    /// 项目 (projects)
    #[serde(default)]
    pub projects: Vec<Project>,
    /// 工作成效与评价过程 (narrative)
    #[serde(default)]
    pub narrative: Narrative,
    /// 评价结论 (conclusion, problems, suggestions)
    #[serde(default)]
    pub conclusion: Conclusion,
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
    /// 年末在职人员 (staff at year end)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_at_year_end: Option<i32>,
    /// 公务用车 (official vehicles held)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official_vehicles: Option<i32>,
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

/// 编制数 (staffing quota).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffingQuota {
    /// 行政编制
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub administrative: Option<i32>,
    /// 事业编制
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institutional: Option<i32>,
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
    /// 全年执行数 (元)
    #[schema(value_type = String, example = "8095400.00")]
    pub executed: Amount,
}

/// 预算执行 of the whole record: 年初预算数, 全年预算数, 全年执行数 (元).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetExecution {
    /// 年初预算数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub initial_budget: Option<Amount>,
    /// 全年预算数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub adjusted_budget: Option<Amount>,
    /// 全年执行数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub executed: Option<Amount>,
}

/// 三公经费 (three public expenses), with the prior-year figures the report states.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreePublicExpenses {
    /// 三公经费合计 as stated (元)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "107000.00")]
    pub total: Option<Amount>,
    /// 因公出国(境)费
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overseas_travel: Option<OverseasTravel>,
    /// 公务用车购置费
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle_purchase: Option<VehicleCost>,
    /// 公务用车运行维护费
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverseasTravel {
    /// 金额 (元)
    #[schema(value_type = String, example = "0.00")]
    pub amount: Amount,
    /// 团组数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegations: Option<i32>,
    /// 人次
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persons: Option<i32>,
}

/// 公务用车购置或运行维护费 with the number of vehicles (购置数 / 保有量).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleCost {
    /// 金额 (元)
    #[schema(value_type = String, example = "12000.00")]
    pub amount: Amount,
    /// 车辆数
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicles: Option<i32>,
}

/// 公务接待费 with 批次 and 人次.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reception {
    /// 金额 (元)
    #[schema(value_type = String, example = "95000.00")]
    pub amount: Amount,
    /// 接待批次
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batches: Option<i32>,
    /// 接待人次
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persons: Option<i32>,
}

/// 上年数: a prior-year figure as stated, with the year the report names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorYearFigure {
    /// 项目
    pub item: ThreePublicItem,
    /// 所述年度
    pub fiscal_year: i32,
    /// 金额 (元)
    #[schema(value_type = String, example = "24000.00")]
    pub amount: Amount,
    /// 本年较该年增减额 as stated (元, negative for a decrease)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "-12000.00")]
    pub stated_change: Option<Amount>,
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
}

/// 绩效指标: one row of the three-level indicator tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// 一级指标
    pub level_1: IndicatorLevel1,
    /// 二级指标
    pub level_2: IndicatorLevel2,
    /// 三级指标名称
    pub name: String,
    /// 指标库编码 (code in the indicator library)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
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
