#include "vigil/data/validation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "data/reader_test_util.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

using testing_util::Options;
using testing_util::ParseText;
using testing_util::ReadShared;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kMinute = kNanosPerMinute;

RecordBatch MakeBatch(DataKind kind, std::string timeframe = "") {
  RecordBatch batch;
  batch.series.instrument = {"binance", "BTC/USDT"};
  batch.series.kind = kind;
  batch.series.timeframe = std::move(timeframe);
  batch.frame = MakeFrame(SchemaOf(kind));
  return batch;
}

// Appends a candle (volume, trades and quote volume given as `volume`, NaN, NaN).
void AddCandle(RecordBatch* batch, int64_t line, int64_t ts, double open, double high, double low,
               double close, double volume = 1.0) {
  const double values[] = {open, high, low, close, volume, kNaN, kNaN};
  batch->frame.AppendRow(ts, values);
  batch->lines.push_back(line);
}

void AddTrade(RecordBatch* batch, int64_t line, int64_t ts, int64_t trade_id, double price = 10,
              int64_t side = kSideBuy) {
  const double values[] = {price, 1.0};
  const int64_t ints[] = {side, trade_id};
  batch->frame.AppendRow(ts, values, ints);
  batch->lines.push_back(line);
}

struct Outcome {
  SeriesReport report;
  std::vector<RejectedRow> rejects;
};

Outcome Validate(RecordBatch* batch, OrderPolicy order = OrderPolicy::kSort) {
  Outcome outcome;
  ValidationOptions options;
  options.order = order;
  outcome.report = ValidateBatch(batch, options, "test.csv", &outcome.rejects);
  return outcome;
}

TEST(ValidateBatchTest, CleanCandlesPassUnchanged) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  AddCandle(&batch, 2, 0, 10, 12, 9, 11);
  AddCandle(&batch, 3, kMinute, 11, 11, 10, 10);
  Outcome outcome = Validate(&batch);
  EXPECT_TRUE(outcome.rejects.empty());
  EXPECT_EQ(outcome.report.rows, 2);
  EXPECT_EQ(outcome.report.gaps, 0);
  EXPECT_EQ(batch.lines, (std::vector<int64_t>{2, 3}));
}

TEST(ValidateBatchTest, NaNInARequiredFieldIsRejectedWithTheField) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  AddCandle(&batch, 2, 0, 10, 12, 9, 11);
  AddCandle(&batch, 3, kMinute, 10, 12, 9, kNaN);
  AddCandle(&batch, 4, 2 * kMinute, 10, 12, 9, 11);
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 1u);
  EXPECT_EQ(outcome.rejects[0].line, 3);
  EXPECT_EQ(outcome.rejects[0].field, "close");
  EXPECT_EQ(outcome.rejects[0].instrument, "binance:BTC/USDT");
  EXPECT_EQ(outcome.rejects[0].source, "test.csv");
  EXPECT_EQ(outcome.report.rows, 2);
  // The line numbers are filtered together with the rows.
  EXPECT_EQ(batch.lines, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(batch.frame.Doubles("close")[1], 11);
}

TEST(ValidateBatchTest, NaNInAnOptionalFieldMeansMissing) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  AddCandle(&batch, 2, 0, 10, 12, 9, 11, kNaN);
  Outcome outcome = Validate(&batch);
  EXPECT_TRUE(outcome.rejects.empty());
  EXPECT_EQ(outcome.report.rows, 1);
}

TEST(ValidateBatchTest, InfinityAndNegativeVolumeAreRejected) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  AddCandle(&batch, 2, 0, 10, 12, 9, 11, kInf);
  AddCandle(&batch, 3, kMinute, 10, 12, 9, 11, -5);
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 2u);
  EXPECT_EQ(outcome.rejects[0].field, "volume");
  EXPECT_EQ(outcome.rejects[0].reason, "not a finite number (inf)");
  EXPECT_EQ(outcome.rejects[1].field, "volume");
  EXPECT_EQ(outcome.rejects[1].reason, "must be >= 0 (got -5)");
  EXPECT_EQ(outcome.report.rows, 0);
  EXPECT_TRUE(batch.lines.empty());
}

