#!/usr/bin/env bash
# `make demo`'s script end to end (the main job): DEMO_SECONDS=1 on a free port in a temp
# home; it must exit 0, catch every injected incident, backtest a signal with its report,
# answer the API calls it shows and shut down cleanly. Usage: demo_smoke.sh VIGIL_BINARY DEMO_SCRIPT
set -euo pipefail
vigil=${1:?vigil binary}
script=${2:?scripts/demo.sh}
work=$(mktemp -d /tmp/vigil-demo-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
out=$work/out.txt
if ! DEMO_SECONDS=1 DEMO_PORT=0 bash "$script" "$vigil" "$work/home" > "$out" 2>&1; then
  cat "$out"
  echo "demo_smoke: the demo failed" >&2
  exit 1
fi
expect() {
  if ! grep -q -- "$1" "$out"; then
    cat "$out"
    echo "demo_smoke: missing from the demo's output: $1" >&2
    exit 1
  fi
}
expect 'listening on http://127.0.0.1:'
expect 'caught 5 of 5 incidents'
expect '"risk_level":'
expect '"horizon":"5m"'
expect 'vigil_alerts_total{rule="oracle_deviation"}'
expect 'shut down cleanly'
expect 'ml_threshold on sim:BTC-PERP: 10080 bars'
expect 'vs buy_hold: Sharpe'
if [[ ! -s $work/home/backtest.html ]]; then
  echo "demo_smoke: the demo wrote no backtest report" >&2
  exit 1
fi
if grep -q '"error":' "$out"; then
  cat "$out"
  echo "demo_smoke: an API call in the demo answered an error" >&2
  exit 1
fi
echo "demo_smoke: ok"
