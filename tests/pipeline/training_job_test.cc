#include "vigil/pipeline/training_job.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "pipeline/pipeline_fixture.h"
#include "vigil/core/clock.h"
#include "vigil/features/spec.h"

namespace vigil {
namespace {

using testing_util::PipelineTest;

using testing_util::Contains;

class TrainingJobTest : public PipelineTest {};

TEST_F(TrainingJobTest, ConfigParsesEveryPart) {
  auto config =
      Config(DirectionYaml("promotion: {metric: pr_auc, tolerance: 0.01}\n"
                           "retention: {keep: 4}\n"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->name, "btc_direction");
  EXPECT_EQ(config->task, Task::kClassification);
  EXPECT_EQ(config->model_kind, "logistic");
  EXPECT_EQ(config->model_params["C"], 1.0);
  EXPECT_EQ(config->model_params["standardize"], true);
  EXPECT_EQ(config->seed, 3u);
  EXPECT_EQ(config->instruments, std::vector<std::string>{"sim:BTC-PERP"});
  EXPECT_EQ(config->timeframe, "1m");
  EXPECT_EQ(config->features.name, "ta");
  EXPECT_EQ(config->label.kind, LabelKind::kDirection);
  EXPECT_EQ(config->label.horizon_ns, 15 * kNanosPerMinute);
  EXPECT_EQ(config->validation.walk_forward.train_ns, kNanosPerDay);
  EXPECT_EQ(config->validation.walk_forward.test_ns, 12 * kNanosPerHour);
  EXPECT_EQ(config->promotion.metric, "pr_auc");
  EXPECT_EQ(config->promotion.tolerance, 0.01);
  EXPECT_EQ(config->retention_keep, 4);
}

TEST_F(TrainingJobTest, ConfigErrorsNameTheLineAndKey) {
  const std::string base = DirectionYaml();
  const std::vector<ConfigErrorCase> cases = {
      {base + "colour: red\n", "train.yaml:16: colour: unknown key"},
      {"name: x\n", "task: missing"},
      {base + "promotion: {metric: sharpe}\n", "promotion.metric: unknown metric 'sharpe'"},
      {base + "promotion: {metric: rmse}\n", "does not apply to classification"},
      {base + "promotion: {tolerance: -1}\n", "promotion.tolerance: must be >= 0"},
      {base + "retention: {keep: -2}\n", "retention.keep: must be >= 0"},
  };
  ExpectConfigErrors(cases);
  auto replace = [&](const std::string& from, const std::string& to) {
    return ConfigErrorWith(base, from, to);
  };
  EXPECT_TRUE(Contains(replace("kind: logistic", "kind: forest"),
                       "train.yaml:4: model.kind: "
                       "unknown kind 'forest'"));
  EXPECT_TRUE(Contains(replace("kind: logistic", "kind: zscore"), "is a anomaly model"));
  EXPECT_TRUE(Contains(replace("C: 1.0", "C: -1"), "model.params"));
  EXPECT_TRUE(Contains(replace("horizon: 15m", "horizon: soon"), "label.horizon: 'soon'"));
  EXPECT_TRUE(Contains(replace("train: 1d", "train: 0s"), "validation"));
  EXPECT_TRUE(Contains(replace("features: ta", "features: nosuchset"), "features:"));
  EXPECT_TRUE(Contains(replace("[sim:BTC-PERP]", "[BTC]"), "'BTC' is not venue:symbol"));
  EXPECT_TRUE(Contains(replace("kind: direction", "kind: forward_return"),
                       "classification needs a class label"));
  EXPECT_TRUE(Contains(replace("method: walk_forward", "method: random"),
                       "validation.method: expected walk_forward or purged_kfold"));
  EXPECT_TRUE(Contains(replace("name: btc_direction", "name: ../evil"), "name:"));
}

TEST_F(TrainingJobTest, FirstJobRegistersPromotesAndIsRecorded) {
  StoreSimulation(1, 3);
  ManualClock clock(Timestamp::FromSeconds(1'800'000'000));
  TrainingJobOptions options;
  options.clock = &clock;
  const TrainingResult result = Train(DirectionYaml(), options);
  ASSERT_EQ(result.manifest.version, 1);
  EXPECT_TRUE(result.promoted);
  EXPECT_TRUE(Contains(result.gate.reason, "no production version yet"));
  EXPECT_EQ(result.folds, 3);  // test windows [1d, 1.5d), [1.5d, 2d), [2d, 2.5d)

  const Manifest& m = result.manifest;
  EXPECT_EQ(m.kind, "logistic");
  EXPECT_EQ(m.created_at, clock.Now());
  EXPECT_EQ(m.feature_set.name, "ta");
  EXPECT_EQ(m.feature_set.spec_hash, "15e44e0254ee965f");
  EXPECT_EQ(m.feature_set.features, BuiltinFeatureSet("ta")->Columns());
  EXPECT_EQ(m.training_data.instruments, std::vector<std::string>{"sim:BTC-PERP"});
  EXPECT_GT(m.training_data.rows, 3 * 1440 - 200);  // warm-up and the last horizon dropped
  EXPECT_LT(m.training_data.rows, 3 * 1440);
  EXPECT_EQ(m.training_data.fingerprint.rfind("sha256:", 0), 0u);
  EXPECT_EQ(m.training_data.fingerprint.size(), 7u + 64u);
  EXPECT_FALSE(m.parent_version.has_value());
  EXPECT_TRUE(m.parameters["standardize"].get<bool>());
  for (const char* metric : {"roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "f1"}) {
    ASSERT_TRUE(m.metrics.contains(metric)) << metric;
    EXPECT_TRUE(std::isfinite(m.metrics[metric].get<double>())) << metric;
  }
  EXPECT_GE(m.metrics["roc_auc"].get<double>(), 0.0);
  EXPECT_LE(m.metrics["roc_auc"].get<double>(), 1.0);
  EXPECT_EQ(m.metrics["folds"].get<double>(), 3.0);

  EXPECT_EQ(*registry_->Resolve("btc_direction@production"), 1);
  auto loaded = registry_->Load("btc_direction");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();

  auto jobs = store_->ListTrainingJobs("btc_direction", 0);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  const TrainingJobRow& job = (*jobs)[0];
  EXPECT_EQ(job.job_id, result.job_id);
  EXPECT_EQ(job.status, "succeeded");
  EXPECT_EQ(job.trigger_reason, "manual");
  EXPECT_EQ(job.model_version, 1);
  EXPECT_EQ(job.queued_at, clock.Now());
  EXPECT_TRUE(job.finished_at.has_value());
  const auto metrics = nlohmann::json::parse(job.metrics_json);
  EXPECT_EQ(metrics["gate"]["promote"], true);
  EXPECT_EQ(metrics["validation"]["roc_auc"], m.metrics["roc_auc"]);
  EXPECT_TRUE(Contains(nlohmann::json::parse(job.config_json)["yaml"], "btc_direction"));

  auto mirrored = store_->ListModelVersions("btc_direction");
  ASSERT_TRUE(mirrored.ok());
  ASSERT_EQ(mirrored->size(), 1u);
  EXPECT_EQ((*mirrored)[0].stage, "latest,production");
}

// No training row of a fold has a label that reads into that fold's test window.
TEST_F(TrainingJobTest, FoldsNeverTrainOnTheFuture) {
  StoreSimulation(1, 3);
  for (const std::string method : {"", "purged"}) {
    auto config = Config(method.empty() ? DirectionYaml() : R"(name: m
task: classification
model: {kind: logistic, params: {standardize: true}}
data: {instruments: [sim:BTC-PERP]}
features: ta
label: {kind: direction, horizon_bars: 30}
validation: {method: purged_kfold, k: 4, embargo: 0.01}
)");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    auto set = BuildTrainingSet(*config, *store_);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    auto evaluation = Evaluate(*config, *set);
    ASSERT_TRUE(evaluation.ok()) << evaluation.status().ToString();
    EXPECT_EQ(evaluation->folds.size(), method.empty() ? 3u : 4u);
    for (const Fold& fold : evaluation->folds) {
      const int64_t test_start = set->windows.start_ts[fold.test.front()];
      const int64_t test_end = set->windows.end_ts[fold.test.back()];
      EXPECT_GT(fold.purged, 0);
      for (int64_t row : fold.train) {
        const bool before = set->windows.end_ts[row] < test_start;
        const bool after = set->windows.start_ts[row] > test_end;
        ASSERT_TRUE(before || after) << "row " << row;
        if (method.empty()) {
          ASSERT_TRUE(before) << "walk-forward trains only on the past; row " << row;
        }
      }
    }
    int64_t test_rows = 0;
    for (const Fold& fold : evaluation->folds) test_rows += static_cast<int64_t>(fold.test.size());
    EXPECT_EQ(evaluation->metrics.at("test_rows"), static_cast<double>(test_rows));
    EXPECT_EQ(evaluation->gate_rows, evaluation->folds.back().test);
  }
}

// The rows of a set built on less data equal the same rows of a set built on more: neither
// features nor labels read beyond their time (labels up to their horizon).
TEST_F(TrainingJobTest, TrainingSetIsPointInTime) {
  StoreSimulation(1, 3);
  auto full_config = Config(DirectionYaml());
  ASSERT_TRUE(full_config.ok());
  TrainingConfig cut_config = *full_config;
  cut_config.to =
      Timestamp(kDefaultSimulationStart.nanos() + 2 * kNanosPerDay - 7 * kNanosPerMinute);
  auto full = BuildTrainingSet(*full_config, *store_);
  auto cut = BuildTrainingSet(cut_config, *store_);
  ASSERT_TRUE(full.ok() && cut.ok());
  ASSERT_LT(cut->rows(), full->rows());
  for (int64_t row = 0; row < cut->rows(); ++row) {
    ASSERT_EQ(cut->windows.start_ts[row], full->windows.start_ts[row]);
    ASSERT_EQ(cut->labels[row], full->labels[row]);
    for (size_t col = 0; col < cut->x.cols(); ++col) {
      ASSERT_EQ(cut->x.at(row, col), full->x.at(row, col)) << cut->x.columns[col];
    }
  }
  EXPECT_NE(cut->fingerprint, full->fingerprint);
  EXPECT_EQ(BuildTrainingSet(*full_config, *store_)->fingerprint, full->fingerprint);
}

TEST_F(TrainingJobTest, InstrumentsMergeInTimeOrder) {
  StoreSimulation(2, 2);
  std::string yaml = DirectionYaml();
  yaml.replace(yaml.find("[sim:BTC-PERP]"), 14, "[sim:BTC-PERP, sim:ETH-PERP]");
  yaml.replace(yaml.find("train: 1d"), 9, "train: 1d\n  max_folds: 1");
  auto config = Config(yaml);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto set = BuildTrainingSet(*config, *store_);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_TRUE(std::is_sorted(set->windows.start_ts.begin(), set->windows.start_ts.end()));
  const auto eth = std::count(set->instrument.begin(), set->instrument.end(), 1);
  EXPECT_GT(eth, set->rows() / 3);
  EXPECT_LT(eth, 2 * set->rows() / 3);
  EXPECT_EQ(set->instrument[0], 0);  // ties keep config order
  EXPECT_EQ(set->instrument[1], 1);
}

TEST_F(TrainingJobTest, SecondJobIsComparedWithProductionOnTheSameWindow) {
  StoreSimulation(1, 3);
  Train(DirectionYaml());
  const TrainingResult second = Train(DirectionYaml("promotion: {tolerance: 1.0}\n"));
  EXPECT_EQ(second.manifest.version, 2);
  EXPECT_EQ(second.manifest.parent_version, 1);
  EXPECT_EQ(second.gate.production_version, 1);
  ASSERT_TRUE(second.gate.production.has_value());
  ASSERT_TRUE(second.gate.candidate.has_value());
  // Version 1 was fitted on every row, the window included.
  EXPECT_TRUE(second.gate.production_in_sample);
  EXPECT_TRUE(second.promoted) << second.gate.reason;
  EXPECT_TRUE(Contains(second.gate.reason, "production v1")) << second.gate.reason;
  EXPECT_EQ(*registry_->Resolve("btc_direction@production"), 2);
  EXPECT_EQ(*registry_->Rollback("btc_direction"), 1);
}

TEST_F(TrainingJobTest, GateComparesWithinTheTolerance) {
  StoreSimulation(1, 3);
  Train(DirectionYaml());
  auto config = Config(DirectionYaml());
  ASSERT_TRUE(config.ok());
  auto set = BuildTrainingSet(*config, *store_);
  auto evaluation = Evaluate(*config, *set);
  ASSERT_TRUE(set.ok() && evaluation.ok());
  auto production = registry_->Load("btc_direction@production");
  ASSERT_TRUE(production.ok());
  auto scored = ScoreModel(*production->model, *config, *set, evaluation->gate_rows);
  ASSERT_TRUE(scored.ok());
  const double production_auc = scored->at("roc_auc");

  evaluation->gate_metrics["roc_auc"] = production_auc - 0.01;
  auto refused = DecidePromotion(*config, *set, *evaluation, *registry_);
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(refused->promote) << refused->reason;
  EXPECT_EQ(refused->production, production_auc);
  EXPECT_TRUE(Contains(refused->reason, " < production v1")) << refused->reason;

  config->promotion.tolerance = 0.02;
  auto passed = DecidePromotion(*config, *set, *evaluation, *registry_);
  ASSERT_TRUE(passed.ok());
  EXPECT_TRUE(passed->promote) << passed->reason;

  // Lower-is-better metrics compare the other way round.
  config->promotion.metric = "log_loss";
  config->promotion.tolerance = 0;
  const double production_loss = scored->at("log_loss");
  evaluation->gate_metrics["log_loss"] = production_loss + 0.01;
  EXPECT_FALSE(DecidePromotion(*config, *set, *evaluation, *registry_)->promote);
  evaluation->gate_metrics["log_loss"] = production_loss - 0.01;
  EXPECT_TRUE(DecidePromotion(*config, *set, *evaluation, *registry_)->promote);

  config->promotion.enabled = false;
  EXPECT_FALSE(DecidePromotion(*config, *set, *evaluation, *registry_)->promote);
}

TEST_F(TrainingJobTest, ProductionOnOtherFeaturesIsNotComparable) {
  StoreSimulation(1, 2);
  std::ofstream(home_ / "small.yaml") << "name: small\nfeatures:\n  - feature: rsi\n"
                                         "    params: {n: 14}\n  - feature: logret\n";
  std::string yaml = DirectionYaml();
  yaml.replace(yaml.find("train: 1d"), 9, "train: 1d\n  test: 6h\n  max_folds: 1");
  yaml.erase(yaml.find("  test: 12h\n"), 12);
  Train(yaml);
  std::string other = yaml;
  other.replace(other.find("features: ta"), 12, "features: small.yaml");
  const TrainingResult second = Train(other);
  EXPECT_EQ(second.manifest.version, 2);
  EXPECT_FALSE(second.promoted);
  EXPECT_TRUE(Contains(second.gate.reason, "other features")) << second.gate.reason;
  EXPECT_EQ(*registry_->Resolve("btc_direction@production"), 1);
}

TEST_F(TrainingJobTest, BrokenProductionIsReplaced) {
  StoreSimulation(1, 2);
  std::string yaml = DirectionYaml();
  yaml.replace(yaml.find("test: 12h"), 9, "test: 6h\n  max_folds: 1");
  Train(yaml);
  std::filesystem::remove(home_ / "models" / "btc_direction" / "1" / "logistic.json");
  const TrainingResult second = Train(yaml);
  EXPECT_TRUE(second.promoted);
  EXPECT_TRUE(Contains(second.gate.reason, "could not be loaded")) << second.gate.reason;
}

TEST_F(TrainingJobTest, FailedJobIsRecordedAndRegistersNothing) {
  StoreSimulation(1, 2);
  std::string yaml = DirectionYaml();
  yaml.replace(yaml.find("sim:BTC-PERP"), 12, "sim:NOPE-PERP");
  auto config = Config(yaml);
  ASSERT_TRUE(config.ok());
  TrainingJobOptions options;
  options.trigger_reason = "schedule: 0 * * * *";
  auto result = RunTrainingJob(*config, *store_, *registry_, options);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(Contains(result.status().message(), "training job 1 (btc_direction)"));
  EXPECT_TRUE(Contains(result.status().message(), "sim:NOPE-PERP"));
  auto jobs = store_->ListTrainingJobs("", 0);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].status, "failed");
  EXPECT_EQ((*jobs)[0].trigger_reason, "schedule: 0 * * * *");
  EXPECT_TRUE(Contains((*jobs)[0].error, "no candles stored for sim:NOPE-PERP"));
  EXPECT_FALSE((*jobs)[0].model_version.has_value());
  EXPECT_TRUE(registry_->Versions("btc_direction")->empty());
}

// A job whose process died leaves its row "running"; the next job of the model on this host
// marks it failed. A row of a live process (this one) and a row from another host stay.
TEST_F(TrainingJobTest, AbandonedJobsAreMarkedFailed) {
  StoreSimulation(1, 2);
  const pid_t dead = ::fork();
  ASSERT_GE(dead, 0);
  if (dead == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof(host) - 1), 0);
  auto running_row = [&](const std::string& where_host, int64_t pid) {
    TrainingJobRow row;
    row.model_name = "btc_direction";
    row.status = "running";
    row.config_json = nlohmann::json{{"host", where_host}, {"pid", pid}}.dump();
    row.queued_at = Timestamp::FromSeconds(1);
    row.started_at = Timestamp::FromSeconds(1);
    auto id = store_->InsertTrainingJob(row);
    EXPECT_TRUE(id.ok());
    return id.value_or(0);
  };
  const int64_t abandoned = running_row(host, dead);
  const int64_t live = running_row(host, ::getpid());
  const int64_t elsewhere = running_row(std::string(host) + "-other", dead);
  std::string yaml = DirectionYaml();
  yaml.replace(yaml.find("test: 12h"), 9, "test: 6h\n  max_folds: 1");
  Train(yaml);
  auto listed = store_->ListTrainingJobs("btc_direction", 0);
  ASSERT_TRUE(listed.ok());
  std::map<int64_t, TrainingJobRow> rows;
  for (const TrainingJobRow& row : *listed) rows[row.job_id] = row;
  EXPECT_EQ(rows[abandoned].status, "failed");
  EXPECT_TRUE(Contains(rows[abandoned].error, "abandoned: process " + std::to_string(dead)))
      << rows[abandoned].error;
  EXPECT_TRUE(rows[abandoned].finished_at.has_value());
  EXPECT_EQ(rows[live].status, "running");
  EXPECT_EQ(rows[elsewhere].status, "running");
}

TEST_F(TrainingJobTest, TooLittleDataFailsClearly) {
  StoreSimulation(1, 1);
  auto config = Config(DirectionYaml());
  ASSERT_TRUE(config.ok());
  auto result = RunTrainingJob(*config, *store_, *registry_, {});
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(Contains(result.status().message(), "test window")) << result.status().ToString();
}

TEST_F(TrainingJobTest, RetentionKeepsTheNewestAndTheAliased) {
  StoreSimulation(1, 2);
  std::string yaml = DirectionYaml("promotion: {enabled: false}\nretention: {keep: 2}\n");
  yaml.replace(yaml.find("test: 12h"), 9, "test: 6h\n  max_folds: 1");
  ASSERT_TRUE(registry_->Versions("btc_direction")->empty());
  Train(yaml);
  ASSERT_TRUE(registry_->Promote("btc_direction", 1).ok());
  Train(yaml);
  Train(yaml);
  const TrainingResult fourth = Train(yaml);
  EXPECT_FALSE(fourth.promoted);
  EXPECT_EQ(fourth.purged_versions, std::vector<int64_t>{2});
  EXPECT_EQ(*registry_->Versions("btc_direction"), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(store_->ListModelVersions("btc_direction")->size(), 3u);
}

TEST_F(TrainingJobTest, NameOverride) {
  StoreSimulation(1, 2);
  std::string yaml = DirectionYaml();
  yaml.replace(yaml.find("test: 12h"), 9, "test: 6h\n  max_folds: 1");
  TrainingJobOptions options;
  options.name_override = "eth_copy";
  EXPECT_EQ(Train(yaml, options).manifest.name, "eth_copy");
  EXPECT_EQ(registry_->Versions("eth_copy")->size(), 1u);
  EXPECT_TRUE(registry_->Versions("btc_direction")->empty());
  options.name_override = "bad name";
  auto config = Config(yaml);
  EXPECT_FALSE(RunTrainingJob(*config, *store_, *registry_, options).ok());
}

TEST_F(TrainingJobTest, RegressionOnForwardReturns) {
  StoreSimulation(1, 2);
  const std::string yaml = R"(name: btc_return
task: regression
model: {kind: ridge, params: {alpha: 1.0, standardize: true}}
data: {instruments: [sim:BTC-PERP]}
features: ta
label: {kind: forward_return, horizon: 30m}
validation: {train: 1d, test: 6h, max_folds: 1}
)";
  const TrainingResult first = Train(yaml);
  EXPECT_EQ(first.manifest.task, Task::kRegression);
  EXPECT_EQ(first.gate.metric, "rmse");
  for (const char* metric : {"mae", "rmse"}) {
    ASSERT_TRUE(first.manifest.metrics.contains(metric)) << metric;
    EXPECT_GT(first.manifest.metrics[metric].get<double>(), 0.0) << metric;
  }
  // 30-minute log returns of a ~55%-vol asset are a few tenths of a percent.
  EXPECT_LT(first.manifest.metrics["rmse"].get<double>(), 0.05);
  EXPECT_LE(first.manifest.metrics["mae"].get<double>(),
            first.manifest.metrics["rmse"].get<double>());
  // rmse is lower-is-better: the tolerance is added to production's value.
  const TrainingResult second = Train(yaml + "promotion: {tolerance: 1.0}\n");
  EXPECT_TRUE(second.promoted) << second.gate.reason;
  EXPECT_TRUE(Contains(second.gate.reason, " <= production v1")) << second.gate.reason;
  EXPECT_TRUE(Contains(second.gate.reason, " + 1")) << second.gate.reason;
}

TEST_F(TrainingJobTest, UnlabeledAnomalyDetector) {
  StoreSimulation(1, 2);
  const TrainingResult result = Train(R"(name: btc_anomaly
task: anomaly
model: {kind: zscore}
data: {instruments: [sim:BTC-PERP]}
features: ta
validation: {train: 1d, test: 6h, max_folds: 1}
)");
  EXPECT_EQ(result.manifest.task, Task::kAnomaly);
  EXPECT_TRUE(result.promoted);
  EXPECT_EQ(result.gate.metric, "none");
  EXPECT_TRUE(result.manifest.metrics.contains("flag_rate"));
  EXPECT_FALSE(result.manifest.metrics.contains("roc_auc"));
  // Without a label no row is lost to a horizon.
  auto config = Config(R"(name: a
task: anomaly
model: {kind: zscore}
data: {instruments: [sim:BTC-PERP]}
features: ta
validation: {train: 1d, test: 6h}
)");
  EXPECT_EQ(BuildTrainingSet(*config, *store_)->dropped_incomplete, 0);
}

}  // namespace
}  // namespace vigil
