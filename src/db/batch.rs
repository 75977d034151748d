//! Bulk reads and writes for the batch endpoint: one query per lookup, multi-row inserts.
use std::collections::HashMap;

use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Integer, Nullable, SmallInt, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::evaluations::{assemble_main_row, insert_children, text, ChildRows, Derived, EvaluationData, WriteError};
use super::revisions::{archive_all, content_of};
use super::schema::{evaluation_revisions as revisions, evaluations, scoring_rule_sets};
use crate::domain::{record::EvaluationInput, scoring::ScoringRuleSet};

/// What identifies a record: (region_code, fiscal_year, kind, unit, project name).
pub type Identity = (String, i32, String, String, Option<String>);

pub fn identity(record: &EvaluationInput) -> Identity {
    (
        record.region_code.clone(),
        record.fiscal_year,
        text(&record.kind),
        record.unit.clone(),
        project_name(record).map(str::to_owned),
    )
}

fn project_name(record: &EvaluationInput) -> Option<&str> {
    record.project.as_ref().map(|project| project.name.as_str())
}

/// A stored record matched by identity, and whether its current content equals the record sent.
#[derive(Debug, Clone)]
pub struct Existing {
    pub id: i64,
    pub status: String,
    pub revision: i32,
    pub unchanged: bool,
}

/// One row of the look-up.
#[derive(QueryableByName)]
struct ExistingRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    region_code: String,
    #[diesel(sql_type = SmallInt)]
    fiscal_year: i16,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    unit: String,
    #[diesel(sql_type = Nullable<Text>)]
    project_name: Option<String>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Integer)]
    revision: i32,
}

/// Records looked up per query: the stored records of one group are read, compared and dropped
/// before the next is looked up, so a 10,000-record batch never holds them all.
const RECORDS_PER_LOOKUP: usize = 200;

/// The stored records with these identities, compared with the records sent.
pub async fn find_existing(
    conn: &mut AsyncPgConnection,
    records: &[&EvaluationInput],
) -> QueryResult<HashMap<Identity, Existing>> {
    let mut found = HashMap::new();
    for group in records.chunks(RECORDS_PER_LOOKUP) {
        let (mut regions, mut years, mut kinds, mut units, mut projects) = (vec![], vec![], vec![], vec![], vec![]);
        let mut sent: HashMap<Identity, &EvaluationInput> = HashMap::with_capacity(group.len());
        for record in group {
            regions.push(record.region_code.clone());
            years.push(record.fiscal_year as i16);
            kinds.push(text(&record.kind));
            units.push(record.unit.clone());
            projects.push(project_name(record).map(str::to_owned));
            sent.insert(identity(record), record);
        }
        let rows: Vec<ExistingRow> = crate::db::Prepared(
            diesel::sql_query(
                "SELECT e.id, e.region_code, e.fiscal_year, e.kind, e.unit, e.project_name, e.status, e.revision \
                 FROM unnest($1::text[], $2::int2[], $3::text[], $4::text[], $5::text[]) \
                      AS k(region_code, fiscal_year, kind, unit, project_name) \
                 JOIN evaluations e ON e.region_code = k.region_code AND e.fiscal_year = k.fiscal_year \
                      AND e.kind = k.kind AND e.unit = k.unit AND e.project_name IS NOT DISTINCT FROM k.project_name",
            )
            .bind::<Array<Text>, _>(&regions)
            .bind::<Array<SmallInt>, _>(&years)
            .bind::<Array<Text>, _>(&kinds)
            .bind::<Array<Text>, _>(&units)
            .bind::<Array<Nullable<Text>>, _>(&projects),
        )
        .load(conn)
        .await?;
        for row in rows {
            // The current content is the record as its tables hold it.
            let stored = super::evaluations::fetch(conn, row.id).await?.map(|s| content_of(&s.record));
            let key = (row.region_code, i32::from(row.fiscal_year), row.kind, row.unit, row.project_name);
            let unchanged =
                sent.get(&key).is_some_and(|record| stored.as_ref().is_some_and(|s| *s == content_of(record)));
            found.insert(key, Existing { id: row.id, status: row.status, revision: row.revision, unchanged });
        }
    }
    Ok(found)
}

/// For each record, the stored record of the same township, kind and project for the year before
/// (preferring the same unit), read from its main row: enough for the cross-year rules.
pub async fn prior_year_records(
    conn: &mut AsyncPgConnection,
    records: &[&EvaluationInput],
) -> QueryResult<HashMap<Identity, EvaluationInput>> {
    let mut regions: Vec<String> = records.iter().map(|r| r.region_code.clone()).collect();
    regions.sort();
    regions.dedup();
    let mut years: Vec<i16> = records.iter().map(|r| (r.fiscal_year - 1) as i16).collect();
    years.sort();
    years.dedup();
    let rows: Vec<EvaluationData> = evaluations::table
        .filter(evaluations::region_code.eq_any(&regions))
        .filter(evaluations::fiscal_year.eq_any(&years))
        .select(EvaluationData::as_select())
        .load(conn)
        .await?;
    let mut by_township: HashMap<(String, i32, String), Vec<EvaluationInput>> = HashMap::new();
    for row in rows {
        let record = assemble_main_row(row)?;
        by_township
            .entry((record.region_code.clone(), record.fiscal_year, text(&record.kind)))
            .or_default()
            .push(record);
    }
    let mut found = HashMap::new();
    for record in records {
        let key = (record.region_code.clone(), record.fiscal_year - 1, text(&record.kind));
        let Some(candidates) = by_township.get(&key) else { continue };
        let same_project: Vec<&EvaluationInput> =
            candidates.iter().filter(|c| project_name(c) == project_name(record)).collect();
        let best = same_project.iter().find(|c| c.unit == record.unit).or(<[_]>::first(&same_project));
        if let Some(best) = best {
            found.insert(identity(record), (*best).clone());
        }
    }
    Ok(found)
}