TEST(ValidateBatchTest, NonPositivePriceIsRejected) {
  RecordBatch batch = MakeBatch(DataKind::kTrades);
  AddTrade(&batch, 2, 0, 1, 0.0);
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 1u);
  EXPECT_EQ(outcome.rejects[0].field, "price");
  EXPECT_EQ(outcome.rejects[0].reason, "must be > 0 (got 0)");
}

TEST(ValidateBatchTest, HighBelowLowShowsTheNumbers) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  AddCandle(&batch, 7, 0, 101.3, 101.2, 101.5, 101.3);
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 1u);
  EXPECT_EQ(outcome.rejects[0].field, "high");
  EXPECT_EQ(outcome.rejects[0].reason, "high < low (101.2 < 101.5)");
  EXPECT_EQ(outcome.rejects[0].ToString(), "test.csv:7: field 'high': high < low (101.2 < 101.5)");
}

TEST(ValidateBatchTest, OpenOrCloseOutsideTheRangeIsRejected) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  AddCandle(&batch, 2, 0, 13, 12, 9, 11);
  AddCandle(&batch, 3, kMinute, 10, 12, 9, 8.5);
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 2u);
  EXPECT_EQ(outcome.rejects[0].field, "open");
  EXPECT_EQ(outcome.rejects[0].reason, "open outside [low, high] (13 not in [9, 12])");
  EXPECT_EQ(outcome.rejects[1].field, "close");
  EXPECT_EQ(outcome.rejects[1].reason, "close outside [low, high] (8.5 not in [9, 12])");
}

TEST(ValidateBatchTest, SideOutsideMinusOneToOneIsRejected) {
  RecordBatch batch = MakeBatch(DataKind::kTrades);
  AddTrade(&batch, 2, 0, 1, 10, 2);
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 1u);
  EXPECT_EQ(outcome.rejects[0].field, "side");
}

TEST(ValidateBatchTest, MissingRequiredIdIsRejected) {
  RecordBatch batch = MakeBatch(DataKind::kTrades);
  AddTrade(&batch, 2, 0, kMissingInt);
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 1u);
  EXPECT_EQ(outcome.rejects[0].field, "trade_id");
  EXPECT_EQ(outcome.rejects[0].reason, "missing value");
}

TEST(ValidateBatchTest, SortPolicySortsAndCountsOutOfOrderRows) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  AddCandle(&batch, 2, 2 * kMinute, 12, 12, 12, 12);
  AddCandle(&batch, 3, 0, 10, 10, 10, 10);
  AddCandle(&batch, 4, kMinute, 11, 11, 11, 11);
  Outcome outcome = Validate(&batch);
  EXPECT_TRUE(outcome.rejects.empty());
  EXPECT_EQ(outcome.report.out_of_order, 2);  // both rows after the 2m row went back
  EXPECT_EQ(outcome.report.rows, 3);
  EXPECT_TRUE(batch.frame.IsSorted());
  // Lines travel with their rows: the 0m row came from line 3, and so on.
  EXPECT_EQ(batch.lines, (std::vector<int64_t>{3, 4, 2}));
  EXPECT_EQ(batch.frame.Doubles("open")[0], 10);
  EXPECT_EQ(batch.frame.Doubles("open")[2], 12);
}

TEST(ValidateBatchTest, RejectPolicyDropsRowsThatGoBackwards) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  AddCandle(&batch, 2, kMinute, 10, 10, 10, 10);
  AddCandle(&batch, 3, 0, 10, 10, 10, 10);
  AddCandle(&batch, 4, 2 * kMinute, 10, 10, 10, 10);
  Outcome outcome = Validate(&batch, OrderPolicy::kReject);
  ASSERT_EQ(outcome.rejects.size(), 1u);
  EXPECT_EQ(outcome.rejects[0].line, 3);
  EXPECT_EQ(outcome.rejects[0].field, "ts");
  EXPECT_EQ(outcome.rejects[0].reason,
            "timestamp goes backwards (1970-01-01T00:00:00.000Z < 1970-01-01T00:01:00.000Z)");
  EXPECT_EQ(outcome.report.out_of_order, 1);
  EXPECT_EQ(batch.lines, (std::vector<int64_t>{2, 4}));
}

