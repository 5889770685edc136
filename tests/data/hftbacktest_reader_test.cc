// hftbacktest captures on hand-made lines: Binance book sequencing (futures pu chain, spot
// U == u + 1, dropping, gaps, breaks and resync), event-time stamping, trades, and the
// Hyperliquid messages the collector also records. Expected books are worked out by hand
// from the levels in each case.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/reader_test_util.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

using testing_util::Options;
using testing_util::ParseText;
using testing_util::RejectsText;

constexpr int64_t kMs = kNanosPerMilli;
constexpr int64_t kLocalStart = 1723161255030314667;  // a local ns time from the usdm capture

// Capture line number `n`: "<local ns> <message>" (the local time is not used for rows).
std::string Line(int64_t n, const std::string& message) {
  return std::to_string(kLocalStart + n) + " " + message + "\n";
}

std::string FuturesDiff(int64_t event_ms, int64_t first, int64_t last, int64_t previous,
                        const std::string& bids, const std::string& asks) {
  return R"({"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":)" +
         std::to_string(event_ms) + R"(,"s":"BTCUSDT","U":)" + std::to_string(first) + R"(,"u":)" +
         std::to_string(last) + R"(,"pu":)" + std::to_string(previous) + R"(,"b":)" + bids +
         R"(,"a":)" + asks + "}}";
}

std::string SpotDiff(int64_t event_ms, int64_t first, int64_t last, const std::string& bids,
                     const std::string& asks) {
  return R"({"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":)" +
         std::to_string(event_ms) + R"(,"s":"ETHUSDT","U":)" + std::to_string(first) + R"(,"u":)" +
         std::to_string(last) + R"(,"b":)" + bids + R"(,"a":)" + asks + "}}";
}

std::string Snapshot(int64_t last_update_id, const std::string& bids, const std::string& asks) {
  return R"({"lastUpdateId":)" + std::to_string(last_update_id) + R"(,"bids":)" + bids +
         R"(,"asks":)" + asks + "}";
}

const std::string kBookTicker =
    R"({"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"10","B":"1","a":"11","A":"1"}})";

// Level 0 of one side at one time: (price, size), or (0, 0) when absent.
std::pair<double, double> Best(const RecordBatch& batch, int64_t ts, int64_t side) {
  const Frame& frame = batch.frame;
  for (int64_t row = 0; row < frame.rows(); ++row) {
    if (frame.timestamps()[row] == ts && frame.Int64s("side")[row] == side &&
        frame.Int64s("level")[row] == 0) {
      return {frame.Doubles("price")[row], frame.Doubles("size")[row]};
    }
  }
  return {0, 0};
}

Result<ParsedFile> ParseCapture(const std::string& text, DataKind kind = DataKind::kOrderBook) {
  return ParseText(text, Options(kind), "btcusdt_20240808.gz");
}

// lastUpdateId 100. Line 1 ends before it (dropped), line 2 spans it (applied first),
// line 5 continues line 2 (pu 102), line 6 breaks the chain (pu 104 != 105) and line 7,
// with no later snapshot, cannot be applied either.
TEST(HftbacktestReaderTest, FuturesDiffsFollowTheSnapshotByPu) {
  const std::string text =
      Line(1, FuturesDiff(900, 90, 95, 89, R"([["9","7"]])", "[]")) +
      Line(2, FuturesDiff(1000, 96, 102, 95, R"([["10","2"]])", "[]")) +
      Line(3, Snapshot(100, R"([["10","1"],["9","4"]])", R"([["11","1"],["12","3"]])")) +
      Line(4, kBookTicker) +
      Line(5, FuturesDiff(2000, 103, 105, 102, "[]", R"([["11","0"],["12","5"]])")) +
      Line(6, FuturesDiff(3000, 106, 108, 104, R"([["10","0"]])", "[]")) +
      Line(7, FuturesDiff(4000, 109, 110, 108, R"([["9","0"]])", "[]"));
  auto parsed = ParseCapture(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->format, "hftbacktest");
  EXPECT_EQ(parsed->rows_read, 6);  // 5 diffs + the snapshot; the bookTicker is not used
  ASSERT_EQ(parsed->batches.size(), 1u);
  const RecordBatch& batch = parsed->batches[0];
  EXPECT_EQ(batch.series.instrument.ToString(), "binance:BTCUSDT");
  // After line 2: bids 10 x 2, 9 x 4; asks 11 x 1, 12 x 3 (the dropped 9 x 7 is not seen).
  EXPECT_EQ(Best(batch, 1000 * kMs, kSideBuy), std::make_pair(10.0, 2.0));
  EXPECT_EQ(Best(batch, 1000 * kMs, kSideSell), std::make_pair(11.0, 1.0));
  // After line 5: ask 11 removed, 12 becomes 5.
  EXPECT_EQ(Best(batch, 2000 * kMs, kSideBuy), std::make_pair(10.0, 2.0));
  EXPECT_EQ(Best(batch, 2000 * kMs, kSideSell), std::make_pair(12.0, 5.0));
  EXPECT_EQ(batch.frame.rows(), (2 + 2) + (2 + 1));  // 2 bids + 2 asks, then 2 bids + 1 ask
  ASSERT_EQ(parsed->rejects.size(), 2u) << RejectsText(*parsed);
  EXPECT_EQ(parsed->rejects[0].line, 6);
  EXPECT_EQ(parsed->rejects[0].field, "pu");
  EXPECT_NE(parsed->rejects[0].reason.find("sequence break"), std::string::npos);
  EXPECT_NE(parsed->rejects[0].reason.find("previous u 105"), std::string::npos);
  EXPECT_EQ(parsed->rejects[1].line, 7);
  EXPECT_NE(parsed->rejects[1].reason.find("after the sequence break at line 6"),
            std::string::npos);
}

