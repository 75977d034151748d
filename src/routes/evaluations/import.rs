//! `POST /api/v1/evaluations/import`: a self-evaluation table (XLSX) or a narrative report (Word
//! or text) becomes draft records, previewed, or stored with `commit=true`.
use actix_web::{post, web, HttpRequest, HttpResponse};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::batch::{upsert, BatchOptions, BatchSummary, Outcome};
use crate::{
    db::{self, regions::NamedTownship, sources::SourceFile},
    domain::{
        record::EvaluationInput,
        region_code::{RegionCode, RegionLevel},
        rules::{self, CheckContext, Finding},
        scoring::ScoringRuleSet,
        validation::{validate, FISCAL_YEARS},
        FieldError,
    },
    error::ApiError,
    intake::{self, DocumentKind, IntakeError, Provenance, Unmatched},
    routes::{idempotency::Idempotency, Actor, FileBody, QueryPairs},
    state::AppState,
};

/// Query parameters of an import.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ImportParams {
    /// 区划: where to look for the township a unit name names (2/4/6 digits), or the township
    /// itself (9 digits). Defaults to the token's region.
    #[param(example = "4304")]
    region: Option<crate::routes::params::RegionCodeText>,
    /// 年度, for a document that prints none (otherwise the year before its report date is taken,
    /// with a note)
    #[param(minimum = 1990, maximum = 2100)]
    fiscal_year: Option<i32>,
    /// Store each draft as a `draft` record (or update the stored draft of the same identity) and
    /// keep the file with it; without it the answer is a preview and nothing is stored
    commit: Option<bool>,
    /// With `commit=true`: all drafts or none (422 `batch_rejected` when one is invalid)
    atomic: Option<bool>,
    /// 文件名, for a raw body (a multipart part carries its own)
    file_name: Option<String>,
}

/// How a draft's township was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The `region` parameter named the township
    Given,
    /// The only township under `region` whose name the unit name contains (or the one whose
    /// county's name it also contains)
    UnitName,
    /// Several townships fit: see `candidates`
    Ambiguous,
    /// No township under `region` has a name the unit name contains
    Unknown,
}

/// A township a unit name may mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RegionCandidate {
    /// 区划代码
    #[schema(example = "430482104")]
    pub code: String,
    /// 乡镇名称
    #[schema(example = "荫田镇")]
    pub name: String,
    /// 所属县级
    #[schema(example = "常宁市")]
    pub county: String,
    /// 所属地级
    #[schema(example = "衡阳市")]
    pub prefecture: String,
}

/// The township a draft belongs to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionMatch {
    pub resolution: Resolution,
    /// 区划代码, when resolved
    pub code: Option<String>,
    /// The unit name it was resolved from
    pub unit: String,
    /// The townships that fit, when more than one or none was chosen (at most 20)
    pub candidates: Vec<RegionCandidate>,
}

/// One draft record read from the file.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedDraft {
    /// 序号 (0-based, in document order)
    pub index: usize,
    /// 工作表 of a workbook draft
    pub sheet: Option<String>,
    /// 草稿记录: what was read, in the shape of `EvaluationInput`
    pub record: EvaluationInput,
    /// 来源: every filled field's JSON path, with the cell or text span it was read from
    pub provenance: Vec<Provenance>,
    /// 未识别: every sentence or cell with a number that no field took
    pub unmatched: Vec<Unmatched>,
    /// 一致性检查结果 of the draft
    pub findings: Vec<Finding>,
    /// Why the draft cannot be stored as it is (validation errors, an unresolved township)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// 区划匹配
    pub region: RegionMatch,
    /// Remarks on the reading to check
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// With `commit=true`: what happened to it, as in a batch
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// With `commit=true`: the stored record's id
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
}

/// The result of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// 文件类型
    pub document: DocumentKind,
    /// Whether the drafts were stored
    pub committed: bool,
    /// With `commit=true`: counts by outcome
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<BatchSummary>,
    pub drafts: Vec<ImportedDraft>,
}

