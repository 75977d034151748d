//! `POST /api/v1/evaluations/batch`
use std::collections::HashMap;

use actix_web::{post, web, HttpRequest, HttpResponse};
use diesel_async::AsyncConnection;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::derived;
pub use crate::domain::batch::{BatchItemResult, Outcome};
use crate::{
    db::{
        batch::{self, identity, BatchWrite, Identity},
        evaluations::{Derived, WriteError},
    },
    domain::{
        record::{EvaluationInput, Status},
        rules::{self, CheckContext, Finding},
        scoring::{self, ScoringRuleSet},
        validation::{validate, ValidEvaluation},
        FieldError,
    },
    error::{ApiError, ErrorCode},
    routes::{idempotency::Idempotency, parse_json, Actor, QueryPairs, RawBody},
    state::AppState,
};

/// Most records in one batch.
pub const MAX_BATCH_RECORDS: usize = 10_000;
/// Records written per transaction when the batch is not atomic.
const RECORDS_PER_TRANSACTION: usize = 250;

/// Query parameters of a batch.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct BatchParams {
    /// Only check: report what would happen, write nothing
    dry_run: Option<bool>,
    /// All or nothing: one invalid record rejects the whole batch (422) and nothing is written
    atomic: Option<bool>,
}

/// Counts by outcome.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BatchSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub invalid: usize,
}

impl BatchSummary {
    /// Each outcome's name with its count.
    pub fn by_outcome(&self) -> [(Outcome, usize); 4] {
        [
            (Outcome::Created, self.created),
            (Outcome::Updated, self.updated),
            (Outcome::Unchanged, self.unchanged),
            (Outcome::Invalid, self.invalid),
        ]
    }
}

/// Counts the records of an atomic batch (or import) that invalid ones stopped: the invalid
/// ones, and the others as `rejected`.
pub fn count_rejected(error: &ApiError, count: impl Fn(&'static str, usize)) {
    if let ApiError::BatchRejected { invalid, total, .. } = error {
        count(Outcome::Invalid.as_str(), *invalid);
        count("rejected", total - invalid);
    }
}

/// The result of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub dry_run: bool,
    pub atomic: bool,
    pub summary: BatchSummary,
    pub items: Vec<BatchItemResult>,
}

