#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "data/reader_test_util.h"
#include "data/readers/format_readers.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

using data_internal::ParseDouble;
using data_internal::ParseInt64;
using data_internal::ParseSide;
using data_internal::SplitFields;
using testing_util::BatchOf;
using testing_util::Nanos;
using testing_util::Options;
using testing_util::ParseText;
using testing_util::ReadShared;
using testing_util::RejectsText;

// --- Field parsing ---------------------------------------------------------------------

TEST(ParseDoubleTest, PlainQuotedAndPaddedNumbers) {
  double value = 0;
  ASSERT_TRUE(ParseDouble("1.5", &value));
  EXPECT_EQ(value, 1.5);
  ASSERT_TRUE(ParseDouble(" \"-0.25\" ", &value));
  EXPECT_EQ(value, -0.25);
  ASSERT_TRUE(ParseDouble("+3", &value));
  EXPECT_EQ(value, 3);
  ASSERT_TRUE(ParseDouble("1e-3", &value));
  EXPECT_EQ(value, 0.001);
  ASSERT_TRUE(ParseDouble("36301200", &value));
  EXPECT_EQ(value, 36301200);
}

TEST(ParseDoubleTest, NanAndInfParseSoValidationCanNameThem) {
  double value = 0;
  ASSERT_TRUE(ParseDouble("nan", &value));
  EXPECT_TRUE(std::isnan(value));
  ASSERT_TRUE(ParseDouble("NaN", &value));
  EXPECT_TRUE(std::isnan(value));
  ASSERT_TRUE(ParseDouble("inf", &value));
  EXPECT_TRUE(std::isinf(value) && value > 0);
  ASSERT_TRUE(ParseDouble("-Infinity", &value));
  EXPECT_TRUE(std::isinf(value) && value < 0);
}

TEST(ParseDoubleTest, RejectsEmptyAndJunk) {
  double value = 0;
  for (const char* text : {"", "  ", "\"\"", "abc", "1.2.3", "1,5", "12abc", "-", ".", "--1"}) {
    EXPECT_FALSE(ParseDouble(text, &value)) << "'" << text << "'";
  }
}

// The fast path must agree with std::from_chars (the reference, correctly rounded) on
// every input, including long mantissas and many fraction digits.
TEST(ParseDoubleTest, AgreesWithFromCharsOnRandomDecimals) {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 200000; ++i) {
    std::string text;
    if (rng() % 4 == 0) text += '-';
    const int int_digits = static_cast<int>(rng() % 12);
    const int frac_digits = static_cast<int>(rng() % 24);
    for (int d = 0; d < int_digits; ++d) text += static_cast<char>('0' + rng() % 10);
    if (int_digits == 0) text += '0';
    if (frac_digits > 0 || rng() % 2) text += '.';
    for (int d = 0; d < frac_digits; ++d) {
      text += static_cast<char>('0' + (rng() % 3 == 0 ? 0 : rng() % 10));
    }
    double expected = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), expected);
    ASSERT_EQ(ec, std::errc()) << text;
    if (ptr != text.data() + text.size()) continue;  // e.g. "1." where from_chars stops
    double value = 0;
    ASSERT_TRUE(ParseDouble(text, &value)) << text;
    ASSERT_EQ(value, expected) << text;
    ASSERT_EQ(std::signbit(value), std::signbit(expected)) << text;
  }
}

TEST(ParseInt64Test, IntegersOnly) {
  int64_t value = 0;
  ASSERT_TRUE(ParseInt64(" 1206419187 ", &value));
  EXPECT_EQ(value, 1206419187);
  ASSERT_TRUE(ParseInt64("\"-42\"", &value));
  EXPECT_EQ(value, -42);
  EXPECT_FALSE(ParseInt64("", &value));
  EXPECT_FALSE(ParseInt64("1.5", &value));
  EXPECT_FALSE(ParseInt64("ccc3c1fa-212c", &value));
  EXPECT_FALSE(ParseInt64("110680464442257320387", &value));  // beyond int64
}

TEST(SplitFieldsTest, KeepsEmptyFieldsAndStripsQuotes) {
  std::vector<std::string_view> fields;
  SplitFields("a,\"b\",,d,", ',', &fields);
  EXPECT_EQ(fields, (std::vector<std::string_view>{"a", "b", "", "d", ""}));
  SplitFields("x;y", ';', &fields);
  EXPECT_EQ(fields, (std::vector<std::string_view>{"x", "y"}));
  SplitFields("", ',', &fields);
  EXPECT_EQ(fields, (std::vector<std::string_view>{""}));
}

TEST(ParseSideTest, WordsVenuesUse) {
  int64_t side = 0;
  for (const char* buy : {"buy", "BUY", "b", "B", "bid", "Bid", "long", "1"}) {
    ASSERT_TRUE(ParseSide(buy, &side)) << buy;
    EXPECT_EQ(side, kSideBuy) << buy;
  }
  for (const char* sell : {"sell", "Sell", "s", "ask", "Ask", "A", "short", "-1"}) {
    ASSERT_TRUE(ParseSide(sell, &side)) << sell;
    EXPECT_EQ(side, kSideSell) << sell;
  }
  EXPECT_FALSE(ParseSide("sideways", &side));
  EXPECT_FALSE(ParseSide("", &side));
}

