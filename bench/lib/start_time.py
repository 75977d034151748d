"""Time to start serving: from exec of `BIN serve` to the first 200 from /readyz, polled every
10 ms, against the database in DATABASE_URL (already migrated and loaded).

Usage: start_time.py BIN RUNS PORT...  (one port per run). Prints the seconds of each run,
space-separated. The environment (DATABASE_URL, RUST_LOG, …) is passed through.
"""
import http.client
import os
import signal
import subprocess
import sys
import time

binary, runs, ports = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = []
for run in range(runs):
    port = int(ports[run])
    env = dict(os.environ, PERFEVAL_LISTEN=f"127.0.0.1:{port}")
    started = time.monotonic()
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = None
    while time.monotonic() - started < 30:
        if server.poll() is not None:
            sys.exit(f"perfeval serve exited with {server.returncode} before it was ready")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/readyz", headers={"Connection": "close"})
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                elapsed = time.monotonic() - started
                break
        except OSError:
            pass
        time.sleep(0.01)
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    if elapsed is None:
        sys.exit("perfeval serve was not ready within 30 s")
    times.append(elapsed)
print(" ".join(f"{t:.4f}" for t in times))
