// The Store contract (include/vigil/store/store.h), run against every backend. Each
// test gets a fresh, empty store. Expected values are written out by hand from the
// input rows, never taken from a store.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "store/test_stores.h"
#include "vigil/store/store.h"

namespace vigil {

// Readable SeriesKeys in assertion messages (found by argument-dependent lookup).
static void PrintTo(const SeriesKey& key, std::ostream* os) { *os << key.ToString(); }

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// 2024-01-01T00:00:00Z.
constexpr int64_t kT0 = 1'704'067'200LL * kNanosPerSecond;

SeriesKey Key(const std::string& instrument, DataKind kind, const std::string& timeframe = "") {
  Result<Instrument> parsed = Instrument::Parse(instrument);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return SeriesKey{parsed.value_or(Instrument{}), kind, timeframe};
}

RecordBatch Batch(const SeriesKey& series, Frame frame) {
  RecordBatch batch{series, std::move(frame), {}};
  for (int64_t row = 0; row < batch.frame.rows(); ++row) batch.lines.push_back(row + 2);
  return batch;
}

RejectedRow Reject(const std::string& source, int64_t line, const std::string& instrument,
                   DataKind kind, const std::string& field, const std::string& reason) {
  return RejectedRow{source, line, instrument, kind, field, reason, "raw," + std::to_string(line)};
}

Frame CandleFrame() { return MakeFrame(SchemaOf(DataKind::kCandles)); }

// A flat bar: open = high = low = close, volume 1.
void AddBar(Frame* frame, int64_t ts, double close) {
  const double values[] = {close, close, close, close, 1.0, kNaN, kNaN};
  frame->AppendRow(ts, values);
}

// Bars at kT0 + minute * 1m with close = 100 + minute.
Frame MinuteBars(const std::vector<int>& minutes) {
  Frame frame = CandleFrame();
  for (int minute : minutes) AddBar(&frame, kT0 + minute * kNanosPerMinute, 100.0 + minute);
  return frame;
}

bool SameDouble(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void ExpectFramesEqual(const Frame& actual, const Frame& expected, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(actual.num_columns(), expected.num_columns());
  for (size_t column = 0; column < expected.num_columns(); ++column) {
    EXPECT_EQ(actual.columns()[column].name, expected.columns()[column].name);
    EXPECT_EQ(actual.columns()[column].type, expected.columns()[column].type);
  }
  ASSERT_EQ(actual.rows(), expected.rows());
  for (int64_t row = 0; row < expected.rows(); ++row) {
    EXPECT_EQ(actual.timestamps()[row], expected.timestamps()[row]) << "row " << row;
    for (size_t column = 0; column < expected.num_columns(); ++column) {
      const std::string& name = expected.columns()[column].name;
      if (expected.columns()[column].type == ColumnType::kDouble) {
        EXPECT_PRED2(SameDouble, actual.DoublesAt(column)[row], expected.DoublesAt(column)[row])
            << "row " << row << " column " << name;
      } else {
        EXPECT_EQ(actual.Int64sAt(column)[row], expected.Int64sAt(column)[row])
            << "row " << row << " column " << name;
      }
    }
  }
}

std::vector<double> Closes(const Frame& frame) {
  std::span<const double> closes = frame.Doubles("close");
  return {closes.begin(), closes.end()};
}

class StoreConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = OpenTestStore(GetParam());
    ASSERT_NE(store_, nullptr) << "could not open a " << GetParam() << " test store";
  }

  Result<WriteStats> Write(const std::string& source, const std::vector<RecordBatch>& batches,
                           const std::vector<RejectedRow>& rejects = {}) {
    return store_->Write(WriteUnit{source, batches, rejects});
  }

  Frame QueryAll(const SeriesKey& series) {
    Result<Frame> frame = store_->Query(series, Timestamp::Min(), Timestamp::Max());
    EXPECT_TRUE(frame.ok()) << frame.status().ToString();
    return frame.ok() ? std::move(frame).value() : Frame();
  }

  int64_t Count(const std::string& table) {
    Result<int64_t> rows = store_->CountRows(table);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.value_or(-1);
  }

  std::unique_ptr<Store> store_;
};

TEST_P(StoreConformanceTest, ReportsBackendAndUrl) {
  EXPECT_EQ(store_->backend(), GetParam());
  const std::string url = store_->url();
  EXPECT_EQ(url.rfind(GetParam() == "sqlite" ? "sqlite:" : "postgres", 0), 0u) << url;
}