// --- Headers, aliases and values -----------------------------------------------------

ReadOptions CandleOptions(std::string timeframe = "1m") {
  ReadOptions options = Options(DataKind::kCandles, "binance", "BTC/USDT");
  options.timeframe = std::move(timeframe);
  return options;
}

TEST(CsvReaderTest, ReadsCandlesWithExactValues) {
  auto parsed = ParseText(
      "date,open,high,low,close,volume\n"
      "2018-01-10T04:55:00.000Z,0.0984,0.0994766,0.09828605,0.0994766,1820.54447418\n"
      "2018-01-10T05:00:00.000Z,0.0994766,0.0995,0.099,0.0991,12.5\n",
      CandleOptions("5m"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->format, "csv");
  EXPECT_EQ(parsed->rows_read, 2);
  ASSERT_EQ(parsed->batches.size(), 1u);
  const RecordBatch& batch = parsed->batches[0];
  EXPECT_EQ(batch.series.ToString(), "binance:BTC/USDT candles 5m");
  EXPECT_EQ(batch.frame.timestamps()[0], Nanos("2018-01-10T04:55:00Z"));
  EXPECT_EQ(batch.frame.Doubles("open")[0], 0.0984);
  EXPECT_EQ(batch.frame.Doubles("low")[0], 0.09828605);
  EXPECT_EQ(batch.frame.Doubles("volume")[0], 1820.54447418);
  EXPECT_TRUE(std::isnan(batch.frame.Doubles("trades")[0]));
  EXPECT_EQ(batch.lines, (std::vector<int64_t>{2, 3}));
}

TEST(CsvReaderTest, ShortAliasesAndCaseInsensitiveHeader) {
  auto parsed = ParseText(
      "Date,O,H,L,C,V,Number_Of_Trades\n"
      "2024-01-01,10,12,9,11,100,7\n",
      CandleOptions("1d"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Frame& frame = parsed->batches[0].frame;
  EXPECT_EQ(frame.Doubles("high")[0], 12);
  EXPECT_EQ(frame.Doubles("volume")[0], 100);
  EXPECT_EQ(frame.Doubles("trades")[0], 7);
  EXPECT_EQ(frame.timestamps()[0], Nanos("2024-01-01T00:00:00Z"));
}

TEST(CsvReaderTest, ColumnMapOverridesAliases) {
  ReadOptions options = CandleOptions();
  options.column_map = {{"ts", "when"}, {"close", "last"}};
  auto parsed = ParseText(
      "when,open,high,low,last,close\n"
      "2024-01-01T00:00:00Z,10,12,9,11,99\n",
      options);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->batches[0].frame.Doubles("close")[0], 11);
}

TEST(CsvReaderTest, ColumnMapNamingAnAbsentColumnFails) {
  ReadOptions options = CandleOptions();
  options.column_map = {{"close", "last"}};
  auto parsed = ParseText("ts,open,high,low,close\n2024-01-01,1,1,1,1\n", options);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("--column close=last"), std::string::npos);
}

TEST(CsvReaderTest, MissingRequiredColumnNamesFieldAndHeader) {
  auto parsed = ParseText("ts,open,high,close\n2024-01-01,1,1,1\n", CandleOptions(), "x.csv");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
  const std::string& message = parsed.status().message();
  EXPECT_EQ(message.rfind("x.csv: line 1: ", 0), 0u) << message;
  EXPECT_NE(message.find("field 'low'"), std::string::npos) << message;
  EXPECT_NE(message.find("header: ts,open,high,close"), std::string::npos) << message;
}

TEST(CsvReaderTest, MissingTimestampColumnFails) {
  auto parsed = ParseText("open,high,low,close\n1,1,1,1\n", CandleOptions());
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("the timestamp"), std::string::npos);
}

TEST(CsvReaderTest, SemicolonTabAndQuotedFields) {
  for (const char* text : {"ts;open;high;low;close\n2024-01-01;1;3;0.5;2\n",
                           "ts\topen\thigh\tlow\tclose\n2024-01-01\t1\t3\t0.5\t2\n",
                           "\"ts\",\"open\",\"high\",\"low\",\"close\"\n"
                           "\"2024-01-01\",\"1\",\"3\",\"0.5\",\"2\"\n"}) {
    auto parsed = ParseText(text, CandleOptions("1d"));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << text;
    ASSERT_EQ(parsed->rows_valid(), 1) << RejectsText(*parsed);
    EXPECT_EQ(parsed->batches[0].frame.Doubles("low")[0], 0.5);
  }
}

TEST(CsvReaderTest, CrlfLineEndingsAndBlankLines) {
  auto parsed =
      ParseText("ts,open,high,low,close\r\n\r\n2024-01-01,1,3,0.5,2\r\n\r\n", CandleOptions("1d"));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->rows_read, 1);
  EXPECT_EQ(parsed->batches[0].lines, (std::vector<int64_t>{3}));
}

// --- Rejected rows -------------------------------------------------------------------

