"""Prints bench/national's results as markdown. Usage: national_report.py WORKDIR

Reads WORKDIR/results: lines `key value…`; a key given more than once (`relation`) keeps every
value, in order.
"""
import os
import sys

work = sys.argv[1]
r, relations = {}, []
with open(os.path.join(work, "results")) as f:
    for line in f:
        key, _, value = line.rstrip("\n").partition(" ")
        if key == "relation":
            relations.append(value.split())
        elif key:
            r[key] = value


def num(key):
    try:
        return float(r[key])
    except (KeyError, ValueError):
        return None


def size(n):
    """Bytes in MB or GB (of 1024², 1024³, as pg_size_pretty counts)."""
    n = float(n)
    return f"{n / 1024**3:.2f} GB" if n >= 1024**3 else f"{n / 1024**2:.1f} MB"


def ms(key):
    value = num(key)
    return f"{value / 1000:.2f}" if value is not None else "-"


def count(key):
    value = num(key)
    return f"{value:,.0f}" if value is not None else "-"


def table(header, body):
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in body:
        print("| " + " | ".join(row) + " |")
    print()


print(f"## perfeval national benchmark ({r.get('parts')}; {r.get('seconds')} s per aggregate measurement)")
if r.get("load_region"):
    print()
    print(f"Dataset: `perfeval demo-data --region {r['load_region']} --years {r['load_years']}`"
          + ("" if r["load_region"] == "all" else " (not the whole country: a partial load)") + ".")
print()

if "records" in r:
    rows = []
    if num("load_secs"):
        records = num("records")
        rows.append((f"load: `perfeval demo-data --region {r.get('load_region')} --years {r.get('load_years')}` "
                     "into a fresh database (batch upserts, then review)",
                     f"{num('load_secs'):,.1f} s, {records / num('load_secs'):,.0f} records/s"))
    rows.append(("database", r.get("national_db", "-")))
    rows.append(("records (`evaluations`)", f"{count('records')} ({r.get('records_by_kind') or '-'})"))
    rows.append(("records by status", r.get("records_by_status") or "-"))
    rows.append(("townships, counties, years", f"{count('townships')}, {count('counties')}, {r.get('records_years')}"))
    rows.append(("revisions (`evaluation_revisions` rows)", count("revisions")))
    rows.append(("review steps (revisions of review actions; no table of transitions since migration 000019)", count("transitions")))
    rows.append(("database size (`pg_database_size`)", size(r["db_bytes"]) if "db_bytes" in r else "-"))
    if num("settle_secs") is not None:
        rows.append(("VACUUM ANALYZE + CHECKPOINT after the load", f"{num('settle_secs'):,.1f} s"))
    table(("dataset", "value"), rows)
    if relations:
        print("The five largest tables (`pg_total_relation_size`: table + indexes + TOAST):")
        print()
        table(("table", "total", "table", "indexes", "TOAST"),
              [(f"`{name}`", size(total), size(heap), size(indexes), size(toast))
               for name, total, heap, indexes, toast in relations])

aggregates = [key[len("agg_label_"):] for key in r if key.startswith("agg_label_")]
if aggregates:
    rows = []
    for name in aggregates:
        error = r.get(f"agg_error_{name}")
        groups = r.get(f"agg_rows_{name}")
        if groups is not None:
            pages = r.get(f"agg_pages_{name}")
            groups = f"{int(groups):,} ✓" + (f" ({pages} pages)" if pages and pages != "1" else "")
        else:
            groups = "not checked"
        page = r.get(f"agg_page_rows_{name}")
        api_rate, sql_rate = num(f"agg-{name}-api_rps"), num(f"agg-{name}-sql_tps")
        api_p50, sql_p50 = num(f"agg-{name}-api_p50_us"), num(f"agg-{name}-sql_p50_us")
        ratio = f"{sql_p50 / api_p50:.2f}×" if api_p50 and sql_p50 else "-"
        if error:
            groups = f"**failed**: {error}"
        rows.append((r[f"agg_label_{name}"], groups, page or "-",
                     f"{ms(f'agg-{name}-api_p50_us')} / {ms(f'agg-{name}-api_p99_us')} ms",
                     f"{api_rate:,.2f}" if api_rate is not None else "-",
                     f"{ms(f'agg-{name}-sql_p50_us')} / {ms(f'agg-{name}-sql_p99_us')} ms",
                     f"{sql_rate:,.2f}" if sql_rate is not None else "-", ratio))
    print(f"National aggregates, one connection (wrk -c1 -t1, {r.get('seconds')} s after a 2 s warm-up; "
          f"pgbench -c1 -M prepared, {r.get('seconds')} s), response cache off, admin token (every status); "
          f"indicator {r.get('agg_indicator')}. Groups: detail rows of every page compared with the statement's "
          "(bench/lib/same_numbers.py):")
    print()
    table(("workload", "groups", "rows in the answer", "API p50 / p99", "API req/s", "SQL p50 / p99", "SQL txn/s",
           "SQL p50 / API p50"), rows)
    for name in aggregates:
        print(f"- {name}: `{r.get(f'agg_path_{name}')}`")
    if num("rss_aggregate_kb"):
        print(f"- service peak RSS over the aggregate phase: {num('rss_aggregate_kb') * 1024 / 1e6:.0f} MB")
    print()

if "replica_records" in r or "replica_region" in r:
    rows = []
    for name, label in (("list", r.get("replica_list", "list page")), ("agg", r.get("replica_agg", "aggregate"))):
        primary, replica = num(f"rep-{name}-primary_rps"), num(f"rep-{name}-replica_rps")
        if primary is None and replica is None:
            continue
        rows.append((f"`{label}`",
                     f"{primary:,.0f} req/s, {ms(f'rep-{name}-primary_p50_us')} / {ms(f'rep-{name}-primary_p99_us')} ms"
                     if primary is not None else "-",
                     f"{replica:,.0f} req/s, {ms(f'rep-{name}-replica_p50_us')} / {ms(f'rep-{name}-replica_p99_us')} ms"
                     if replica is not None else "-",
                     f"{replica / primary:.2f}×" if primary and replica else "-"))
    print(f"Reads with a hot standby (`demo-data --region {r.get('replica_region')} --years {r.get('replica_years')}`, "
          f"{count('replica_records')} records, loaded in {num('replica_load_secs') or 0:.1f} s; private primary and "
          f"standby on this machine, {r.get('replica_pg')}; wrk -c{r.get('conns')} -t{r.get('threads')}, "
          f"{r.get('replica_seconds')} s after a 2 s warm-up, cache off). Throughput, p50 / p99:")
    print()
    table(("workload", "primary alone", "with PERFEVAL_REPLICA_URLS", "replica / primary"), rows)
    for setup, label in (("primary", "primary alone"), ("replica", "with the replica")):
        if f"reads_{setup}" in r:
            counted = r[f"reads_{setup}"].split()
            reads = ", ".join(f'server="{s}" {int(n):,}' for s, n in zip(counted[::2], counted[1::2])) or "none shown"
            sent = sum(num(f"count_rep-{n}-{setup}") or 0 for n in ("list", "agg"))
            print(f"- `perfeval_reads_total` of the service {label}: {reads} "
                  f"(measured requests {sent:,.0f}, plus warm-ups and checks)")
    print()

if r.get("stopped"):
    print(f"**{r['stopped']}**")
    print()
print(f"Machine: {r.get('nproc')} cores ({r.get('cpu_model')}), {r.get('pg_version', 'PostgreSQL on DATABASE_URL not used')}, "
      f"load average before the run {r.get('loadavg')}; perfeval {r.get('commit')}; {r.get('pool')}.")