/// What an import is asked to do.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Region code prefix (or township) to resolve unit names within
    pub region: Option<RegionCode>,
    pub fiscal_year: Option<i32>,
    pub commit: bool,
    pub atomic: bool,
}

/// A file to import.
pub struct ImportFile<'a> {
    pub bytes: &'a [u8],
    pub media_type: Option<&'a str>,
    pub file_name: Option<&'a str>,
}

/// Read a self-evaluation table or report file into draft records.
///
/// An XLSX self-evaluation table, a Word (.docx) report or a plain-text report (UTF-8 or
/// GB18030/GBK): raw with its media type, or as `multipart/form-data` with a `file` part. Each draft comes with the provenance of every field, the figures no field took,
/// its findings and how its township was resolved. A preview stores nothing; `commit=true` stores
/// each draft as a `draft` record (per-item outcome as in a batch, `Idempotency-Key` honoured) and
/// keeps the file: `GET /api/v1/evaluations/{id}/source`.
#[utoipa::path(
    tag = "evaluations",
    params(ImportParams, ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried commit safe")),
    request_body(description = "The file: raw (XLSX, DOCX or text/plain) or multipart/form-data with a `file` part",
        content(
            (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (FileBytes = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (String = "text/plain"),
            (ImportForm = "multipart/form-data"),
        )),
    responses(
        (status = 200, description = "The drafts, previewed or stored", body = ImportResult),
        (status = 400, description = "A malformed parameter or multipart body without a `file` part", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit, or an archive that decompresses beyond it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "A kind of file that is not read (old .doc/.xls, PDF, images); the message says what to send instead", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A corrupt file, a workbook with no self-evaluation table (naming the labels looked for), a text with no figures, or an atomic commit with an invalid draft", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this Idempotency-Key and body is still being answered (`idempotency_key_in_use`); retry after `Retry-After` seconds. A claim lapses when its request's database session ends (its instance died), or after 60 s", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown or revoked bearer token", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/evaluations/import")]
pub async fn import_evaluations(
    req: HttpRequest,
    body: FileBody,
    actor: Actor,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    actor.check(actor.principal.require_token(), None)?;
    let FileBody(body) = body;
    let query = QueryPairs::from_request(&req);
    query.only(&["region", "fiscal_year", "commit", "atomic", "file_name"])?;
    let options = ImportOptions {
        region: match query.one("region")? {
            Some(text) => Some(RegionCode::parse(text).map_err(|e| ApiError::invalid_query("region", e.to_string()))?),
            None => actor.principal.scope.as_deref().and_then(|scope| RegionCode::parse(scope).ok()),
        },
        fiscal_year: match query.one("fiscal_year")? {
            Some(text) => Some(
                text.parse::<i32>()
                    .ok()
                    .filter(|y| FISCAL_YEARS.contains(y))
                    .ok_or_else(|| ApiError::invalid_query("fiscal_year", "must be a year from 1990 to 2100"))?,
            ),
            None => None,
        },
        commit: query.flag("commit")?,
        atomic: query.flag("atomic")?,
    };
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (bytes, media_type, file_name) = match content_type.as_deref() {
        Some(ct) if ct.trim_start().to_ascii_lowercase().starts_with("multipart/form-data") => {
            let part = file_part(ct, body.clone()).await?;
            (part.bytes, part.media_type, part.file_name)
        }
        _ => (body.clone(), content_type, query.one("file_name")?.map(str::to_owned)),
    };
    let file = ImportFile { bytes: &bytes, media_type: media_type.as_deref(), file_name: file_name.as_deref() };
    let idempotency = if options.commit {
        let mut hashed = req.query_string().as_bytes().to_vec();
        hashed.push(b'\n');
        hashed.extend_from_slice(&body);
        Idempotency::from_request(&req, &hashed)?
    } else {
        None
    };
    let mut conn = state.pool.get().await?;
    // Only a commit has a key (see above); its writes commit before its answer exists, so it
    // claims the key first, as a batch does.
    if let Some(key) = &idempotency {
        if let Some(replay) = key.claim(&mut conn).await? {
            return Ok(replay);
        }
    }
    let max_uncompressed = state.settings.max_body_bytes as u64 * DECOMPRESSION_FACTOR;
    let result = match import_document(&mut conn, &file, &options, &actor, max_uncompressed).await {
        Ok(result) => result,
        Err(error) => {
            super::batch::count_rejected(&error, crate::metrics::import_drafts);
            return Err(Idempotency::failed(idempotency.as_ref(), &mut conn, error).await);
        }
    };
    match &result.summary {
        Some(summary) => {
            for (outcome, n) in summary.by_outcome() {
                crate::metrics::import_drafts(outcome.as_str(), n);
            }
        }
        None => crate::metrics::import_drafts("previewed", result.drafts.len()),
    }
    if options.commit {
        let ids: Vec<i64> = result.drafts.iter().filter_map(|d| d.id).collect();
        tracing::info!(
            target: "perfeval::audit",
            audit = "import",
            record_ids = ?ids,
            document = ?result.document,
            drafts = result.drafts.len(),
            actor = %actor.name,
            "import"
        );
    }
    let body = serde_json::to_vec(&result).expect("an import result serialises");
    Idempotency::answer_json(idempotency.as_ref(), &mut conn, body).await
}

/// A file's bytes, as the body itself.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBytes(Vec<u8>);

/// A form with the file as its `file` part (with its own media type and file name).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ImportForm {
    /// The XLSX table, DOCX report or text
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// An archive (XLSX, DOCX) may inflate to at most this many times the body limit.
pub const DECOMPRESSION_FACTOR: u64 = 8;

struct FilePart {
    bytes: web::Bytes,
    media_type: Option<String>,
    file_name: Option<String>,
}

/// The `file` part of a multipart/form-data body.
async fn file_part(content_type: &str, body: web::Bytes) -> Result<FilePart, ApiError> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| ApiError::invalid_body("file", format!("a multipart body needs its boundary: {e}")))?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::invalid_body("file", format!("the multipart body is malformed: {e}")))?;
        let Some(field) = field else {
            return Err(ApiError::invalid_body("file", "the multipart body has no `file` part"));
        };
        if field.name() != Some("file") {
            continue;
        }
        let media_type = field.content_type().map(|m| m.to_string());
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::invalid_body("file", format!("the `file` part is malformed: {e}")))?;
        return Ok(FilePart { bytes, media_type, file_name });
    }
}