// After a break, the next snapshot line restarts the book: diffs received between the
// break and that snapshot are applied if they reach past it, as at the start.
TEST(HftbacktestReaderTest, NextSnapshotResyncsAfterABreak) {
  const std::string text =
      Line(1, Snapshot(100, R"([["10","1"]])", R"([["11","1"]])")) +
      Line(2, FuturesDiff(1000, 101, 102, 100, R"([["10","2"]])", "[]")) +
      Line(3, FuturesDiff(2000, 110, 112, 109, R"([["10","3"]])", "[]")) +  // break
      Line(4, FuturesDiff(3000, 113, 120, 112, R"([["10","4"]])", "[]")) +  // spans 115
      Line(5, Snapshot(115, R"([["10","9"],["8","1"]])", R"([["11","1"]])")) +
      Line(6, FuturesDiff(4000, 121, 125, 120, "[]", R"([["11","6"]])"));
  auto parsed = ParseCapture(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->rejects.size(), 1u) << RejectsText(*parsed);
  EXPECT_EQ(parsed->rejects[0].line, 3);
  const RecordBatch& batch = parsed->batches[0];
  EXPECT_EQ(Best(batch, 1000 * kMs, kSideBuy), std::make_pair(10.0, 2.0));
  // Line 4 is applied on the second snapshot: 10 x 9 becomes 10 x 4.
  EXPECT_EQ(Best(batch, 3000 * kMs, kSideBuy), std::make_pair(10.0, 4.0));
  EXPECT_EQ(Best(batch, 4000 * kMs, kSideSell), std::make_pair(11.0, 6.0));
  EXPECT_EQ(Best(batch, 2000 * kMs, kSideBuy), std::make_pair(0.0, 0.0));  // not stored
}

// Spot diffs have no pu: the first must span lastUpdateId + 1 and each next one must start
// at the previous u + 1; a diff ending at lastUpdateId is already in the snapshot.
TEST(HftbacktestReaderTest, SpotDiffsChainByUPlusOne) {
  const std::string text =
      Line(1, SpotDiff(900, 45, 50, R"([["10","7"]])", "[]")) +  // u == lastUpdateId: dropped
      Line(2, Snapshot(50, R"([["10","1"]])", R"([["11","1"]])")) +
      Line(3, SpotDiff(1000, 51, 52, R"([["10","2"]])", "[]")) +
      Line(4, SpotDiff(2000, 53, 53, "[]", R"([["11","3"]])")) +
      Line(5, SpotDiff(3000, 55, 56, "[]", R"([["11","4"]])"));  // 54 is missing
  auto parsed = ParseCapture(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->batches.size(), 1u);
  const RecordBatch& batch = parsed->batches[0];
  EXPECT_EQ(batch.series.instrument.ToString(), "binance:ETHUSDT");
  EXPECT_EQ(Best(batch, 1000 * kMs, kSideBuy), std::make_pair(10.0, 2.0));
  EXPECT_EQ(Best(batch, 2000 * kMs, kSideSell), std::make_pair(11.0, 3.0));
  ASSERT_EQ(parsed->rejects.size(), 1u) << RejectsText(*parsed);
  EXPECT_EQ(parsed->rejects[0].line, 5);
  EXPECT_EQ(parsed->rejects[0].field, "U");
}

