-- wrk script: POST one prediction row, the body read from the file in $VIGIL_BENCH_BODY.
-- Non-2xx answers are counted by wrk and reported by scripts/bench-serve.sh.
local file = assert(io.open(os.getenv("VIGIL_BENCH_BODY"), "r"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("VIGIL_BENCH_KEY")
if key and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end

done = function(summary, latency, requests)
  io.write(string.format("vigil-bench: requests %d errors %d non2xx %d p50_us %d p90_us %d p99_us %d p999_us %d\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, summary.errors.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
