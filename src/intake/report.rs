//! Narrative self-evaluation reports (自评报告) read by the phrasing these reports share.
//!
//! A report is read in four steps:
//! 1. **Lines.** Every block is split into lines (a table row is one line, its cells joined by
//!    tabs); converter artifacts (`[bookmark: OLE_LINK1]`) are dropped, and each char keeps its
//!    index in the block's text, so every span points into the document as given.
//! 2. **Outline.** Numbered headings (`一、`, `（一）`, short `1、` lines, and unnumbered short lines
//!    that name a known part such as `部门绩效目标`) give each line the part of the report it is
//!    in: duties, profile, income and expenditure, work achievements by area, evaluation purpose
//!    and process, conclusion, problems, suggestions. Lead-in lines ending in a colon just before
//!    a heading (`现将…汇报如下：`) belong to no part.
//! 3. **Patterns.** Outside the work achievements, figures are read by their labels into the
//!    record's groups (income, expenditure, 三公, running costs, staffing, vehicles, units), with
//!    the comparisons and shares the report states. In the work achievements, each figure with a
//!    measure word becomes an indicator row named by the words before it (`排查房屋12939栋`),
//!    money becomes a project's funds unless it is disbursed to people or is an output value, and
//!    projects are named where the text names them (`推进荫田水厂项目建设`).
//! 4. **Texts.** Duties, narrative sections, purpose, process, conclusion, problems and
//!    suggestions are taken as printed.
//!
//! Every filled field gets a provenance entry (a text spanning several paragraphs gets one per
//! paragraph); every sentence holding a digit from which no figure was read is `unmatched`.
//! A year that is the fiscal year counts as read (it is the fiscal year stated again), and the
//! numbering of a line is not a figure. Figures are kept as printed: totals that do not add up
//! stay as they are for the consistency rules to report. The one reading beyond the print is a
//! prior-year amount whose unit contradicts its own sentence (`较2021年…合计92.39元减少12.87万元`
//! beside 79.52万元): when the amount and the stated change add up only in the sentence's unit,
//! that unit is taken and a note says so.
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::patterns::{
    self as pat, category_of, change_sign, classify_money, comparator, contains_any, longest_prefix, staff_category,
    unit_type, Figure, Money, StaffCategory, Unit, DECREASE, FLAT, INCREASE, PRIOR_YEAR_WORDS,
};
use super::{Block, Draft, Provenance, Source, Unmatched};
use crate::domain::record::{
    ConsolidatedUnits, EvaluationInput, EvaluationMethod, ExpenditureLine, ExpenditureStructure, Grade, Indicator,
    IndicatorLevel1, IndicatorLevel2, InternalUnit, NarrativeCategory, NarrativeSection, OverseasTravel,
    PriorYearFigure, PriorYearTotal, Project, Reception, ReportedIn, ThreePublicItem, UnitType, VehicleCost,
};

pub use super::text::{decode_text, paragraphs, DecodeError};

/// A place in the document: a line and a char range within it.
type Src = (usize, Range<usize>);

/// One line of the document, printed and folded.
struct Line {
    block: usize,
    /// The chars as printed (artifacts dropped, surrounding white space trimmed)
    chars: Vec<char>,
    /// The same chars folded for matching (`patterns::fold`)
    f: Vec<char>,
    /// Index of each char in its block's text
    origin: Vec<usize>,
    figures: Vec<Figure>,
    /// The line's numbering: its length and heading level
    ordinal: Option<(usize, u8)>,
    sentences: Vec<Range<usize>>,
    table: bool,
}

impl Line {
    fn new(block: usize, text: &[char], range: Range<usize>, table: bool) -> Option<Line> {
        let mut chars = Vec::new();
        let mut origin = Vec::new();
        let mut i = range.start;
        while i < range.end {
            if text[i] == '[' && text[i..range.end].iter().take(10).collect::<String>() == "[bookmark:" {
                if let Some(close) = text[i..range.end].iter().position(|c| *c == ']') {
                    i += close + 1;
                    continue;
                }
            }
            chars.push(text[i]);
            origin.push(i);
            i += 1;
        }
        let start = chars.iter().position(|c| !super::text::is_blank(*c))?;
        let end = chars.iter().rposition(|c| !super::text::is_blank(*c))? + 1;
        let chars = chars[start..end].to_vec();
        let origin = origin[start..end].to_vec();
        let f: Vec<char> = chars.iter().map(|c| pat::fold(*c)).collect();
        let ordinal = if table { None } else { pat::ordinal(&f) };
        let figures = pat::figures(&f, ordinal.map_or(0, |o| o.0));
        let sentences = pat::sentences(&f);
        Some(Line { block, chars, f, origin, figures, ordinal, sentences, table })
    }

    fn len(&self) -> usize {
        self.chars.len()
    }

    fn text(&self, range: Range<usize>) -> String {
        self.chars[range].iter().collect()
    }

    fn key(&self, range: Range<usize>) -> String {
        pat::key(&self.f, range)
    }

    fn body_start(&self) -> usize {
        self.ordinal.map_or(0, |o| o.0)
    }

    fn trim(&self, range: Range<usize>) -> Range<usize> {
        let mut r = range;
        while r.start < r.end && (self.f[r.start] == ' ') {
            r.start += 1;
        }
        while r.end > r.start && (self.f[r.end - 1] == ' ') {
            r.end -= 1;
        }
        r
    }

    fn starts_with(&self, range: &Range<usize>, word: &str) -> bool {
        let n = word.chars().count();
        range.end - range.start >= n && self.f[range.start..range.start + n].iter().copied().eq(word.chars())
    }

    fn ends_with(&self, range: &Range<usize>, word: &str) -> bool {
        let n = word.chars().count();
        range.end - range.start >= n && self.f[range.end - n..range.end].iter().copied().eq(word.chars())
    }
}

fn build_lines(blocks: &[Block]) -> (Vec<Line>, Vec<Vec<char>>) {
    let mut lines = Vec::new();
    let mut texts = Vec::new();
    for (b, block) in blocks.iter().enumerate() {
        let (text, table) = match block {
            Block::Paragraph(text) => (text.clone(), false),
            Block::Table(rows) => (rows.iter().map(|row| row.join("\t")).collect::<Vec<_>>().join("\n"), true),
        };
        let chars: Vec<char> = text.chars().collect();
        let mut start = 0;
        for i in 0..=chars.len() {
            if i == chars.len() || matches!(chars[i], '\n' | '\r' | '\u{2028}' | '\u{2029}') {
                lines.extend(Line::new(b, &chars, start..i, table));
                start = i + 1;
            }
        }
        texts.push(chars);
    }
    (lines, texts)
}

/// The part of a report a heading opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Duties,
    Profile,
    Finance,
    Targets,
    BudgetManagement,
    Achievements,
    Area(NarrativeCategory),
    Evaluation,
    Purpose,
    Process,
    Conclusion,
    Problems,
    Suggestions,
    ProblemsAndSuggestions,
    Other,
}

/// What a heading's words say it opens; `under_achievements` when a work-achievement heading is
/// above it, so that `（二）项目建设方面` is an area there but `项目支出情况` elsewhere is finance.
fn part_of(key: &str, under_achievements: bool) -> Part {
    let has = |words: &[&str]| contains_any(key, words);
    if has(&["职责", "职能"]) {
        Part::Duties
    } else if has(&["问题"]) && has(&["建议", "措施"]) {
        Part::ProblemsAndSuggestions
    } else if has(&["问题"]) {
        Part::Problems
    } else if has(&["结论", "评价结果", "自评结果", "总体评价", "评价得分"]) {
        Part::Conclusion
    } else if has(&["建议", "改进措施", "整改措施", "下一步"]) {
        Part::Suggestions
    } else if has(&["目的"]) {
        Part::Purpose
    } else if has(&["评价", "自评"]) && has(&["过程", "实施", "方法", "组织", "开展", "程序"]) {
        Part::Process
    } else if has(&["机关运行经费", "三公经费", "经费管理", "经费控制", "经费使用"]) {
        Part::BudgetManagement
    } else if has(&["评价", "自评"]) {
        Part::Evaluation
    } else if under_achievements || has(&["方面"]) {
        Part::Area(category_of(key))
    } else if has(&[
        "工作情况",
        "工作成效",
        "工作完成",
        "主要成效",
        "履职",
        "成效",
        "成绩",
        "主要工作",
        "工作开展",
        "完成情况",
        "取得",
    ]) {
        Part::Achievements
    } else if has(&["基本情况", "概况", "构成", "机构", "编制", "人员"]) {
        Part::Profile
    } else if has(&["收支", "收入", "支出", "预算", "决算", "资金"]) {
        Part::Finance
    } else if has(&["目标"]) {
        Part::Targets
    } else {
        Part::Other
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Title,
    Heading {
        level: u8,
        part: Part,
        /// Where the heading's own text ends and its inline body (`2、存在的问题：…`) begins
        inline: Option<usize>,
    },
    Body,
    /// A lead-in line (`…汇报如下：`) just before a heading: part of no section
    Interlude,
    Signature,
    Date,
    /// A page number or footer left by a PDF conversion (`- 3 -`, `第3页 共12页`)
    Artifact,
}

struct Outline {
    roles: Vec<Role>,
    /// The innermost heading each line is under
    parent: Vec<Option<usize>>,
    /// Lines of the work-achievement areas, where outputs are read
    achievement: HashSet<usize>,
}

const ORGANISATION_ENDS: &[&str] = &[
    "人民政府",
    "政府",
    "委员会",
    "办事处",
    "管理局",
    "局",
    "中心",
    "站",
    "所",
    "院",
    "学校",
    "党委",
    "委",
    "办",
    "公司",
    "街道",
    "乡",
    "镇",
];

fn has_punctuation(f: &[char]) -> bool {
    f.iter().any(|c| matches!(c, ',' | ';' | '。' | ':' | '!' | '?' | '、' | '(' | ')' | '.'))
}

/// A heading: its level, and where an inline body starts (`2、存在的问题：在资金…`).
fn heading_of(line: &Line) -> Option<(u8, Range<usize>, Option<usize>)> {
    if line.table {
        return None;
    }
    let start = line.body_start();
    let mut end = line.len();
    while end > start && matches!(line.f[end - 1], ':' | ' ') {
        end -= 1;
    }
    let text = &line.f[start..end];
    // A heading is short, without sentence punctuation, and does not end with a full stop
    if let Some((_, level)) = line.ordinal {
        if !text.is_empty() && text.len() <= 30 && !has_punctuation(text) {
            return Some((level, start..end, None));
        }
    }
    // An inline heading: a short label and a colon, then its text
    if let Some(colon) = line.f[start..].iter().position(|c| *c == ':').map(|p| start + p) {
        let label = &line.f[start..colon];
        let part = part_of(&line.key(start..colon), false);
        let textual = matches!(
            part,
            Part::Duties
                | Part::Problems
                | Part::Suggestions
                | Part::ProblemsAndSuggestions
                | Part::Conclusion
                | Part::Purpose
                | Part::Process
        );
        if textual && !label.is_empty() && label.len() <= 12 && !has_punctuation(label) && colon + 1 < line.len() {
            let level = line.ordinal.map_or(2, |o| o.1);
            return Some((level, start..colon, Some(colon + 1)));
        }
    }
    if line.ordinal.is_none()
        && !text.is_empty()
        && text.len() <= 16
        && !has_punctuation(text)
        && !text.iter().any(|c| c.is_ascii_digit())
        && !matches!(part_of(&line.key(start..end), false), Part::Other | Part::Area(_))
    {
        return Some((2, start..end, None));
    }
    None
}

impl Outline {
    fn new(lines: &[Line]) -> Outline {
        let n = lines.len();
        let mut roles = vec![Role::Body; n];
        let mut parent = vec![None; n];
        let mut stack: Vec<(u8, Part, usize)> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let f = &line.f;
            if page_number(line) {
                roles[i] = Role::Artifact;
                continue;
            }
            if i == 0
                && line.ordinal.is_none()
                && line.len() <= 40
                && !f.contains(&'。')
                && contains_any(&line.key(0..line.len()), &["报告", "自评", "评价", "绩效"])
            {
                roles[i] = Role::Title;
                continue;
            }
            if i + 3 >= n && i > 0 && !line.table {
                if date_of(line).is_some() {
                    roles[i] = Role::Date;
                    continue;
                }
                let key = line.key(0..line.len());
                if line.ordinal.is_none()
                    && line.len() <= 30
                    && !has_punctuation(f)
                    && ORGANISATION_ENDS.iter().any(|e| key.ends_with(e))
                {
                    roles[i] = Role::Signature;
                    continue;
                }
            }
            if let Some((level, text, inline)) = heading_of(line) {
                while stack.last().is_some_and(|top| top.0 >= level) {
                    stack.pop();
                }
                let under = stack.iter().any(|s| matches!(s.1, Part::Achievements | Part::Area(_)));
                let part = part_of(&line.key(text), under);
                parent[i] = stack.last().map(|s| s.2);
                roles[i] = Role::Heading { level, part, inline };
                stack.push((level, part, i));
                if inline.is_some() {
                    parent[i] = Some(i);
                }
                continue;
            }
            parent[i] = stack.last().map(|s| s.2);
        }
        // Lead-ins that run up to a heading introduce what follows: no section holds them.
        for i in (0..n).rev() {
            if roles[i] != Role::Body || lines[i].f.last().is_none_or(|c| *c != ':') {
                continue;
            }
            let next = (i + 1..n).find(|&j| roles[j] != Role::Interlude);
            if next.is_none_or(|j| matches!(roles[j], Role::Heading { .. })) {
                roles[i] = Role::Interlude;
            }
        }
        let mut outline = Outline { roles, parent, achievement: HashSet::new() };
        for section in outline.sections(lines) {
            if section.category != NarrativeCategory::BudgetManagement {
                outline.achievement.extend(section.lines.iter().copied());
            }
        }
        if outline.achievement.is_empty() {
            // No work-achievement headings: outputs are read in lines under no known part.
            for i in 0..n {
                let under = outline.parent[i].map(|h| outline.part(h));
                if outline.roles[i] == Role::Body && matches!(under, Some(Part::Other | Part::Targets)) {
                    outline.achievement.insert(i);
                }
            }
        }
        outline
    }

    fn part(&self, heading: usize) -> Part {
        match self.roles[heading] {
            Role::Heading { part, .. } => part,
            _ => Part::Other,
        }
    }

    fn level(&self, heading: usize) -> u8 {
        match self.roles[heading] {
            Role::Heading { level, .. } => level,
            _ => 0,
        }
    }

    /// The headings above a line, innermost first.
    fn ancestors(&self, line: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = self.parent[line];
        while let Some(h) = at {
            out.push(h);
            at = if self.parent[h] == Some(h) { None } else { self.parent[h] };
        }
        out
    }

    /// The lines a heading's part holds: up to the next heading of its level or above,
    /// without lead-ins, signature and date.
    fn body(&self, heading: usize) -> Vec<usize> {
        let level = self.level(heading);
        let mut out = Vec::new();
        for j in heading + 1..self.roles.len() {
            match self.roles[j] {
                Role::Heading { level: l, .. } if l <= level => break,
                Role::Body | Role::Heading { .. } => out.push(j),
                _ => {}
            }
        }
        out
    }

    /// The part a body line is in: its innermost heading's.
    fn part_of_line(&self, line: usize) -> Option<Part> {
        if let Role::Heading { part, inline: Some(_), .. } = self.roles[line] {
            return Some(part);
        }
        self.parent[line].map(|h| self.part(h))
    }

    /// The narrative sections: each work-achievement area, and each section on running costs.
    fn sections(&self, lines: &[Line]) -> Vec<SectionLines> {
        let mut out = Vec::new();
        for (h, role) in self.roles.iter().enumerate() {
            let Role::Heading { level, part, .. } = *role else { continue };
            let category = match part {
                Part::Area(category) => category,
                Part::BudgetManagement => NarrativeCategory::BudgetManagement,
                Part::Achievements => {
                    let has_areas = self
                        .body(h)
                        .iter()
                        .any(|&j| matches!(self.roles[j], Role::Heading { part: Part::Area(_), .. }));
                    if has_areas {
                        continue;
                    }
                    category_of(&lines[h].key(0..lines[h].len()))
                }
                _ => continue,
            };
            // An area inside another area or section is text of that one.
            if self.ancestors(h).iter().any(|&a| matches!(self.part(a), Part::Area(_) | Part::BudgetManagement)) {
                continue;
            }
            let mut body = self.body(h);
            if level >= 3 {
                body.insert(0, h);
            }
            if body.is_empty() {
                continue;
            }
            let (_, title, _) = heading_of(&lines[h]).unwrap_or((0, 0..lines[h].len(), None));
            out.push(SectionLines { heading: h, title, category, lines: body });
        }
        out
    }
}