impl From<IntakeError> for ApiError {
    fn from(error: IntakeError) -> Self {
        match error {
            IntakeError::Unsupported(what) => {
                ApiError::UnsupportedMediaType(format!("this file is {what}; send .xlsx, .docx or plain text"))
            }
            IntakeError::TooLarge { limit } => ApiError::DecompressedTooLarge { limit },
            IntakeError::Unreadable { code, message } => ApiError::invalid_field("file", code, message),
        }
    }
}

/// Reads a file into drafts, resolves each draft's township, checks them, and with `commit`
/// stores them: the core of the endpoint and of `perfeval import-report`.
pub async fn import_document(
    conn: &mut AsyncPgConnection,
    file: &ImportFile<'_>,
    options: &ImportOptions,
    actor: &Actor,
    max_uncompressed: u64,
) -> Result<ImportResult, ApiError> {
    let kind = intake::detect(file.bytes, file.media_type, file.file_name)?;
    // Reading is CPU work on untrusted input: off the HTTP worker, and a fault in a reader is
    // a 500 for this request rather than a dropped connection.
    let bytes = file.bytes.to_vec();
    let read = tokio::task::spawn_blocking(move || intake::read(&bytes, kind, max_uncompressed))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading the {kind:?} file failed: {e}")))??;
    let rule_sets = db::batch::rule_sets(conn).await?;
    let national = ScoringRuleSet::default();
    let mut drafts = Vec::with_capacity(read.len());
    for (index, draft) in read.into_iter().enumerate() {
        let mut record = draft.record;
        let mut notes = draft.notes;
        let region = resolve(conn, &record.unit, options.region.as_ref()).await?;
        if let Some(code) = &region.code {
            record.region_code = code.clone();
        }
        if record.fiscal_year == 0 {
            match (options.fiscal_year, record.report_date) {
                (Some(year), _) => {
                    record.fiscal_year = year;
                    notes.push(format!("no fiscal year printed; {year} as the request's fiscal_year says"));
                }
                (None, Some(date)) => {
                    use chrono::Datelike;
                    record.fiscal_year = date.year() - 1;
                    notes.push(format!(
                        "no fiscal year printed; {} taken as the year before the report date {date}",
                        record.fiscal_year
                    ));
                }
                (None, None) => {}
            }
        }
        let mut errors = match validate(record.clone()) {
            Ok(valid) => {
                record = valid.record;
                Vec::new()
            }
            Err(errors) => errors,
        };
        if errors.is_empty() {
            errors = crate::db::indicators::resolve(conn, &mut [&mut record]).await?.pop().unwrap_or_default();
        }
        if region.code.is_none() {
            errors.retain(|e| e.field != "region_code");
            errors.insert(
                0,
                FieldError::new(
                    "region_code",
                    "unresolved_region",
                    match region.resolution {
                        Resolution::Ambiguous => {
                            "several townships fit the unit name; pass region= with the township's code".to_owned()
                        }
                        _ => format!(
                            "no township{} has a name the unit name `{}` contains; pass region= with the township's code",
                            options.region.as_ref().map(|r| format!(" under {r}")).unwrap_or_default(),
                            record.unit
                        ),
                    },
                ),
            );
        }
        let rules_set =
            rule_sets.get(record.region_code.get(..2).unwrap_or("")).or_else(|| rule_sets.get("")).unwrap_or(&national);
        let findings = rules::check(&record, &CheckContext { prior_year: None, rules: rules_set });
        drafts.push(ImportedDraft {
            index,
            sheet: draft.sheet,
            record,
            provenance: draft.provenance,
            unmatched: draft.unmatched,
            findings,
            errors,
            region,
            notes,
            outcome: None,
            id: None,
        });
    }
    let mut result = ImportResult { document: kind, committed: false, summary: None, drafts };
    if options.commit {
        commit(conn, &mut result, file, kind, options, actor).await?;
    }
    Ok(result)
}