TEST_P(StoreConformanceTest, MigratesToTheLatestVersionWithEveryTable) {
  Result<int> version = store_->SchemaVersion();
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_EQ(*version, 4);
  Result<std::vector<std::string>> tables = store_->ListTables();
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  for (const char* table :
       {"candles", "trades", "orderbook", "liquidations", "funding", "oracle", "vault", "protocol",
        "series", "rejects", "model_versions", "training_jobs", "feature_store", "predictions",
        "alerts", "drift_monitoring", "performance_metrics"}) {
    EXPECT_NE(std::find(tables->begin(), tables->end(), table), tables->end()) << table;
    EXPECT_EQ(Count(table), 0) << table;
  }
}

// One hand-built frame per kind: rows given out of key order where the kind has key
// fields, NaN in optional doubles, awkward doubles and int64s no double can hold.
struct KindCase {
  SeriesKey series;
  Frame input;
  Frame expected;  // input sorted by (ts, key fields)
};

std::vector<KindCase> EveryKindCases() {
  std::vector<KindCase> cases;
  cases.reserve(AllKinds().size());  // `add` hands out pointers into the vector
  auto add = [&cases](SeriesKey series) {
    cases.push_back({series, MakeFrame(SchemaOf(series.kind)), MakeFrame(SchemaOf(series.kind))});
    return &cases.back();
  };
  auto both = [](KindCase* c, int64_t ts, std::vector<double> d, std::vector<int64_t> i) {
    c->input.AppendRow(ts, d, i);
    c->expected.AppendRow(ts, d, i);
  };
  // Candles: open, high, low, close, volume, trades, quote_volume.
  KindCase* candles = add(Key("binance:BTC/USDT", DataKind::kCandles, "1m"));
  both(candles, kT0, {100.5, 101.25, 99.75, 100.0, 12.5, 42, 1250.0}, {});
  both(candles, kT0 + kNanosPerMinute, {100.0, 100.0, 100.0, 100.0, kNaN, kNaN, kNaN}, {});
  both(candles, kT0 + 2 * kNanosPerMinute,
       {0.1, 0.30000000000000004, 1e-12, 12345.678901234567, 0.0, 1.0, 1e300}, {});
  // Trades: doubles price, qty; ints side, trade_id. Same-ts ids 7 then 3: 3 sorts first.
  KindCase* trades = add(Key("binance:BTC/USDT", DataKind::kTrades));
  trades->input.AppendRow(kT0, std::vector<double>{30000.5, 0.001}, std::vector<int64_t>{1, 7});
  trades->input.AppendRow(kT0, std::vector<double>{30001.0, 2.5}, std::vector<int64_t>{-1, 3});
  trades->expected.AppendRow(kT0, std::vector<double>{30001.0, 2.5}, std::vector<int64_t>{-1, 3});
  trades->expected.AppendRow(kT0, std::vector<double>{30000.5, 0.001}, std::vector<int64_t>{1, 7});
  // 2^53 + 1 has no exact double: it must travel as an integer.
  both(trades, kT0 + 1, {29999.99, 0.0}, {0, 9007199254740993LL});
  both(trades, kT0 + kNanosPerSecond, {1.0, 1.0}, {1, -5});
  // Order book: doubles price, size; ints side, level. Sorted by (ts, side, level).
  KindCase* book = add(Key("bybit:ETH/USDT", DataKind::kOrderBook));
  book->input.AppendRow(kT0, std::vector<double>{101.0, 2.0}, std::vector<int64_t>{-1, 1});
  book->input.AppendRow(kT0, std::vector<double>{99.5, 1.5}, std::vector<int64_t>{1, 0});
  book->input.AppendRow(kT0, std::vector<double>{100.5, 0.25}, std::vector<int64_t>{-1, 0});
  book->input.AppendRow(kT0, std::vector<double>{99.0, 0.0}, std::vector<int64_t>{1, 1});
  book->expected.AppendRow(kT0, std::vector<double>{100.5, 0.25}, std::vector<int64_t>{-1, 0});
  book->expected.AppendRow(kT0, std::vector<double>{101.0, 2.0}, std::vector<int64_t>{-1, 1});
  book->expected.AppendRow(kT0, std::vector<double>{99.5, 1.5}, std::vector<int64_t>{1, 0});
  book->expected.AppendRow(kT0, std::vector<double>{99.0, 0.0}, std::vector<int64_t>{1, 1});
  both(book, kT0 + kNanosPerSecond, {99.6, 3.0}, {1, 0});
  // Liquidations: doubles price, qty, notional, account_value; ints side, event_id.
  KindCase* liquidations = add(Key("hyperliquid:ETH", DataKind::kLiquidations));
  liquidations->input.AppendRow(kT0, std::vector<double>{2000.5, 1.5, 3000.75, kNaN},
                                std::vector<int64_t>{1, 11});
  liquidations->input.AppendRow(kT0, std::vector<double>{kNaN, kNaN, 500.0, -12.5},
                                std::vector<int64_t>{-1, 2});
  liquidations->expected.AppendRow(kT0, std::vector<double>{kNaN, kNaN, 500.0, -12.5},
                                   std::vector<int64_t>{-1, 2});
  liquidations->expected.AppendRow(kT0, std::vector<double>{2000.5, 1.5, 3000.75, kNaN},
                                   std::vector<int64_t>{1, 11});
  // Funding: rate, mark_price, index_price.
  KindCase* funding = add(Key("binance:BTC/USDT:USDT", DataKind::kFunding));
  both(funding, kT0, {0.0001, 30000.0, 29990.0}, {});
  both(funding, kT0 + 8 * kNanosPerHour, {-0.000375, kNaN, kNaN}, {});
  // Oracle: doubles price, reference_price; int round_id. Same-ts rounds 9 then 8.
  KindCase* oracle = add(Key("chainlink:ETH/USD", DataKind::kOracle));
  both(oracle, kT0, {1.0001, 1.0}, {92233720368547758LL});
  oracle->input.AppendRow(kT0 + kNanosPerHour, std::vector<double>{0.9995, kNaN},
                          std::vector<int64_t>{9});
  oracle->input.AppendRow(kT0 + kNanosPerHour, std::vector<double>{0.9990, 1.0},
                          std::vector<int64_t>{8});
  oracle->expected.AppendRow(kT0 + kNanosPerHour, std::vector<double>{0.9990, 1.0},
                             std::vector<int64_t>{8});
  oracle->expected.AppendRow(kT0 + kNanosPerHour, std::vector<double>{0.9995, kNaN},
                             std::vector<int64_t>{9});
  // Vault: equity, pnl, open_interest.
  KindCase* vault = add(Key("hyperliquid:HLP", DataKind::kVault));
  both(vault, kT0, {1.25e8, -3.5e5, 4e7}, {});
  both(vault, kT0 + kNanosPerHour, {1.2e8, kNaN, kNaN}, {});
  // Protocol: tvl, volume, price, market_cap.
  KindCase* protocol = add(Key("defillama:aave", DataKind::kProtocol));
  both(protocol, kT0, {5.5e9, 1.2e8, 12.34, 2.1e9}, {});
  both(protocol, kT0 + kNanosPerDay, {0.0, kNaN, kNaN, kNaN}, {});
  return cases;
}

