#!/usr/bin/env bash
# Rolling-origin forecast evaluation on real crypto candles (../shared/data), printed as the
# markdown tables of docs/results.md ("Forecasting"). Every forecast at origin t sees only
# the series up to t; models refit every REFIT origins and are updated online in between.
#   scripts/forecast-eval.sh [BUILD_DIR]      # default build
set -euo pipefail
build=${1:-build}
vigil="$build/apps/vigil/vigil"
data="$(cd "$(dirname "$0")/../.." && pwd)/shared/data/candles"
origins=${ORIGINS:-300}
refit=${REFIT:-12}
horizon=${HORIZON:-12}
min_train=${MIN_TRAIN:-1000}

evaluate() {  # file transform model [model options...]
  local file=$1 transform=$2
  shift 2
  "$vigil" forecast --input "$data/$file" --column close --transform "$transform" "$@" \
    --horizon "$horizon" --evaluate --origins "$origins" --refit-every "$refit" \
    --min-train "$min_train" --json
}

table() {  # title; JSON documents on stdin
  /usr/bin/python3 "$(dirname "$0")/forecast_eval_table.py" "$@"
}

series=(ETH_BTC-5m.csv LTC_BTC-5m.csv XRP_USDT_USDT-5m-futures.csv UNITTEST_BTC-30m.csv)
{
  for file in "${series[@]}"; do
    evaluate "$file" log --model arima --order 1,1,1
    evaluate "$file" log --model auto_arima
  done
} | table "Log price, horizon $horizon, $origins origins, refit every $refit (ARIMA vs naive and drift)"
{
  for file in "${series[@]}"; do
    evaluate "$file" log_return --model garch --dist t
    evaluate "$file" log_return --model arima --order 1,0,1
  done
} | table "Log returns, horizon $horizon: GARCH(1,1)-t intervals vs ARIMA(1,0,1) and the baselines" --no-mape
