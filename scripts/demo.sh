#!/usr/bin/env bash
# The demo: simulate a market with labelled incidents, ingest it into the embedded SQLite
# store, and show what was stored. Usage: scripts/demo.sh VIGIL_BINARY HOME_DIR
set -euo pipefail
vigil=${1:?vigil binary}
home=${2:?home directory}

echo "== vigil $("$vigil" --version | cut -d' ' -f2): simulating 3 instruments x 7 days into $home"
"$vigil" --home "$home" simulate --instruments 3 --days 7 --seed 42 --ingest
echo
echo "== stored data (vigil data summary)"
"$vigil" --home "$home" data summary
echo
echo "== injected incidents (ground truth): $home/sim/events.csv"
head -n 20 "$home/sim/events.csv"
echo
echo "== point-in-time features of sim:BTC-PERP (built-in set 'default': candles plus, as of"
echo "   each bar, liquidations and funding), saved to feature_store: $home/btc_features.csv"
"$vigil" --home "$home" features compute --instrument sim:BTC-PERP --set default \
  --out "$home/btc_features.csv" --save
echo "   last rows, first columns:"
tail -n 3 "$home/btc_features.csv" | cut -d, -f1-7
echo
examples="$(cd "$(dirname "$0")/.." && pwd)/examples/training"
echo "== training (docs/training.md): walk-forward validation, registry, promotion gate"
"$vigil" --home "$home" train --config "$examples/btc_direction.yaml"
"$vigil" --home "$home" train --config "$examples/btc_anomaly.yaml"
echo
echo "== the scheduler runs a triggered retrain, as monitoring does on drift"
"$vigil" --home "$home" scheduler run --config "$examples/scheduler.yaml" \
  --trigger btc_direction_6h --max-runs 1
echo
echo "== anomaly detection (docs/anomaly.md): an isolation forest over sim:SOL-PERP's oracle"
echo "   features (one row per oracle update); the most anomalous rows and what drove them"
"$vigil" --home "$home" features compute --instrument sim:SOL-PERP --set oracle \
  --out "$home/sol_oracle.csv"
"$vigil" --home "$home" detect run --input "$home/sol_oracle.csv" --model isolation_forest \
  --params contamination=0.02 --seed 7 --out "$home/sol_oracle_scores.csv"
sort -t, -k2 -g -r "$home/sol_oracle_scores.csv" | head -n 5
echo "   the simulator's ground truth for sim:SOL-PERP:"
grep 'sim:SOL-PERP,oracle_deviation' "$home/sim/events.csv" || true
echo
echo "== a registered detector (vigil detect fit), then the scan of every stored instrument's"
echo "   latest oracle row (vigil detect scan)"
"$vigil" --home "$home" detect fit --instrument sim:BTC-PERP --set oracle --model isolation_forest \
  --params contamination=0.02 --seed 7 --name oracle_iforest
"$vigil" --home "$home" detect scan --model oracle_iforest
echo
echo "== the registry (vigil models list)"
"$vigil" --home "$home" models list
