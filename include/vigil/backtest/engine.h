// The event-driven backtest engine: bar closes of every instrument replayed strictly in time
// order through a simulated clock, a strategy deciding at each close, and a simulated venue
// filling its orders with fees and slippage.
//
//   vigil::BacktestOptions options;
//   options.fees = {2.0, 5.0};
//   VIGIL_ASSIGN_OR_RETURN(options.slippage, vigil::SlippageModel::Parse("fixed:2"));
//   VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<vigil::Strategy> strategy,
//                          vigil::MakeStrategy("sma_cross", {{"fast", "10"}, {"slow", "30"}}));
//   VIGIL_ASSIGN_OR_RETURN(vigil::BacktestResult result,
//                          vigil::RunBacktest(bars, *strategy, options));
//
// Timing rules (no lookahead):
//   - the strategy is called at each bar's close time (open time + timeframe), seeing bars
//     closed at or before it; closes at the same time are taken in instrument order;
//   - an order decided at time T reaches the venue at T + latency and can fill from the
//     first bar of its instrument that opens at or after that: a market order at that open
//     moved against it by the slippage model (bar volume for the volume models), with the
//     taker fee; limit and stop orders when the bar reaches their price (strategy.h,
//     OrderType), staying until then or until cancelled;
//   - equity (cash + positions at their last close) is marked once per distinct close time,
//     after the fills and before the decisions at that time.
// This engine is long-only and unlevered: a buy the cash cannot pay for and a sell beyond the
// position are rejected (counted in `rejected_orders`) when they would fill; an order left
// unfilled when the data ends is dropped. Deterministic: the same bars, options and strategy give
// the same bits.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vigil/backtest/bar_series.h"
#include "vigil/backtest/costs.h"
#include "vigil/backtest/metrics.h"
#include "vigil/backtest/strategy.h"
#include "vigil/core/status.h"

namespace vigil {

struct BacktestOptions {
  double initial_capital = 10'000.0;  // quote currency, > 0
  FeeSchedule fees;
  SlippageModel slippage;       // default: none (fixed:0)
  int64_t latency_ns = 0;       // decision to venue, >= 0
  double risk_free_rate = 0.0;  // annual, for the Sharpe and Sortino ratios

  Status Validate() const;  // InvalidArgument naming the field
};

struct Fill {
  Timestamp time;  // the open time of the bar it filled in
  size_t instrument = 0;
  OrderSide side = OrderSide::kBuy;
  double quantity = 0.0;         // > 0
  double price = 0.0;            // after slippage
  double reference_price = 0.0;  // before slippage: the open, or the limit or stop price
  double fee = 0.0;
};

// An order as the strategy submitted it, with its decision time.
struct Decision {
  Timestamp time;
  OrderRequest order;
};

struct BacktestResult {
  PerformanceMetrics metrics;
  std::vector<Timestamp> mark_times;  // one per distinct bar close time
  std::vector<double> equity;
  std::vector<double> exposure;  // sum of |position value| / equity at each mark
  std::vector<Fill> fills;
  std::vector<Decision> decisions;
  std::vector<ClosedTrade> trades;
  int64_t events = 0;  // bar closes replayed
  int64_t rejected_orders = 0;
  double final_cash = 0.0;
  std::vector<double> final_positions;  // per instrument
};

// Replays `markets` (each valid, BarSeries::Validate; at least one bar in all) through the
// strategy. InvalidArgument for bad options or bars; DataError when there are fewer than two
// mark times to measure performance on.
Result<BacktestResult> RunBacktest(std::span<const BarSeries> markets, Strategy& strategy,
                                   const BacktestOptions& options);

}  // namespace vigil
