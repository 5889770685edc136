#!/usr/bin/env bash
# The demo, Vigil's main job on the embedded default store: simulate markets with labelled
# incidents into SQLite, train and promote the default models, then `vigil run` replays the
# data at full speed through them, raises alerts, backtests a signal after costs, and serves
# the HTTP API on 127.0.0.1:$DEMO_PORT (default 8080; 0 = any free port) until interrupted,
# or for $DEMO_SECONDS seconds.
# Usage: scripts/demo.sh VIGIL_BINARY HOME_DIR
set -euo pipefail
vigil=${1:?vigil binary}
home=${2:?home directory}
port=${DEMO_PORT:-8080}
examples="$(cd "$(dirname "$0")/.." && pwd)/examples/serving"

# The demo owns its home: it starts afresh each time, but never deletes a directory it did
# not create.
if [[ -e $home && ! -e $home/.vigil-demo ]]; then
  echo "demo: $home exists and was not made by the demo; set DEMO_HOME to another directory" >&2
  exit 2
fi
rm -rf "$home"
mkdir -p "$home"
touch "$home/.vigil-demo"
v() { "$vigil" --home "$home" "$@"; }

echo "== vigil $("$vigil" --version | cut -d' ' -f2): simulating 3 perpetuals, a vault and a lending"
echo "   protocol for 7 days into $home/vigil.db (SQLite), with injected incidents"
v simulate --instruments 3 --days 7 --seed 42 --ingest | tail -n 1
echo "   incidents injected (ground truth, $home/sim/events.csv):"
sed 1d "$home/sim/events.csv" | awk -F, '{ printf "     %-17s %-13s %s .. %s\n", $4, $3, $1, $2 }'
echo
echo "== training the default models (walk-forward validated, registered, promoted; docs/training.md)"
for model in crash_risk liq_50x_long price_iforest volume_zscore oracle_iforest vault_iforest; do
  v train --config "$examples/$model.yaml" | head -n 1 | sed 's/^/   /'
done
echo
echo "== vigil run: replaying the stored week through the production models at full speed"
echo "   (config: examples/serving/demo_run.yaml; the API serves from the same process)"
log="$home/run.log"
# Started directly (not through v) so that $! is vigil itself, which SIGTERM must reach.
"$vigil" --home "$home" run --config "$examples/demo_run.yaml" --port "$port" --keep-serving \
  > "$log" 2>&1 &
run_pid=$!
# SIGTERM asks vigil run for its graceful shutdown; its exit status says whether it was clean.
stop_run() {
  kill -TERM "$run_pid" 2>/dev/null || true
  local status=0
  wait "$run_pid" || status=$?
  return "$status"
}
trap 'stop_run || true; exit 130' INT TERM
for _ in $(seq 600); do
  grep -q '^run: ' "$log" && break
  if ! kill -0 "$run_pid" 2>/dev/null; then
    echo "demo: vigil run stopped:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done
# The address vigil printed first (DEMO_PORT=0 lets it pick a free port).
api=$(sed -n '1s/^listening on //p' "$log")
head -n 1 "$log" | sed 's/^/   /'
grep '^run: ' "$log" | sed 's/^/   /'
echo
echo "== alerts raised vs incidents injected (vigil alerts report)"
v alerts report --incidents "$home/sim/events.csv" | sed 's/^/   /'
echo "   (the models were trained on the same week they replay; out-of-sample detection"
echo "   results are in docs/results.md)"
echo
echo "== does a direction signal pay after costs? (vigil backtest; docs/backtesting.md)"
echo "   ml_threshold, its model retrained walk-forward inside the backtest, vs buy_hold"
v backtest --config "$examples/../backtest/demo_btc.yaml" --report "$home/backtest.html" |
  sed 's/^/   /'
echo "   report: $home/backtest.html"
echo
# Prints a curl command and its real response (long answers cut at 400 characters).
show() {
  local url=$1 body=${2:-}
  local response
  if [[ -z $body ]]; then
    echo "\$ curl -s '$url'"
    response=$(curl -s "$url")
  else
    echo "\$ curl -s -X POST -H 'Content-Type: application/json' -d '$body' '$url'"
    response=$(curl -s -X POST -H 'Content-Type: application/json' -d "$body" "$url")
  fi
  if (( ${#response} > 400 )); then response="${response:0:400} ..."; fi
  echo "$response"
  echo
}
echo "== the HTTP API (docs/serving.md; OpenAPI at $api/openapi.json)"
show "$api/health"
show "$api/v1/risk/sim%3ABTC-PERP"
show "$api/v1/liquidation/sim%3ABTC-PERP?leverage=50&side=long"
show "$api/v1/anomaly/scan?model=oracle_iforest"
show "$api/v1/predict/price_iforest?explain=true" \
  '{"instrument":"sim:BTC-PERP","timestamp":"2024-01-02T15:52:00Z"}'
show "$api/v1/alerts?instrument=sim%3ASOL-PERP&limit=1"
echo "\$ curl -s $api/metrics | grep vigil_alerts_total"
curl -s "$api/metrics" | grep '^vigil_alerts_total' || true
echo
if [[ -n ${DEMO_SECONDS:-} ]]; then
  echo "== serving on $api for ${DEMO_SECONDS}s (DEMO_SECONDS), then stopping"
  sleep "$DEMO_SECONDS"
else
  echo "== serving on $api until interrupted (Ctrl-C); DEMO_SECONDS=N stops by itself"
  # Waits in short sleeps so that Ctrl-C runs the trap at once.
  while kill -0 "$run_pid" 2>/dev/null; do sleep 0.5; done
fi
if stop_run; then
  echo "demo: vigil run shut down cleanly (predictions and alerts flushed)"
else
  status=$?
  echo "demo: vigil run exited with status $status; its log: $log" >&2
  exit 1
fi
