//! Content versions. A record's current content is held once, in its tables; the revision that
//! introduced it stores no copy until a later write replaces that content, which first stores it
//! there (migration 2026-12-02-000017). Older contents are copies, and every other revision points
//! at the one that holds its content.
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Integer, Jsonb, Nullable},
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use super::evaluations::{fetch, JsonbText};
use crate::domain::record::EvaluationInput;

/// Whether a write changed the record's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Changed,
    Unchanged,
}

/// The record as a content version holds it: the JSON of the record as written.
pub fn content_of(record: &EvaluationInput) -> serde_json::Value {
    serde_json::to_value(record).expect("a record serialises")
}

/// Before a replace of record `id` at `revision` with `next`: whether the content changes and, when
/// it does, the content it replaces stored into the revision that introduced it. Call inside the
/// write's transaction, with the record locked and its tables not yet changed.
pub async fn archive_current(
    conn: &mut AsyncPgConnection,
    id: i64,
    revision: i32,
    next: &EvaluationInput,
) -> QueryResult<Content> {
    let current = fetch(conn, id).await?.ok_or(diesel::result::Error::NotFound)?;
    let content = content_of(&current.record);
    if content == content_of(next) {
        return Ok(Content::Unchanged);
    }
    store_copies(conn, &[(id, revision, content)]).await?;
    Ok(Content::Changed)
}

/// Stores each (record, revision, content) as the copy held by the revision that introduced the
/// content `revision` points at, where that revision holds none yet.
async fn store_copies(conn: &mut AsyncPgConnection, copies: &[(i64, i32, serde_json::Value)]) -> QueryResult<()> {
    if copies.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = copies.iter().map(|c| c.0).collect();
    let revisions: Vec<i32> = copies.iter().map(|c| c.1).collect();
    let contents: Vec<JsonbText> = copies.iter().map(|c| JsonbText::of(&c.2)).collect();
    super::Prepared(
        diesel::sql_query(
            "UPDATE evaluation_revisions c SET record = k.record \
             FROM unnest($1::int8[], $2::int4[], $3::jsonb[]) AS k(evaluation_id, revision, record) \
             JOIN evaluation_revisions now ON now.evaluation_id = k.evaluation_id AND now.revision = k.revision \
             WHERE c.evaluation_id = k.evaluation_id AND c.revision = now.content_revision AND c.record IS NULL",
        )
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<Integer>, _>(&revisions)
        .bind::<Array<Jsonb>, _>(&contents),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Before a batch replaces these records (id, revision), each one's content stored as its copy.
pub async fn archive_all(conn: &mut AsyncPgConnection, records: &[(i64, i32)]) -> QueryResult<()> {
    let mut copies = Vec::with_capacity(records.len().min(RECORDS_PER_STEP));
    for group in records.chunks(RECORDS_PER_STEP) {
        copies.clear();
        for &(id, revision) in group {
            let current = fetch(conn, id).await?.ok_or(diesel::result::Error::NotFound)?;
            copies.push((id, revision, content_of(&current.record)));
        }
        store_copies(conn, &copies).await?;
    }
    Ok(())
}

/// Records handled per step of the conversions below, in one transaction each.
const RECORDS_PER_STEP: usize = 500;

/// One record's current content version, as the conversions read it.
#[derive(QueryableByName)]
struct CurrentContent {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Integer)]
    revision: i32,
    #[diesel(sql_type = Integer)]
    content_revision: i32,
    #[diesel(sql_type = Nullable<Jsonb>)]
    record: Option<serde_json::Value>,
}

/// The next step of records after `after` whose current content version holds a copy (`copied`)
/// or none, locked for the step's transaction.
async fn current_contents(conn: &mut AsyncPgConnection, after: i64, copied: bool) -> QueryResult<Vec<CurrentContent>> {
    diesel::sql_query(format!(
        "SELECT e.id, e.revision, c.revision AS content_revision, c.record FROM evaluations e \
         JOIN evaluation_revisions now ON now.evaluation_id = e.id AND now.revision = e.revision \
         JOIN evaluation_revisions c ON c.evaluation_id = e.id AND c.revision = now.content_revision \
         WHERE e.id > $1 AND c.record IS {} NULL ORDER BY e.id LIMIT {RECORDS_PER_STEP} FOR UPDATE OF e",
        if copied { "NOT" } else { "" }
    ))
    .bind::<BigInt, _>(after)
    .load(conn)
    .await
}

/// What a conversion did: copies dropped or stored, and copies kept because the record read from
/// its tables is not exactly the copy (then the copy is what the revision returns).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Converted {
    pub changed: u64,
    pub kept: u64,
}

/// Drops the copies of current content that the record's tables hold exactly (after migration
/// 000017): each record's copy is compared with the record as `GET` reads it.
pub async fn drop_current_copies(conn: &mut AsyncPgConnection) -> QueryResult<Converted> {
    let mut converted = Converted::default();
    let mut after = 0;
    loop {
        let (last, step) = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let rows = current_contents(conn, after, true).await?;
                let Some(last) = rows.last().map(|r| r.id) else { return Ok((None, Converted::default())) };
                let mut step = Converted::default();
                let (mut ids, mut revisions) = (Vec::new(), Vec::new());
                for row in &rows {
                    let current = fetch(conn, row.id).await?.ok_or(diesel::result::Error::NotFound)?;
                    if row.record.as_ref() == Some(&content_of(&current.record)) {
                        ids.push(row.id);
                        revisions.push(row.content_revision);
                        step.changed += 1;
                    } else {
                        step.kept += 1;
                    }
                }
                super::Prepared(
                    diesel::sql_query(
                        "UPDATE evaluation_revisions SET record = NULL FROM unnest($1::int8[], $2::int4[]) AS k(id, revision) \
                         WHERE evaluation_id = k.id AND evaluation_revisions.revision = k.revision",
                    )
                    .bind::<Array<BigInt>, _>(&ids)
                    .bind::<Array<Integer>, _>(&revisions),
                )
                .execute(conn)
                .await?;
                Ok((Some(last), step))
            })
            .await?;
        let Some(last) = last else { return Ok(converted) };
        after = last;
        converted.changed += step.changed;
        converted.kept += step.kept;
    }
}

/// Stores a copy of every current content that has none: what the schema before migration 000017
/// holds, so that its down.sql can run.
pub async fn store_current_copies(conn: &mut AsyncPgConnection) -> QueryResult<u64> {
    let mut stored = 0;
    let mut after = 0;
    loop {
        let last = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let rows = current_contents(conn, after, false).await?;
                let mut copies = Vec::with_capacity(rows.len());
                for row in &rows {
                    let current = fetch(conn, row.id).await?.ok_or(diesel::result::Error::NotFound)?;
                    copies.push((row.id, row.revision, content_of(&current.record)));
                }
                store_copies(conn, &copies).await?;
                Ok(rows.last().map(|r| (r.id, rows.len() as u64)))
            })
            .await?;
        let Some((last, count)) = last else { return Ok(stored) };
        after = last;
        stored += count;
    }
}
