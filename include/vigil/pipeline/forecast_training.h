// `task: forecast` training jobs: a forecasting kind (arima, auto_arima, garch, naive, drift)
// fitted to one stored series, validated by rolling-origin evaluation against the naive and
// drift baselines, registered as a new version, and promoted when it passes the gate.
//
//   name: btc_risk_24h
//   task: forecast
//   model: {kind: arima, config: {order: [1, 0, 1], method: css-ml}}   # `params` also works
//   data:
//     instrument: binance:BTC/USDT
//     field: score:liq_50x          # a candle field, or score:/value:<model>[@horizon]
//     timeframe: 1m                 # candles only; default: the smallest stored
//     from: 2024-01-01              # optional
//     to: 2024-03-01                # optional, exclusive
//     every: 1h                     # optional: as-of resampling (forecast_series.h)
//     transform: none               # none | log | log_return | pct_return
//   validation: {horizon: 24, origins: 20, refit_every: 1, min_train: 50, levels: [0.8, 0.95]}
//   promotion: {metric: mase, tolerance: 0.0}   # mae | rmse | mape | mase | none
//   retention: {keep: 10}
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::TrainingConfig config, vigil::LoadTrainingConfig(path));
//   VIGIL_ASSIGN_OR_RETURN(vigil::TrainingResult result,
//                          vigil::RunTrainingJob(config, *store, registry, {}));  // dispatches
//
// Metrics (the manifest's `metrics`): the model's pooled rolling-origin mae, rmse, mape, mase
// and coverage_<level> ("coverage_80"), the baselines' mase as naive_mase and drift_mase,
// folds (origins) and test_rows (forecasts scored); metrics that are undefined (NaN) are left
// out. details.rolling_origin holds the whole evaluation (RollingOriginResult::ToJson).
// Gate: production's kind and configuration are evaluated by the same rolling origins on the
// same series; the candidate passes when its metric is at most production's plus the
// tolerance (no production version, metric none, or a production that cannot be evaluated:
// it passes; production of another task: it does not).
// Thread-safety: as training_job.h.
#pragma once

#include <map>
#include <string>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/models/forecast/rolling_origin.h"
#include "vigil/pipeline/forecast_series.h"
#include "vigil/pipeline/training_config.h"
#include "vigil/pipeline/training_job.h"
#include "vigil/registry/registry.h"
#include "vigil/store/store.h"

namespace vigil {

// Cross-field checks of a forecast config (called by TrainingConfig::Validate):
// InvalidArgument naming the key.
Status ValidateForecastTrainingConfig(const TrainingConfig& config);

// The rolling-origin evaluation of the config's model and the naive and drift baselines
// (methods named by kind, the model first; the model's kind is not repeated when it is a
// baseline itself).
Result<RollingOriginResult> EvaluateForecastConfig(const TrainingConfig& config,
                                                   const ForecastSeries& series);

// The manifest metrics described above, from an evaluation whose first method is the model.
std::map<std::string, double> ForecastMetrics(const RollingOriginResult& result);

// The stages of a forecast job (RunTrainingJob calls it for task: forecast): load the series,
// evaluate, fit on the whole series, gate, register, promote, purge, mirror.
Result<TrainingResult> RunForecastStages(const TrainingConfig& config, Store& store,
                                         ModelRegistry& registry, Timestamp now);

}  // namespace vigil
