//! `perfeval demo-data`, `perfeval import` and `perfeval import-report`: bulk loads through the
//! batch and import endpoints' code paths.
use std::{io::Write, path::Path, time::Instant};

use anyhow::{bail, Context};

use crate::{
    db,
    domain::{
        demo::{self, Township},
        record::EvaluationInput,
        region_code::RegionCode,
    },
    routes::evaluations::batch::{upsert, BatchOptions, BatchSummary},
};

/// Records per transaction while loading.
const CHUNK: usize = 1_000;

/// The reference report, 荫田镇 2022, which replaces its generated twin.
const REFERENCE: &str = include_str!("../tests/fixtures/yintian-2022.json");

/// What `perfeval demo-data` generates: every township under some regions, for some years.
pub struct DemoPlan {
    /// The regions asked for (codes; `all` is every province)
    pub regions: Vec<RegionCode>,
    pub years: std::ops::RangeInclusive<i32>,
    townships: Vec<Township>,
    reference: EvaluationInput,
    /// Whether each department-overall record comes with its township's project records
    projects: bool,
}

impl DemoPlan {
    /// `regions`: a code (2, 4 or 6 digits), a comma list of them, or `all`; `years`: `2022` or
    /// `2018..2024`.
    pub fn new(regions: &str, years: &str) -> anyhow::Result<Self> {
        let rows = db::regions::builtin_rows();
        let regions: Vec<RegionCode> = if regions.trim() == "all" {
            rows.iter().filter(|r| r.level == "province").filter_map(|r| RegionCode::parse(&r.code).ok()).collect()
        } else {
            regions
                .split(',')
                .map(|code| RegionCode::parse(code.trim()).map_err(|e| anyhow::anyhow!("--region {code}: {e}")))
                .collect::<anyhow::Result<_>>()?
        };
        let (from, to) = match years.split_once("..") {
            Some((from, to)) => (from.trim().parse::<i32>()?, to.trim().parse::<i32>()?),
            None => (years.trim().parse::<i32>()?, years.trim().parse::<i32>()?),
        };
        if !(1991..=2100).contains(&from) || from > to || to > 2100 {
            bail!("--years must be a year or a range within 1991..2100");
        }
        let names: std::collections::HashMap<&str, &str> =
            rows.iter().map(|r| (r.code.as_str(), r.name.as_str())).collect();
        let townships: Vec<Township> = rows
            .iter()
            .filter(|r| r.level == "township" && regions.iter().any(|region| r.code.starts_with(region.as_str())))
            .map(|r| Township {
                code: r.code.clone(),
                name: r.name.clone(),
                county_name: names.get(&r.code[..6]).copied().unwrap_or("").to_owned(),
            })
            .collect();
        if townships.is_empty() {
            bail!("no township under --region {}", regions.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","));
        }
        let reference: EvaluationInput = serde_json::from_str(REFERENCE).expect("the reference fixture is a record");
        Ok(Self { regions, years: from..=to, townships, reference, projects: true })
    }

    /// The department-overall records alone (the dataset as it was before project records):
    /// `--without-projects`.
    pub fn without_projects(mut self) -> Self {
        self.projects = false;
        self
    }

    /// How many records `records` yields, counted without making them.
    pub fn len(&self) -> usize {
        self.years
            .clone()
            .map(|year| {
                self.townships
                    .iter()
                    .filter(|t| self.is_reference(t, year) || demo::files(&t.code, year))
                    .map(|t| 1 + if self.projects { demo::project_count(&t.code, year) } else { 0 })
                    .sum::<usize>()
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn is_reference(&self, township: &Township, year: i32) -> bool {
        township.code == self.reference.region_code && year == self.reference.fiscal_year
    }

    /// Every township's records, year by year, so that each year's prior-year figures are stored
    /// before it is checked: its department-overall self-evaluation (the reference report for
    /// 荫田镇 2022) and its two or three project self-evaluations. Made as they are read, so a
    /// national plan never sits in memory whole.
    pub fn records(&self) -> impl Iterator<Item = EvaluationInput> + '_ {
        self.years.clone().flat_map(move |year| {
            self.townships.iter().flat_map(move |township| {
                let department = if self.is_reference(township, year) {
                    Some(self.reference.clone())
                } else if demo::files(&township.code, year) {
                    Some(demo::record(township, year))
                } else {
                    None
                };
                let projects = (self.projects && department.is_some()).then(|| demo::project_records(township, year));
                department.into_iter().chain(projects.into_iter().flatten())
            })
        })
    }
}

/// Writes records as NDJSON, one per line, to `path` (`-`: standard output, which then holds
/// nothing else). A reader that stops early (`| head`) ends the output without an error.
pub fn write_ndjson(path: &Path, records: impl Iterator<Item = EvaluationInput>) -> anyhow::Result<()> {
    let (out, name): (Box<dyn Write>, String) = if path == Path::new("-") {
        (Box::new(std::io::stdout().lock()), "standard output".to_owned())
    } else {
        let file = std::fs::File::create(path).with_context(|| path.display().to_string())?;
        (Box::new(file), path.display().to_string())
    };
    let mut out = std::io::BufWriter::new(out);
    let mut count = 0;
    let written = records.into_iter().try_for_each(|record| {
        count += 1;
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")
    });
    match written.and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        other => other.with_context(|| format!("writing {name}"))?,
    }
    eprintln!("wrote {count} records to {name}");
    Ok(())
}

