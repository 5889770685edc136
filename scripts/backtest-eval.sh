#!/usr/bin/env bash
# ML strategy vs baseline on real candles (../shared/data), walk-forward: the markdown table
# of docs/results.md ("Backtesting"). For each pair and label horizon the model
# (examples/backtest/direction_5m.yaml, gradient-boosted trees on the `ta` features) is
# retrained every STEP days on the last TRAIN days, once; every entry threshold and cost
# setting then reuses its saved signals (--reuse). ml_threshold is compared with buy_hold on
# the same bars and costs, with the stationary-bootstrap interval of the Sharpe difference.
# A second table pools the five pairs: one model trained on all of them, each pair traded
# with a fifth of the equity, against the equal-weight basket (buy_hold all=1).
#   scripts/backtest-eval.sh [BUILD_DIR]      # default build
set -euo pipefail
build=${1:-build}
vigil="$(cd "$build" && pwd)/apps/vigil/vigil"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="$(cd "$root/.." && pwd)/shared/data/candles"
train_days=${TRAIN:-5}
step_days=${STEP:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() {  # pair horizon enter fee_bps slippage_bps reuse -> the report JSON path
  local pair=$1 horizon=$2 enter=$3 fee=$4 slip=$5 reuse=$6
  local name="${pair}_${horizon}_${enter}_${fee}"
  sed "s/horizon: [0-9a-z]*,/horizon: $horizon,/" "$root/examples/backtest/direction_5m.yaml" \
    > "$work/direction_$horizon.yaml"
  cat > "$work/$name.yaml" <<YAML
strategy: ml_threshold
params: {enter: $enter, exit: 0.5}
data: {inputs: [$data/${pair}_BTC-5m.csv]}
costs: {fee_bps: $fee, slippage: "fixed:$slip"}
model: {train: direction_$horizon.yaml, train_days: $train_days, step_days: $step_days,
        cache: cache_${pair}_$horizon}
baseline: buy_hold
bootstrap: {resamples: 2000, seed: 7}
report: $name.html
YAML
  "$vigil" backtest --config "$work/$name.yaml" $reuse > /dev/null
  echo "$work/$name.json"
}

echo "| pair | horizon | enter | net return | net Sharpe | buy_hold Sharpe | Sharpe difference [95% CI] | p | round trips | gross return |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for pair in ETH LTC DASH XMR ZEC; do
  for horizon in 30m 2h; do
    reuse=""
    for enter in 0.55 0.6 0.65; do
      net=$(run "$pair" "$horizon" "$enter" 10 5 "$reuse")
      reuse=--reuse
      gross=$(run "$pair" "$horizon" "$enter" 0 0 "$reuse")
      /usr/bin/python3 - "$pair" "$horizon" "$enter" "$net" "$gross" <<'PY'
import json, sys
pair, horizon, enter, net_path, gross_path = sys.argv[1:]
net, gross = json.load(open(net_path)), json.load(open(gross_path))
m, c = net["metrics"], net["extra"]["comparison"]
print(f"| {pair}/BTC | {horizon} | {enter} | {m['total_return']:+.1%} | {m['sharpe']:.2f} | "
      f"{c['sharpe_baseline']:.2f} | {c['difference']:+.2f} [{c['lower']:+.2f}, {c['upper']:+.2f}] | "
      f"{c['p_value']:.3f} | {m['trades']} | {gross['metrics']['total_return']:+.1%} |")
PY
    done
  done
done

pooled() {  # fee_bps slippage_bps reuse -> the report JSON path
  local fee=$1 slip=$2 reuse=$3 inputs=""
  for pair in ETH LTC DASH XMR ZEC; do inputs+="${inputs:+, }$data/${pair}_BTC-5m.csv"; done
  cat > "$work/pooled_$fee.yaml" <<YAML
strategy: ml_threshold
params: {enter: 0.6, exit: 0.5, fraction: 0.2}
data: {inputs: [$inputs]}
costs: {fee_bps: $fee, slippage: "fixed:$slip"}
model: {train: direction_2h.yaml, train_days: $train_days, step_days: $step_days, cache: cache_pooled}
baseline: buy_hold
baseline_params: {all: 1}
bootstrap: {resamples: 2000, seed: 7}
report: pooled_$fee.html
YAML
  "$vigil" backtest --config "$work/pooled_$fee.yaml" $reuse > /dev/null
  echo "$work/pooled_$fee.json"
}

echo
echo "| pooled model, 5 pairs, horizon 2h, enter 0.6 | return | Sharpe | basket Sharpe | Sharpe difference [95% CI] | p | round trips |"
echo "|---|---|---|---|---|---|---|"
for costs in "10 5 " "0 0 --reuse"; do
  read -r fee slip reuse <<< "$costs"
  /usr/bin/python3 - "$fee" "$(pooled "$fee" "$slip" "$reuse")" <<'PY'
import json, sys
fee, path = sys.argv[1:]
d = json.load(open(path))
m, c = d["metrics"], d["extra"]["comparison"]
label = "net of 10 bps fees + 5 bps slippage" if fee != "0" else "gross (no fees, no slippage)"
print(f"| {label} | {m['total_return']:+.1%} | {m['sharpe']:.2f} | {c['sharpe_baseline']:.2f} | "
      f"{c['difference']:+.2f} [{c['lower']:+.2f}, {c['upper']:+.2f}] | {c['p_value']:.3f} | {m['trades']} |")
PY
done