TEST_P(StoreConformanceTest, RoundTripsEveryKind) {
  std::vector<KindCase> cases = EveryKindCases();
  ASSERT_EQ(cases.size(), AllKinds().size());
  std::vector<RecordBatch> batches;
  int64_t total_rows = 0;
  for (const KindCase& c : cases) {
    batches.push_back(Batch(c.series, c.input));
    total_rows += c.input.rows();
  }
  Result<WriteStats> stats = Write("every_kind.jsonl", batches);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows_inserted, total_rows);
  EXPECT_EQ(stats->rows_existing, 0);
  for (const KindCase& c : cases) {
    ExpectFramesEqual(QueryAll(c.series), c.expected, c.series.ToString());
    EXPECT_EQ(Count(std::string(KindName(c.series.kind))), c.input.rows()) << c.series.ToString();
  }
}

// Every optional field of every kind left missing (NaN / kMissingInt) comes back
// missing; required fields hold 1.5 (doubles) and 1 (ints), valid for every rule.
TEST_P(StoreConformanceTest, MissingOptionalValuesComeBackMissing) {
  std::vector<RecordBatch> batches;
  std::vector<Frame> expected;
  for (DataKind kind : AllKinds()) {
    const KindSchema& schema = SchemaOf(kind);
    std::vector<double> doubles;
    std::vector<int64_t> ints;
    for (const FieldSpec& field : schema.fields) {
      if (field.type == ColumnType::kDouble) {
        doubles.push_back(field.required ? 1.5 : kNaN);
      } else {
        ints.push_back(field.required ? 1 : kMissingInt);
      }
    }
    Frame frame = MakeFrame(schema);
    frame.AppendRow(kT0, doubles, ints);
    expected.push_back(frame);
    batches.push_back(Batch(Key("test:SPARSE", kind, schema.has_timeframe ? "1h" : ""), frame));
  }
  ASSERT_TRUE(Write("missing.csv", batches).ok());
  for (size_t batch = 0; batch < batches.size(); ++batch) {
    ExpectFramesEqual(QueryAll(batches[batch].series), expected[batch],
                      batches[batch].series.ToString());
  }
}

