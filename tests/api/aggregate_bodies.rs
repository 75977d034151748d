//! The aggregate answers of a fixed set of queries over fixed data, byte for byte: a change of how
//! aggregates are computed (the SQL, the rollup, compare, share, rank and percentile code) must
//! not change a single byte of them. `UPDATE_AGGREGATE_BODIES=1` rewrites the files, for a change
//! that means to change them (and the diff shows what).
use std::process::Command;

use crate::helpers::spawn_app;

const QUERIES: [(&str, &str); 10] = [
    ("county-year-compare", "measures=expenditure.total,three_public.total,score:avg&group_by=county,fiscal_year&fiscal_year=2021..2023&compare=previous_year"),
    ("township-rollup-share-parent", "measures=expenditure.total,records&group_by=township&fiscal_year=2022&rollup=true&share=parent&region=430482"),
    ("county-share-total-rank", "measures=income.total,expenditure.total&group_by=county&fiscal_year=2022&share=total&rank=true"),
    ("township-rank-in-county", "measures=three_public.per_staff&group_by=township&fiscal_year=2023&rank=true&order=-three_public.per_staff&limit=15"),
    ("percentiles", "measures=score:median,score:p25,score:p75,expenditure.total:median&group_by=county"),
    ("grade-status", "measures=records,score:avg&group_by=grade,status&fiscal_year=2022"),
    ("kind-min-count", "measures=records,expenditure.total:max,expenditure.total:min&group_by=kind,fiscal_year&min_count=5"),
    ("ratios", "measures=three_public.budget_execution,expenditure.per_staff&group_by=prefecture,fiscal_year"),
    ("indicator", "measures=indicator.HN-02.actual,indicator.HN-02.completion&group_by=county&fiscal_year=2022"),
    ("grand-total-csv-zh", "measures=expenditure.total,records&format=csv&labels=zh&fiscal_year=2022"),
];

#[tokio::test]
async fn aggregate_answers_are_byte_identical_to_the_committed_ones() {
    let app = spawn_app().await;
    let loaded = Command::new(env!("CARGO_BIN_EXE_perfeval"))
        .args(["demo-data", "--region", "4304", "--years", "2020..2023"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    let update = std::env::var_os("UPDATE_AGGREGATE_BODIES").is_some();
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/aggregates");
    let mut differ = Vec::new();
    for (name, query) in QUERIES {
        let reply = app.get(&format!("/api/v1/aggregates?{query}")).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.text);
        let extension = if query.contains("format=csv") { "csv" } else { "json" };
        let file = format!("{folder}/{name}.{extension}");
        if update {
            std::fs::write(&file, &reply.text).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        if committed != reply.text {
            differ.push(name);
        }
    }
    assert!(differ.is_empty(), "answers differ from the committed ones: {differ:?}");
}
