//! The indicator library (`indicator_definitions`).
//!
//! Indicator rows name a definition by `code`, or are matched to one by name (`matched_code`);
//! both are foreign keys, so a definition in use cannot be deleted, only retired. Name matching
//! compares `indicator_name_key` (SQL, migration 000011) of the row's name with the keys of each
//! definition's name and aliases (`name_keys`, a generated column with a GIN index).
use chrono::{DateTime, Utc};
use diesel::{
    dsl::sql,
    pg::Pg,
    prelude::*,
    result::{DatabaseErrorKind, Error as DieselError},
    sql_types,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::schema::indicator_definitions as defs;
use crate::domain::{
    indicators::{IndicatorDefinition, IndicatorDefinitionInput, LibraryMatches},
    record::EvaluationKind,
};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = defs, check_for_backend(Pg))]
pub struct DefinitionRow {
    pub code: String,
    pub name: String,
    pub level_1: String,
    pub level_2: String,
    pub unit_of_measure: Option<String>,
    pub direction: Option<String>,
    pub kinds: Vec<String>,
    pub aliases: Vec<String>,
    pub scoring_method: Option<String>,
    pub source: Option<String>,
    pub revision: i32,
    pub retired_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl DefinitionRow {
    /// The definition, its texts parsed back into the domain's enums.
    pub fn into_definition(self) -> QueryResult<IndicatorDefinition> {
        fn parse<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> QueryResult<T> {
            serde_plain::from_str(text).map_err(|e| DieselError::DeserializationError(format!("{column}: {e}").into()))
        }
        Ok(IndicatorDefinition {
            level_1: parse("level_1", &self.level_1)?,
            level_2: parse("level_2", &self.level_2)?,
            direction: self.direction.as_deref().map(|d| parse("direction", d)).transpose()?,
            kinds: self.kinds.iter().map(|k| parse("kinds", k)).collect::<QueryResult<_>>()?,
            code: self.code,
            name: self.name,
            unit_of_measure: self.unit_of_measure,
            aliases: self.aliases,
            scoring_method: self.scoring_method,
            source: self.source,
            retired: self.retired_at.is_some(),
            retired_at: self.retired_at,
            revision: self.revision,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

/// Why a library write did not happen (besides database faults).
#[derive(Debug)]
pub enum LibraryError {
    /// A definition with this code exists.
    Exists,
    /// No definition with this code.
    NotFound,
    /// The definition's revision is not the one the client read.
    RevisionMismatch {
        current: i32,
    },
    /// Records use the code, so it cannot be deleted.
    InUse,
    Database(DieselError),
}

impl From<DieselError> for LibraryError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Self::Exists,
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => Self::InUse,
            _ => Self::Database(error),
        }
    }
}

/// What a list asks for.
#[derive(Debug, Clone, Default)]
pub struct DefinitionFilter {
    pub level_1: Option<String>,
    pub level_2: Option<String>,
    pub kind: Option<String>,
    /// Part of the code, or of the name or an alias (compared by name key)
    pub q: Option<String>,
    pub include_retired: bool,
}

/// A page of definitions in code order, after `after`.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &DefinitionFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<DefinitionRow>> {
    let mut query = defs::table.select(DefinitionRow::as_select()).order(defs::code).limit(limit).into_boxed();
    if let Some(after) = after {
        query = query.filter(defs::code.gt(after.to_owned()));
    }
    if let Some(level_1) = &filter.level_1 {
        query = query.filter(defs::level_1.eq(level_1.clone()));
    }
    if let Some(level_2) = &filter.level_2 {
        query = query.filter(defs::level_2.eq(level_2.clone()));
    }
    if let Some(kind) = &filter.kind {
        query =
            query.filter(sql::<sql_types::Bool>("kinds @> ARRAY[").bind::<sql_types::Text, _>(kind.clone()).sql("]"));
    }
    if let Some(q) = &filter.q {
        query = query.filter(
            sql::<sql_types::Bool>("(strpos(lower(code), lower(")
                .bind::<sql_types::Text, _>(q.clone())
                .sql(")) > 0 OR strpos(array_to_string(name_keys, chr(31)), indicator_name_key(")
                .bind::<sql_types::Text, _>(q.clone())
                .sql(")) > 0)"),
        );
    }
    if !filter.include_retired {
        query = query.filter(defs::retired_at.is_null());
    }
    query.load(conn).await
}

pub async fn get(conn: &mut AsyncPgConnection, code: &str) -> QueryResult<Option<DefinitionRow>> {
    defs::table.find(code).select(DefinitionRow::as_select()).first(conn).await.optional()
}

/// Every definition with one of these codes (retired ones too).
pub async fn by_codes(conn: &mut AsyncPgConnection, codes: &[String]) -> QueryResult<Vec<DefinitionRow>> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    defs::table.filter(defs::code.eq_any(codes)).select(DefinitionRow::as_select()).order(defs::code).load(conn).await
}