TEST(HftbacktestReaderTest, GapBetweenSnapshotAndFirstDiffIsRejected) {
  const std::string text = Line(1, Snapshot(100, R"([["10","1"]])", R"([["11","1"]])")) +
                           Line(2, FuturesDiff(1000, 105, 108, 104, R"([["10","2"]])", "[]"));
  auto parsed = ParseCapture(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 0);
  ASSERT_EQ(parsed->rejects.size(), 1u);
  EXPECT_NE(parsed->rejects[0].reason.find("gap after the depth snapshot: lastUpdateId 100"),
            std::string::npos)
      << parsed->rejects[0].reason;
}

TEST(HftbacktestReaderTest, DiffsWithoutAnySnapshotAreRejected) {
  const std::string text = Line(1, FuturesDiff(1000, 1, 2, 0, R"([["10","2"]])", "[]")) +
                           Line(2, FuturesDiff(2000, 3, 4, 2, R"([["10","3"]])", "[]"));
  auto parsed = ParseCapture(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_read, 2);
  EXPECT_EQ(parsed->rows_valid(), 0);
  ASSERT_EQ(parsed->rejects.size(), 2u);
  EXPECT_NE(parsed->rejects[0].reason.find("no depth snapshot"), std::string::npos);
}

// Two diffs stamped with the same E store one snapshot: the book after the second.
TEST(HftbacktestReaderTest, DiffsSharingAnEventTimeStoreOneSnapshot) {
  const std::string text = Line(1, Snapshot(100, R"([["10","1"]])", R"([["11","1"]])")) +
                           Line(2, FuturesDiff(1000, 100, 101, 99, R"([["10","2"]])", "[]")) +
                           Line(3, FuturesDiff(1000, 102, 103, 101, R"([["10","5"]])", "[]"));
  auto parsed = ParseCapture(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->rejects.empty()) << RejectsText(*parsed);
  const RecordBatch& batch = parsed->batches[0];
  ASSERT_EQ(batch.frame.rows(), 2);
  EXPECT_EQ(Best(batch, 1000 * kMs, kSideBuy), std::make_pair(10.0, 5.0));
  EXPECT_EQ(batch.lines[0], 3);
}

TEST(HftbacktestReaderTest, DepthOptionCutsEachSide) {
  const std::string text =
      Line(1, Snapshot(100, R"([["10","1"],["9","1"],["8","1"]])", R"([["11","1"],["12","1"]])")) +
      Line(2, FuturesDiff(1000, 100, 101, 99, R"([["7","1"]])", "[]"));
  ReadOptions options = Options(DataKind::kOrderBook);
  options.book_depth = 2;
  auto parsed = ParseText(text, options, "x.gz");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 4);
}

// m = buyer is maker: true means the aggressor sold. Rows use the trade time T.
TEST(HftbacktestReaderTest, TradesTakeSideFromTheMakerFlag) {
  const std::string text =
      Line(5, kBookTicker) +
      Line(
          6,
          R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1001,"T":1000,"s":"BTCUSDT","t":7,"p":"61800.30","q":"0.006","m":false}})") +
      Line(
          7,
          R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1003,"T":1002,"s":"BTCUSDT","t":8,"p":"61800.20","q":"0.5","m":true}})") +
      Line(8, FuturesDiff(1000, 1, 2, 0, R"([["10","2"]])", "[]"));
  auto parsed = ParseCapture(text, DataKind::kTrades);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_read, 2);  // the depth and bookTicker lines are not trades
  EXPECT_TRUE(parsed->rejects.empty()) << RejectsText(*parsed);
  ASSERT_EQ(parsed->batches.size(), 1u);
  const Frame& frame = parsed->batches[0].frame;
  ASSERT_EQ(frame.rows(), 2);
  EXPECT_EQ(frame.timestamps()[0], 1000 * kMs);
  EXPECT_EQ(frame.Doubles("price")[0], 61800.30);
  EXPECT_EQ(frame.Doubles("qty")[0], 0.006);
  EXPECT_EQ(frame.Int64s("side")[0], kSideBuy);
  EXPECT_EQ(frame.Int64s("trade_id")[0], 7);
  EXPECT_EQ(frame.Int64s("side")[1], kSideSell);
  EXPECT_EQ(parsed->batches[0].lines[1], 3);
}

const std::string kHyperliquidBook =
    R"({"channel":"l2Book","data":{"coin":"BTC","time":TIME,"levels":[[{"px":"100.0","sz":"1.5","n":2},{"px":"99.0","sz":"2","n":1}],[{"px":"101.0","sz":"SIZE","n":1}]]}})";