// Missing values are stored as NULL, so one in a required field breaks NOT NULL and fails
// the write, for a double (NaN) and an int64 (kMissingInt) alike.
TEST_P(StoreConformanceTest, MissingValueInRequiredFieldFailsTheWrite) {
  Frame bars = MinuteBars({0});
  bars.MutableDoublesAt(FieldIndex(SchemaOf(DataKind::kCandles), "open"))[0] = kNaN;
  Frame trades = MakeFrame(SchemaOf(DataKind::kTrades));
  trades.AppendRow(kT0, std::vector<double>{100.0, 1.0}, std::vector<int64_t>{1, kMissingInt});
  EXPECT_FALSE(
      Write("nan.csv", {Batch(Key("binance:BTC/USDT", DataKind::kCandles, "1m"), bars)}).ok());
  EXPECT_FALSE(Write("int.csv", {Batch(Key("binance:BTC/USDT", DataKind::kTrades), trades)}).ok());
  EXPECT_EQ(Count("candles"), 0);
  EXPECT_EQ(Count("trades"), 0);
}

TEST_P(StoreConformanceTest, QueryRangeIsHalfOpen) {
  const SeriesKey series = Key("binance:BTC/USDT", DataKind::kCandles, "1m");
  ASSERT_TRUE(Write("bars.csv", {Batch(series, MinuteBars({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}))}).ok());
  auto closes = [&](int64_t from, int64_t to) {
    Result<Frame> frame = store_->Query(series, Timestamp(from), Timestamp(to));
    EXPECT_TRUE(frame.ok()) << frame.status().ToString();
    return frame.ok() ? Closes(*frame) : std::vector<double>{-1};
  };
  const int64_t m = kNanosPerMinute;
  EXPECT_EQ(closes(kT0 + 2 * m, kT0 + 5 * m), (std::vector<double>{102, 103, 104}));
  EXPECT_EQ(closes(kT0 + 2 * m + 1, kT0 + 5 * m + 1), (std::vector<double>{103, 104, 105}));
  EXPECT_EQ(closes(kT0 + 5 * m, kT0 + 5 * m), std::vector<double>{});
  EXPECT_EQ(closes(kT0 + 5 * m, kT0 + 2 * m), std::vector<double>{});
  EXPECT_EQ(closes(Timestamp::Min().nanos(), kT0), std::vector<double>{});
  EXPECT_EQ(closes(kT0 + 9 * m, Timestamp::Max().nanos()), std::vector<double>{109});
}

TEST_P(StoreConformanceTest, RewritingAUnitAddsNothing) {
  const SeriesKey bars = Key("binance:BTC/USDT", DataKind::kCandles, "1m");
  const SeriesKey trades = Key("binance:BTC/USDT", DataKind::kTrades);
  Frame trade_frame = MakeFrame(SchemaOf(DataKind::kTrades));
  for (int64_t id = 1; id <= 3; ++id) {
    trade_frame.AppendRow(kT0 + id, std::vector<double>{100.0, 1.0}, std::vector<int64_t>{1, id});
  }
  const std::vector<RecordBatch> batches = {Batch(bars, MinuteBars({0, 1, 2, 3, 4})),
                                            Batch(trades, trade_frame)};
  const std::vector<RejectedRow> rejects = {
      Reject("unit.csv", 7, "binance:BTC/USDT", DataKind::kCandles, "close", "not a number"),
      Reject("unit.csv", 9, "binance:BTC/USDT", DataKind::kCandles, "high", "high < low")};
  Result<WriteStats> first = Write("unit.csv", batches, rejects);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->rows_inserted, 8);
  EXPECT_EQ(first->rows_existing, 0);
  EXPECT_EQ(first->rejects_inserted, 2);
  Result<WriteStats> second = Write("unit.csv", batches, rejects);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->rows_inserted, 0);
  EXPECT_EQ(second->rows_existing, 8);
  EXPECT_EQ(second->rejects_inserted, 0);
  EXPECT_EQ(Count("candles"), 5);
  EXPECT_EQ(Count("trades"), 3);
  EXPECT_EQ(Count("rejects"), 2);
  EXPECT_EQ(Count("series"), 2);
}

