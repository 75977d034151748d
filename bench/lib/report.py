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


def ms(key):
    value = num(key)
    return f"{value / 1000:.2f}" if value is not None else "-"


for name, label in (("record", "GET one full record, random ids"),
                    ("list", "GET list page, random county + year 2022, limit 50")):
    api, sql = num(f"{name}-api_rps"), num(f"{name}-sql_tps")
    if api is None and sql is None:
        continue
    ratio = api / sql if api and sql else None
    rows.append((f"{label} ({conns} connections)",
                 f"{api:,.0f} req/s" if api is not None else "-",
                 f"{sql:,.0f} txn/s" if sql is not None else "-",
                 f"{ratio:.2f}×" if ratio else "-",
                 "≥ 0.6×" + check(ratio >= 0.6 if ratio else None)))
    p99 = num(f"{name}-api_p99_us")
    rows.append((f"{label}: API p99 latency ({conns} connections)",
                 f"{p99 / 1000:.2f} ms" if p99 is not None else "-",
                 f"{ms(f'{name}-sql_p99_us')} ms", "-",
                 "≤ 10 ms" + check(p99 <= 10_000 if p99 is not None else None)))

aggregates = [key[len("agg_label_"):] for key in r if key.startswith("agg_label_")]
agg_rows = []
for name in aggregates:
    api, sql = num(f"agg-{name}-api_p50_us"), num(f"agg-{name}-sql_p50_us")
    # The rate at one connection is the inverse of the latency: API rate ÷ SQL rate.
    ratio = sql / api if api and sql else None
    agg_rows.append((r[f"agg_label_{name}"], r.get(f"agg_rows_{name}", "-"),
                     f"{ms(f'agg-{name}-api_p50_us')} / {ms(f'agg-{name}-api_p99_us')} ms",
                     f"{ms(f'agg-{name}-sql_p50_us')} / {ms(f'agg-{name}-sql_p99_us')} ms",
                     f"{ratio:.2f}×" if ratio else "-",
                     "≥ 0.9×" + check(ratio >= 0.9 if ratio else None)))

cold, cached = num("dashboard-cold_rps"), num("dashboard-cached_rps")
full, revalidated = num("record-full_rps"), num("record-304_rps")
cache_rows = []
if cold and cached:
    cache_rows.append(("county × year aggregate, cache off (cold)", f"{cold:,.0f} req/s",
                       f"{ms('dashboard-cold_p50_us')} / {ms('dashboard-cold_p99_us')} ms", "-", "-"))
    cache_rows.append(("the same aggregate repeated, cache on, no writes", f"{cached:,.0f} req/s",
                       f"{ms('dashboard-cached_p50_us')} / {ms('dashboard-cached_p99_us')} ms",
                       f"{cached / cold:,.0f}× the cold rate", "≥ 20×" + check(cached / cold >= 20)))
if full and revalidated:
    cache_rows.append(("GET one record in full", f"{full:,.0f} req/s",
                       f"{ms('record-full_p50_us')} / {ms('record-full_p99_us')} ms", "-", "-"))
    cache_rows.append(("the same GET with If-None-Match (304)", f"{revalidated:,.0f} req/s",
                       f"{ms('record-304_p50_us')} / {ms('record-304_p99_us')} ms",
                       f"{revalidated / full:.1f}× a full GET", "≥ 2×" + check(revalidated / full >= 2)))

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

rss = [v for v in (num("rss_read_kb"), num("rss_cache_kb"), num("rss_batch_kb"), num("rss_batch_again_kb")) if v is not None]
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
if agg_rows:
    print(f"Aggregates, one connection, response cache off: the API against a hand-written statement that gives the "
          f"same numbers (checked group by group; indicator {r.get('agg_indicator')}):")
    print()
    table(("workload", "groups", "API p50 / p99", "SQL p50 / p99", "API rate / SQL rate", "target"), agg_rows)
if cache_rows:
    print(f"Response cache and conditional requests ({conns} connections):")
    print()
    table(("workload", "API", "p50 / p99", "ratio", "target"), cache_rows)

details = []
for name, label in (("record", "GET record"), ("list", "list page")):
    if num(f"{name}-api_p50_us") is not None:
        details.append(f"{label} latency p50/p99: API {ms(f'{name}-api_p50_us')}/{ms(f'{name}-api_p99_us')} ms, "
                       f"SQL {ms(f'{name}-sql_p50_us')}/{ms(f'{name}-sql_p99_us')} ms")
if r.get("cache_lookups"):
    details.append(f"cache lookups of the cache-on server: {r['cache_lookups']}")
if rss:
    parts = []
    if num("rss_read_kb") is not None:
        parts.append(f"read phases {num('rss_read_kb') * 1024 / 1e6:.0f} MB")
    if num("rss_cache_kb") is not None:
        parts.append(f"cache on {num('rss_cache_kb') * 1024 / 1e6:.0f} MB")
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
phases = [("record-api", "GET record, API"), ("record-sql", "GET record, pgbench"),
          ("list-api", "list page, API"), ("list-sql", "list page, pgbench")]
for name in aggregates:
    phases += [(f"agg-{name}-api", f"aggregate {name}, API"), (f"agg-{name}-sql", f"aggregate {name}, pgbench")]
phases += [("dashboard-cold", "aggregate, cache off"), ("dashboard-cached", "aggregate, cache on"),
           ("record-full", "GET one record"), ("record-304", "GET one record, 304"), ("batch-api", "batch import, API")]
for phase, label in phases:
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
    cpu_rows.append((label, f"{int(count):,} {unit}s", per("service") if not phase.endswith("sql") else "-",
                     per("postgres"), per("client") if c["client"] else "-", f"{ours / wall:.2f}",
                     f"{max(0.0, c.get('machine', ours) - ours) / wall:.2f}"))
if cpu_rows:
    print("CPU per request (ms; batch: per record), from /proc during each measurement:")
    print()
    table(("phase", "done", "perfeval", "postgres backends", "wrk / pgbench", "cores used by these",
           "cores used by anything else"), cpu_rows)

print(f"Machine: {r.get('nproc')} cores ({r.get('cpu_model')}), {r.get('pg_version')}, load average before the run "
      f"{r.get('loadavg')}; sched_autogroup {r.get('autogroup', 'n/a')}; perfeval {r.get('commit')}; wrk -t{threads} -c{conns} and pgbench -j{threads} -c{conns} "
      f"-M prepared for throughput, -t1/-j1 -c1 for latency; {r.get('pool')}.")
