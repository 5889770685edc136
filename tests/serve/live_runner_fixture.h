// The live runner tests' shared fixture: a copy of the serve world, its models served live,
// and the batch path's scores to compare the live ones with (live_runner_test.cc,
// live_runner_swap_test.cc).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "serve_fixture.h"
#include "vigil/core/text_file.h"
#include "vigil/features/feature_store.h"
#include "vigil/pipeline/training_config.h"
#include "vigil/pipeline/training_job.h"
#include "vigil/serve/live_runner.h"
#include "vigil/serve/scoring.h"

namespace vigil::testing_live {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Same value, NaN included (bit for bit).
inline bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

// The {"confidence": c} the runner records with a classifier prediction; NaN when absent
// or null.
inline double RecordedConfidence(const PredictionRow& row) {
  const nlohmann::json json = nlohmann::json::parse(row.explanation_json, nullptr, false);
  if (!json.is_object() || !json.contains("confidence") || !json["confidence"].is_number()) {
    return std::nan("");
  }
  return json["confidence"].get<double>();
}

struct LiveRow {
  int64_t ts = 0;
  std::vector<double> values;
};
using RowKey = std::pair<std::string, uint64_t>;  // (instrument, spec hash)

// A writable copy of the shared world with everything a runner needs.
class LiveRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vigil_live_runner_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    world_ = testing::CopyWorld(testing::SharedWorld(), dir_);
    Result<ModelRegistry> registry = ModelRegistry::Open(world_.models_dir);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::make_unique<ModelRegistry>(std::move(*registry));
    models_ = std::make_unique<LiveModels>(*registry_, FallbackConfig{});
    for (const std::string& name : world_.model_names) {
      ASSERT_TRUE(models_->Add(name).ok()) << name;
    }
    Result<StorePool> pool = StorePool::Open(world_.store_url, 2);
    ASSERT_TRUE(pool.ok()) << pool.status().ToString();
    pool_ = std::make_unique<StorePool>(std::move(*pool));
  }
  void TearDown() override { fs::remove_all(dir_); }

  LiveRunnerDependencies Deps() {
    LiveRunnerDependencies deps{models_.get(), pool_.get(), &metrics_};
    deps.on_row = [this](const std::string& instrument, uint64_t hash, Timestamp ts,
                         std::span<const double> values) {
      rows_[{instrument, hash}].push_back({ts.nanos(), {values.begin(), values.end()}});
    };
    return deps;
  }
  std::unique_ptr<MarketSource> StoreSource() {
    Result<StorePool::Lease> store = pool_->Acquire();
    EXPECT_TRUE(store.ok());
    Result<std::unique_ptr<MarketSource>> source = OpenStoreReplay(**store, {});
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    return source.ok() ? std::move(*source) : nullptr;
  }
  StoredFeatures Batch(const std::string& instrument, const FeatureSetSpec& spec) {
    Result<StorePool::Lease> store = pool_->Acquire();
    Result<StoredFeatures> batch =
        ComputeStoredFeatures(**store, instrument, spec, "", Timestamp::Min(), Timestamp::Max());
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    return batch.ok() ? std::move(*batch) : StoredFeatures{};
  }
  std::vector<PredictionRow> Predictions(const std::string& instrument, const std::string& model) {
    Result<StorePool::Lease> store = pool_->Acquire();
    PredictionQuery query;
    query.instrument = instrument;
    query.model_name = model;
    Result<std::vector<PredictionRow>> rows = (*store)->QueryPredictions(query);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : std::vector<PredictionRow>{};
  }

  fs::path dir_;
  testing::ServeWorld world_;
  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<LiveModels> models_;
  std::unique_ptr<StorePool> pool_;
  MetricsRegistry metrics_;
  std::map<RowKey, std::vector<LiveRow>> rows_;
};

// Batch scores of every row a model can score (rows it refuses for undefined features are
// left out, as the runner skips them).
struct BatchScores {
  std::vector<int64_t> ts;
  ScoredRows scored;
};

inline BatchScores ScoreBatch(const ServedModel& model, const StoredFeatures& batch) {
  Result<FeatureMatrix> all = FeatureMatrix::FromFrame(batch.table, model.features());
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  BatchScores out;
  Result<ScoredRows> scored = ScoreRows(model, *all);
  if (scored.ok()) {
    out.ts.assign(batch.table.timestamps().begin(), batch.table.timestamps().end());
    out.scored = std::move(*scored);
    return out;
  }
  FeatureMatrix complete{all->columns, 0, {}};
  for (int64_t row = 0; row < all->rows; ++row) {
    const auto values = all->row(row);
    if (!std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); })) {
      continue;
    }
    complete.values.insert(complete.values.end(), values.begin(), values.end());
    ++complete.rows;
    out.ts.push_back(batch.table.timestamps()[row]);
  }
  scored = ScoreRows(model, complete);
  EXPECT_TRUE(scored.ok()) << scored.status().ToString();
  if (scored.ok()) out.scored = std::move(*scored);
  return out;
}

// The stored predictions of one model equal its batch scores, row for row and per horizon.
inline void ExpectPredictionsEqualBatch(const ServedModel& model, const BatchScores& batch,
                                        const std::vector<PredictionRow>& stored) {
  const size_t per_row = std::max<size_t>(1, batch.scored.horizon_names.size());
  ASSERT_EQ(stored.size(), batch.ts.size() * per_row) << model.name;
  for (size_t row = 0; row < batch.ts.size(); ++row) {
    for (size_t h = 0; h < per_row; ++h) {
      const PredictionRow& p = stored[row * per_row + h];
      ASSERT_EQ(p.ts.nanos(), batch.ts[row]) << model.name << " row " << row;
      EXPECT_EQ(p.model_version, model.version);
      if (!batch.scored.horizon_names.empty()) {
        // Stored sorted by horizon name within a ts; find ours.
        const auto found = std::find(batch.scored.horizon_names.begin(),
                                     batch.scored.horizon_names.end(), p.horizon);
        ASSERT_NE(found, batch.scored.horizon_names.end()) << p.horizon;
        const size_t k = static_cast<size_t>(found - batch.scored.horizon_names.begin());
        EXPECT_TRUE(SameBits(p.value, batch.scored.horizons[row * per_row + k]))
            << model.name << " " << p.value << " vs " << batch.scored.horizons[row * per_row + k]
            << " diff " << p.value - batch.scored.horizons[row * per_row + k];
        EXPECT_EQ(p.label, RiskLevelName(RiskLevelOf(p.value, model.cutpoints))) << p.horizon;
        // The primary horizon (the first: the world's models name none) carries the
        // headline's confidence, the others none.
        if (k == 0) {
          EXPECT_TRUE(SameBits(RecordedConfidence(p), batch.scored.confidence[row]));
        } else {
          EXPECT_EQ(p.explanation_json, "") << p.horizon;
        }
      } else if (batch.scored.task == Task::kAnomaly) {
        EXPECT_TRUE(SameBits(p.score, batch.scored.scores[row])) << model.name << " row " << row;
        EXPECT_TRUE(SameBits(p.value, batch.scored.raw_scores[row]));
      } else {
        EXPECT_TRUE(SameBits(p.value, batch.scored.Probability(row))) << model.name;
        EXPECT_TRUE(SameBits(p.score, batch.scored.Score(row)));
        EXPECT_EQ(p.label, RiskLevelName(batch.scored.levels[row]));
        EXPECT_TRUE(SameBits(RecordedConfidence(p), batch.scored.confidence[row]))
            << model.name << " row " << row << ": " << p.explanation_json;
      }
    }
  }
}

}  // namespace vigil::testing_live
