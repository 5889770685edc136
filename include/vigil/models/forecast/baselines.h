// The benchmark forecasts every forecasting model is compared against: the random walk
// ("naive") and the random walk with drift, with the semantics and standard errors of R's
// forecast::naive and forecast::rwf(drift = TRUE) (forecast 8.20, forecast:::lagwalk and
// forecast:::forecast.lagwalk), so forecasts and intervals agree with R.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::RandomWalkModel drift, vigil::RandomWalkModel::Fit(y, true));
//   VIGIL_ASSIGN_OR_RETURN(vigil::ForecastPath path, drift.Forecast(24, {{0.8, 0.95}}));
//
// With y_1..y_n and the one-step differences d_t = y_t - y_{t-1} (m = n - 1 of them):
//   naive:  yhat_{n+h} = y_n,          se_h = sqrt(h * sum(d^2) / m)
//   drift:  b = mean(d), s2 = sum((d - b)^2) / (m - 1), se(b) = sqrt(s2 / m),
//           yhat_{n+h} = y_n + h b,    se_h = sqrt(h * s2 + h^2 se(b)^2)
// (R divides by m - [b != 0]; an exactly zero drift estimate divides by m.)
// Intervals are normal: yhat -/+ z_{(1 + level) / 2} se_h.
// Thread-safety: values; const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil {

// z such that P(-z <= Z <= z) = level for a standard normal Z (level in (0, 1)): the
// quantile z_{(1 + level) / 2}, by Wichura's algorithm AS 241 (PPND16; Applied Statistics
// 37, 1988), accurate to about 1e-16. NaN for a level outside (0, 1).
double NormalIntervalMultiplier(double level);

// Fills path.lower / path.upper (and path.level) as mean -/+ NormalIntervalMultiplier(level)
// * se for each level. InvalidArgument naming a level outside (0, 1).
Status FillNormalIntervals(std::span<const double> levels, ForecastPath& path);

class RandomWalkModel {
 public:
  RandomWalkModel() = default;  // unfitted

  // Fits to `y` (>= 2 finite values; InvalidArgument naming the index of a non-finite one);
  // with_drift adds the drift term (needs >= 3 values).
  static Result<RandomWalkModel> Fit(std::span<const double> y, bool with_drift);

  bool fitted() const { return nobs_ > 0; }
  bool with_drift() const { return with_drift_; }
  double last() const { return last_; }    // the last value seen (fit or appended)
  double drift() const { return drift_; }  // b (0 for the naive method)
  double drift_se() const { return drift_se_; }
  double sigma2() const { return sigma2_; }  // the one-step residual variance (R's mse)
  int64_t nobs() const { return nobs_; }     // observations fitted on (not appended)
  int64_t size() const { return size_; }     // observations seen (fit + appended)

  // Horizons 1..horizon (>= 1) from the last value seen, with se and normal intervals.
  Result<ForecastPath> Forecast(int horizon, std::span<const double> levels) const;
  // Online update: the forecast origin moves to the last appended value; b, se(b) and
  // sigma2 stay as fitted.
  Status Append(std::span<const double> values);

  // {"with_drift", "last", "drift", "drift_se", "sigma2", "nobs", "size"}; FromJson checks
  // types and ranges (DataError naming the field).
  nlohmann::json ToJson() const;
  static Result<RandomWalkModel> FromJson(const nlohmann::json& json);

 private:
  bool with_drift_ = false;
  double last_ = 0;
  double drift_ = 0;
  double drift_se_ = 0;
  double sigma2_ = 0;
  int64_t nobs_ = 0;
  int64_t size_ = 0;
};

}  // namespace vigil
