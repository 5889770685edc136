#include "vigil/serve/live_runner.h"

#include <gtest/gtest.h>

#include "live_runner_fixture.h"

namespace vigil {
namespace {

using namespace testing_live;  // NOLINT: the shared fixture of the live runner tests

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
