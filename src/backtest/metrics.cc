#include "vigil/backtest/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDaysPerYear = 365.25;

Status CheckInput(const PerformanceInput& input) {
  if (!(input.initial_capital > 0.0) || !std::isfinite(input.initial_capital))
    return InvalidArgument("initial_capital: must be a finite number > 0");
  const size_t n = input.times.size();
  if (n < 2) return InvalidArgument("times: need at least 2 marks");
  if (input.equity.size() != n || input.exposure.size() != n)
    return InvalidArgument("equity, exposure: must have one value per mark");
  for (size_t t = 0; t < n; ++t) {
    if (t > 0 && input.times[t] <= input.times[t - 1])
      return InvalidArgument("times: not strictly increasing at mark " + std::to_string(t));
    if (!std::isfinite(input.equity[t]))
      return InvalidArgument("equity: not finite at mark " + std::to_string(t));
    if (!std::isfinite(input.exposure[t]))
      return InvalidArgument("exposure: not finite at mark " + std::to_string(t));
  }
  if (!std::isfinite(input.risk_free_rate) || input.risk_free_rate <= -1.0)
    return InvalidArgument("risk_free_rate: must be a finite annual rate > -1");
  return Status::Ok();
}

int64_t MedianSpacing(const std::vector<Timestamp>& times) {
  // Bars of one timeframe, the usual case, need no selection.
  const int64_t first = times[1].nanos() - times[0].nanos();
  bool regular = true;
  for (size_t t = 2; t < times.size() && regular; ++t)
    regular = times[t].nanos() - times[t - 1].nanos() == first;
  if (regular) return first;
  std::vector<int64_t> steps(times.size() - 1);
  for (size_t t = 1; t < times.size(); ++t) steps[t - 1] = times[t].nanos() - times[t - 1].nanos();
  std::nth_element(steps.begin(), steps.begin() + steps.size() / 2, steps.end());
  return steps[steps.size() / 2];
}

// The simple return of mark t (the first from the initial capital), computed where it is
// used: two passes over a million marks cost less than storing them.
double SimpleReturn(const PerformanceInput& input, size_t t) {
  return input.equity[t] / (t == 0 ? input.initial_capital : input.equity[t - 1]) - 1.0;
}

