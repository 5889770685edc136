#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "data/reader_test_util.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

using testing_util::BatchOf;
using testing_util::Nanos;
using testing_util::Options;
using testing_util::ParseText;
using testing_util::RejectsText;

ReadOptions JsonlOptions(DataKind kind, std::string venue = "binance",
                         std::string symbol = "BTC/USDT") {
  ReadOptions options = Options(kind, std::move(venue), std::move(symbol));
  options.format = FileFormat::kJsonl;
  if (SchemaOf(kind).has_timeframe) options.timeframe = "1m";
  return options;
}

TEST(JsonlReaderTest, NumbersAndNumericStrings) {
  auto parsed = ParseText(
      "{\"ts\":\"2024-01-01T00:00:00Z\",\"open\":1.5,\"high\":\"2.25\",\"low\":1,\"close\":2}\n"
      "{\"ts\":1704067260000,\"o\":2,\"h\":3,\"l\":1.75,\"c\":\"2.5\",\"v\":10}\n",
      JsonlOptions(DataKind::kCandles), "bars.jsonl");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->format, "jsonl");
  EXPECT_EQ(parsed->rows_read, 2);
  ASSERT_EQ(parsed->rows_valid(), 2) << RejectsText(*parsed);
  const Frame& frame = parsed->batches[0].frame;
  EXPECT_EQ(frame.timestamps()[0], Nanos("2024-01-01T00:00:00Z"));
  EXPECT_EQ(frame.timestamps()[1], Nanos("2024-01-01T00:01:00Z"));  // epoch ms
  EXPECT_EQ(frame.Doubles("high")[0], 2.25);
  EXPECT_EQ(frame.Doubles("low")[1], 1.75);
  EXPECT_EQ(frame.Doubles("close")[1], 2.5);
  EXPECT_TRUE(std::isnan(frame.Doubles("volume")[0]));  // key absent on line 1
  EXPECT_EQ(frame.Doubles("volume")[1], 10);
  EXPECT_EQ(parsed->batches[0].lines, (std::vector<int64_t>{1, 2}));
}

TEST(JsonlReaderTest, BadLineIsARejectedRowWithTheParserMessage) {
  auto parsed = ParseText(
      "{\"ts\":1000,\"price\":10,\"qty\":1,\"side\":\"buy\",\"id\":1}\n"
      "{\"ts\":1001,\"price\":10,\"qty\n"
      "\n"
      "{\"ts\":1002,\"price\":11,\"qty\":2,\"side\":\"sell\",\"id\":2}\n",
      JsonlOptions(DataKind::kTrades), "t.jsonl");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_read, 3);
  EXPECT_EQ(parsed->rows_valid(), 2);
  ASSERT_EQ(parsed->rejects.size(), 1u);
  EXPECT_EQ(parsed->rejects[0].line, 2);
  EXPECT_EQ(parsed->rejects[0].source, "t.jsonl");
  EXPECT_NE(parsed->rejects[0].reason.find("not valid JSON"), std::string::npos);
  EXPECT_NE(parsed->rejects[0].reason.find("parse error"), std::string::npos)
      << parsed->rejects[0].reason;
  EXPECT_EQ(parsed->rejects[0].raw, "{\"ts\":1001,\"price\":10,\"qty");
}

TEST(JsonlReaderTest, NonObjectLineIsRejected) {
  auto parsed =
      ParseText("[1,2,3]\n{\"ts\":1000,\"price\":10,\"qty\":1}\n", JsonlOptions(DataKind::kTrades));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->rejects.size(), 1u);
  EXPECT_EQ(parsed->rejects[0].reason, "not a JSON object (found array)");
  EXPECT_EQ(parsed->rows_valid(), 1);
}

TEST(JsonlReaderTest, NoUsableLineIsAParseError) {
  auto parsed = ParseText("not json\n{broken\n", JsonlOptions(DataKind::kTrades), "junk.jsonl");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
  EXPECT_NE(parsed.status().message().find("junk.jsonl: no line is a usable JSON object"),
            std::string::npos)
      << parsed.status().message();
  EXPECT_NE(parsed.status().message().find("line 1"), std::string::npos);
}

TEST(JsonlReaderTest, ObjectsWithoutARequiredKeyAreRejected) {
  auto parsed = ParseText(
      "{\"ts\":1000,\"price\":10,\"qty\":1}\n"
      "{\"ts\":1001,\"qty\":1}\n"
      "{\"ts\":1002,\"price\":12,\"qty\":1}\n",
      JsonlOptions(DataKind::kTrades));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 2);
  ASSERT_EQ(parsed->rejects.size(), 1u);
  EXPECT_EQ(parsed->rejects[0].line, 2);
  EXPECT_NE(parsed->rejects[0].reason.find("field 'price'"), std::string::npos)
      << parsed->rejects[0].reason;
}

