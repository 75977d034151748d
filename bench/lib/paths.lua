-- wrk script: each request GETs a path drawn at random from the file named by BENCH_PATHS
-- (one path per line); headers given with -H (the bearer token) are sent with every request.
-- At the end it prints one machine-readable line, BENCH key=value …, for bench/run.
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
    if line ~= "" then paths[#paths + 1] = line end
end

local threads = {}
local next_id = 0

function setup(thread)
    thread:set("thread_id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end

function init(args)
    math.randomseed(os.time() * 7919 + (thread_id or 0) * 104729)
    for _ = 1, 10 do math.random() end
end

function request()
    return wrk.format(nil, paths[math.random(#paths)])
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f errors=%d status_errors=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, latency.mean, e.connect + e.read + e.write + e.timeout + e.status, e.status))
end
