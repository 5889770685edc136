// The `vigil train` and `vigil scheduler run` contracts: train --config FILE [--name NAME]
// (--json: exactly {"name", "version", "metrics", "promoted"}), then the models commands on
// what it trained; a training process killed at random points never leaves a partial
// version; the scheduler runs a triggered job.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "apps/cli_runner.h"
#include "vigil/registry/registry.h"

namespace vigil::cli_test {
namespace {

constexpr int kExitUsage = 2;

constexpr std::string_view kTrainYaml = R"(name: btc
task: classification
model: {kind: logistic, params: {C: 0.5, standardize: true}}
seed: 1
data: {instruments: [sim:BTC-PERP], timeframe: 1m}
features: ta
label: {kind: direction, horizon: 15m}
validation: {method: walk_forward, train: 1d, test: 12h}
promotion: {metric: roc_auc, tolerance: 0.0}
)";

// A sandbox with three simulated days of one instrument stored and train.yaml written.
class CliTrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CliRun simulated =
        sandbox_.Vigil({"simulate", "--instruments", "1", "--days", "3", "--ingest"});
    ASSERT_EQ(simulated.exit_code, 0) << simulated;
    WriteText(sandbox_.dir() / "train.yaml", kTrainYaml);
  }
  CliSandbox sandbox_;
};

TEST_F(CliTrainTest, TrainTwicePromoteRollbackDeleteAndPurge) {
  CliRun first = sandbox_.Vigil({"--json", "train", "--config", "train.yaml"});
  ASSERT_EQ(first.exit_code, 0) << first;
  const auto json = ParseJson(first.out);
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"name", "version", "metrics", "promoted"}));
  EXPECT_EQ(json["name"], "btc");
  EXPECT_EQ(json["version"], 1);
  EXPECT_EQ(json["promoted"], true);
  for (const char* metric : {"roc_auc", "pr_auc", "log_loss", "brier", "f1"}) {
    EXPECT_TRUE(json["metrics"][metric].is_number()) << metric;
  }

  CliRun second = sandbox_.Vigil({"train", "--config", "train.yaml"});
  ASSERT_EQ(second.exit_code, 0) << second;
  EXPECT_NE(second.out.find("training job 2: btc v2 (logistic)"), std::string::npos) << second;
  EXPECT_NE(second.out.find("production v1"), std::string::npos) << second;

  ASSERT_EQ(sandbox_.Vigil({"models", "promote", "btc", "2"}).exit_code, 0);
  CliRun rollback = sandbox_.Vigil({"--json", "models", "rollback", "btc"});
  ASSERT_EQ(rollback.exit_code, 0) << rollback;
  EXPECT_EQ(ParseJson(rollback.out)["version"], 1);

  ASSERT_EQ(sandbox_.Vigil({"train", "--config", "train.yaml"}).exit_code, 0);  // v3
  CliRun refused = sandbox_.Vigil({"models", "delete", "btc@1"});
  EXPECT_EQ(refused.exit_code, kExitUsage) << refused;
  ASSERT_EQ(sandbox_.Vigil({"models", "delete", "btc@2"}).exit_code, 0);
  ASSERT_EQ(sandbox_.Vigil({"train", "--config", "train.yaml"}).exit_code, 0);  // v4
  CliRun purge = sandbox_.Vigil({"--json", "models", "purge", "btc", "--keep", "1"});
  ASSERT_EQ(purge.exit_code, 0) << purge;
  EXPECT_EQ(ParseJson(purge.out)["deleted"], nlohmann::ordered_json::parse("[3]"));
  CliRun list = sandbox_.Vigil({"--json", "models", "list"});
  EXPECT_EQ(ParseJson(list.out)[0]["versions"], nlohmann::ordered_json::parse("[1,4]"));

  CliRun show = sandbox_.Vigil({"--json", "models", "show", "btc@4"});
  ASSERT_EQ(show.exit_code, 0) << show;
  const auto manifest = ParseJson(show.out);
  EXPECT_EQ(manifest["feature_set"]["name"], "ta");
  EXPECT_EQ(manifest["training_data"]["instruments"][0], "sim:BTC-PERP");
  EXPECT_EQ(manifest["parent_version"], 1);

  CliRun renamed = sandbox_.Vigil({"--json", "train", "--config", "train.yaml", "--name", "btc2"});
  ASSERT_EQ(renamed.exit_code, 0) << renamed;
  EXPECT_EQ(ParseJson(renamed.out)["name"], "btc2");
}

TEST_F(CliTrainTest, ConfigErrorsNameTheFileAndLine) {
  CliRun missing = sandbox_.Vigil({"train", "--config", "nope.yaml"});
  EXPECT_EQ(missing.exit_code, kExitUsage);
  EXPECT_NE(missing.err.find("nope.yaml"), std::string::npos) << missing;
  WriteText(sandbox_.dir() / "bad.yaml", std::string(kTrainYaml) + "learning_rate: 3\n");
  CliRun bad = sandbox_.Vigil({"train", "--config", "bad.yaml"});
  EXPECT_EQ(bad.exit_code, kExitUsage);
  EXPECT_NE(bad.err.find("bad.yaml:10: learning_rate: unknown key"), std::string::npos) << bad;
  CliRun bad_name = sandbox_.Vigil({"train", "--config", "train.yaml", "--name", "a b"});
  EXPECT_EQ(bad_name.exit_code, kExitUsage);
  EXPECT_NE(bad_name.err.find("--name"), std::string::npos) << bad_name;
}