TEST(JsonlReaderTest, AllLinesLackingAFieldIsAParseError) {
  auto parsed = ParseText("{\"ts\":1000,\"qty\":1}\n{\"ts\":1001,\"qty\":2}\n",
                          JsonlOptions(DataKind::kTrades));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("field 'price'"), std::string::npos);
}

TEST(JsonlReaderTest, BadValueIsRejectedNamingTheField) {
  auto parsed = ParseText(
      "{\"ts\":1000,\"price\":\"ten\",\"qty\":1}\n"
      "{\"ts\":1001,\"price\":{\"a\":1},\"qty\":1}\n",
      JsonlOptions(DataKind::kTrades));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->rejects.size(), 2u);
  EXPECT_EQ(parsed->rejects[0].field, "price");
  EXPECT_EQ(parsed->rejects[0].reason, "not a number: 'ten'");
  EXPECT_EQ(parsed->rejects[1].reason, "not a number: '{\"a\":1}'");
}

TEST(JsonlReaderTest, HyperliquidStyleFillsWithCoinKey) {
  auto parsed = ParseText(
      "{\"coin\":\"BTC\",\"px\":\"66653.0\",\"sz\":\"0.001\",\"side\":\"A\",\"time\":1781528065899,"
      "\"tid\":9007199254740993}\n"
      "{\"coin\":\"ETH\",\"px\":\"3000.5\",\"sz\":\"0.5\",\"side\":\"B\",\"time\":1781528065900,"
      "\"tid\":12}\n",
      JsonlOptions(DataKind::kTrades, "hyperliquid", ""));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const RecordBatch* btc = BatchOf(*parsed, "hyperliquid:BTC");
  const RecordBatch* eth = BatchOf(*parsed, "hyperliquid:ETH");
  ASSERT_NE(btc, nullptr);
  ASSERT_NE(eth, nullptr);
  EXPECT_EQ(btc->frame.timestamps()[0], 1781528065899 * kNanosPerMilli);
  EXPECT_EQ(btc->frame.Int64s("side")[0], kSideSell);
  EXPECT_EQ(btc->frame.Doubles("price")[0], 66653.0);
  // 2^53 + 1: must not pass through a double.
  EXPECT_EQ(btc->frame.Int64s("trade_id")[0], 9007199254740993);
  EXPECT_EQ(eth->frame.Int64s("side")[0], kSideBuy);
  EXPECT_EQ(eth->frame.Doubles("qty")[0], 0.5);
}

TEST(JsonlReaderTest, InstrumentKeyAndFloatEpochSeconds) {
  auto parsed =
      ParseText("{\"ts\":1762795433.9717445,\"instrument\":\"kraken:XBT/USDT\",\"rate\":-0.0001}\n",
                JsonlOptions(DataKind::kFunding, "", ""));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const RecordBatch* batch = BatchOf(*parsed, "kraken:XBT/USDT");
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->frame.Doubles("rate")[0], -0.0001);
  // Within a microsecond of the decimal value (a double holds ~16 digits).
  const int64_t expected = 1762795433 * kNanosPerSecond + 971744500;
  EXPECT_LE(std::llabs(batch->frame.timestamps()[0] - expected), 1000);
}

TEST(JsonlReaderTest, ExactKeyBeatsCaseInsensitiveMatch) {
  // Hyperliquid candles: "t" is the open time, "T" the close time.
  auto parsed = ParseText(
      "{\"t\":1700000000000,\"T\":1700000059999,\"s\":\"BTC\",\"i\":\"1m\",\"o\":\"1\","
      "\"c\":\"1.5\",\"h\":\"2\",\"l\":\"0.5\",\"v\":\"10\",\"n\":5}\n",
      JsonlOptions(DataKind::kCandles, "hyperliquid", "BTC"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->rows_valid(), 1) << RejectsText(*parsed);
  const Frame& frame = parsed->batches[0].frame;
  EXPECT_EQ(frame.timestamps()[0], 1700000000000 * kNanosPerMilli);
  EXPECT_EQ(frame.Doubles("trades")[0], 5);
  EXPECT_EQ(frame.Doubles("close")[0], 1.5);
}

TEST(JsonlReaderTest, DetectedFromContent) {
  ReadOptions options = JsonlOptions(DataKind::kTrades);
  options.format = FileFormat::kAuto;
  auto parsed =
      ParseText("{\"ts\":1000,\"price\":10,\"qty\":1}\n{\"ts\":1001,\"price\":10,\"qty\":1}\n",
                options, "t.txt");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->format, "jsonl");
  EXPECT_EQ(parsed->rows_valid(), 2);
}

}  // namespace
}  // namespace vigil
