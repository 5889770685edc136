#include "vigil/serve/live_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "serve_fixture.h"
#include "vigil/features/feature_store.h"
#include "vigil/serve/scoring.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Same value, NaN included (bit for bit).
bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
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

BatchScores ScoreBatch(const ServedModel& model, const StoredFeatures& batch) {
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
void ExpectPredictionsEqualBatch(const ServedModel& model, const BatchScores& batch,
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
      } else if (batch.scored.task == Task::kAnomaly) {
        EXPECT_TRUE(SameBits(p.score, batch.scored.scores[row])) << model.name << " row " << row;
        EXPECT_TRUE(SameBits(p.value, batch.scored.raw_scores[row]));
      } else {
        EXPECT_TRUE(SameBits(p.value, batch.scored.Probability(row))) << model.name;
        EXPECT_TRUE(SameBits(p.score, batch.scored.Score(row)));
        EXPECT_EQ(p.label, RiskLevelName(batch.scored.levels[row]));
      }
    }
  }
}

TEST_F(LiveRunnerTest, LiveFeaturesScoresAndAlertsEqualTheBatchPath) {
  // A threshold at the risk model's 95th batch percentile, without cool-down, so the
  // alerts expected offline are exactly the rows at or above it.
  std::shared_ptr<const ServedModel> risk = models_->Get("risk_clf");
  ASSERT_NE(risk, nullptr);
  std::map<std::string, BatchScores> risk_batch;
  std::vector<double> all_scores;
  for (const std::string& instrument : world_.instruments) {
    risk_batch[instrument] = ScoreBatch(*risk, Batch(instrument, *risk->feature_set));
    for (int64_t row = 0; row < risk_batch[instrument].scored.rows; ++row) {
      all_scores.push_back(risk_batch[instrument].scored.Score(row));
    }
  }
  ASSERT_FALSE(all_scores.empty());
  std::sort(all_scores.begin(), all_scores.end());
  const double threshold = all_scores[all_scores.size() * 95 / 100];
  RunConfig config;
  AlertRule rule;
  rule.name = "risk_high";
  rule.model = "risk_clf";
  rule.above = threshold;
  rule.cooldown_ns = 0;
  config.rules = {rule};
  config.refresh_models = std::chrono::milliseconds(0);
  LiveRunner runner(config, Deps());
  std::unique_ptr<MarketSource> source = StoreSource();
  ASSERT_NE(source, nullptr);
  ASSERT_TRUE(runner.Run(*source, [] { return false; }).ok());

  // Features: every row of every (instrument, feature set), bit for bit.
  for (const std::string& name : world_.model_names) {
    std::shared_ptr<const ServedModel> model = models_->Get(name);
    const uint64_t hash = model->feature_set->SpecHash();
    for (const std::string& instrument : world_.instruments) {
      const StoredFeatures batch = Batch(instrument, *model->feature_set);
      const std::vector<LiveRow>& live = rows_[{instrument, hash}];
      ASSERT_EQ(live.size(), static_cast<size_t>(batch.table.rows())) << instrument;
      ASSERT_GT(live.size(), 0u);
      for (size_t row = 0; row < live.size(); ++row) {
        ASSERT_EQ(live[row].ts, batch.table.timestamps()[row]);
        for (size_t c = 0; c < live[row].values.size(); ++c) {
          ASSERT_TRUE(SameBits(live[row].values[c], batch.table.DoublesAt(c)[row]))
              << instrument << " " << name << " row " << row << " column " << c;
        }
      }
      // Scores: the stored predictions equal the batch scores.
      ExpectPredictionsEqualBatch(*model, ScoreBatch(*model, batch), Predictions(instrument, name));
    }
  }

  // Alerts: exactly the rows at or above the threshold.
  std::set<std::pair<std::string, int64_t>> expected;
  for (const auto& [instrument, batch] : risk_batch) {
    for (int64_t row = 0; row < batch.scored.rows; ++row) {
      if (batch.scored.Score(row) >= threshold) expected.insert({instrument, batch.ts[row]});
    }
  }
  Result<StorePool::Lease> store = pool_->Acquire();
  AlertQuery query;
  query.limit = 0;
  Result<std::vector<AlertRow>> alerts = (*store)->QueryAlerts(query);
  ASSERT_TRUE(alerts.ok()) << alerts.status().ToString();
  std::set<std::pair<std::string, int64_t>> raised;
  for (const AlertRow& alert : *alerts) {
    EXPECT_EQ(alert.rule, "risk_high");
    EXPECT_GE(alert.score, threshold);
    raised.insert({alert.instrument, alert.ts.nanos()});
  }
  EXPECT_EQ(raised, expected);
  EXPECT_EQ(alerts->size(), expected.size());

  const LiveRunnerStats stats = runner.stats();
  EXPECT_EQ(stats.alerts_raised, static_cast<int64_t>(expected.size()));
  EXPECT_GT(stats.events, 0);
  EXPECT_GT(stats.predictions_written, 0);
  EXPECT_THAT(metrics_.Render(), HasSubstr("vigil_alerts_total{rule=\"risk_high\"} " +
                                           std::to_string(expected.size())));
}

