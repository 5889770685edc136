// Tardis incremental_book_L2 CSV rebuilt into top-N books, on hand-made rows (expected
// books worked out by hand) and on the shared Deribit sample; and the shared Tardis
// quotes file read as level 0 of each side.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "data/reader_test_util.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

using testing_util::Options;
using testing_util::ParseText;
using testing_util::ReadShared;
using testing_util::RejectsText;

constexpr int64_t kUs = kNanosPerMicro;
constexpr char kHeader[] =
    "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n";

// (ts, side, level, price, size) of a row.
using Row = std::tuple<int64_t, int64_t, int64_t, double, double>;

std::vector<Row> Sorted(std::vector<Row> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

// Every row of the batch, sorted (validation orders rows within a time by its key).
std::vector<Row> Rows(const RecordBatch& batch) {
  std::vector<Row> rows;
  const Frame& frame = batch.frame;
  for (int64_t row = 0; row < frame.rows(); ++row) {
    rows.emplace_back(frame.timestamps()[row], frame.Int64s("side")[row],
                      frame.Int64s("level")[row], frame.Doubles("price")[row],
                      frame.Doubles("size")[row]);
  }
  return Sorted(std::move(rows));
}

Result<ParsedFile> ParseL2(const std::string& body,
                           ReadOptions options = Options(DataKind::kOrderBook)) {
  return ParseText(kHeader + body, options, "incremental_book_L2.csv");
}

// A snapshot, a timestamp of updates (delete ask 101, new best bid 100.5), then a second
// snapshot that replaces the whole book.
TEST(TardisL2ReaderTest, SnapshotsAndUpdatesStoreOneBookPerTimestamp) {
  auto parsed = ParseL2(
      "deribit,BTC-PERPETUAL,1000,1001,true,ask,101,5\n"
      "deribit,BTC-PERPETUAL,1000,1001,true,ask,102,6\n"
      "deribit,BTC-PERPETUAL,1000,1001,true,bid,100,7\n"
      "deribit,BTC-PERPETUAL,2000,2001,false,ask,101,0\n"
      "deribit,BTC-PERPETUAL,2000,2001,false,bid,100.5,1\n"
      "deribit,BTC-PERPETUAL,3000,3001,true,bid,99,1\n"
      "deribit,BTC-PERPETUAL,3000,3001,true,ask,103,2\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->format, "tardis-l2");
  EXPECT_EQ(parsed->rows_read, 7);
  EXPECT_TRUE(parsed->rejects.empty()) << RejectsText(*parsed);
  ASSERT_EQ(parsed->batches.size(), 1u);
  EXPECT_EQ(parsed->batches[0].series.instrument.ToString(), "deribit:BTC-PERPETUAL");
  const std::vector<Row> expected = {
      {1000 * kUs, kSideBuy, 0, 100, 7},  {1000 * kUs, kSideSell, 0, 101, 5},
      {1000 * kUs, kSideSell, 1, 102, 6}, {2000 * kUs, kSideBuy, 0, 100.5, 1},
      {2000 * kUs, kSideBuy, 1, 100, 7},  {2000 * kUs, kSideSell, 0, 102, 6},
      {3000 * kUs, kSideBuy, 0, 99, 1},   {3000 * kUs, kSideSell, 0, 103, 2},
  };
  EXPECT_EQ(Rows(parsed->batches[0]), Sorted(expected));
  // Each timestamp's rows come from its last source line.
  EXPECT_EQ(parsed->batches[0].lines.front(), 4);
  EXPECT_EQ(parsed->batches[0].lines.back(), 8);
}

TEST(TardisL2ReaderTest, BadRowsAreRejectedByField) {
  auto parsed = ParseL2(
      "deribit,BTC-PERPETUAL,1000,1001,false,bid,100,1\n"  // update before any snapshot
      "deribit,BTC-PERPETUAL,2000,2001,true,bid,100,1\n"
      "deribit,BTC-PERPETUAL,2000,2001,true,middle,100,1\n"
      "deribit,BTC-PERPETUAL,2000,2001,true,ask,101,-3\n"
      "deribit,BTC-PERPETUAL,2000,2001,maybe,ask,101,3\n"
      "deribit,BTC-PERPETUAL,2000\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_read, 6);
  ASSERT_EQ(parsed->rejects.size(), 5u) << RejectsText(*parsed);
  EXPECT_EQ(parsed->rejects[0].line, 2);
  EXPECT_EQ(parsed->rejects[0].reason, "update before any snapshot (is_snapshot=true rows)");
  EXPECT_EQ(parsed->rejects[1].field, "side");
  EXPECT_EQ(parsed->rejects[2].field, "amount");
  EXPECT_EQ(parsed->rejects[3].field, "is_snapshot");
  EXPECT_EQ(parsed->rejects[4].line, 7);
  EXPECT_EQ(parsed->rows_valid(), 1);  // the bid 100 x 1 of line 3
}

// Rows of two symbols interleave within one timestamp: each keeps its own book.
TEST(TardisL2ReaderTest, InterleavedSymbolsKeepSeparateBooks) {
  auto parsed = ParseL2(
      "deribit,BTC-PERPETUAL,1000,1001,true,bid,100,1\n"
      "deribit,ETH-PERPETUAL,1000,1001,true,bid,10,2\n"
      "deribit,BTC-PERPETUAL,1000,1001,true,ask,101,3\n"
      "deribit,ETH-PERPETUAL,2000,2001,false,bid,10,4\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->rejects.empty()) << RejectsText(*parsed);
  const RecordBatch* btc = testing_util::BatchOf(*parsed, "deribit:BTC-PERPETUAL");
  const RecordBatch* eth = testing_util::BatchOf(*parsed, "deribit:ETH-PERPETUAL");
  ASSERT_NE(btc, nullptr);
  ASSERT_NE(eth, nullptr);
  EXPECT_EQ(Rows(*btc),
            Sorted({{1000 * kUs, kSideBuy, 0, 100, 1}, {1000 * kUs, kSideSell, 0, 101, 3}}));
  EXPECT_EQ(Rows(*eth),
            (std::vector<Row>{{1000 * kUs, kSideBuy, 0, 10, 2}, {2000 * kUs, kSideBuy, 0, 10, 4}}));
}

TEST(TardisL2ReaderTest, VenueOptionReplacesTheExchangeColumn) {
  ReadOptions options = Options(DataKind::kOrderBook, "deribit-test");
  auto parsed = ParseL2("deribit,BTC-PERPETUAL,1000,1001,true,bid,100,1\n", options);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->batches.size(), 1u);
  EXPECT_EQ(parsed->batches[0].series.instrument.ToString(), "deribit-test:BTC-PERPETUAL");
}

TEST(TardisL2ReaderTest, WholeFileFailures) {
  ReadOptions options = Options(DataKind::kOrderBook);
  options.format = FileFormat::kTardisL2;
  auto no_column =
      ParseText("exchange,symbol,timestamp,side,price,amount\nx,y,1,bid,1,1\n", options, "l2.csv");
  ASSERT_FALSE(no_column.ok());
  EXPECT_EQ(no_column.status().code(), StatusCode::kParseError);
  EXPECT_NE(no_column.status().message().find("no 'is_snapshot' column"), std::string::npos);
  options.kind = DataKind::kTrades;
  auto trades = ParseText(std::string(kHeader) + "deribit,X,1,2,true,bid,1,1\n", options, "l2.csv");
  ASSERT_FALSE(trades.ok());
  EXPECT_EQ(trades.status().code(), StatusCode::kInvalidArgument);
}

// The shared sample: 15 snapshot rows, all asks from 6421.5 up in 0.5 steps, at
// 1585699200245000 us; depth 3 keeps 6421.5 x 18640, 6422 x 1190, 6422.5 x 1080.
TEST(TardisL2ReaderTest, SharedDeribitSampleTopLevels) {
  ReadOptions options = Options(DataKind::kOrderBook);
  options.book_depth = 3;
  auto parsed =
      ReadShared("orderbook/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv", options);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->batches.size(), 1u);
  const int64_t ts = 1585699200245000 * kUs;
  EXPECT_EQ(Rows(parsed->batches[0]), Sorted({{ts, kSideSell, 0, 6421.5, 18640},
                                              {ts, kSideSell, 1, 6422, 1190},
                                              {ts, kSideSell, 2, 6422.5, 1080}}));
}

// Tardis quotes (ask_amount, ask_price, bid_price, bid_amount) are level 0 of each side;
// first row: 1588291201099000 us, ask 8629.3 x 5494, bid 8629.2 x 806.
TEST(TardisL2ReaderTest, SharedHuobiQuotesAreLevelZero) {
  auto parsed = ReadShared("orderbook/tardis_huobi-dm-swap_quotes_BTC-USD.csv",
                           Options(DataKind::kOrderBook));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->format, "csv");
  ASSERT_EQ(parsed->batches.size(), 1u);
  EXPECT_EQ(parsed->batches[0].series.instrument.ToString(), "huobi-dm-swap:BTC-USD");
  std::vector<Row> rows = Rows(parsed->batches[0]);
  ASSERT_EQ(rows.size(), 20u);
  const int64_t ts = 1588291201099000 * kUs;
  std::vector<Row> first(rows.begin(), rows.begin() + 2);
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first,
            (std::vector<Row>{{ts, kSideSell, 0, 8629.3, 5494}, {ts, kSideBuy, 0, 8629.2, 806}}));
}

}  // namespace
}  // namespace vigil
