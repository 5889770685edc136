// The backtest engine (src/backtest/engine.cc) and its built-in strategies: sma_cross against
// a literal implementation of its definition, buy_hold by hand, time order across
// instruments, latency, rejections, determinism and the no-lookahead property.
#include "vigil/backtest/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "scripted.h"
#include "vigil/backtest/strategies.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

using backtest_test::RandomWalk;

struct ReferenceRun {
  std::vector<double> equity;
  int fills = 0;
};

// The definition of sma_cross, step by step, with the averages as plain means.
ReferenceRun SmaCrossByDefinition(const BarSeries& bars, int fast, int slow, double fee_bps,
                                  double slippage_bps, double capital) {
  const double fee = fee_bps / 1e4, slip = slippage_bps / 1e4;
  double cash = capital, quantity = 0.0;
  enum { kNone, kBuy, kSell } pending = kNone;
  ReferenceRun run;
  auto mean = [&bars](size_t end, int window) {
    double sum = 0.0;
    for (size_t i = end + 1 - window; i <= end; ++i) sum += bars.close[i];
    return sum / window;
  };
  for (size_t t = 0; t < bars.size(); ++t) {
    if (pending == kBuy) {
      const double price = bars.open[t] * (1.0 + slip);
      quantity = cash / (price * (1.0 + fee));
      cash = 0.0;
      ++run.fills;
    } else if (pending == kSell) {
      const double price = bars.open[t] * (1.0 - slip);
      cash = quantity * price * (1.0 - fee);
      quantity = 0.0;
      ++run.fills;
    }
    pending = kNone;
    run.equity.push_back(cash + quantity * bars.close[t]);
    if (t + 1 < static_cast<size_t>(std::max(fast, slow))) continue;
    const bool long_target = mean(t, fast) > mean(t, slow);
    if (long_target && quantity == 0.0) pending = kBuy;
    if (!long_target && quantity > 0.0) pending = kSell;
  }
  return run;
}

BacktestOptions Costs(double fee_bps, double slippage_bps) {
  BacktestOptions options;
  options.fees = {fee_bps, fee_bps};
  options.slippage = {SlippageKind::kFixed, slippage_bps};
  return options;
}

