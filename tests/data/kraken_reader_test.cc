// Kraken REST JSON reader: /0/public/OHLC and /0/public/Trades responses.
#include <gtest/gtest.h>

#include <string>

#include "data/readers/format_readers.h"
#include "vigil/core/timestamp.h"

namespace vigil::data_internal {
namespace {

struct Outcome {
  Status status;
  ParsedFile file;
};

Outcome ParseText(std::string_view text, DataKind kind, const std::string& source = "kraken.json") {
  ReadOptions options;
  options.kind = kind;
  BatchSink sink(options, source);
  Outcome out;
  out.status = ReadKrakenJson(text, &sink);
  if (out.status.ok()) out.file = sink.Finish("kraken");
  return out;
}

int64_t IsoNanos(const char* iso) { return Timestamp::ParseIso(iso)->nanos(); }

// Three bars of kraken_http_ohlc_XBTUSDT_1m.json (the first has no trades).
constexpr const char* kOhlc = R"({"error": [], "result": {"XBTUSDT": [
  [1762777020, "106038.2", "106038.2", "106038.2", "106038.2", "0.0", "0.00000000", 0],
  [1762777140, "106038.3", "106038.3", "106038.3", "106038.3", "106038.3", "0.00032101", 1],
  [1762777200, "106038.1", "106044.3", "106038.1", "106040.1", "106039.6", "0.08317981", 3]
], "last": 1762820160}})";

TEST(KrakenReaderTest, ReadsOhlcBars) {
  Outcome out = ParseText(kOhlc, DataKind::kCandles, "kraken_http_ohlc_XBTUSDT_1m.json");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.file.batches.size(), 1u);
  const RecordBatch& batch = out.file.batches[0];
  EXPECT_EQ(batch.series.instrument.ToString(), "kraken:XBTUSDT");
  EXPECT_EQ(batch.series.timeframe, "1m");
  ASSERT_EQ(batch.frame.rows(), 3);
  EXPECT_EQ(batch.frame.timestamps()[0], IsoNanos("2025-11-10T12:17:00Z"));
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("high")[2], 106044.3);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("close")[2], 106040.1);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("volume")[2], 0.08317981);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("trades")[2], 3);
  // quote volume = VWAP x volume.
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("quote_volume")[2], 106039.6 * 0.08317981);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("quote_volume")[0], 0.0);
}

TEST(KrakenReaderTest, ReadsTradesWithFractionalTimes) {
  const std::string text = R"({"error":[],"result":{"XBTUSDT":[
    ["105433.60000","0.00027625",1762795433.9717445,"b","l","",10218208],
    ["105394.00000","0.00100000",1762820035.9822779,"s","m","",10219207]
  ],"last":"1762820035982277754"}})";
  Outcome out = ParseText(text, DataKind::kTrades);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  const Frame& frame = out.file.batches[0].frame;
  ASSERT_EQ(frame.rows(), 2);
  EXPECT_EQ(frame.Int64s("side")[0], kSideBuy);
  EXPECT_EQ(frame.Int64s("side")[1], kSideSell);
  EXPECT_EQ(frame.Int64s("trade_id")[1], 10219207);
  EXPECT_DOUBLE_EQ(frame.Doubles("price")[0], 105433.6);
  EXPECT_DOUBLE_EQ(frame.Doubles("qty")[0], 0.00027625);
  // .9822779 s = 982277.9 us, kept to the microsecond a double can carry.
  EXPECT_EQ(frame.timestamps()[1], IsoNanos("2025-11-11T00:13:55.982278Z"));
}

TEST(KrakenReaderTest, SymbolOptionOverridesThePairKey) {
  ReadOptions options;
  options.kind = DataKind::kCandles;
  options.symbol = "BTC/USDT";
  BatchSink sink(options, "ohlc.json");
  ASSERT_TRUE(ReadKrakenJson(kOhlc, &sink).ok());
  ParsedFile file = sink.Finish("kraken");
  ASSERT_EQ(file.batches.size(), 1u);
  EXPECT_EQ(file.batches[0].series.instrument.ToString(), "kraken:BTC/USDT");
}

TEST(KrakenReaderTest, ErrorArrayIsAParseError) {
  Outcome out = ParseText(R"({"error":["EQuery:Unknown asset pair"]})", DataKind::kCandles);
  EXPECT_EQ(out.status.code(), StatusCode::kParseError);
  EXPECT_NE(out.status.message().find("EQuery:Unknown asset pair"), std::string::npos);
}

TEST(KrakenReaderTest, MalformedDocumentsAreParseErrors) {
  EXPECT_EQ(ParseText(R"({"error":[],"result":{"XBTUSDT":[)", DataKind::kCandles).status.code(),
            StatusCode::kParseError);
  EXPECT_EQ(ParseText(R"({"error":[]})", DataKind::kCandles).status.code(),
            StatusCode::kParseError);
  EXPECT_EQ(ParseText(R"({"error":[],"result":{"last":5}})", DataKind::kCandles).status.code(),
            StatusCode::kParseError);
}

TEST(KrakenReaderTest, BadRecordIsRejectedWithItsNumber) {
  const std::string text = R"({"error":[],"result":{"XBTUSDT":[
    ["105433.6","0.1",1762795433.5,"b","l","",1],
    ["105433.6","0.1",1762795434.5,"x","l","",2],
    ["oops","0.1",1762795435.5,"s","l","",3]]}})";
  Outcome out = ParseText(text, DataKind::kTrades);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.rows_read, 3);
  EXPECT_EQ(out.file.rows_valid(), 1);
  ASSERT_EQ(out.file.rejects.size(), 2u);
  EXPECT_EQ(out.file.rejects[0].line, 2);
  EXPECT_EQ(out.file.rejects[0].field, "side");
  EXPECT_EQ(out.file.rejects[1].line, 3);
  EXPECT_EQ(out.file.rejects[1].field, "price");
}

TEST(KrakenReaderTest, WrongKindIsRefused) {
  Outcome trades_as_candles = ParseText(kOhlc, DataKind::kTrades);
  EXPECT_EQ(trades_as_candles.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(trades_as_candles.status.message().find("--kind candles"), std::string::npos);
  EXPECT_EQ(ParseText(kOhlc, DataKind::kFunding).status.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil::data_internal