TEST_P(StoreConformanceTest, OverlappingWriteKeepsStoredRows) {
  const SeriesKey series = Key("kraken:ETH/USD", DataKind::kCandles, "1m");
  ASSERT_TRUE(Write("a.csv", {Batch(series, MinuteBars({0, 1, 2, 3, 4}))}).ok());
  // Minutes 3..6 again, with minute 3 carrying a different close: it must not replace.
  Frame overlap = CandleFrame();
  AddBar(&overlap, kT0 + 3 * kNanosPerMinute, 999.0);
  for (int minute : {4, 5, 6}) AddBar(&overlap, kT0 + minute * kNanosPerMinute, 100.0 + minute);
  Result<WriteStats> stats = Write("b.csv", {Batch(series, overlap)});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows_inserted, 2);
  EXPECT_EQ(stats->rows_existing, 2);
  EXPECT_EQ(Closes(QueryAll(series)), (std::vector<double>{100, 101, 102, 103, 104, 105, 106}));
}

TEST_P(StoreConformanceTest, StoresRejectsOnceNewestFirst) {
  const std::vector<RejectedRow> a_rejects = {
      Reject("data/a.csv", 3, "binance:BTC/USDT", DataKind::kCandles, "close", "not a number"),
      Reject("data/a.csv", 7, "binance:BTC/USDT", DataKind::kCandles, "", "7 fields, expected 6")};
  const std::vector<RejectedRow> b_rejects = {
      Reject("data/b.csv", 2, "kraken:ETH/USD", DataKind::kTrades, "side", "side 'x'")};
  Result<WriteStats> a = Write("data/a.csv", {}, a_rejects);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->rejects_inserted, 2);
  Result<WriteStats> b = Write("data/b.csv", {}, b_rejects);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->rejects_inserted, 1);
  Result<WriteStats> again = Write("data/a.csv", {}, a_rejects);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->rejects_inserted, 0);
  EXPECT_EQ(Count("rejects"), 3);

  Result<std::vector<StoredReject>> all = store_->Rejects("", 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  const RejectedRow& newest = (*all)[0].row;
  EXPECT_EQ(newest.source, "data/b.csv");
  EXPECT_EQ(newest.line, 2);
  EXPECT_EQ(newest.instrument, "kraken:ETH/USD");
  EXPECT_EQ(newest.kind, DataKind::kTrades);
  EXPECT_EQ(newest.field, "side");
  EXPECT_EQ(newest.reason, "side 'x'");
  EXPECT_EQ(newest.raw, "raw,2");
  // Recorded by the store after 2020-01-01: a real time, not a default of 0.
  EXPECT_GT((*all)[0].recorded_at.nanos(), 1'577'836'800LL * kNanosPerSecond);

  Result<std::vector<StoredReject>> only_a = store_->Rejects("data/a.csv", 100);
  ASSERT_TRUE(only_a.ok()) << only_a.status().ToString();
  ASSERT_EQ(only_a->size(), 2u);
  std::vector<int64_t> lines;
  for (const StoredReject& stored : *only_a) {
    EXPECT_EQ(stored.row.source, "data/a.csv");
    EXPECT_EQ(stored.row.kind, DataKind::kCandles);
    lines.push_back(stored.row.line);
    const RejectedRow& written = stored.row.line == 3 ? a_rejects[0] : a_rejects[1];
    EXPECT_EQ(stored.row.field, written.field);
    EXPECT_EQ(stored.row.reason, written.reason);
  }
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<int64_t>{3, 7}));

  Result<std::vector<StoredReject>> limited = store_->Rejects("", 1);
  ASSERT_TRUE(limited.ok()) << limited.status().ToString();
  ASSERT_EQ(limited->size(), 1u);
  EXPECT_EQ((*limited)[0].row.source, "data/b.csv");
  Result<std::vector<StoredReject>> none = store_->Rejects("data/none.csv", 10);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
}

