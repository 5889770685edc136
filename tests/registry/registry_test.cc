// The model registry (registry.h): versions, manifests, references, aliases with
// rollback, delete and purge rules, concurrent registrations, and a process killed at
// random points never leaving a partial version visible.
#include "vigil/registry/registry.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "registry/test_model.h"
#include "vigil/core/text_file.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using testing_util::RegisterTestKind;
using testing_util::ThresholdModel;

Manifest BaseManifest(const std::string& name) {
  Manifest m;
  m.name = name;
  m.feature_set = {"default", "81f468742147cd7b", {"f0"}};
  m.training_data.instruments = {"sim:BTC-PERP"};
  m.training_data.from = Timestamp::FromSeconds(1'700'000'000);
  m.training_data.to = Timestamp::FromSeconds(1'700'086'400);
  m.training_data.rows = 1440;
  m.training_data.fingerprint = "abc123";
  m.seed = 7;
  m.metrics = {{"pr_auc", 0.42}};
  m.created_at = Timestamp::FromSeconds(1'700'100'000);
  return m;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(RegisterTestKind().ok());
    dir_ = fs::temp_directory_path() /
           ("vigil-registry-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto registry = ModelRegistry::Open(dir_);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_.emplace(std::move(*registry));
  }
  void TearDown() override { fs::remove_all(dir_); }

  Manifest RegisterThreshold(const std::string& name, double threshold, double padding_kb = 0) {
    ThresholdModel model(padding_kb);
    model.set_threshold(threshold);
    auto stored = registry_->Register(model, BaseManifest(name));
    EXPECT_TRUE(stored.ok()) << stored.status().ToString();
    return stored.ok() ? *stored : Manifest{};
  }

  fs::path dir_;
  std::optional<ModelRegistry> registry_;
};

TEST_F(RegistryTest, VersionsCountFromOneAndManifestsRoundTrip) {
  const Manifest first = RegisterThreshold("liq", 1.0);
  const Manifest second = RegisterThreshold("liq", 2.0);
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(second.version, 2);
  EXPECT_EQ(*registry_->Versions("liq"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(*registry_->Names(), (std::vector<std::string>{"liq"}));
  auto shown = registry_->Show("liq@1");
  ASSERT_TRUE(shown.ok()) << shown.status().ToString();
  EXPECT_EQ(shown->ToJson(), first.ToJson());
  EXPECT_EQ(shown->kind, "test_threshold");
  EXPECT_EQ(shown->task, Task::kClassification);
  EXPECT_EQ(shown->parameters, (nlohmann::json{{"padding_kb", 0.0}}));
  EXPECT_FALSE(shown->vigil_version.empty());
  EXPECT_EQ(shown->metrics["pr_auc"], 0.42);
  EXPECT_TRUE(fs::exists(dir_ / "liq" / "2" / "manifest.json"));
  EXPECT_TRUE(fs::exists(dir_ / "liq" / "2" / "threshold.json"));
}

TEST_F(RegistryTest, ReferencesResolveToVersionsAndAliases) {
  RegisterThreshold("liq", 1.0);
  RegisterThreshold("liq", 2.0);
  EXPECT_EQ(*registry_->Resolve("liq"), 2);  // no production yet: the latest
  EXPECT_EQ(*registry_->Resolve("liq@latest"), 2);
  EXPECT_EQ(*registry_->Resolve("liq@1"), 1);
  ASSERT_TRUE(registry_->Promote("liq", 1).ok());
  EXPECT_EQ(*registry_->Resolve("liq"), 1);  // production wins
  EXPECT_EQ(*registry_->Resolve("liq@production"), 1);
  ASSERT_TRUE(registry_->Promote("liq", 2, "staging").ok());
  EXPECT_EQ((*registry_->Aliases("liq")),
            (std::map<std::string, int64_t>{{"latest", 2}, {"production", 1}, {"staging", 2}}));
  EXPECT_EQ(registry_->Resolve("liq@3").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->Resolve("liq@canary").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->Resolve("nope").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(registry_->Resolve("../etc").ok());
}

TEST_F(RegistryTest, LoadRebuildsTheModelFromItsManifest) {
  RegisterThreshold("liq", 0.5);
  auto loaded = registry_->Load("liq");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto* classifier = AsClassifier(loaded->model.get());
  ASSERT_NE(classifier, nullptr);
  FeatureMatrix x{{"f0"}, 1, {0.5}};
  auto p = classifier->PredictProba(x);
  ASSERT_TRUE(p.ok());
  EXPECT_DOUBLE_EQ(p->at(0, 1), 0.5);
  // A corrupt weight file is named.
  ASSERT_TRUE(WriteFileAtomically((dir_ / "liq" / "1" / "threshold.json").string(), "{").ok());
  auto corrupt = registry_->Load("liq@1");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.status().message().find("threshold.json"), std::string::npos);
}

TEST_F(RegistryTest, RollbackReturnsToThePreviousProductionVersion) {
  for (double t : {1.0, 2.0, 3.0}) RegisterThreshold("liq", t);
  ASSERT_TRUE(registry_->Promote("liq", 1).ok());
  ASSERT_TRUE(registry_->Promote("liq", 3).ok());
  ASSERT_TRUE(registry_->Promote("liq", 2).ok());
  EXPECT_EQ(*registry_->Rollback("liq"), 3);
  EXPECT_EQ(*registry_->Rollback("liq"), 1);
  EXPECT_EQ(registry_->Rollback("liq").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*registry_->Resolve("liq@production"), 1);
  EXPECT_FALSE(registry_->Promote("liq", 9).ok());
  EXPECT_FALSE(registry_->Promote("liq", 1, "latest").ok());
  EXPECT_FALSE(registry_->Promote("liq", 1, "12").ok());
}

TEST_F(RegistryTest, DeleteIsRefusedWhileAliasedAndPurgeKeepsAliasedVersions) {
  for (double t : {1.0, 2.0, 3.0, 4.0, 5.0}) RegisterThreshold("liq", t);
  ASSERT_TRUE(registry_->Promote("liq", 2).ok());
  const Status refused = registry_->Delete("liq", 2);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("production"), std::string::npos);
  ASSERT_TRUE(registry_->Delete("liq", 3).ok());
  EXPECT_EQ(*registry_->Versions("liq"), (std::vector<int64_t>{1, 2, 4, 5}));
  EXPECT_EQ(registry_->Delete("liq", 3).code(), StatusCode::kNotFound);
  auto removed = registry_->Purge("liq", 1);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(*registry_->Versions("liq"), (std::vector<int64_t>{2, 5}));
  // A deleted version never comes back through rollback.
  ASSERT_TRUE(registry_->Promote("liq", 5).ok());
  EXPECT_EQ(*registry_->Rollback("liq"), 2);
  // Version numbers are never reused, even after the newest is deleted.
  ASSERT_TRUE(registry_->Promote("liq", 2).ok());
  ASSERT_TRUE(registry_->Delete("liq", 5).ok());
  EXPECT_EQ(RegisterThreshold("liq", 6.0).version, 6);
}

TEST_F(RegistryTest, ConcurrentTrainersGetDistinctVersions) {
  constexpr int kThreads = 4;
  constexpr int kEach = 5;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> got(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        got[t].push_back(RegisterThreshold("race", t + i * 0.1).version);
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<int64_t> all;
  for (const auto& versions : got) all.insert(versions.begin(), versions.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kThreads * kEach);
  for (int64_t v : all) EXPECT_TRUE(registry_->Load("race@" + std::to_string(v)).ok()) << v;
}

// A trainer process killed at random points (SIGKILL, no clean-up) never leaves a version
// that cannot be shown and loaded.
TEST_F(RegistryTest, KilledRegistrationsLeaveNoPartialVersion) {
  std::mt19937 rng(20261202);
  int killed = 0;
  auto spawn_trainer = [&] {
    const pid_t child = ::fork();
    if (child == 0) {
      auto registry = ModelRegistry::Open(dir_);
      for (int i = 0; registry.ok(); ++i) {
        ThresholdModel model(256);  // 256 KiB of weights per version
        model.set_threshold(i);
        if (!registry->Register(model, BaseManifest("crash")).ok()) ::_exit(3);
      }
      ::_exit(2);
    }
    return child;
  };
  auto kill_and_reap = [&](pid_t child) {
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    killed += WIFSIGNALED(status) ? 1 : 0;
  };
  for (int round = 0; round < 12; ++round) {
    const pid_t child = spawn_trainer();
    ASSERT_GE(child, 0);
    // The last round waits until the trainer has stored something (however slow the build),
    // so the kill surely lands on a trainer that is mid-way through later registrations.
    if (round == 11) {
      for (int waited = 0; waited < 60'000 && registry_->Versions("crash")->empty(); ++waited) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(200, 20'000)(rng)));
    kill_and_reap(child);
  }
  EXPECT_EQ(killed, 12);
  auto versions = registry_->Versions("crash");
  ASSERT_TRUE(versions.ok());
  EXPECT_GT(versions->size(), 0u);  // the kills interrupted a running trainer
  for (int64_t v : *versions) {
    auto loaded = registry_->Load("crash@" + std::to_string(v));
    EXPECT_TRUE(loaded.ok()) << "version " << v << ": " << loaded.status().ToString();
  }
  // Whatever staging directories the kills left are not versions, and registering still
  // works afterwards.
  const Manifest next = RegisterThreshold("crash", 1.0);
  EXPECT_EQ(next.version, versions->empty() ? 1 : versions->back() + 1);
}

TEST_F(RegistryTest, RegisterRefusesUnfittedModelsAndBadNames) {
  ThresholdModel unfitted(0);
  EXPECT_EQ(registry_->Register(unfitted, BaseManifest("liq")).status().code(),
            StatusCode::kFailedPrecondition);
  ThresholdModel model(0);
  model.set_threshold(1);
  for (const std::string bad : {"", ".hidden", "a/b", "with space"}) {
    EXPECT_EQ(registry_->Register(model, BaseManifest(bad)).status().code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(ManifestTest, FromJsonNamesTheBadKey) {
  Manifest m = BaseManifest("liq");
  m.version = 3;
  m.parent_version = 2;
  m.vigil_version = "0.1.0";
  auto round = Manifest::FromJson(nlohmann::json::parse(m.ToJson().dump()), "m.json");
  ASSERT_TRUE(round.ok()) << round.status().ToString();
  EXPECT_EQ(round->ToJson(), m.ToJson());
  nlohmann::json missing = nlohmann::json::parse(m.ToJson().dump());
  missing.erase("kind");
  EXPECT_NE(
      Manifest::FromJson(missing, "m.json").status().message().find("m.json: manifest key 'kind'"),
      std::string::npos);
  nlohmann::json wrong = nlohmann::json::parse(m.ToJson().dump());
  wrong["version"] = "three";
  EXPECT_NE(Manifest::FromJson(wrong, "m.json").status().message().find("'version'"),
            std::string::npos);
}

TEST(ManifestTest, CheckFeaturesRefusesAnotherSpecOrOrder) {
  Manifest m = BaseManifest("liq");
  m.version = 1;
  m.feature_set.features = {"a", "b"};
  EXPECT_TRUE(CheckFeatures(m, "81f468742147cd7b", {"a", "b"}).ok());
  const Status hash = CheckFeatures(m, "0000000000000000", {"a", "b"});
  EXPECT_EQ(hash.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(hash.message().find("spec hash 81f468742147cd7b"), std::string::npos);
  const Status order = CheckFeatures(m, "81f468742147cd7b", {"b", "a"});
  EXPECT_NE(order.message().find("feature 0 to be 'a', got 'b'"), std::string::npos);
  EXPECT_FALSE(CheckFeatures(m, "81f468742147cd7b", {"a"}).ok());
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

TEST(RegistryMirrorTest, ModelVersionsMirrorTheFilesAndRebuildFromThem) {
  ASSERT_TRUE(testing_util::RegisterTestKind().ok());
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("vigil-registry-mirror-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto registry = ModelRegistry::Open(dir / "models");
  ASSERT_TRUE(registry.ok());
  auto store = OpenStore("sqlite:" + (dir / "vigil.db").string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (int i = 0; i < 3; ++i) {
    testing_util::ThresholdModel model(0);
    model.set_threshold(i);
    Manifest manifest;
    manifest.name = "liq";
    manifest.feature_set = {"default", "81f468742147cd7b", {"f0"}};
    manifest.metrics = {{"pr_auc", 0.5}};
    ASSERT_TRUE(registry->Register(model, manifest).ok());
  }
  ASSERT_TRUE(registry->Promote("liq", 2).ok());
  ASSERT_TRUE(registry->MirrorModel(**store, "liq").ok());
  auto rows = (*store)->ListModelVersions("liq");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[1].version, 2);
  EXPECT_EQ((*rows)[1].stage, "production");
  EXPECT_EQ((*rows)[2].stage, "latest");
  EXPECT_EQ((*rows)[0].family, "test_threshold");
  EXPECT_EQ((*rows)[0].task, "classification");
  EXPECT_EQ((*rows)[0].feature_set, "default@81f468742147cd7b");
  EXPECT_EQ(nlohmann::json::parse((*rows)[0].metrics_json)["pr_auc"], 0.5);

  // The table is only a mirror: wipe it (and add a model that no longer exists), rebuild.
  ModelVersionRow stale;
  stale.name = "gone";
  stale.version = 1;
  ASSERT_TRUE((*store)->ReplaceModelVersions("gone", std::vector<ModelVersionRow>{stale}).ok());
  ASSERT_TRUE((*store)->ReplaceModelVersions("liq", {}).ok());
  ASSERT_TRUE(registry->Delete("liq", 1).ok());
  ASSERT_TRUE(registry->RebuildMirror(**store).ok());
  auto all = (*store)->ListModelVersions("");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "liq");
  EXPECT_EQ((*all)[0].version, 2);
  EXPECT_EQ((*all)[1].version, 3);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