TEST(ValidateBatchTest, DuplicateCandlesKeepTheFirst) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  AddCandle(&batch, 2, 0, 10, 10, 10, 10);
  AddCandle(&batch, 3, kMinute, 11, 11, 11, 11);
  AddCandle(&batch, 4, 0, 12, 12, 12, 12);
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 1u);
  EXPECT_EQ(outcome.rejects[0].line, 4);
  EXPECT_EQ(outcome.rejects[0].reason, "duplicate of line 2");
  EXPECT_EQ(outcome.report.duplicates, 1);
  EXPECT_EQ(batch.lines, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(batch.frame.Doubles("open")[0], 10);  // the first row survived
}

TEST(ValidateBatchTest, TradesAreKeyedByTimeAndTradeId) {
  RecordBatch batch = MakeBatch(DataKind::kTrades);
  AddTrade(&batch, 2, 0, 7);
  AddTrade(&batch, 3, 0, 5);  // same time, other id: not a duplicate
  AddTrade(&batch, 4, 0, 7);  // same time and id: duplicate of line 2
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 1u);
  EXPECT_EQ(outcome.rejects[0].line, 4);
  EXPECT_EQ(outcome.rejects[0].reason, "duplicate of line 2 (trade_id 7)");
  EXPECT_EQ(outcome.report.out_of_order, 0);
  // Sorted by (ts, trade_id) within the timestamp.
  EXPECT_EQ(batch.lines, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(batch.frame.Int64s("trade_id")[0], 5);
}

TEST(ValidateBatchTest, BookRowsAreKeyedBySideAndLevel) {
  RecordBatch batch = MakeBatch(DataKind::kOrderBook);
  auto add = [&](int64_t line, int64_t side, int64_t level, double price) {
    const double values[] = {price, 1.0};
    const int64_t ints[] = {side, level};
    batch.frame.AppendRow(0, values, ints);
    batch.lines.push_back(line);
  };
  add(2, kSideBuy, 0, 100);
  add(2, kSideSell, 0, 101);
  add(3, kSideBuy, 0, 99);  // repeats (ts, bid, level 0)
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 1u);
  EXPECT_EQ(outcome.rejects[0].line, 3);
  EXPECT_EQ(outcome.rejects[0].field, "ts,side,level");
  EXPECT_EQ(outcome.report.rows, 2);
}

TEST(ValidateBatchTest, CandlesWithoutTimeframeAreAllRejected) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "");
  AddCandle(&batch, 2, 0, 10, 10, 10, 10);
  AddCandle(&batch, 3, kMinute, 10, 10, 10, 10);
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 2u);
  EXPECT_EQ(outcome.rejects[0].reason, "cannot tell the timeframe: pass --timeframe");
  EXPECT_EQ(outcome.report.rows, 0);
  EXPECT_TRUE(batch.frame.empty());
  EXPECT_TRUE(batch.lines.empty());
}

TEST(ValidateBatchTest, GapsAreCountedNotRejected) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  for (int64_t minute : {0, 1, 4, 5, 10}) {  // missing 2, 3, 6, 7, 8, 9
    AddCandle(&batch, minute + 2, minute * kMinute, 10, 10, 10, 10);
  }
  Outcome outcome = Validate(&batch);
  EXPECT_TRUE(outcome.rejects.empty());
  EXPECT_EQ(outcome.report.gaps, 6);
  EXPECT_EQ(outcome.report.rows, 5);
}