TEST_P(StoreConformanceTest, FailedUnitLeavesNothingBehind) {
  const SeriesKey kept = Key("binance:ETH/USDT", DataKind::kCandles, "1m");
  ASSERT_TRUE(Write("kept.csv", {Batch(kept, MinuteBars({0, 1, 2}))}).ok());
  const SeriesKey first = Key("binance:BTC/USDT", DataKind::kCandles, "1m");
  const SeriesKey second = Key("binance:SOL/USDT", DataKind::kCandles, "1m");
  Frame broken = MinuteBars({0, 1});
  // NaN in the required `close`, as if validation had been bypassed.
  broken.MutableDoublesAt(FieldIndex(SchemaOf(DataKind::kCandles), "close"))[1] = kNaN;
  const std::vector<RejectedRow> rejects = {
      Reject("broken.csv", 5, "binance:BTC/USDT", DataKind::kCandles, "low", "low > high")};

  Result<WriteStats> stats =
      Write("broken.csv", {Batch(first, MinuteBars({0, 1, 2, 3})), Batch(second, broken)}, rejects);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kDatabaseError) << stats.status().ToString();
  EXPECT_NE(stats.status().message().find("broken.csv"), std::string::npos)
      << "the error should name the source: " << stats.status().ToString();

  EXPECT_EQ(QueryAll(first).rows(), 0);
  EXPECT_EQ(QueryAll(second).rows(), 0);
  EXPECT_EQ(Count("candles"), 3);
  EXPECT_EQ(Count("rejects"), 0);
  Result<std::vector<SeriesKey>> series = store_->ListSeries();
  ASSERT_TRUE(series.ok()) << series.status().ToString();
  EXPECT_EQ(*series, std::vector<SeriesKey>{kept});
  // The failed transaction is gone: the store still accepts writes.
  Result<WriteStats> retry = Write("fixed.csv", {Batch(first, MinuteBars({0, 1, 2, 3}))});
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(retry->rows_inserted, 4);
}

TEST_P(StoreConformanceTest, RejectsAFrameOfTheWrongKind) {
  Frame trades = MakeFrame(SchemaOf(DataKind::kTrades));
  trades.AppendRow(kT0, std::vector<double>{100.0, 1.0}, std::vector<int64_t>{1, 1});
  const SeriesKey candles = Key("binance:BTC/USDT", DataKind::kCandles, "1m");
  EXPECT_FALSE(Write("mismatch.csv", {Batch(candles, trades)}).ok());
  EXPECT_EQ(Count("candles"), 0);
  EXPECT_EQ(Count("trades"), 0);
}

TEST_P(StoreConformanceTest, EmptyUnitWritesNothing) {
  Result<WriteStats> stats = Write("empty.csv", {});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows_inserted + stats->rows_existing + stats->rejects_inserted, 0);
}

TEST_P(StoreConformanceTest, SummarizesRowsGapsAndRejects) {
  const SeriesKey one_minute = Key("binance:BTC/USDT", DataKind::kCandles, "1m");
  const SeriesKey five_minute = Key("binance:BTC/USDT", DataKind::kCandles, "5m");
  const SeriesKey trades = Key("binance:BTC/USDT", DataKind::kTrades);
  Frame five = CandleFrame();
  for (int bar = 0; bar < 3; ++bar) AddBar(&five, kT0 + bar * 5 * kNanosPerMinute, 100.0);
  Frame trade_frame = MakeFrame(SchemaOf(DataKind::kTrades));
  for (int64_t id : {1, 2, 3}) {
    trade_frame.AppendRow(kT0 + id * 7919, std::vector<double>{100.0, 1.0},
                          std::vector<int64_t>{1, id});
  }
  const std::vector<RejectedRow> rejects = {
      Reject("s.csv", 4, "binance:BTC/USDT", DataKind::kCandles, "close", "negative"),
      Reject("s.csv", 5, "binance:BTC/USDT", DataKind::kCandles, "open", "negative"),
      Reject("s.csv", 6, "binance:BTC/USDT", DataKind::kTrades, "qty", "negative"),
      Reject("s.csv", 8, "kraken:ETH/USD", DataKind::kFunding, "rate", "not a number")};
  // Minutes 0, 1, 2, 5, 6: bars 3 and 4 are missing.
  ASSERT_TRUE(Write("s.csv",
                    {Batch(one_minute, MinuteBars({0, 1, 2, 5, 6})), Batch(five_minute, five),
                     Batch(trades, trade_frame)},
                    rejects)
                  .ok());

  Result<std::vector<SeriesSummary>> summary = store_->Summarize();
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->size(), 4u);
  const SeriesSummary& a = (*summary)[0];
  EXPECT_EQ(a.series, one_minute);
  EXPECT_EQ(a.rows, 5);
  EXPECT_EQ(a.first.nanos(), kT0);
  EXPECT_EQ(a.last.nanos(), kT0 + 6 * kNanosPerMinute);
  EXPECT_EQ(a.gaps, 2);  // 7 bars span minutes 0..6, 5 present
  EXPECT_EQ(a.rejects, 2);
  const SeriesSummary& b = (*summary)[1];
  EXPECT_EQ(b.series, five_minute);
  EXPECT_EQ(b.rows, 3);
  EXPECT_EQ(b.last.nanos(), kT0 + 10 * kNanosPerMinute);
  EXPECT_EQ(b.gaps, 0);
  EXPECT_EQ(b.rejects, 2);  // rejects have no timeframe: shared by the instrument's candles
  const SeriesSummary& c = (*summary)[2];
  EXPECT_EQ(c.series, trades);
  EXPECT_EQ(c.rows, 3);
  EXPECT_EQ(c.first.nanos(), kT0 + 7919);
  EXPECT_EQ(c.last.nanos(), kT0 + 3 * 7919);
  EXPECT_EQ(c.gaps, 0);  // trades are irregular
  EXPECT_EQ(c.rejects, 1);
  const SeriesSummary& d = (*summary)[3];
  EXPECT_EQ(d.series, Key("kraken:ETH/USD", DataKind::kFunding));
  EXPECT_EQ(d.rows, 0);
  EXPECT_EQ(d.rejects, 1);
}

