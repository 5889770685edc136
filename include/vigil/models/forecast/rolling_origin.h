// Rolling-origin (time-series cross-validation) evaluation of forecasters: at each origin t
// a forecaster sees only the first t observations y[0..t) and forecasts y[t..t+H); errors
// against the actuals are pooled per method, overall and per horizon step (Tashman 2000,
// "Out-of-sample tests of forecasting accuracy"; forecast::tsCV's origins).
//
//   vigil::RollingOriginOptions options;
//   options.horizon = 24;
//   options.min_train = 500;
//   options.refit_every = 24;   // refit daily, Append the new hours in between
//   std::vector<vigil::ForecastMethod> methods = {
//       vigil::ForecastMethodOfKind("arima", "arima", {{"order", {1, 0, 1}}}),
//       vigil::ForecastMethodOfKind("naive", "naive", {})};
//   VIGIL_ASSIGN_OR_RETURN(vigil::RollingOriginResult result,
//                          vigil::EvaluateRollingOrigin(y, methods, options));
//   std::cout << result.ToJson().dump(2);
//
// Refit schedule: origins are taken in order in blocks of `refit_every`. The first origin
// of a block fits a fresh forecaster (from the method's factory) on y[0..t); each later
// origin t' of the block calls Append(y[t_prev..t')) on that forecaster (an online update
// with the fitted parameters unchanged) and forecasts from there. Blocks are independent,
// so they run in parallel and the results do not depend on the thread count.
// No lookahead: a forecast made at origin t depends on y[0..t) only.
//
// Metrics (Hyndman & Koehler 2006, "Another look at measures of forecast accuracy", IJF 22),
// over the forecasts whose target lies inside the series:
//   MAE  = mean |e|, RMSE = sqrt(mean e^2), e = actual - forecast;
//   MAPE = 100 mean |e / actual| over the actuals != 0 (zeros are skipped and counted);
//   MASE = mean |e / s_t|, s_t = the in-sample MAE of the one-step naive forecast on the
//          training part y[0..t) of the forecast's origin (as forecast::accuracy scales
//          non-seasonal series); origins with s_t == 0 are skipped and counted;
//   coverage[i] = the fraction of actuals inside the interval at levels[i] (bounds included).
// Thread-safety: EvaluateRollingOrigin may be called concurrently; the factories it is given
// must be callable from several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil {

struct RollingOriginOptions {
  int horizon = 1;      // H >= 1: forecasts y[t], ..., y[t + H - 1] at origin t
  int min_train = 20;   // the first origin (training length), >= 2
  int origin_step = 1;  // distance between consecutive origins, >= 1
  // 0: every origin min_train, min_train + step, ... < n (the last ones score fewer than H
  // steps). > 0: the last `origins` of those whose whole horizon lies inside the series
  // (the last origin is n - H); fails when fewer exist.
  int origins = 0;
  int refit_every = 1;  // >= 1: refit at every refit_every-th origin, Append in between
  std::vector<double> levels = {0.8, 0.95};  // interval levels, each in (0, 1)
  int threads = 1;                           // >= 1, or 0 for all cores
  // false: a method failing at any origin fails the evaluation (naming method and
  // origin). true: the failing origins (a failed fit skips its whole refit block) are left
  // out of that method's metrics and counted in failed_origins.
  bool skip_failures = false;
  bool keep_forecasts = true;  // store every path in MethodEvaluation::forecasts
  Status Validate() const;     // InvalidArgument naming the field
};

// A fresh, unfitted forecaster for each refit.
using ForecasterFactory = std::function<Result<std::unique_ptr<Forecaster>>()>;

struct ForecastMethod {
  std::string name;  // unique among the methods evaluated together
  ForecasterFactory make;
};

// A method whose factory is CreateModel(kind, config) (which must be a forecasting kind).
// The kind and config are checked when the evaluation calls the factory.
ForecastMethod ForecastMethodOfKind(std::string name, std::string kind, nlohmann::json config);

struct ForecastAccuracy {
  int64_t forecasts = 0;  // forecasts scored
  double mae = 0;
  double rmse = 0;
  double mape = 0;  // percent; NaN when every actual was zero
  int64_t mape_skipped = 0;
  double mase = 0;  // NaN when every scale was zero
  int64_t mase_skipped = 0;
  std::vector<double> coverage;  // per level
};

struct OriginForecast {
  int64_t origin = 0;  // training length t: the path forecasts y[t..t+H)
  bool refit = false;  // fitted here (else updated by Append)
  ForecastPath path;
};

struct MethodEvaluation {
  std::string name;
  ForecastAccuracy overall;
  std::vector<ForecastAccuracy> by_horizon;  // steps 1..H
  int64_t refits = 0;
  int64_t failed_origins = 0;
  std::string first_failure;              // the first failure's message (skip_failures)
  std::vector<OriginForecast> forecasts;  // by origin (keep_forecasts; failures absent)
};

struct RollingOriginResult {
  RollingOriginOptions options;
  std::vector<int64_t> origins;
  std::vector<MethodEvaluation> methods;  // in the order given
  // {"horizon", "refit_every", "levels", "origins": {"count", "first", "last", "step"},
  //  "methods": [{"name", "refits", "failed_origins", "overall": {...}, "by_horizon": [...],
  //  "forecasts": [...] (only with include_forecasts)}]}; accuracy objects hold forecasts,
  //  mae, rmse, mape, mape_skipped, mase, mase_skipped and "coverage": {"0.8": x, ...}.
  //  NaN metrics are written as null.
  nlohmann::ordered_json ToJson(bool include_forecasts = false) const;
};

// Evaluates each method on `series` (finite values; InvalidArgument naming the index of a
// non-finite one). InvalidArgument for bad options, no methods, duplicate names or a series
// too short for one origin. A forecaster returning a path of the wrong shape or a
// non-finite mean counts as a failure.
Result<RollingOriginResult> EvaluateRollingOrigin(std::span<const double> series,
                                                  const std::vector<ForecastMethod>& methods,
                                                  const RollingOriginOptions& options);

}  // namespace vigil
