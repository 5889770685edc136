// Market sources (source.h): merge order and tie order, store / file / simulator replays,
// and pacing against an injected clock and sleep.
#include "vigil/serve/source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace vigil {
namespace {

// A row of any kind: every double field is `tag`, every int64 field 0.
void AppendTagged(Frame& frame, const KindSchema& schema, int64_t ts, double tag) {
  std::vector<double> doubles;
  std::vector<int64_t> ints;
  for (const FieldSpec& field : schema.fields) {
    if (field.type == ColumnType::kDouble) {
      doubles.push_back(tag);
    } else {
      ints.push_back(0);
    }
  }
  frame.AppendRow(ts, doubles, ints);
}

RecordBatch Batch(const std::string& instrument, DataKind kind,
                  const std::vector<std::pair<int64_t, double>>& rows,
                  const std::string& timeframe = "") {
  RecordBatch batch;
  batch.series.instrument = *Instrument::Parse(instrument);
  batch.series.kind = kind;
  batch.series.timeframe = kind == DataKind::kCandles && timeframe.empty() ? "1m" : timeframe;
  batch.frame = MakeFrame(SchemaOf(kind));
  for (const auto& [ts, tag] : rows) AppendTagged(batch.frame, SchemaOf(kind), ts, tag);
  return batch;
}

struct Seen {
  int64_t ts;
  DataKind kind;
  std::string instrument;
  double tag;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> Drain(MarketSource& source) {
  std::vector<Seen> seen;
  SourceEvent event;
  while (true) {
    auto more = source.Next(&event);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || !*more) break;
    seen.push_back({event.event.ts, event.event.kind, event.instrument, event.event.values[0]});
  }
  return seen;
}

constexpr int64_t kMinute = kNanosPerMinute;

TEST(BatchReplayTest, MergesByTimeWithNonCandleKindsFirstThenInstrumentOrder) {
  std::vector<RecordBatch> batches;
  batches.push_back(Batch("x:B", DataKind::kCandles, {{0, 1}, {kMinute, 2}}));
  batches.push_back(Batch("x:A", DataKind::kCandles, {{0, 3}, {kMinute, 4}}));
  batches.push_back(Batch("x:B", DataKind::kFunding, {{0, 5}}));
  batches.push_back(Batch("x:A", DataKind::kOracle, {{kMinute, 6}}));
  batches.push_back(Batch("x:A", DataKind::kTrades, {{0, 7}, {30 * kNanosPerSecond, 8}}));
  auto source = OpenBatchReplay(std::move(batches), {}, "test");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  const std::vector<Seen> expected = {
      {0, DataKind::kTrades, "x:A", 7},
      {0, DataKind::kFunding, "x:B", 5},
      {0, DataKind::kCandles, "x:A", 3},
      {0, DataKind::kCandles, "x:B", 1},
      {30 * kNanosPerSecond, DataKind::kTrades, "x:A", 8},
      {kMinute, DataKind::kOracle, "x:A", 6},
      {kMinute, DataKind::kCandles, "x:A", 4},
      {kMinute, DataKind::kCandles, "x:B", 2},
  };
  EXPECT_EQ(Drain(**source), expected);
  EXPECT_EQ((*source)->Describe(),
            "test of 2 instruments, 1970-01-01 .. 1970-01-01 as fast as possible");
}

TEST(BatchReplayTest, RowsOfOneSeriesSharingATimestampKeepTheirOrder) {
  std::vector<RecordBatch> batches;
  batches.push_back(Batch("x:A", DataKind::kTrades, {{0, 1}, {0, 2}, {0, 3}}));
  batches.push_back(Batch("x:A", DataKind::kTrades, {{0, 4}, {kMinute, 5}}));  // a second file
  auto source = OpenBatchReplay(std::move(batches), {}, "test");
  ASSERT_TRUE(source.ok());
  std::vector<double> tags;
  for (const Seen& seen : Drain(**source)) tags.push_back(seen.tag);
  EXPECT_EQ(tags, (std::vector<double>{1, 2, 3, 4, 5}));
}

TEST(BatchReplayTest, RefusesUnsortedBatchesAndBadSpeeds) {
  std::vector<RecordBatch> unsorted;
  unsorted.push_back(Batch("x:A", DataKind::kCandles, {{kMinute, 1}, {0, 2}}));
  auto source = OpenBatchReplay(std::move(unsorted), {}, "test");
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find("x:A"), std::string::npos);
  for (double speed : {-1.0, std::nan(""), double{INFINITY}}) {
    PaceOptions pace;
    pace.speed = speed;
    EXPECT_EQ(pace.Validate().code(), StatusCode::kInvalidArgument) << speed;
    EXPECT_FALSE(OpenBatchReplay({}, pace, "test").ok());
  }
}

TEST(BatchReplayTest, EmptyReplayEndsAtOnce) {
  auto source = OpenBatchReplay({}, {}, "nothing");
  ASSERT_TRUE(source.ok());
  EXPECT_TRUE(Drain(**source).empty());
  EXPECT_EQ((*source)->Describe(), "nothing of 0 instruments as fast as possible");
}

