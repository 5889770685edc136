#!/usr/bin/env bash
# The HTTP serving benchmark of docs/benchmarks.md (issue 7): `vigil serve` against a FastAPI
# + uvicorn service (2 workers) serving the same XGBoost model, both loaded by wrk on
# loopback in one run, POST /v1/predict/crash_xgb with one row per request.
#   scripts/bench-serve.sh BUILD_DIR [SECONDS_PER_POINT]      (default 8)
# Environment (optional):
#   BENCH_SERVE_CONNECTIONS  wrk connections per point      (default "1 8 32 64 128")
#   BENCH_SERVE_BATCHING     vigil max_batch_rows:max_wait_us settings
#                            (default "64:0 64:200 16:50 1:0")
#   BENCH_SERVE_WARMUP       seconds of wrk before each service's points (default 3)
# Prints "# ..." lines (machine, versions, model), a "check" line (both services' probability
# for the request body), then one markdown table of rows per (service, batching, connections):
# requests/s, latency percentiles, failed requests (socket errors + non-2xx) and, for Vigil,
# the mean rows per scoring batch from its /metrics. Needs scripts/install-deps.sh --bench.
set -euo pipefail
build=${1:?usage: bench-serve.sh BUILD_DIR [SECONDS_PER_POINT]}
seconds=${2:-8}
connections_list=${BENCH_SERVE_CONNECTIONS:-"1 8 32 64 128"}
batching_list=${BENCH_SERVE_BATCHING:-"64:0 64:200 16:50 1:0"}
warmup=${BENCH_SERVE_WARMUP:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
vigil=$(cd "$build" && pwd)/apps/vigil/vigil
model=crash_xgb
work=$(mktemp -d /tmp/vigil-bench-serve.XXXXXX)
server_pid=
cleanup() {
  stop_server
  rm -rf "$work"
}
# Stops the running service (SIGTERM: graceful; uvicorn's master stops its workers).
stop_server() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap cleanup EXIT

for tool in wrk curl; do
  command -v "$tool" > /dev/null || { echo "bench-serve: $tool is missing (install-deps.sh --bench)" >&2; exit 1; }
done

# --- the model: two simulated weeks of two perpetuals (the `default` set's funding z-score
# needs a week of history), an XGBoost crash classifier on them ---
home=$work/home
"$vigil" --home "$home" simulate --instruments 2 --days 14 --seed 42 --ingest > /dev/null
"$vigil" --home "$home" train --config "$root/scripts/bench/serve_model.yaml" > /dev/null
model_dir=$(ls -d "$home/models/$model"/[0-9]* | sort -V | tail -n 1)

# One request body: the latest complete feature row of sim:BTC-PERP, in the model's order.
"$vigil" --home "$home" features compute --instrument sim:BTC-PERP --set default \
  --out "$work/features.csv" > /dev/null
/usr/bin/python3 - "$model_dir/manifest.json" "$work/features.csv" "$work/body.json" <<'PY'
import csv, json, math, sys
features = json.load(open(sys.argv[1]))["feature_set"]["features"]
last = None
for row in csv.DictReader(open(sys.argv[2])):
    try:
        values = [float(row[name]) for name in features]
    except (KeyError, ValueError):
        continue
    if all(math.isfinite(v) for v in values):
        last = values
if last is None:
    sys.exit("bench-serve: no complete feature row in " + sys.argv[2])
json.dump({"rows": [dict(zip(features, last))]}, open(sys.argv[3], "w"))
PY
export VIGIL_BENCH_BODY=$work/body.json

post() {  # POST the body to $1, print the answer
  curl -sf -X POST -H 'Content-Type: application/json' --data @"$VIGIL_BENCH_BODY" "$1/v1/predict/$model"
}

# Starts `vigil serve` with max_batch_rows $1 and max_wait_us $2; sets $url. threads: one
# per keep-alive connection wrk opens (cpp-httplib serves a connection on one pool thread
# while it stays open); rate limits out of the way.
start_vigil() {
  cat > "$work/serve.yaml" <<YAML
server:
  threads: 256
  anonymous_rate_limit: {rate: 100000000, burst: 100000000}
  batching: {max_batch_rows: $1, max_wait_us: $2}
models:
  predict: [$model]
YAML
  "$vigil" --home "$home" serve --port 0 --config "$work/serve.yaml" \
    > "$work/serve.out" 2> "$work/serve.err" &
  server_pid=$!
  url=
  for _ in $(seq 100); do
    url=$(head -n 1 "$work/serve.out" | sed -n 's/^listening on //p')
    [[ -n $url ]] && return 0
    sleep 0.1
  done
  cat "$work/serve.err" >&2
  exit 1
}

start_fastapi() {
  local port
  port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  /usr/bin/python3 "$root/scripts/bench/serve_fastapi.py" --model-dir "$model_dir" --port "$port" \
    --workers 2 > "$work/fastapi.out" 2>&1 &
  server_pid=$!
  url=http://127.0.0.1:$port
  for _ in $(seq 150); do
    post "$url" > /dev/null 2>&1 && return 0
    sleep 0.2
  done
  cat "$work/fastapi.out" >&2
  exit 1
}

# Sum and count of Vigil's vigil_batch_rows histogram for the model ("0 0" elsewhere).
batch_totals() {
  curl -sf "$url/metrics" 2> /dev/null | awk -v m="$model" '
    index($0, "vigil_batch_rows_sum{") == 1 && index($0, "\"" m "\"") { sum = $NF }
    index($0, "vigil_batch_rows_count{") == 1 && index($0, "\"" m "\"") { count = $NF }
    END { printf "%s %s\n", sum + 0, count + 0 }'
}

# wrk for $seconds at $3 connections; prints one markdown row for service $1, settings $2.
measure() {
  local service=$1 settings=$2 connections=$3 duration=${4:-$seconds}
  local threads=$((connections < 2 ? 1 : 2))
  local sum0 count0 sum1 count1 batch=-
  read -r sum0 count0 <<< "$(batch_totals)"
  wrk -t"$threads" -c"$connections" -d"${duration}s" --timeout 5s \
    -s "$root/scripts/bench/predict.lua" "$url/v1/predict/$model" > "$work/wrk.out" 2>&1
  read -r sum1 count1 <<< "$(batch_totals)"
  if [[ $service == vigil* ]]; then
    batch=$(awk -v s0="$sum0" -v c0="$count0" -v s1="$sum1" -v c1="$count1" \
      'BEGIN { if (c1 > c0) printf "%.1f", (s1 - s0) / (c1 - c0); else printf "-" }')
  fi
  local line rps
  line=$(grep '^vigil-bench:' "$work/wrk.out") || { cat "$work/wrk.out" >&2; exit 1; }
  read -r _ _ requests _ errors _ non2xx _ p50 _ p90 _ p99 _ p999 <<< "$line"
  rps=$(awk -v n="$requests" -v d="$duration" 'BEGIN { printf "%.0f", n / d }')
  # wrk's own Requests/sec divides by the measured elapsed time: prefer it when present.
  rps=$(awk -v fallback="$rps" '/^Requests\/sec:/ { r = $2 } END { printf "%.0f", r ? r : fallback }' "$work/wrk.out")
  awk -v svc="$service" -v set="$settings" -v c="$connections" -v rps="$rps" -v p50="$p50" \
    -v p90="$p90" -v p99="$p99" -v p999="$p999" -v failed="$((errors + non2xx))" -v batch="$batch" \
    'BEGIN { printf "| %s | %s | %d | %d | %.2f | %.2f | %.2f | %.2f | %d | %s |\n",
             svc, set, c, rps, p50 / 1000, p90 / 1000, p99 / 1000, p999 / 1000, failed, batch }'
}

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2); python3 $(/usr/bin/python3 -c 'import platform, fastapi, uvicorn, pydantic, xgboost; print(platform.python_version(), "fastapi", fastapi.__version__, "uvicorn", uvicorn.__version__, "pydantic", pydantic.VERSION, "xgboost", xgboost.__version__)')"
echo "# model: $model v$(basename "$model_dir") ($(/usr/bin/python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(len(m["feature_set"]["features"]), "features")' "$model_dir/manifest.json"), $(grep '^model:' "$root/scripts/bench/serve_model.yaml" | cut -d' ' -f2-)); ${seconds} s per point after ${warmup} s of warm-up; wrk --timeout 5s, 2 threads (1 at 1 connection)"