TEST(CsvReaderTest, BadNumberIsARejectedRowWithLineAndRaw) {
  auto parsed = ParseText(
      "ts,open,high,low,close\n"
      "2024-01-01T00:00:00Z,1,1,1,1\n"
      "2024-01-01T00:01:00Z,1,abc,1,1\n"
      "2024-01-01T00:02:00Z,1,1,1,1\n",
      CandleOptions(), "bad.csv");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->rows_read, 3);
  EXPECT_EQ(parsed->rows_valid(), 2);
  ASSERT_EQ(parsed->rejects.size(), 1u);
  const RejectedRow& reject = parsed->rejects[0];
  EXPECT_EQ(reject.ToString(), "bad.csv:3: field 'high': not a number: 'abc'");
  EXPECT_EQ(reject.raw, "2024-01-01T00:01:00Z,1,abc,1,1");
  EXPECT_EQ(reject.instrument, "binance:BTC/USDT");
  EXPECT_EQ(reject.kind, DataKind::kCandles);
}

TEST(CsvReaderTest, BadTimestampIsRejected) {
  auto parsed = ParseText("ts,open,high,low,close\nyesterday,1,1,1,1\n,1,1,1,1\n", CandleOptions());
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->rejects.size(), 2u);
  EXPECT_EQ(parsed->rejects[0].field, "ts");
  EXPECT_NE(parsed->rejects[0].reason.find("bad timestamp 'yesterday'"), std::string::npos)
      << parsed->rejects[0].reason;
  EXPECT_EQ(parsed->rejects[1].reason, "missing timestamp");
}

TEST(CsvReaderTest, ShortRowIsAMissingField) {
  auto parsed = ParseText(
      "ts,open,high,low,close,volume\n"
      "2024-01-01T00:00:00Z,1,1,1\n"
      "2024-01-01T00:01:00Z,1,1,1,1,5\n",
      CandleOptions());
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->rejects.size(), 1u);
  EXPECT_EQ(parsed->rejects[0].line, 2);
  EXPECT_EQ(parsed->rejects[0].field, "close");
  EXPECT_EQ(parsed->rejects[0].reason, "missing field (row has 4 of 6 columns)");
}

TEST(CsvReaderTest, UnterminatedLastLineIsReadWhenComplete) {
  auto parsed = ParseText("ts,open,high,low,close\n2024-01-01T00:00:00Z,1,2,1,2", CandleOptions());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->rows_valid(), 1);
  EXPECT_TRUE(parsed->rejects.empty());
}

TEST(CsvReaderTest, UnterminatedShortLastLineIsTruncated) {
  auto parsed =
      ParseText("ts,open,high,low,close\n2024-01-01T00:00:00Z,1,2,1,2\n2024-01-01T00:01:00Z,1,2",
                CandleOptions(), "cut.csv");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->rows_valid(), 1);
  ASSERT_EQ(parsed->rejects.size(), 1u);
  EXPECT_EQ(parsed->rejects[0].ToString(),
            "cut.csv:3: field 'low': truncated line (row has 3 of 5 columns)");
}

TEST(CsvReaderTest, NanInfAndNegativeTextAreRejectedByValidation) {
  auto parsed = ParseText(
      "ts,open,high,low,close,volume\n"
      "2024-01-01T00:00:00Z,1,1,1,nan,1\n"
      "2024-01-01T00:01:00Z,1,1,1,1,inf\n"
      "2024-01-01T00:02:00Z,1,1,1,1,-3\n"
      "2024-01-01T00:03:00Z,1,1,2,1,3\n"
      "2024-01-01T00:04:00Z,1,1,1,1,3\n",
      CandleOptions());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->rows_valid(), 1);
  ASSERT_EQ(parsed->rejects.size(), 4u) << RejectsText(*parsed);
  EXPECT_EQ(parsed->rejects[0].line, 2);
  EXPECT_EQ(parsed->rejects[0].field, "close");
  EXPECT_EQ(parsed->rejects[1].field, "volume");
  EXPECT_EQ(parsed->rejects[1].reason, "not a finite number (inf)");
  EXPECT_EQ(parsed->rejects[2].reason, "must be >= 0 (got -3)");
  EXPECT_EQ(parsed->rejects[3].reason, "high < low (1 < 2)");
}

// --- Instruments -----------------------------------------------------------------------

TEST(CsvReaderTest, InstrumentColumnSplitsBatches) {
  auto parsed = ParseText(
      "ts,instrument,price,qty,side,trade_id\n"
      "2024-01-01T00:00:00Z,binance:BTC/USDT,100,1,1,1\n"
      "2024-01-01T00:00:01Z,hyperliquid:ETH,10,2,-1,1\n"
      "2024-01-01T00:00:02Z,binance:BTC/USDT,101,1,-1,2\n"
      "2024-01-01T00:00:03Z,nocolon,101,1,-1,2\n",
      Options(DataKind::kTrades));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->batches.size(), 2u);
  const RecordBatch* btc = BatchOf(*parsed, "binance:BTC/USDT");
  const RecordBatch* eth = BatchOf(*parsed, "hyperliquid:ETH");
  ASSERT_NE(btc, nullptr);
  ASSERT_NE(eth, nullptr);
  EXPECT_EQ(btc->lines, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(eth->frame.Doubles("price")[0], 10);
  ASSERT_EQ(parsed->rejects.size(), 1u);
  EXPECT_EQ(parsed->rejects[0].field, "instrument");
}