TEST_F(LiveRunnerTest, ScoringLagIsMeasuredWithTheInjectedClock) {
  ManualClock clock(Timestamp::FromSeconds(1'800'000'000));
  LiveRunnerDependencies deps = Deps();
  deps.clock = &clock;
  RunConfig config;
  config.refresh_models = std::chrono::milliseconds(0);
  LiveRunner runner(config, deps);
  std::unique_ptr<MarketSource> source = StoreSource();
  SourceEvent event;
  int processed = 0;
  while (processed < 3000 && *source->Next(&event)) {
    event.arrived = clock.Now() - 5'000'000;  // arrived 5 ms before it is processed
    ASSERT_TRUE(runner.Process(event).ok());
    ++processed;
  }
  ASSERT_TRUE(runner.Flush().ok());
  const LiveRunnerStats stats = runner.stats();
  EXPECT_EQ(stats.events, processed);
  EXPECT_GT(stats.rows_scored, 0);
  EXPECT_DOUBLE_EQ(stats.lag_median_seconds, 0.005);
  EXPECT_DOUBLE_EQ(stats.lag_p99_seconds, 0.005);
  // Every flushed prediction is stored.
  int64_t stored = 0;
  for (const std::string& instrument : world_.instruments) {
    for (const std::string& name : world_.model_names) {
      stored += static_cast<int64_t>(Predictions(instrument, name).size());
    }
  }
  EXPECT_EQ(stored, stats.predictions_written);
  EXPECT_THAT(metrics_.Render(), HasSubstr("vigil_scoring_lag_seconds_bucket"));
}

TEST_F(LiveRunnerTest, ReadyNeedsModelsAndAPromotionSwapsBetweenEvents) {
  RunConfig config;
  config.refresh_models = std::chrono::milliseconds(0);
  LiveRunner runner(config, Deps());
  EXPECT_EQ(runner.Ready(), "");
  LiveModels empty(*registry_, FallbackConfig{});
  LiveRunner idle(config, {&empty, pool_.get(), &metrics_});
  EXPECT_THAT(idle.Ready(), HasSubstr("no models"));

  // Re-promoting the current version swaps nothing; the runner counts real swaps only.
  std::shared_ptr<const ServedModel> before = models_->Get("risk_clf");
  ASSERT_TRUE(models_->Promote("risk_clf", before->version, "production").ok());
  std::unique_ptr<MarketSource> source = StoreSource();
  SourceEvent event;
  ASSERT_TRUE(*source->Next(&event));
  ASSERT_TRUE(runner.Process(event).ok());
  EXPECT_EQ(runner.stats().model_swaps, 0);
}

TEST_F(LiveRunnerTest, ASchedulerWithoutATrainingRunnerIsRefused) {
  std::ofstream(dir_ / "train.yaml") << "name: x\n";
  std::ofstream(dir_ / "scheduler.yaml") << "jobs:\n  - config: train.yaml\n";
  RunConfig config;
  config.scheduler = dir_ / "scheduler.yaml";
  LiveRunner runner(config, Deps());
  std::unique_ptr<MarketSource> source = StoreSource();
  const Status status = runner.Run(*source, [] { return false; });
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace vigil
