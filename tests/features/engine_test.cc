// The feature engine (engine.h): the `ta` set against TTR, every built-in set on real and
// simulated data (streaming = batch bit for bit, point in time), multi-stream routing,
// timeframes, shifts, cross-instrument entries and the error paths.
#include "vigil/features/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "features/event_test_util.h"
#include "features/ta_test_util.h"
#include "vigil/core/rng.h"
#include "vigil/core/timestamp.h"
#include "vigil/data/simulator.h"
#include "vigil/features/resample.h"
#include "vigil/features/ta.h"
#include "vigil/features/timeframe_join.h"

namespace vigil {
namespace {

using testing_util::LoadSharedEvents;
using testing_util::MakeEvents;
using testing_util::SharedCandles;
using testing_util::TruncateAt;

constexpr int64_t kMin = kNanosPerMinute;
constexpr int64_t kSec = kNanosPerSecond;

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

FeatureSetSpec Spec(const std::string& yaml) {
  auto spec = ParseFeatureSetSpec(yaml, "t.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? *spec : FeatureSetSpec{};
}

FeatureSetSpec Builtin(const std::string& name) {
  auto spec = BuiltinFeatureSet(name);
  EXPECT_TRUE(spec.ok()) << name << ": " << spec.status().ToString();
  return spec.ok() ? *spec : FeatureSetSpec{};
}

FeatureEngine Engine(const FeatureSetSpec& spec, int64_t base_step_ns = 0) {
  auto engine = FeatureEngine::Create(spec, EngineOptions{.base_step_ns = base_step_ns});
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  return std::move(*engine);
}

Frame Compute(FeatureEngine& engine, const std::vector<const EventStream*>& streams) {
  auto frame = ComputeFeatures(engine, streams);
  EXPECT_TRUE(frame.ok()) << frame.status().ToString();
  return frame.ok() ? std::move(*frame) : Frame();
}

// Rows of a streaming run: ts and values.
struct Rows {
  std::vector<int64_t> ts;
  std::vector<std::vector<double>> values;
};

// Streams events one at a time through Push, merged by hand with the engine's rule: time
// order, and at equal times every non-driver stream (in stream order) before the driver.
Rows PushAll(FeatureEngine& engine, const std::vector<const EventStream*>& streams) {
  struct Ref {
    int64_t ts;
    int rank;  // 0 = the driver, ranked last
    int stream;
    size_t index;
  };
  std::vector<Ref> refs;
  for (size_t s = 0; s < streams.size(); ++s) {
    if (streams[s] == nullptr) continue;
    const int rank = s == 0 ? INT_MAX : static_cast<int>(s);
    for (size_t i = 0; i < streams[s]->size(); ++i) {
      refs.push_back({streams[s]->events()[i].ts, rank, static_cast<int>(s), i});
    }
  }
  std::stable_sort(refs.begin(), refs.end(), [](const Ref& a, const Ref& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.rank < b.rank;
  });
  Rows rows;
  std::vector<double> row(engine.columns().size());
  for (const Ref& ref : refs) {
    const Event& event = streams[ref.stream]->events()[ref.index];
    if (engine.Push(ref.stream, event, row)) {
      rows.ts.push_back(event.ts);
      rows.values.push_back(row);
    }
  }
  return rows;
}

// `got` equals the first got.rows() rows of `want`, bit for bit.
void ExpectPrefixIdentical(const Frame& want, const Frame& got, const std::string& what) {
  ASSERT_LE(got.rows(), want.rows()) << what;
  ASSERT_EQ(got.num_columns(), want.num_columns()) << what;
  int failures = 0;
  for (int64_t row = 0; row < got.rows(); ++row) {
    ASSERT_EQ(got.timestamps()[row], want.timestamps()[row]) << what << " row " << row;
  }
  for (size_t c = 0; c < want.num_columns() && failures < 5; ++c) {
    for (int64_t row = 0; row < got.rows() && failures < 5; ++row) {
      if (!SameBits(want.DoublesAt(c)[row], got.DoublesAt(c)[row])) {
        ++failures;
        ADD_FAILURE() << what << ": " << want.columns()[c].name << " row " << row << ": "
                      << want.DoublesAt(c)[row] << " vs " << got.DoublesAt(c)[row];
      }
    }
  }
}

void ExpectRowsEqualFrame(const Frame& want, const Rows& got, const std::string& what) {
  ASSERT_EQ(static_cast<int64_t>(got.ts.size()), want.rows()) << what;
  int failures = 0;
  for (int64_t row = 0; row < want.rows() && failures < 5; ++row) {
    ASSERT_EQ(got.ts[row], want.timestamps()[row]) << what << " row " << row;
    for (size_t c = 0; c < want.num_columns(); ++c) {
      if (!SameBits(want.DoublesAt(c)[row], got.values[row][c])) {
        ++failures;
        ADD_FAILURE() << what << ": " << want.columns()[c].name << " row " << row << ": "
                      << want.DoublesAt(c)[row] << " vs " << got.values[row][c];
      }
    }
  }
}

// --- data sets: events by kind, all of the row's own instrument ---

struct DataSet {
  std::string name;
  std::map<DataKind, EventStream> streams;
};

// The streams an engine reads, from `data` (nullptr where it has none).
std::vector<const EventStream*> InputsFor(const FeatureEngine& engine, const DataSet& data) {
  std::vector<const EventStream*> inputs;
  for (const StreamKey& key : engine.streams()) {
    const auto found = data.streams.find(key.kind);
    inputs.push_back(key.instrument.empty() && found != data.streams.end() ? &found->second
                                                                           : nullptr);
  }
  return inputs;
}

// One simulated instrument over eight days: candles, funding, oracle, liquidations, the
// vault and the protocol, with consistent times.
const DataSet& Simulated() {
  static const DataSet data = [] {
    DataSet out;
    out.name = "simulator";
    SimulationOptions options;
    options.instruments = 1;
    options.days = 8;  // 24 funding settlements: funding_z_21 gets defined
    options.seed = 11;
    auto market = Simulate(options);
    EXPECT_TRUE(market.ok()) << market.status().ToString();
    if (!market.ok()) return out;
    for (const RecordBatch& batch : market->batches) {
      if (out.streams.count(batch.series.kind) != 0) continue;
      auto stream = EventStream::FromFrame(batch.series.kind, batch.frame);
      EXPECT_TRUE(stream.ok()) << stream.status().ToString();
      if (stream.ok()) out.streams.emplace(batch.series.kind, std::move(*stream));
    }
    return out;
  }();
  return data;
}

DataSet RealSet(std::string name, std::vector<std::pair<DataKind, std::string>> files) {
  DataSet out;
  out.name = std::move(name);
  for (const auto& [kind, path] : files) out.streams.emplace(kind, LoadSharedEvents(kind, path));
  return out;
}

// Real files from ../shared/data, grouped by what can drive a set.
const std::vector<DataSet>& RealData() {
  static const std::vector<DataSet> data = [] {
    std::vector<DataSet> out;
    out.push_back(RealSet("XRP_ETH-1m", {{DataKind::kCandles, "candles/XRP_ETH-1m.csv"}}));
    out.push_back(
        RealSet("hftbacktest hyperliquid books + trades",
                {{DataKind::kOrderBook, "orderbook/hftbacktest_hyperliquid_btcusd_20250126.gz"},
                 {DataKind::kTrades, "orderbook/hftbacktest_hyperliquid_btcusd_20250126.gz"}}));
    out.push_back(RealSet(
        "tardis book snapshots",
        {{DataKind::kOrderBook, "orderbook/tardis_binance-futures_book_snapshot_25_BTCUSDT.csv"}}));
    out.push_back(
        RealSet("hyperliquid liquidations",
                {{DataKind::kLiquidations, "liquidations/hyperliquid_liquidations_2023.csv"}}));
    out.push_back(
        RealSet("chainlink ETH-BTC",
                {{DataKind::kOracle,
                  "oracle/chainlink_ETH-BTC_0xAc559F25B1619171CbC396a50854A3240b6A4e99.csv"}}));
    out.push_back(RealSet("XRP funding",
                          {{DataKind::kFunding, "funding/XRP_USDT_USDT-8h-funding_rate.csv"}}));
    out.push_back(RealSet("HLP vault", {{DataKind::kVault, "tvl/defillama_HLP.json"}}));
    out.push_back(
        RealSet("hyperlend tvl", {{DataKind::kProtocol, "tvl/defillama_hyperlend_tvl.json"}}));
    out.push_back(RealSet("felix tvl", {{DataKind::kProtocol, "tvl/defillama_felix_tvl.json"}}));
    return out;
  }();
  return data;
}

// Every data set whose driver-kind stream is non-empty, real ones first.
std::vector<const DataSet*> DataFor(DataKind driver) {
  std::vector<const DataSet*> out;
  for (const DataSet& data : RealData()) {
    const auto found = data.streams.find(driver);
    if (found != data.streams.end() && found->second.size() > 0) out.push_back(&data);
  }
  const auto sim = Simulated().streams.find(driver);
  if (sim != Simulated().streams.end() && sim->second.size() > 0) out.push_back(&Simulated());
  return out;
}

// --- the ta set ---

TEST(EngineTaTest, ColumnsAndMetadataFollowTheSpec) {
  for (const std::string& name : BuiltinFeatureSetNames()) {
    const FeatureSetSpec spec = Builtin(name);
    FeatureEngine engine = Engine(spec);
    EXPECT_EQ(engine.set_name(), name);
    EXPECT_EQ(engine.spec_hash(), spec.SpecHash());
    EXPECT_EQ(engine.columns(), spec.Columns()) << name;
    ASSERT_FALSE(engine.streams().empty());
    EXPECT_EQ(engine.streams()[0], (StreamKey{"", spec.driver}));
  }
}

TEST(EngineTaTest, TaOverTtrcMatchesTtrInEveryColumn) {
  const testing_util::TtrFixture& fixture = testing_util::Ttrc();
  ASSERT_FALSE(fixture.bars.empty());
  const FeatureSetSpec ta = Builtin("ta");
  FeatureEngine engine = Engine(ta);
  ASSERT_EQ(engine.streams().size(), 1u);
  const EventStream candles = EventStream::FromBars(fixture.bars);
  const Frame out = Compute(engine, {&candles});
  ASSERT_EQ(out.rows(), static_cast<int64_t>(fixture.bars.size()));
  for (size_t row = 0; row < fixture.bars.size(); ++row) {
    ASSERT_EQ(out.timestamps()[row], fixture.bars[row].ts);
  }
  for (const std::string& column : ta.Columns()) {
    const auto expected = fixture.expected.find(column);
    ASSERT_NE(expected, fixture.expected.end()) << "no TTR column " << column;
    const std::vector<double>& want = expected->second;
    const std::span<const double> got = out.Doubles(column);
    ASSERT_EQ(got.size(), want.size()) << column;
    int mismatches = 0;
    for (size_t row = 0; row < want.size(); ++row) {
      const bool ok = std::isnan(want[row]) ? std::isnan(got[row])
                                            : std::fabs(got[row] - want[row]) <=
                                                  1e-9 * std::max(1.0, std::fabs(want[row]));
      if (!ok && ++mismatches <= 3) {
        ADD_FAILURE() << column << " row " << row << ": " << got[row] << " vs TTR " << want[row];
      }
    }
  }
}

// Every candle file the reader accepts gives the ta and default sets: no infinities, and
// past the longest warm-up (60 bars for the default set) almost every price value is
// defined. Flat stretches of illiquid markets leave some NaN (a window without range:
// 0/0), never a made-up number. The default set's liquidation and funding columns are NaN:
// these files have no such streams.
TEST(EngineTaTest, EverySharedCandleFileProducesTheTaAndDefaultSets) {
  const std::string dir = std::string(VIGIL_SHARED_DATA) + "/candles";
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (ext == ".feather") continue;  // refused by design (the .csv copy is read)
    files.push_back("candles/" + entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 20u);
  const FeatureSetSpec sets[] = {Builtin("ta"), Builtin("default")};
  for (const std::string& file : files) {
    const std::vector<Bar> bars = SharedCandles(file);
    ASSERT_GE(bars.size(), 5u) << file;
    const EventStream candles = EventStream::FromBars(bars);
    for (const FeatureSetSpec& spec : sets) {
      SCOPED_TRACE(spec.name + " on " + file);
      FeatureEngine engine = Engine(spec);
      std::vector<const EventStream*> inputs(engine.streams().size(), nullptr);
      inputs[0] = &candles;
      const Frame out = Compute(engine, inputs);
      ASSERT_EQ(out.rows(), static_cast<int64_t>(bars.size()));
      int64_t defined = 0, checked = 0;
      for (size_t c = 0; c < out.num_columns(); ++c) {
        const std::string& column = out.columns()[c].name;
        const bool other_stream = column.rfind("liq_", 0) == 0 || column.rfind("funding_", 0) == 0;
        const std::span<const double> values = out.DoublesAt(c);
        for (size_t row = 0; row < values.size(); ++row) {
          ASSERT_FALSE(std::isinf(values[row])) << column << " row " << row;
          if (other_stream) {
            ASSERT_TRUE(std::isnan(values[row])) << column << " row " << row;
            continue;
          }
          if (row < 100) continue;
          ++checked;
          defined += std::isfinite(values[row]) ? 1 : 0;
        }
      }
      if (bars.size() > 200) {
        EXPECT_GT(static_cast<double>(defined), 0.95 * static_cast<double>(checked));
      }
    }
  }
}

// --- every built-in set: streaming = batch, point in time ---

TEST(EngineBuiltinTest, StreamingEqualsBatchForEverySet) {
  for (const std::string& name : BuiltinFeatureSetNames()) {
    const FeatureSetSpec spec = Builtin(name);
    const std::vector<const DataSet*> data = DataFor(spec.driver);
    EXPECT_FALSE(data.empty()) << name;
    for (const DataSet* set : data) {
      SCOPED_TRACE(name + " on " + set->name);
      FeatureEngine engine = Engine(spec);
      const std::vector<const EventStream*> inputs = InputsFor(engine, *set);
      const Frame batch = Compute(engine, inputs);
      ASSERT_EQ(batch.rows(), static_cast<int64_t>(inputs[0]->size()));
      FeatureEngine live = Engine(spec);
      ExpectRowsEqualFrame(batch, PushAll(live, inputs), "streaming");
      // The batch path's threads do not change a bit.
      FeatureEngine threaded = Engine(spec);
      auto parallel = ComputeFeatures(threaded, inputs, ComputeOptions{.threads = 3});
      ASSERT_TRUE(parallel.ok()) << parallel.status().ToString();
      ExpectPrefixIdentical(batch, *parallel, "3 threads");
      EXPECT_EQ(parallel->rows(), batch.rows());
      // Some value of the set is defined somewhere: the data reached the kernels.
      bool any = false;
      for (size_t c = 0; c < batch.num_columns() && !any; ++c) {
        for (double v : batch.DoublesAt(c)) any = any || std::isfinite(v);
      }
      // (Real Chainlink rounds carry no reference price: every oracle deviation is NaN.)
      if (name != "oracle" || set == &Simulated()) {
        EXPECT_TRUE(any);
      }
      // The simulator has every stream a set reads, so every column gets defined.
      for (size_t c = 0; c < batch.num_columns() && set == &Simulated(); ++c) {
        const std::span<const double> values = batch.DoublesAt(c);
        EXPECT_TRUE(std::any_of(values.begin(), values.end(), [](double v) {
          return std::isfinite(v);
        })) << batch.columns()[c].name;
      }
    }
  }
}

void ExpectPointInTime(const FeatureSetSpec& spec, const std::vector<const EventStream*>& inputs,
                       int cuts, int64_t base_step_ns = 0) {
  FeatureEngine engine = Engine(spec, base_step_ns);
  const Frame full = Compute(engine, inputs);
  const auto driver = inputs[0]->events();
  ASSERT_FALSE(driver.empty());
  Rng rng(20261203);
  for (int i = 0; i < cuts; ++i) {
    const int64_t cut = driver[rng.UniformInt(0, static_cast<int64_t>(driver.size()) - 1)].ts;
    std::vector<EventStream> truncated = TruncateAt(inputs, cut);
    std::vector<const EventStream*> pointers;
    for (const EventStream& s : truncated) pointers.push_back(&s);
    engine.Reset();
    const Frame partial = Compute(engine, pointers);
    EXPECT_EQ(partial.rows(), static_cast<int64_t>(truncated[0].size()));
    ExpectPrefixIdentical(full, partial, "cut at " + std::to_string(cut));
  }
}

TEST(EngineBuiltinTest, EverySetIsPointInTime) {
  for (const std::string& name : BuiltinFeatureSetNames()) {
    const FeatureSetSpec spec = Builtin(name);
    const std::vector<const DataSet*> data = DataFor(spec.driver);
    ASSERT_FALSE(data.empty()) << name;
    // The simulator when it has the driver (all streams consistent), else the first
    // real set (order books).
    const DataSet* set = data.back();
    SCOPED_TRACE(name + " on " + set->name);
    FeatureEngine engine = Engine(spec);
    ExpectPointInTime(spec, InputsFor(engine, *set), 25);
  }
}

// --- routing of several streams ---

EventStream MinuteCandles(int n, double first_close = 100) {
  std::vector<Bar> bars;
  for (int i = 0; i < n; ++i) {
    const double c = first_close + i;
    bars.push_back(Bar{i * kMin, c, c + 1, c - 1, c, 10.0 + i});
  }
  return EventStream::FromBars(bars);
}

TEST(EngineRoutingTest, DefaultSetRoutesLiquidationsAndFundingAsOfEachBar) {
  const FeatureSetSpec spec = Builtin("default");
  FeatureEngine engine = Engine(spec);
  ASSERT_EQ(engine.streams(), (std::vector<StreamKey>{{"", DataKind::kCandles},
                                                      {"", DataKind::kLiquidations},
                                                      {"", DataKind::kFunding}}));
  const EventStream candles = MinuteCandles(10);
  // side, price, qty, notional, account_value, event_id; one liquidation exactly at a bar.
  const EventStream liquidations =
      MakeEvents(DataKind::kLiquidations, {{90 * kSec, 1, 10, 10, 100, 0, 1},
                                           {180 * kSec, -1, 10, 5, 50, 0, 2},
                                           {210 * kSec, 1, 10, 1, 10, 0, 3}});
  // rate, mark, index
  const EventStream funding =
      MakeEvents(DataKind::kFunding, {{2 * kMin, 0.001, 1, 1}, {6 * kMin + kSec, 0.002, 1, 1}});
  const Frame out = Compute(engine, {&candles, &liquidations, &funding});
  ASSERT_EQ(out.rows(), 10);
  // Window (now - 5m, now]; the liquidation at 3m is seen by the 3m bar. Before the
  // stream's first event the columns are NaN, not a count of 0.
  const auto column = [&](const char* name) {
    const std::span<const double> values = out.Doubles(name);
    return std::vector<double>(values.begin(), values.end());
  };
  const auto same = [](const std::vector<double>& got, const std::vector<double>& want) {
    if (got.size() != want.size()) return false;
    for (size_t i = 0; i < got.size(); ++i) {
      if (!SameBits(got[i], want[i])) return false;
    }
    return true;
  };
  const double nan = std::nan("");
  EXPECT_TRUE(same(column("liq_count_5m"), {nan, nan, 1, 2, 3, 3, 3, 2, 1, 0}));
  EXPECT_TRUE(same(column("liq_count_long_5m"), {nan, nan, 1, 1, 2, 2, 2, 1, 1, 0}));
  EXPECT_EQ(out.Doubles("liq_notional_5m")[4], 160);
  const std::span<const double> rate = out.Doubles("funding_rate");
  ASSERT_EQ(rate.size(), 10u);
  EXPECT_TRUE(std::isnan(rate[0]));
  EXPECT_TRUE(std::isnan(rate[1]));
  for (int row = 2; row <= 6; ++row) EXPECT_EQ(rate[row], 0.001) << row;
  for (int row = 7; row <= 9; ++row) EXPECT_EQ(rate[row], 0.002) << row;
  // The candle columns do not depend on the other streams.
  FeatureEngine alone = Engine(spec);
  const Frame candles_only = Compute(alone, {&candles, nullptr, nullptr});
  for (const char* column : {"logret_1", "rsi_14", "time_of_day_sin"}) {
    if (!out.HasColumn(column)) continue;
    for (int64_t row = 0; row < out.rows(); ++row) {
      EXPECT_TRUE(SameBits(out.Doubles(column)[row], candles_only.Doubles(column)[row]));
    }
  }
}

TEST(EngineRoutingTest, StreamsWithoutEventsGiveNaN) {
  const FeatureSetSpec spec = Builtin("default");
  const EventStream candles = MinuteCandles(30);
  const EventStream empty_liquidations = MakeEvents(DataKind::kLiquidations, {});
  for (int variant = 0; variant < 2; ++variant) {
    SCOPED_TRACE(variant == 0 ? "nullptr streams" : "empty streams");
    FeatureEngine engine = Engine(spec);
    const Frame out = variant == 0 ? Compute(engine, {&candles, nullptr, nullptr})
                                   : Compute(engine, {&candles, &empty_liquidations, nullptr});
    ASSERT_EQ(out.rows(), 30);
    for (size_t c = 0; c < out.num_columns(); ++c) {
      const std::string& column = out.columns()[c].name;
      if (column.rfind("liq_", 0) != 0 && column.rfind("funding_", 0) != 0) continue;
      for (double v : out.DoublesAt(c)) ASSERT_TRUE(std::isnan(v)) << column << " " << v;
    }
    // Streaming without those streams agrees.
    FeatureEngine live = Engine(spec);
    ExpectRowsEqualFrame(out, PushAll(live, {&candles, nullptr, nullptr}), "streaming");
  }
}

TEST(EngineRoutingTest, CrossInstrumentEntriesAddStreamsAndSuffixedColumns) {
  const FeatureSetSpec spec = Spec(R"(name: cross
features:
  - feature: sma
    params: {n: 3}
    instruments: [self, test:OTHER]
  - feature: corr
    params: {n: 5, with: 'test:OTHER'}
)");
  FeatureEngine engine = Engine(spec);
  ASSERT_EQ(engine.streams(),
            (std::vector<StreamKey>{{"", DataKind::kCandles}, {"test:OTHER", DataKind::kCandles}}));
  EXPECT_EQ(engine.columns(), spec.Columns());
  ASSERT_GE(engine.columns().size(), 3u);
  EXPECT_EQ(engine.columns()[0], "sma_3");
  EXPECT_EQ(engine.columns()[1], "sma_3@test:OTHER");
  // The other instrument trades every 2 minutes, sometimes at the same time as a row.
  const EventStream self = MinuteCandles(40, 100);
  std::vector<Bar> other_bars;
  for (int i = 0; i < 20; ++i) {
    const double c = 50 + (i % 7) * 1.5;
    other_bars.push_back(Bar{2 * i * kMin + (i % 3 == 0 ? 0 : 30 * kSec), c, c + 1, c - 1, c, 1});
  }
  const EventStream other = EventStream::FromBars(other_bars);
  const Frame out = Compute(engine, {&self, &other});
  ASSERT_EQ(out.rows(), 40);
  // sma_3@test:OTHER is the other instrument's sma as of each row.
  const std::vector<double> other_sma =
      testing_util::RunColumn(*AdaptBarKernel(MakeSma(3)), {&other}, "sma_3");
  const std::span<const double> got = out.Doubles("sma_3@test:OTHER");
  for (int64_t row = 0; row < out.rows(); ++row) {
    const int64_t now = out.timestamps()[row];
    double want = std::nan("");
    for (size_t i = 0; i < other_bars.size() && other_bars[i].ts <= now; ++i) want = other_sma[i];
    EXPECT_TRUE(SameBits(got[row], want)) << "row " << row << ": " << got[row] << " vs " << want;
  }
  const std::vector<double> self_sma =
      testing_util::RunColumn(*AdaptBarKernel(MakeSma(3)), {&self}, "sma_3");
  for (int64_t row = 0; row < out.rows(); ++row) {
    EXPECT_TRUE(SameBits(out.Doubles("sma_3")[row], self_sma[row]));
  }
  // The corr column (2 streams) is defined once both have enough returns.
  const std::span<const double> corr = out.DoublesAt(2);
  EXPECT_TRUE(std::isfinite(corr.back())) << engine.columns()[2];
  FeatureEngine live = Engine(spec);
  ExpectRowsEqualFrame(out, PushAll(live, {&self, &other}), "streaming");
  ExpectPointInTime(spec, {&self, &other}, 10);
  // Without the other instrument's data its columns are NaN.
  engine.Reset();
  const Frame alone = Compute(engine, {&self, nullptr});
  for (double v : alone.Doubles("sma_3@test:OTHER")) EXPECT_TRUE(std::isnan(v));
  for (double v : alone.DoublesAt(2)) EXPECT_TRUE(std::isnan(v));
}

// --- timeframes and shifts through a spec ---

TEST(EngineSpecTest, TimeframesEqualTheAsOfJoinPath) {
  const std::vector<Bar> bars = SharedCandles("candles/XRP_ETH-1m.csv");
  ASSERT_GT(bars.size(), 1000u);
  const FeatureSetSpec spec = Spec(R"(name: tf
features:
  - feature: sma
    params: {n: 5}
    timeframes: [5m, 60m]
  - feature: sma
    params: {n: 5}
)");
  FeatureEngine engine = Engine(spec, kMin);
  EXPECT_EQ(engine.columns(), (std::vector<std::string>{"sma_5_5m", "sma_5_1h", "sma_5"}));
  const EventStream candles = EventStream::FromBars(bars);
  const Frame out = Compute(engine, {&candles});
  std::vector<int64_t> base_ts;
  for (const Bar& bar : bars) base_ts.push_back(bar.ts);
  for (const auto& [target, suffix] :
       std::vector<std::pair<int64_t, std::string>>{{5 * kMin, "_5m"}, {60 * kMin, "_1h"}}) {
    SCOPED_TRACE(suffix);
    auto closed = ResampleBars(bars, kMin, target, false);
    ASSERT_TRUE(closed.ok());
    std::vector<std::unique_ptr<FeatureKernel>> kernels;
    kernels.push_back(MakeSma(5));
    const Frame higher = ComputeOverBars(kernels, BarsOf(*closed));
    auto joined = AsOfJoinClosed(base_ts, kMin, higher, CloseTimesOf(*closed), suffix);
    ASSERT_TRUE(joined.ok());
    const std::span<const double> want = joined->Doubles("sma_5" + suffix);
    const std::span<const double> got = out.Doubles("sma_5" + suffix);
    ASSERT_EQ(got.size(), want.size());
    int defined = 0;
    for (size_t row = 0; row < want.size(); ++row) {
      ASSERT_TRUE(SameBits(got[row], want[row])) << "row " << row;
      defined += std::isfinite(want[row]) ? 1 : 0;
    }
    EXPECT_GT(defined, 0);
  }
  FeatureEngine live = Engine(spec, kMin);
  ExpectRowsEqualFrame(out, PushAll(live, {&candles}), "streaming");
  ExpectPointInTime(spec, {&candles}, 10, kMin);
}

TEST(EngineSpecTest, ShiftsEqualShiftedColumns) {
  const FeatureSetSpec spec = Spec(R"(name: shifted
features:
  - feature: sma
    params: {n: 3}
    shifts: [1, 4]
  - feature: macd
    shifts: [2]
)");
  FeatureEngine engine = Engine(spec);
  EXPECT_EQ(engine.columns(), spec.Columns());
  std::vector<Bar> bars = SharedCandles("candles/XRP_ETH-5m.csv");
  ASSERT_GT(bars.size(), 100u);
  const EventStream candles = EventStream::FromBars(bars);
  const Frame out = Compute(engine, {&candles});
  const std::vector<std::pair<std::string, int>> shifted = {{"sma_3", 1},
                                                            {"sma_3", 4},
                                                            {"macd_12_26_9", 2},
                                                            {"macd_signal_12_26_9", 2},
                                                            {"macd_hist_12_26_9", 2}};
  for (const auto& [column, lag] : shifted) {
    const std::string name = column + "_lag" + std::to_string(lag);
    SCOPED_TRACE(name);
    const std::span<const double> base = out.Doubles(column);
    const std::span<const double> lagged = out.Doubles(name);
    ASSERT_EQ(lagged.size(), base.size());
    for (size_t row = 0; row < base.size(); ++row) {
      const double want = row < static_cast<size_t>(lag) ? std::nan("") : base[row - lag];
      ASSERT_TRUE(SameBits(lagged[row], want)) << "row " << row;
    }
  }
}

// A price feature on another series (`source:`) is the same computation as the dedicated
// feature: SMA of candles.volume = vol_ma, z-score of funding.rate = funding_z.
TEST(EngineSpecTest, SourceFieldsRunPriceFeaturesOnOtherSeries) {
  const FeatureSetSpec volume = Spec(R"(name: volume
features:
  - feature: sma
    params: {n: 20}
    source: candles.volume
  - feature: vol_ma
)");
  EXPECT_EQ(volume.Columns(), (std::vector<std::string>{"sma_20_volume", "vol_ma_20"}));
  FeatureEngine volume_engine = Engine(volume);
  const std::vector<Bar> bars = SharedCandles("candles/XRP_ETH-5m.csv");
  ASSERT_GT(bars.size(), 100u);
  const EventStream candles = EventStream::FromBars(bars);
  const Frame by_volume = Compute(volume_engine, {&candles});
  const auto sma = by_volume.Doubles("sma_20_volume");
  const auto vol_ma = by_volume.Doubles("vol_ma_20");
  for (size_t row = 0; row < sma.size(); ++row) {
    if (std::isnan(vol_ma[row])) {
      ASSERT_TRUE(std::isnan(sma[row])) << row;
    } else {
      ASSERT_NEAR(sma[row], vol_ma[row], 1e-12 * std::max(1.0, std::fabs(vol_ma[row]))) << row;
    }
  }

  const FeatureSetSpec funding = Spec(R"(name: funding
features:
  - feature: zscore
    params: {n: 21}
    source: funding
  - feature: funding_z
)");
  EXPECT_EQ(funding.driver, DataKind::kFunding);
  EXPECT_EQ(funding.entries[0].source, "funding.rate");
  FeatureEngine funding_engine = Engine(funding);
  const EventStream rates =
      LoadSharedEvents(DataKind::kFunding, "funding/XRP_USDT_USDT-8h-funding_rate.csv");
  ASSERT_GT(rates.size(), 30u);
  const Frame by_rate = Compute(funding_engine, {&rates});
  const auto z = by_rate.Doubles("zscore_21_rate");
  const auto funding_z = by_rate.Doubles("funding_z_21");
  int defined = 0;
  for (size_t row = 0; row < z.size(); ++row) {
    if (std::isnan(funding_z[row]) || std::isnan(z[row])) continue;
    ++defined;
    ASSERT_NEAR(z[row], funding_z[row], 1e-9 * std::max(1.0, std::fabs(funding_z[row]))) << row;
  }
  EXPECT_GT(defined, 20);
}

// --- errors ---

TEST(EngineErrorTest, TimeframesNeedTheBaseStep) {
  const FeatureSetSpec spec =
      Spec("name: tf\nfeatures:\n  - feature: rsi\n  - feature: sma\n    timeframes: [5m]\n");
  auto engine = FeatureEngine::Create(spec, {});
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine.status().message().rfind("t.yaml:4: feature 'sma': timeframe 5m", 0), 0u)
      << engine.status().message();
  // A timeframe that is not a whole multiple of the base step.
  auto odd = FeatureEngine::Create(spec, EngineOptions{.base_step_ns = 2 * kMin});
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.status().message().find("timeframe 5m"), std::string::npos)
      << odd.status().message();
  EXPECT_TRUE(FeatureEngine::Create(spec, EngineOptions{.base_step_ns = kMin}).ok());
}

TEST(EngineErrorTest, ComputeFeaturesChecksItsStreams) {
  FeatureEngine engine = Engine(Builtin("ta"));
  const EventStream candles = MinuteCandles(5);
  auto count = ComputeFeatures(engine, std::vector<const EventStream*>{&candles, &candles});
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(count.status().message().find("reads 1 streams, got 2"), std::string::npos)
      << count.status().message();
  EXPECT_FALSE(ComputeFeatures(engine, std::vector<const EventStream*>{}).ok());

  const EventStream trades = MakeEvents(DataKind::kTrades, {{1, 100, 1, 1, 1}});
  auto kind = ComputeFeatures(engine, std::vector<const EventStream*>{&trades});
  ASSERT_FALSE(kind.ok());
  EXPECT_NE(kind.status().message().find("must hold candles events, not trades"), std::string::npos)
      << kind.status().message();

  const std::vector<Bar> unordered = {{2 * kMin, 1, 1, 1, 1, 1}, {kMin, 1, 1, 1, 1, 1}};
  const EventStream backwards = EventStream::FromBars(unordered);
  auto order = ComputeFeatures(engine, std::vector<const EventStream*>{&backwards});
  ASSERT_FALSE(order.ok());
  EXPECT_NE(order.status().message().find("not in time order at event 1"), std::string::npos)
      << order.status().message();

  // An empty driver gives an empty table with every column.
  const EventStream none = EventStream::FromBars({});
  auto empty = ComputeFeatures(engine, std::vector<const EventStream*>{&none});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->rows(), 0);
  EXPECT_EQ(empty->num_columns(), engine.columns().size());
}

