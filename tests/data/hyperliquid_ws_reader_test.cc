// Hyperliquid websocket messages: the shared user-fill liquidation sample (values read
// off the file by hand), fills as trades, l2Book and trades channels, documents vs JSON
// lines, and the refused allDexsAssetCtxs snapshot.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "data/reader_test_util.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

using testing_util::Options;
using testing_util::ParseText;
using testing_util::ReadShared;
using testing_util::RejectsText;

constexpr int64_t kMs = kNanosPerMilli;
constexpr char kSample[] = "liquidations/hyperliquid_ws_user_fill_liquidation.json";

// A user-channel fill; `extra` is appended inside the fill object.
std::string UserFill(const std::string& side, int64_t tid, bool crossed, const std::string& extra) {
  return R"({"channel":"user","data":{"fills":[{"coin":"ETH","px":"2000.5","sz":"2","side":")" +
         side + R"(","time":1700000000000,"crossed":)" + (crossed ? "true" : "false") +
         R"(,"tid":)" + std::to_string(tid) + extra + "}]}}";
}

const std::string kLiquidation =
    R"(,"liquidation":{"liquidatedUser":"0x1","markPx":"2000.0","method":"market"})";

// The sample: BTC, px 66653.0, sz 0.001, side A, time 1781528065899, tid 745210434703679,
// dir "Open Short" with a liquidation object naming another account.
TEST(HyperliquidWsReaderTest, SharedLiquidationFill) {
  auto parsed = ReadShared(kSample, Options(DataKind::kLiquidations));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->format, "hyperliquid-ws");
  EXPECT_EQ(parsed->rows_read, 1);
  EXPECT_TRUE(parsed->rejects.empty()) << RejectsText(*parsed);
  ASSERT_EQ(parsed->batches.size(), 1u);
  const RecordBatch& batch = parsed->batches[0];
  EXPECT_EQ(batch.series.instrument.ToString(), "hyperliquid:BTC");
  const Frame& frame = batch.frame;
  ASSERT_EQ(frame.rows(), 1);
  EXPECT_EQ(frame.timestamps()[0], 1781528065899 * kMs);
  // The subscriber sold (A) against the liquidation: the liquidated position was short.
  EXPECT_EQ(frame.Int64s("side")[0], kSideSell);
  EXPECT_EQ(frame.Doubles("price")[0], 66653.0);
  EXPECT_EQ(frame.Doubles("qty")[0], 0.001);
  EXPECT_DOUBLE_EQ(frame.Doubles("notional")[0], 66.653);
  EXPECT_TRUE(std::isnan(frame.Doubles("account_value")[0]));
  EXPECT_EQ(frame.Int64s("event_id")[0], 745210434703679);
  EXPECT_EQ(batch.lines[0], 1);
}

// As a trade: "crossed": false means the subscriber was the maker, so the aggressor took
// the other side of its sell: a buy.
TEST(HyperliquidWsReaderTest, SharedFillAsTrade) {
  auto parsed = ReadShared(kSample, Options(DataKind::kTrades));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->batches.size(), 1u);
  const Frame& frame = parsed->batches[0].frame;
  ASSERT_EQ(frame.rows(), 1);
  EXPECT_EQ(frame.Int64s("side")[0], kSideBuy);
  EXPECT_EQ(frame.Int64s("trade_id")[0], 745210434703679);
  EXPECT_EQ(frame.Doubles("qty")[0], 0.001);
}

TEST(HyperliquidWsReaderTest, FillsHoldNoBooks) {
  auto parsed = ReadShared(kSample, Options(DataKind::kOrderBook));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
  EXPECT_NE(parsed.status().message().find("no data rows"), std::string::npos);
}

// JSON lines: only fills with a liquidation are liquidations; a taker fill (crossed) is a
// trade on the subscriber's own side.
TEST(HyperliquidWsReaderTest, LinesOfFills) {
  const std::string text = UserFill("B", 1, true, "") + "\n" +
                           UserFill("B", 2, false, kLiquidation) + "\n" +
                           R"({"channel":"subscriptionResponse","data":{}})" + "\n";
  auto liquidations = ParseText(text, Options(DataKind::kLiquidations), "fills.jsonl");
  ASSERT_TRUE(liquidations.ok()) << liquidations.status().ToString();
  EXPECT_EQ(liquidations->format, "hyperliquid-ws");
  EXPECT_EQ(liquidations->rows_read, 1);
  ASSERT_EQ(liquidations->batches.size(), 1u);
  const Frame& liquidated = liquidations->batches[0].frame;
  ASSERT_EQ(liquidated.rows(), 1);
  EXPECT_EQ(liquidated.Int64s("side")[0], kSideBuy);  // B against a liquidated long
  EXPECT_EQ(liquidated.Int64s("event_id")[0], 2);
  EXPECT_EQ(liquidated.Doubles("notional")[0], 4001.0);  // 2000.5 x 2
  EXPECT_EQ(liquidations->batches[0].lines[0], 2);

  auto trades = ParseText(text, Options(DataKind::kTrades), "fills.jsonl");
  ASSERT_TRUE(trades.ok()) << trades.status().ToString();
  EXPECT_EQ(trades->rows_read, 2);
  const Frame& frame = trades->batches[0].frame;
  ASSERT_EQ(frame.rows(), 2);
  EXPECT_EQ(frame.Int64s("side")[0], kSideBuy);   // taker bought
  EXPECT_EQ(frame.Int64s("side")[1], kSideSell);  // maker bought: the taker sold
}