/// Stores the drafts through the batch's upsert, and the file with the records written, in one
/// transaction.
async fn commit(
    conn: &mut AsyncPgConnection,
    result: &mut ImportResult,
    file: &ImportFile<'_>,
    kind: DocumentKind,
    options: &ImportOptions,
    actor: &Actor,
) -> Result<(), ApiError> {
    let parsed: Vec<Result<EvaluationInput, Vec<FieldError>>> = result
        .drafts
        .iter()
        .map(|d| if d.errors.is_empty() { Ok(d.record.clone()) } else { Err(d.errors.clone()) })
        .collect();
    let media_type = file.media_type.filter(|m| !m.is_empty() && *m != "application/octet-stream");
    let source =
        SourceFile { media_type: media_type.unwrap_or(kind.media_type()), file_name: file.file_name, body: file.bytes };
    let sheets: Vec<Option<String>> = result.drafts.iter().map(|d| d.sheet.clone()).collect();
    let batch = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let batch =
                upsert(conn, parsed, BatchOptions { dry_run: false, atomic: options.atomic }, actor, None).await?;
            let written: Vec<(i64, Option<&str>)> = batch
                .items
                .iter()
                .filter(|item| matches!(item.outcome, Outcome::Created | Outcome::Updated))
                .filter_map(|item| Some((item.id?, sheets[item.index].as_deref())))
                .collect();
            db::sources::link(conn, &source, &written).await?;
            Ok(batch)
        })
        .await?;
    for item in batch.items {
        let draft = &mut result.drafts[item.index];
        draft.outcome = Some(item.outcome);
        draft.id = item.id;
        if item.outcome == Outcome::Invalid && draft.errors.is_empty() {
            draft.errors = item.errors;
        }
    }
    result.committed = true;
    result.summary = Some(batch.summary);
    Ok(())
}

