// ArimaModel: the public face of the ARIMA fit (arima_fit.cc), forecasts and online updates
// through the Kalman filter (arima_state_space.cc). Persistence is in arima_json.cc.
#include "vigil/models/forecast/arima.h"

#include <cmath>
#include <numbers>
#include <string>

#include "arima_internal.h"

namespace vigil {
namespace {

using arima_internal::RegressionFor;
using arima_internal::RegressionKind;

// Standard normal quantile: Acklam's rational approximation (relative error 1.2e-9)
// refined by one Halley step on erfc, which brings it to double precision.
double NormalQuantile(double p) {
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  double x;
  if (p < kLow || p > 1 - kLow) {
    const double s = std::sqrt(-2 * std::log(p < kLow ? p : 1 - p));
    x = (((((c[0] * s + c[1]) * s + c[2]) * s + c[3]) * s + c[4]) * s + c[5]) /
        ((((d[0] * s + d[1]) * s + d[2]) * s + d[3]) * s + 1);
    if (p > 1 - kLow) x = -x;
  } else {
    const double s = p - 0.5, t = s * s;
    x = (((((a[0] * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) * t + a[5]) * s /
        (((((b[0] * t + b[1]) * t + b[2]) * t + b[3]) * t + b[4]) * t + 1);
  }
  const double error = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = error * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

// The regression part at time index t (1-based): intercept or drift * t.
double RegressionAt(const ArimaFit& fit, const ArimaOptions& options, int64_t t) {
  switch (RegressionFor(options)) {
    case RegressionKind::kIntercept:
      return fit.coefficients.back();
    case RegressionKind::kDrift:
      return fit.coefficients.back() * static_cast<double>(t);
    case RegressionKind::kNone:
      return 0.0;
  }
  return 0.0;
}

Status CheckFinite(std::span<const double> values, std::string_view what) {
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      return InvalidArgument(std::string(what) + " " + std::to_string(i) + " is not finite");
  return Status::Ok();
}

}  // namespace

std::string_view ArimaMethodName(ArimaMethod method) {
  switch (method) {
    case ArimaMethod::kMl:
      return "ml";
    case ArimaMethod::kCssMl:
      return "css-ml";
    case ArimaMethod::kCss:
      return "css";
  }
  return "css-ml";
}

Result<ArimaMethod> ParseArimaMethod(std::string_view name) {
  if (name == "ml") return ArimaMethod::kMl;
  if (name == "css-ml") return ArimaMethod::kCssMl;
  if (name == "css") return ArimaMethod::kCss;
  return InvalidArgument("unknown ARIMA method '" + std::string(name) + "' (ml, css-ml, css)");
}

Status ArimaOptions::Validate() const {
  using arima_internal::kMaxArmaOrder;
  if (order.p < 0 || order.p > kMaxArmaOrder)
    return InvalidArgument("order.p must be in 0..20, got " + std::to_string(order.p));
  if (order.d < 0 || order.d > arima_internal::kMaxDifferences)
    return InvalidArgument("order.d must be in 0..2, got " + std::to_string(order.d));
  if (order.q < 0 || order.q > kMaxArmaOrder)
    return InvalidArgument("order.q must be in 0..20, got " + std::to_string(order.q));
  if (max_iterations < 1)
    return InvalidArgument("max_iterations must be >= 1, got " + std::to_string(max_iterations));
  if (!(gradient_tolerance > 0.0) || !std::isfinite(gradient_tolerance))
    return InvalidArgument("gradient_tolerance must be a finite number > 0");
  return Status::Ok();
}

double ArimaFit::Coefficient(std::string_view name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return coefficients[i];
  return std::nan("");
}

ArimaModel::ArimaModel() : state_(std::make_unique<State>()) {}
ArimaModel::~ArimaModel() = default;
ArimaModel::ArimaModel(const ArimaModel& other) : state_(std::make_unique<State>(*other.state_)) {}
ArimaModel& ArimaModel::operator=(const ArimaModel& other) {
  if (this != &other) state_ = std::make_unique<State>(*other.state_);
  return *this;
}
ArimaModel::ArimaModel(ArimaModel&&) noexcept = default;
ArimaModel& ArimaModel::operator=(ArimaModel&&) noexcept = default;

namespace {
void Install(arima_internal::FitOutcome outcome, const ArimaOptions& options, int64_t size,
             ArimaModel::State& state) {
  state.options = options;
  state.fit = std::move(outcome.fit);
  state.filter = outcome.filter;
  state.size = size;
}
}  // namespace

Result<ArimaModel> ArimaModel::Fit(std::span<const double> y, const ArimaOptions& options) {
  VIGIL_ASSIGN_OR_RETURN(arima_internal::FitOutcome outcome,
                         arima_internal::EstimateArima(y, options));
  ArimaModel model;
  Install(std::move(outcome), options, static_cast<int64_t>(y.size()), *model.state_);
  return model;
}

Result<ArimaModel> ArimaModel::FromCoefficients(std::span<const double> y,
                                                const ArimaOptions& options,
                                                std::span<const double> coefficients) {
  VIGIL_ASSIGN_OR_RETURN(arima_internal::FitOutcome outcome,
                         arima_internal::FilterWithCoefficients(y, options, coefficients));
  ArimaModel model;
  Install(std::move(outcome), options, static_cast<int64_t>(y.size()), *model.state_);
  return model;
}

bool ArimaModel::fitted() const { return state_ && state_->size > 0; }
const ArimaFit& ArimaModel::fit() const { return state_->fit; }
const ArimaOptions& ArimaModel::options() const { return state_->options; }
int64_t ArimaModel::size() const { return state_ ? state_->size : 0; }

Result<ArimaForecast> ArimaModel::Forecast(int horizon, std::span<const double> levels) const {
  if (!fitted()) return FailedPrecondition("ARIMA: Forecast on an unfitted model");
  if (horizon < 1) return InvalidArgument("ARIMA: horizon must be >= 1");
  for (double level : levels)
    if (!(level > 0.0 && level < 1.0))
      return InvalidArgument("ARIMA: interval level " + std::to_string(level) +
                             " is not in (0, 1)");
  ArimaForecast out;
  out.mean.resize(horizon);
  out.se.resize(horizon);
  state_->filter.Forecast(out.mean, out.se);
  for (int h = 0; h < horizon; ++h) {
    out.mean[h] += RegressionAt(state_->fit, state_->options, state_->size + h + 1);
    out.se[h] = std::sqrt(out.se[h] * state_->fit.sigma2);
  }
  out.level.assign(levels.begin(), levels.end());
  for (double level : levels) {
    const double z = NormalQuantile(0.5 + level / 2);
    auto& lower = out.lower.emplace_back(horizon);
    auto& upper = out.upper.emplace_back(horizon);
    for (int h = 0; h < horizon; ++h) {
      lower[h] = out.mean[h] - z * out.se[h];
      upper[h] = out.mean[h] + z * out.se[h];
    }
  }
  return out;
}

Status ArimaModel::Append(std::span<const double> values) {
  if (!fitted()) return FailedPrecondition("ARIMA: Append on an unfitted model");
  VIGIL_RETURN_IF_ERROR(CheckFinite(values, "ARIMA: appended value"));
  std::vector<double> x(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    x[i] = values[i] -
           RegressionAt(state_->fit, state_->options, state_->size + static_cast<int64_t>(i) + 1);
  state_->filter.Run(x);
  state_->size += static_cast<int64_t>(values.size());
  return Status::Ok();
}

}  // namespace vigil