TEST(HyperliquidWsReaderTest, UserFillsChannelAndBadLines) {
  const std::string text =
      R"({"channel":"userFills","data":{"isSnapshot":true,"user":"0x2","fills":[{"coin":"SOL","px":"150","sz":"3","side":"A","time":1700000000001,"crossed":true,"tid":9}]}})"
      "\n{not json\n"
      R"({"channel":"candle","data":{}})"
      "\n"
      R"({"channel":"user","data":{"fills":[{"coin":"SOL","px":"x","sz":"3","side":"A","time":1,"tid":10}]}})"
      "\n";
  auto parsed = ParseText(text, Options(DataKind::kTrades), "fills.jsonl");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_read, 4);
  EXPECT_EQ(parsed->rows_valid(), 1);
  ASSERT_EQ(parsed->rejects.size(), 3u) << RejectsText(*parsed);
  EXPECT_EQ(parsed->rejects[0].line, 2);
  EXPECT_EQ(parsed->rejects[1].line, 3);
  EXPECT_NE(parsed->rejects[1].reason.find("'candle'"), std::string::npos);
  EXPECT_EQ(parsed->rejects[2].field, "px");
  EXPECT_EQ(parsed->batches[0].series.instrument.ToString(), "hyperliquid:SOL");
  EXPECT_EQ(parsed->batches[0].frame.Int64s("side")[0], kSideSell);
}

// A pretty-printed single l2Book message is one record; levels are bids then asks.
TEST(HyperliquidWsReaderTest, PrettyPrintedBookDocument) {
  const std::string text = R"({
  "channel": "l2Book",
  "data": {
    "coin": "ETH",
    "time": 1700000000000,
    "levels": [
      [{"px": "2000.1", "sz": "1", "n": 1}, {"px": "2000.0", "sz": "2", "n": 3}],
      [{"px": "2000.2", "sz": "4", "n": 2}]
    ]
  }
})";
  ReadOptions options = Options(DataKind::kOrderBook);
  options.book_depth = 1;
  auto parsed = ParseText(text, options, "book.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->format, "hyperliquid-ws");
  ASSERT_EQ(parsed->batches.size(), 1u);
  const Frame& frame = parsed->batches[0].frame;
  ASSERT_EQ(frame.rows(), 2);  // depth 1: the best bid and the best ask
  const int bid = frame.Int64s("side")[0] == kSideBuy ? 0 : 1;
  EXPECT_EQ(frame.Int64s("side")[bid], kSideBuy);
  EXPECT_EQ(frame.Doubles("price")[bid], 2000.1);
  EXPECT_EQ(frame.Doubles("size")[bid], 1.0);
  EXPECT_EQ(frame.Int64s("side")[1 - bid], kSideSell);
  EXPECT_EQ(frame.Doubles("price")[1 - bid], 2000.2);
  EXPECT_EQ(frame.Doubles("size")[1 - bid], 4.0);
}

TEST(HyperliquidWsReaderTest, ArrayOfMessagesNumbersRecords) {
  ReadOptions options = Options(DataKind::kTrades);
  options.format = FileFormat::kHyperliquidWs;
  const std::string text =
      "[\n" + UserFill("B", 1, true, "") + ",\n" + R"({"nochannel":1})" + "\n]";
  auto parsed = ParseText(text, options, "fills.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 1);
  ASSERT_EQ(parsed->rejects.size(), 1u);
  EXPECT_EQ(parsed->rejects[0].line, 2);
  EXPECT_EQ(parsed->rejects[0].field, "channel");
}

// Among other messages an allDexsAssetCtxs line is one rejected record; a file of nothing
// else is refused as a whole, whatever the kind.
TEST(HyperliquidWsReaderTest, AssetContextsAreRefused) {
  const std::string ctxs =
      R"({"channel":"allDexsAssetCtxs","data":{"ctxs":[["",[{"funding":"0.0000125"}]]]}})";
  auto mixed = ParseText(ctxs + "\n" + UserFill("B", 1, true, "") + "\n",
                         Options(DataKind::kTrades), "mixed.jsonl");
  ASSERT_TRUE(mixed.ok()) << mixed.status().ToString();
  EXPECT_EQ(mixed->rows_valid(), 1);
  ASSERT_EQ(mixed->rejects.size(), 1u);
  EXPECT_NE(mixed->rejects[0].reason.find("no timestamp and no coin names"), std::string::npos);
  auto alone = ParseText(ctxs + "\n", Options(DataKind::kFunding), "ctxs.json");
  ASSERT_FALSE(alone.ok());
  EXPECT_EQ(alone.status().code(), StatusCode::kParseError);
  EXPECT_NE(alone.status().message().find(
                "a Hyperliquid allDexsAssetCtxs snapshot has no timestamp and no coin names; "),
            std::string::npos);
}

TEST(HyperliquidWsReaderTest, UnsupportedKindNamesTheKinds) {
  auto parsed = ReadShared(kSample, Options(DataKind::kFunding));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("orderbook, trades or liquidations"), std::string::npos);
}

}  // namespace
}  // namespace vigil
