// Features and the store (feature_store.h): streams loaded from a store give the same
// features as the frames they came from, only data before `to` is read, and computed
// features round-trip through feature_store under the spec hash.
#include "vigil/features/feature_store.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "vigil/core/timestamp.h"
#include "vigil/data/simulator.h"

namespace vigil {
namespace {

class FeatureStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("vigil-feature-store-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    std::filesystem::remove(path_);
    auto store = OpenStore("sqlite:" + path_.string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove(path_);
    std::filesystem::remove(path_.string() + "-wal");
    std::filesystem::remove(path_.string() + "-shm");
  }

  // Two days of one simulated instrument, every kind, stored.
  void StoreSimulation() {
    SimulationOptions options;
    options.instruments = 1;
    options.days = 2;
    options.seed = 7;
    auto simulation = Simulate(options);
    ASSERT_TRUE(simulation.ok()) << simulation.status().ToString();
    batches_ = std::move(simulation->batches);
    WriteUnit unit;
    unit.source = "simulation";
    unit.batches = batches_;
    auto written = store_->Write(unit);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }

  // The simulated frame of `kind` for the instrument (empty when none).
  const RecordBatch* Batch(DataKind kind) const {
    for (const RecordBatch& batch : batches_) {
      if (batch.series.kind == kind && batch.series.instrument.ToString() == instrument()) {
        return &batch;
      }
    }
    return nullptr;
  }

  std::string instrument() const {
    for (const RecordBatch& batch : batches_) {
      if (batch.series.kind == DataKind::kCandles) return batch.series.instrument.ToString();
    }
    return "";
  }

  std::filesystem::path path_;
  std::unique_ptr<Store> store_;
  std::vector<RecordBatch> batches_;
};

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

void ExpectFramesIdentical(const Frame& want, const Frame& got) {
  ASSERT_EQ(want.rows(), got.rows());
  ASSERT_EQ(want.num_columns(), got.num_columns());
  for (int64_t row = 0; row < want.rows(); ++row) {
    ASSERT_EQ(want.timestamps()[row], got.timestamps()[row]) << row;
  }
  for (size_t c = 0; c < want.num_columns(); ++c) {
    ASSERT_EQ(want.columns()[c].name, got.columns()[c].name);
    int failures = 0;
    for (int64_t row = 0; row < want.rows() && failures < 5; ++row) {
      if (!SameBits(want.DoublesAt(c)[row], got.DoublesAt(c)[row])) {
        ++failures;
        ADD_FAILURE() << want.columns()[c].name << " row " << row << ": " << want.DoublesAt(c)[row]
                      << " vs " << got.DoublesAt(c)[row];
      }
    }
  }
}

TEST_F(FeatureStoreTest, StoredStreamsGiveTheSameFeaturesAsTheirFrames) {
  StoreSimulation();
  auto spec = BuiltinFeatureSet("default");
  ASSERT_TRUE(spec.ok());
  auto engine = FeatureEngine::Create(*spec, {.base_step_ns = kNanosPerMinute});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();

  auto loaded = LoadStreams(*store_, instrument(), engine->streams(), "", Timestamp::Max());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->candle_timeframe, "1m");
  EXPECT_EQ(loaded->candle_step_ns, kNanosPerMinute);
  ASSERT_EQ(loaded->streams.size(), engine->streams().size());

  // The same streams straight from the simulated frames.
  std::vector<EventStream> direct;
  for (const StreamKey& key : engine->streams()) {
    ASSERT_TRUE(key.instrument.empty());
    const RecordBatch* batch = Batch(key.kind);
    if (batch == nullptr) {
      direct.emplace_back();
      continue;
    }
    auto stream = EventStream::FromFrame(key.kind, batch->frame);
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    EXPECT_EQ(stream->size(), loaded->streams[direct.size()].size()) << KindName(key.kind);
    direct.push_back(std::move(*stream));
  }
  std::vector<const EventStream*> direct_pointers;
  for (const EventStream& s : direct) direct_pointers.push_back(&s);

  auto from_store = ComputeFeatures(*engine, loaded->pointers());
  ASSERT_TRUE(from_store.ok());
  engine->Reset();
  auto from_frames = ComputeFeatures(*engine, direct_pointers);
  ASSERT_TRUE(from_frames.ok());
  ExpectFramesIdentical(*from_frames, *from_store);
}

TEST_F(FeatureStoreTest, NothingAtOrAfterToIsRead) {
  StoreSimulation();
  auto spec = BuiltinFeatureSet("default");
  ASSERT_TRUE(spec.ok());
  auto engine = FeatureEngine::Create(*spec, {.base_step_ns = kNanosPerMinute});
  ASSERT_TRUE(engine.ok());
  const Timestamp to = batches_.front().frame.time(0) + kNanosPerDay;
  auto loaded = LoadStreams(*store_, instrument(), engine->streams(), "", to);
  ASSERT_TRUE(loaded.ok());
  for (const EventStream& stream : loaded->streams) {
    for (const Event& event : stream.events()) EXPECT_LT(event.ts, to.nanos());
  }
  EXPECT_EQ(loaded->streams[0].size(), 24u * 60);
}

TEST_F(FeatureStoreTest, SavedFeaturesComeBackUnderTheSpecHash) {
  StoreSimulation();
  auto spec = BuiltinFeatureSet("ta");
  ASSERT_TRUE(spec.ok());
  auto engine = FeatureEngine::Create(*spec, {});
  ASSERT_TRUE(engine.ok());
  auto loaded = LoadStreams(*store_, instrument(), engine->streams(), "", Timestamp::Max());
  ASSERT_TRUE(loaded.ok());
  auto table = ComputeFeatures(*engine, loaded->pointers());
  ASSERT_TRUE(table.ok());

  auto saved = SaveFeatures(*store_, instrument(), *spec, *table, Timestamp::FromSeconds(1));
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(*saved, table->rows() * static_cast<int64_t>(table->num_columns()));

  auto back = LoadFeatures(*store_, instrument(), *spec, Timestamp::Min(), Timestamp::Max());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectFramesIdentical(*table, *back);

  // Saving again replaces, it does not duplicate.
  ASSERT_TRUE(SaveFeatures(*store_, instrument(), *spec, *table, Timestamp::FromSeconds(2)).ok());
  auto count = store_->CountRows("feature_store");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, *saved);

  // A spec that computes something else has another hash: nothing stored under it.
  auto other = ParseFeatureSetSpec("name: ta\nfeatures:\n  - feature: sma\n    params: {n: 5}\n",
                                   "other.yaml");
  ASSERT_TRUE(other.ok());
  auto none = LoadFeatures(*store_, instrument(), *other, Timestamp::Min(), Timestamp::Max());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->rows(), 0);
}

TEST_F(FeatureStoreTest, BadInstrumentAndEmptyStoreAreClear) {
  auto spec = BuiltinFeatureSet("ta");
  ASSERT_TRUE(spec.ok());
  auto engine = FeatureEngine::Create(*spec, {});
  ASSERT_TRUE(engine.ok());
  auto bad = LoadStreams(*store_, "no-colon", engine->streams(), "", Timestamp::Max());
  EXPECT_FALSE(bad.ok());
  auto empty = LoadStreams(*store_, "x:Y", engine->streams(), "", Timestamp::Max());
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->streams[0].size(), 0u);
  EXPECT_EQ(empty->candle_timeframe, "");
}

}  // namespace
}  // namespace vigil
