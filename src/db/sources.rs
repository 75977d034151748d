//! The original files records were imported from: stored once per content, linked per record.
use diesel::{prelude::*, upsert::excluded};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use sha2::{Digest, Sha256};

use super::schema::{evaluation_sources, source_documents};

/// A file as received.
pub struct SourceFile<'a> {
    pub media_type: &'a str,
    pub file_name: Option<&'a str>,
    pub body: &'a [u8],
}

/// A stored file, as `GET …/source` returns it.
#[derive(Debug, Queryable)]
pub struct StoredFile {
    pub media_type: String,
    pub file_name: Option<String>,
    pub body: Vec<u8>,
}

/// Stores the file (once per content) and links each record to it, replacing an earlier link.
pub async fn link(
    conn: &mut AsyncPgConnection,
    file: &SourceFile<'_>,
    records: &[(i64, Option<&str>)],
) -> QueryResult<()> {
    if records.is_empty() {
        return Ok(());
    }
    let sha256 = Sha256::digest(file.body).to_vec();
    let size = i32::try_from(file.body.len()).unwrap_or(i32::MAX);
    let document: i64 = diesel::insert_into(source_documents::table)
        .values((
            source_documents::sha256.eq(&sha256),
            source_documents::media_type.eq(file.media_type),
            source_documents::file_name.eq(file.file_name),
            source_documents::size.eq(size),
            source_documents::body.eq(file.body),
        ))
        .on_conflict(source_documents::sha256)
        .do_update()
        .set(source_documents::sha256.eq(excluded(source_documents::sha256)))
        .returning(source_documents::id)
        .get_result(conn)
        .await?;
    let rows: Vec<_> = records
        .iter()
        .map(|(id, sheet)| {
            (
                evaluation_sources::evaluation_id.eq(*id),
                evaluation_sources::document_id.eq(document),
                evaluation_sources::sheet.eq(*sheet),
            )
        })
        .collect();
    diesel::insert_into(evaluation_sources::table)
        .values(&rows)
        .on_conflict(evaluation_sources::evaluation_id)
        .do_update()
        .set((
            evaluation_sources::document_id.eq(excluded(evaluation_sources::document_id)),
            evaluation_sources::sheet.eq(excluded(evaluation_sources::sheet)),
            evaluation_sources::imported_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The file a record was imported from, if it was.
pub async fn of_record(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<StoredFile>> {
    evaluation_sources::table
        .inner_join(source_documents::table)
        .filter(evaluation_sources::evaluation_id.eq(id))
        .select((source_documents::media_type, source_documents::file_name, source_documents::body))
        .first(conn)
        .await
        .optional()
}