/// Upserts the plan's records in chunks, with a progress bar, then moves them through review as
/// a province would have: every year before the last published, the last year a mix of drafts,
/// submitted, returned and approved records. Records with error findings stay drafts.
pub async fn load(database_url: &str, plan: &DemoPlan) -> anyhow::Result<()> {
    let total = plan.len();
    upsert_all(database_url, plan.records().map(Ok), total, "demo-data").await?;
    let last_year = *plan.years.end();
    let mut conn = db::connect(database_url).await?;
    let mut reviewed = 0;
    // A year at a time, each followed by a VACUUM: a review step rewrites its record, and the
    // version it leaves behind is space the next year's updates can take once VACUUM has freed it,
    // as autovacuum would between them (where it runs: this loader may run where it is off).
    // Reviewed all at once, the records' table would end up half dead versions.
    for year in plan.years.clone() {
        for region in &plan.regions {
            reviewed += review(&mut conn, region.as_str(), year as i16, last_year as i16).await?;
        }
        diesel_async::RunQueryDsl::execute(diesel::sql_query("VACUUM evaluations"), &mut conn).await?;
    }
    eprintln!("reviewed {reviewed} records: earlier years published, {last_year} in review");
    // The aggregates' sums take in the load's deltas now rather than at a service's next compaction.
    db::sums::compact(&mut conn).await?;
    Ok(())
}

/// The review history of untouched demo drafts of `year` under `region`, written in one
/// transaction as the versions the API would have stored (a transition is the version it makes).
async fn review(
    conn: &mut diesel_async::AsyncPgConnection,
    region: &str,
    year: i16,
    last_year: i16,
) -> anyhow::Result<usize> {
    use diesel::sql_types::{SmallInt, Text};
    use diesel_async::{AsyncConnection, RunQueryDsl};
    let region = RegionCode::parse(region).map_err(|e| anyhow::anyhow!("--region: {e}"))?.to_string();
    let changed = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::sql_query(REVIEW_STEPS)
                .bind::<Text, _>(&region)
                .bind::<Text, _>(format!("{region}~"))
                .bind::<SmallInt, _>(last_year)
                .bind::<SmallInt, _>(year)
                .execute(conn)
                .await?;
            diesel::sql_query(REVIEW_APPLY).execute(conn).await
        })
        .await?;
    Ok(changed)
}

/// Each untouched draft's review path: earlier years submit → approve → publish; the last year,
/// by a hash of the township, stays a draft, is submitted, returned, or approved.
const REVIEW_STEPS: &str = "\
CREATE TEMP TABLE demo_steps ON COMMIT DROP AS
SELECT e.id, e.revision + s.n AS revision, s.action, s.to_status, s.n,
       CASE WHEN s.action = 'return' THEN '请补充项目绩效目标完成情况说明' END AS comment
FROM evaluations e
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN e.error_count > 0 THEN 'none'
        WHEN e.fiscal_year < $3 THEN 'published'
        ELSE (ARRAY['none', 'submitted', 'submitted', 'approved', 'returned'])[1 + abs(hashtext(e.region_code)) % 5]
    END AS target
) t
CROSS JOIN LATERAL (
    SELECT * FROM (VALUES
        (1, 'submit', 'submitted'),
        (2, CASE t.target WHEN 'returned' THEN 'return' ELSE 'approve' END,
            CASE t.target WHEN 'returned' THEN 'returned' ELSE 'approved' END),
        (3, 'publish', 'published')
    ) v(n, action, to_status)
    WHERE v.n <= CASE t.target WHEN 'submitted' THEN 1 WHEN 'returned' THEN 2 WHEN 'approved' THEN 2
                               WHEN 'published' THEN 3 ELSE 0 END
) s
WHERE e.status = 'draft' AND e.revision = 1 AND e.region_code >= $1 AND e.region_code < $2 AND e.fiscal_year = $4";