std::string HyperliquidBook(int64_t time_ms, const std::string& ask_size) {
  std::string message = kHyperliquidBook;
  message.replace(message.find("TIME"), 4, std::to_string(time_ms));
  message.replace(message.find("SIZE"), 4, ask_size);
  return message;
}

// l2Book messages are whole snapshots; two with the same time store the later one.
TEST(HftbacktestReaderTest, HyperliquidBookSnapshots) {
  const std::string text =
      Line(1, HyperliquidBook(5000, "3")) + Line(2, HyperliquidBook(5000, "4")) +
      Line(3, HyperliquidBook(6000, "5")) + Line(4, R"({"channel":"trades","data":[]})");
  auto parsed = ParseCapture(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_read, 3);
  EXPECT_TRUE(parsed->rejects.empty()) << RejectsText(*parsed);
  ASSERT_EQ(parsed->batches.size(), 1u);
  const RecordBatch& batch = parsed->batches[0];
  EXPECT_EQ(batch.series.instrument.ToString(), "hyperliquid:BTC");
  EXPECT_EQ(batch.frame.rows(), 2 * 3);  // 2 bids + 1 ask at 5000 and at 6000
  EXPECT_EQ(Best(batch, 5000 * kMs, kSideSell), std::make_pair(101.0, 4.0));
  EXPECT_EQ(Best(batch, 5000 * kMs, kSideBuy), std::make_pair(100.0, 1.5));
  EXPECT_EQ(Best(batch, 6000 * kMs, kSideSell), std::make_pair(101.0, 5.0));
}

TEST(HftbacktestReaderTest, HyperliquidTradesSideFromBOrA) {
  const std::string text = Line(
      1,
      R"({"channel":"trades","data":[{"coin":"BTC","px":"105056.0","side":"B","sz":"0.00219","tid":12,"time":1737918794873},{"coin":"BTC","px":"105055.0","side":"A","sz":"0.1","tid":13,"time":1737918794873}]})");
  auto parsed = ParseCapture(text, DataKind::kTrades);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_read, 2);
  ASSERT_EQ(parsed->batches.size(), 1u);
  const Frame& frame = parsed->batches[0].frame;
  ASSERT_EQ(frame.rows(), 2);
  EXPECT_EQ(frame.timestamps()[0], 1737918794873 * kMs);
  EXPECT_EQ(frame.Int64s("side")[0], kSideBuy);
  EXPECT_EQ(frame.Int64s("side")[1], kSideSell);
  EXPECT_EQ(frame.Doubles("qty")[0], 0.00219);
  EXPECT_EQ(frame.Int64s("trade_id")[1], 13);
}

TEST(HftbacktestReaderTest, BrokenLinesAreRejectedOneByOne) {
  const std::string text = Line(1, Snapshot(100, R"([["10","1"]])", R"([["11","1"]])")) +
                           "not a capture line\n" + Line(3, R"({"stream":"btcusdt@depth@0ms",)") +
                           Line(4, FuturesDiff(1000, 100, 101, 99, R"([["10","x"]])", "[]")) +
                           Line(5, FuturesDiff(2000, 100, 101, 99, R"([["10","2"]])", "[]"));
  auto parsed = ParseCapture(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->rejects.size(), 3u) << RejectsText(*parsed);
  EXPECT_EQ(parsed->rejects[0].line, 2);
  EXPECT_EQ(parsed->rejects[1].line, 3);
  EXPECT_EQ(parsed->rejects[2].line, 4);
  EXPECT_EQ(parsed->rejects[2].field, "b");
  EXPECT_EQ(parsed->rows_valid(), 2);  // line 5 applies: bid 10 x 2, ask 11 x 1
}

TEST(HftbacktestReaderTest, WholeFileFailures) {
  ReadOptions options = Options(DataKind::kOrderBook);
  options.format = FileFormat::kHftbacktest;
  auto not_capture = ParseText("a,b,c\n1,2,3\n", options, "x.csv");
  ASSERT_FALSE(not_capture.ok());
  EXPECT_EQ(not_capture.status().code(), StatusCode::kParseError);
  EXPECT_NE(not_capture.status().message().find("not an hftbacktest capture"), std::string::npos);
  options.kind = DataKind::kCandles;
  auto candles = ParseText(Line(1, kBookTicker), options, "x.gz");
  ASSERT_FALSE(candles.ok());
  EXPECT_EQ(candles.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(candles.status().message().find("--kind orderbook or trades"), std::string::npos);
}

}  // namespace
}  // namespace vigil
