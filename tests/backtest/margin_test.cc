// The margin account of the backtest engine (engine.h): shorts, leverage limits, forced
// liquidation at the liquidation price, funding, per-venue fees, gas and the risk limits, each
// on hand-made bars with the expected numbers worked out in the comments.
#include <gtest/gtest.h>

#include <vector>

#include "scripted.h"
#include "vigil/backtest/engine.h"

namespace vigil {
namespace {

using backtest_test::Bars;
using backtest_test::Ohlc;
using backtest_test::ScriptedStrategy;

BacktestOptions Frictionless(double capital = 1000.0) {
  BacktestOptions options;
  options.initial_capital = capital;
  options.fees = {0.0, 0.0};
  return options;
}

// Runs `bars` with a strategy that submits `order` at the close of bar `at` (0-based).
Result<BacktestResult> RunWith(const std::vector<BarSeries>& bars, const BacktestOptions& options,
                               ScriptedStrategy::Script script) {
  ScriptedStrategy strategy(std::move(script));
  return RunBacktest(bars, strategy, options);
}

ScriptedStrategy::Script SubmitAt(size_t at, OrderRequest order) {
  return [at, order](StrategyContext& context, size_t, size_t closed) {
    if (closed == at + 1) context.Submit(order);
  };
}

TEST(MarginTest, LeveragedLongIsLiquidatedAtItsLiquidationPrice) {
  BacktestOptions options = Frictionless();
  options.max_leverage = 10.0;
  options.maintenance_margin = 0.005;
  options.liquidation_fee_bps = 50.0;
  const BarSeries bars =
      Bars({{100, 100, 100, 100}, {100, 101, 99, 100}, {95, 96, 90, 91}, {91, 92, 90, 91}});
  Result<BacktestResult> run =
      RunWith({bars}, options, SubmitAt(0, OrderRequest::TargetFraction(0, 10.0)));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // 10 x 1000 at 100 buys 100 units with 9000 borrowed. Equity -9000 + 100 P meets the
  // maintenance margin 0.005 x 100 P at P = 9000 / 99.5 = 90.4523; bar 2's low reaches it.
  ASSERT_EQ(run->fills.size(), 2u);
  EXPECT_DOUBLE_EQ(run->fills[0].quantity, 100.0);
  const Fill& liquidation = run->fills[1];
  EXPECT_TRUE(liquidation.liquidation);
  EXPECT_EQ(liquidation.side, OrderSide::kSell);
  EXPECT_NEAR(liquidation.price, 9000.0 / 99.5, 1e-9);
  EXPECT_NEAR(liquidation.fee, 9000.0 / 99.5 * 100 * 0.005, 1e-9);
  EXPECT_EQ(run->liquidations, 1);
  // The liquidation fee equals the maintenance margin here, so nothing is left.
  EXPECT_NEAR(run->equity[2], 0.0, 1e-9);
  EXPECT_EQ(run->final_positions[0], 0.0);
  ASSERT_EQ(run->trades.size(), 1u);
  EXPECT_NEAR(run->trades[0].pnl, -1000.0, 1e-9);
}

TEST(MarginTest, ShortIsLiquidatedAtTheOpenWhenTheBarGapsThroughItsPrice) {
  BacktestOptions options = Frictionless();
  options.allow_short = true;
  options.max_leverage = 5.0;
  options.maintenance_margin = 0.01;
  options.liquidation_fee_bps = 50.0;
  const BarSeries bars = Bars({{100, 100, 100, 100}, {100, 101, 99, 100}, {125, 126, 124, 125}});
  Result<BacktestResult> run =
      RunWith({bars}, options, SubmitAt(0, OrderRequest::TargetFraction(0, -5.0)));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // Short 50 at 100: cash 6000. Liquidation price 6000 / (50 x 1.01) = 118.81, but bar 2
  // opens at 125, beyond it: the position is closed at the open.
  ASSERT_EQ(run->fills.size(), 2u);
  EXPECT_DOUBLE_EQ(run->fills[0].quantity, 50.0);
  EXPECT_EQ(run->fills[0].side, OrderSide::kSell);
  EXPECT_TRUE(run->fills[1].liquidation);
  EXPECT_DOUBLE_EQ(run->fills[1].price, 125.0);
  EXPECT_NEAR(run->equity.back(), 6000.0 - 50 * 125.0 - 50 * 125.0 * 0.005, 1e-9);
}

TEST(MarginTest, LeverageAndShortingAreLimited) {
  const BarSeries bars = Bars({{100, 100, 100, 100}, {100, 100, 100, 100}, {100, 100, 100, 100}});
  BacktestOptions options = Frictionless();
  options.max_leverage = 2.0;
  Result<BacktestResult> run = RunWith({bars}, options, [](StrategyContext& c, size_t, size_t n) {
    if (n == 1) c.Submit(OrderRequest::TargetFraction(0, 3.0));  // beyond 2x: refused now
    if (n == 1) c.Submit(OrderRequest::TargetFraction(0, 2.0));
    if (n == 2) c.Submit({0, OrderSide::kBuy, OrderSizing::kQuantity, 5.0});  // 25 x 100 > 2000
  });
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_DOUBLE_EQ(run->final_positions[0], 20.0);
  EXPECT_EQ(run->rejected_orders, 2);

  BacktestOptions long_only = Frictionless();
  run = RunWith({bars}, long_only, [](StrategyContext& c, size_t, size_t n) {
    if (n == 1) c.Submit(OrderRequest::TargetFraction(0, -1.0));               // no shorts
    if (n == 1) c.Submit({0, OrderSide::kSell, OrderSizing::kQuantity, 1.0});  // nothing held
  });
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->rejected_orders, 2);
  EXPECT_TRUE(run->fills.empty());
}

TEST(MarginTest, AFlipClosesOneRoundTripAndOpensAnother) {
  BacktestOptions options = Frictionless();
  options.allow_short = true;
  const BarSeries bars = Bars(
      {{100, 100, 100, 100}, {100, 110, 100, 110}, {110, 110, 105, 105}, {100, 100, 100, 100}});
  Result<BacktestResult> run = RunWith({bars}, options, [](StrategyContext& c, size_t, size_t n) {
    if (n == 1) c.Submit(OrderRequest::TargetFraction(0, 1.0));
    if (n == 2) c.Submit(OrderRequest::TargetFraction(0, -1.0));
    if (n == 3) c.Submit(OrderRequest::ClosePosition(0));
  });
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // Long 10 at 100, sold at 110 (+100); equity 1100 goes short 10 at 110, bought back at 100.
  ASSERT_EQ(run->fills.size(), 3u);
  EXPECT_DOUBLE_EQ(run->fills[1].quantity, 20.0);
  ASSERT_EQ(run->trades.size(), 2u);
  EXPECT_NEAR(run->trades[0].pnl, 100.0, 1e-9);
  EXPECT_NEAR(run->trades[0].return_fraction, 0.1, 1e-12);
  EXPECT_NEAR(run->trades[1].pnl, 100.0, 1e-9);
  EXPECT_NEAR(run->final_cash, 1200.0, 1e-9);
}

TEST(FundingTest, LongsPayAndShortsReceiveAtTheFirstCloseAtOrAfterEachFundingTime) {
  const BarSeries bars = Bars({{100, 100, 100, 100},
                               {100, 100, 100, 100},
                               {100, 110, 100, 110},
                               {110, 120, 110, 120},
                               {120, 120, 120, 120}});
  FundingSeries funding{"sim:A",
                        {Timestamp(kNanosPerHour / 2), Timestamp(2 * kNanosPerHour),
                         Timestamp(5 * kNanosPerHour / 2)},
                        {0.5, 0.001, 0.002}};
  for (double side : {1.0, -1.0}) {
    BacktestOptions options = Frictionless(10'000.0);
    options.allow_short = true;
    options.funding = {funding};
    Result<BacktestResult> run = RunWith(
        {bars}, options,
        SubmitAt(0,
                 {0, side > 0 ? OrderSide::kBuy : OrderSide::kSell, OrderSizing::kQuantity, 10.0}));
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    // Before the fill (0:30) nothing is held; 2:00 settles at bar 1's close (100): 10 x 100 x
    // 0.001 = 1; 2:30 settles at bar 2's close, 3:00 (110): 10 x 110 x 0.002 = 2.2.
    EXPECT_NEAR(run->funding_paid, side * 3.2, 1e-12);
    EXPECT_NEAR(run->equity.back(), 10'000.0 + side * (10 * 20.0 - 3.2), 1e-9);
  }
}

TEST(VenueCostsTest, FeesAreChargedByVenueAndGasPerOnChainFill) {
  const std::vector<Ohlc> rows = {{100, 100, 100, 100}, {100, 100, 100, 100}};
  BacktestOptions options = Frictionless(10'000.0);
  options.fees = {0.0, 10.0};
  options.venue_fees["dex"] = {0.0, 30.0};
  options.gas_per_fill["dex"] = 5.0;
  Result<BacktestResult> run =
      RunWith({Bars(rows, "dex:A"), Bars(rows, "cex:A")}, options,
              [](StrategyContext& c, size_t instrument, size_t n) {
                if (n == 1) c.Submit({instrument, OrderSide::kBuy, OrderSizing::kQuantity, 1.0});
              });
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->fills.size(), 2u);
  EXPECT_DOUBLE_EQ(run->fills[0].fee, 0.3);
  EXPECT_DOUBLE_EQ(run->fills[0].gas, 5.0);
  EXPECT_DOUBLE_EQ(run->fills[1].fee, 0.1);
  EXPECT_DOUBLE_EQ(run->fills[1].gas, 0.0);
  EXPECT_DOUBLE_EQ(run->gas_paid, 5.0);
  EXPECT_NEAR(run->final_cash, 10'000.0 - 200.0 - 0.4 - 5.0, 1e-9);
}

TEST(RiskLimitTest, TheDrawdownCircuitBreakerFlattensAndBlocksNewPositions) {
  BacktestOptions options = Frictionless(10'000.0);
  options.risk.max_drawdown = 0.10;
  const BarSeries bars = Bars({{100, 100, 100, 100},
                               {100, 100, 100, 100},
                               {100, 100, 88, 88},
                               {90, 90, 90, 90},
                               {95, 95, 95, 95},
                               {100, 100, 100, 100}});
  Result<BacktestResult> run = RunWith({bars}, options, [](StrategyContext& c, size_t, size_t n) {
    if ((n == 1 || n == 4) && c.position(0) == 0.0 && !c.has_pending(0))
      c.Submit(OrderRequest::BuyWithAllCash(0));
  });
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // 100 units at 100; the close at 88 is a 12 % drawdown: flattened at the next open (90).
  ASSERT_EQ(run->fills.size(), 2u);
  EXPECT_DOUBLE_EQ(run->fills[1].price, 90.0);
  EXPECT_EQ(run->risk_state, "halted");
  EXPECT_EQ(run->risk_trips, 1);
  EXPECT_EQ(run->rejected_orders, 1);  // the re-entry after the halt
  EXPECT_NEAR(run->equity.back(), 9000.0, 1e-9);
}

TEST(RiskLimitTest, TheDailyLossLimitPausesTradingUntilTheNextUtcDay) {
  BacktestOptions options = Frictionless(10'000.0);
  options.risk.daily_loss_limit = 0.05;
  std::vector<Ohlc> rows(30, Ohlc{94, 94, 94, 94});
  for (size_t i = 0; i < 3; ++i) rows[i] = {100, 100, 100, 100};
  rows[3] = {100, 100, 94, 94};
  Result<BacktestResult> run =
      RunWith({Bars(rows)}, options, [](StrategyContext& c, size_t, size_t n) {
        // Bar n - 1 closes at n hours: 1:00 (buy), 6:00 (paused), 24:00 (a new UTC day).
        if ((n == 1 || n == 6 || n == 24) && c.position(0) == 0.0 && !c.has_pending(0))
          c.Submit(OrderRequest::BuyWithAllCash(0));
      });
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // The 6 % loss at 4:00 pauses and flattens at 4:00's open; the buy decided at 6:00 is
  // refused; the one decided at 24:00, on a new day, fills at 24:00's open.
  ASSERT_EQ(run->fills.size(), 3u);
  EXPECT_EQ(run->fills[1].side, OrderSide::kSell);
  EXPECT_EQ(run->fills[1].time, Timestamp(4 * kNanosPerHour));
  EXPECT_EQ(run->rejected_orders, 1);
  EXPECT_EQ(run->fills[2].time, Timestamp(24 * kNanosPerHour));
  EXPECT_EQ(run->risk_state, "normal");
  EXPECT_EQ(run->risk_trips, 1);
}

TEST(RiskLimitTest, ExposureCapsCutAnOrderToTheLimit) {
  BacktestOptions options = Frictionless(10'000.0);
  options.risk.max_position_fraction = 0.5;
  const BarSeries bars = Bars({{100, 100, 100, 100}, {100, 100, 100, 100}});
  Result<BacktestResult> run =
      RunWith({bars}, options, SubmitAt(0, OrderRequest::TargetFraction(0, 1.0)));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_NEAR(run->final_positions[0], 50.0, 1e-9);
}

TEST(MarginTest, OptionsAreValidatedByField) {
  BacktestOptions options;
  options.max_leverage = 250.0;
  options.maintenance_margin = 0.005;  // 1 / 250 = 0.004 initial margin: liquidatable at once
  EXPECT_NE(options.Validate().message().find("maintenance_margin"), std::string::npos);
  options = BacktestOptions();
  options.gas_per_fill["dex"] = -1.0;
  EXPECT_NE(options.Validate().message().find("gas_per_fill.dex"), std::string::npos);
  options = BacktestOptions();
  options.funding = {{"sim:B", {Timestamp(0)}, {0.001}}};
  const BarSeries bars = Bars({{100, 100, 100, 100}, {100, 100, 100, 100}});
  ScriptedStrategy idle([](StrategyContext&, size_t, size_t) {});
  Result<BacktestResult> run = RunBacktest(std::vector<BarSeries>{bars}, idle, options);
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("funding"), std::string::npos);
  EXPECT_NE(run.status().message().find("sim:B"), std::string::npos);
}

}  // namespace
}  // namespace vigil