/// The township a unit name names, within `within`.
async fn resolve(
    conn: &mut AsyncPgConnection,
    unit: &str,
    within: Option<&RegionCode>,
) -> Result<RegionMatch, ApiError> {
    let matched = |resolution, code: Option<String>, candidates| RegionMatch {
        resolution,
        code,
        unit: unit.to_owned(),
        candidates,
    };
    if let Some(township) = within.filter(|r| r.level() == RegionLevel::Township) {
        return Ok(matched(Resolution::Given, Some(township.to_string()), Vec::new()));
    }
    if unit.trim().is_empty() {
        return Ok(matched(Resolution::Unknown, None, Vec::new()));
    }
    let found = db::regions::townships_named_in(conn, unit, within.map(RegionCode::as_str)).await?;
    let (best, candidates) = choose(unit, found);
    let candidates: Vec<RegionCandidate> = candidates.into_iter().take(MAX_CANDIDATES).map(candidate).collect();
    Ok(match best {
        Some(best) => matched(Resolution::UnitName, Some(best.code), Vec::new()),
        None if candidates.is_empty() => matched(Resolution::Unknown, None, candidates),
        None => matched(Resolution::Ambiguous, None, candidates),
    })
}

const MAX_CANDIDATES: usize = 20;

fn candidate(t: NamedTownship) -> RegionCandidate {
    RegionCandidate { code: t.code, name: t.name, county: t.county, prefecture: t.prefecture }
}

/// The township a unit name means among those whose names it contains: the longest name wins
/// (荫田镇 over 田镇), then the one whose county and prefecture the unit name also names. None
/// when that leaves more than one; all of them are the candidates.
fn choose(unit: &str, found: Vec<NamedTownship>) -> (Option<NamedTownship>, Vec<NamedTownship>) {
    let longest = found.iter().map(|t| t.name.chars().count()).max().unwrap_or(0);
    let mut found: Vec<NamedTownship> = found.into_iter().filter(|t| t.name.chars().count() == longest).collect();
    let score = |t: &NamedTownship| {
        u8::from(!t.county.is_empty() && unit.contains(&t.county)) * 2
            + u8::from(!t.prefecture.is_empty() && unit.contains(&t.prefecture))
    };
    found.sort_by_key(|t| std::cmp::Reverse(score(t)));
    match found.as_slice() {
        [only] => (Some(only.clone()), Vec::new()),
        [first, second, ..] if score(first) > score(second) => (Some(first.clone()), Vec::new()),
        _ => (None, found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn township(code: &str, name: &str, county: &str, prefecture: &str) -> NamedTownship {
        NamedTownship { code: code.into(), name: name.into(), county: county.into(), prefecture: prefecture.into() }
    }

    #[test]
    fn a_unit_name_picks_the_township_its_county_confirms() {
        let found =
            vec![township("420000001", "城关镇", "甲县", "甲市"), township("430000001", "城关镇", "通城县", "咸宁市")];
        let (best, candidates) = choose("通城县城关镇人民政府", found.clone());
        assert_eq!(best.unwrap().code, "430000001");
        assert!(candidates.is_empty());
        let (best, candidates) = choose("城关镇人民政府", found);
        assert_eq!(best, None);
        assert_eq!(candidates.len(), 2, "ambiguous without the county");
    }

    #[test]
    fn the_longest_township_name_wins() {
        let found = vec![township("1", "田镇", "a", "b"), township("2", "荫田镇", "常宁市", "衡阳市")];
        assert_eq!(choose("常宁市荫田镇人民政府", found).0.unwrap().code, "2");
    }
}
