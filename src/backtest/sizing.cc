#include "vigil/backtest/sizing.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "vigil/core/timestamp.h"

namespace vigil {
namespace {

constexpr double kDaysPerYear = 365.25;  // crypto trades around the clock (metrics.h)

bool IsFinitePositive(double value) { return std::isfinite(value) && value > 0.0; }

// The shortest text that reads back as `value` (std::to_string would print 1e-9 as 0.000000).
std::string ShortestText(double value) {
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

// `value` in (0, upper], finite.
Status CheckInOpenClosed(double value, double upper, const char* field, const char* bound) {
  if (!IsFinitePositive(value) || value > upper)
    return InvalidArgument(std::string(field) + ": must be in (0, " + bound + "], got " +
                           ShortestText(value));
  return Status::Ok();
}

Status CheckPositive(double value, const char* field) {
  if (!IsFinitePositive(value))
    return InvalidArgument(std::string(field) + ": must be a finite number > 0, got " +
                           ShortestText(value));
  return Status::Ok();
}

// The second-order growth-optimal scaling of an estimated Kelly fraction, e^2 / (e^2 +
// sigma_e^2). Why: for a bet paying b per unit staked, the expected log growth of staking f is,
// to second order around f = 0, G(f) = e f - b f^2 / 2 (the curvature p b^2 + (1 - p) equals b
// when the edge is small), maximised at f* = e / b. When the edge is only an estimate, with
// the true edge normal around it with standard deviation sigma_e, staking c f* for a scale c
// gives E[G] = (c / b) e^2 - (c^2 / 2b)(e^2 + sigma_e^2), maximised at c = e^2 / (e^2 +
// sigma_e^2): the noisier the edge, the less of it to bet (Baker and McHale 2013, "Optimal
// betting under parameter uncertainty: improving the Kelly criterion", Decision Analysis 10(3),
// reach the same shrinkage of the Kelly stake).
double UncertaintyShrinkage(double edge, double edge_sd) {
  const double edge_squared = edge * edge;
  return edge_squared / (edge_squared + edge_sd * edge_sd);
}

}  // namespace

std::string_view SizingMethodName(SizingMethod method) {
  switch (method) {
    case SizingMethod::kFixedFraction:
      return "fixed_fraction";
    case SizingMethod::kKelly:
      return "kelly";
    case SizingMethod::kVolatilityTarget:
      return "volatility_target";
  }
  return "fixed_fraction";
}

Result<SizingMethod> ParseSizingMethod(std::string_view text) {
  for (const SizingMethod method :
       {SizingMethod::kFixedFraction, SizingMethod::kKelly, SizingMethod::kVolatilityTarget}) {
    if (text == SizingMethodName(method)) return method;
  }
  return InvalidArgument("sizing method '" + std::string(text) +
                         "': expected fixed_fraction, kelly or volatility_target");
}

Status SizingOptions::Validate() const {
  VIGIL_RETURN_IF_ERROR(CheckPositive(max_leverage, "max_leverage"));
  VIGIL_RETURN_IF_ERROR(CheckInOpenClosed(fraction, max_leverage, "fraction", "max_leverage"));
  VIGIL_RETURN_IF_ERROR(CheckInOpenClosed(kelly_multiplier, 1.0, "kelly_multiplier", "1"));
  VIGIL_RETURN_IF_ERROR(CheckInOpenClosed(kelly_cap, max_leverage, "kelly_cap", "max_leverage"));
  VIGIL_RETURN_IF_ERROR(CheckPositive(payoff_ratio, "payoff_ratio"));
  VIGIL_RETURN_IF_ERROR(CheckPositive(target_volatility, "target_volatility"));
  if (volatility_window < 2)
    return InvalidArgument(
        "volatility_window: must be >= 2 (a standard deviation needs two "
        "returns), got " +
        std::to_string(volatility_window));
  return Status::Ok();
}

double KellyFraction(const SizingOptions& options, const SizingSignal& signal) {
  const double p = signal.probability;
  // Written so that NaN fails every test and sizes nothing.
  if (!(p >= 0.0 && p <= 1.0) || !(signal.uncertainty >= 0.0)) return 0.0;
  const double b = options.payoff_ratio;
  const double edge = p * (b + 1.0) - 1.0;
  if (!(edge > 0.0)) return 0.0;
  const double kelly = edge / b;
  // The edge is linear in p, so its standard deviation is (b + 1) times p's.
  const double edge_sd = (b + 1.0) * signal.uncertainty;
  const double fraction = options.kelly_multiplier * kelly * UncertaintyShrinkage(edge, edge_sd);
  return std::min(fraction, options.kelly_cap);
}

double RealisedVolatility(std::span<const double> closes, int window, int64_t bar_ns) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (window < 2 || bar_ns <= 0 || closes.size() < static_cast<size_t>(window) + 1) return kNaN;
  const std::span<const double> recent = closes.last(static_cast<size_t>(window) + 1);
  // Two passes (mean, then squared deviations): per-bar log returns are tiny and close to
  // each other, where the one-pass sum-of-squares formula cancels catastrophically.
  double sum = 0.0;
  for (size_t i = 1; i < recent.size(); ++i) sum += std::log(recent[i] / recent[i - 1]);
  const double mean = sum / window;
  double squares = 0.0;
  for (size_t i = 1; i < recent.size(); ++i) {
    const double deviation = std::log(recent[i] / recent[i - 1]) - mean;
    squares += deviation * deviation;
  }
  const double periods_per_year = kDaysPerYear * static_cast<double>(kNanosPerDay) / bar_ns;
  const double volatility = std::sqrt(squares / (window - 1) * periods_per_year);
  return std::isfinite(volatility) ? volatility : kNaN;
}

double TargetFraction(const SizingOptions& options, const SizingSignal& signal,
                      std::span<const double> closes, int64_t bar_ns) {
  double fraction = 0.0;
  switch (options.method) {
    case SizingMethod::kFixedFraction:
      fraction = options.fraction;
      break;
    case SizingMethod::kKelly:
      fraction = KellyFraction(options, signal);
      break;
    case SizingMethod::kVolatilityTarget: {
      const double volatility = RealisedVolatility(closes, options.volatility_window, bar_ns);
      if (volatility > 0.0) fraction = options.target_volatility / volatility;
      break;
    }
  }
  // NaN-safe clamp: std::clamp would pass a NaN through.
  if (!(fraction > 0.0)) return 0.0;
  return std::min(fraction, options.max_leverage);
}

}  // namespace vigil