TEST(CsvReaderTest, SymbolAndExchangeColumns) {
  auto parsed = ParseText(
      "exchange,symbol,timestamp,id,side,price,amount\n"
      "BitMEX,XBTUSD,1583020803145000,a,sell,8531.5,2152\n"
      "bitmex,ETHUSD,1583020803145000,b,buy,230.5,10\n",
      Options(DataKind::kTrades));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_NE(BatchOf(*parsed, "bitmex:XBTUSD"), nullptr);  // venue lower-cased
  EXPECT_NE(BatchOf(*parsed, "bitmex:ETHUSD"), nullptr);
}

TEST(CsvReaderTest, SymbolColumnNeedsAVenue) {
  const char* text = "time,coin,side,px,sz\n2023-02-27T15:02:26Z,ETH,Ask,1655.5,0.0452\n";
  auto without = ParseText(text, Options(DataKind::kTrades), "fills.csv");
  ASSERT_FALSE(without.ok());
  EXPECT_EQ(without.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(without.status().message(),
            "fills.csv: cannot tell the venue of 'fills.csv': pass --venue");
  auto with = ParseText(text, Options(DataKind::kTrades, "hyperliquid"), "fills.csv");
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  const RecordBatch* eth = BatchOf(*with, "hyperliquid:ETH");
  ASSERT_NE(eth, nullptr);
  EXPECT_EQ(eth->frame.Int64s("side")[0], kSideSell);
  EXPECT_EQ(eth->frame.Doubles("qty")[0], 0.0452);
}

TEST(CsvReaderTest, BadOrEmptyInstrumentCellsRejectTheRow) {
  auto parsed = ParseText(
      "exchange,symbol,ts,price,qty\n"
      "bitmex,XBTUSD,1000,1,1\n"
      "bit mex,XBTUSD,1001,1,1\n"
      "bitmex,,1002,1,1\n"
      ",XBTUSD,1003,1,1\n",
      Options(DataKind::kTrades));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 1);
  ASSERT_EQ(parsed->rejects.size(), 3u) << RejectsText(*parsed);
  EXPECT_EQ(parsed->rejects[0].line, 3);
  EXPECT_EQ(parsed->rejects[0].field, "venue");
  EXPECT_EQ(parsed->rejects[1].field, "symbol");
  EXPECT_EQ(parsed->rejects[1].reason, "missing symbol");
  EXPECT_EQ(parsed->rejects[2].reason, "missing venue");
}

TEST(CsvReaderTest, TimeUnitOptionOverridesMagnitude) {
  ReadOptions options = Options(DataKind::kTrades, "x", "Y");
  options.time_unit = TimeUnit::kMilliseconds;
  auto parsed = ParseText("ts,price,qty\n1500,1,1\n", options);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->batches[0].frame.timestamps()[0], 1500 * kNanosPerMilli);
}