/// Every definition in use for new forms, in code order.
pub async fn active(conn: &mut AsyncPgConnection) -> QueryResult<Vec<DefinitionRow>> {
    defs::table.filter(defs::retired_at.is_null()).select(DefinitionRow::as_select()).order(defs::code).load(conn).await
}

fn plain<T: serde::Serialize>(value: &T) -> String {
    serde_plain::to_string(value).expect("a unit variant is plain text")
}

/// A definition's own fields, as both an insert and an update write them.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = defs, check_for_backend(Pg), treat_none_as_null = true)]
struct Fields<'a> {
    name: &'a str,
    level_1: String,
    level_2: String,
    unit_of_measure: Option<&'a str>,
    direction: Option<String>,
    kinds: Vec<String>,
    aliases: &'a [String],
    scoring_method: Option<&'a str>,
    source: Option<&'a str>,
    updated_by: &'a str,
}

impl<'a> Fields<'a> {
    fn of(input: &'a IndicatorDefinitionInput, actor: &'a str) -> Self {
        Self {
            name: &input.name,
            level_1: plain(&input.level_1),
            level_2: plain(&input.level_2),
            unit_of_measure: input.unit_of_measure.as_deref(),
            direction: input.direction.as_ref().map(plain),
            kinds: input.kinds.iter().map(plain).collect(),
            aliases: &input.aliases,
            scoring_method: input.scoring_method.as_deref(),
            source: input.source.as_deref(),
            updated_by: actor,
        }
    }
}

/// Adds a definition.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    code: &str,
    input: &IndicatorDefinitionInput,
    actor: &str,
) -> Result<DefinitionRow, LibraryError> {
    Ok(diesel::insert_into(defs::table)
        .values((defs::code.eq(code), Fields::of(input, actor)))
        .returning(DefinitionRow::as_returning())
        .get_result(conn)
        .await?)
}

/// The current revision of a definition, locked for the rest of the transaction.
async fn lock(conn: &mut AsyncPgConnection, code: &str, expected: Option<&[i32]>) -> Result<(), LibraryError> {
    let current: Option<i32> =
        defs::table.find(code).select(defs::revision).for_update().first(conn).await.optional()?;
    match (current, expected) {
        (None, _) => Err(LibraryError::NotFound),
        (Some(current), Some(expected)) if !expected.contains(&current) => {
            Err(LibraryError::RevisionMismatch { current })
        }
        _ => Ok(()),
    }
}