// --- Pacing ---------------------------------------------------------------------------

class PacingTest : public ::testing::Test {
 protected:
  PaceOptions Pace(double speed) {
    PaceOptions pace;
    pace.speed = speed;
    pace.clock = &clock_;
    pace.sleep = [this](std::chrono::nanoseconds d) {
      ++sleeps_;
      slept_ += d.count();
      clock_.Advance(d.count());
    };
    return pace;
  }
  std::unique_ptr<MarketSource> Open(double speed, std::vector<int64_t> minutes) {
    std::vector<std::pair<int64_t, double>> rows;
    for (int64_t minute : minutes) rows.push_back({kStart + minute * kMinute, 1.0});
    std::vector<RecordBatch> batches;
    batches.push_back(Batch("x:A", DataKind::kCandles, rows));
    return std::move(OpenBatchReplay(std::move(batches), Pace(speed), "paced")).value();
  }

  static constexpr int64_t kStart = 1'704'067'200 * kNanosPerSecond;
  const Timestamp clock_start_ = Timestamp::FromSeconds(5'000);
  ManualClock clock_{clock_start_};
  int sleeps_ = 0;
  int64_t slept_ = 0;
};

TEST_F(PacingTest, SpeedSixtyMakesAMinuteOfDataLastASecond) {
  auto source = Open(60.0, {0, 1, 2, 2, 3});
  std::vector<int64_t> arrived;
  SourceEvent event;
  while (*source->Next(&event)) arrived.push_back(event.arrived - clock_start_);
  EXPECT_EQ(slept_, 3 * kNanosPerSecond);
  EXPECT_EQ(sleeps_, 3);
  const int64_t s = kNanosPerSecond;
  EXPECT_EQ(arrived, (std::vector<int64_t>{0, s, 2 * s, 2 * s, 3 * s}));
  EXPECT_EQ(source->Describe(), "paced of 1 instrument, 2024-01-01 .. 2024-01-01 at 60x");
}

TEST_F(PacingTest, ASourceBehindDoesNotSleepUntilItCatchesUp) {
  auto source = Open(60.0, {0, 1, 2, 3, 12});
  SourceEvent event;
  ASSERT_TRUE(*source->Next(&event));
  clock_.Advance(10 * kNanosPerSecond);  // a slow consumer: 10 s behind the 1 s/minute pace
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(*source->Next(&event));
  EXPECT_EQ(sleeps_, 0);
  ASSERT_TRUE(*source->Next(&event));  // minute 12 is due at 12 s; the clock is at 10 s
  EXPECT_EQ(slept_, 2 * kNanosPerSecond);
  EXPECT_EQ(event.arrived - clock_start_, 12 * kNanosPerSecond);
  EXPECT_FALSE(*source->Next(&event));
}

TEST_F(PacingTest, SpeedZeroNeverSleeps) {
  auto source = Open(0.0, {0, 1, 60, 1440});
  SourceEvent event;
  int events = 0;
  while (*source->Next(&event)) {
    ++events;
    EXPECT_EQ(event.arrived, clock_.Now());
  }
  EXPECT_EQ(events, 4);
  EXPECT_EQ(sleeps_, 0);
}

// --- Store, file and simulator replays -------------------------------------------------

class StoredReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-source-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = OpenStore("sqlite:" + (dir_ / "vigil.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Write(const std::vector<RecordBatch>& batches) {
    WriteUnit unit;
    unit.source = "test";
    unit.batches = batches;
    auto written = store_->Write(unit);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }
  SimulatedMarket Simulation() {
    SimulationOptions options;
    options.instruments = 2;
    options.days = 1;
    options.seed = 11;
    return std::move(Simulate(options)).value();
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

using SeriesName = std::tuple<std::string, DataKind, std::string>;

TEST_F(StoredReplayTest, TheMergedStreamHoldsExactlyTheStoredRowsInOrder) {
  SimulatedMarket market = Simulation();
  Write(market.batches);
  auto source = OpenStoreReplay(*store_, {});
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  std::map<SeriesName, std::vector<std::vector<double>>> replayed;
  std::map<SeriesName, std::vector<int64_t>> times;
  SourceEvent event;
  std::tuple<int64_t, int, std::string> previous{INT64_MIN, -1, ""};
  while (*(*source)->Next(&event)) {
    const SeriesName name{event.instrument, event.event.kind, event.timeframe};
    replayed[name].emplace_back(event.event.values.begin(), event.event.values.end());
    times[name].push_back(event.event.ts);
    const int rank = event.event.kind == DataKind::kCandles ? 100 : int(event.event.kind);
    const std::tuple<int64_t, int, std::string> order{event.event.ts, rank, event.instrument};
    EXPECT_LE(previous, order);  // time, then non-candle kinds, then instruments
    previous = order;
  }
  auto stored = store_->ListSeries();
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(replayed.size(), stored->size());
  for (const SeriesKey& key : *stored) {
    Frame frame = *store_->Query(key, Timestamp::Min(), Timestamp::Max());
    EventStream expected = *EventStream::FromFrame(key.kind, frame);
    const SeriesName name{key.instrument.ToString(), key.kind, key.timeframe};
    ASSERT_EQ(replayed[name].size(), expected.size()) << key.ToString();
    for (size_t row = 0; row < expected.size(); ++row) {
      ASSERT_EQ(times[name][row], expected.events()[row].ts);
      const auto values = expected.events()[row].values;
      for (size_t f = 0; f < values.size(); ++f) {
        ASSERT_TRUE(values[f] == replayed[name][row][f] ||
                    (std::isnan(values[f]) && std::isnan(replayed[name][row][f])))
            << key.ToString() << " row " << row << " field " << f;
      }
    }
  }
}

TEST_F(StoredReplayTest, FiltersByInstrumentKindTimeAndTimeframe) {
  SimulatedMarket market = Simulation();
  const std::string btc = market.batches[0].series.instrument.ToString();
  // 5m candles next to the simulator's 1m: the default picks the shortest timeframe.
  Write(market.batches);
  Write({Batch(btc, DataKind::kCandles, {{kDefaultSimulationStart.nanos(), 2.0}}, "5m")});
  StoreReplayOptions options;
  options.instruments = {btc};
  options.kinds = {DataKind::kCandles};
  options.from = Timestamp(kDefaultSimulationStart.nanos());
  options.to = Timestamp(kDefaultSimulationStart.nanos() + 10 * kMinute);
  auto one_m = OpenStoreReplay(*store_, options);
  ASSERT_TRUE(one_m.ok()) << one_m.status().ToString();
  std::vector<Seen> seen = Drain(**one_m);
  ASSERT_EQ(seen.size(), 10u);
  for (const Seen& s : seen) EXPECT_EQ(s.instrument, btc);
  options.timeframe = "5m";
  auto five_m = OpenStoreReplay(*store_, options);
  ASSERT_TRUE(five_m.ok());
  seen = Drain(**five_m);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].tag, 2.0);
}

TEST_F(StoredReplayTest, UnknownInstrumentsAndEmptySelectionsAreNotFound) {
  Write(Simulation().batches);
  StoreReplayOptions options;
  options.instruments = {"nowhere:XYZ"};
  auto missing = OpenStoreReplay(*store_, options);
  ASSERT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nowhere:XYZ"), std::string::npos);
  StoreReplayOptions later;
  later.from = Timestamp::FromSeconds(2'000'000'000);
  EXPECT_EQ(OpenStoreReplay(*store_, later).status().code(), StatusCode::kNotFound);
  later.to = later.from;
  EXPECT_EQ(OpenStoreReplay(*store_, later).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StoredReplayTest, FileReplaySkipsRejectedRows) {
  const std::filesystem::path csv = dir_ / "candles.csv";
  std::ofstream(csv) << "ts,open,high,low,close,volume\n"
                        "2024-01-01T00:00:00Z,10,12,9,11,5\n"
                        "2024-01-01T00:01:00Z,11,13,10,abc,5\n"
                        "2024-01-01T00:02:00Z,11,13,10,12,6\n";
  FileSourceSpec spec;
  spec.path = csv.string();
  spec.format = "csv";
  spec.venue = "test";
  spec.symbol = "BTC";
  spec.timeframe = "1m";
  auto source = OpenFileReplay({spec}, {});
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  std::vector<Seen> seen = Drain(**source);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].instrument, "test:BTC");
  EXPECT_EQ(seen[1].ts - seen[0].ts, 2 * kMinute);

  spec.path = (dir_ / "missing.csv").string();
  auto missing = OpenFileReplay({spec}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.csv"), std::string::npos);
  spec.format = "no-such-format";
  EXPECT_FALSE(OpenFileReplay({spec}, {}).ok());
  EXPECT_EQ(OpenFileReplay({}, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(SimulatorSourceTest, DeliversEverySimulatedRowAndTheIncidents) {
  SimulationOptions options;
  options.instruments = 2;
  options.days = 1;
  options.seed = 3;
  SimulatedMarket market = *Simulate(options);
  int64_t rows = 0;
  for (const RecordBatch& batch : market.batches) rows += batch.frame.rows();
  std::vector<SimulatedEvent> incidents;
  auto source = OpenSimulatorSource(options, {}, &incidents);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ(static_cast<int64_t>(Drain(**source).size()), rows);
  ASSERT_EQ(incidents.size(), market.events.size());
  for (size_t i = 0; i < incidents.size(); ++i) {
    EXPECT_EQ(incidents[i].start, market.events[i].start);
    EXPECT_EQ(incidents[i].type, market.events[i].type);
  }
  options.days = 0;
  EXPECT_EQ(OpenSimulatorSource(options, {}, nullptr).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil
