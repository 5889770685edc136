// Binance public-data kline CSV reader: 12 headerless columns, ms or us open times.
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

Outcome ParseText(std::string_view text, const std::string& source, ReadOptions options = {}) {
  BatchSink sink(options, source);
  Outcome out;
  out.status = ReadBinanceKlines(text, &sink);
  if (out.status.ok()) out.file = sink.Finish("binance");
  return out;
}

int64_t IsoNanos(const char* iso) { return Timestamp::ParseIso(iso)->nanos(); }

// The first two rows of ADABTC-1m-2021-11-27.csv; the second open time rewritten in
// microseconds, as Binance spot files are from 2025 on.
constexpr const char* kTwoKlines =
    "1637971200000,0.00002853,0.00002854,0.00002851,0.00002854,36304.20000000,1637971259999,"
    "1.03547608,79,19523.00000000,0.55694227,0\n"
    "1637971260000000,0.00002854,0.00002860,0.00002854,0.00002859,89196.60000000,"
    "1637971319999999,2.54751330,98,59004.20000000,1.68545512,0\n";

TEST(BinanceReaderTest, ReadsKlinesWithMillisecondAndMicrosecondTimes) {
  Outcome out = ParseText(kTwoKlines, "/tmp/ADABTC-1m-2021-11-27.csv");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.file.batches.size(), 1u);
  const RecordBatch& batch = out.file.batches[0];
  EXPECT_EQ(batch.series.instrument.ToString(), "binance:ADABTC");
  EXPECT_EQ(batch.series.timeframe, "1m");
  ASSERT_EQ(batch.frame.rows(), 2);
  EXPECT_EQ(batch.frame.timestamps()[0], IsoNanos("2021-11-27T00:00:00Z"));
  EXPECT_EQ(batch.frame.timestamps()[1], IsoNanos("2021-11-27T00:01:00Z"));
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("open")[0], 0.00002853);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("high")[1], 0.00002860);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("low")[0], 0.00002851);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("close")[1], 0.00002859);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("volume")[0], 36304.2);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("quote_volume")[0], 1.03547608);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("trades")[1], 98);
  EXPECT_EQ(batch.lines[1], 2);
}

TEST(BinanceReaderTest, SkipsAHeaderLineAndBlankLines) {
  const std::string text =
      "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
      "taker_buy_volume,taker_buy_quote_volume,ignore\n\n" +
      std::string(kTwoKlines);
  Outcome out = ParseText(text, "ADABTC-1m-2021-11-27.csv");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.rows_read, 2);
  EXPECT_EQ(out.file.rows_valid(), 2);
  EXPECT_EQ(out.file.batches[0].lines[0], 3);  // header, blank, then the first kline
}

TEST(BinanceReaderTest, BadRowsAreRejectedWithLineAndField) {
  const std::string text = std::string(kTwoKlines) +
                           "1637971320000,0.00002859,abc,0.00002857,0.00002859,1,1637971379999,"
                           "0.75,50,5425.9,0.155,0\n"
                           "1637971380000,0.00002859,0.00002860\n";
  Outcome out = ParseText(text, "ADABTC-1m-2021-11-27.csv");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.rows_read, 4);
  ASSERT_EQ(out.file.rejects.size(), 2u);
  EXPECT_EQ(out.file.rejects[0].line, 3);
  EXPECT_EQ(out.file.rejects[0].field, "high");
  EXPECT_EQ(out.file.rejects[0].instrument, "binance:ADABTC");
  EXPECT_EQ(out.file.rejects[1].line, 4);
  EXPECT_NE(out.file.rejects[1].reason.find("12"), std::string::npos);
}

TEST(BinanceReaderTest, VenueAndSymbolOptionsWin) {
  ReadOptions options;
  options.venue = "binance-us";
  options.symbol = "ADA/BTC";
  Outcome out = ParseText(kTwoKlines, "ADABTC-1m-2021-11-27.csv", options);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.batches[0].series.instrument.ToString(), "binance-us:ADA/BTC");
}

TEST(BinanceReaderTest, OnlyCandles) {
  ReadOptions options;
  options.kind = DataKind::kTrades;
  EXPECT_EQ(ParseText(kTwoKlines, "ADABTC-1m-2021-11-27.csv", options).status.code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil::data_internal
