// ml_threshold and arbitrage (strategies.h) on hand-made bars and signals: when they enter and
// leave, how they size, what the gates stop, and what both arbitrage legs pay.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "scripted.h"
#include "vigil/backtest/strategies.h"

namespace vigil {
namespace {

using backtest_test::Bars;
using backtest_test::Ohlc;

std::vector<Ohlc> Flat(size_t n, double price = 100.0) {
  return std::vector<Ohlc>(n, Ohlc{price, price, price, price});
}

ModelSignals Signals(const BarSeries& bars, std::vector<double> values,
                     std::vector<double> disagreement = {}) {
  ModelSignals signals;
  signals.instrument = bars.instrument;
  for (size_t i = 0; i < values.size(); ++i) {
    signals.time.push_back(bars.open_time[i]);
    signals.value.push_back(values[i]);
    signals.disagreement.push_back(disagreement.empty() ? 0.0 : disagreement[i]);
    signals.window.push_back(0);
  }
  return signals;
}

Result<BacktestResult> RunMl(const BarSeries& bars, const ModelSignals& signals,
                             const std::string& params, BacktestOptions options = {}) {
  options.fees = {0.0, 0.0};
  Result<StrategyParams> parsed = ParseStrategyParams(params);
  if (!parsed.ok()) return parsed.status();
  Result<std::unique_ptr<Strategy>> strategy =
      MakeStrategy("ml_threshold", *parsed, {std::span<const ModelSignals>(&signals, 1)});
  if (!strategy.ok()) return strategy.status();
  return RunBacktest(std::vector<BarSeries>{bars}, **strategy, options);
}

TEST(MlThresholdTest, EntersAboveEnterAndLeavesBelowExit) {
  const BarSeries bars = Bars(Flat(6));
  const ModelSignals signals = Signals(bars, {0.5, 0.7, 0.55, 0.45, 0.8, 0.8});
  Result<BacktestResult> run = RunMl(bars, signals, "enter=0.6,exit=0.5");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // Decided at closes 1 (0.7: enter), 3 (0.45: exit), 4 (0.8: enter); 0.55 holds.
  ASSERT_EQ(run->decisions.size(), 3u);
  EXPECT_EQ(run->decisions[0].time, bars.close_time(1));
  EXPECT_EQ(run->decisions[0].order.sizing, OrderSizing::kTargetFraction);
  EXPECT_DOUBLE_EQ(run->decisions[0].order.target_fraction, 1.0);
  EXPECT_EQ(run->decisions[1].time, bars.close_time(3));
  EXPECT_EQ(run->decisions[1].order.sizing, OrderSizing::kClosePosition);
  EXPECT_EQ(run->decisions[2].time, bars.close_time(4));
}

TEST(MlThresholdTest, KellySizingShrinksWithTheEnsemblesDisagreement) {
  const BarSeries bars = Bars(Flat(3));
  // p = 0.6, b = 1: edge 0.2, Kelly 0.2; sd 0.05 of p is sigma_e = 0.1: 0.2 x 0.04 / 0.05.
  const ModelSignals signals = Signals(bars, {0.6, 0.6, 0.6}, {0.05, 0.05, 0.05});
  Result<BacktestResult> run = RunMl(bars, signals, "enter=0.6,sizing=kelly,kelly_cap=1");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_FALSE(run->decisions.empty());
  EXPECT_NEAR(run->decisions[0].order.target_fraction, 0.2 * 0.04 / 0.05, 1e-12);
  EXPECT_NEAR(run->final_positions[0] * 100.0 / 10'000.0, 0.16, 1e-12);
}

TEST(MlThresholdTest, TheGatesStopLowConfidenceAndDisagreement) {
  const BarSeries bars = Bars(Flat(4));
  const ModelSignals signals = Signals(bars, {0.62, 0.62, 0.7, 0.7}, {0.2, 0.2, 0.2, 0.01});
  Result<BacktestResult> run =
      RunMl(bars, signals, "enter=0.6,min_confidence=0.65,max_disagreement=0.1");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // 0.62 is below the confidence threshold; 0.7 at close 2 disagrees by 0.2; close 3 passes.
  ASSERT_EQ(run->decisions.size(), 1u);
  EXPECT_EQ(run->decisions[0].time, bars.close_time(3));
}

TEST(MlThresholdTest, ShortsBelowShortEnterAndCoversAboveShortExit) {
  const BarSeries bars = Bars(Flat(5));
  const ModelSignals signals = Signals(bars, {0.5, 0.3, 0.45, 0.55, 0.5});
  BacktestOptions options;
  options.allow_short = true;
  Result<BacktestResult> run =
      RunMl(bars, signals, "enter=0.6,short_enter=0.35,short_exit=0.5,fraction=0.5", options);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->decisions.size(), 2u);
  EXPECT_DOUBLE_EQ(run->decisions[0].order.target_fraction, -0.5);
  EXPECT_EQ(run->decisions[1].time, bars.close_time(3));
  EXPECT_NEAR(run->fills[0].quantity, 50.0, 1e-9);
}

TEST(MlThresholdTest, NamesBadParametersAndMissingSignals) {
  const ModelSignals none;
  Result<std::unique_ptr<Strategy>> strategy = MakeStrategy("ml_threshold", {});
  ASSERT_FALSE(strategy.ok());
  EXPECT_NE(strategy.status().message().find("no model signals"), std::string::npos);
  strategy = MakeStrategy("ml_threshold", {{"exit", "0.7"}}, {std::span(&none, 1)});
  ASSERT_FALSE(strategy.ok());
  EXPECT_NE(strategy.status().message().find("exit=0.7"), std::string::npos);
  strategy = MakeStrategy("ml_threshold", {{"sizing", "martingale"}}, {std::span(&none, 1)});
  ASSERT_FALSE(strategy.ok());
  EXPECT_NE(strategy.status().message().find("martingale"), std::string::npos);
}

TEST(ArbitrageTest, BuysTheCheapVenueSellsTheRichOneAndPaysBothLegs) {
  // Venue B trades 1 % over A from bar 1 to 2, then converges.
  const BarSeries a = Bars(Flat(5), "cex:ETH");
  const BarSeries b = Bars({{100, 100, 100, 100},
                            {100, 101, 100, 101},
                            {101, 101, 101, 101},
                            {101, 101, 100, 100},
                            {100, 100, 100, 100}},
                           "dex:ETH");
  const ModelSignals score = Signals(a, {0.1, 0.9, 0.9, 0.9, 0.9});
  BacktestOptions options;
  options.allow_short = true;
  options.fees = {0.0, 10.0};
  options.venue_fees["dex"] = {30.0, 30.0};
  options.gas_per_fill["dex"] = 2.0;
  Result<std::unique_ptr<Strategy>> strategy =
      MakeStrategy("arbitrage", {{"threshold", "0.5"}, {"min_spread_bps", "50"}},
                   {std::span<const ModelSignals>(&score, 1)});
  ASSERT_TRUE(strategy.ok()) << strategy.status().ToString();
  Result<BacktestResult> run = RunBacktest(std::vector<BarSeries>{a, b}, **strategy, options);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // Entered at close 1 (spread 1 %, score 0.9): long A, short B at bar 2's opens; closed at
  // close 3 (spread 0) at bar 4's opens.
  ASSERT_EQ(run->fills.size(), 4u);
  EXPECT_EQ(run->fills[0].side, OrderSide::kBuy);
  EXPECT_EQ(run->fills[0].instrument, 0u);
  EXPECT_EQ(run->fills[1].side, OrderSide::kSell);
  EXPECT_EQ(run->fills[1].instrument, 1u);
  EXPECT_DOUBLE_EQ(run->fills[1].gas, 2.0);
  EXPECT_NEAR(run->fills[1].fee, run->fills[1].quantity * 101.0 * 0.003, 1e-9);
  EXPECT_DOUBLE_EQ(run->gas_paid, 4.0);
  EXPECT_EQ(run->final_positions[0], 0.0);
  EXPECT_EQ(run->final_positions[1], 0.0);
  // The short leg earned 1 % of its notional; both legs paid fees, B paid gas twice.
  double fees = 0.0;
  for (const Fill& fill : run->fills) fees += fill.fee;
  const double short_pnl = run->fills[1].quantity * (101.0 - 100.0);
  EXPECT_NEAR(run->final_cash, 10'000.0 + short_pnl - fees - 4.0, 1e-6);
}

TEST(BuyHoldTest, AllBuysTheEqualWeightBasket) {
  const BarSeries a = Bars(Flat(3), "sim:A");
  const BarSeries b = Bars(Flat(3, 50.0), "sim:B");
  BacktestOptions options;
  options.fees = {0.0, 0.0};
  Result<std::unique_ptr<Strategy>> strategy = MakeStrategy("buy_hold", {{"all", "1"}});
  ASSERT_TRUE(strategy.ok());
  Result<BacktestResult> run = RunBacktest(std::vector<BarSeries>{a, b}, **strategy, options);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  // Half of 10,000 in each: 50 of A at 100, 100 of B at 50.
  EXPECT_NEAR(run->final_positions[0], 50.0, 1e-9);
  EXPECT_NEAR(run->final_positions[1], 100.0, 1e-9);
  EXPECT_FALSE(MakeStrategy("buy_hold", {{"all", "2"}}).ok());
}

TEST(ArbitrageTest, ALowScoreOrANarrowSpreadTradesNothing) {
  const BarSeries a = Bars(Flat(4), "cex:ETH");
  const BarSeries b = Bars({{100, 100, 100, 100},
                            {100, 100.2, 100, 100.2},
                            {100.2, 101, 100.2, 101},
                            {101, 101, 101, 101}},
                           "dex:ETH");
  const ModelSignals score = Signals(a, {0.9, 0.9, 0.2, 0.2});
  BacktestOptions options;
  options.allow_short = true;
  Result<std::unique_ptr<Strategy>> strategy = MakeStrategy(
      "arbitrage", {{"min_spread_bps", "50"}}, {std::span<const ModelSignals>(&score, 1)});
  ASSERT_TRUE(strategy.ok());
  Result<BacktestResult> run = RunBacktest(std::vector<BarSeries>{a, b}, **strategy, options);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_TRUE(run->decisions.empty());  // 20 bps at a high score; 1 % at a low one
}

}  // namespace
}  // namespace vigil
