// Performance of a backtest: returns, risk and trade statistics from its equity curve (one
// mark per bar close) and its closed trades, with the definitions quant researchers use
// (pyfolio / empyrical conventions where they exist). Annualisation counts calendar time:
// crypto trades around the clock, so a year is 365.25 days of bars at the curve's median
// spacing.
//
//   vigil::PerformanceInput input;
//   input.initial_capital = 10'000;
//   input.times = ...; input.equity = ...; input.exposure = ...; input.trades = ...;
//   VIGIL_ASSIGN_OR_RETURN(vigil::PerformanceMetrics m, vigil::ComputePerformance(input));
//
// Definitions (r_t the simple return of equity over bar t; r_1 is measured from the initial
// capital, so n marks give n returns; P = periods per year = 365.25 days / median spacing):
//   total_return   E_n / initial - 1
//   cagr           (E_n / initial)^(P / n) - 1
//   volatility     sample standard deviation of r (n - 1) x sqrt(P)
//   sharpe         mean(r - rf) / sd(r) x sqrt(P), rf the per-period risk-free rate
//   sortino        mean(r - rf) / sqrt(mean(min(r - rf, 0)^2)) x sqrt(P)
//   max_drawdown   min_t E_t / max(initial, E_1..E_t) - 1  (<= 0)
//   calmar         cagr / |max_drawdown|
//   max_drawdown_duration  the longest time from a peak to the first mark back at or above
//                  it (or to the last mark); the initial capital is the peak one period
//                  before the first mark
//   win_rate       closed trades with pnl > 0 / closed trades
//   profit_factor  sum of positive pnl / |sum of negative pnl|
//   average_trade  mean return of the closed trades
//   exposure       the fraction of marks with a position open
//   turnover       traded notional / mean equity (over the whole run)
// A statistic without enough data (one return for a standard deviation, no trades for a win
// rate, no losing trade for a profit factor, zero dispersion for a ratio) is NaN, or +inf
// for a profit factor with gains and no losses.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"

namespace vigil {

// A round trip: a position opened and closed again.
struct ClosedTrade {
  Timestamp entry_time;
  Timestamp exit_time;
  double pnl = 0.0;              // quote currency, after fees and slippage
  double return_fraction = 0.0;  // pnl / the capital committed at entry
};

struct PerformanceInput {
  double initial_capital = 0.0;  // > 0
  std::vector<Timestamp> times;  // strictly increasing, >= 2 marks
  std::vector<double> equity;    // as long as times, finite
  std::vector<double> exposure;  // as long as times: the position's |value| / equity
  std::vector<ClosedTrade> trades;
  double traded_notional = 0.0;  // sum of |price x quantity| over all fills
  double fees_paid = 0.0;
  double slippage_paid = 0.0;   // sum of |fill price - reference price| x quantity
  double risk_free_rate = 0.0;  // annual, simple; converted per period geometrically
};

struct PerformanceMetrics {
  double total_return = 0.0;
  double cagr = 0.0;
  double volatility = 0.0;
  double sharpe = 0.0;
  double sortino = 0.0;
  double calmar = 0.0;
  double max_drawdown = 0.0;
  int64_t max_drawdown_duration_ns = 0;
  double win_rate = 0.0;
  double profit_factor = 0.0;
  double average_trade = 0.0;
  double exposure = 0.0;
  double turnover = 0.0;
  int64_t trades = 0;
  double fees_paid = 0.0;
  double slippage_paid = 0.0;
  double periods_per_year = 0.0;
};

// InvalidArgument naming the field when the input breaks the preconditions above.
Result<PerformanceMetrics> ComputePerformance(const PerformanceInput& input);

// A number for JSON: NaN and infinities (which JSON cannot hold) become null.
nlohmann::ordered_json JsonFinite(double value);

// The metrics of `vigil backtest --json`, in its order: total_return, cagr, volatility,
// sharpe, sortino, calmar, max_drawdown, win_rate, profit_factor, trades, exposure,
// turnover, fees_paid (the command adds events and events_per_second).
nlohmann::ordered_json MetricsJson(const PerformanceMetrics& metrics);

}  // namespace vigil
