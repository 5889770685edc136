// The risk labels: liquidation, crash, protocol_risk and opportunity (definitions in
// vigil/pipeline/labels.h and docs/labels.md). Each reads rows i..end of its horizon
// (crash also the vol_window rows up to i), never a row after end.
#include <algorithm>
#include <cmath>

#include "labels_internal.h"

namespace vigil::labels_internal {
namespace {

// Sample standard deviation (n - 1 denominator), two-pass for accuracy; n >= 2.
double SampleStdDev(std::span<const double> values) {
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

// log(series[k] / series[k - 1]) for k >= 1 (NaN at 0 and where either value is unusable).
std::vector<double> OneRowLogChanges(std::span<const double> series) {
  std::vector<double> changes(series.size(), kNaN);
  for (size_t k = 1; k < series.size(); ++k) {
    if (Usable(series[k]) && Usable(series[k - 1])) {
      changes[k] = std::log(series[k] / series[k - 1]);
    }
  }
  return changes;
}

bool AnyNaN(std::span<const double> values) {
  return std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
}

// Liquidation price of a position opened at `entry`: where its margin 1/L has fallen to
// the maintenance margin m.
double LiquidationPrice(const LabelOptions& options, double entry) {
  const double inverse_leverage = 1 / options.leverage;
  return options.side == PositionSide::kLong
             ? entry * (1 - inverse_leverage + options.maintenance_margin)
             : entry * (1 + inverse_leverage - options.maintenance_margin);
}

}  // namespace

void ComputeLiquidationLabels(const LabelOptions& options, const LabelInputs& inputs,
                              const Horizon& horizon, Labels* labels) {
  const size_t n = inputs.ts.size();
  const bool is_long = options.side == PositionSide::kLong;
  // The side's adverse extreme of each later bar: lows hurt longs, highs hurt shorts.
  const std::span<const double> adverse = is_long ? inputs.low : inputs.high;
  labels->liquidation_price.assign(n, kNaN);
  labels->time_to_event_ns.assign(n, kNaN);
  for (size_t row = 0; row < n; ++row) {
    if (Usable(inputs.close[row])) {
      labels->liquidation_price[row] = LiquidationPrice(options, inputs.close[row]);
    }
    const int64_t end = horizon.end_row[row];
    const double liquidation_price = labels->liquidation_price[row];
    if (end < 0 || std::isnan(liquidation_price)) continue;
    // Walk forward to the first crossing; an unusable bar before it leaves the label
    // undecided (NaN), bars after it are never read.
    double value = 0;
    for (int64_t later = static_cast<int64_t>(row) + 1; later <= end; ++later) {
      const double extreme = adverse[later];
      if (!Usable(extreme)) {
        value = kNaN;
        break;
      }
      if (is_long ? extreme <= liquidation_price : extreme >= liquidation_price) {
        value = 1;
        labels->time_to_event_ns[row] = static_cast<double>(inputs.ts[later] - inputs.ts[row]);
        break;
      }
    }
    labels->values[row] = value;
  }
}

void ComputeCrashLabels(const LabelOptions& options, const LabelInputs& inputs,
                        const Horizon& horizon, Labels* labels) {
  const size_t n = inputs.ts.size();
  const std::vector<double> returns = OneRowLogChanges(inputs.close);
  std::vector<double> forward_return(n, kNaN);
  std::vector<double> threshold(n, kNaN);
  const size_t window = static_cast<size_t>(options.vol_window);
  for (size_t row = window; row < n; ++row) {
    const int64_t end = horizon.end_row[row];
    if (end < 0 || !Usable(inputs.close[end])) continue;
    // The vol_window returns ending at this row: rows row - window .. row, all in the past.
    const std::span<const double> trailing(returns.data() + row + 1 - window, window);
    if (AnyNaN(trailing)) continue;
    const double sigma = SampleStdDev(trailing);
    forward_return[row] = std::log(inputs.close[end] / inputs.close[row]);
    // Volatility scales with the square root of the number of one-row returns ahead.
    threshold[row] = -options.crash_k * sigma * std::sqrt(static_cast<double>(end - row));
    labels->values[row] = forward_return[row] < threshold[row] ? 1.0 : 0.0;
  }
  labels->details.push_back({"forward_return", std::move(forward_return)});
  labels->details.push_back({"threshold", std::move(threshold)});
}

void ComputeProtocolRiskLabels(const LabelOptions& options, const LabelInputs& inputs,
                               const Horizon& horizon, Labels* labels) {
  const size_t n = inputs.ts.size();
  const std::vector<double> changes = OneRowLogChanges(inputs.tvl);
  std::vector<double> drawdown(n, kNaN);
  std::vector<double> volatility(n, kNaN);
  for (size_t row = 0; row < n; ++row) {
    const int64_t end = horizon.end_row[row];
    // A sample standard deviation needs two changes, so at least two rows after this one.
    if (end < static_cast<int64_t>(row) + 2 || !Usable(inputs.tvl[row])) continue;
    const std::span<const double> path_changes(changes.data() + row + 1, end - row);
    if (AnyNaN(path_changes)) continue;  // some TVL in (row, end] is unusable
    const double lowest =
        *std::min_element(inputs.tvl.begin() + row + 1, inputs.tvl.begin() + end + 1);
    drawdown[row] = 1 - lowest / inputs.tvl[row];
    volatility[row] = SampleStdDev(path_changes);
    if (drawdown[row] >= options.drawdown_high || volatility[row] >= options.volatility_high) {
      labels->values[row] = 2;
    } else if (drawdown[row] >= options.drawdown_medium ||
               volatility[row] >= options.volatility_medium) {
      labels->values[row] = 1;
    } else {
      labels->values[row] = 0;
    }
  }
  labels->details.push_back({"drawdown", std::move(drawdown)});
  labels->details.push_back({"volatility", std::move(volatility)});
}

void ComputeOpportunityLabels(const LabelOptions& options, const LabelInputs& inputs,
                              const Horizon& horizon, Labels* labels) {
  const size_t n = inputs.ts.size();
  constexpr double kBasisPoints = 1e4;
  // Round trip: both legs pay fees, slippage and gas.
  const double cost_bps = 2 * (options.fee_bps + options.slippage_bps) +
                          2 * options.gas_usd / options.notional_usd * kBasisPoints;
  std::vector<double> spread_bps(n, kNaN);
  for (size_t row = 0; row < n; ++row) {
    const double a = inputs.close[row];
    const double b = inputs.pair_price[row];
    if (Usable(a) && Usable(b)) spread_bps[row] = std::abs(a - b) / std::min(a, b) * kBasisPoints;
  }
  for (size_t row = 0; row < n; ++row) {
    const int64_t end = horizon.end_row[row];
    if (end < 0 || std::isnan(spread_bps[row])) continue;
    const int64_t last = static_cast<int64_t>(row) + options.persist_rows - 1;
    if (last > end) {
      labels->values[row] = 0;  // cannot persist long enough within the horizon
      continue;
    }
    double value = 1;
    for (int64_t later = static_cast<int64_t>(row); later <= last; ++later) {
      if (std::isnan(spread_bps[later])) {
        value = kNaN;
        break;
      }
      if (!(spread_bps[later] > cost_bps)) {
        value = 0;
        break;
      }
    }
    labels->values[row] = value;
  }
  labels->details.push_back({"spread_bps", std::move(spread_bps)});
  labels->details.push_back({"cost_bps", std::vector<double>(n, cost_bps)});
}

}  // namespace vigil::labels_internal