// `vigil train` processes killed (SIGKILL) at random points: every version the registry
// shows loads, and training afterwards still works.
TEST_F(CliTrainTest, KilledTrainingNeverLeavesAPartialVersion) {
  std::mt19937 rng(2026);
  const std::string home = sandbox_.home().string();
  for (int round = 0; round < 10; ++round) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::chdir(sandbox_.dir().c_str()) != 0) ::_exit(126);
      ::execl(VIGIL_BINARY, VIGIL_BINARY, "--home", home.c_str(), "--log-level", "off", "train",
              "--config", "train.yaml", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(1'000, 400'000)(rng)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
  }
  auto registry = ModelRegistry::Open(sandbox_.home() / "models");
  ASSERT_TRUE(registry.ok());
  const std::vector<int64_t> versions = registry->Versions("btc").value_or({});
  for (int64_t v : versions) {
    auto loaded = registry->Load("btc@" + std::to_string(v));
    EXPECT_TRUE(loaded.ok()) << "version " << v << ": " << loaded.status().ToString();
  }
  CliRun after = sandbox_.Vigil({"--json", "train", "--config", "train.yaml"});
  ASSERT_EQ(after.exit_code, 0) << after;
  EXPECT_EQ(ParseJson(after.out)["version"], versions.empty() ? 1 : versions.back() + 1);
}

// A risk task with a search, calibration and a fallback: the printed summary names each,
// and `models show` carries the manifest's details.
TEST_F(CliTrainTest, RiskTaskWithSearchCalibrationAndFallback) {
  WriteText(sandbox_.dir() / "crash.yaml", R"(name: crash_btc
task: crash
model: {kind: logistic, params: {standardize: true}}
seed: 3
data: {instruments: [sim:BTC-PERP], timeframe: 1m}
features: ta
label: {horizon: 30m, k: 1.5, vol_window: 60}
validation: {train: 1d, test: 12h}
imbalance: {method: class_weight}
calibration: {method: platt}
risk_levels: {medium: 0.2, high: 0.4, critical: 0.7}
search: {method: grid, metric: pr_auc, params: {C: [0.01, 1.0]}}
fallback: {kind: logistic, params: {C: 1.0, standardize: true}}
)");
  CliRun run = sandbox_.Vigil({"train", "--config", "crash.yaml"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_NE(run.out.find("training job 1: crash_btc v1 (calibrated)"), std::string::npos) << run;
  EXPECT_NE(run.out.find("task crash"), std::string::npos) << run;
  EXPECT_NE(run.out.find("search (grid, 2 trials on 2 walk-forward folds): best pr_auc"),
            std::string::npos)
      << run;
  EXPECT_NE(run.out.find("calibration: platt on"), std::string::npos) << run;
  EXPECT_NE(run.out.find("fallback crash_btc_fallback v1 (logistic) promoted: serves as "
                         "crash_btc_fallback@production"),
            std::string::npos)
      << run;
  CliRun show = sandbox_.Vigil({"--json", "models", "show", "crash_btc"});
  ASSERT_EQ(show.exit_code, 0) << show;
  const auto manifest = ParseJson(show.out);
  EXPECT_EQ(manifest["details"]["task"], "crash");
  EXPECT_EQ(manifest["details"]["fallback"]["reference"], "crash_btc_fallback@production");
  EXPECT_EQ(manifest["details"]["search"]["trials"].size(), 2u);
  EXPECT_TRUE(manifest["metrics"].contains("calibrated_brier"));
  CliRun fallback = sandbox_.Vigil({"--json", "models", "show", "crash_btc_fallback"});
  ASSERT_EQ(fallback.exit_code, 0) << fallback;
  EXPECT_EQ(ParseJson(fallback.out)["details"]["fallback_for"], "crash_btc");
}

TEST_F(CliTrainTest, SchedulerRunsATriggeredJob) {
  WriteText(sandbox_.dir() / "scheduler.yaml",
            "max_concurrent: 1\njobs:\n  - name: btc_hourly\n    config: train.yaml\n"
            "    cron: \"0 * * * *\"\n");
  CliRun run = sandbox_.Vigil({"scheduler", "run", "--config", "scheduler.yaml", "--trigger",
                               "btc_hourly", "--max-runs", "1"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_NE(run.out.find("scheduled btc_hourly"), std::string::npos) << run;
  EXPECT_NE(run.out.find("job btc_hourly: btc v1 promoted (manual)"), std::string::npos) << run;
  EXPECT_NE(run.out.find("scheduler stopped: 1 succeeded, 0 failed"), std::string::npos) << run;
  CliRun unknown = sandbox_.Vigil(
      {"scheduler", "run", "--config", "scheduler.yaml", "--trigger", "nope", "--max-runs", "1"});
  EXPECT_EQ(unknown.exit_code, kExitUsage) << unknown;
}

}  // namespace
}  // namespace vigil::cli_test