struct SectionLines {
    heading: usize,
    title: Range<usize>,
    category: NarrativeCategory,
    lines: Vec<usize>,
}

/// A page number line: `- 3 -`, `—3—`, `第3页`, `第 3 页 共 12 页`, `3/12` (a bare number is not
/// taken for one: it may be a figure split from its line).
fn page_number(line: &Line) -> bool {
    let text: String = line.f.iter().filter(|c| !matches!(c, ' ' | '-' | '—' | '–')).collect();
    if text.is_empty() || text.chars().count() > 12 {
        return false;
    }
    let digits_only = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    if digits_only(&text) && line.f.iter().any(|c| matches!(c, '-' | '—' | '–')) {
        return true;
    }
    if let Some((a, b)) = text.split_once('/') {
        return digits_only(a) && digits_only(b);
    }
    let rest = text.strip_prefix('第').and_then(|t| t.split_once('页'));
    match rest {
        Some((n, tail)) => {
            digits_only(n)
                && (tail.is_empty()
                    || tail.strip_prefix('共').and_then(|t| t.strip_suffix('页')).is_some_and(digits_only))
        }
        None => false,
    }
}

/// A date written in Chinese numerals (`二〇二三年三月十日`).
fn chinese_date(text: &str) -> Option<NaiveDate> {
    let digit = |c: char| "〇一二三四五六七八九".chars().position(|d| d == c).or((c == '○' || c == '零').then_some(0));
    let (year, rest) = text.split_once('年')?;
    let (month, rest) = rest.split_once('月')?;
    let day = rest.strip_suffix('日')?;
    let year = year.chars().try_fold(0u32, |acc, c| Some(acc * 10 + digit(c)? as u32))?;
    let small = |t: &str| -> Option<u32> {
        match t.chars().collect::<Vec<_>>().as_slice() {
            ['十'] => Some(10),
            ['十', d] => Some(10 + digit(*d)? as u32),
            [d, '十'] => Some(digit(*d)? as u32 * 10),
            [d, '十', e] => Some(digit(*d)? as u32 * 10 + digit(*e)? as u32),
            [d] => Some(digit(*d)? as u32),
            _ => None,
        }
    };
    if !(1900..=2100).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year as i32, small(month)?, small(day)?)
}

/// A date line (`2023年3月10日`, `二〇二三年三月十日`).
fn date_of(line: &Line) -> Option<NaiveDate> {
    if line.len() <= 14 && line.figures.is_empty() {
        return chinese_date(&line.text(0..line.len()).replace(' ', ""));
    }
    let figures = &line.figures;
    if figures.len() != 3 || has_punctuation(&line.f) || line.len() > 14 {
        return None;
    }
    let [y, m, d] = [&figures[0], &figures[1], &figures[2]];
    if y.unit != Unit::Year || m.unit != Unit::Month || d.unit != Unit::Day {
        return None;
    }
    let month = u32::try_from(m.value.trunc().mantissa()).ok()?;
    let day = u32::try_from(d.value.trunc().mantissa()).ok()?;
    NaiveDate::from_ymd_opt(y.year()?, month, day)
}

/// An amount member of a three-public item: its actual (false) or its budget (true).
type AmountSlot = fn(&mut EvaluationInput, bool) -> &mut Option<Decimal>;

/// Where prior-year figures and a stated change go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    Income,
    Expenditure,
    RunningCosts,
    ThreePublic(ThreePublicItem),
}

fn subject_of(money: Money) -> Option<Subject> {
    match money {
        Money::IncomeTotal => Some(Subject::Income),
        Money::ExpenditureTotal => Some(Subject::Expenditure),
        Money::RunningCosts => Some(Subject::RunningCosts),
        Money::ThreePublic(item) => Some(Subject::ThreePublic(item)),
        _ => None,
    }
}

/// A prior-year comparison being read: `较2021年…92.39元减少12.87万元`.
#[derive(Debug, Clone)]
struct Comparison {
    subject: Subject,
    /// The label that names the subject (or the comparison's, when the subject is the figure before)
    subject_src: Src,
    year: Option<(i32, Src)>,
    prior: Option<(Figure, Src, (usize, usize))>,
    change: Option<(Figure, i8, Src, (usize, usize))>,
    pct: Option<(Figure, i8, Src, (usize, usize))>,
    flat: Option<Src>,
    reason: Option<Src>,
}

/// What the last figure of a sentence filled, for a share or comparison that follows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Last {
    IncomeLine(usize),
    ThreePublic(ThreePublicItem, bool),
    Money(Money),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StaffScope {
    Quota,
    InPost,
}

/// Reading state within one line of figures.
#[derive(Default)]
struct Ctx {
    last: Option<Last>,
    /// Head of the statement being read (its total), for items that only make sense under it
    topic: Option<Money>,
    structure: Option<ExpenditureStructure>,
    budget: bool,
    three_public_budget: bool,
    staff: Option<StaffScope>,
    /// The three-public item counts without an item word belong to
    counting: Option<ThreePublicItem>,
    comparison: Option<Comparison>,
    /// Whether the figure being read is in its sentence's first clause: a comparison there with no
    /// subject of its own (`……收入合计1,234.56万元，其中……。较上年减少56.78万元`) is about the
    /// statement's head
    first_clause: bool,
}

/// A row being named, kept for the rows after it in the same sentence.
#[derive(Debug, Clone)]
struct RowName {
    name: String,
    verb: Option<&'static str>,
    unit: String,
}

impl RowName {
    /// Rows of one kind of thing: the same unit, or both counts of people.
    fn same_kind(&self, unit: &str) -> bool {
        self.unit == unit || (pat::PERSON_UNITS.contains(&self.unit.as_str()) && pat::PERSON_UNITS.contains(&unit))
    }

    fn object(&self) -> String {
        match self.verb {
            Some(verb) => self.name[verb.len()..].to_owned(),
            None => self.name.clone(),
        }
    }

    /// The thing an attribute row is about (`油菜` of `油菜种植面积`).
    fn subject(&self) -> String {
        let mut name = self.object();
        for tail in ["种植面积", "总面积", "面积", "种植", "年产值", "产值", "总产值"] {
            if let Some(stripped) = name.strip_suffix(tail) {
                name = stripped.to_owned();
                break;
            }
        }
        name
    }
}

