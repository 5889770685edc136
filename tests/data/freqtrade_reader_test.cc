// Freqtrade JSON reader: candles and trades arrays, malformed input, wrong kinds.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "data/readers/format_readers.h"
#include "vigil/core/timestamp.h"
#include "vigil/data/reader.h"

namespace vigil::data_internal {
namespace {

struct Outcome {
  Status status;
  ParsedFile file;
};

Outcome ParseText(std::string_view text, const std::string& source, const ReadOptions& options) {
  BatchSink sink(options, source);
  Outcome out;
  out.status = ReadFreqtradeJson(text, &sink);
  if (out.status.ok()) out.file = sink.Finish("freqtrade");
  return out;
}

ReadOptions Options(DataKind kind) {
  ReadOptions options;
  options.kind = kind;
  options.venue = "bittrex";
  return options;
}

int64_t IsoNanos(const char* iso) { return Timestamp::ParseIso(iso)->nanos(); }

TEST(FreqtradeReaderTest, ReadsCandlesWithPairAndTimeframeFromFileName) {
  // The first two rows of UNITTEST_BTC-1m.json.
  const std::string text =
      "[[1509836520000, 0.00162008, 0.00162008, 0.00162008, 0.00162008, 108.14853839],"
      " [1509836580000, 0.00161, 0.00161, 0.00161, 0.00161, 82.390199]]";
  Outcome out = ParseText(text, "data/UNITTEST_BTC-1m.json", Options(DataKind::kCandles));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.file.batches.size(), 1u);
  const RecordBatch& batch = out.file.batches[0];
  EXPECT_EQ(batch.series.instrument.ToString(), "bittrex:UNITTEST/BTC");
  EXPECT_EQ(batch.series.timeframe, "1m");
  ASSERT_EQ(batch.frame.rows(), 2);
  EXPECT_EQ(out.file.rows_read, 2);
  // 1509836520 s = 2017-11-04T23:02:00Z (the first bar PROVENANCE.md names).
  EXPECT_EQ(batch.frame.timestamps()[0], IsoNanos("2017-11-04T23:02:00Z"));
  EXPECT_EQ(batch.frame.timestamps()[1], IsoNanos("2017-11-04T23:03:00Z"));
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("open")[0], 0.00162008);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("close")[1], 0.00161);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("volume")[1], 82.390199);
  EXPECT_TRUE(std::isnan(batch.frame.Doubles("trades")[0]));  // freqtrade has no count
  EXPECT_EQ(batch.lines[0], 1);
  EXPECT_EQ(batch.lines[1], 2);
}

TEST(FreqtradeReaderTest, ReadsTradesWithSideAndId) {
  // The first rows of XRP_ETH-trades.json, plus one with a null side and a non-numeric id.
  const std::string text =
      "[[1570752011620,\"13519807\",null,\"sell\",0.00141342,23.0,0.03250866],"
      "[1570752028907,\"13519810\",null,\"buy\",0.00141379,581.0,0.82141199],"
      "[1570752030000,\"abc\",null,null,0.0014,1.0,0.0014]]";
  Outcome out = ParseText(text, "XRP_ETH-trades.json", Options(DataKind::kTrades));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.file.batches.size(), 1u);
  const Frame& frame = out.file.batches[0].frame;
  EXPECT_EQ(out.file.batches[0].series.instrument.ToString(), "bittrex:XRP/ETH");
  ASSERT_EQ(frame.rows(), 3);
  EXPECT_EQ(frame.timestamps()[0], 1570752011620LL * kNanosPerMilli);
  EXPECT_EQ(frame.Int64s("side")[0], kSideSell);
  EXPECT_EQ(frame.Int64s("side")[1], kSideBuy);
  EXPECT_EQ(frame.Int64s("side")[2], kSideUnknown);
  EXPECT_EQ(frame.Int64s("trade_id")[0], 13519807);
  EXPECT_EQ(frame.Int64s("trade_id")[1], 13519810);
  EXPECT_EQ(frame.Int64s("trade_id")[2], 0);  // no numeric id: first row at its time
  EXPECT_DOUBLE_EQ(frame.Doubles("price")[1], 0.00141379);
  EXPECT_DOUBLE_EQ(frame.Doubles("qty")[1], 581.0);
}

TEST(FreqtradeReaderTest, BadRecordBecomesOneRejectedRowWithItsNumber) {
  const std::string text =
      "[[1509836520000, 1.0, 1.0, 1.0, 1.0, 5.0],"
      " [1509836580000, \"x\", 1.0, 1.0, 1.0, 5.0],"
      " [1509836640000, 1.0, 1.0, 1.0],"
      " [1509836700000, 1.0, 1.2, 0.9, 1.1, null]]";
  Outcome out = ParseText(text, "ETH_BTC-1m.json", Options(DataKind::kCandles));
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.rows_read, 4);
  ASSERT_EQ(out.file.rejects.size(), 2u);
  EXPECT_EQ(out.file.rejects[0].line, 2);
  EXPECT_EQ(out.file.rejects[0].field, "open");
  EXPECT_EQ(out.file.rejects[0].instrument, "bittrex:ETH/BTC");
  EXPECT_EQ(out.file.rejects[1].line, 3);
  ASSERT_EQ(out.file.batches.size(), 1u);
  const RecordBatch& batch = out.file.batches[0];
  ASSERT_EQ(batch.frame.rows(), 2);
  EXPECT_EQ(batch.lines[1], 4);
  EXPECT_TRUE(std::isnan(batch.frame.Doubles("volume")[1]));  // null volume is absent
}

TEST(FreqtradeReaderTest, MalformedJsonIsAParseError) {
  Outcome out = ParseText("[[1509836520000, 1.0, ", "ETH_BTC-1m.json", Options(DataKind::kCandles));
  EXPECT_EQ(out.status.code(), StatusCode::kParseError);
  Outcome object = ParseText("{\"a\": 1}", "ETH_BTC-1m.json", Options(DataKind::kCandles));
  EXPECT_EQ(object.status.code(), StatusCode::kParseError);
  // Through the reader the message names the file and nlohmann's position.
  ReadOptions options = Options(DataKind::kCandles);
  options.format = FileFormat::kFreqtrade;
  MarketFileReader reader(options);
  Result<ParsedFile> parsed = reader.Parse("[[1509836520000, 1.0, ", "ETH_BTC-1m.json");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
  EXPECT_NE(parsed.status().message().find("ETH_BTC-1m.json"), std::string::npos);
  EXPECT_NE(parsed.status().message().find("line 1"), std::string::npos);
}

TEST(FreqtradeReaderTest, WrongKindIsRefusedWithAHint) {
  const std::string trades = "[[1570752011620,\"1\",null,\"sell\",0.1,23.0,2.3]]";
  Outcome candles = ParseText(trades, "XRP_ETH-trades.json", Options(DataKind::kCandles));
  EXPECT_EQ(candles.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(candles.status.message().find("--kind trades"), std::string::npos);
  Outcome oracle = ParseText(trades, "XRP_ETH-trades.json", Options(DataKind::kOracle));
  EXPECT_EQ(oracle.status.code(), StatusCode::kInvalidArgument);
}

TEST(FreqtradeReaderTest, NoVenueFailsAskingForTheFlag) {
  ReadOptions options;
  options.kind = DataKind::kCandles;
  Outcome out = ParseText("[[1509836520000, 1, 1, 1, 1, 1]]", "ETH_BTC-1m.json", options);
  EXPECT_FALSE(out.status.ok());
  EXPECT_NE(out.status.message().find("--venue"), std::string::npos);
}

}  // namespace
}  // namespace vigil::data_internal
