//! `POST /api/v1/evaluations/batch`
use std::collections::HashMap;

use actix_web::{http::StatusCode, post, web, HttpRequest, HttpResponse};
use diesel_async::AsyncConnection;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::derived;
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
    error::ApiError,
    routes::{idempotency::Idempotency, parse_json, Actor, QueryPairs, RawBody},
    startup::AppState,
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

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 新建
    Created,
    /// 更新
    Updated,
    /// 无变化: the stored record already has this content
    Unchanged,
    /// 无效: see `errors`; nothing was written for it
    Invalid,
}

impl Outcome {
    /// The outcome's name in JSON (and in `/metrics`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
            Self::Invalid => "invalid",
        }
    }
}

/// The result of one record, by its position in the batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// 序号 (0-based position in the batch)
    pub index: usize,
    pub outcome: Outcome,
    /// 记录编号 (absent for invalid records and for new records in a dry run)
    pub id: Option<i64>,
    /// Why the record is invalid (paths relative to the record)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// 一致性检查结果
    pub findings: Vec<Finding>,
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
/// As a JSON array or NDJSON (`application/x-ndjson`, one record per line), keyed by
/// (region_code, fiscal_year, kind, unit, project name). Each record stands alone unless
/// `atomic=true`; `dry_run=true` only checks. A stored record that is submitted, approved or
/// published is not changed (its item is invalid) unless the content is the same (`unchanged`).
#[utoipa::path(
    tag = "evaluations",
    params(BatchParams, ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body(content = Vec<EvaluationInput>, description = "A JSON array of records, or NDJSON",
        content_type = "application/json"),
    responses(
        (status = 200, description = "One result per record", body = BatchResult),
        (status = 400, description = "The body is not a JSON array or NDJSON, or a parameter is malformed", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is neither JSON nor NDJSON", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than 10,000 records, an atomic batch with invalid records (nothing written), or the Idempotency-Key was used with another body", body = crate::error::Problem, content_type = "application/problem+json"),
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
    if let Some(replay) = Idempotency::replay_any(idempotency.as_ref(), &mut conn).await? {
        return Ok(replay);
    }
    let parsed = split(&body)?;
    drop(body);
    let total = parsed.len();
    let started = std::time::Instant::now();
    let result = upsert(&mut conn, parsed, BatchOptions { dry_run, atomic }, &actor, Some(&state.pool))
        .await
        .inspect_err(|error| count_rejected(error, |outcome, n| crate::metrics::batch_records(outcome, dry_run, n)))?;
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
    if let (Some(key), false) = (&idempotency, dry_run) {
        key.store(
            &mut conn,
            &key.stored(StatusCode::OK, &[("content-type", "application/json".to_owned())], body.clone()),
        )
        .await?;
    }
    Ok(HttpResponse::Ok().content_type("application/json").body(body))
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
        return Err(ApiError::BatchRejected {
            invalid,
            total,
            items: serde_json::to_value(&result.items).unwrap_or_default(),
        });
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

/// The records of a JSON array or NDJSON body, each parsed on its own.
fn split(body: &RawBody) -> Result<Vec<Result<EvaluationInput, Vec<FieldError>>>, ApiError> {
    let text = &body.bytes[..];
    let starts_array = text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let raw: Vec<&[u8]> = if starts_array && !body.ndjson {
        let values: Vec<&serde_json::value::RawValue> =
            serde_json::from_slice(text).map_err(|e| ApiError::BadRequest {
                code: crate::error::ErrorCode::MalformedJson,
                detail: format!("the body is not a JSON array of records: {e}"),
                errors: Vec::new(),
            })?;
        values.into_iter().map(|v| v.get().as_bytes()).collect()
    } else {
        text.split(|b| *b == b'\n').filter(|line| line.iter().any(|b| !b.is_ascii_whitespace())).collect()
    };
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