struct Reader<'a> {
    lines: &'a [Line],
    outline: &'a Outline,
    texts: &'a [Vec<char>],
    record: EvaluationInput,
    provenance: Vec<(String, Src)>,
    income_lines: Vec<(crate::domain::record::IncomeLine, Vec<(&'static str, Src)>)>,
    expenditure_lines: Vec<(ExpenditureLine, Vec<(&'static str, Src)>)>,
    used: HashSet<(usize, usize)>,
    notes: Vec<String>,
    /// Units of money figures read into finance fields: (万元, 元), with the first of each
    money_units: [(usize, Option<Src>); 2],
    /// The printed unit of the figure each subject's current amount was read from
    subject_units: Vec<(Subject, Unit)>,
    /// Indicator rows per narrative section, for repeated statements of one output
    section_rows: Vec<usize>,
}

/// A narrative report → one draft record (`department_overall`), with provenance for every
/// filled field and every sentence with an unread number listed as unmatched.
pub fn read_report(blocks: &[Block]) -> Draft {
    let (lines, texts) = build_lines(blocks);
    let outline = Outline::new(&lines);
    let mut reader = Reader {
        lines: &lines,
        outline: &outline,
        texts: &texts,
        record: super::empty_record(),
        provenance: Vec::new(),
        income_lines: Vec::new(),
        expenditure_lines: Vec::new(),
        used: HashSet::new(),
        notes: Vec::new(),
        money_units: [(0, None), (0, None)],
        subject_units: Vec::new(),
        section_rows: Vec::new(),
    };
    reader.identity();
    for li in 0..lines.len() {
        if !outline.achievement.contains(&li) && matches!(outline.roles[li], Role::Body | Role::Heading { .. }) {
            reader.finance_line(li);
        }
    }
    reader.narrative();
    reader.texts();
    reader.finish()
}

impl<'a> Reader<'a> {
    fn fy(&self) -> i32 {
        self.record.fiscal_year
    }

    fn put(&mut self, path: impl Into<String>, src: Src) {
        self.provenance.push((path.into(), src));
    }

    fn mark(&mut self, figure: (usize, usize)) {
        self.used.insert(figure);
    }

    fn fig_src(&self, li: usize, fi: usize) -> Src {
        let fig = &self.lines[li].figures[fi];
        (li, fig.start..fig.end)
    }

    /// Fills an empty field; a second statement of the same value counts as read, a different
    /// one is noted and left.
    fn fill<T: PartialEq + std::fmt::Debug>(
        &mut self,
        path: &str,
        src: Src,
        figure: Option<(usize, usize)>,
        value: T,
        slot: impl FnOnce(&mut EvaluationInput) -> &mut Option<T>,
    ) -> bool {
        let current = slot(&mut self.record);
        let outcome = match current {
            None => {
                *current = Some(value);
                Some(true)
            }
            Some(existing) if *existing == value => Some(false),
            Some(existing) => {
                let message = format!("{path}: the report also states {value:?} (kept {existing:?})");
                self.notes.push(message);
                None
            }
        };
        match outcome {
            Some(true) => {
                self.put(path, src);
                if let Some(figure) = figure {
                    self.mark(figure);
                }
                true
            }
            Some(false) => {
                if let Some(figure) = figure {
                    self.mark(figure);
                }
                false
            }
            None => false,
        }
    }

    fn amount(&mut self, li: usize, fi: usize) -> Option<Decimal> {
        let figure = &self.lines[li].figures[fi];
        match pat::amount_in_yuan(figure) {
            Ok(amount) => Some(amount),
            Err(pat::AmountError::Fraction) => {
                let text = self.lines[li].text(figure.start..figure.end);
                self.notes.push(format!(
                    "“{text}” has more than two decimals in 元 and cannot be stored exactly: the field is left empty"
                ));
                None
            }
            Err(pat::AmountError::NotMoney) => None,
        }
    }

    fn count_money_unit(&mut self, li: usize, fi: usize) {
        let figure = &self.lines[li].figures[fi];
        let slot = match figure.unit {
            Unit::WanYuan | Unit::Wan | Unit::YiYuan => 0,
            Unit::Yuan => 1,
            _ => return,
        };
        let src = (li, figure.start..figure.end);
        self.money_units[slot].0 += 1;
        self.money_units[slot].1.get_or_insert(src);
    }

    // ---- identity -------------------------------------------------------------------------

    fn identity(&mut self) {
        let lines = self.lines;
        let roles = &self.outline.roles;
        let first_heading = roles.iter().position(|r| matches!(r, Role::Heading { .. })).unwrap_or(lines.len());
        // Fiscal year: the title's year, else a year in the opening stated with the budget or
        // evaluation, else the year most often printed as `YYYY年度`.
        let mut year: Option<(i32, Src)> = None;
        for (li, line) in lines.iter().enumerate().take(first_heading.max(1)) {
            let in_title = roles[li] == Role::Title;
            for fig in &line.figures {
                let Some(y) = fig.year() else { continue };
                let after = line.key(fig.end..line.len().min(fig.end + 6));
                if in_title
                    || contains_any(&after, &["预算", "决算", "部门", "整体", "绩效", "财政", "工作"])
                    || fig.end - fig.start > 5
                {
                    year = Some((y, (li, fig.start..fig.end)));
                    break;
                }
            }
            if year.is_some() {
                break;
            }
        }
        if year.is_none() {
            let mut counts: HashMap<i32, (usize, Src)> = HashMap::new();
            for (li, line) in lines.iter().enumerate() {
                for fig in &line.figures {
                    if let (Some(y), true) = (fig.year(), line.f.get(fig.end - 1) == Some(&'度')) {
                        counts.entry(y).or_insert((0, (li, fig.start..fig.end))).0 += 1;
                    }
                }
            }
            year = counts.into_iter().max_by_key(|(y, (n, _))| (*n, *y)).map(|(y, (_, src))| (y, src));
        }
        if year.is_none() {
            // the year printed most often, the latest of equals
            let mut counts: HashMap<i32, (usize, Src)> = HashMap::new();
            for (li, line) in lines.iter().enumerate() {
                for fig in &line.figures {
                    if let Some(y) = fig.year() {
                        counts.entry(y).or_insert((0, (li, fig.start..fig.end))).0 += 1;
                    }
                }
            }
            year = counts.into_iter().max_by_key(|(y, (n, _))| (*n, *y)).map(|(y, (_, src))| (y, src));
        }
        match year {
            Some((y, src)) => {
                self.record.fiscal_year = y;
                self.put("fiscal_year", src);
            }
            None => self.notes.push("no fiscal year stated: fiscal_year is 0".into()),
        }
        // Unit and issuer: the signature, else the name a title or opening begins with.
        if let Some(li) = roles.iter().rposition(|r| *r == Role::Signature) {
            let text = lines[li].text(0..lines[li].len());
            self.record.unit = text.clone();
            self.record.issuer = Some(text);
            self.put("unit", (li, 0..lines[li].len()));
            self.put("issuer", (li, 0..lines[li].len()));
        } else {
            for (li, line) in lines.iter().enumerate().take(first_heading.max(1)) {
                if let Some(end) = ["人民政府", "办事处", "委员会"]
                    .iter()
                    .filter_map(|w| pat::find_in(&line.f, 0..line.len(), w))
                    .map(|r| r.end)
                    .min()
                {
                    let start = line.f[..end].iter().rposition(|c| !pat::is_cjk(*c)).map_or(0, |p| p + 1);
                    if end - start >= 4 {
                        self.record.unit = line.text(start..end);
                        self.put("unit", (li, start..end));
                        break;
                    }
                }
            }
        }
        if self.record.unit.is_empty() {
            // a title that begins with its unit: 常宁市荫田镇2022年度部门整体支出绩效自评报告
            if let Some(li) = roles.iter().position(|r| *r == Role::Title) {
                let line = &lines[li];
                if let Some(year) = line.figures.iter().find(|f| f.unit == Unit::Year) {
                    let name = line.trim(0..year.start);
                    let key = line.key(name.clone());
                    if name.end - name.start >= 3 && ORGANISATION_ENDS.iter().any(|e| key.ends_with(e)) {
                        self.record.unit = line.text(name.clone());
                        self.put("unit", (li, name));
                    }
                }
            }
        }
        if let Some(li) = roles.iter().rposition(|r| *r == Role::Date) {
            if let Some(date) = date_of(&lines[li]) {
                self.record.report_date = Some(date);
                self.put("report_date", (li, 0..lines[li].len()));
                for fi in 0..lines[li].figures.len() {
                    self.mark((li, fi));
                }
            }
        }
        // Method: who evaluated, in the words of the opening (or anywhere).
        let methods: [(&str, EvaluationMethod); 6] = [
            ("第三方", EvaluationMethod::ThirdParty),
            ("财政评价", EvaluationMethod::FinanceEvaluation),
            ("财政重点评价", EvaluationMethod::FinanceEvaluation),
            ("部门评价", EvaluationMethod::DepartmentEvaluation),
            ("自评", EvaluationMethod::SelfEvaluation),
            ("自我绩效评价", EvaluationMethod::SelfEvaluation),
        ];
        'method: for range in [0..first_heading.max(1).min(lines.len()), 0..lines.len()] {
            for li in range {
                let line = &lines[li];
                for (word, method) in methods {
                    if let Some(found) = pat::find_in(&line.f, 0..line.len(), word) {
                        self.record.method = Some(method);
                        self.put("method", (li, found));
                        break 'method;
                    }
                }
            }
        }
        // Basis documents: 湘财绩【2013】29号, 财预〔2020〕10号.
        for (li, line) in lines.iter().enumerate() {
            for (range, figures) in document_numbers(line) {
                let text = line.text(range.clone());
                if !self.record.basis_documents.contains(&text) {
                    let i = self.record.basis_documents.len();
                    self.record.basis_documents.push(text);
                    self.put(format!("basis_documents[{i}]"), (li, range));
                }
                for fi in figures {
                    self.mark((li, fi));
                }
            }
        }
    }

    // ---- figures outside the work achievements --------------------------------------------

    fn finance_line(&mut self, li: usize) {
        let lines = self.lines;
        let line = &lines[li];
        let mut ctx = Ctx::default();
        for sentence in line.sentences.clone() {
            let clauses = pat::clauses(&line.f, sentence.clone(), &line.figures);
            let sentence_key = line.key(sentence.clone());
            let internal_units = contains_any(
                &sentence_key,
                &["内设", "下设", "设有", "设置", "设立", "镇设", "乡设", "共设", "现设", "机关设"],
            );
            for (fi, fig) in line.figures.iter().enumerate() {
                if fig.start < sentence.start || fig.start >= sentence.end || !fig.is_quantity() || fig.chinese {
                    continue;
                }
                let Some(clause) = clauses.iter().find(|c| c.start <= fig.start && fig.start < c.end).cloned() else {
                    continue;
                };
                let label = label_range(line, fi, &clause, &clauses);
                let after = after_range(line, fi, &clause);
                let key = line.key(label.clone());
                if internal_units && self.internal_unit(li, fi, &label, &after) {
                    continue;
                }
                if fig.is_money() || fig.unit == Unit::Percent {
                    ctx.first_clause = clauses.first() == Some(&clause);
                    self.money_figure(li, fi, &label, &after, &key, &mut ctx);
                } else {
                    self.close_comparison(&mut ctx);
                    self.count_figure(li, fi, &key, &mut ctx);
                }
            }
            // 全部为公务接待费: the whole three-public figure is one item
            for clause in &clauses {
                let key = line.key(clause.clone());
                let Some(rest) = ["全部为", "全部是", "均为", "全部用于"].iter().find_map(|w| key.strip_prefix(w))
                else {
                    continue;
                };
                if let (Some(Money::ThreePublic(item)), Some(Last::ThreePublic(ThreePublicItem::Total, budget))) =
                    (classify_money(rest), ctx.last)
                {
                    if item != ThreePublicItem::Total {
                        self.copy_three_public_total(item, budget, (li, clause.clone()));
                    }
                }
            }
            if let Some(comparison) = ctx.comparison.as_mut() {
                comparison.reason = reason_in(li, line, &sentence);
            }
            self.close_comparison(&mut ctx);
            self.disclosure(li, &sentence);
            self.score_and_grade(li, &sentence);
        }
    }

    fn money_figure(
        &mut self,
        li: usize,
        fi: usize,
        label: &Range<usize>,
        after: &Range<usize>,
        key: &str,
        ctx: &mut Ctx,
    ) {
        let line = &self.lines[li];
        let fig = line.figures[fi].clone();
        let src = self.fig_src(li, fi);
        // A comparison with a prior year
        if let Some((at, len)) = comparator(key) {
            let subject_key = &key[..at];
            let rest = &key[at + len..];
            let subject = classify_money(subject_key)
                .and_then(subject_of)
                .or_else(|| classify_money(rest).and_then(subject_of))
                .or_else(|| match ctx.last {
                    Some(Last::ThreePublic(item, _)) => Some(Subject::ThreePublic(item)),
                    Some(Last::Money(money)) => subject_of(money),
                    _ => None,
                })
                .or_else(|| ctx.topic.filter(|_| ctx.first_clause && at == 0).and_then(subject_of));
            let year = line
                .figures
                .iter()
                .rfind(|y| y.unit == Unit::Year && y.start >= label.start && y.end <= fig.start)
                .and_then(|y| Some((y.year()?, (li, y.start..y.end))))
                .or_else(|| {
                    let word = PRIOR_YEAR_WORDS.iter().find(|w| rest.contains(*w))?;
                    let found = pat::find_in(&line.f, label.clone(), word)?;
                    (self.fy() != 0).then(|| (self.fy() - 1, (li, found)))
                });
            self.close_comparison(ctx);
            let Some(subject) = subject else { return };
            if year.is_none() && rest.contains("预算") {
                return; // against the budget, not a prior year
            }
            let mut comparison = Comparison {
                subject,
                subject_src: (li, label.clone()),
                year,
                prior: None,
                change: None,
                pct: None,
                flat: None,
                reason: None,
            };
            let sign = change_sign(rest);
            match (fig.unit == Unit::Percent, sign) {
                (true, Some(sign)) => comparison.pct = Some((fig, sign, src, (li, fi))),
                (true, None) => {}
                (false, Some(sign)) => comparison.change = Some((fig, sign, src, (li, fi))),
                (false, None) => comparison.prior = Some((fig, src, (li, fi))),
            }
            let after_key = line.key(after.clone());
            if let Some(word) = FLAT.iter().find(|w| after_key.contains(*w)) {
                comparison.flat = pat::find_in(&line.f, after.clone(), word).map(|r| (li, r));
            }
            ctx.comparison = Some(comparison);
            return;
        }
        let stripped = strip_key(key);
        // A change or rate after a comparison: 较上年减少710.50万元，下降9.76%
        if let (Some(sign), Some(comparison)) =
            (change_sign(&stripped).filter(|_| starts_with_any(&stripped, INCREASE, DECREASE)), ctx.comparison.as_mut())
        {
            if fig.unit == Unit::Percent && comparison.pct.is_none() {
                comparison.pct = Some((fig, sign, src, (li, fi)));
                return;
            }
            if fig.unit != Unit::Percent && comparison.change.is_none() {
                comparison.change = Some((fig, sign, src, (li, fi)));
                return;
            }
        }
        if fig.unit == Unit::Percent {
            if key.contains('占') {
                self.share(li, fi, ctx);
            }
            return;
        }
        self.close_comparison(ctx);
        // 公务接待费预算10万元，决算9.5万元: a bare 预算/决算 is the item just read
        let bare = match stripped.trim_end_matches(['为', '是', '数']) {
            "预算" | "年初预算" | "全年预算" => Some(true),
            "决算" | "实际" | "实际支出" | "执行" | "支出" => Some(false),
            _ => None,
        };
        let money = match (bare, ctx.last) {
            (Some(_), Some(Last::ThreePublic(item, _))) => Some(Money::ThreePublic(item)),
            _ => classify_money(key),
        };
        let Some(money) = money else { return };
        let Some(amount) = self.amount(li, fi) else { return };
        let budget_word = key.contains("预算") && !contains_any(key, &["决算", "执行", "实际"]);
        let note_start = strip_leading_range(line, label.clone()).start;
        match money {
            Money::IncomeTotal => {
                ctx.topic = Some(money);
                if self.fill("income.total", src.clone(), Some((li, fi)), amount, |r| &mut r.income.total) {
                    self.subject_units.push((Subject::Income, fig.unit.clone()));
                }
                self.count_money_unit(li, fi);
            }
            Money::IncomeLine(category) => {
                let note = line.text(note_start..fig.end);
                let index = match self.income_lines.iter().position(|(l, _)| l.category == category) {
                    Some(index) => {
                        if self.income_lines[index].0.amount == amount {
                            self.mark((li, fi));
                        } else {
                            self.notes.push(format!(
                                "income line “{note}” is stated twice with different amounts: kept the first"
                            ));
                        }
                        index
                    }
                    None => {
                        self.income_lines.push((
                            crate::domain::record::IncomeLine {
                                category,
                                amount,
                                initial_budget: None,
                                adjusted_budget: None,
                                stated_share: None,
                                note: Some(note),
                            },
                            vec![
                                ("category", (li, label.clone())),
                                ("amount", src.clone()),
                                ("note", (li, note_start..fig.end)),
                            ],
                        ));
                        self.mark((li, fi));
                        self.count_money_unit(li, fi);
                        self.income_lines.len() - 1
                    }
                };
                ctx.last = Some(Last::IncomeLine(index));
                return;
            }
            Money::OpeningCarryOver => {
                self.fill("income.opening_carry_over", src, Some((li, fi)), amount, |r| {
                    &mut r.income.opening_carry_over
                });
                self.count_money_unit(li, fi);
            }
            Money::ExpenditureTotal => {
                ctx.topic = Some(money);
                ctx.budget = budget_word;
                if self.fill("expenditure.total", src.clone(), Some((li, fi)), amount, |r| &mut r.expenditure.total) {
                    self.subject_units.push((Subject::Expenditure, fig.unit.clone()));
                }
                self.count_money_unit(li, fi);
            }
            Money::Structure(structure) => {
                ctx.structure = Some(structure);
                ctx.budget |= budget_word;
                let (path, slot): (&str, fn(&mut EvaluationInput) -> &mut Option<Decimal>) = match structure {
                    ExpenditureStructure::Basic => ("expenditure.basic_total", |r| &mut r.expenditure.basic_total),
                    ExpenditureStructure::Project => {
                        ("expenditure.project_total", |r| &mut r.expenditure.project_total)
                    }
                    ExpenditureStructure::Business => {
                        ("expenditure.business_total", |r| &mut r.expenditure.business_total)
                    }
                };
                self.fill(path, src, Some((li, fi)), amount, slot);
                self.count_money_unit(li, fi);
            }
            Money::YearEndCarryOver => {
                self.fill("expenditure.year_end_carry_over", src, Some((li, fi)), amount, |r| {
                    &mut r.expenditure.year_end_carry_over
                });
                self.count_money_unit(li, fi);
            }
            Money::ExpenditureLine(class) => {
                let structure = ctx.structure.unwrap_or(ExpenditureStructure::Basic);
                let name_start = strip_leading_range(line, label.clone());
                let name = line.text(strip_trailing_range(line, name_start.clone()));
                if let Some((existing, _)) = self
                    .expenditure_lines
                    .iter()
                    .find(|(l, _)| l.structure == structure && l.economic_class == Some(class))
                {
                    if existing.executed == Some(amount) || existing.initial_budget == Some(amount) {
                        self.mark((li, fi));
                    }
                    return;
                }
                let member = if ctx.budget || budget_word { "initial_budget" } else { "executed" };
                let mut line_record = ExpenditureLine {
                    structure,
                    economic_class: Some(class),
                    name: Some(name),
                    initial_budget: None,
                    adjusted_budget: None,
                    executed: None,
                };
                if member == "executed" {
                    line_record.executed = Some(amount);
                } else {
                    line_record.initial_budget = Some(amount);
                }
                self.expenditure_lines.push((
                    line_record,
                    vec![
                        ("structure", (li, label.clone())),
                        ("economic_class", (li, label.clone())),
                        ("name", (li, label.clone())),
                        (member, src),
                    ],
                ));
                self.mark((li, fi));
                self.count_money_unit(li, fi);
            }
            Money::ThreePublic(item) => {
                // Under running costs, 公务接待费 and 公务用车运行费 restate the three-public items.
                if ctx.topic == Some(Money::RunningCosts) && item != ThreePublicItem::Total {
                    if self.three_public_amount(item, false) == Some(amount) {
                        self.mark((li, fi));
                    }
                    return;
                }
                let budget = if item == ThreePublicItem::Total {
                    ctx.three_public_budget = budget_word;
                    ctx.topic = Some(money);
                    budget_word
                } else {
                    budget_word || (ctx.three_public_budget && !contains_any(key, &["决算", "实际", "支出"]))
                };
                if self.set_three_public(item, budget, amount, src) && !budget {
                    self.subject_units.push((Subject::ThreePublic(item), fig.unit.clone()));
                }
                self.mark((li, fi));
                self.count_money_unit(li, fi);
                ctx.counting = Some(item);
                ctx.last = Some(Last::ThreePublic(item, budget));
                return;
            }
            Money::VehiclesCombined => {
                let text = line.text(note_start..fig.end);
                self.notes.push(format!(
                    "“{text}” combines vehicle purchase and operation; the record holds them apart, so neither is filled"
                ));
                return;
            }
            Money::RunningCosts => {
                ctx.topic = Some(money);
                if self.fill("running_costs.amount", src, Some((li, fi)), amount, |r| &mut r.running_costs.amount) {
                    self.subject_units.push((Subject::RunningCosts, fig.unit.clone()));
                }
                self.count_money_unit(li, fi);
            }
        }
        ctx.last = Some(Last::Money(money));
    }

    fn three_public_amount(&self, item: ThreePublicItem, budget: bool) -> Option<Decimal> {
        let e = &self.record.three_public_expenses;
        let pick = |amount: Option<Decimal>, b: Option<Decimal>| if budget { b } else { amount };
        match item {
            ThreePublicItem::Total => pick(e.total, e.budget_total),
            ThreePublicItem::OverseasTravel => e.overseas_travel.as_ref().and_then(|x| pick(x.amount, x.budget)),
            ThreePublicItem::VehiclePurchase => e.vehicle_purchase.as_ref().and_then(|x| pick(x.amount, x.budget)),
            ThreePublicItem::VehicleOperation => e.vehicle_operation.as_ref().and_then(|x| pick(x.amount, x.budget)),
            ThreePublicItem::Reception => e.reception.as_ref().and_then(|x| pick(x.amount, x.budget)),
        }
    }

    fn set_three_public(&mut self, item: ThreePublicItem, budget: bool, amount: Decimal, src: Src) -> bool {
        let member = if budget { "budget" } else { "amount" };
        let (path, slot): (String, AmountSlot) = match item {
            ThreePublicItem::Total => (
                if budget { "three_public_expenses.budget_total".into() } else { "three_public_expenses.total".into() },
                |r, b| if b { &mut r.three_public_expenses.budget_total } else { &mut r.three_public_expenses.total },
            ),
            ThreePublicItem::OverseasTravel => (format!("three_public_expenses.overseas_travel.{member}"), |r, b| {
                let x = r.three_public_expenses.overseas_travel.get_or_insert_with(OverseasTravel::default);
                if b {
                    &mut x.budget
                } else {
                    &mut x.amount
                }
            }),
            ThreePublicItem::VehiclePurchase => (format!("three_public_expenses.vehicle_purchase.{member}"), |r, b| {
                let x = r.three_public_expenses.vehicle_purchase.get_or_insert_with(VehicleCost::default);
                if b {
                    &mut x.budget
                } else {
                    &mut x.amount
                }
            }),
            ThreePublicItem::VehicleOperation => {
                (format!("three_public_expenses.vehicle_operation.{member}"), |r, b| {
                    let x = r.three_public_expenses.vehicle_operation.get_or_insert_with(VehicleCost::default);
                    if b {
                        &mut x.budget
                    } else {
                        &mut x.amount
                    }
                })
            }
            ThreePublicItem::Reception => (format!("three_public_expenses.reception.{member}"), |r, b| {
                let x = r.three_public_expenses.reception.get_or_insert_with(Reception::default);
                if b {
                    &mut x.budget
                } else {
                    &mut x.amount
                }
            }),
        };
        self.fill(&path, src, None, amount, |r| slot(r, budget))
    }

    fn copy_three_public_total(&mut self, item: ThreePublicItem, budget: bool, phrase: Src) {
        if let Some(total) = self.three_public_amount(ThreePublicItem::Total, budget) {
            self.set_three_public(item, budget, total, phrase);
        }
    }

    /// `占100.00%`: the share of the line or item just read.
    fn share(&mut self, li: usize, fi: usize, ctx: &Ctx) {
        let fig = &self.lines[li].figures[fi];
        let share = pat::fraction(fig.value);
        let src = self.fig_src(li, fi);
        match ctx.last {
            Some(Last::IncomeLine(index)) => {
                let line = &mut self.income_lines[index];
                if line.0.stated_share.is_none() {
                    line.0.stated_share = Some(share);
                    line.1.push(("stated_share", src));
                    self.mark((li, fi));
                }
            }
            Some(Last::ThreePublic(item, _)) if item != ThreePublicItem::Total => {
                let e = &mut self.record.three_public_expenses;
                let (slot, name) = match item {
                    ThreePublicItem::OverseasTravel => {
                        (&mut e.overseas_travel.get_or_insert_with(Default::default).stated_share, "overseas_travel")
                    }
                    ThreePublicItem::VehiclePurchase => {
                        (&mut e.vehicle_purchase.get_or_insert_with(Default::default).stated_share, "vehicle_purchase")
                    }
                    ThreePublicItem::VehicleOperation => (
                        &mut e.vehicle_operation.get_or_insert_with(Default::default).stated_share,
                        "vehicle_operation",
                    ),
                    _ => (&mut e.reception.get_or_insert_with(Default::default).stated_share, "reception"),
                };
                if slot.is_none() {
                    *slot = Some(share);
                    self.put(format!("three_public_expenses.{name}.stated_share"), src);
                    self.mark((li, fi));
                }
            }
            _ => {}
        }
    }

    /// Writes a finished comparison into the record: the prior-year amount, the stated change
    /// and rate, and the reason.
    fn close_comparison(&mut self, ctx: &mut Ctx) {
        let Some(c) = ctx.comparison.take() else { return };
        let lines = self.lines;
        let current = match c.subject {
            Subject::Income => self.record.income.total,
            Subject::Expenditure => self.record.expenditure.total,
            Subject::RunningCosts => self.record.running_costs.amount,
            Subject::ThreePublic(item) => self.three_public_amount(item, false),
        };
        let current_unit = self.subject_units.iter().find(|(s, _)| *s == c.subject).map(|(_, u)| u.clone());
        // The change as signed 元, and the unit it was printed in (持平 is a change of 0)
        let change: Option<(Decimal, Option<Unit>)> = match &c.change {
            Some((fig, sign, _, (li, fi))) => {
                let unit = fig.unit.clone();
                self.amount(*li, *fi).map(|a| (if *sign < 0 { -a.abs() } else { a.abs() }, Some(unit)))
            }
            None => c.flat.as_ref().map(|_| (Decimal::new(0, 2), None)),
        };
        let mut prior = None;
        if let Some((fig, _, (li, fi))) = &c.prior {
            let stated = self.amount(*li, *fi);
            prior = stated;
            // A unit slip: the prior amount and the change add up only in the sentence's unit.
            if let (Some(cur), Some(cur_unit), Some((delta, change_unit))) =
                (current, current_unit.as_ref(), change.as_ref())
            {
                let expected = cur - delta;
                if fig.unit != *cur_unit
                    && change_unit.as_ref().is_none_or(|u| u == cur_unit)
                    && stated != Some(expected)
                {
                    if let Ok(read) = pat::amount_as(fig, cur_unit.clone()) {
                        if read == expected {
                            let text = lines[*li].text(fig.start..fig.end);
                            self.notes.push(format!(
                                "“{text}” read as {} 元: the sentence states its other amounts in {} and only that reading adds up with the stated change; check the report",
                                read,
                                if matches!(cur_unit, Unit::WanYuan | Unit::Wan) { "万元" } else { "元" }
                            ));
                            prior = Some(read);
                        }
                    }
                }
            }
        }
        let year = c.year.as_ref().map(|(y, _)| *y);
        let pct = c.pct.as_ref().map(|(fig, sign, _, _)| {
            let f = pat::fraction(fig.value.abs());
            if *sign < 0 {
                -f
            } else {
                f
            }
        });
        let change_value = change.as_ref().map(|(a, _)| *a);
        let filled = [year.is_some(), prior.is_some(), change_value.is_some(), pct.is_some()];
        match c.subject {
            Subject::Income | Subject::Expenditure => {
                let (group, slot) = if c.subject == Subject::Income {
                    ("income", &mut self.record.income.prior_year)
                } else {
                    ("expenditure", &mut self.record.expenditure.prior_year)
                };
                if slot.is_some() || filled == [false; 4] {
                    return;
                }
                *slot = Some(PriorYearTotal {
                    fiscal_year: year,
                    amount: prior,
                    stated_change: change_value,
                    stated_change_pct: pct,
                });
                let base = format!("{group}.prior_year");
                let members =
                    ["fiscal_year", "amount", "stated_change", "stated_change_pct"].map(|m| format!("{base}.{m}"));
                self.comparison_provenance(&members, &c, filled);
            }
            Subject::RunningCosts => {
                let r = &mut self.record.running_costs;
                if r.prior_year_amount.is_some() || r.stated_change.is_some() {
                    return;
                }
                r.prior_year_amount = prior;
                r.prior_fiscal_year = year;
                r.stated_change = change_value;
                r.stated_change_pct = pct;
                let members = ["prior_fiscal_year", "prior_year_amount", "stated_change", "stated_change_pct"]
                    .map(|m| format!("running_costs.{m}"));
                self.comparison_provenance(&members, &c, filled);
            }
            Subject::ThreePublic(item) => {
                let Some(year) = year else {
                    self.notes
                        .push("a prior-year three-public figure names no year the report states: not filled".into());
                    return;
                };
                let list = &mut self.record.three_public_expenses.prior_year;
                if list.iter().any(|p| p.item == item && p.fiscal_year == year) {
                    return;
                }
                let reason = c.reason.as_ref().map(|(li, r)| lines[*li].text(r.clone()));
                let has_reason = reason.is_some();
                list.push(PriorYearFigure {
                    item,
                    fiscal_year: year,
                    amount: prior,
                    stated_change: change_value,
                    stated_change_pct: pct,
                    reason,
                });
                let base = format!("three_public_expenses.prior_year[{}]", list.len() - 1);
                self.put(format!("{base}.item"), c.subject_src.clone());
                let members =
                    ["fiscal_year", "amount", "stated_change", "stated_change_pct"].map(|m| format!("{base}.{m}"));
                self.comparison_provenance(&members, &c, filled);
                if let (true, Some(src)) = (has_reason, c.reason.clone()) {
                    self.put(format!("{base}.reason"), src);
                }
            }
        }
    }

    /// Provenance of a comparison's year, prior amount, change and rate, under the record's
    /// member names for them; the figures read are marked.
    fn comparison_provenance(&mut self, members: &[String; 4], c: &Comparison, filled: [bool; 4]) {
        if let (true, Some((_, src))) = (filled[0], &c.year) {
            self.put(members[0].clone(), src.clone());
        }
        if let (true, Some((_, src, f))) = (filled[1], &c.prior) {
            self.put(members[1].clone(), src.clone());
            self.mark(*f);
        }
        if filled[2] {
            if let Some((_, _, src, f)) = &c.change {
                self.put(members[2].clone(), src.clone());
                self.mark(*f);
            } else if let Some(src) = &c.flat {
                self.put(members[2].clone(), src.clone());
            }
        }
        if let (true, Some((_, _, src, f))) = (filled[3], &c.pct) {
            self.put(members[3].clone(), src.clone());
            self.mark(*f);
        }
    }

    /// Counts outside the work achievements: staffing, vehicles, 批次 and 人次, units.
    fn count_figure(&mut self, li: usize, fi: usize, key: &str, ctx: &mut Ctx) {
        let line = &self.lines[li];
        let fig = &line.figures[fi];
        let Some(count) = whole(fig.value) else { return };
        let unit = fig.unit_text();
        let src = self.fig_src(li, fi);
        let f = Some((li, fi));
        // 三公 counts: reception batches and persons, delegations and persons abroad, vehicles
        // bought; a count without an item word (`接待281批次、3600人次`, `团组0个，累计0人次`)
        // is of the item just read.
        let bare = strip_key(key).trim_start_matches(['累', '计', '共', '合']).is_empty();
        let item = if key.contains("接待") {
            Some(ThreePublicItem::Reception)
        } else if contains_any(key, &["出国", "出访", "团组", "出境"]) {
            Some(ThreePublicItem::OverseasTravel)
        } else if unit == "辆" && contains_any(key, &["购置", "购买", "新购"]) {
            Some(ThreePublicItem::VehiclePurchase)
        } else if bare {
            ctx.counting
        } else {
            None
        };
        let persons = key.contains("人次") || matches!(unit.as_str(), "人次" | "人");
        match item {
            Some(ThreePublicItem::Reception) => {
                let batches = key.contains("批次")
                    || matches!(unit.as_str(), "批次" | "批")
                    || (unit == "次" && key.contains('批'));
                ctx.counting = item;
                if batches {
                    self.fill("three_public_expenses.reception.batches", src, f, count, |r| {
                        &mut r.three_public_expenses.reception.get_or_insert_with(Default::default).batches
                    });
                } else if persons {
                    self.fill("three_public_expenses.reception.persons", src, f, count, |r| {
                        &mut r.three_public_expenses.reception.get_or_insert_with(Default::default).persons
                    });
                }
                return;
            }
            Some(ThreePublicItem::OverseasTravel) => {
                ctx.counting = item;
                if persons {
                    self.fill("three_public_expenses.overseas_travel.persons", src, f, count, |r| {
                        &mut r.three_public_expenses.overseas_travel.get_or_insert_with(Default::default).persons
                    });
                } else if key.contains("团组") || matches!(unit.as_str(), "个" | "批" | "次") {
                    self.fill("three_public_expenses.overseas_travel.delegations", src, f, count, |r| {
                        &mut r.three_public_expenses.overseas_travel.get_or_insert_with(Default::default).delegations
                    });
                }
                return;
            }
            Some(ThreePublicItem::VehiclePurchase) if unit == "辆" => {
                ctx.counting = item;
                self.fill("three_public_expenses.vehicle_purchase.vehicles", src, f, count, |r| {
                    &mut r.three_public_expenses.vehicle_purchase.get_or_insert_with(Default::default).vehicles
                });
                return;
            }
            _ => {}
        }
        if unit == "辆" && contains_any(key, &["公务用车", "公车", "公务车", "在编车辆"]) {
            self.fill("profile.official_vehicles", src, f, count, |r| &mut r.profile.official_vehicles);
            return;
        }
        // Consolidated units: 纳入决算编制范围的单位共10个，其中行政单位3个
        if matches!(unit.as_str(), "个" | "家") && key.contains("单位") {
            if contains_any(key, &["编制范围", "纳入", "所属", "下属", "包括", "共有"]) && unit_type(key).is_none()
            {
                self.fill("profile.consolidated_units.stated_count", src, f, count, |r| {
                    &mut r.profile.consolidated_units.stated_count
                });
                return;
            }
            if let Some(kind) = unit_type(key) {
                let (path, slot): (&str, fn(&mut ConsolidatedUnits) -> &mut Option<i32>) = match kind {
                    UnitType::Administrative => ("administrative", |u| &mut u.stated_by_type.administrative),
                    UnitType::CivilServiceManaged => {
                        ("civil_service_managed", |u| &mut u.stated_by_type.civil_service_managed)
                    }
                    UnitType::Institutional => ("institutional", |u| &mut u.stated_by_type.institutional),
                    UnitType::Other => ("other", |u| &mut u.stated_by_type.other),
                };
                self.fill(&format!("profile.consolidated_units.stated_by_type.{path}"), src, f, count, |r| {
                    slot(&mut r.profile.consolidated_units)
                });
                return;
            }
        }
        if !matches!(unit.as_str(), "人" | "名") {
            return;
        }
        // Staffing: 编制, 在职 by category, 退休, 外聘
        if contains_any(key, &["退休", "离休"]) {
            self.fill("profile.retired", src, f, count, |r| &mut r.profile.retired);
            return;
        }
        if contains_any(key, &["外聘", "临时", "临聘", "聘用", "编外", "劳务派遣"]) {
            self.fill("profile.hired", src, f, count, |r| &mut r.profile.hired);
            return;
        }
        let scope = if key.contains("编制") {
            Some(StaffScope::Quota)
        } else if contains_any(key, &["在职", "在岗", "实有", "在编", "现有", "年末人数"]) {
            Some(StaffScope::InPost)
        } else {
            None
        };
        let category = staff_category(key);
        let scope = match scope {
            Some(scope) => {
                ctx.staff = Some(scope);
                scope
            }
            None if category.is_some() => match ctx.staff {
                Some(scope) => scope,
                None => return,
            },
            None => return,
        };
        let (group, field) = match (scope, category) {
            (StaffScope::Quota, None) => ("staffing_quota", "total"),
            (StaffScope::InPost, None) => ("", "staff_at_year_end"),
            (scope, Some(category)) => (
                if scope == StaffScope::Quota { "staffing_quota" } else { "staff_in_post" },
                match category {
                    StaffCategory::Administrative => "administrative",
                    StaffCategory::CivilServiceManaged => "civil_service_managed",
                    StaffCategory::Institutional => "institutional",
                    StaffCategory::GovernmentWorkers => "government_workers",
                },
            ),
        };
        let path = if group.is_empty() { format!("profile.{field}") } else { format!("profile.{group}.{field}") };
        self.fill(&path, src, f, count, move |r| {
            let p = &mut r.profile;
            match (group, field) {
                ("", _) => &mut p.staff_at_year_end,
                ("staffing_quota", "total") => &mut p.staffing_quota.total,
                ("staffing_quota", "administrative") => &mut p.staffing_quota.administrative,
                ("staffing_quota", "civil_service_managed") => &mut p.staffing_quota.civil_service_managed,
                ("staffing_quota", "institutional") => &mut p.staffing_quota.institutional,
                ("staffing_quota", _) => &mut p.staffing_quota.government_workers,
                (_, "administrative") => &mut p.staff_in_post.administrative,
                (_, "civil_service_managed") => &mut p.staff_in_post.civil_service_managed,
                (_, "institutional") => &mut p.staff_in_post.institutional,
                _ => &mut p.staff_in_post.government_workers,
            }
        });
    }

    /// `我镇设3个中心，1个执法队`: internal units by name and count.
    fn internal_unit(&mut self, li: usize, fi: usize, label: &Range<usize>, after: &Range<usize>) -> bool {
        let line = &self.lines[li];
        let fig = &line.figures[fi];
        if !matches!(fig.unit_text().as_str(), "个" | "支") || fig.value.fract() != Decimal::ZERO {
            return false;
        }
        let Some(count) = whole(fig.value) else { return false };
        let after = line.trim(after.clone());
        let name_range = if after.is_empty() {
            let label = strip_leading_range(line, label.clone());
            let mut label = strip_trailing_range(line, label);
            for word in ["下设", "设有", "设置", "设立", "设"] {
                if line.starts_with(&label, word) {
                    label.start += word.chars().count();
                    break;
                }
            }
            label
        } else {
            after
        };
        if name_range.is_empty() || line.key(name_range.clone()).contains("编制") {
            return false;
        }
        let name = line.text(name_range.clone());
        let i = self.record.profile.internal_units.len();
        self.record.profile.internal_units.push(InternalUnit { name, count });
        self.put(format!("profile.internal_units[{i}].name"), (li, name_range));
        self.put(format!("profile.internal_units[{i}].count"), self.fig_src(li, fi));
        self.mark((li, fi));
        true
    }

    /// 预决算公开: whether budgets and final accounts were published (`进行了预决算公开`,
    /// `公开了部门预算和决算`, `未进行决算公开`).
    fn disclosure(&mut self, li: usize, sentence: &Range<usize>) {
        let line = &self.lines[li];
        for clause in pat::clauses(&line.f, sentence.clone(), &line.figures) {
            let key = line.key(clause.clone());
            if !key.contains("公开") {
                continue;
            }
            let both = ["预决算", "预算、决算", "预算和决算", "预算及决算", "预算与决算"]
                .into_iter()
                .find(|w| key.contains(w));
            let (budget, accounts, word) = match both {
                Some(word) => (true, true, word),
                None if key.contains("决算") => (false, true, "决算"),
                None if key.contains("预算") => (true, false, "预算"),
                None => continue,
            };
            let value = !contains_any(&key, &["未", "没有", "尚未", "不予"]);
            // the span: from the phrase (or 公开, whichever comes first) to the clause end
            let phrase = pat::find_in(&line.f, clause.clone(), word).map_or(clause.start, |r| r.start);
            let published = pat::find_in(&line.f, clause.clone(), "公开").map_or(clause.start, |r| r.start);
            let src = (li, line.trim(phrase.min(published)..clause.end));
            if budget {
                self.fill("conclusion.budget_disclosed", src.clone(), None, value, |r| {
                    &mut r.conclusion.budget_disclosed
                });
            }
            if accounts {
                self.fill("conclusion.final_accounts_disclosed", src, None, value, |r| {
                    &mut r.conclusion.final_accounts_disclosed
                });
            }
        }
    }

    /// `自评得分95分`, `评价等级为优`.
    fn score_and_grade(&mut self, li: usize, sentence: &Range<usize>) {
        let line = &self.lines[li];
        for (fi, fig) in line.figures.iter().enumerate() {
            if fig.start < sentence.start || fig.end > sentence.end || fig.unit_text() != "分" {
                continue;
            }
            let before = line.key(sentence.start..fig.start);
            if ["得分", "总分", "得分为", "评分", "总分为"].iter().any(|w| before.ends_with(w)) {
                let src = self.fig_src(li, fi);
                self.fill("conclusion.total_score", src, Some((li, fi)), fig.value, |r| &mut r.conclusion.total_score);
            }
        }
        // longest first where one grade word starts another (不合格 before 合格, 优秀 before 优)
        const GRADES: [(&str, Grade); 8] = [
            ("不合格", Grade::Poor),
            ("优秀", Grade::Excellent),
            ("优", Grade::Excellent),
            ("良好", Grade::Good),
            ("良", Grade::Good),
            ("合格", Grade::Fair),
            ("中", Grade::Fair),
            ("差", Grade::Poor),
        ];
        for marker in ["等级为", "等级:", "等级是", "评定为", "评价为", "评级为", "等次为"] {
            let Some(at) = pat::find_in(&line.f, sentence.clone(), marker).map(|r| r.end) else { continue };
            let mut i = at;
            while i < sentence.end && matches!(line.f[i], '“' | '”' | '"' | ' ') {
                i += 1;
            }
            if let Some((word, grade)) = GRADES.iter().find(|(word, _)| line.starts_with(&(i..sentence.end), word)) {
                let n = word.chars().count();
                self.fill("conclusion.grade", (li, i..i + n), None, *grade, |r| &mut r.conclusion.grade);
                return;
            }
        }
    }

    // ---- the work achievements --------------------------------------------------------------

    fn narrative(&mut self) {
        let lines = self.lines;
        let sections = self.outline.sections(lines);
        let mut done: HashSet<usize> = HashSet::new();
        for section in &sections {
            if section.category == NarrativeCategory::BudgetManagement {
                continue;
            }
            self.section_rows.clear();
            let title = lines[section.heading].text(section.title.clone());
            let mut project: Option<usize> = None;
            for &li in &section.lines {
                if done.insert(li) {
                    self.narrative_line(li, &title, &mut project);
                }
            }
        }
        // Lines read as achievements without a section (a report without area headings)
        let mut rest: Vec<usize> = self.outline.achievement.iter().copied().filter(|li| !done.contains(li)).collect();
        rest.sort_unstable();
        self.section_rows.clear();
        let mut project = None;
        for li in rest {
            self.narrative_line(li, "", &mut project);
        }
    }

    fn narrative_line(&mut self, li: usize, title: &str, project: &mut Option<usize>) {
        let lines = self.lines;
        let line = &lines[li];
        for sentence in line.sentences.clone() {
            let clauses = pat::clauses(&line.f, sentence.clone(), &line.figures);
            if let Some(p) = self.project_mentions(li, &sentence) {
                *project = Some(p);
            }
            let mut previous: Option<RowName> = None;
            let first_row = self.record.indicators.len();
            for (fi, fig) in line.figures.iter().enumerate() {
                if fig.start < sentence.start || fig.start >= sentence.end || !fig.is_quantity() {
                    continue;
                }
                let Some(clause) = clauses.iter().find(|c| c.start <= fig.start && fig.start < c.end).cloned() else {
                    continue;
                };
                let label = label_range(line, fi, &clause, &clauses);
                let after = after_range(line, fi, &clause);
                if fig.is_money() {
                    let key = line.key(label.clone());
                    if contains_any(&key, pat::DISBURSEMENT_WORDS) || contains_any(&key, pat::ECONOMIC_EFFECTS) {
                        if let Some(row) = self.row(li, fi, &clause, &label, &after, previous.as_ref()) {
                            previous = Some(row);
                        }
                    } else {
                        self.project_funds(li, fi, &sentence, &clauses, &clause, &label, &after, title, *project);
                    }
                    continue;
                }
                if fig.unit == Unit::Percent && line.key(label.clone()).contains("完成") {
                    if let Some(p) = *project {
                        if self.record.projects[p].progress.is_none() {
                            self.record.projects[p].progress = Some(pat::fraction(fig.value));
                            self.put(format!("projects[{p}].progress"), self.fig_src(li, fi));
                            self.mark((li, fi));
                        }
                    }
                }
                if let Some(row) = self.row(li, fi, &clause, &label, &after, previous.as_ref()) {
                    previous = Some(row);
                }
            }
            self.count_nouns(first_row);
            for clause in &clauses {
                self.qualitative_row(li, clause);
            }
        }
    }

    /// `推进荫田水厂项目建设`: a project named in the text.
    fn project_mentions(&mut self, li: usize, sentence: &Range<usize>) -> Option<usize> {
        let line = &self.lines[li];
        let mut found = None;
        let mut at = sentence.start;
        while let Some(word) = pat::find_in(&line.f, at..sentence.end, "项目") {
            at = word.end;
            // the name runs back from 项目 to a verb of work
            let verbs =
                ["推进", "实施", "建设", "启动", "开工", "完成", "引进", "争取", "谋划", "落实", "新建", "续建"];
            let mut start = None;
            let mut i = word.start;
            while i > sentence.start && i + 30 > word.start {
                let c = line.f[i - 1];
                if matches!(c, ',' | ';' | ':' | '。' | '、' | '(' | ')') {
                    break;
                }
                i -= 1;
                if let Some(v) = verbs.iter().find(|v| line.starts_with(&(i..word.start), v)) {
                    start = Some(i + v.chars().count());
                    break;
                }
            }
            let Some(start) = start else { continue };
            if word.end - start < 4 {
                continue;
            }
            let name = line.text(start..word.end);
            if let Some(existing) = self.record.projects.iter().position(|p| p.name == name) {
                found = Some(existing);
                continue;
            }
            let p = self.record.projects.len();
            let note_range = line.trim(sentence.start..sentence.end);
            self.record.projects.push(Project {
                name,
                budget: None,
                executed: None,
                progress: None,
                note: Some(line.text(note_range.clone())),
            });
            self.put(format!("projects[{p}].name"), (li, start..word.end));
            self.put(format!("projects[{p}].note"), (li, note_range));
            found = Some(p);
        }
        found
    }

    /// Money spent on work: a project's funds, named by the clause or what the item is about.
    #[allow(clippy::too_many_arguments)]
    fn project_funds(
        &mut self,
        li: usize,
        fi: usize,
        sentence: &Range<usize>,
        clauses: &[Range<usize>],
        clause: &Range<usize>,
        label: &Range<usize>,
        after: &Range<usize>,
        title: &str,
        mentioned: Option<usize>,
    ) {
        let line = &self.lines[li];
        let Some(amount) = self.amount(li, fi) else { return };
        let raw = line.key(label.clone());
        let future = contains_any(&raw, &["预计", "计划", "拟", "将", "力争", "预算", "安排"]);
        // The name: the clause's own words, else the next clause in the sentence, else the item
        let mut name_src: Option<Range<usize>> = None;
        let mut name = project_name(line, label.clone());
        if name.is_empty() {
            let after = line.trim(after.clone());
            if line.starts_with(&after, "用于") {
                let r = after.start + 2..after.end;
                name = line.text(r.clone());
                name_src = Some(r);
            }
        } else {
            name_src = Some(label.clone());
        }
        if name.is_empty() {
            let next = clauses
                .iter()
                .find(|c| c.start > clause.start)
                .filter(|c| !line.figures.iter().any(|f| f.start >= c.start && f.end <= c.end && f.is_money()));
            if let Some(next) = next {
                let (text, range) = work_phrase(line, next.clone());
                if !text.is_empty() {
                    name = text;
                    name_src = Some(range);
                }
            }
        }
        if name.is_empty() {
            if let Some(p) = mentioned {
                let member = if future { "budget" } else { "executed" };
                let project = &mut self.record.projects[p];
                let slot = if future { &mut project.budget } else { &mut project.executed };
                if slot.is_none() {
                    *slot = Some(amount);
                    self.put(format!("projects[{p}].{member}"), self.fig_src(li, fi));
                    self.mark((li, fi));
                }
                return;
            }
            if let Some((text, range)) = item_topic(line, sentence.start) {
                name = text;
                name_src = Some(range);
            } else if !title.is_empty() {
                name = title.to_owned();
            }
        }
        if name.is_empty() {
            return;
        }
        let p = self.record.projects.len();
        let note_range = line.trim(sentence.clone());
        let mut project =
            Project { name, budget: None, executed: None, progress: None, note: Some(line.text(note_range.clone())) };
        let member = if future {
            project.budget = Some(amount);
            "budget"
        } else {
            project.executed = Some(amount);
            "executed"
        };
        self.record.projects.push(project);
        self.put(format!("projects[{p}].name"), (li, name_src.unwrap_or(clause.clone())));
        self.put(format!("projects[{p}].{member}"), self.fig_src(li, fi));
        self.put(format!("projects[{p}].note"), (li, note_range));
        self.mark((li, fi));
    }

    /// An indicator row from a figure in the work achievements.
    fn row(
        &mut self,
        li: usize,
        fi: usize,
        clause: &Range<usize>,
        label: &Range<usize>,
        after: &Range<usize>,
        previous: Option<&RowName>,
    ) -> Option<RowName> {
        let line = &self.lines[li];
        let fig = &line.figures[fi];
        let raw_key = line.key(label.clone());
        let core = strip_trailing_range(line, strip_leading_range(line, label.clone()));
        let mut label_text = line.text(core.clone());
        // A Chinese numeral counts only after a verb of setting up (建立一个, 成立环卫队一个).
        if fig.chinese && longest_prefix(&label_text, pat::OUTPUT_VERBS).is_none() {
            return None;
        }
        let future = contains_any(
            &raw_key,
            &["将", "预计", "计划", "力争", "预期", "有望", "可望", "拟", "建成后", "投产后", "完成后"],
        );
        let mut unit = fig.unit_text();
        let duration = pat::DURATION_UNITS.contains(&unit.as_str());
        if duration {
            label_text = strip_words(&label_text, &[pat::ADVERBS, pat::GENERIC_VERBS]);
        }
        // A prepositional phrase before the verb is dropped (向重点村…下派 → 下派)
        if label_text.starts_with(pat::PREPOSITIONS) {
            let verb_at = label_text
                .char_indices()
                .skip(1)
                .find(|(at, _)| longest_prefix(&label_text[*at..], pat::OUTPUT_VERBS).is_some())
                .map(|(at, _)| at);
            if let Some(at) = verb_at {
                label_text = label_text[at..].to_owned();
            }
        }
        let mut after_text = line.text(line.trim(after.clone()));
        for stop in ["等", "为引领", "为重点", "为"] {
            if label_text == "以" || stop == "等" {
                if let Some(at) = after_text.find(stop) {
                    after_text.truncate(at);
                }
            }
        }
        if duration {
            after_text = after_text.trim_start_matches("不间断").to_owned();
        }
        let mut name = if label_text == "以" { after_text.clone() } else { format!("{label_text}{after_text}") };
        // 对X进行Y → XY
        if let Some(rest) = name.strip_prefix('对') {
            if let Some(at) = rest.find("进行") {
                let object = &rest[..at];
                let action = rest[at + "进行".len()..].trim_start_matches('了');
                name = format!("{object}{action}");
            }
        }
        // 开展义务献血、…等新时代文明实践活动 → 开展新时代文明实践活动
        if let (Some(list), Some(etc)) = (name.find('、'), name.rfind('等')) {
            if list < etc {
                let verb = longest_prefix(&name, pat::OUTPUT_VERBS).unwrap_or("");
                name = format!("{verb}{}", &name[etc + '等'.len_utf8()..]);
            }
        }
        let verb = longest_prefix(&name, pat::OUTPUT_VERBS);
        // What a row takes from the row before it in the sentence: all of its name (a bare
        // figure), its subject (an attribute: 年产值), or, for rows of the same kind of thing, its
        // object (a bare verb: 已经拆除438栋) or its verb (a 其中 item).
        let same_kind = previous.filter(|prev| prev.same_kind(&unit));
        let verb_only = verb.is_some_and(|v| v == name);
        if let (Some(prev), true) = (previous, name.is_empty()) {
            name = prev.name.clone();
        } else if let (Some(prev), true) = (previous, pat::ATTRIBUTES.contains(&name.as_str())) {
            name = format!("{}{name}", prev.subject());
        } else if let (Some(prev), true) = (same_kind, verb_only) {
            name = format!("{name}{}", prev.object());
        } else if let (Some(prev), true, None) = (same_kind, raw_key.starts_with("其中"), verb) {
            if let Some(v) = prev.verb {
                name = format!("{v}{name}");
            }
        } else if let Some(v) = verb.filter(|_| verb_only) {
            // 开展脱贫质量集中排查，…，累计排查1597户: the verb's object is named earlier in the sentence
            if let Some(named) = clauses_before(line, clause.start).into_iter().rev().find(|c| {
                line.key(c.clone()).contains(v)
                    && !line.figures.iter().any(|f| f.start >= c.start && f.end <= c.end && f.is_quantity())
            }) {
                let text =
                    strip_words(&line.text(strip_leading_range(line, named)), &[pat::ADVERBS, pat::GENERIC_VERBS]);
                if text.chars().count() > v.chars().count() {
                    name = text;
                }
            }
        }
        if name.is_empty() {
            return None;
        }
        if name.ends_with("种植") && pat::AREA_UNITS.contains(&unit.as_str()) {
            name.push_str("面积");
        }
        if let Some(stem) = name.strip_suffix("面积新增") {
            name = format!("{stem}新增面积");
        }
        if ["每天", "每日", "日均", "日"].iter().any(|w| line.key(core.clone()).starts_with(w)) {
            unit.push_str("/日");
        } else if duration && fig.value == Decimal::from(24) && unit == "小时" {
            unit = "小时/日".into();
        }
        let verb = longest_prefix(&name, pat::OUTPUT_VERBS);
        let row_name = RowName { name: name.clone(), verb, unit: unit.clone() };
        // The same output stated again (烟叶种植面积2000亩 … 烟叶种植面积2000余亩)
        let repeated = self.section_rows.iter().copied().find(|&i| {
            let other = &self.record.indicators[i];
            other.unit_of_measure.as_deref() == Some(unit.as_str())
                && (other.actual == Some(fig.value) || other.target == Some(fig.value))
                && shares_subject(&other.name, &name)
        });
        if repeated.is_some() {
            self.mark((li, fi));
            return Some(row_name);
        }
        let (level_1, level_2) = levels(&name, &unit);
        let figure_text = line.text(fig.start..fig.end);
        let text = (fig.approx || fig.chinese).then(|| figure_text.clone());
        let indicator = Indicator {
            level_1,
            level_1_points: None,
            level_2,
            name,
            code: None,
            matched_code: None,
            unit_of_measure: Some(unit),
            direction: None,
            target: future.then_some(fig.value),
            target_text: if future { text.clone() } else { None },
            actual: (!future).then_some(fig.value),
            actual_text: if future { None } else { text },
            weight: None,
            score: None,
            achievement: None,
            applicable: true,
            deviation_reason: None,
        };
        let i = self.record.indicators.len();
        let value_member = if future { "target" } else { "actual" };
        let has_text = indicator.actual_text.is_some() || indicator.target_text.is_some();
        self.record.indicators.push(indicator);
        self.section_rows.push(i);
        let src = self.fig_src(li, fi);
        let clause_src = (li, clause.clone());
        self.put(format!("indicators[{i}].level_1"), clause_src.clone());
        self.put(format!("indicators[{i}].level_2"), clause_src.clone());
        self.put(format!("indicators[{i}].name"), clause_src);
        self.put(format!("indicators[{i}].unit_of_measure"), src.clone());
        self.put(format!("indicators[{i}].{value_member}"), src.clone());
        if has_text {
            self.put(format!("indicators[{i}].{value_member}_text"), src);
        }
        self.mark((li, fi));
        Some(row_name)
    }

    /// Rows of one sentence with one name in different units (`排查1597户，4949人`) are told apart
    /// by the count each is: 户数, 人数.
    fn count_nouns(&mut self, first: usize) {
        let rows = &mut self.record.indicators[first..];
        for i in 0..rows.len() {
            let twins: Vec<usize> = (0..rows.len()).filter(|&j| rows[j].name == rows[i].name).collect();
            let units: HashSet<_> = twins.iter().map(|&j| rows[j].unit_of_measure.clone()).collect();
            if twins.len() < 2 || units.len() < 2 {
                continue;
            }
            for j in twins {
                if let Some(unit) =
                    rows[j].unit_of_measure.as_deref().filter(|u| ["户", "人", "名", "个", "家"].contains(u))
                {
                    let unit = if unit == "名" { "人" } else { unit };
                    rows[j].name = format!("{}{unit}数", rows[j].name);
                }
            }
        }
    }

    /// `党的二十大特护期间无出省和赴京上访情况`: an outcome stated as the absence of something.
    fn qualitative_row(&mut self, li: usize, clause: &Range<usize>) {
        let line = &self.lines[li];
        if line.figures.iter().any(|f| f.start >= clause.start && f.end <= clause.end && f.is_quantity()) {
            return;
        }
        let range = line.trim(clause.clone());
        let ends = ["情况", "现象", "事件", "事故", "案件"];
        if !ends.iter().any(|e| line.ends_with(&range, e)) {
            return;
        }
        let Some(negation) = ["未发生", "无"].iter().find_map(|w| pat::find_in(&line.f, range.clone(), w)) else {
            return;
        };
        let end_word = ends.iter().find(|e| line.ends_with(&range, e)).map_or(0, |e| e.chars().count());
        let before = line.text(strip_leading_range(line, range.start..negation.start));
        let thing = line.text(negation.end..range.end - end_word);
        if thing.chars().count() < 2 {
            return;
        }
        let name = format!("{before}{thing}");
        let i = self.record.indicators.len();
        self.record.indicators.push(Indicator {
            level_1: IndicatorLevel1::Effect,
            level_1_points: None,
            level_2: IndicatorLevel2::SocialBenefit,
            name,
            code: None,
            matched_code: None,
            unit_of_measure: None,
            direction: None,
            target: None,
            target_text: None,
            actual: None,
            actual_text: Some(line.text(negation.start..range.end)),
            weight: None,
            score: None,
            achievement: None,
            applicable: true,
            deviation_reason: None,
        });
        let src = (li, range.clone());
        for member in ["level_1", "level_2", "name"] {
            self.put(format!("indicators[{i}].{member}"), src.clone());
        }
        self.put(format!("indicators[{i}].actual_text"), (li, negation.start..range.end));
    }

    // ---- texts ------------------------------------------------------------------------------

    fn texts(&mut self) {
        let lines = self.lines;
        let outline = self.outline;
        let first_heading = outline.roles.iter().position(|r| matches!(r, Role::Heading { .. })).unwrap_or(lines.len());
        // The opening: body lines before the first heading
        let intro: Vec<usize> = (0..first_heading).filter(|&li| outline.roles[li] == Role::Body).collect();
        if let Some(text) = self.joined(&intro, "narrative.introduction") {
            self.record.narrative.introduction = Some(text);
        }
        for section in outline.sections(lines) {
            let i = self.record.narrative.sections.len();
            let title = lines[section.heading].text(section.title.clone());
            let Some(text) = self.joined(&section.lines, &format!("narrative.sections[{i}].text")) else { continue };
            self.record.narrative.sections.push(NarrativeSection {
                category: section.category,
                title: Some(title),
                text,
            });
            self.put(format!("narrative.sections[{i}].category"), (section.heading, section.title.clone()));
            self.put(format!("narrative.sections[{i}].title"), (section.heading, section.title.clone()));
        }
        for h in 0..lines.len() {
            let Role::Heading { part, inline, .. } = outline.roles[h] else { continue };
            // a part's own lines, not those of a deeper heading that opens another part
            let mut body: Vec<usize> = Vec::new();
            if inline.is_some() {
                body.push(h);
            }
            body.extend(outline.body(h).into_iter().filter(|&j| {
                outline.part_of_line(j) == Some(part)
                    && outline.parent[j] == Some(h)
                    && !matches!(outline.roles[j], Role::Heading { inline: None, .. })
            }));
            match part {
                Part::Duties => {
                    for item in self.items(&body, true) {
                        let i = self.record.profile.duties.len();
                        self.record.profile.duties.push(item.0);
                        self.put(format!("profile.duties[{i}]"), item.1);
                    }
                }
                Part::Purpose if self.record.narrative.evaluation_purpose.is_none() => {
                    self.record.narrative.evaluation_purpose = self.joined(&body, "narrative.evaluation_purpose");
                }
                Part::Process if self.record.narrative.evaluation_process.is_none() => {
                    self.record.narrative.evaluation_process = self.joined(&body, "narrative.evaluation_process");
                }
                Part::Conclusion if self.record.conclusion.text.is_none() => {
                    self.record.conclusion.text = self.joined(&body, "conclusion.text");
                }
                Part::Problems | Part::Suggestions | Part::ProblemsAndSuggestions => {
                    for (text, src) in self.items(&body, false) {
                        let suggestion = match part {
                            Part::Suggestions => true,
                            Part::Problems => false,
                            _ => text.contains("建议"),
                        };
                        let list = if suggestion {
                            &mut self.record.conclusion.suggestions
                        } else {
                            &mut self.record.conclusion.problems
                        };
                        let i = list.len();
                        list.push(text);
                        let group = if suggestion { "suggestions" } else { "problems" };
                        self.put(format!("conclusion.{group}[{i}]"), src);
                    }
                }
                _ => {}
            }
        }
    }

    /// The printed text of lines joined by line breaks, with one provenance entry per line (of
    /// a heading with an inline body, the text after its colon).
    fn joined(&mut self, body: &[usize], path: &str) -> Option<String> {
        let mut parts = Vec::new();
        for &li in body {
            let line = &self.lines[li];
            let start = match self.outline.roles[li] {
                Role::Heading { inline: Some(at), .. } => at,
                _ => 0,
            };
            let range = line.trim(start..line.len());
            if range.is_empty() {
                continue;
            }
            parts.push(line.text(range.clone()));
            self.put(path, (li, range));
        }
        (!parts.is_empty()).then(|| parts.join("\n"))
    }

    /// List items of a part: each line without its numbering (a line that numbers several items
    /// inline, `一是…；二是…`, gives each).
    fn items(&self, body: &[usize], split_semicolons: bool) -> Vec<(String, Src)> {
        let mut out = Vec::new();
        for &li in body {
            let line = &self.lines[li];
            let start = match self.outline.roles[li] {
                Role::Heading { inline: Some(at), .. } => at,
                _ => line.body_start(),
            };
            let range = line.trim(start..line.len());
            if range.is_empty() {
                continue;
            }
            // 一是…二是…, （一）…（二）…: split when the line numbers two or more items inline
            let mut marks: Vec<(usize, usize)> = Vec::new();
            for i in range.clone() {
                if i == range.start || matches!(line.f[i - 1], '。' | ';' | ':' | ',') {
                    if let Some(len) =
                        pat::item_marker_at(&line.f, i).or_else(|| pat::ordinal(&line.f[i..]).map(|o| o.0))
                    {
                        marks.push((i, len));
                    }
                }
            }
            // an unnumbered list of duties: 贯彻执行…；负责…。
            if marks.len() < 2 && split_semicolons && line.ordinal.is_none() {
                marks = vec![(range.start, 0)];
                marks.extend((range.start..range.end - 1).filter(|&i| line.f[i] == ';').map(|i| (i + 1, 0)));
            }
            if marks.len() >= 2 {
                for (k, (at, len)) in marks.iter().enumerate() {
                    let mut end = marks.get(k + 1).map_or(range.end, |m| m.0);
                    while end > at + len && matches!(line.f[end - 1], ';' | ',' | ' ') {
                        end -= 1;
                    }
                    let item = line.trim(at + len..end);
                    if !item.is_empty() {
                        out.push((line.text(item.clone()), (li, item)));
                    }
                }
            } else {
                out.push((line.text(range.clone()), (li, range)));
            }
        }
        out
    }

    // ---- the draft --------------------------------------------------------------------------

    fn finish(mut self) -> Draft {
        // Income lines in the order of the 部门决算 income table; expenditure by structure.
        let mut income = std::mem::take(&mut self.income_lines);
        income.sort_by_key(|(line, _)| line.category as u8);
        for (i, (line, sources)) in income.into_iter().enumerate() {
            for (member, src) in sources {
                self.put(format!("income.lines[{i}].{member}"), src);
            }
            self.record.income.lines.push(line);
        }
        let mut expenditure = std::mem::take(&mut self.expenditure_lines);
        // A structure total stated without lines of its own is its one line (项目支出901.44万元).
        for (structure, total, path, name) in [
            (ExpenditureStructure::Basic, self.record.expenditure.basic_total, "expenditure.basic_total", "基本支出"),
            (
                ExpenditureStructure::Project,
                self.record.expenditure.project_total,
                "expenditure.project_total",
                "项目支出",
            ),
            (
                ExpenditureStructure::Business,
                self.record.expenditure.business_total,
                "expenditure.business_total",
                "经营支出",
            ),
        ] {
            let Some(total) = total else { continue };
            if expenditure.iter().any(|(l, _)| l.structure == structure) {
                continue;
            }
            let Some(src) = self.provenance.iter().find(|(p, _)| p == path).map(|(_, s)| s.clone()) else { continue };
            let budget = expenditure.iter().any(|(l, _)| l.initial_budget.is_some() && l.executed.is_none());
            let member = if budget { "initial_budget" } else { "executed" };
            let line = ExpenditureLine {
                structure,
                economic_class: None,
                name: Some(name.into()),
                initial_budget: budget.then_some(total),
                adjusted_budget: None,
                executed: (!budget).then_some(total),
            };
            expenditure.push((line, vec![("structure", src.clone()), ("name", src.clone()), (member, src)]));
        }
        expenditure.sort_by_key(|(line, _)| line.structure as u8);
        for (i, (line, sources)) in expenditure.into_iter().enumerate() {
            for (member, src) in sources {
                self.put(format!("expenditure.lines[{i}].{member}"), src);
            }
            self.record.expenditure.lines.push(line);
        }
        // Vehicles held are the vehicles of the operation costs
        let vehicles = self.record.profile.official_vehicles;
        if let (Some(vehicles), Some(operation)) =
            (vehicles, self.record.three_public_expenses.vehicle_operation.as_mut())
        {
            if operation.vehicles.is_none() {
                operation.vehicles = Some(vehicles);
                if let Some(src) =
                    self.provenance.iter().find(|(p, _)| p == "profile.official_vehicles").map(|(_, s)| s.clone())
                {
                    self.put("three_public_expenses.vehicle_operation.vehicles", src);
                }
            }
        }
        // The unit most finance amounts are printed in
        let [(wan, wan_src), (yuan, yuan_src)] = self.money_units.clone();
        if wan + yuan > 0 {
            let (reported_in, src) =
                if yuan > wan { (ReportedIn::Yuan, yuan_src) } else { (ReportedIn::TenThousandYuan, wan_src) };
            self.record.reported_in = reported_in;
            if let Some(src) = src {
                self.put("reported_in", src);
            }
        }
        let unmatched = self.unmatched();
        let lines = self.lines;
        let texts = self.texts;
        let span = |(li, range): &Src| -> Source {
            let line = &lines[*li];
            let (start, end) = if range.is_empty() {
                let at = line.origin.get(range.start).copied().unwrap_or(0);
                (at, at)
            } else {
                (line.origin[range.start], line.origin[range.end - 1] + 1)
            };
            let text: String = texts[line.block][start..end].iter().collect();
            Source::Span { paragraph: line.block, start, end, text }
        };
        let provenance =
            self.provenance.iter().map(|(field, src)| Provenance { field: field.clone(), source: span(src) }).collect();
        let unmatched = unmatched.iter().map(|src| Unmatched { source: span(src) }).collect();
        Draft { record: self.record, provenance, unmatched, notes: self.notes, sheet: None }
    }

    /// Sentences holding a digit from which no figure was read. Mentions of the fiscal year and
    /// a line's numbering do not count as figures.
    fn unmatched(&self) -> Vec<Src> {
        let fy = self.fy();
        let mut out = Vec::new();
        for (li, line) in self.lines.iter().enumerate() {
            if self.outline.roles[li] == Role::Artifact {
                continue;
            }
            let skip = line.body_start();
            let mut fy_mention = vec![false; line.len()];
            for f in line.figures.iter().filter(|f| fy != 0 && f.year() == Some(fy)) {
                fy_mention[f.start..f.end].fill(true);
            }
            for sentence in &line.sentences {
                let digits =
                    (sentence.start.max(skip)..sentence.end).any(|i| line.f[i].is_ascii_digit() && !fy_mention[i]);
                if !digits {
                    continue;
                }
                let read = line.figures.iter().enumerate().any(|(fi, f)| {
                    f.start >= sentence.start && f.start < sentence.end && self.used.contains(&(li, fi))
                });
                if !read {
                    out.push((li, line.trim(sentence.clone())));
                }
            }
        }
        out
    }
}

/// The label of a figure: the clause's words before it (after the figure before it in the same
/// clause); a label-less figure after a colon takes the clause before the colon.
fn label_range(line: &Line, fi: usize, clause: &Range<usize>, clauses: &[Range<usize>]) -> Range<usize> {
    let fig = &line.figures[fi];
    let mut start = clause.start;
    for prev in line.figures[..fi].iter().rev() {
        if prev.start >= clause.start && prev.end <= fig.start && prev.is_quantity() {
            start = prev.end;
            break;
        }
    }
    let range = line.trim(start..fig.start);
    if range.is_empty() && clause.start > 0 && line.f[clause.start - 1] == ':' && start == clause.start {
        if let Some(before) = clauses.iter().rev().find(|c| c.end < clause.start) {
            return line.trim(before.clone());
        }
    }
    range
}

/// A count as a whole number (`3`, `3.0`), or none for `2.5`.
fn whole(value: Decimal) -> Option<i32> {
    if value.fract() != Decimal::ZERO {
        return None;
    }
    let value = value.normalize();
    i32::try_from(value.mantissa()).ok().filter(|_| value.scale() == 0)
}

/// The clauses of the sentence holding `at` that end before it.
fn clauses_before(line: &Line, at: usize) -> Vec<Range<usize>> {
    let Some(sentence) = line.sentences.iter().find(|s| s.start <= at && at < s.end) else { return Vec::new() };
    pat::clauses(&line.f, sentence.clone(), &line.figures).into_iter().filter(|c| c.end <= at).collect()
}

/// The reason a sentence gives for a change (`主要原因是严格控制公务接待`).
fn reason_in(li: usize, line: &Line, sentence: &Range<usize>) -> Option<Src> {
    let marker = ["主要原因是", "主要原因为", "原因是", "原因为", "主要原因:", "原因:", "主要是由于", "主要是因为"]
        .iter()
        .find_map(|w| pat::find_in(&line.f, sentence.clone(), w))?;
    let mut end = sentence.end;
    while end > marker.end && matches!(line.f[end - 1], '。' | ';' | '.' | ' ') {
        end -= 1;
    }
    let range = line.trim(marker.end..end);
    (!range.is_empty()).then_some((li, range))
}

/// The words after a figure up to the next figure or the clause end.
fn after_range(line: &Line, fi: usize, clause: &Range<usize>) -> Range<usize> {
    let fig = &line.figures[fi];
    let end = line.figures[fi + 1..]
        .iter()
        .find(|f| f.start >= fig.end && f.start < clause.end && f.is_quantity())
        .map_or(clause.end, |f| f.start);
    fig.end..end.max(fig.end)
}

fn starts_with_any(text: &str, a: &[&str], b: &[&str]) -> bool {
    a.iter().chain(b).any(|w| text.starts_with(w))
}

/// A label key without its leading fillers and trailing copulas.
fn strip_key(key: &str) -> String {
    let mut key = key.to_owned();
    loop {
        let before = key.len();
        if let Some(w) = longest_prefix(&key, pat::LABEL_LEADS) {
            key = key[w.len()..].to_owned();
        }
        if key.len() == before {
            break;
        }
    }
    key
}

/// A date prefix at `at`: `2022年`, `2022年度`, `2022年以来`, `2022年来`, `5月`; its length.
fn year_prefix(line: &Line, at: usize, end: usize) -> Option<usize> {
    let fig = line.figures.iter().find(|f| f.start == at && f.is_date())?;
    let mut i = fig.end;
    for tail in ["以来", "来", "全年", "底", "末", "期间", "中旬", "上旬", "下旬"] {
        if line.starts_with(&(i..end), tail) {
            i += tail.chars().count();
            break;
        }
    }
    (i <= end).then_some(i - at)
}

/// A label range without its leading fillers: ordinals and item markers, years, 其中, 全镇,
/// 累计, adverbs, and the markers of a plan.
fn strip_leading_range(line: &Line, range: Range<usize>) -> Range<usize> {
    let mut r = line.trim(range);
    r.start = r.start.max(line.body_start()).min(r.end);
    loop {
        let before = r.clone();
        if let Some(len) = pat::item_marker_at(&line.f, r.start).filter(|l| r.start + l <= r.end) {
            r.start += len;
        }
        if let Some(len) = year_prefix(line, r.start, r.end) {
            r.start += len;
        }
        let rest = line.key(r.clone());
        for words in [pat::LABEL_LEADS, pat::ADVERBS, pat::FUTURE_MARKERS, &["完成"]] {
            if let Some(w) = longest_prefix(&rest, words) {
                let n = w.chars().count();
                if r.end - r.start > n && line.starts_with(&r, w) {
                    r.start += n;
                    break;
                }
            }
        }
        r = line.trim(r);
        if r == before {
            return r;
        }
    }
}

/// A label range without trailing copulas (`达`, `超过`, `就有`).
fn strip_trailing_range(line: &Line, range: Range<usize>) -> Range<usize> {
    let mut r = range;
    loop {
        let before = r.clone();
        if let Some(w) = pat::LABEL_TAILS.iter().find(|w| line.ends_with(&r, w) && r.end - r.start > w.chars().count())
        {
            r.end -= w.chars().count();
        }
        r = line.trim(r);
        if r == before {
            return r;
        }
    }
}

/// Leading words from the given lists removed, repeatedly.
fn strip_words(text: &str, lists: &[&[&str]]) -> String {
    let mut text = text.to_owned();
    loop {
        let before = text.len();
        for list in lists {
            if let Some(w) = longest_prefix(&text, list) {
                if text.len() > w.len() {
                    text = text[w.len()..].to_owned();
                }
            }
        }
        if text.len() == before {
            return text;
        }
    }
}

/// The name of a project from the words before its money (`购买消防车及增压水泵等设施资金就有`):
/// without fillers, the verb of spending and the word 资金.
fn project_name(line: &Line, label: Range<usize>) -> String {
    let core = strip_trailing_range(line, strip_leading_range(line, label));
    let mut name = line.text(core);
    if name.starts_with(['为', '对', '在']) {
        name = name.chars().skip(1).collect();
    }
    for tail in ["累计投入", "共投入", "投入资金", "投入", "投资", "资金", "经费", "用于", "共计", "支出", "花费"]
    {
        if let Some(stripped) = name.strip_suffix(tail) {
            name = stripped.to_owned();
        }
    }
    for lead in ["投入资金", "投入", "投资", "资金", "经费", "支出", "花费", "拨付"] {
        if let Some(stripped) = name.strip_prefix(lead) {
            name = stripped.to_owned();
        }
    }
    name.replace("进行了", "").replace("进行", "")
}

/// What a clause says is done (`对18个小二型水库进行除险加固` → 小二型水库除险加固).
fn work_phrase(line: &Line, clause: Range<usize>) -> (String, Range<usize>) {
    let core = strip_trailing_range(line, strip_leading_range(line, clause));
    let text = line.text(core.clone());
    let mut name: String = text.chars().filter(|c| !c.is_ascii_digit()).collect();
    if let Some(rest) = name.strip_prefix('对') {
        if let Some(at) = rest.find("进行") {
            let object = rest[..at].trim_start_matches(|c: char| c.is_ascii_digit() || "个座处所".contains(c));
            let action = rest[at + "进行".len()..].trim_start_matches('了');
            name = format!("{object}{action}");
        }
    } else if name.starts_with('为') {
        name = name.chars().skip(1).collect();
    }
    (name, core)
}

/// What the current item of a paragraph is about: the first clause after the last `一是`,
/// `二是` before `at` (or a short lead sentence of the paragraph), without its verbs of work.
fn item_topic(line: &Line, at: usize) -> Option<(String, Range<usize>)> {
    let mut start = None;
    for i in (0..at.min(line.len())).rev() {
        if let Some(len) = pat::item_marker_at(&line.f, i) {
            if i == 0 || matches!(line.f[i - 1], '。' | ';' | ':' | ',') {
                start = Some(i + len);
                break;
            }
        }
    }
    let start = match start {
        Some(s) => s,
        None => {
            let first = line.sentences.first()?.clone();
            if line.body_start() + 1 >= first.end {
                return None;
            }
            let r = line.trim(line.body_start()..first.end - 1);
            if r.end - r.start > 20 || r.is_empty() {
                return None;
            }
            r.start
        }
    };
    let end = (start..line.len()).find(|&i| matches!(line.f[i], ',' | '。' | ';' | ':')).unwrap_or(line.len());
    let text = strip_words(&line.text(start..end), &[pat::ADVERBS, pat::GENERIC_VERBS]);
    (!text.is_empty()).then_some((text, start..end))
}

/// Two names of one output: a common part of two chars that is not a word every output has.
fn shares_subject(a: &str, b: &str) -> bool {
    const GENERIC: &[&str] = &["种植", "面积", "产值", "发放", "开展", "排查", "完成", "新增", "人员", "全镇", "年产"];
    let a: Vec<char> = a.chars().collect();
    a.windows(2).any(|w| {
        let pair: String = w.iter().collect();
        !GENERIC.contains(&pair.as_str()) && b.contains(&pair)
    })
}

/// The indicator levels a row's words and unit say.
fn levels(name: &str, unit: &str) -> (IndicatorLevel1, IndicatorLevel2) {
    if name.contains("满意") {
        (IndicatorLevel1::Satisfaction, IndicatorLevel2::ServiceSatisfaction)
    } else if pat::DURATION_UNITS.iter().any(|u| unit.starts_with(u)) {
        (IndicatorLevel1::Output, IndicatorLevel2::Timeliness)
    } else if contains_any(name, pat::ECONOMIC_EFFECTS) {
        (IndicatorLevel1::Effect, IndicatorLevel2::EconomicBenefit)
    } else if contains_any(name, pat::ECOLOGICAL_EFFECTS) {
        (IndicatorLevel1::Effect, IndicatorLevel2::EcologicalBenefit)
    } else if contains_any(name, &["合格率", "达标率", "验收合格", "优良率"]) {
        (IndicatorLevel1::Output, IndicatorLevel2::Quality)
    } else if (unit == "%" && name.contains('率')) || contains_any(name, pat::SOCIAL_EFFECTS) {
        (IndicatorLevel1::Effect, IndicatorLevel2::SocialBenefit)
    } else if name.contains("成本") {
        (IndicatorLevel1::Output, IndicatorLevel2::Cost)
    } else {
        (IndicatorLevel1::Output, IndicatorLevel2::Quantity)
    }
}

/// Document references (`湘财绩【2013】29号`) in a line: their ranges and the figures inside.
fn document_numbers(line: &Line) -> Vec<(Range<usize>, Vec<usize>)> {
    let f = &line.f;
    let mut out = Vec::new();
    for open in 0..f.len() {
        let Some(close_char) = (match f[open] {
            '【' => Some('】'),
            '〔' => Some('〕'),
            '[' => Some(']'),
            '(' => Some(')'),
            _ => None,
        }) else {
            continue;
        };
        let year = (open + 1..open + 5).all(|i| f.get(i).is_some_and(|c| c.is_ascii_digit()));
        if !year || f.get(open + 5) != Some(&close_char) {
            continue;
        }
        let digits = f[open + 6..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 || f.get(open + 6 + digits) != Some(&'号') {
            continue;
        }
        let end = open + 7 + digits;
        let start = (0..open).rev().take_while(|&i| pat::is_cjk(f[i])).last().unwrap_or(open);
        if open - start < 2 || open - start > 10 {
            continue;
        }
        let figures = line
            .figures
            .iter()
            .enumerate()
            .filter(|(_, fig)| fig.start >= start && fig.end <= end)
            .map(|(i, _)| i)
            .collect();
        out.push((start..end, figures));
    }
    out
}

#[cfg(test)]
mod tests;
