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
// Account: one cash balance in the quote currency and a signed position per instrument;
// equity = cash + sum of positions at their latest close (a perpetual's notional flows through
// cash like a spot trade, which gives the same equity as margin accounting). By default the
// account is long-only and unlevered: a buy the cash cannot pay for and a sell beyond the
// position are rejected (counted in `rejected_orders`) when they would fill. With
// `max_leverage` > 1 or `allow_short` it is a cross-margin account:
//   - a fill is rejected when, after it, the gross position value would exceed max_leverage x
//     equity (kTargetFraction and kAllCash orders are sized within it instead);
//   - a position is liquidated when the price reaches its liquidation price, where equity
//     falls to the maintenance margin (maintenance_margin x gross position value), other
//     positions valued at their latest close; the bar's low (long) or high (short) reaching
//     it closes the whole position there, or at the open when the bar opens beyond it, with
//     the taker fee plus liquidation_fee_bps; its pending orders are cancelled;
//   - funding (perpetuals, `funding`): a payment of position x close x rate at the first bar
//     close at or after each funding time (longs pay a positive rate, shorts receive it);
//   - gas (`gas_per_fill`, by venue): a fixed quote-currency cost per fill of an on-chain leg.
// Fees are per venue (`venue_fees`, the venue being the instrument's "venue:" prefix), else
// `fees`. Risk limits (risk_controls.h) are checked at every mark: a trip cancels pending
// orders and flattens every position with market orders decided then; while the guard is
// paused or halted, fills that add risk are rejected, and every fill is cut to the exposure
// caps. An order left unfilled when the data ends is dropped. Deterministic: the same bars,
// options and strategy give the same bits.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "vigil/backtest/bar_series.h"
#include "vigil/backtest/costs.h"
#include "vigil/backtest/metrics.h"
#include "vigil/backtest/risk_controls.h"
#include "vigil/backtest/strategy.h"
#include "vigil/core/status.h"

namespace vigil {

// A perpetual's funding rates: at each time, longs pay position value x rate to shorts.
struct FundingSeries {
  std::string instrument;       // as in BarSeries::instrument
  std::vector<Timestamp> time;  // strictly increasing
  std::vector<double> rate;     // per funding interval, a fraction (0.0001 = 1 bp); finite
};

struct BacktestOptions {
  double initial_capital = 10'000.0;              // quote currency, > 0
  FeeSchedule fees;                               // every venue not in venue_fees
  std::map<std::string, FeeSchedule> venue_fees;  // by venue ("binance")
  std::map<std::string, double> gas_per_fill;     // by venue: quote currency per fill, >= 0
  SlippageModel slippage;                         // default: none (fixed:0)
  int64_t latency_ns = 0;                         // decision to venue, >= 0
  double risk_free_rate = 0.0;                    // annual, for the Sharpe and Sortino ratios
  double max_leverage = 1.0;  // gross position value / equity after a fill, >= 1
  bool allow_short = false;
  double maintenance_margin = 0.005;   // of gross position value, in [0, 1)
  double liquidation_fee_bps = 50.0;   // on top of the taker fee, >= 0
  std::vector<FundingSeries> funding;  // each for one replayed instrument
  RiskLimits risk;

  bool margin_account() const { return max_leverage > 1.0 || allow_short; }
  Status Validate() const;  // InvalidArgument naming the field
};

struct Fill {
  Timestamp time;  // the open time of the bar it filled in
  size_t instrument = 0;
  OrderSide side = OrderSide::kBuy;
  double quantity = 0.0;         // > 0
  double price = 0.0;            // after slippage
  double reference_price = 0.0;  // before slippage: the open, or the limit or stop price
  double fee = 0.0;              // liquidation penalty included
  double gas = 0.0;
  bool liquidation = false;  // a forced close at the liquidation price
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
  int64_t liquidations = 0;
  int64_t risk_trips = 0;             // times a risk limit flattened the account
  std::string risk_state = "normal";  // at the end (risk_controls.h, RiskStateName)
  std::string risk_reason;            // the last trip's reason
  double funding_paid = 0.0;          // net, positive when the account paid
  double gas_paid = 0.0;
  double final_cash = 0.0;
  std::vector<double> final_positions;  // per instrument
};

// Replays `markets` (each valid, BarSeries::Validate; at least one bar in all) through the
// strategy. InvalidArgument for bad options or bars (or funding for an instrument not
// replayed); DataError when there are fewer than two mark times to measure performance on.
Result<BacktestResult> RunBacktest(std::span<const BarSeries> markets, Strategy& strategy,
                                   const BacktestOptions& options);

}  // namespace vigil