# Both services must answer the same probability for the body (Vigil's predictor is
# XGBoost's to the bit; JSON printing may round the last digits).
start_vigil 64 0
vigil_answer=$(post "$url")
stop_server
start_fastapi
fastapi_answer=$(post "$url")
stop_server
/usr/bin/python3 - "$vigil_answer" "$fastapi_answer" <<'PY'
import json, sys
v = json.loads(sys.argv[1])["rows"][0]
f = json.loads(sys.argv[2])["rows"][0]
diff = abs(v["probability"] - f["probability"])
verdict = "same" if diff <= 1e-6 and v.get("risk_level") == f["risk_level"] else "DIFFERENT"
print(f"check: probability vigil {v['probability']:.9f} ({v.get('risk_level')}) fastapi "
      f"{f['probability']:.9f} ({f['risk_level']}) |diff| {diff:.1e}: {verdict}")
PY

echo
echo "| service | batching (max_batch_rows, max_wait_us) | connections | requests/s | p50 ms | p90 ms | p99 ms | p99.9 ms | failed | rows/batch |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for setting in $batching_list; do
  rows=${setting%:*} wait_us=${setting#*:}
  start_vigil "$rows" "$wait_us"
  measure vigil warm-up 32 "$warmup" > /dev/null
  for connections in $connections_list; do
    measure "vigil serve" "$rows, $wait_us" "$connections"
  done
  stop_server
done
start_fastapi
measure fastapi warm-up 32 "$warmup" > /dev/null
for connections in $connections_list; do
  measure "FastAPI + uvicorn, 2 workers" "none (inplace_predict per request)" "$connections"
done
stop_server
