//! The change feed: every create, replace, transition and delete, in commit order.
//!
//! Triggers (migrations `000010_changes`, `000018_changes_once`) stage each change in the writing
//! transaction and write it, numbered (`seq`), at commit, under a lock held until the commit is
//! visible. A change points at its record and revision (`000022_changes_point`), which say the
//! rest; the view `changes` reads it there, and a change states it itself once its record is
//! deleted or renamed.
//! So numbers appear in commit order, with no number ever becoming visible below one already
//! seen: a reader that resumes after `seq` n misses nothing and sees nothing twice.
use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::changes;
use crate::domain::access::Visibility;

/// One change as the feed gives it (also read by name, inside a webhook delivery).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = changes, check_for_backend(Pg))]
pub struct ChangeRow {
    pub seq: i64,
    pub evaluation_id: i64,
    pub region_code: String,
    pub fiscal_year: i16,
    pub kind: String,
    pub unit: String,
    pub project_name: Option<String>,
    pub revision: i32,
    pub action: String,
    pub status: String,
    pub previous_status: Option<String>,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// Which changes a reader asks for.
#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    /// Region code prefixes; a change matches any of them (none: every region).
    pub region_prefixes: Vec<String>,
    pub kinds: Vec<String>,
    /// Actions (none: every action).
    pub actions: Vec<String>,
    /// What the caller may see: anonymous callers see only public changes (publications and
    /// the withdrawal of a published record); scoped callers also every change in their region.
    pub visibility: Visibility,
}

/// Up to `limit` changes numbered after `after` and up to `upto` that `filter` lets through,
/// oldest first.
pub async fn page(
    conn: &mut AsyncPgConnection,
    after: i64,
    upto: i64,
    filter: &ChangeFilter,
    limit: i64,
) -> QueryResult<Vec<ChangeRow>> {
    let mut query = changes::table
        .select(ChangeRow::as_select())
        .filter(changes::seq.gt(after))
        .filter(changes::seq.le(upto))
        .into_boxed::<Pg>();
    if !filter.region_prefixes.is_empty() {
        let mut any: Box<dyn BoxableExpression<changes::table, Pg, SqlType = diesel::sql_types::Bool>> =
            Box::new(diesel::dsl::sql::<diesel::sql_types::Bool>("false"));
        for prefix in &filter.region_prefixes {
            any = Box::new(any.or(under(prefix)));
        }
        query = query.filter(any);
    }
    if !filter.kinds.is_empty() {
        query = query.filter(changes::kind.eq_any(filter.kinds.clone()));
    }
    if !filter.actions.is_empty() {
        query = query.filter(changes::action.eq_any(filter.actions.clone()));
    }
    query = match &filter.visibility {
        Visibility::All => query,
        Visibility::Published => query.filter(changes::public),
        Visibility::PublishedOrUnder(scope) => query.filter(changes::public.or(under(scope))),
    };
    query.order(changes::seq).limit(limit).load(conn).await
}

/// A region code prefix as a range under the "C" collation: [prefix, prefix + '~').
fn under(prefix: &str) -> Box<dyn BoxableExpression<changes::table, Pg, SqlType = diesel::sql_types::Bool>> {
    Box::new(changes::region_code.ge(prefix.to_owned()).and(changes::region_code.lt(format!("{prefix}~"))))
}

/// The newest committed change's number (0 before any change). Every change up to it is
/// already visible, to this statement and to every later one.
pub async fn latest(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    changes::table.select(diesel::dsl::max(changes::seq)).first::<Option<i64>>(conn).await.map(|seq| seq.unwrap_or(0))
}