TEST(CsvReaderTest, OptionsOverrideTheInstrumentColumns) {
  auto parsed =
      ParseText("ts,symbol,price,qty\n2024-01-01T00:00:00Z,AAA,1,1\n2024-01-01T00:00:01Z,BBB,1,1\n",
                Options(DataKind::kTrades, "kraken", "BCH/EUR"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->batches.size(), 1u);
  EXPECT_EQ(parsed->batches[0].series.instrument.ToString(), "kraken:BCH/EUR");
}

// --- Ids, sides and derived fields ----------------------------------------------------

TEST(CsvReaderTest, NonNumericAndMissingIdsBecomeOrdinalsPerTimestamp) {
  auto parsed = ParseText(
      "ts,id,price,qty,side\n"
      "1000,uuid-a,10,1,buy\n"
      "1000,uuid-b,10,1,buy\n"
      "1001,uuid-c,10,1,sell\n"
      "1000,uuid-d,10,1,sell\n",
      Options(DataKind::kTrades, "bitmex", "XBTUSD"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->rows_valid(), 4) << RejectsText(*parsed);
  const RecordBatch& batch = parsed->batches[0];
  // Sorted by (ts, id): the three rows at 1000 s got ordinals 0, 1, 2 in file order.
  EXPECT_EQ(batch.lines, (std::vector<int64_t>{2, 3, 5, 4}));
  EXPECT_EQ(std::vector<int64_t>(batch.frame.Int64s("trade_id").begin(),
                                 batch.frame.Int64s("trade_id").end()),
            (std::vector<int64_t>{0, 1, 2, 0}));
}

TEST(CsvReaderTest, NumericIdsAreKept) {
  auto parsed = ParseText(
      "timestamp,trade_id,price,quantity,buyer_maker\n"
      "2021-01-08T00:00:00.278Z,553287559,39432.48,0.000263,True\n"
      "2021-01-08T00:00:00.310Z,553287560,39439.44,0.004376,False\n",
      Options(DataKind::kTrades, "binance", "BTC/USDT"));
  ASSERT_TRUE(parsed.ok());
  const Frame& frame = parsed->batches[0].frame;
  EXPECT_EQ(frame.Int64s("trade_id")[0], 553287559);
  // Buyer was the maker, so the aggressor sold.
  EXPECT_EQ(frame.Int64s("side")[0], kSideSell);
  EXPECT_EQ(frame.Int64s("side")[1], kSideBuy);
  EXPECT_EQ(frame.Doubles("qty")[1], 0.004376);
}

TEST(CsvReaderTest, BadSideIsRejected) {
  auto parsed =
      ParseText("ts,price,qty,side\n1000,1,1,sideways\n", Options(DataKind::kTrades, "x", "Y"));
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->rejects.size(), 1u);
  EXPECT_EQ(parsed->rejects[0].field, "side");
  EXPECT_NE(parsed->rejects[0].reason.find("'sideways'"), std::string::npos);
}

TEST(CsvReaderTest, HeaderlessKrakenTrades) {
  auto parsed = ParseText("1672531436,90.540000,1.10448420\n1672531436,90.45,1\n",
                          Options(DataKind::kTrades, "kraken", "BCH/EUR"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->rows_valid(), 2);
  const Frame& frame = parsed->batches[0].frame;
  EXPECT_EQ(frame.timestamps()[0], 1672531436 * kNanosPerSecond);
  EXPECT_EQ(frame.Doubles("price")[0], 90.54);
  EXPECT_EQ(frame.Doubles("qty")[0], 1.1044842);
  EXPECT_EQ(frame.Int64s("side")[0], kSideUnknown);
  EXPECT_EQ(frame.Int64s("trade_id")[1], 1);
  EXPECT_EQ(parsed->batches[0].lines, (std::vector<int64_t>{1, 2}));
}

TEST(CsvReaderTest, HeaderlessCandles) {
  auto parsed =
      ParseText("1700000000000,1,2,0.5,1.5,10\n1700000060000,1.5,2,1,1,3\n", CandleOptions());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->rows_valid(), 2);
  EXPECT_EQ(parsed->batches[0].frame.timestamps()[1], 1700000060000 * kNanosPerMilli);
  EXPECT_EQ(parsed->batches[0].frame.Doubles("volume")[0], 10);
}

TEST(CsvReaderTest, HeaderlessOtherKindsNeedAHeader) {
  auto parsed = ParseText("1700000000,1,2\n", Options(DataKind::kFunding, "x", "Y"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("add a header"), std::string::npos);
}

TEST(CsvReaderTest, FreqtradeFundingTakesTheRateFromOpen) {
  auto parsed =
      ParseText("date,open,high,low,close,volume\n2021-11-18T00:00:00.017Z,0.0001,0,0,0,0\n",
                Options(DataKind::kFunding, "binance", "XRP/USDT:USDT"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->rows_valid(), 1) << RejectsText(*parsed);
  EXPECT_EQ(parsed->batches[0].frame.Doubles("rate")[0], 0.0001);
  EXPECT_TRUE(std::isnan(parsed->batches[0].frame.Doubles("mark_price")[0]));
}

TEST(CsvReaderTest, TardisWideBookBecomesOneRowPerSideAndLevel) {
  ReadOptions options = Options(DataKind::kOrderBook);
  options.book_depth = 2;
  auto parsed = ParseText(
      "exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,"
      "bids[0].amount,asks[1].price,asks[1].amount,bids[1].price,bids[1].amount,asks[2].price,"
      "asks[2].amount,bids[2].price,bids[2].amount\n"
      "binance-futures,BTCUSDT,1598918403696000,1598918403810979,11657.08,1.714,11657.07,"
      "10.896,11657.54,5.4,11656.97,0.2,11657.56,0.238,11655.78,0.2\n",
      options);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->rows_valid(), 4) << RejectsText(*parsed);  // depth 2, two sides
  const RecordBatch* book = BatchOf(*parsed, "binance-futures:BTCUSDT");
  ASSERT_NE(book, nullptr);
  // Sorted by (ts, side, level): asks (-1) first.
  const Frame& frame = book->frame;
  EXPECT_EQ(frame.timestamps()[0], 1598918403696000 * kNanosPerMicro);
  EXPECT_EQ(frame.Int64s("side")[0], kSideSell);
  EXPECT_EQ(frame.Int64s("level")[1], 1);
  EXPECT_EQ(frame.Doubles("price")[1], 11657.54);
  EXPECT_EQ(frame.Doubles("size")[1], 5.4);
  EXPECT_EQ(frame.Int64s("side")[2], kSideBuy);
  EXPECT_EQ(frame.Doubles("price")[2], 11657.07);
  EXPECT_EQ(frame.Doubles("size")[3], 0.2);
  EXPECT_EQ(book->lines, (std::vector<int64_t>{2, 2, 2, 2}));
}

TEST(CsvReaderTest, BestBidOfferQuotesAreLevelZero) {
  auto parsed = ParseText(
      "timestamp,symbol,ask_size,ask,bid_size,bid\n"
      "2021-01-08T00:00:01.076Z,BTC/USDT,0.066851,39433.62,0.0031,39432.99\n",
      Options(DataKind::kOrderBook, "binance"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const RecordBatch* book = BatchOf(*parsed, "binance:BTC/USDT");
  ASSERT_NE(book, nullptr);
  ASSERT_EQ(book->frame.rows(), 2);
  EXPECT_EQ(book->frame.Doubles("price")[0], 39433.62);  // the ask sorts first
  EXPECT_EQ(book->frame.Doubles("size")[1], 0.0031);
}

TEST(CsvReaderTest, ProgressIsReportedToTheEnd) {
  ReadOptions options = CandleOptions();
  std::vector<std::pair<size_t, size_t>> calls;
  options.progress = [&](size_t done, size_t total) { calls.emplace_back(done, total); };
  const std::string text = "ts,open,high,low,close\n2024-01-01,1,1,1,1\n";
  auto parsed = ParseText(text, options);
  ASSERT_TRUE(parsed.ok());
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), std::make_pair(text.size(), text.size()));
}

// --- Round trip of the simulator's CSV layout (ts,instrument,<exact field names>) -----

struct KindSample {
  DataKind kind;
  const char* header;  // after "ts,instrument,"
  const char* values;
};

TEST(CsvReaderTest, SimulatorLayoutReadsBackExactlyForEveryKind) {
  const KindSample samples[] = {
      {DataKind::kCandles, "open,high,low,close,volume,trades,quote_volume",
       "100.5,101.25,99.75,100,12.5,,1256.25"},
      {DataKind::kTrades, "price,qty,side,trade_id", "100.5,0.125,-1,981"},
      {DataKind::kOrderBook, "side,level,price,size", "1,3,99.5,2.75"},
      {DataKind::kLiquidations, "side,price,qty,notional,account_value,event_id",
       "-1,100.5,2,201,,17"},
      {DataKind::kFunding, "rate,mark_price,index_price", "-0.00012,100.5,"},
      {DataKind::kOracle, "price,reference_price,round_id", "43066.45100191,43070.5,7"},
      {DataKind::kVault, "equity,pnl,open_interest", "263500000.5,-1500.25,"},
      {DataKind::kProtocol, "tvl,volume,price,market_cap", "158295217.03339,,,"},
  };
  for (const KindSample& sample : samples) {
    SCOPED_TRACE(std::string(KindName(sample.kind)));
    ReadOptions options = Options(sample.kind);
    if (SchemaOf(sample.kind).has_timeframe) options.timeframe = "1m";
    const std::string text = std::string("ts,instrument,") + sample.header + "\n" +
                             "2024-01-29T19:55:35.123Z,sim:BTC-PERP," + sample.values + "\n";
    auto parsed = ParseText(text, options);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    ASSERT_EQ(parsed->rows_valid(), 1) << RejectsText(*parsed);
    const RecordBatch& batch = parsed->batches[0];
    EXPECT_EQ(batch.series.instrument.ToString(), "sim:BTC-PERP");
    EXPECT_EQ(batch.frame.timestamps()[0], Nanos("2024-01-29T19:55:35.123Z"));
    // Compare every field with the text it was written from.
    std::vector<std::string_view> expected;
    SplitFields(sample.values, ',', &expected);
    const KindSchema& schema = SchemaOf(sample.kind);
    ASSERT_EQ(expected.size(), schema.fields.size());
    for (size_t field = 0; field < schema.fields.size(); ++field) {
      SCOPED_TRACE(std::string(schema.fields[field].name));
      if (schema.fields[field].type == ColumnType::kInt64) {
        EXPECT_EQ(batch.frame.Int64sAt(field)[0], std::stoll(std::string(expected[field])));
      } else if (expected[field].empty()) {
        EXPECT_TRUE(std::isnan(batch.frame.DoublesAt(field)[0]));
      } else {
        EXPECT_EQ(batch.frame.DoublesAt(field)[0], std::stod(std::string(expected[field])));
      }
    }
  }
}

// --- Real files (row counts and sample rows from /work/shared/data/PROVENANCE.md) -----

TEST(CsvRealDataTest, EveryFreqtradeCandleCsvHasItsDocumentedRowCount) {
  struct Expected {
    int64_t rows;
    const char* timeframe;
  };
  const std::map<std::string, Expected> files = {
      {"ADA_BTC-5m.csv", {5720, "5m"}},        {"DASH_BTC-5m.csv", {5758, "5m"}},
      {"ETC_BTC-5m.csv", {5759, "5m"}},        {"ETH_BTC-5m.csv", {5760, "5m"}},
      {"LTC_BTC-5m.csv", {5760, "5m"}},        {"NXT_BTC-5m.csv", {5760, "5m"}},
      {"TRX_BTC-5m.csv", {5754, "5m"}},        {"XLM_BTC-5m.csv", {5760, "5m"}},
      {"XMR_BTC-5m.csv", {5758, "5m"}},        {"ZEC_BTC-5m.csv", {5757, "5m"}},
      {"UNITTEST_BTC-30m.csv", {1920, "30m"}}, {"XRP_ETH-1m.csv", {2469, "1m"}},
      {"XRP_ETH-5m.csv", {706, "5m"}},         {"XRP_USDT_USDT-5m-futures.csv", {1999, "5m"}},
  };
  for (const auto& [file, expected] : files) {
    SCOPED_TRACE(file);
    auto parsed = ReadShared("candles/" + file, Options(DataKind::kCandles, "bittrex"));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->format, "csv");
    EXPECT_EQ(parsed->rows_read, expected.rows);
    EXPECT_EQ(parsed->rows_valid(), expected.rows) << RejectsText(*parsed);
    ASSERT_EQ(parsed->batches.size(), 1u);
    EXPECT_EQ(parsed->batches[0].series.timeframe, expected.timeframe);
  }
}

TEST(CsvRealDataTest, EthBtcFirstRowMatchesProvenanceExample) {
  auto parsed = ReadShared("candles/ETH_BTC-5m.csv", Options(DataKind::kCandles, "bittrex"));
  ASSERT_TRUE(parsed.ok());
  const RecordBatch* batch = BatchOf(*parsed, "bittrex:ETH/BTC");
  ASSERT_NE(batch, nullptr);
  // "2018-01-10T04:55:00.000Z,0.0984,0.0994766,0.09828605,0.0994766,1820.54447418"
  EXPECT_EQ(batch->frame.timestamps()[0], Nanos("2018-01-10T04:55:00Z"));
  EXPECT_EQ(batch->frame.Doubles("open")[0], 0.0984);
  EXPECT_EQ(batch->frame.Doubles("high")[0], 0.0994766);
  EXPECT_EQ(batch->frame.Doubles("low")[0], 0.09828605);
  EXPECT_EQ(batch->frame.Doubles("volume")[0], 1820.54447418);
  EXPECT_EQ(batch->frame.timestamps()[batch->frame.rows() - 1], Nanos("2018-01-30T04:50:00Z"));
}

TEST(CsvRealDataTest, YahooOracleStockBars) {
  auto parsed =
      ReadShared("candles/orcl-1995-2014.txt", Options(DataKind::kCandles, "yahoo", "ORCL"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 5036) << RejectsText(*parsed);
  const RecordBatch& batch = parsed->batches[0];
  EXPECT_EQ(batch.series.timeframe, "1d");  // from the spacing: trading days
  // "1995-01-03,2.179012,2.191358,2.117284,2.117284,1.883304,36301200"
  EXPECT_EQ(batch.frame.timestamps()[0], Nanos("1995-01-03T00:00:00Z"));
  EXPECT_EQ(batch.frame.Doubles("close")[0], 2.117284);
  EXPECT_EQ(batch.frame.Doubles("volume")[0], 36301200);
}

TEST(CsvRealDataTest, FundingRateFileAsFunding) {
  auto parsed = ReadShared("funding/XRP_USDT_USDT-8h-funding_rate.csv",
                           Options(DataKind::kFunding, "binance"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 91) << RejectsText(*parsed);
  const RecordBatch* batch = BatchOf(*parsed, "binance:XRP/USDT:USDT");
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->frame.timestamps()[0], Nanos("2021-11-18T00:00:00.017Z"));
  EXPECT_EQ(batch->frame.Doubles("rate")[0], 0.0001);
  // PROVENANCE: 70 of the 91 rates are the default 0.0001; the others range from
  // -0.00219334 to 0.00058316 (rounded there, hence the tolerance).
  int64_t defaults = 0;
  double lowest = 1;
  double highest = -1;
  for (double rate : batch->frame.Doubles("rate")) {
    defaults += rate == 0.0001;
    lowest = std::min(lowest, rate);
    highest = std::max(highest, rate);
  }
  EXPECT_NEAR(lowest, -0.00219334, 1e-12);
  EXPECT_NEAR(highest, 0.00058316, 1e-12);
  EXPECT_EQ(defaults, 70);
}

TEST(CsvRealDataTest, MarkPriceFilesAsCandles) {
  auto hourly =
      ReadShared("funding/XRP_USDT_USDT-1h-mark.csv", Options(DataKind::kCandles, "binance"));
  ASSERT_TRUE(hourly.ok()) << hourly.status().ToString();
  EXPECT_EQ(hourly->rows_valid(), 100) << RejectsText(*hourly);
  EXPECT_EQ(hourly->batches[0].series.timeframe, "1h");
  EXPECT_TRUE(std::isnan(hourly->batches[0].frame.Doubles("volume")[0]));  // empty field
  auto eight =
      ReadShared("funding/XRP_USDT_USDT-8h-mark.csv", Options(DataKind::kCandles, "binance"));
  ASSERT_TRUE(eight.ok());
  EXPECT_EQ(eight->rows_valid(), 91);
  EXPECT_EQ(eight->batches[0].frame.Doubles("volume")[0], 523374743.8);
}

TEST(CsvRealDataTest, PandasTradesListWithUnnamedIndex) {
  auto parsed = ReadShared("trades/public_trades_list_ETHUSDT.csv",
                           Options(DataKind::kTrades, "binance", "ETH/USDT:USDT"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 1000) << RejectsText(*parsed);
  const Frame& frame = parsed->batches[0].frame;
  // "0,1675329600138,1206419187,,buy,1666.8,26.062,43440.1416,2023-02-02 09:20:00.138000+00:00"
  EXPECT_EQ(frame.timestamps()[0], 1675329600138 * kNanosPerMilli);
  EXPECT_EQ(frame.Int64s("trade_id")[0], 1206419187);
  EXPECT_EQ(frame.Int64s("side")[0], kSideBuy);
  EXPECT_EQ(frame.Doubles("price")[0], 1666.8);
  EXPECT_EQ(frame.Doubles("qty")[0], 26.062);
  EXPECT_EQ(frame.timestamps()[999], Nanos("2023-02-02T09:23:27.493Z"));
}

TEST(CsvRealDataTest, BinanceTradesWithBuyerMakerFlag) {
  auto parsed = ReadShared("trades/binance_btcusdt-trades.csv",
                           Options(DataKind::kTrades, "binance", "BTC/USDT"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->rows_valid(), 2001) << RejectsText(*parsed);
  const Frame& frame = parsed->batches[0].frame;
  // PROVENANCE: ids 553287559 to 553289559 are consecutive.
  for (int64_t row = 0; row < frame.rows(); ++row) {
    ASSERT_EQ(frame.Int64s("trade_id")[row], 553287559 + row);
  }
  EXPECT_EQ(frame.Int64s("side")[0], kSideSell);  // buyer_maker True
  EXPECT_EQ(frame.Doubles("qty")[0], 0.000263);
}

TEST(CsvRealDataTest, HeaderlessKrakenTimeAndSales) {
  auto parsed =
      ReadShared("trades/kraken_BCHEUR.csv", Options(DataKind::kTrades, "kraken", "BCH/EUR"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 148) << RejectsText(*parsed);
  const Frame& frame = parsed->batches[0].frame;
  EXPECT_EQ(frame.timestamps()[0], 1672531436 * kNanosPerSecond);
  EXPECT_EQ(frame.Doubles("price")[0], 90.54);
  EXPECT_EQ(frame.Doubles("qty")[0], 1.1044842);
  auto next = ReadShared("trades/kraken_BCHEUR_incremental_q2.csv",
                         Options(DataKind::kTrades, "kraken", "BCH/EUR"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->rows_valid(), 486);
}

TEST(CsvRealDataTest, TardisBitmexTradesWithUuidIds) {
  auto parsed = ReadShared("trades/tardis_bitmex_trades_XBTUSD.csv", Options(DataKind::kTrades));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 10) << RejectsText(*parsed);
  const RecordBatch* batch = BatchOf(*parsed, "bitmex:XBTUSD");
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->frame.timestamps()[0], 1583020803145000 * kNanosPerMicro);
  EXPECT_EQ(batch->frame.Int64s("side")[0], kSideSell);
  EXPECT_EQ(batch->frame.Doubles("qty")[0], 2152);
}

TEST(CsvRealDataTest, HyperliquidFillsSplitByCoin) {
  auto parsed =
      ReadShared("trades/hyperliquid_non_mm_trades.csv", Options(DataKind::kTrades, "hyperliquid"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_read, 35691);
  EXPECT_EQ(parsed->rows_valid(), 35691) << RejectsText(*parsed);
  // PROVENANCE: ARB 17,759 rows, ETH 5,671, INJ 3,154, SOL 2,867, BTC 1,443.
  const std::map<std::string, int64_t> counts = {{"hyperliquid:ARB", 17759},
                                                 {"hyperliquid:ETH", 5671},
                                                 {"hyperliquid:INJ", 3154},
                                                 {"hyperliquid:SOL", 2867},
                                                 {"hyperliquid:BTC", 1443}};
  for (const auto& [instrument, rows] : counts) {
    const RecordBatch* batch = BatchOf(*parsed, instrument);
    ASSERT_NE(batch, nullptr) << instrument;
    EXPECT_EQ(batch->frame.rows(), rows) << instrument;
  }
  EXPECT_GT(parsed->batches.size(), counts.size());
}

TEST(CsvRealDataTest, HyperliquidLiquidationsNeedVenueAndSymbol) {
  auto without = ReadShared("liquidations/hyperliquid_liquidations_2023.csv",
                            Options(DataKind::kLiquidations, "hyperliquid"));
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.status().message().find("pass --symbol"), std::string::npos);
  auto parsed = ReadShared("liquidations/hyperliquid_liquidations_2023.csv",
                           Options(DataKind::kLiquidations, "hyperliquid", "ALL"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 62) << RejectsText(*parsed);
  const Frame& frame = parsed->batches[0].frame;
  // "2023-02-28T21:10:23Z,0x677d...,356.80015,2.956494,Cross"
  EXPECT_EQ(frame.timestamps()[0], Nanos("2023-02-28T21:10:23Z"));
  EXPECT_EQ(frame.Doubles("notional")[0], 356.80015);
  EXPECT_EQ(frame.Doubles("account_value")[0], 2.956494);
  EXPECT_EQ(frame.Int64s("side")[0], kSideUnknown);
  EXPECT_EQ(frame.Int64s("event_id")[0], 0);
}

TEST(CsvRealDataTest, TardisBookSnapshotTopFive) {
  auto parsed = ReadShared("orderbook/tardis_binance-futures_book_snapshot_5_BTCUSDT.csv",
                           Options(DataKind::kOrderBook));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_read, 10);
  EXPECT_EQ(parsed->rows_valid(), 10 * 5 * 2) << RejectsText(*parsed);
  const RecordBatch* book = BatchOf(*parsed, "binance-futures:BTCUSDT");
  ASSERT_NE(book, nullptr);
  // First snapshot, best ask 11657.08 x 1.714 and best bid 11657.07 x 10.896.
  const Frame& frame = book->frame;
  EXPECT_EQ(frame.timestamps()[0], 1598918403696000 * kNanosPerMicro);
  EXPECT_EQ(frame.Int64s("side")[0], kSideSell);
  EXPECT_EQ(frame.Int64s("level")[0], 0);
  EXPECT_EQ(frame.Doubles("price")[0], 11657.08);
  EXPECT_EQ(frame.Doubles("size")[0], 1.714);
  EXPECT_EQ(frame.Int64s("side")[5], kSideBuy);
  EXPECT_EQ(frame.Doubles("price")[5], 11657.07);
  EXPECT_EQ(frame.Doubles("size")[5], 10.896);
}

}  // namespace
}  // namespace vigil