/// Upsert up to 10,000 records, keyed by region, year, kind, unit and project.
///
/// As a JSON array of record objects (`application/json`) or NDJSON (`application/x-ndjson`, one
/// record object per line), keyed by (region_code, fiscal_year, kind, unit, project name). A body
/// of another shape is 400; an object that is not a valid record is that item's `invalid`. Each
/// record stands alone unless `atomic=true`; `dry_run=true` only checks. A stored record that
/// is submitted, approved or published is not changed (its item is invalid) unless the content
/// is the same (`unchanged`).
#[utoipa::path(
    tag = "evaluations",
    params(BatchParams, ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body(content = Vec<EvaluationInput>, description = "A JSON array of records, or NDJSON",
        content_type = "application/json"),
    responses(
        (status = 200, description = "One result per record", body = BatchResult),
        (status = 400, description = "The body is not a batch, and nothing was written: `malformed_json` when it (or an NDJSON line) is not JSON, `invalid_body` when it is JSON of another shape (an object or scalar sent as application/json, an array item or NDJSON line that is not an object); `errors` names each such item (`[3]`, its index) and `detail` the first, with its line for NDJSON. Also a malformed parameter", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is neither JSON nor NDJSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than 10,000 records, an atomic batch with invalid records (nothing written), or the Idempotency-Key was used with another body", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this Idempotency-Key and body is still being answered (`idempotency_key_in_use`); retry after `Retry-After` seconds. A claim lapses when its request's database session ends (its instance died), or after 60 s", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown or revoked bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/evaluations/batch")]
pub async fn batch_evaluations(
    req: HttpRequest,
    body: RawBody,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_token(), None)?;
    let query = QueryPairs::from_request(&req);
    query.only(&["dry_run", "atomic"])?;
    let dry_run = query.flag("dry_run")?;
    let atomic = query.flag("atomic")?;
    let idempotency = Idempotency::from_request(&req, &body.bytes)?;
    let mut conn = state.pool.get().await?;
    // A dry run writes nothing, so it only replays; a real one claims its key first (its
    // writes commit before its answer exists), and a retry meets the claim or the answer.
    let claimed = match (&idempotency, dry_run) {
        (Some(key), false) => match key.claim(&mut conn).await? {
            Some(replay) => return Ok(replay),
            None => Some(key),
        },
        _ => {
            if let Some(replay) = Idempotency::replay_any(idempotency.as_ref(), &mut conn).await? {
                return Ok(replay);
            }
            None
        }
    };
    let parsed = match split(&body) {
        Ok(parsed) => parsed,
        Err(error) => return Err(Idempotency::failed(claimed, &mut conn, error).await),
    };
    drop(body);
    let total = parsed.len();
    let started = std::time::Instant::now();
    let result = match upsert(&mut conn, parsed, BatchOptions { dry_run, atomic }, &actor, Some(&state.pool)).await {
        Ok(result) => result,
        Err(error) => {
            count_rejected(&error, |outcome, n| crate::metrics::batch_records(outcome, dry_run, n));
            return Err(Idempotency::failed(claimed, &mut conn, error).await);
        }
    };
    for (outcome, n) in result.summary.by_outcome() {
        crate::metrics::batch_records(outcome.as_str(), dry_run, n);
    }
    let written: Vec<i64> = result
        .items
        .iter()
        .filter(|item| matches!(item.outcome, Outcome::Created | Outcome::Updated))
        .filter_map(|item| item.id)
        .collect();
    tracing::info!(
        target: "perfeval::audit",
        audit = "batch",
        record_ids = ?written,
        records = total,
        created = result.summary.created,
        updated = result.summary.updated,
        unchanged = result.summary.unchanged,
        invalid = result.summary.invalid,
        dry_run,
        atomic,
        actor = %actor.name,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "batch"
    );
    let body = serde_json::to_vec(&result).expect("a batch result serialises");
    drop(result);
    release_freed_memory();
    Idempotency::answer_json(claimed, &mut conn, body).await
}

/// Hands the heap memory a batch freed back to the operating system. glibc keeps freed memory
/// in the arena of the thread that used it, and each HTTP worker thread has its own arena: a
/// large batch on each worker left the process holding the peak of both (147 MB after two
/// passes of 2,000-record batches, where one pass peaked at 127 MB).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's arenas to the system; it
    // takes no pointers and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// How a batch is applied.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchOptions {
    pub dry_run: bool,
    pub atomic: bool,
}

/// Checks and upserts parsed records (or their parse errors) by identity: the batch endpoint's
/// core, also used by `perfeval demo-data` and `perfeval import`.
pub async fn upsert(
    conn: &mut diesel_async::AsyncPgConnection,
    parsed: Vec<Result<EvaluationInput, Vec<FieldError>>>,
    options: BatchOptions,
    actor: &Actor,
    spare: Option<&crate::db::Pool>,
) -> Result<BatchResult, ApiError> {
    let BatchOptions { dry_run, atomic } = options;
    let total = parsed.len();

    // Parse and validate each record on its own; later duplicates of an identity are invalid.
    let mut items: Vec<Item> = Vec::with_capacity(total);
    let mut seen: HashMap<Identity, usize> = HashMap::new();
    for (index, parsed) in parsed.into_iter().enumerate() {
        let state = match parsed.and_then(validate) {
            Err(errors) => ItemState::Invalid(errors),
            Ok(valid) if actor.principal.may_edit(valid.region_code.as_str(), None).is_err() => {
                ItemState::Invalid(vec![FieldError::new(
                    "region_code",
                    "out_of_scope",
                    format!("region {} is outside what this token may write", valid.region_code),
                )])
            }
            Ok(valid) => match seen.insert(identity(&valid.record), index) {
                Some(first) => ItemState::Invalid(vec![FieldError::new(
                    "region_code",
                    "duplicate_in_batch",
                    format!(
                        "record {first} of this batch has the same region_code, fiscal_year, kind, unit and project"
                    ),
                )]),
                None => ItemState::Valid(Box::new(valid)),
            },
        };
        items.push(Item {
            index,
            state,
            findings: Vec::new(),
            outcome: Outcome::Invalid,
            id: None,
            derived: Derived::default(),
            replaces: None,
        });
    }

    // Indicator codes against the library, and rows without one matched by name: one query.
    let mut valid: Vec<&mut EvaluationInput> = (items.iter_mut())
        .filter_map(|item| match &mut item.state {
            ItemState::Valid(valid) => Some(&mut valid.record),
            _ => None,
        })
        .collect();
    let library_errors = crate::db::indicators::resolve(conn, &mut valid).await?;
    drop(valid);
    let mut library_errors = library_errors.into_iter();
    for item in &mut items {
        if matches!(item.state, ItemState::Valid(_)) {
            let errors = library_errors.next().unwrap_or_default();
            if !errors.is_empty() {
                item.state = ItemState::Invalid(errors);
            }
        }
    }

    // Context for the checks, in three queries for the whole batch.
    let valid_records: Vec<&EvaluationInput> = items.iter().filter_map(Item::record).collect();
    let existing = batch::find_existing(conn, &valid_records).await?;
    let stored_priors = batch::prior_year_records(conn, &valid_records).await?;
    let rule_sets = batch::rule_sets(conn).await?;
    let in_batch: HashMap<Identity, &EvaluationInput> = valid_records.iter().map(|r| (identity(r), *r)).collect();
    let national = ScoringRuleSet::default();

    let mut decisions: Vec<Decision> = Vec::with_capacity(items.len());
    for item in &items {
        let Some(record) = item.record() else {
            decisions.push(Decision::default());
            continue;
        };
        let (region, year, kind, unit, project) = identity(record);
        let prior = in_batch
            .get(&(region.clone(), year - 1, kind, unit, project))
            .copied()
            .or_else(|| stored_priors.get(&identity(record)));
        let rules_set = rule_sets.get(region.get(..2).unwrap_or("")).or_else(|| rule_sets.get("")).unwrap_or(&national);
        let findings = rules::check(record, &CheckContext { prior_year: prior, rules: rules_set });
        let derived = derived(&findings, &scoring::assess(record, rules_set));
        let mut decision = Decision { findings, derived, ..Decision::default() };
        match existing.get(&identity(record)) {
            None => decision.outcome = Outcome::Created,
            Some(stored) => {
                decision.id = Some(stored.id);
                if stored.unchanged {
                    decision.outcome = Outcome::Unchanged;
                } else if Status::parse(&stored.status).is_some_and(Status::is_editable) {
                    decision.outcome = Outcome::Updated;
                    decision.replaces = Some((stored.id, stored.revision));
                } else {
                    decision.error = Some(FieldError::new(
                        "region_code",
                        "not_editable",
                        format!(
                            "record {} is {} and cannot be changed until it is returned or reopened",
                            stored.id, stored.status
                        ),
                    ));
                }
            }
        }
        decisions.push(decision);
    }
    for (item, decision) in items.iter_mut().zip(decisions) {
        item.findings = decision.findings;
        item.outcome = decision.outcome;
        item.id = decision.id;
        item.derived = decision.derived;
        item.replaces = decision.replaces;
        if let Some(error) = decision.error {
            item.state = ItemState::Invalid(vec![error]);
        }
    }

    let invalid = items.iter().filter(|i| i.outcome == Outcome::Invalid).count();
    if atomic && invalid > 0 {
        let result = summarise(items, dry_run, atomic);
        return Err(ApiError::BatchRejected { invalid, total, items: result.items });
    }
    if !dry_run {
        let to_write: Vec<usize> =
            (0..items.len()).filter(|&i| matches!(items[i].outcome, Outcome::Created | Outcome::Updated)).collect();
        if atomic {
            let ids = write(conn, &items, &to_write, &actor.name).await?;
            for (&i, id) in to_write.iter().zip(ids) {
                items[i].id = Some(id);
            }
        } else {
            let chunks: Vec<(usize, &[usize])> = to_write.chunks(RECORDS_PER_TRANSACTION).enumerate().collect();
            // A second connection, when one is free at once, writes every other chunk: PostgreSQL
            // then stores the batch on two cores while the first connection's chunk commits.
            let mut second = match spare {
                Some(pool) if chunks.len() > 1 => crate::db::spare(pool).await,
                _ => None,
            };
            let mut results = match second.as_deref_mut() {
                Some(other) => {
                    let (even, odd): (Vec<_>, Vec<_>) = chunks.iter().copied().partition(|(n, _)| n % 2 == 0);
                    let (mut a, b) = futures_util::join!(
                        write_lane(conn, &items, &even, &actor.name),
                        write_lane(other, &items, &odd, &actor.name)
                    );
                    a.extend(b);
                    a
                }
                None => write_lane(conn, &items, &chunks, &actor.name).await,
            };
            drop(second);
            results.sort_by_key(|(n, _)| *n);
            for (n, result) in results {
                let chunk = chunks[n].1;
                match result {
                    Ok(ids) => {
                        for (&i, id) in chunk.iter().zip(ids) {
                            items[i].id = Some(id);
                        }
                    }
                    // The database is gone or too slow: the whole request fails (503) and is retried
                    // with its Idempotency-Key; chunks written so far are found unchanged then.
                    Err(error) if error.is_database_outage() => return Err(error),
                    // A record changed meanwhile (or another fault): write this chunk record by record.
                    Err(error) => {
                        tracing::warn!(?error, "batch chunk failed; writing its records one by one");
                        for &i in chunk {
                            match write(conn, &items, &[i], &actor.name).await {
                                Ok(ids) => items[i].id = ids.first().copied(),
                                Err(error) if error.is_database_outage() => return Err(error),
                                Err(error) => {
                                    tracing::warn!(?error, index = i, "batch record failed");
                                    items[i].outcome = Outcome::Invalid;
                                    items[i].state = ItemState::Invalid(vec![FieldError::new(
                                        "$",
                                        "write_failed",
                                        "the record changed or was created meanwhile; send it again",
                                    )]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(summarise(items, dry_run, atomic))
}

/// What the checks decided for one record.
struct Decision {
    findings: Vec<Finding>,
    outcome: Outcome,
    id: Option<i64>,
    derived: Derived,
    replaces: Option<(i64, i32)>,
    error: Option<FieldError>,
}

impl Default for Decision {
    fn default() -> Self {
        Self {
            findings: Vec::new(),
            outcome: Outcome::Invalid,
            id: None,
            derived: Derived::default(),
            replaces: None,
            error: None,
        }
    }
}

struct Item {
    index: usize,
    state: ItemState,
    findings: Vec<Finding>,
    outcome: Outcome,
    id: Option<i64>,
    derived: Derived,
    replaces: Option<(i64, i32)>,
}

enum ItemState {
    Valid(Box<ValidEvaluation>),
    Invalid(Vec<FieldError>),
}

impl Item {
    fn record(&self) -> Option<&EvaluationInput> {
        match &self.state {
            ItemState::Valid(valid) => Some(&valid.record),
            ItemState::Invalid(_) => None,
        }
    }
}

/// Writes these chunks one after another on one connection, each in its own transaction; stops
/// at the first sign that the database is unavailable. Returns each chunk's result by number.
async fn write_lane(
    conn: &mut diesel_async::AsyncPgConnection,
    items: &[Item],
    chunks: &[(usize, &[usize])],
    actor: &str,
) -> Vec<(usize, Result<Vec<i64>, ApiError>)> {
    let mut results = Vec::with_capacity(chunks.len());
    for &(n, chunk) in chunks {
        let result = write(conn, items, chunk, actor).await;
        let stop = result.as_ref().is_err_and(ApiError::is_database_outage);
        results.push((n, result));
        if stop {
            break;
        }
    }
    results
}

/// Writes the chosen items in one transaction.
async fn write(
    conn: &mut diesel_async::AsyncPgConnection,
    items: &[Item],
    chosen: &[usize],
    actor: &str,
) -> Result<Vec<i64>, ApiError> {
    let writes: Vec<BatchWrite> = chosen
        .iter()
        .map(|&i| BatchWrite {
            record: items[i].record().expect("only valid items are written"),
            replaces: items[i].replaces,
            derived: items[i].derived.clone(),
        })
        .collect();
    conn.transaction::<_, WriteError, _>(async |conn| batch::write_all(conn, &writes, actor).await)
        .await
        .map_err(ApiError::from)
}

fn summarise(items: Vec<Item>, dry_run: bool, atomic: bool) -> BatchResult {
    let mut summary = BatchSummary::default();
    let items = items
        .into_iter()
        .map(|item| {
            match item.outcome {
                Outcome::Created => summary.created += 1,
                Outcome::Updated => summary.updated += 1,
                Outcome::Unchanged => summary.unchanged += 1,
                Outcome::Invalid => summary.invalid += 1,
            }
            let errors = match item.state {
                ItemState::Invalid(errors) => errors,
                ItemState::Valid(_) => Vec::new(),
            };
            BatchItemResult { index: item.index, outcome: item.outcome, id: item.id, errors, findings: item.findings }
        })
        .collect();
    BatchResult { dry_run, atomic, summary, items }
}

/// Most of the body's misshapen items a 400 lists in `errors`; `detail` counts them all.
const MAX_SHAPE_ERRORS: usize = 100;

/// The records of the body, each parsed on its own, once its shape is right: `application/json`
/// is one JSON array of objects, NDJSON one object per line (blank lines skipped). Any other
/// shape is 400 and nothing is written: a record that is not an object cannot be told apart from
/// a body that is not a batch at all. An object that is not a valid record, or an NDJSON line that
/// begins an object (`{`) and breaks off, is only that item's `invalid`.
fn split(body: &RawBody) -> Result<Vec<Result<EvaluationInput, Vec<FieldError>>>, ApiError> {
    // A UTF-8 byte order mark (a file saved by Windows Notepad) is no part of the JSON.
    let text = body.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&body.bytes);
    let raw = if body.ndjson { ndjson_records(text)? } else { array_records(text)? };
    if raw.len() > MAX_BATCH_RECORDS {
        return Err(ApiError::invalid_field(
            "$",
            "too_many_records",
            format!("a batch holds at most {MAX_BATCH_RECORDS} records, this one {}", raw.len()),
        ));
    }
    Ok(raw
        .into_iter()
        .map(|bytes| {
            parse_json::<EvaluationInput>(bytes).map_err(|error| match error {
                ApiError::Validation(errors) => errors,
                ApiError::BadRequest { errors, detail, .. } if errors.is_empty() => {
                    vec![FieldError::new("$", "malformed_json", detail)]
                }
                ApiError::BadRequest { errors, .. } => errors,
                other => vec![FieldError::new("$", "invalid", other.to_string())],
            })
        })
        .collect())
}

/// The items of a JSON array body, each of which must be an object.
fn array_records(text: &[u8]) -> Result<Vec<&[u8]>, ApiError> {
    let values: Vec<&serde_json::value::RawValue> = serde_json::from_slice(text).map_err(|error| {
        if error.classify() == serde_json::error::Category::Data {
            // Well-formed JSON of another type: an array of anything would have been read.
            let kind = json_kind(text);
            let message = format!(
                "the body is {kind}, not an array of records; send one record as [{{…}}], or NDJSON \
                 (one record per line) as content-type application/x-ndjson"
            );
            shape_error(ErrorCode::InvalidBody, message.clone(), vec![FieldError::new("$", "not_an_array", message)])
        } else {
            let message = if text.iter().all(u8::is_ascii_whitespace) {
                "the body is empty; a batch is a JSON array of records".to_owned()
            } else {
                format!("the body is not valid JSON ({error}); a batch is a JSON array of records")
            };
            shape_error(
                ErrorCode::MalformedJson,
                message.clone(),
                vec![FieldError::new("$", "malformed_json", message)],
            )
        }
    })?;
    let mut errors = Vec::new();
    let mut first = None;
    let mut misshapen = 0;
    for (index, value) in values.iter().enumerate() {
        let kind = json_kind(value.get().as_bytes());
        if kind != OBJECT {
            misshapen += 1;
            first.get_or_insert((index, kind));
            if errors.len() < MAX_SHAPE_ERRORS {
                errors.push(FieldError::new(
                    format!("[{index}]"),
                    "not_a_record",
                    format!("item {index} is {kind}, not a record object"),
                ));
            }
        }
    }
    if let Some((index, kind)) = first {
        let detail = match misshapen {
            1 => format!("item {index} of the array is {kind}, not a record object; nothing was written"),
            n => format!(
                "{n} items of the array are not record objects (the first: item {index}, {kind}); nothing was written"
            ),
        };
        return Err(shape_error(ErrorCode::InvalidBody, detail, errors));
    }
    Ok(values.into_iter().map(|v| v.get().as_bytes()).collect())
}

/// The non-blank lines of an NDJSON body, each of which must begin a JSON object. A line that
/// is other JSON (an array, a string, a number) or no JSON at all is named by its line number
/// (1-based, counting blank lines) and its record index (`[n]`, as the items of the result).
fn ndjson_records(text: &[u8]) -> Result<Vec<&[u8]>, ApiError> {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut first: Option<(ErrorCode, String)> = None;
    let mut misshapen = 0;
    for (number, line) in text.split(|b| *b == b'\n').enumerate() {
        let Some(start) = line.iter().position(|b| !b.is_ascii_whitespace()) else { continue };
        let index = records.len();
        records.push(line);
        if line[start] == b'{' {
            continue;
        }
        let line_number = number + 1;
        let (code, what) = match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
            Ok(_) => (ErrorCode::InvalidBody, format!("is {}, not a record object", json_kind(line))),
            Err(error) => (ErrorCode::MalformedJson, format!("is not JSON ({})", strip_position(&error.to_string()))),
        };
        let hint = if line[start] == b'[' { " (a JSON array goes as content-type application/json)" } else { "" };
        let message = format!("line {line_number} {what}; each line is one record object{hint}");
        misshapen += 1;
        first.get_or_insert_with(|| (code, message.clone()));
        if errors.len() < MAX_SHAPE_ERRORS {
            errors.push(FieldError::new(format!("[{index}]"), "not_a_record", message));
        }
    }
    match first {
        None => Ok(records),
        Some((code, message)) => {
            let detail = match misshapen {
                1 => format!("{message}; nothing was written"),
                n => format!("{n} lines are not record objects; the first: {message}; nothing was written"),
            };
            Err(shape_error(code, detail, errors))
        }
    }
}

const OBJECT: &str = "a JSON object";

/// What a JSON text is, by its first character (it has been read as JSON).
fn json_kind(text: &[u8]) -> &'static str {
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => OBJECT,
        Some(b'[') => "a JSON array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

fn shape_error(code: ErrorCode, detail: String, errors: Vec<FieldError>) -> ApiError {
    ApiError::BadRequest { code, detail, errors }
}

/// serde_json's message without its " at line L column C" (a line of NDJSON is named instead).
fn strip_position(message: &str) -> &str {
    message.rfind(" at line ").map_or(message, |at| &message[..at])
}
