// Is a strategy's Sharpe ratio really better than a baseline's (buy-and-hold, the previous
// model), or is the gap noise? A paired stationary bootstrap of the two return series gives a
// confidence interval, a standard error and a p-value for the difference of Sharpe ratios.
//
//   vigil::BootstrapOptions options;  // 2000 resamples, 95 %, automatic block length
//   VIGIL_ASSIGN_OR_RETURN(vigil::SharpeComparison c,
//                          vigil::CompareSharpe(model_run, buy_hold_run, 10'000.0, 0.0, options));
//   if (c.lower > 0.0) { /* the strategy's Sharpe is higher at the 95 % level */ }
//
// Definitions (x, y the strategy's and the baseline's per-period simple returns, both n long
// and marked at the same times; rf the per-period risk-free rate; P periods per year):
//   Sharpe         mean(r - rf) / sd(r) x sqrt(P), sd the sample deviation (n - 1), as in
//                  metrics.h
//   difference     d = Sharpe(x) - Sharpe(y)
//   resample       the stationary bootstrap (Politis & Romano 1994), paired: blocks of
//                  consecutive periods, read circularly (period n is followed by period 1),
//                  start at uniformly drawn periods and have geometric lengths of mean L,
//                  P(length > k) = (1 - 1/L)^k (to 2^-32); blocks are drawn until n periods are
//                  filled, the last one cut short. The SAME periods are taken from x and from
//                  y, so their correlation is kept. L = 1 is the iid bootstrap.
//   d*_1..d*_B     the difference on each of the B kept resamples. A resample in which a series
//                  has every return equal has no Sharpe ratio and is dropped (only plausible
//                  for a handful of periods); `resamples` counts the kept ones.
//   lower, upper   percentile interval: the (1 - confidence) / 2 and (1 + confidence) / 2
//                  quantiles of d*, linearly interpolated between order statistics
//                  (Hyndman & Fan 1996, definition 7, numpy's default)
//   standard_error the sample deviation (B - 1) of d*
//   p_value        two-sided, for H0: the true difference is 0. The centred bootstrap
//                  distribution d* - d stands for the law of d under H0 (Davison & Hinkley
//                  1997, section 4.4): p = (1 + #{b : |d*_b - d| >= |d|}) / (B + 1), never 0
//   automatic L    (mean_block_length = 0) StationaryBootstrapBlockLength below, applied to the
//                  linearised difference u_t = v_t(x) - v_t(y), where
//                  v_t(r) = (r_t - m) / s - S / (2 s^2) x ((r_t - m)^2 - s^2)
//                  is the influence of period t on the per-period Sharpe S = (m - rf) / s
//                  (m, s the mean and deviation of r): d is, to first order, the mean of u, so
//                  the block length that suits the mean of u suits d, and u carries the
//                  serial dependence of both the returns and their squares (volatility
//                  clustering), which a Sharpe ratio's error depends on.
//
// Deterministic: the same inputs and options give the same bits (the draws come from
// SplitMix64, rng.h, seeded by Rng(seed).Derive("sharpe_difference")). Cost: about
// B (n / L + n / 15) draws and table reads, plus O(B log B); 2000 resamples of 100k periods
// take about 0.5 s at L = 1 (the slowest case the automatic rule gives at that size) on one
// 2.6 GHz core, 0.25 s at L = 10. Memory: O(n + B). Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "vigil/backtest/engine.h"
#include "vigil/core/status.h"

namespace vigil {

struct BootstrapOptions {
  int resamples = 2000;          // B drawn, >= 100
  double confidence = 0.95;      // of the interval, in (0, 1)
  double mean_block_length = 0;  // L in periods, >= 1; 0 = automatic (see above)
  uint64_t seed = 7;             // any value

  // InvalidArgument naming the first bad field; NaN and infinities are refused.
  Status Validate() const;
};

struct SharpeComparison {
  double sharpe_strategy = 0.0;  // annualised, as metrics.h
  double sharpe_baseline = 0.0;
  double difference = 0.0;  // sharpe_strategy - sharpe_baseline
  double lower = 0.0;       // percentile bootstrap interval of the difference
  double upper = 0.0;
  double confidence = 0.0;      // of [lower, upper], from the options
  double p_value = 1.0;         // two-sided, H0: difference = 0
  double standard_error = 0.0;  // bootstrap deviation of the difference
  double block_length = 0.0;    // the mean block length L used
  int resamples = 0;            // B kept
  int64_t periods = 0;          // n
};

// Per-period simple returns of an equity curve, one per mark, as metrics.h measures them:
// returns[0] = equity[0] / initial_capital - 1, returns[t] = equity[t] / equity[t-1] - 1.
// Preconditions: initial_capital and the marks > 0, else some returns are infinite or NaN
// (CompareSharpe refuses them).
std::vector<double> PeriodReturns(std::span<const double> equity, double initial_capital);

// The stationary bootstrap's expected block length for the mean of `series`: the rule of
// Politis & White (2004) with the correction of Patton, Politis & White (2009),
//   L = (G / g)^(2/3) x n^(1/3),  G = sum_{|k|<=M} w(k/M) |k| R(k),  g = sum_{|k|<=M} w(k/M) R(k)
// R(k) the sample autocovariance (divided by n), w the flat-top window (1 on [0, 1/2],
// 2 (1 - t) on [1/2, 1], 0 beyond), M = min(2 m, m_max) where m is the smallest lag m >= 0
// after which the next K = max(5, ceil(sqrt(log10 n))) autocorrelations (those up to m_max)
// are all within +-2 sqrt(log10(n) / n) (Politis 2003), m_max = min(ceil(sqrt n) + K, n - 1).
// L is clamped to [1, ceil(min(3 sqrt(n), n / 3))]; a series without dispersion or shorter
// than 3 gives 1; g <= 0 (a flat-top estimate can be) gives the upper bound, the limit of L
// as g falls to 0. Precondition: finite values.
double StationaryBootstrapBlockLength(std::span<const double> series);

// The comparison of two return series marked at the same times, by the definitions above.
// periods_per_year > 0 and risk_free_per_period > -1, both finite. InvalidArgument naming the
// field for bad options or inputs (different lengths, fewer than 3 periods, more than
// 2^32 - 1, a non-finite value); FailedPrecondition when a series has every return equal (its
// Sharpe ratio is undefined) or fewer than 100 resamples are kept.
Result<SharpeComparison> CompareSharpe(std::span<const double> strategy_returns,
                                       std::span<const double> baseline_returns,
                                       double periods_per_year, double risk_free_per_period,
                                       const BootstrapOptions& options);

// The same from two backtests of the same data: their equity curves through PeriodReturns,
// P = strategy.metrics.periods_per_year (RunBacktest's, from the mark times) and the
// per-period rate (1 + risk_free_rate_annual)^(1/P) - 1, as metrics.h. InvalidArgument
// naming the field when the mark times differ, an equity curve does not have one finite
// value > 0 per mark, initial_capital is not finite and > 0, or risk_free_rate_annual is not
// finite and > -1; then as above.
Result<SharpeComparison> CompareSharpe(const BacktestResult& strategy,
                                       const BacktestResult& baseline, double initial_capital,
                                       double risk_free_rate_annual,
                                       const BootstrapOptions& options);

// Every field under its name; NaN and infinities (JSON has none) become null.
nlohmann::json ToJson(const SharpeComparison& comparison);

}  // namespace vigil
