// Limit and stop orders on the simulated venue (engine.cc, strategy.h OrderType): where each
// fills on hand-made bars, with which fee, and how long it waits; cancellation.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "scripted.h"
#include "vigil/backtest/engine.h"

namespace vigil {
namespace {

using backtest_test::Bars;
using backtest_test::Ohlc;

BacktestOptions Options() {
  BacktestOptions options;
  options.fees = {-1.0, 10.0};  // maker rebate 1 bp, taker 10 bps
  options.slippage = {SlippageKind::kFixed, 20.0};
  return options;
}

BacktestResult RunScript(const BarSeries& bars, std::function<void(StrategyContext&, size_t)> act) {
  backtest_test::ScriptedStrategy strategy(
      [&act](StrategyContext& context, size_t, size_t closed) { act(context, closed); });
  Result<BacktestResult> result = RunBacktest(std::vector<BarSeries>{bars}, strategy, Options());
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return std::move(*result);
}

const OrderRequest kBuyTen{0, OrderSide::kBuy, OrderSizing::kQuantity, 10.0};

TEST(LimitOrderTest, RestingBuyFillsAtItsPriceAsMakerWhenTheLowReachesIt) {
  const BarSeries bars =
      Bars({{100, 101, 99, 100}, {100, 101, 98.5, 99}, {99, 100, 97, 98}, {98, 99, 97, 98}});
  const BacktestResult result = RunScript(bars, [](StrategyContext& c, size_t closed) {
    if (closed == 1) c.Submit(kBuyTen.AtLimit(97.5));
  });
  ASSERT_EQ(result.fills.size(), 1u);
  const Fill& fill = result.fills[0];
  EXPECT_EQ(fill.time, bars.open_time[2]);  // bar 1's low 98.5 does not reach 97.5; bar 2's 97 does
  EXPECT_DOUBLE_EQ(fill.price, 97.5);       // no slippage for a resting order
  EXPECT_DOUBLE_EQ(fill.fee, -975.0 * 1e-4);  // the maker rebate
}

TEST(LimitOrderTest, MarketableBuyFillsAtTheOpenWithSlippageCappedAtTheLimit) {
  const BarSeries bars = Bars({{100, 101, 99, 100}, {99.9, 101, 99, 100}, {100, 101, 99, 100}});
  const BacktestResult result = RunScript(bars, [](StrategyContext& c, size_t closed) {
    if (closed == 1) c.Submit(kBuyTen.AtLimit(100.0));
  });
  ASSERT_EQ(result.fills.size(), 1u);
  EXPECT_EQ(result.fills[0].time, bars.open_time[1]);
  // 99.9 x 1.002 = 100.0998 would pass the limit: capped at 100.
  EXPECT_DOUBLE_EQ(result.fills[0].price, 100.0);
  EXPECT_DOUBLE_EQ(result.fills[0].fee, 1000.0 * 10e-4);  // taker
}

TEST(LimitOrderTest, SellLimitAndUnreachedOrdersWait) {
  const BarSeries bars =
      Bars({{100, 101, 99, 100}, {100, 101, 99, 100}, {100, 102, 99, 101}, {101, 103, 100, 102}});
  const BacktestResult result = RunScript(bars, [](StrategyContext& c, size_t closed) {
    if (closed == 1) c.Submit(kBuyTen);  // market: fills at bar 1's open
    if (closed == 2) c.Submit(OrderRequest::ClosePosition(0).AtLimit(102.5));
  });
  ASSERT_EQ(result.fills.size(), 2u);
  EXPECT_EQ(result.fills[1].time, bars.open_time[3]);  // bar 2 is before arrival; bar 3's high 103
  EXPECT_DOUBLE_EQ(result.fills[1].price, 102.5);
  EXPECT_EQ(result.final_positions[0], 0.0);
}

TEST(StopOrderTest, BuyStopTriggersIntrabarOrOnAGap) {
  const BarSeries bars =
      Bars({{100, 101, 99, 100}, {100, 101, 99, 100}, {100, 103, 99, 102}, {105, 106, 104, 105}});
  const BacktestResult result = RunScript(bars, [](StrategyContext& c, size_t closed) {
    if (closed == 1) c.Submit(kBuyTen.OnStop(102.0));  // reached inside bar 2
    if (closed == 2) c.Submit(kBuyTen.OnStop(104.0));  // bar 3 gaps over it: the open
  });
  ASSERT_EQ(result.fills.size(), 2u);
  EXPECT_EQ(result.fills[0].time, bars.open_time[2]);
  EXPECT_DOUBLE_EQ(result.fills[0].price, 102.0 * 1.002);  // the stop, then slippage
  EXPECT_EQ(result.fills[1].time, bars.open_time[3]);
  EXPECT_DOUBLE_EQ(result.fills[1].price, 105.0 * 1.002);
}

TEST(StopOrderTest, SellStopLimitsTheLoss) {
  const BarSeries bars =
      Bars({{100, 101, 99, 100}, {100, 101, 99, 100}, {100, 100, 94, 95}, {95, 96, 90, 91}});
  const BacktestResult result = RunScript(bars, [](StrategyContext& c, size_t closed) {
    if (closed == 1) {
      c.Submit(kBuyTen);
      c.Submit(OrderRequest::ClosePosition(0).OnStop(95.0));
    }
  });
  ASSERT_EQ(result.fills.size(), 2u);
  EXPECT_EQ(result.fills[1].time, bars.open_time[2]);
  EXPECT_DOUBLE_EQ(result.fills[1].price, 95.0 * 0.998);
  ASSERT_EQ(result.trades.size(), 1u);
  EXPECT_LT(result.trades[0].pnl, 0.0);
}

TEST(OrderTest, CancelledOrdersNeverFillAndBadPricesAreRejected) {
  const BarSeries bars = Bars({{100, 101, 99, 100}, {100, 101, 99, 100}, {100, 101, 90, 95}});
  const BacktestResult result = RunScript(bars, [](StrategyContext& c, size_t closed) {
    if (closed == 1) {
      c.Submit(kBuyTen.AtLimit(91.0));  // would fill in bar 2
      c.Submit(kBuyTen.AtLimit(0.0));   // rejected: no price
      c.Submit(kBuyTen.OnStop(-1.0));   // rejected
    }
    if (closed == 2) {
      EXPECT_TRUE(c.has_pending(0));
      c.CancelPending(0);
      EXPECT_FALSE(c.has_pending(0));
    }
  });
  EXPECT_TRUE(result.fills.empty());
  EXPECT_EQ(result.rejected_orders, 2);
}

}  // namespace
}  // namespace vigil