TEST(EngineResetTest, ComputeContinuesFromTheStateAndResetForgetsIt) {
  const FeatureSetSpec spec = Builtin("default");
  std::vector<Bar> bars = SharedCandles("candles/XRP_ETH-1m.csv");
  ASSERT_GT(bars.size(), 1000u);
  bars.resize(1000);
  const EventStream all = EventStream::FromBars(bars);
  const EventStream first_half = EventStream::FromBars(std::span(bars).first(500));
  const EventStream second_half = EventStream::FromBars(std::span(bars).subspan(500));
  FeatureEngine reference = Engine(spec);
  const Frame whole = Compute(reference, {&all, nullptr, nullptr});

  FeatureEngine engine = Engine(spec);
  const Frame first = Compute(engine, {&first_half, nullptr, nullptr});
  ExpectPrefixIdentical(whole, first, "first half");
  // Without Reset the batch path continues from the engine's state.
  const Frame second = Compute(engine, {&second_half, nullptr, nullptr});
  ASSERT_EQ(second.rows(), 500);
  for (size_t c = 0; c < whole.num_columns(); ++c) {
    for (int64_t row = 0; row < 500; ++row) {
      ASSERT_TRUE(SameBits(second.DoublesAt(c)[row], whole.DoublesAt(c)[500 + row]))
          << whole.columns()[c].name << " row " << row;
    }
  }
  engine.Reset();
  ExpectPrefixIdentical(whole, Compute(engine, {&first_half, nullptr, nullptr}), "after Reset");
  engine.Reset();
  ExpectPrefixIdentical(whole, Compute(engine, {&all, nullptr, nullptr}), "whole after Reset");
}

}  // namespace
}  // namespace vigil
