"""Concurrent API writers for bench/feed: THREADS threads create records for SECONDS; prints creates/s, p50 and p99."""
import json, sys, threading, time, urllib.request

base, token, threads, seconds, tag = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
done = [0] * threads
lat = []

def call(method, path, body=None, headers=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("authorization", "Bearer " + token)
    req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        r.read()
        lat.append(time.perf_counter() - t)
        return r.headers.get("etag"), r.status

def worker(n):
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        rec = {"region_code": "430482104", "fiscal_year": 2023, "kind": "department_overall", "unit": f"{tag}-{n}-{i}",
               "income": {"total": "1000.00", "lines": [{"category": "other", "amount": "1000.00"}]}, "expenditure": {"total": "900.00"}}
        etag, _ = call("POST", "/api/v1/evaluations", rec)
        done[n] += 1
        i += 1

ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
t0 = time.time()
[t.start() for t in ts]
[t.join() for t in ts]
el = time.time() - t0
lat.sort()
print(f"{tag}: {sum(done)/el:.0f} creates/s, p50 {lat[len(lat)//2]*1000:.1f} ms, p99 {lat[int(len(lat)*0.99)]*1000:.1f} ms")