/// Replaces a definition's fields (not its code), if its revision is one of `expected` (`None`: any).
pub async fn update(
    conn: &mut AsyncPgConnection,
    code: &str,
    expected: Option<&[i32]>,
    input: &IndicatorDefinitionInput,
    actor: &str,
) -> Result<DefinitionRow, LibraryError> {
    use diesel_async::AsyncConnection;
    conn.transaction::<_, LibraryError, _>(async |conn| {
        lock(conn, code, expected).await?;
        Ok(diesel::update(defs::table.find(code))
            .set((
                Fields::of(input, actor),
                defs::revision.eq(defs::revision + 1),
                defs::updated_at.eq(diesel::dsl::now),
            ))
            .returning(DefinitionRow::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

/// Retires a definition (or brings it back); a no-op when it already is.
pub async fn set_retired(
    conn: &mut AsyncPgConnection,
    code: &str,
    retired: bool,
    actor: &str,
) -> Result<DefinitionRow, LibraryError> {
    let changed: Option<DefinitionRow> =
        diesel::update(defs::table.find(code).filter(defs::retired_at.is_null().eq(retired)))
            .set((
                defs::retired_at.eq(if retired { Some(Utc::now()) } else { None }),
                defs::revision.eq(defs::revision + 1),
                defs::updated_at.eq(diesel::dsl::now),
                defs::updated_by.eq(actor),
            ))
            .returning(DefinitionRow::as_returning())
            .get_result(conn)
            .await
            .optional()?;
    match changed {
        Some(row) => Ok(row),
        None => get(conn, code).await?.ok_or(LibraryError::NotFound),
    }
}

/// Deletes a definition no record uses (the foreign keys refuse it otherwise: `InUse`).
pub async fn delete(conn: &mut AsyncPgConnection, code: &str, expected: Option<&[i32]>) -> Result<(), LibraryError> {
    use diesel_async::AsyncConnection;
    conn.transaction::<_, LibraryError, _>(async |conn| {
        lock(conn, code, expected).await?;
        diesel::delete(defs::table.find(code)).execute(conn).await?;
        Ok(())
    })
    .await
}

#[derive(QueryableByName)]
struct Match {
    #[diesel(sql_type = sql_types::Text)]
    asked: String,
    #[diesel(sql_type = sql_types::Bool)]
    by_code: bool,
    #[diesel(sql_type = sql_types::Text)]
    code: String,
    #[diesel(sql_type = sql_types::Array<sql_types::Text>)]
    kinds: Vec<String>,
}

/// What the library holds for these codes, and which definitions these names match, in one
/// statement.
pub async fn lookup(conn: &mut AsyncPgConnection, codes: &[String], names: &[String]) -> QueryResult<LibraryMatches> {
    let mut matches = LibraryMatches::default();
    if codes.is_empty() && names.is_empty() {
        return Ok(matches);
    }
    let rows: Vec<Match> = diesel::sql_query(
        "SELECT d.code AS asked, true AS by_code, d.code, d.kinds FROM indicator_definitions d \
         WHERE d.code = ANY($1) \
         UNION ALL \
         SELECT n.name, false, d.code, d.kinds FROM unnest($2::text[]) AS n(name) \
         JOIN indicator_definitions d ON d.name_keys @> ARRAY[indicator_name_key(n.name)]",
    )
    .bind::<sql_types::Array<sql_types::Text>, _>(codes)
    .bind::<sql_types::Array<sql_types::Text>, _>(names)
    .load(conn)
    .await?;
    for row in rows {
        let kinds: Vec<EvaluationKind> = row.kinds.iter().filter_map(|k| serde_plain::from_str(k).ok()).collect();
        if row.by_code {
            matches.codes.insert(row.code, kinds);
        } else {
            let entry: &mut Vec<(String, Vec<EvaluationKind>)> = matches.names.entry(row.asked).or_default();
            entry.push((row.code, kinds));
        }
    }
    Ok(matches)
}

/// Checks the indicator codes of these records against the library and matches their rows
/// without a code by name (`matched_code`), in one statement: each record's field errors.
pub async fn resolve(
    conn: &mut AsyncPgConnection,
    records: &mut [&mut crate::domain::record::EvaluationInput],
) -> QueryResult<Vec<Vec<crate::domain::FieldError>>> {
    let (codes, names) = crate::domain::indicators::wanted(records.iter().map(|r| &**r));
    let library = lookup(conn, &codes, &names).await?;
    Ok(records.iter_mut().map(|record| crate::domain::indicators::resolve(record, &library)).collect())
}
