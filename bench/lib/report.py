"""Prints bench/run's results as markdown. Usage: report.py WORKDIR

Reads WORKDIR/results (lines `key value…`) and WORKDIR/cpu-*.json (bench/lib/cpu.py).
"""
import json
import os
import statistics
import sys

work = sys.argv[1]
r = {}
with open(os.path.join(work, "results")) as f:
    for line in f:
        key, _, value = line.rstrip("\n").partition(" ")
        if key:
            r[key] = value


def num(key):
    value = r.get(key)
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def check(ok):
    return "" if ok is None else (" ✓" if ok else " ✗")


rows = []
conns, threads = r.get("conns"), r.get("threads")

for name, label in (("record", "GET one full record, random ids"),
                    ("list", "GET list page, random county + year 2022, limit 50")):
    api, sql = num(f"{name}_api_rps"), num(f"{name}_sql_tps")
    if api is None and sql is None:
        continue
    ratio = api / sql if api and sql else None
    rows.append((f"{label} ({conns} connections)",
                 f"{api:,.0f} req/s" if api is not None else "-",
                 f"{sql:,.0f} txn/s" if sql is not None else "-",
                 f"{ratio:.2f}×" if ratio else "-",
                 "≥ 0.6×" + check(ratio >= 0.6 if ratio else None)))

api, sql = num("agg_api_p50_us"), num("agg_sql_p50_us")
if api is not None or sql is not None:
    ratio = api / sql if api and sql else None
    rows.append(("county × year aggregate over Hunan, compare=previous_year: p50 latency (1 connection)",
                 f"{api / 1000:.2f} ms" if api is not None else "-",
                 f"{sql / 1000:.2f} ms" if sql is not None else "-",
                 f"{ratio:.2f}×" if ratio else "-",
                 "≤ 1.3×" + check(ratio <= 1.3 if ratio else None)))

records = num("batch_records")
if records:
    api = records / num("batch_secs") if num("batch_secs") else None
    sql = records / num("copy_secs") if num("copy_secs") else None
    ratio = api / sql if api and sql else None
    rows.append((f"batch import, first load into a fresh database: records/s (NDJSON, {int(num('batch_size')):,} per batch)",
                 f"{api:,.0f} rec/s" if api else "-",
                 f"{sql:,.0f} rec/s (COPY)" if sql else "-",
                 f"{ratio:.2f}×" if ratio else "-",
                 "≥ 1,000 rec/s" + check(api >= 1000 if api else None)))
    if num("batch_again_secs"):
        rows.append(("batch import, same batches again (all unchanged): records/s",
                     f"{records / num('batch_again_secs'):,.0f} rec/s", "-", "-", "-"))

rss = [v for v in (num("rss_read_kb"), num("rss_batch_kb"), num("rss_batch_again_kb")) if v is not None]
if rss:
    peak = max(rss) * 1024 / 1e6
    rows.append(("service peak RSS under load (VmHWM, highest of the read and batch phases)", f"{peak:.0f} MB", "-", "-", "< 150 MB" + check(peak < 150)))

starts = [float(x) for x in r.get("start_secs", "").split()]
if starts:
    median = statistics.median(starts)
    rows.append((f"start against an existing database, exec → first 200 from /readyz (median of {len(starts)})",
                 f"{median:.2f} s", "-", "-", "< 1 s" + check(median < 1)))

def table(header, body):
    """A markdown table, then a blank line."""
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in body:
        print("| " + " | ".join(row) + " |")
    print()


print(f"## perfeval benchmark ({r.get('mode')} mode, {r.get('duration')} s per measurement)")
print()
table(("workload", "API", "raw SQL", "API / SQL", "target"), rows)

details = []
if num("record_api_p50_us") is not None:
    details.append(f"GET record latency p50/p99: API {num('record_api_p50_us') / 1000:.2f}/{num('record_api_p99_us') / 1000:.2f} ms, "
                   f"SQL mean {r.get('record_sql_latency_ms')} ms")
if num("list_api_p50_us") is not None:
    details.append(f"list page latency p50/p99: API {num('list_api_p50_us') / 1000:.2f}/{num('list_api_p99_us') / 1000:.2f} ms, "
                   f"SQL mean {r.get('list_sql_latency_ms')} ms")
if num("agg_api_p50_us") is not None:
    details.append(f"aggregate p90: API {num('agg_api_p90_us') / 1000:.2f} ms, SQL {num('agg_sql_p90_us') / 1000:.2f} ms; "
                   f"{r.get('agg_api_requests')} API requests, {r.get('agg_sql_requests')} pgbench transactions; "
                   f"{r.get('agg_rows')} rows per answer")
if rss:
    parts = []
    if num("rss_read_kb") is not None:
        parts.append(f"read phases {num('rss_read_kb') * 1024 / 1e6:.0f} MB")
    if num("rss_batch_kb") is not None:
        parts.append(f"batch import, first load {num('rss_batch_kb') * 1024 / 1e6:.0f} MB")
    if num("rss_batch_again_kb") is not None:
        parts.append(f"after posting the same batches again {num('rss_batch_again_kb') * 1024 / 1e6:.0f} MB")
    details.append("peak RSS by server process: " + ", ".join(parts))
if starts:
    details.append("start times: " + ", ".join(f"{s:.3f} s" for s in starts))
if r.get("batch_again_summary"):
    details.append(f"batch import, same batches again: {r['batch_again_summary']}")
if r.get("note"):
    details.append(r["note"])
for d in details:
    print(f"- {d}")
print()

cpu_rows = []
for phase, label in (("record-api", "GET record, API"), ("record-sql", "GET record, pgbench"),
                     ("list-api", "list page, API"), ("list-sql", "list page, pgbench"),
                     ("agg-api", "aggregate, API"), ("agg-sql", "aggregate, pgbench"),
                     ("batch-api", "batch import, API")):
    path = os.path.join(work, f"cpu-{phase}.json")
    count = num(f"count_{phase}")
    if not os.path.exists(path) or not count:
        continue
    with open(path) as f:
        c = json.load(f)
    per = lambda key: f"{c[key] / count * 1000:.3f}"
    ours = c["service"] + c["postgres"] + c["client"]
    wall = c["wall"] or 1
    unit = "record" if phase.startswith("batch") else "request"
    cpu_rows.append((label, f"{int(count):,} {unit}s", per("service") if phase.endswith("api") else "-",
                     per("postgres"), per("client") if c["client"] else "-", f"{ours / wall:.2f}",
                     f"{max(0.0, c.get('machine', ours) - ours) / wall:.2f}"))
if cpu_rows:
    print("CPU per request (ms; batch: per record), from /proc during each measurement:")
    print()
    table(("phase", "done", "perfeval", "postgres backends", "wrk / pgbench", "cores used by these",
           "cores used by anything else"), cpu_rows)

print(f"Machine: {r.get('nproc')} cores ({r.get('cpu_model')}), {r.get('pg_version')}, load average before the run "
      f"{r.get('loadavg')}; perfeval {r.get('commit')}; wrk -t{threads} -c{conns} and pgbench -j{threads} -c{conns} "
      f"-M prepared for throughput, -t1/-j1 -c1 for latency; {r.get('pool')}.")
