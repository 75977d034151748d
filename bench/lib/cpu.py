"""CPU time of the processes under test while one load phase runs.

Usage: cpu.py OUT SERVER_PID DBNAME
Samples /proc every 0.1 s until SIGTERM, then writes JSON to OUT: CPU seconds spent by the
service (SERVER_PID, all threads), by the PostgreSQL backends of database DBNAME, and by the
load generator (wrk or pgbench), the whole machine's busy CPU time from /proc/stat (everything
not idle or iowait, including steal, so other tenants' load shows up), plus the wall time. A process already running at the first
sample counts from there; a backend that starts later counts whole. A backend that exits
between two samples loses at most its last 0.1 s.
"""
import json
import os
import signal
import sys
import time

out, server_pid, dbname = sys.argv[1], sys.argv[2], sys.argv[3]
tick = os.sysconf("SC_CLK_TCK")
first, last, kind = {}, {}, {}


def category(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    if pid == server_pid:
        return "service"
    if cmd.startswith("postgres: ") and f" {dbname} " in cmd:
        return "postgres"
    name = os.path.basename(cmd.split(" ", 1)[0])
    if name in ("wrk", "pgbench"):
        return "client"
    return None


def cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick
    except (OSError, IndexError, ValueError):
        return None


def sample(initial):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        if pid not in kind:
            c = category(pid)
            if c is None:
                continue
            kind[pid] = c
        value = cpu(pid)
        if value is None:
            continue
        if pid not in first:
            first[pid] = value if initial else 0.0
        last[pid] = value


def machine():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / tick


stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
start = time.monotonic()
machine_start = machine()
sample(True)
while not stop:
    time.sleep(0.1)
    sample(False)
sample(False)
totals = {"service": 0.0, "postgres": 0.0, "client": 0.0}
for pid, c in kind.items():
    if pid in last:
        totals[c] += last[pid] - first[pid]
totals["machine"] = machine() - machine_start
totals["wall"] = time.monotonic() - start
with open(out, "w") as f:
    json.dump(totals, f)