/// Every scoring rule set, keyed by province code ("" for the national default).
pub async fn rule_sets(conn: &mut AsyncPgConnection) -> QueryResult<HashMap<String, ScoringRuleSet>> {
    let rows: Vec<(String, serde_json::Value)> =
        scoring_rule_sets::table.select((scoring_rule_sets::region_code, scoring_rule_sets::rules)).load(conn).await?;
    rows.into_iter()
        .map(|(code, rules)| {
            serde_json::from_value(rules)
                .map(|rules| (code, rules))
                .map_err(|e| diesel::result::Error::DeserializationError(e.to_string().into()))
        })
        .collect()
}

/// One record to store: new, or an update of a stored record at a known revision.
pub struct BatchWrite<'a> {
    pub record: &'a EvaluationInput,
    /// (id, current revision) of the stored record this replaces.
    pub replaces: Option<(i64, i32)>,
    pub derived: Derived,
}

/// Most records in one multi-row INSERT (PostgreSQL takes at most 65,535 parameters).
const ROWS_PER_INSERT: usize = 500;

/// Stores every write; call inside a transaction. Returns the ids in the order of `writes`.
/// An update whose record changed or left an editable status meanwhile fails the whole call.
pub async fn write_all(
    conn: &mut AsyncPgConnection,
    writes: &[BatchWrite<'_>],
    actor: &str,
) -> Result<Vec<i64>, WriteError> {
    let mut ids = vec![0_i64; writes.len()];
    let mut revisions_of = vec![1_i32; writes.len()];
    let mut statuses = vec!["draft".to_owned(); writes.len()];
    let new: Vec<usize> = (0..writes.len()).filter(|&i| writes[i].replaces.is_none()).collect();
    for chunk in new.chunks(ROWS_PER_INSERT) {
        let rows: Vec<(EvaluationData, Derived)> =
            chunk.iter().map(|&i| (EvaluationData::from_record(writes[i].record), writes[i].derived.clone())).collect();
        let returned: Vec<(i64, String, i16, String, String, Option<String>)> = diesel::insert_into(evaluations::table)
            .values(&rows)
            .returning((
                evaluations::id,
                evaluations::region_code,
                evaluations::fiscal_year,
                evaluations::kind,
                evaluations::unit,
                evaluations::project_name,
            ))
            .get_results(conn)
            .await?;
        let by_identity: HashMap<Identity, i64> = returned
            .into_iter()
            .map(|(id, region, year, kind, unit, project)| ((region, i32::from(year), kind, unit, project), id))
            .collect();
        for &i in chunk {
            ids[i] = *by_identity.get(&identity(writes[i].record)).ok_or(WriteError::NotFound)?;
        }
    }
    let updated: Vec<usize> = (0..writes.len()).filter(|&i| writes[i].replaces.is_some()).collect();
    // A batch writes only records whose content changed: the contents they replace become copies.
    let replaced: Vec<(i64, i32)> = updated.iter().filter_map(|&i| writes[i].replaces).collect();
    archive_all(conn, &replaced).await?;
    for &i in &updated {
        let (id, revision) = writes[i].replaces.expect("filtered on replaces");
        let status: Option<String> = diesel::update(
            evaluations::table
                .find(id)
                .filter(evaluations::revision.eq(revision))
                .filter(evaluations::status.eq_any(["draft", "returned"])),
        )
        .set((
            &EvaluationData::from_record(writes[i].record),
            &writes[i].derived,
            evaluations::revision.eq(revision + 1),
            evaluations::updated_at.eq(diesel::dsl::now),
        ))
        .returning(evaluations::status)
        .get_result(conn)
        .await
        .optional()?;
        let Some(status) = status else { return Err(WriteError::RevisionMismatch { current: revision }) };
        statuses[i] = status;
        ids[i] = id;
        revisions_of[i] = revision + 1;
    }
    let updated_ids: Vec<i64> = updated.iter().map(|&i| ids[i]).collect();
    if !updated_ids.is_empty() {
        super::evaluations::delete_children_of(conn, &updated_ids).await?;
    }
    let children: Vec<ChildRows> =
        writes.iter().zip(&ids).map(|(w, &id)| ChildRows::from_record(id, w.record)).collect();
    insert_children(conn, children).await?;
    let revision_rows: Vec<_> = writes
        .iter()
        .enumerate()
        .map(|(i, w)| {
            (
                revisions::evaluation_id.eq(ids[i]),
                revisions::revision.eq(revisions_of[i]),
                revisions::action.eq(if w.replaces.is_some() { "replace" } else { "create" }),
                revisions::status.eq(statuses[i].clone()),
                revisions::actor.eq(actor),
                // Each is its own content version, held by the record's tables.
                revisions::content_revision.eq(revisions_of[i]),
            )
        })
        .collect();
    for chunk in revision_rows.chunks(ROWS_PER_INSERT) {
        diesel::insert_into(revisions::table).values(chunk).execute(conn).await?;
    }
    Ok(ids)
}
