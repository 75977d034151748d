"""bench/explain: see that script's header."""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

root = os.getcwd()
admin = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
admin = admin.rsplit("/", 1)[0] + "/postgres"
db = "perfeval_bench_explain"
url = admin.rsplit("/", 1)[0] + "/" + db
log_path = os.environ.get("BENCH_PG_LOG", "/var/log/postgresql/postgresql-15-main.log")
binary = os.path.join(root, "target/release/perfeval")
if not os.path.exists(binary):
    sys.exit("bench/explain: build it first: cargo build --release")
if not os.access(log_path, os.R_OK):
    sys.exit(f"bench/explain: cannot read PostgreSQL's log {log_path}; set BENCH_PG_LOG")


def psql(sql, database=url, fmt=None):
    args = ["psql", database, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql]
    return subprocess.run(args, check=True, capture_output=True, text=True,
                          env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}).stdout


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


env = {**os.environ, "DATABASE_URL": url, "RUST_LOG": "warn", "PERFEVAL_LOG_FORMAT": "json",
       "PERFEVAL_RATE_LIMIT": "0", "PERFEVAL_CACHE_MB": "0"}
psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", admin)
psql(f"CREATE DATABASE {db}", admin)
server = None
try:
    print("loading Hunan 2018..2024", file=sys.stderr)
    subprocess.run([binary, "demo-data", "--region", "43", "--years", "2018..2024"], env=env, check=True,
                   capture_output=True)
    psql("VACUUM ANALYZE")
    psql("CHECKPOINT")
    for setting in ("session_preload_libraries = 'auto_explain'", "auto_explain.log_min_duration = 0",
                    "auto_explain.log_analyze = on", "auto_explain.log_buffers = on",
                    "auto_explain.log_timing = on", "auto_explain.log_format = text"):
        psql(f"ALTER DATABASE {db} SET {setting}", admin)
    token = subprocess.run([binary, "token", "create", "--role", "admin", "--name", "explain"], env=env,
                           check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen([binary, "serve"], env={**env, "PERFEVAL_LISTEN": f"127.0.0.1:{port}"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/readyz")
            break
        except Exception:
            time.sleep(0.1)

    def get(path):
        request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request) as answer:
            return answer.read()

    indicator = psql("SELECT coalesce(i.code, i.matched_code) FROM evaluation_indicators i "
                     "WHERE coalesce(i.code, i.matched_code) IS NOT NULL AND i.applicable AND i.actual IS NOT NULL "
                     "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").strip()
    entry = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    rows = []
    for line in open("bench/sql/aggregates.tsv"):
        if not line.strip() or line.startswith("#"):
            continue
        name, label, query = line.rstrip("\n").split("\t")
        query = query.replace("@INDICATOR@", indicator)
        path = f"/api/v1/aggregates?{query}"
        get(path)  # warm: names loaded, statements prepared, pages cached
        start = os.path.getsize(log_path)
        get(path)
        time.sleep(0.3)
        with open(log_path, errors="replace") as f:
            f.seek(start)
            text = f.read()
        # auto_explain's entries for this database: "duration: X ms  plan:" and the plan below it.
        service = []
        current = None
        for raw in text.splitlines():
            if entry.match(raw):
                current = None
                m = re.search(r"@" + db + r" LOG:  duration: ([0-9.]+) ms  plan:", raw)
                if m:
                    current = {"ms": float(m.group(1)), "lines": []}
                    service.append(current)
            elif current is not None:
                current["lines"].append(raw.strip())

        def summary(lines):
            statement = next((l[len("Query Text: "):] for l in lines if l.startswith("Query Text: ")), "")
            buffers = next((l[len("Buffers: "):] for l in lines if l.startswith("Buffers: ")), "-")
            return statement, buffers

        statements = []
        for s in service:
            statement, buffers = summary(s["lines"])
            kind = ("data version" if "data_version" in statement
                    else "group" if "json_build_array" in statement
                    else "record count" if statement.startswith("SELECT count(*) AS total")
                    else statement[:40])
            statements.append(f"{kind} {s['ms']:.1f} ms ({buffers})")
        sql = open(f"bench/sql/agg-{name}.sql").read().replace("@INDICATOR@", indicator)
        sql = "\n".join(l for l in sql.splitlines() if not l.startswith("--")).strip().rstrip(";")
        for _ in range(2):
            plan = json.loads(psql(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}"))[0]
        top = plan["Plan"]
        hand = (f"{plan['Execution Time']:.1f} ms (shared hit={top.get('Shared Hit Blocks', 0)}"
                f" read={top.get('Shared Read Blocks', 0)})")
        total = sum(s["ms"] for s in service)
        rows.append((label, "; ".join(statements) or "-", f"{total:.1f} ms", hand))
        print(f"{name}: service {total:.1f} ms, hand-written {hand}", file=sys.stderr)
    print("| workload | the service's statements (auto_explain: actual time, buffers) | service total | hand-written statement |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
finally:
    if server:
        server.terminate()
        server.wait()
    psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)", admin)