TEST_P(StoreConformanceTest, ListsSeriesByInstrumentKindTimeframe) {
  auto one_bar = [] { return MinuteBars({0}); };
  Frame funding = MakeFrame(SchemaOf(DataKind::kFunding));
  funding.AppendRow(kT0, std::vector<double>{0.0001, kNaN, kNaN});
  Frame trades = MakeFrame(SchemaOf(DataKind::kTrades));
  trades.AppendRow(kT0, std::vector<double>{1.0, 1.0}, std::vector<int64_t>{1, 1});
  const SeriesKey hl_funding = Key("hyperliquid:BTC", DataKind::kFunding);
  const SeriesKey eth_1h = Key("binance:ETH/USDT", DataKind::kCandles, "1h");
  const SeriesKey btc_funding = Key("binance:BTC/USDT", DataKind::kFunding);
  const SeriesKey btc_5m = Key("binance:BTC/USDT", DataKind::kCandles, "5m");
  const SeriesKey btc_trades = Key("binance:BTC/USDT", DataKind::kTrades);
  const SeriesKey btc_1m = Key("binance:BTC/USDT", DataKind::kCandles, "1m");
  ASSERT_TRUE(Write("many.csv", {Batch(hl_funding, funding), Batch(eth_1h, one_bar()),
                                 Batch(btc_funding, funding), Batch(btc_5m, one_bar()),
                                 Batch(btc_trades, trades), Batch(btc_1m, one_bar())})
                  .ok());
  Result<std::vector<SeriesKey>> series = store_->ListSeries();
  ASSERT_TRUE(series.ok()) << series.status().ToString();
  // SeriesKey order: venue, symbol, then kind in DataKind order (candles, trades, ...,
  // funding), then timeframe.
  EXPECT_EQ(*series,
            (std::vector<SeriesKey>{btc_1m, btc_5m, btc_trades, btc_funding, eth_1h, hl_funding}));
}

TEST_P(StoreConformanceTest, KeepsTimeframesAndKindsApart) {
  const SeriesKey one_minute = Key("binance:BTC/USDT", DataKind::kCandles, "1m");
  const SeriesKey five_minute = Key("binance:BTC/USDT", DataKind::kCandles, "5m");
  const SeriesKey funding = Key("binance:BTC/USDT", DataKind::kFunding);
  Frame five = CandleFrame();
  AddBar(&five, kT0, 200.0);
  AddBar(&five, kT0 + 5 * kNanosPerMinute, 205.0);
  Frame rates = MakeFrame(SchemaOf(DataKind::kFunding));
  rates.AppendRow(kT0, std::vector<double>{0.0002, kNaN, kNaN});
  // The same timestamps in three series: none may collide with another.
  Result<WriteStats> stats = Write("mixed.csv", {Batch(one_minute, MinuteBars({0, 1, 2, 3, 4, 5})),
                                                 Batch(five_minute, five), Batch(funding, rates)});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows_inserted, 9);
  EXPECT_EQ(Closes(QueryAll(one_minute)), (std::vector<double>{100, 101, 102, 103, 104, 105}));
  EXPECT_EQ(Closes(QueryAll(five_minute)), (std::vector<double>{200, 205}));
  Frame stored_rates = QueryAll(funding);
  ASSERT_EQ(stored_rates.rows(), 1);
  EXPECT_EQ(stored_rates.Doubles("rate")[0], 0.0002);
}

