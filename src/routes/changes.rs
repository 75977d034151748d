//! `GET /api/v1/changes`: the change feed, for systems that keep their own copy of the records.
use actix_web::{get, web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    auth::Actor,
    db::changes::{self, ChangeFilter, ChangeRow},
    domain::record::{EvaluationKind, Status},
    error::ApiError,
    routes::{filters, QueryPairs},
    state::AppState,
};

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Create,
    Replace,
    Submit,
    Return,
    Approve,
    Publish,
    Reopen,
    /// The record was deleted (a tombstone: the record is gone, its identity stays here)
    Delete,
}

impl ChangeAction {
    pub const ALL: [ChangeAction; 8] = [
        Self::Create,
        Self::Replace,
        Self::Submit,
        Self::Return,
        Self::Approve,
        Self::Publish,
        Self::Reopen,
        Self::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Replace => "replace",
            Self::Submit => "submit",
            Self::Return => "return",
            Self::Approve => "approve",
            Self::Publish => "publish",
            Self::Reopen => "reopen",
            Self::Delete => "delete",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == text)
    }
}

/// One change to one record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangeView {
    /// Resume after this change: pass it as `since`
    pub cursor: String,
    /// 记录编号
    pub evaluation_id: i64,
    /// 区划代码
    pub region_code: String,
    /// 年度
    pub fiscal_year: i16,
    /// 评价类型
    pub kind: EvaluationKind,
    /// 单位名称
    pub unit: String,
    /// 项目名称 (project records)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
    /// The record's revision after the change (for a delete, its last revision)
    pub revision: i32,
    pub action: ChangeAction,
    /// 审核状态 after the change (for a delete, the status it was deleted in)
    pub status: Status,
    /// 审核状态 before the change (none for a create)
    pub previous_status: Option<Status>,
    /// The token holder who made the change
    pub actor: String,
    /// When the change was made (its transaction's start); the feed's order is commit order
    pub at: DateTime<Utc>,
}

impl From<ChangeRow> for ChangeView {
    fn from(row: ChangeRow) -> Self {
        Self {
            cursor: encode_cursor(row.seq),
            evaluation_id: row.evaluation_id,
            region_code: row.region_code,
            fiscal_year: row.fiscal_year,
            kind: serde_plain::from_str(&row.kind).unwrap_or(EvaluationKind::DepartmentOverall),
            unit: row.unit,
            project_name: row.project_name,
            revision: row.revision,
            action: ChangeAction::parse(&row.action).unwrap_or(ChangeAction::Replace),
            status: Status::parse(&row.status).unwrap_or(Status::Draft),
            previous_status: row.previous_status.as_deref().and_then(Status::parse),
            actor: row.actor,
            at: row.at,
        }
    }
}

/// A page of the feed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChangePage {
    pub items: Vec<ChangeView>,
    /// Where to resume: the last change read, or the newest change this caller's filters passed
    /// over. Always present; poll with it to wait for more.
    pub next_cursor: String,
    /// Whether more changes are there now (the page was full)
    pub more: bool,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ChangeParams {
    /// Opaque cursor from an item's `cursor` or a page's `next_cursor`; absent: from the first
    /// change
    since: Option<crate::routes::params::Cursor>,
    /// 区划: any ancestor code, comma-separated; a change matches any
    #[param(example = json!(["4304"]), style = Form, explode = false, min_items = 1)]
    region: Option<Vec<crate::routes::params::RegionCodeText>>,
    /// 评价类型, comma-separated
    #[param(style = Form, explode = false, min_items = 1)]
    kind: Option<Vec<EvaluationKind>>,
    /// Actions, comma-separated
    #[param(style = Form, explode = false, min_items = 1)]
    action: Option<Vec<ChangeAction>>,
    /// Page size, 1–1000 (default 100)
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

const CURSOR_PREFIX: &str = "c1:";

pub fn encode_cursor(seq: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{seq}"))
}

/// The change number a cursor resumes after.
pub fn decode_cursor(text: &str) -> Option<i64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    text.strip_prefix(CURSOR_PREFIX)?.parse::<i64>().ok().filter(|seq| *seq >= 0)
}

/// Reads the feed's filters and cursor, naming any malformed parameter (400).
pub fn parse(query: &QueryPairs) -> Result<(i64, ChangeFilter, i64), ApiError> {
    query.only(&["since", "region", "kind", "action", "limit"])?;
    let after = match query.one("since")? {
        None => 0,
        Some(text) => decode_cursor(text).ok_or_else(|| {
            crate::routes::bad_cursor(
                "since",
                text,
                "not a cursor this feed gave out (use an item's `cursor` or `next_cursor`)",
            )
        })?,
    };
    let region_prefixes = filters::region_prefixes(query)?;
    let kinds = filters::enum_values::<EvaluationKind>(query, "kind")?;
    let actions = query
        .all("action")?
        .into_iter()
        .map(|action| match ChangeAction::parse(&action) {
            Some(_) => Ok(action),
            None => Err(ApiError::invalid_query("action", format!("`{action}` is not a known value"))),
        })
        .collect::<Result<_, _>>()?;
    let limit = query.limit(100, 1000)?;
    Ok((after, ChangeFilter { region_prefixes, kinds, actions, visibility: Default::default() }, limit))
}

/// Reads one page of the feed.
pub async fn read(
    conn: &mut diesel_async::AsyncPgConnection,
    after: i64,
    filter: &ChangeFilter,
    limit: i64,
) -> Result<ChangePage, ApiError> {
    // The newest number first, then the page up to it: every change up to it is visible by
    // then, so a page that is not full has seen all of them, and the reader may resume from it.
    // (The other order would skip a change committed between the two statements.)
    let latest = changes::latest(conn).await?;
    let rows = changes::page(conn, after, latest, filter, limit).await?;
    let more = rows.len() as i64 == limit;
    let next = match rows.last() {
        Some(last) if more => last.seq,
        _ => latest.max(after),
    };
    Ok(ChangePage { items: rows.into_iter().map(ChangeView::from).collect(), next_cursor: encode_cursor(next), more })
}

/// Every change since a cursor, in commit order.
///
/// Every create, replace, review transition and delete (a tombstone), oldest first, in the
/// order their transactions committed. Follow `next_cursor` from the start and you see every
/// change exactly once, even while writers commit concurrently: a change is numbered at commit,
/// under a lock held until the commit is visible, so none can appear behind a cursor already
/// handed out. Anonymous callers see publications and the withdrawal (reopen) of published
/// records; submitters and reviewers also every change in their region; admins everything.
#[utoipa::path(
    tag = "changes",
    params(ChangeParams),
    responses(
        (status = 200, description = "A page of changes", body = ChangePage),
        (status = 400, description = "Malformed cursor or parameter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A well-formed cursor this feed did not give out", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/changes")]
pub async fn list_changes(
    req: HttpRequest,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = QueryPairs::from_request(&req);
    let (after, mut filter, limit) = parse(&query)?;
    filter.visibility = actor.principal.visibility();
    let mut conn = state.pool.get().await?;
    let page = read(&mut conn, after, &filter, limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        for seq in [0, 1, 42, i64::MAX] {
            assert_eq!(decode_cursor(&encode_cursor(seq)), Some(seq));
        }
        for bad in ["", "42", "c1:42", "YzE6LTE", "!!!", "YzI6NDI"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }
}