const REVIEW_APPLY: &str = "\
WITH versions AS (
    INSERT INTO evaluation_revisions (evaluation_id, revision, action, status, actor, comment, record, content_revision)
    SELECT s.id, s.revision, s.action, s.to_status, 'demo-data', s.comment, NULL, 1
    FROM demo_steps s
)
UPDATE evaluations e SET status = last.to_status, revision = last.revision, updated_at = now()
FROM (SELECT DISTINCT ON (id) id, to_status, revision FROM demo_steps ORDER BY id, n DESC) last
WHERE e.id = last.id";

/// Upserts the records of an NDJSON file.
pub async fn import(database_url: &str, text: &[u8]) -> anyhow::Result<()> {
    let parsed = text.split(|b| *b == b'\n').filter(|line| line.iter().any(|b| !b.is_ascii_whitespace())).map(|line| {
        crate::routes::parse_json::<EvaluationInput>(line)
            .map_err(|e| vec![crate::domain::FieldError::new("$", "invalid", e.to_string())])
    });
    let total = text.split(|b| *b == b'\n').filter(|line| line.iter().any(|b| !b.is_ascii_whitespace())).count();
    upsert_all(database_url, parsed, total, "import").await
}

/// Upserts records through the batch path, a thousand per transaction, with a progress bar on a
/// terminal (a line per 10,000 records elsewhere) and a summary at the end, all on standard error.
async fn upsert_all(
    database_url: &str,
    mut parsed: impl Iterator<Item = Result<EvaluationInput, Vec<crate::domain::FieldError>>>,
    total: usize,
    actor: &str,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    db::migrate(database_url).await?;
    let mut conn = db::connect(database_url).await?;
    // The command line acts as an administrator, under the command's name.
    let actor = crate::auth::Actor {
        name: actor.to_owned(),
        principal: crate::domain::access::Principal { role: crate::domain::access::Role::Admin, scope: None },
    };
    let started = Instant::now();
    let mut sum = BatchSummary::default();
    let mut done = 0;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(total as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} records, {per_sec}, {elapsed} (eta {eta})")
            .expect("a valid template"),
    );
    // A table that grows from empty keeps an empty table's statistics until it is analyzed, and
    // the upserts' look-ups then scan it whole: with autovacuum off (or behind), a national load
    // slowed from 1,100 to 400 records/s by 300,000 records. The load analyzes whenever it has
    // doubled.
    let mut analyze_at = 10 * CHUNK;
    loop {
        let chunk: Vec<_> = parsed.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        if done >= analyze_at {
            diesel_async::RunQueryDsl::execute(diesel::sql_query("ANALYZE"), &mut conn).await?;
            analyze_at *= 2;
        }
        let first = done;
        done += chunk.len();
        let result = upsert(&mut conn, chunk, BatchOptions::default(), &actor, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for item in result.items.iter().filter(|i| !i.errors.is_empty()).take(3) {
            bar.suspend(|| eprintln!("record {}: {:?}", first + item.index, item.errors));
        }
        sum.created += result.summary.created;
        sum.updated += result.summary.updated;
        sum.unchanged += result.summary.unchanged;
        sum.invalid += result.summary.invalid;
        bar.set_position(done as u64);
        if bar.is_hidden() && (done % (10 * CHUNK) == 0 || done == total) {
            let seconds = started.elapsed().as_secs_f64();
            eprintln!("{done}/{total} records, {seconds:.1} s, {:.0} records/s", done as f64 / seconds.max(0.001));
        }
    }
    bar.finish_and_clear();
    eprintln!(
        "done: {} created, {} updated, {} unchanged, {} invalid in {:.1} s",
        sum.created,
        sum.updated,
        sum.unchanged,
        sum.invalid,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What `perfeval import-report` does with each file.
pub struct ReportImport<'a> {
    pub files: &'a [std::path::PathBuf],
    pub region: Option<&'a str>,
    pub commit: bool,
    /// Where to write each file's result (its drafts with provenance) as JSON
    pub out: Option<&'a Path>,
    pub max_body_bytes: usize,
}

/// Reads each file as the import endpoint does, printing one line per file (drafts, fields filled,
/// unmatched figures, errors; with `--commit`, what was stored), with a progress bar on a terminal.
/// Fails when a file could not be read at all.
pub async fn import_reports(database_url: &str, job: ReportImport<'_>) -> anyhow::Result<()> {
    use crate::routes::evaluations::import::{import_document, ImportFile, ImportOptions, DECOMPRESSION_FACTOR};
    let region = job.region.map(|r| RegionCode::parse(r).map_err(|e| anyhow::anyhow!("--region: {e}"))).transpose()?;
    if let Some(out) = job.out {
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    }
    db::migrate(database_url).await?;
    let mut conn = db::connect(database_url).await?;
    let actor = crate::auth::Actor {
        name: "import-report".to_owned(),
        principal: crate::domain::access::Principal { role: crate::domain::access::Role::Admin, scope: None },
    };
    let options = ImportOptions { region, fiscal_year: None, commit: job.commit, atomic: false };
    let bar = indicatif::ProgressBar::new(job.files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files, {elapsed} {msg}")
            .expect("a valid template"),
    );
    let mut failed = 0;
    for path in job.files {
        bar.set_message(path.display().to_string());
        let line = match std::fs::read(path) {
            Err(e) => {
                failed += 1;
                format!("{}\terror: reading it: {e}", path.display())
            }
            Ok(bytes) => {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let file = ImportFile { bytes: &bytes, media_type: None, file_name: name.as_deref() };
                let max = job.max_body_bytes as u64 * DECOMPRESSION_FACTOR;
                match import_document(&mut conn, &file, &options, &actor, max).await {
                    Err(e) => {
                        failed += 1;
                        format!("{}\terror: {}", path.display(), e.problem().detail)
                    }
                    Ok(result) => {
                        if let Some(out) = job.out {
                            let stem = path.file_stem().map_or("file".into(), |s| s.to_string_lossy());
                            let target = out.join(format!("{stem}.json"));
                            std::fs::write(&target, serde_json::to_vec_pretty(&result)?)
                                .with_context(|| format!("writing {}", target.display()))?;
                        }
                        let fields: usize = result.drafts.iter().map(|d| d.provenance.len()).sum();
                        let unmatched: usize = result.drafts.iter().map(|d| d.unmatched.len()).sum();
                        let errors: usize = result.drafts.iter().map(|d| d.errors.len()).sum();
                        let stored = result
                            .summary
                            .map(|s| {
                                format!(
                                    "\t{} created, {} updated, {} unchanged, {} invalid",
                                    s.created, s.updated, s.unchanged, s.invalid
                                )
                            })
                            .unwrap_or_default();
                        format!(
                            "{}\t{} drafts\t{fields} fields\t{unmatched} unmatched\t{errors} errors{stored}",
                            path.display(),
                            result.drafts.len()
                        )
                    }
                }
            }
        };
        bar.suspend(|| println!("{line}"));
        bar.inc(1);
    }
    bar.finish_and_clear();
    if failed > 0 {
        bail!("{failed} of {} files could not be read", job.files.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_counts_the_records_it_makes_and_takes_lists_and_all() {
        let plan = DemoPlan::new("430482,421222", "2021..2022").unwrap();
        let records: Vec<EvaluationInput> = plan.records().collect();
        assert_eq!(plan.len(), records.len());
        assert!(records.iter().all(|r| r.region_code.starts_with("430482") || r.region_code.starts_with("421222")));
        assert!(records.iter().any(|r| r == &plan.reference), "荫田镇 2022 is the reference report");
        // Year by year: every 2021 record comes before the first of 2022.
        let first_2022 = records.iter().position(|r| r.fiscal_year == 2022).unwrap();
        assert!(records[first_2022..].iter().all(|r| r.fiscal_year == 2022));

        let all = DemoPlan::new("all", "2022").unwrap();
        assert_eq!(all.regions.len(), 31, "every province");
        assert!(all.len() > 120_000, "{}", all.len());
        assert!(DemoPlan::new("43,9", "2022").is_err());
        assert!(DemoPlan::new("43", "2024..2022").is_err());
    }

    #[test]
    fn without_projects_a_plan_makes_the_department_records_alone() {
        let whole: Vec<EvaluationInput> = DemoPlan::new("430482", "2021..2022").unwrap().records().collect();
        let plan = DemoPlan::new("430482", "2021..2022").unwrap().without_projects();
        let departments: Vec<EvaluationInput> = plan.records().collect();
        assert_eq!(plan.len(), departments.len());
        assert!(departments.iter().all(|r| r.project.is_none()), "no project record");
        let expected: Vec<&EvaluationInput> = whole.iter().filter(|r| r.project.is_none()).collect();
        assert_eq!(departments.iter().collect::<Vec<_>>(), expected, "the same department records, in order");
        assert!(whole.len() > 2 * departments.len(), "{} of {}", departments.len(), whole.len());
    }
}
