// The engine on real data from ../shared/data: funding settled from a perpetual's published
// rates, a strategy replayed trade by trade, and market orders filled at the touch of real
// book snapshots. Each expectation is worked out from the files independently of the engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "vigil/backtest/job.h"

namespace vigil {
namespace {

const std::string kData = VIGIL_SHARED_DATA;

// The rows of a CSV file, split on commas, without the header.
std::vector<std::vector<std::string>> CsvRows(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream split(line);
    for (std::string field; std::getline(split, field, ',');) fields.push_back(field);
    rows.push_back(std::move(fields));
  }
  return rows;
}

int64_t Nanos(const std::string& iso) { return Timestamp::ParseIso(iso)->nanos(); }

TEST(RealDataTest, FundingOfAPerpetualIsSettledFromItsPublishedRates) {
  BacktestJobConfig job;
  job.strategy = "buy_hold";
  job.inputs = {kData + "/candles/XRP_USDT_USDT-5m-futures.csv"};
  job.funding = {{"", kData + "/funding/XRP_USDT_USDT-8h-funding_rate.csv", "open"}};
  job.options.fees = {0.0, 0.0};
  Result<BacktestJobResult> run = RunBacktestJob(job, {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const double quantity = run->result.fills.at(0).quantity;
  const int64_t held_from = run->result.fills[0].time.nanos();
  // Each rate settles at the first 5m close at or after its time, on the close there.
  const auto candles = CsvRows(job.inputs[0]);
  double expected = 0.0;
  int settlements = 0;
  for (const auto& rate : CsvRows(job.funding[0].path)) {
    const int64_t t = Nanos(rate[0]);
    for (const auto& bar : candles) {
      const int64_t close = Nanos(bar[0]) + 5 * kNanosPerMinute;
      if (close < t) continue;
      if (close > held_from) {  // the position exists from the fill at that bar's open
        expected += quantity * std::stod(bar[4]) * std::stod(rate[1]);
        ++settlements;
      }
      break;
    }
  }
  ASSERT_GE(settlements, 10);  // the rates start on 2021-11-18, three days in
  EXPECT_NEAR(run->result.funding_paid, expected, 1e-9 * std::abs(expected));
  EXPECT_NEAR(run->result.equity.back(),
              run->result.final_cash + quantity * std::stod(candles.back()[4]), 1e-6);
}

TEST(RealDataTest, TradesReplayTickByTickAndOrdersFillAtTheNextTrade) {
  BacktestJobConfig job;
  job.strategy = "sma_cross";
  job.params = {{"fast", "20"}, {"slow", "60"}};
  job.kind = "trades";
  job.venue = "binance";
  job.symbol = "BTC/USDT";
  job.inputs = {kData + "/trades/binance_btcusdt-trades.csv"};
  job.options.fees = {0.0, 10.0};
  Result<BacktestJobResult> run = RunBacktestJob(job, {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const BarSeries& ticks = run->bars[0];
  EXPECT_EQ(ticks.size(), 2001u);
  EXPECT_EQ(ticks.timeframe_ns, 0);
  ASSERT_GE(run->result.fills.size(), 4u);
  // Every decision at a trade fills at the first later trade (at the same millisecond or
  // after) at its price: the fill's time is that trade's, and its price one of that time's.
  for (size_t k = 0; k < run->result.fills.size(); ++k) {
    const Fill& fill = run->result.fills[k];
    const Decision& decision = run->result.decisions[k];
    EXPECT_GE(fill.time, decision.time);
    bool printed = false;
    for (size_t i = 0; i < ticks.size(); ++i)
      printed = printed || (ticks.open_time[i] == fill.time && ticks.close[i] == fill.price);
    EXPECT_TRUE(printed) << "fill " << k << " at " << fill.price << " matches no trade";
  }
  // Trades of one millisecond make one equity mark.
  for (size_t m = 1; m < run->result.mark_times.size(); ++m)
    ASSERT_LT(run->result.mark_times[m - 1], run->result.mark_times[m]);
}

TEST(RealDataTest, MarketOrdersOnBookSnapshotsFillAtTheTouch) {
  BacktestJobConfig job;
  job.strategy = "buy_hold";
  job.kind = "book";
  job.venue = "binance";
  job.symbol = "BTCUSDT";
  job.inputs = {kData + "/orderbook/tardis_binance-futures_book_snapshot_5_BTCUSDT.csv"};
  job.options.fees = {0.0, 0.0};
  Result<BacktestJobResult> run = RunBacktestJob(job, {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const BarSeries& book = run->bars[0];
  ASSERT_TRUE(book.has_book());
  ASSERT_EQ(run->result.fills.size(), 1u);
  // buy_hold decides at the first snapshot and buys at the second one's best ask, which the
  // file gives as asks[0].price (column 5).
  const auto rows = CsvRows(job.inputs[0]);
  EXPECT_DOUBLE_EQ(run->result.fills[0].price, std::stod(rows[1][4]));
  EXPECT_DOUBLE_EQ(book.ask[1], std::stod(rows[1][4]));
  EXPECT_DOUBLE_EQ(book.bid[1], std::stod(rows[1][6]));
  EXPECT_DOUBLE_EQ(book.close[1], 0.5 * (book.bid[1] + book.ask[1]));
  EXPECT_EQ(book.depth.levels, 5);

  // 2,000,000 of capital buys far more than the best ask holds: the order walks the levels
  // (asks[i].price and asks[i].amount are columns 4 + 4i and 5 + 4i).
  job.options.initial_capital = 2'000'000.0;
  run = RunBacktestJob(job, {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const Fill& fill = run->result.fills.at(0);
  double left = fill.quantity, cost = 0.0, last = 0.0;
  for (int level = 0; level < 5 && left > 0.0; ++level) {
    last = std::stod(rows[1][4 + 4 * level]);
    const double taken = std::min(left, std::stod(rows[1][5 + 4 * level]));
    cost += taken * last;
    left -= taken;
  }
  cost += left * last;  // past the visible depth: the deepest price
  EXPECT_GT(fill.quantity, std::stod(rows[1][5]));
  EXPECT_NEAR(fill.price, cost / fill.quantity, 1e-9 * fill.price);
  EXPECT_GT(fill.price, std::stod(rows[1][4]));
  EXPECT_NEAR(run->result.metrics.slippage_paid,
              (fill.price - std::stod(rows[1][4])) * fill.quantity, 1e-6);
}

}  // namespace
}  // namespace vigil
