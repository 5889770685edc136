// The live runner across model swaps by the scheduler, webhooks from it, and a store that
// is busy while it scores.
#include <gtest/gtest.h>

#include "live_runner_fixture.h"
#include "vigil/serve/live_runner.h"

namespace vigil {
namespace {

using namespace testing_live;  // NOLINT: the shared fixture of the live runner tests

// Bounds a broken build only (a deadlock, a job that never ends); not a timing assertion.
constexpr std::chrono::seconds kEventually{120};

// Scores of one model on every scoreable row of one instrument, by row time.
std::map<int64_t, double> ProbabilityByTs(const ServedModel& model, const StoredFeatures& batch) {
  const BatchScores scores = ScoreBatch(model, batch);
  std::map<int64_t, double> out;
  for (size_t row = 0; row < scores.ts.size(); ++row) {
    out[scores.ts[row]] = scores.scored.Probability(static_cast<int64_t>(row));
  }
  return out;
}

// A retraining job run by the scheduler inside the runner promotes a new risk_clf version
// while events flow: every row before the swap is scored by the old version, every row
// after it by the new one, none by both, none dropped.
TEST_F(LiveRunnerTest, AScheduledRetrainingSwapsTheModelBetweenEvents) {
  const fs::path configs = world_.home / "configs";
  Result<std::string> yaml = ReadFileToString((configs / "risk_clf.yaml").string());
  ASSERT_TRUE(yaml.ok());
  ASSERT_NE(yaml->find("C: 0.1"), std::string::npos);
  yaml->replace(yaml->find("C: 0.1"), 6, "C: 10.0");          // other outputs than production's
  *yaml += "promotion: {metric: roc_auc, tolerance: 1.0}\n";  // promoted whatever it scores
  std::ofstream(configs / "risk_retrain.yaml") << *yaml;
  std::ofstream(dir_ / "scheduler.yaml")
      << "jobs:\n  - {name: retrain, config: configs/risk_retrain.yaml, cron: '* * * * *'}\n";

  ManualClock clock(Timestamp::FromSeconds(1'800'000'000));  // on a minute: due in 60 s
  std::atomic<int> job_runs{0};
  std::atomic<bool> job_failed{false};
  LiveRunnerDependencies deps = Deps();
  deps.clock = &clock;
  deps.run_training_job = [&](const fs::path& path, const std::string& reason) -> Status {
    Result<TrainingConfig> config = LoadTrainingConfig(path);
    Result<std::unique_ptr<Store>> store = OpenStore(world_.store_url);
    Result<ModelRegistry> registry = ModelRegistry::Open(world_.models_dir);
    Result<TrainingResult> result = InvalidArgument("not run");
    if (config.ok() && store.ok() && registry.ok()) {
      TrainingJobOptions options;
      options.trigger_reason = reason;
      result = RunTrainingJob(*config, **store, *registry, options);
    }
    job_failed = !result.ok() || !result->promoted;
    ++job_runs;
    return result.ok() ? Status::Ok() : result.status();
  };
  const std::shared_ptr<const ServedModel> old_model = models_->Get("risk_clf");
  const uint64_t hash = old_model->feature_set->SpecHash();
  const uint64_t generation_before = models_->generation();
  constexpr int kSwapAfter = 3000;              // events
  std::map<std::string, int64_t> last_old_row;  // instrument -> last row time before the swap
  int events = 0;
  deps.on_event = [&] {
    if (++events != kSwapAfter) return;
    for (const std::string& instrument : world_.instruments) {
      last_old_row[instrument] = rows_[{instrument, hash}].back().ts;
    }
    // The cron is due now; hold the next event until the promoted version is served.
    clock.Advance(int64_t{120} * 1'000'000'000);
    const auto deadline = std::chrono::steady_clock::now() + kEventually;
    while (models_->generation() == generation_before && !job_failed &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  RunConfig config;
  config.scheduler = dir_ / "scheduler.yaml";
  config.refresh_models = std::chrono::milliseconds(0);  // only the job's refresh swaps
  LiveRunner runner(config, deps);
  std::unique_ptr<MarketSource> source = StoreSource();
  ASSERT_TRUE(runner.Run(*source, [&] { return events >= 2 * kSwapAfter; }).ok());

  ASSERT_EQ(job_runs.load(), 1);
  ASSERT_FALSE(job_failed.load());
  const std::shared_ptr<const ServedModel> new_model = models_->Get("risk_clf");
  ASSERT_GT(new_model->version, old_model->version);
  EXPECT_EQ(runner.stats().model_swaps, 1);
  for (const std::string& instrument : world_.instruments) {
    const StoredFeatures batch = Batch(instrument, *old_model->feature_set);
    const std::map<int64_t, double> old_scores = ProbabilityByTs(*old_model, batch);
    const std::map<int64_t, double> new_scores = ProbabilityByTs(*new_model, batch);
    const int64_t swap_ts = last_old_row.at(instrument);
    const int64_t last_ts = rows_[{instrument, hash}].back().ts;
    std::vector<int64_t> expected_ts;  // every scoreable row processed, once
    for (const auto& [ts, p] : old_scores) {
      if (ts <= last_ts) expected_ts.push_back(ts);
    }
    std::vector<int64_t> stored_ts;
    int64_t before = 0, after = 0;
    for (const PredictionRow& row : Predictions(instrument, "risk_clf")) {
      stored_ts.push_back(row.ts.nanos());
      const bool old_row = row.ts.nanos() <= swap_ts;
      ASSERT_EQ(row.model_version, old_row ? old_model->version : new_model->version)
          << instrument << " at " << row.ts.ToIso();
      const std::map<int64_t, double>& scores = old_row ? old_scores : new_scores;
      ASSERT_TRUE(scores.count(row.ts.nanos()) > 0) << row.ts.ToIso();
      EXPECT_TRUE(SameBits(row.value, scores.at(row.ts.nanos()))) << row.ts.ToIso();
      ++(old_row ? before : after);
    }
    EXPECT_EQ(stored_ts, expected_ts) << instrument;
    EXPECT_GT(before, 0) << instrument;
    EXPECT_GT(after, 0) << instrument;
  }
  // The other models were not touched.
  for (const PredictionRow& row : Predictions(world_.instruments[0], "risk_xgb")) {
    ASSERT_EQ(row.model_version, models_->Get("risk_xgb")->version);
  }
}

// An HTTP server on 127.0.0.1:<free port> keeping the JSON bodies POSTed to /hook.
class HookReceiver {
 public:
  HookReceiver() {
    server_.Post("/hook", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard lock(mutex_);
      bodies_.push_back(nlohmann::json::parse(request.body, nullptr, false));
      response.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the listen loop runs would be lost (and the join would hang).
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~HookReceiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<nlohmann::json> bodies() {
    std::lock_guard lock(mutex_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<nlohmann::json> bodies_;  // GUARDED_BY(mutex_)
};

TEST_F(LiveRunnerTest, WebhooksReceiveExactlyTheStoredAlerts) {
  HookReceiver receiver;
  ASSERT_NE(receiver.url(), "http://127.0.0.1:0/hook");
  WebhookOptions hook;
  hook.url = receiver.url();
  hook.initial_backoff = std::chrono::milliseconds(1);
  WebhookDispatcher webhooks({hook}, &metrics_);
  LiveRunnerDependencies deps = Deps();
  deps.webhooks = &webhooks;
  RunConfig config;
  AlertRule rule;
  rule.name = "risk_watch";
  rule.model = "risk_clf";
  rule.above = 0.0;  // every row; the cool-down keeps it to one per 6 hours of data
  rule.cooldown_ns = int64_t{6} * 60 * 60 * 1'000'000'000;
  config.rules = {rule};
  config.refresh_models = std::chrono::milliseconds(0);
  LiveRunner runner(config, deps);
  std::unique_ptr<MarketSource> source = StoreSource();
  ASSERT_TRUE(runner.Run(*source, [] { return false; }).ok());  // drains the webhooks

  Result<StorePool::Lease> store = pool_->Acquire();
  AlertQuery query;
  query.limit = 0;
  Result<std::vector<AlertRow>> alerts = (*store)->QueryAlerts(query);
  ASSERT_TRUE(alerts.ok()) << alerts.status().ToString();
  ASSERT_FALSE(alerts->empty());
  std::multiset<std::string> stored, received;
  for (const AlertRow& alert : *alerts) stored.insert(AlertJson(alert).dump());
  for (const nlohmann::json& body : receiver.bodies()) received.insert(body.dump());
  ASSERT_EQ(received.size(), stored.size());
  EXPECT_TRUE(received == stored) << "the bodies sent differ from the alerts stored";
  EXPECT_EQ(webhooks.stats().sent, static_cast<int64_t>(alerts->size()));
  EXPECT_EQ(runner.stats().alerts_raised, static_cast<int64_t>(alerts->size()));
}

// Scoring goes on while every store connection is taken: predictions and alerts wait in
// the writer and reach the store once it is back.
TEST_F(LiveRunnerTest, AnUnreachableStoreNeverBlocksScoring) {
  Result<StorePool> busy = StorePool::Open(world_.store_url, 1);
  ASSERT_TRUE(busy.ok());
  Result<StorePool::Lease> taken = busy->Acquire();
  ASSERT_TRUE(taken.ok());
  std::optional<StorePool::Lease> held(std::move(*taken));
  LiveRunnerDependencies deps = Deps();
  deps.store = &*busy;
  RunConfig config;
  AlertRule rule;
  rule.name = "every_row";
  rule.model = "risk_clf";
  rule.above = 0.0;
  rule.cooldown_ns = 0;
  config.rules = {rule};
  config.refresh_models = std::chrono::milliseconds(0);
  config.predictions.flush_rows = 1;  // the writer tries the store at once
  LiveRunner runner(config, deps);
  std::unique_ptr<MarketSource> source = StoreSource();
  auto scoring = std::async(std::launch::async, [&] {
    SourceEvent event;
    int processed = 0;
    while (processed < 3000 && *source->Next(&event)) {
      if (!runner.Process(event).ok()) break;
      ++processed;
    }
    return processed;
  });
  const bool finished = scoring.wait_for(kEventually) == std::future_status::ready;
  const LiveRunnerStats during = runner.stats();
  held.reset();  // the store is back
  ASSERT_TRUE(finished) << "scoring waited for the store";
  EXPECT_EQ(scoring.get(), 3000);
  EXPECT_GT(during.rows_scored, 0);
  EXPECT_GT(during.alerts_raised, 0);
  EXPECT_EQ(during.predictions_written, 0);

  ASSERT_TRUE(runner.Flush().ok());
  const LiveRunnerStats after = runner.stats();
  Result<StorePool::Lease> store = pool_->Acquire();
  AlertQuery query;
  query.limit = 0;
  Result<std::vector<AlertRow>> alerts = (*store)->QueryAlerts(query);
  ASSERT_TRUE(alerts.ok());
  EXPECT_EQ(static_cast<int64_t>(alerts->size()), during.alerts_raised);
  EXPECT_GT(after.predictions_written, 0);
}

}  // namespace
}  // namespace vigil
