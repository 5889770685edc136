#include "vigil/backtest/compare.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "paired_bootstrap.h"
#include "vigil/backtest/metrics.h"

namespace vigil {
namespace {

using backtest_internal::PairedResampler;
using backtest_internal::SharpeScale;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMinResamples = 100;
constexpr int64_t kMinPeriods = 3;
// Periods are drawn as 32-bit indices (UniformBelow).
constexpr int64_t kMaxPeriods = std::numeric_limits<uint32_t>::max();

// ---------------------------------------------------------------------------------------------
// Inputs

Status CheckReturns(std::span<const double> returns, std::string_view field) {
  const auto periods = static_cast<int64_t>(returns.size());
  if (periods < kMinPeriods)
    return InvalidArgument(std::string(field) + ": need at least 3 periods, got " +
                           std::to_string(periods));
  if (periods > kMaxPeriods)
    return InvalidArgument(std::string(field) + ": more than 2^32 - 1 periods");
  for (size_t t = 0; t < returns.size(); ++t) {
    if (!std::isfinite(returns[t]))
      return InvalidArgument(std::string(field) + ": not finite at period " + std::to_string(t));
  }
  return Status::Ok();
}

Status CheckInputs(std::span<const double> strategy, std::span<const double> baseline,
                   double periods_per_year, double risk_free_per_period) {
  VIGIL_RETURN_IF_ERROR(CheckReturns(strategy, "strategy_returns"));
  if (baseline.size() != strategy.size())
    return InvalidArgument("baseline_returns: " + std::to_string(baseline.size()) +
                           " periods, strategy_returns has " + std::to_string(strategy.size()) +
                           "; the series must be marked at the same times");
  VIGIL_RETURN_IF_ERROR(CheckReturns(baseline, "baseline_returns"));
  if (!std::isfinite(periods_per_year) || periods_per_year <= 0.0)
    return InvalidArgument("periods_per_year: must be finite and > 0");
  if (!std::isfinite(risk_free_per_period) || risk_free_per_period <= -1.0)
    return InvalidArgument("risk_free_per_period: must be finite and > -1");
  return Status::Ok();
}

// A Sharpe ratio needs dispersion; checked on the values themselves, since a mean computed in
// floating point leaves tiny nonzero deviations around a constant series.
Status CheckDispersion(std::span<const double> returns, std::string_view field) {
  const auto [low, high] = std::minmax_element(returns.begin(), returns.end());
  if (*low == *high)
    return FailedPrecondition(std::string(field) +
                              ": every return is equal; its Sharpe ratio is undefined");
  return Status::Ok();
}

double Mean(std::span<const double> values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

// The sample deviation (n - 1) around `mean`, two-pass like metrics.cc.
double Deviation(std::span<const double> values, double mean) {
  double squares = 0.0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

SharpeScale ScaleOf(std::span<const double> returns, double periods_per_year, double risk_free) {
  SharpeScale scale;
  scale.mean = Mean(returns);
  scale.deviation = Deviation(returns, scale.mean);
  scale.risk_free = risk_free;
  scale.annual = std::sqrt(periods_per_year);
  scale.periods = static_cast<double>(returns.size());
  return scale;
}

double Sharpe(const SharpeScale& scale) {
  return (scale.mean - scale.risk_free) / scale.deviation * scale.annual;
}

// The influence of each period on the per-period Sharpe ratio (see compare.h): the
// difference of two Sharpe ratios is, to first order, the mean of the differences of these.
std::vector<double> SharpeInfluence(std::span<const double> returns, const SharpeScale& scale) {
  const double sharpe = (scale.mean - scale.risk_free) / scale.deviation;
  const double variance = scale.deviation * scale.deviation;
  std::vector<double> influence(returns.size());
  for (size_t t = 0; t < returns.size(); ++t) {
    const double centred = returns[t] - scale.mean;
    influence[t] =
        centred / scale.deviation - sharpe / (2.0 * variance) * (centred * centred - variance);
  }
  return influence;
}

// ---------------------------------------------------------------------------------------------
// The bootstrap distribution's summary

// Hyndman & Fan (1996) definition 7 on sorted values: h = (B - 1) p, interpolated.
double Quantile(const std::vector<double>& sorted, double probability) {
  const double h = static_cast<double>(sorted.size() - 1) * probability;
  const auto below = static_cast<size_t>(std::floor(h));
  if (below + 1 >= sorted.size()) return sorted.back();
  return sorted[below] + (h - static_cast<double>(below)) * (sorted[below + 1] - sorted[below]);
}

void Summarise(std::vector<double>& differences, double confidence, SharpeComparison& c) {
  const double count = static_cast<double>(differences.size());
  const double mean = Mean(differences);
  c.standard_error = Deviation(differences, mean);
  const double observed = std::abs(c.difference);
  const auto extreme = std::count_if(differences.begin(), differences.end(), [&](double d) {
    return std::abs(d - c.difference) >= observed;
  });
  c.p_value = (1.0 + static_cast<double>(extreme)) / (count + 1.0);
  std::sort(differences.begin(), differences.end());
  c.lower = Quantile(differences, (1.0 - confidence) / 2.0);
  c.upper = Quantile(differences, (1.0 + confidence) / 2.0);
  c.confidence = confidence;
  c.resamples = static_cast<int>(differences.size());
}

// ---------------------------------------------------------------------------------------------
// Backtest results and JSON

Status CheckEquity(const std::vector<double>& equity, size_t marks, std::string_view field) {
  if (equity.size() != marks)
    return InvalidArgument(std::string(field) + ": " + std::to_string(equity.size()) +
                           " values for " + std::to_string(marks) + " mark times");
  for (size_t t = 0; t < equity.size(); ++t) {
    if (!std::isfinite(equity[t]) || equity[t] <= 0.0)
      return InvalidArgument(std::string(field) + ": not finite and > 0 at mark " +
                             std::to_string(t) + "; returns are undefined after a wipe-out");
  }
  return Status::Ok();
}

Status CheckSameRun(const BacktestResult& strategy, const BacktestResult& baseline) {
  const size_t marks = strategy.mark_times.size();
  if (baseline.mark_times.size() != marks)
    return InvalidArgument("baseline.mark_times: " + std::to_string(baseline.mark_times.size()) +
                           " marks, strategy.mark_times has " + std::to_string(marks) +
                           "; compare backtests of the same data");
  for (size_t t = 0; t < marks; ++t) {
    if (baseline.mark_times[t] != strategy.mark_times[t])
      return InvalidArgument("baseline.mark_times: differs from strategy.mark_times at mark " +
                             std::to_string(t) + "; compare backtests of the same data");
  }
  VIGIL_RETURN_IF_ERROR(CheckEquity(strategy.equity, marks, "strategy.equity"));
  return CheckEquity(baseline.equity, marks, "baseline.equity");
}

}  // namespace

Status BootstrapOptions::Validate() const {
  if (resamples < kMinResamples) return InvalidArgument("resamples: must be >= 100");
  if (!(confidence > 0.0 && confidence < 1.0))
    return InvalidArgument("confidence: must be in (0, 1)");
  if (!std::isfinite(mean_block_length) || (mean_block_length != 0.0 && mean_block_length < 1.0))
    return InvalidArgument("mean_block_length: must be 0 (automatic) or a finite number >= 1");
  return Status::Ok();
}

std::vector<double> PeriodReturns(std::span<const double> equity, double initial_capital) {
  std::vector<double> returns(equity.size());
  double previous = initial_capital;
  for (size_t t = 0; t < equity.size(); ++t) {
    returns[t] = equity[t] / previous - 1.0;
    previous = equity[t];
  }
  return returns;
}

Result<SharpeComparison> CompareSharpe(std::span<const double> strategy_returns,
                                       std::span<const double> baseline_returns,
                                       double periods_per_year, double risk_free_per_period,
                                       const BootstrapOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(
      CheckInputs(strategy_returns, baseline_returns, periods_per_year, risk_free_per_period));
  VIGIL_RETURN_IF_ERROR(CheckDispersion(strategy_returns, "strategy_returns"));
  VIGIL_RETURN_IF_ERROR(CheckDispersion(baseline_returns, "baseline_returns"));

  const SharpeScale strategy = ScaleOf(strategy_returns, periods_per_year, risk_free_per_period);
  const SharpeScale baseline = ScaleOf(baseline_returns, periods_per_year, risk_free_per_period);
  SharpeComparison c;
  c.sharpe_strategy = Sharpe(strategy);
  c.sharpe_baseline = Sharpe(baseline);
  c.difference = c.sharpe_strategy - c.sharpe_baseline;
  c.periods = static_cast<int64_t>(strategy_returns.size());
  c.block_length = options.mean_block_length;
  if (c.block_length == 0.0) {
    std::vector<double> influence = SharpeInfluence(strategy_returns, strategy);
    const std::vector<double> baseline_influence = SharpeInfluence(baseline_returns, baseline);
    for (size_t t = 0; t < influence.size(); ++t) influence[t] -= baseline_influence[t];
    c.block_length = StationaryBootstrapBlockLength(influence);
  }

  PairedResampler resampler(strategy_returns, baseline_returns, strategy, baseline, c.block_length,
                            options.seed);
  std::vector<double> differences;
  differences.reserve(static_cast<size_t>(options.resamples));
  for (int b = 0; b < options.resamples; ++b) {
    const double difference = resampler.NextDifference();
    if (std::isfinite(difference)) differences.push_back(difference);
  }
  if (differences.size() < static_cast<size_t>(kMinResamples))
    return FailedPrecondition("only " + std::to_string(differences.size()) + " of " +
                              std::to_string(options.resamples) +
                              " resamples have dispersion in both series; need 100");
  Summarise(differences, options.confidence, c);
  return c;
}

Result<SharpeComparison> CompareSharpe(const BacktestResult& strategy,
                                       const BacktestResult& baseline, double initial_capital,
                                       double risk_free_rate_annual,
                                       const BootstrapOptions& options) {
  VIGIL_RETURN_IF_ERROR(CheckSameRun(strategy, baseline));
  if (!std::isfinite(initial_capital) || initial_capital <= 0.0)
    return InvalidArgument("initial_capital: must be finite and > 0");
  if (!std::isfinite(risk_free_rate_annual) || risk_free_rate_annual <= -1.0)
    return InvalidArgument("risk_free_rate_annual: must be finite and > -1");
  const double periods_per_year = strategy.metrics.periods_per_year;
  if (!std::isfinite(periods_per_year) || periods_per_year <= 0.0)
    return InvalidArgument(
        "strategy.metrics.periods_per_year: must be finite and > 0 (RunBacktest sets it)");
  const double risk_free = std::pow(1.0 + risk_free_rate_annual, 1.0 / periods_per_year) - 1.0;
  return CompareSharpe(PeriodReturns(strategy.equity, initial_capital),
                       PeriodReturns(baseline.equity, initial_capital), periods_per_year, risk_free,
                       options);
}

nlohmann::json ToJson(const SharpeComparison& c) {
  return {{"sharpe_strategy", JsonFinite(c.sharpe_strategy)},
          {"sharpe_baseline", JsonFinite(c.sharpe_baseline)},
          {"difference", JsonFinite(c.difference)},
          {"lower", JsonFinite(c.lower)},
          {"upper", JsonFinite(c.upper)},
          {"confidence", JsonFinite(c.confidence)},
          {"p_value", JsonFinite(c.p_value)},
          {"standard_error", JsonFinite(c.standard_error)},
          {"block_length", JsonFinite(c.block_length)},
          {"resamples", c.resamples},
          {"periods", c.periods}};
}

}  // namespace vigil