TEST_P(StoreConformanceTest, UnknownSeriesQueriesAsEmptyFrameWithKindColumns) {
  ASSERT_TRUE(Write("bars.csv",
                    {Batch(Key("binance:BTC/USDT", DataKind::kCandles, "1m"), MinuteBars({0, 1}))})
                  .ok());
  for (const SeriesKey& unknown : {Key("binance:BTC/USDT", DataKind::kCandles, "1h"),
                                   Key("kraken:XBT/USD", DataKind::kOrderBook)}) {
    Result<Frame> frame = store_->Query(unknown, Timestamp::Min(), Timestamp::Max());
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    EXPECT_EQ(frame->rows(), 0);
    ExpectFramesEqual(*frame, MakeFrame(SchemaOf(unknown.kind)), unknown.ToString());
  }
}

TEST_P(StoreConformanceTest, RoundTripsManyRowsAcrossBatches) {
  constexpr int kRows = 20'000;
  const SeriesKey series = Key("binance:BTC/USDT", DataKind::kCandles, "1m");
  Frame early = CandleFrame();
  Frame late = CandleFrame();
  for (int bar = 0; bar < kRows; ++bar) {
    AddBar(bar < kRows / 2 ? &early : &late, kT0 + bar * kNanosPerMinute, 1000.0 + bar * 0.25);
  }
  Result<WriteStats> stats = Write("big.csv", {Batch(series, late), Batch(series, early)});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows_inserted, kRows);
  Frame stored = QueryAll(series);
  ASSERT_EQ(stored.rows(), kRows);
  for (int bar : {0, 1, kRows / 2 - 1, kRows / 2, kRows - 1}) {
    EXPECT_EQ(stored.timestamps()[bar], kT0 + bar * kNanosPerMinute) << bar;
    EXPECT_EQ(stored.Doubles("close")[bar], 1000.0 + bar * 0.25) << bar;
    EXPECT_TRUE(std::isnan(stored.Doubles("trades")[bar])) << bar;
  }
}

TEST_P(StoreConformanceTest, RoundTripsSparseAndOddlyTimedCandles) {
  // Two 1m bars a year apart, and a timeframe that is not a duration.
  const SeriesKey sparse = Key("binance:BTC/USDT", DataKind::kCandles, "1m");
  const SeriesKey odd = Key("binance:BTC/USDT", DataKind::kCandles, "session");
  Frame bars = CandleFrame();
  AddBar(&bars, kT0, 100.0);
  AddBar(&bars, kT0 + 365 * kNanosPerDay, 200.0);
  ASSERT_TRUE(Write("sparse.csv", {Batch(sparse, bars), Batch(odd, MinuteBars({0, 7}))}).ok());
  EXPECT_EQ(Closes(QueryAll(sparse)), (std::vector<double>{100, 200}));
  EXPECT_EQ(Closes(QueryAll(odd)), (std::vector<double>{100, 107}));
  Result<Frame> tail = store_->Query(sparse, Timestamp(kT0 + 1), Timestamp::Max());
  ASSERT_TRUE(tail.ok()) << tail.status().ToString();
  EXPECT_EQ(Closes(*tail), std::vector<double>{200});
}

TEST_P(StoreConformanceTest, ExecuteRunsStatementsAndReportsErrors) {
  ASSERT_TRUE(store_
                  ->Execute("CREATE TABLE scratch_rows (x BIGINT); INSERT INTO scratch_rows "
                            "VALUES (1); INSERT INTO scratch_rows VALUES (2)")
                  .ok());
  EXPECT_EQ(Count("scratch_rows"), 2);
  Status bad = store_->Execute("SELEKT nonsense FROM nowhere");
  EXPECT_EQ(bad.code(), StatusCode::kDatabaseError) << bad.ToString();
}

TEST_P(StoreConformanceTest, CountRowsOnlyAcceptsExistingTables) {
  EXPECT_FALSE(store_->CountRows("no_such_table").ok());
  EXPECT_FALSE(store_->CountRows("series; DROP TABLE rejects").ok());
  EXPECT_FALSE(store_->CountRows("series\" ; DROP TABLE rejects; --").ok());
  Result<std::vector<std::string>> tables = store_->ListTables();
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_NE(std::find(tables->begin(), tables->end(), "rejects"), tables->end());
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformanceTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace vigil