double Mean(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

// x / y, NaN when y is zero (a ratio over no dispersion says nothing).
double Ratio(double x, double y) { return y > 0.0 ? x / y : kNaN; }

void SetReturnStatistics(const PerformanceInput& input, PerformanceMetrics& m) {
  const size_t n = input.equity.size();
  const double periods = static_cast<double>(n);
  const double final_equity = input.equity.back();
  m.total_return = final_equity / input.initial_capital - 1.0;
  m.cagr = final_equity > 0.0
               ? std::pow(final_equity / input.initial_capital, m.periods_per_year / periods) - 1.0
               : -1.0;
  const double risk_free = std::pow(1.0 + input.risk_free_rate, 1.0 / m.periods_per_year) - 1.0;
  double return_sum = 0.0, excess_sum = 0.0, downside_squares = 0.0;
  for (size_t t = 0; t < n; ++t) {
    const double r = SimpleReturn(input, t);
    return_sum += r;
    const double excess = r - risk_free;
    excess_sum += excess;
    const double below = std::min(excess, 0.0);
    downside_squares += below * below;
  }
  const double mean_return = return_sum / periods;
  double squares = 0.0;  // around the mean: the two-pass sample deviation
  for (size_t t = 0; t < n; ++t) {
    const double d = SimpleReturn(input, t) - mean_return;
    squares += d * d;
  }
  const double deviation = std::sqrt(squares / (periods - 1.0));
  const double annual = std::sqrt(m.periods_per_year);
  const double mean_excess = excess_sum / periods;
  m.volatility = deviation * annual;
  m.sharpe = Ratio(mean_excess, deviation) * annual;
  m.sortino = Ratio(mean_excess, std::sqrt(downside_squares / periods)) * annual;
}

void SetDrawdown(const PerformanceInput& input, int64_t spacing, PerformanceMetrics& m) {
  double peak = input.initial_capital;
  int64_t peak_time = input.times.front().nanos() - spacing;
  bool underwater = false;
  m.max_drawdown = 0.0;
  m.max_drawdown_duration_ns = 0;
  for (size_t t = 0; t < input.equity.size(); ++t) {
    const int64_t now = input.times[t].nanos();
    if (input.equity[t] >= peak) {
      // A drawdown that ends here lasted from its peak until now.
      if (underwater)
        m.max_drawdown_duration_ns = std::max(m.max_drawdown_duration_ns, now - peak_time);
      underwater = false;
      peak = input.equity[t];
      peak_time = now;
      continue;
    }
    underwater = true;
    m.max_drawdown_duration_ns = std::max(m.max_drawdown_duration_ns, now - peak_time);
    m.max_drawdown = std::min(m.max_drawdown, input.equity[t] / peak - 1.0);
  }
  m.calmar = m.max_drawdown < 0.0 ? m.cagr / -m.max_drawdown : kNaN;
}

void SetTradeStatistics(const PerformanceInput& input, PerformanceMetrics& m) {
  m.trades = static_cast<int64_t>(input.trades.size());
  double gains = 0.0, losses = 0.0, returns = 0.0;
  int64_t wins = 0;
  for (const ClosedTrade& trade : input.trades) {
    if (trade.pnl > 0.0) {
      gains += trade.pnl;
      ++wins;
    } else {
      losses -= trade.pnl;
    }
    returns += trade.return_fraction;
  }
  const double count = static_cast<double>(m.trades);
  m.win_rate = m.trades > 0 ? static_cast<double>(wins) / count : kNaN;
  m.average_trade = m.trades > 0 ? returns / count : kNaN;
  if (losses > 0.0) {
    m.profit_factor = gains / losses;
  } else {
    m.profit_factor = gains > 0.0 ? std::numeric_limits<double>::infinity() : kNaN;
  }
}

}  // namespace

Result<PerformanceMetrics> ComputePerformance(const PerformanceInput& input) {
  VIGIL_RETURN_IF_ERROR(CheckInput(input));
  PerformanceMetrics m;
  const int64_t spacing = MedianSpacing(input.times);
  m.periods_per_year =
      kDaysPerYear * static_cast<double>(kNanosPerDay) / static_cast<double>(spacing);
  SetReturnStatistics(input, m);
  SetDrawdown(input, spacing, m);
  SetTradeStatistics(input, m);
  const double marks = static_cast<double>(input.times.size());
  m.exposure = static_cast<double>(std::count_if(input.exposure.begin(), input.exposure.end(),
                                                 [](double e) { return e != 0.0; })) /
               marks;
  m.turnover = input.traded_notional / Mean(input.equity);
  m.fees_paid = input.fees_paid;
  m.slippage_paid = input.slippage_paid;
  return m;
}

nlohmann::ordered_json JsonFinite(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json MetricsJson(const PerformanceMetrics& m) {
  nlohmann::ordered_json out;
  out["total_return"] = JsonFinite(m.total_return);
  out["cagr"] = JsonFinite(m.cagr);
  out["volatility"] = JsonFinite(m.volatility);
  out["sharpe"] = JsonFinite(m.sharpe);
  out["sortino"] = JsonFinite(m.sortino);
  out["calmar"] = JsonFinite(m.calmar);
  out["max_drawdown"] = JsonFinite(m.max_drawdown);
  out["win_rate"] = JsonFinite(m.win_rate);
  out["profit_factor"] = JsonFinite(m.profit_factor);
  out["trades"] = m.trades;
  out["exposure"] = JsonFinite(m.exposure);
  out["turnover"] = JsonFinite(m.turnover);
  out["fees_paid"] = JsonFinite(m.fees_paid);
  return out;
}

}  // namespace vigil