BacktestResult RunStrategy(const std::vector<BarSeries>& markets, const std::string& strategy,
                           const std::string& params, const BacktestOptions& options) {
  Result<StrategyParams> parsed = ParseStrategyParams(params);
  EXPECT_TRUE(parsed.ok());
  Result<std::unique_ptr<Strategy>> made = MakeStrategy(strategy, *parsed);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  Result<BacktestResult> result = RunBacktest(markets, **made, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return std::move(*result);
}

void ExpectFollowsDefinition(const BarSeries& bars, int fast, int slow) {
  const BacktestResult result = RunStrategy(
      {bars}, "sma_cross", "fast=" + std::to_string(fast) + ",slow=" + std::to_string(slow),
      Costs(10.0, 5.0));
  const ReferenceRun reference = SmaCrossByDefinition(bars, fast, slow, 10.0, 5.0, 10'000.0);
  ASSERT_EQ(result.equity.size(), reference.equity.size());
  EXPECT_EQ(static_cast<int>(result.fills.size()), reference.fills);
  EXPECT_GT(reference.fills, 4);
  for (size_t t = 0; t < reference.equity.size(); ++t)
    ASSERT_NEAR(result.equity[t], reference.equity[t], 1e-9 * reference.equity[t]) << "bar " << t;
  EXPECT_NEAR(result.metrics.total_return, reference.equity.back() / 10'000.0 - 1.0, 1e-12);
}

TEST(SmaCrossTest, FollowsItsDefinitionOnARandomWalk) {
  ExpectFollowsDefinition(RandomWalk("sim:A", 5000, 7), 10, 30);
  ExpectFollowsDefinition(RandomWalk("sim:A", 3000, 8), 5, 20);
}

TEST(SmaCrossTest, FollowsItsDefinitionOnRealCandles) {
  ReadOptions options;
  options.kind = DataKind::kCandles;
  options.venue = "binance";
  MarketFileReader reader(options);
  Result<ParsedFile> parsed =
      reader.Read(std::string(VIGIL_SHARED_DATA) + "/candles/ETH_BTC-5m.csv");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_FALSE(parsed->batches.empty());
  Result<BarSeries> bars = BarSeriesFromBatch(parsed->batches[0]);
  ASSERT_TRUE(bars.ok()) << bars.status().ToString();
  ASSERT_GT(bars->size(), 5000u);
  ExpectFollowsDefinition(*bars, 10, 30);
}

TEST(BuyHoldTest, BuysAtTheSecondOpenAndHolds) {
  const BarSeries bars = RandomWalk("sim:A", 100, 3);
  const BacktestResult result = RunStrategy({bars}, "buy_hold", "", Costs(10.0, 5.0));
  ASSERT_EQ(result.fills.size(), 1u);
  EXPECT_EQ(result.fills[0].time, bars.open_time[1]);
  const double quantity = 10'000.0 / (bars.open[1] * 1.0005 * 1.001);
  EXPECT_NEAR(result.equity.back(), quantity * bars.close.back(), 1e-9);
  EXPECT_EQ(result.equity.front(), 10'000.0);  // nothing held at the first close
  EXPECT_EQ(result.trades.size(), 0u);         // still open at the end
}

TEST(EngineTest, LatencyDelaysTheFillToALaterOpen) {
  const BarSeries bars = RandomWalk("sim:A", 50, 4);
  BacktestOptions options = Costs(0.0, 0.0);
  options.latency_ns = 1;  // reaches the venue just after the next bar opened
  const BacktestResult result = RunStrategy({bars}, "buy_hold", "", options);
  ASSERT_EQ(result.fills.size(), 1u);
  EXPECT_EQ(result.fills[0].time, bars.open_time[2]);
}

// Records what it saw, and buys more than the cash allows once.
class RecordingStrategy final : public Strategy {
 public:
  void OnBar(StrategyContext& context, size_t instrument) override {
    seen.push_back(
        {context.now(), instrument, context.market().closed(0), context.market().closed(1)});
    if (seen.size() == 3) context.Submit({0, OrderSide::kBuy, OrderSizing::kQuantity, 1e9});
    if (seen.size() == 4) context.Submit({1, OrderSide::kSell, OrderSizing::kQuantity, 1.0});
  }
  struct Seen {
    Timestamp now;
    size_t instrument, closed0, closed1;
  };
  std::vector<Seen> seen;
};

TEST(EngineTest, InstrumentsCloseInTimeOrderAndUnaffordableOrdersAreRejected) {
  // A 5-minute and a 15-minute series: the 15-minute bar closes with every third 5-minute one.
  const std::vector<BarSeries> markets = {RandomWalk("sim:A", 30, 1),
                                          RandomWalk("sim:B", 10, 2, 15 * kNanosPerMinute)};
  RecordingStrategy strategy;
  Result<BacktestResult> result = RunBacktest(markets, strategy, Costs(5.0, 0.0));
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(strategy.seen.size(), 40u);
  for (size_t k = 1; k < strategy.seen.size(); ++k)
    EXPECT_LE(strategy.seen[k - 1].now, strategy.seen[k].now);
  // At 00:15 both close: A (index 0) first, and both bars are visible to both calls.
  EXPECT_EQ(strategy.seen[2].instrument, 0u);
  EXPECT_EQ(strategy.seen[3].instrument, 1u);
  EXPECT_EQ(strategy.seen[2].closed0, 3u);
  EXPECT_EQ(strategy.seen[2].closed1, 1u);
  EXPECT_EQ(result->mark_times.size(), 30u);  // distinct close times
  EXPECT_EQ(result->rejected_orders, 2);      // a buy beyond the cash, a sell with no position
  EXPECT_TRUE(result->fills.empty());
}

TEST(EngineTest, SameInputsGiveTheSameBits) {
  const BarSeries bars = RandomWalk("sim:A", 4000, 11);
  BacktestOptions options = Costs(7.0, 0.0);
  ASSERT_TRUE((options.slippage = *SlippageModel::Parse("sqrt:0.05"), true));
  const BacktestResult first = RunStrategy({bars}, "sma_cross", "fast=8,slow=21", options);
  const BacktestResult second = RunStrategy({bars}, "sma_cross", "fast=8,slow=21", options);
  ASSERT_EQ(first.equity.size(), second.equity.size());
  for (size_t t = 0; t < first.equity.size(); ++t) ASSERT_EQ(first.equity[t], second.equity[t]);
  EXPECT_EQ(first.metrics.sharpe, second.metrics.sharpe);
  EXPECT_GT(first.fills.size(), 4u);
}

// Changes every bar after `cut` (prices by factors in [0.5, 1.5], volumes too).
BarSeries ChangedAfter(const BarSeries& bars, size_t cut, std::mt19937_64& rng) {
  BarSeries changed = bars;
  std::uniform_real_distribution<double> factor(0.5, 1.5);
  for (size_t t = cut + 1; t < changed.size(); ++t) {
    const double f = factor(rng);
    changed.open[t] *= f;
    changed.close[t] *= f;
    changed.high[t] *= f * 1.01;
    changed.low[t] *= f / 1.01;
    changed.volume[t] *= factor(rng);
  }
  return changed;
}

bool SameDecisionsUpTo(const BacktestResult& a, const BacktestResult& b, Timestamp t) {
  auto up_to = [t](const std::vector<Decision>& all) {
    std::vector<Decision> kept;
    for (const Decision& d : all)
      if (d.time <= t) kept.push_back(d);
    return kept;
  };
  const std::vector<Decision> first = up_to(a.decisions), second = up_to(b.decisions);
  if (first.size() != second.size()) return false;
  for (size_t k = 0; k < first.size(); ++k) {
    if (first[k].time != second[k].time || first[k].order.side != second[k].order.side ||
        first[k].order.sizing != second[k].order.sizing ||
        first[k].order.quantity != second[k].order.quantity)
      return false;
  }
  return true;
}

// The first bar t (from 100, every 7th: some of them fall where a decision is made or would
// be) such that changing every bar after t changes a decision made at or before t's close, or
// an equity mark up to t; -1 when there is none.
// `make` builds the strategy for the series being replayed.
using StrategyMaker = std::function<std::unique_ptr<Strategy>(const BarSeries& replayed)>;
int64_t FirstLookahead(const BarSeries& bars, const StrategyMaker& make) {
  const BacktestOptions options = Costs(5.0, 2.0);
  std::unique_ptr<Strategy> strategy = make(bars);
  const Result<BacktestResult> original =
      RunBacktest(std::vector<BarSeries>{bars}, *strategy, options);
  EXPECT_TRUE(original.ok());
  std::mt19937_64 rng(5);
  for (size_t cut = 100; cut + 1 < bars.size(); cut += 7) {
    const BarSeries changed = ChangedAfter(bars, cut, rng);
    strategy = make(changed);
    const Result<BacktestResult> altered =
        RunBacktest(std::vector<BarSeries>{changed}, *strategy, options);
    EXPECT_TRUE(altered.ok());
    if (!SameDecisionsUpTo(*original, *altered, bars.close_time(cut)))
      return static_cast<int64_t>(cut);
    for (size_t m = 0; m <= cut; ++m)
      if (original->equity[m] != altered->equity[m]) return static_cast<int64_t>(cut);
  }
  return -1;
}

// Every decision at or before t survives any change to the data after t, for every built-in
// strategy.
TEST(NoLookaheadTest, DecisionsUpToTIgnoreEveryLaterBar) {
  const BarSeries bars = RandomWalk("sim:A", 3000, 21);
  for (const auto& [name, params] : std::vector<std::pair<std::string, std::string>>{
           {"sma_cross", "fast=5,slow=15"}, {"sma_cross", "fast=10,slow=30"}, {"buy_hold", ""}}) {
    SCOPED_TRACE(name + " " + params);
    const StrategyMaker make = [&name, &params](const BarSeries&) {
      return std::move(*MakeStrategy(name, *ParseStrategyParams(params)));
    };
    EXPECT_EQ(FirstLookahead(bars, make), -1);
  }
}

// A strategy that reads one bar ahead of the market view, in the series being replayed (as an
// engine leaking the next bar would let it): the check above must catch it.
class PeekingStrategy final : public Strategy {
 public:
  explicit PeekingStrategy(const BarSeries& all) : all_(all) {}
  void OnBar(StrategyContext& context, size_t instrument) override {
    const size_t next = context.market().closed(instrument);
    if (next >= all_.size() || context.has_pending(instrument)) return;
    const bool rises = all_.close[next] > all_.close[next - 1];
    if (rises && context.position(instrument) == 0.0)
      context.Submit(OrderRequest::BuyWithAllCash(instrument));
    if (!rises && context.position(instrument) > 0.0)
      context.Submit(OrderRequest::ClosePosition(instrument));
  }

 private:
  const BarSeries& all_;
};

TEST(NoLookaheadTest, CatchesAStrategyThatReadsOneBarAhead) {
  const BarSeries bars = RandomWalk("sim:A", 3000, 21);
  const StrategyMaker peeking = [](const BarSeries& replayed) {
    return std::make_unique<PeekingStrategy>(replayed);
  };
  EXPECT_GE(FirstLookahead(bars, peeking), 100);
}

TEST(StrategyFactoryTest, NamesTheProblem) {
  EXPECT_NE(MakeStrategy("momentum", {}).status().message().find("buy_hold, sma_cross"),
            std::string::npos);
  EXPECT_NE(MakeStrategy("sma_cross", {{"fats", "3"}}).status().message().find("fast, slow"),
            std::string::npos);
  EXPECT_NE(MakeStrategy("sma_cross", {{"fast", "0"}}).status().message().find("fast=0"),
            std::string::npos);
  EXPECT_FALSE(ParseStrategyParams("fast=1,fast=2").ok());
  EXPECT_FALSE(ParseStrategyParams("fast").ok());
  EXPECT_TRUE(ParseStrategyParams("").ok());
}

}  // namespace
}  // namespace vigil