TEST(ValidateBatchTest, RawShowsTheRowValues) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  AddCandle(&batch, 2, 0, 10, 9, 12, 11, 3);
  Outcome outcome = Validate(&batch);
  ASSERT_EQ(outcome.rejects.size(), 1u);
  EXPECT_EQ(outcome.rejects[0].raw, "1970-01-01T00:00:00.000Z,10,9,12,11,3,,");
}

TEST(CountGapsTest, AJumpOfKStepsIsKMinusOneMissingBars) {
  const int64_t step = 5 * kMinute;
  std::vector<int64_t> ts = {0, step, 4 * step, 5 * step, 7 * step};
  EXPECT_EQ(CountGaps(ts, step), 2 + 1);
  EXPECT_EQ(CountGaps(std::vector<int64_t>{}, step), 0);
  EXPECT_EQ(CountGaps(ts, 0), 0);
}

TEST(CheckRowTest, NamesTheFieldOrReturnsEmpty) {
  RecordBatch batch = MakeBatch(DataKind::kCandles, "1m");
  AddCandle(&batch, 2, 0, 10, 12, 9, 11);
  AddCandle(&batch, 3, kMinute, -1, 12, 9, 11);
  std::string field;
  EXPECT_EQ(CheckRow(batch, 0, &field), "");
  EXPECT_EQ(CheckRow(batch, 1, &field), "must be > 0 (got -1)");
  EXPECT_EQ(field, "open");
}

TEST(ParseOrderPolicyTest, KnownNamesOnly) {
  EXPECT_EQ(*ParseOrderPolicy("sort"), OrderPolicy::kSort);
  EXPECT_EQ(*ParseOrderPolicy("reject"), OrderPolicy::kReject);
  auto bad = ParseOrderPolicy("shuffle");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("shuffle"), std::string::npos);
}

// PROVENANCE.md: ADA_BTC-5m has 5720 bars and 40 missing 5m bars (in 5 gaps).
TEST(ValidateRealDataTest, GapsOfAdaBtcMatchProvenance) {
  auto parsed = ReadShared("candles/ADA_BTC-5m.csv", Options(DataKind::kCandles, "bittrex"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->reports.size(), 1u);
  EXPECT_EQ(parsed->reports[0].series.timeframe, "5m");
  EXPECT_EQ(parsed->reports[0].rows, 5720);
  EXPECT_EQ(parsed->reports[0].gaps, 40);
  // Independent check: first bar 2018-01-10 04:55, last 2018-01-30 04:50, so a full
  // series would have (20 days - 5 min) / 5 min + 1 bars; 40 of them are missing.
  const int64_t span =
      testing_util::Nanos("2018-01-30T04:50:00Z") - testing_util::Nanos("2018-01-10T04:55:00Z");
  EXPECT_EQ(span / (5 * kMinute) + 1 - 5720, 40);
}

TEST(ValidateThroughReaderTest, DuplicatesAndDisorderInACsv) {
  const char* text =
      "ts,open,high,low,close\n"
      "2024-01-01T00:02:00Z,3,3,3,3\n"
      "2024-01-01T00:00:00Z,1,1,1,1\n"
      "2024-01-01T00:01:00Z,2,2,2,2\n"
      "2024-01-01T00:01:00Z,9,9,9,9\n";
  ReadOptions options = Options(DataKind::kCandles, "binance", "BTC/USDT");
  options.timeframe = "1m";
  auto sorted = ParseText(text, options);
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  ASSERT_EQ(sorted->batches.size(), 1u);
  EXPECT_EQ(sorted->batches[0].lines, (std::vector<int64_t>{3, 4, 2}));
  ASSERT_EQ(sorted->rejects.size(), 1u);
  EXPECT_EQ(sorted->rejects[0].line, 5);
  EXPECT_EQ(sorted->rejects[0].reason, "duplicate of line 4");
  EXPECT_EQ(sorted->reports[0].out_of_order, 3);

  options.validation.order = OrderPolicy::kReject;
  auto rejected = ParseText(text, options);
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->batches[0].lines, (std::vector<int64_t>{2}));
  EXPECT_EQ(rejected->rejects.size(), 3u);
}

}  // namespace
}  // namespace vigil
