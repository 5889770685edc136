// LiveModels: loading the served versions, atomic swaps on promotion and rollback, the
// fallback when production cannot be loaded, and scoring during promotions.
#include "vigil/serve/live_models.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "serve/serve_fixture.h"
#include "vigil/serve/scoring.h"

namespace vigil {
namespace {

using testing::ServeWorld;

const ServeWorld& WorldWithVariant() { return testing::SharedWorldWithVariant(); }

std::vector<double> Probabilities(const LoadedModel& loaded, const FeatureMatrix& x) {
  auto p = AsClassifier(loaded.model.get())->PredictProba(x);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? p->values : std::vector<double>{};
}

class LiveModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    world_ = testing::CopyWorld(WorldWithVariant(), testing::CopyPath("live-models-" + test));
    auto registry = ModelRegistry::Open(world_.models_dir);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::make_unique<ModelRegistry>(std::move(*registry));
    rows_ = testing::WorldFeatureRows(world_, "ta", "sim:BTC-PERP", 16);
    ASSERT_EQ(rows_.rows, 16);
  }
  void TearDown() override { std::filesystem::remove_all(world_.home); }

  // Every file of `name`@`version` except its manifest overwritten with garbage.
  void DamageWeights(const std::string& name, int64_t version) {
    const auto dir = world_.models_dir / name / std::to_string(version);
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      if (entry.is_regular_file() && entry.path().filename() != "manifest.json") {
        std::ofstream(entry.path(), std::ios::trunc) << "not a model {";
      }
    }
  }

  ServeWorld world_;
  std::unique_ptr<ModelRegistry> registry_;
  FeatureMatrix rows_;
};

TEST_F(LiveModelsTest, AddLoadsEveryWorldModelWithItsTaskFeaturesAndCutpoints) {
  LiveModels live(*registry_, {});
  for (const std::string& name : world_.model_names) ASSERT_TRUE(live.Add(name).ok()) << name;
  EXPECT_EQ(live.Names(), world_.model_names);
  EXPECT_EQ(live.generation(), world_.model_names.size());
  const std::map<std::string, std::pair<std::string, std::string>> expected = {
      {"liq_long", {"liquidation", "ta"}},
      {"oracle_anom", {"anomaly", "oracle"}},
      {"risk_clf", {"crash", "ta"}},
      {"risk_xgb", {"crash", "ta"}}};
  for (const auto& [name, task_and_set] : expected) {
    std::shared_ptr<const ServedModel> served = live.Get(name);
    ASSERT_NE(served, nullptr) << name;
    EXPECT_EQ(served->name, name);
    EXPECT_EQ(served->alias, "production");
    EXPECT_EQ(served->version, *registry_->Resolve(name + "@production"));
    EXPECT_FALSE(served->is_fallback);
    EXPECT_EQ(served->task_name, task_and_set.first);
    ASSERT_TRUE(served->feature_set.has_value());
    EXPECT_EQ(served->feature_set->name, task_and_set.second);
    EXPECT_EQ(served->feature_set->Columns(), served->features());
    EXPECT_GE(served->generation, 1u);
  }
  EXPECT_EQ(live.Get("risk_clf")->cutpoints.medium, 0.25);
  EXPECT_EQ(live.Get("risk_clf")->cutpoints.critical, 0.75);
  EXPECT_EQ(live.Add("risk_clf").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(live.Add("no_such_model").code(), StatusCode::kNotFound);
  EXPECT_EQ(live.Get("no_such_model"), nullptr);
  EXPECT_EQ(live.Refresh("no_such_model").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(live.fallback_count(), 0);
}

TEST_F(LiveModelsTest, PromoteSwapsAndAnEarlierSnapshotStillScoresTheOldVersion) {
  LiveModels live(*registry_, {});
  ASSERT_TRUE(live.Add("risk_clf").ok());
  const std::shared_ptr<const ServedModel> before = live.Get("risk_clf");
  const int64_t old_version = before->version;
  const int64_t new_version = *registry_->Resolve("risk_clf@latest");
  ASSERT_NE(old_version, new_version);
  const uint64_t generation = live.generation();

  ASSERT_TRUE(live.Promote("risk_clf", new_version, "production").ok());
  const std::shared_ptr<const ServedModel> after = live.Get("risk_clf");
  EXPECT_EQ(after->version, new_version);
  EXPECT_GT(live.generation(), generation);
  EXPECT_EQ(after->generation, live.generation());
  // Nothing changed in the registry: no swap.
  EXPECT_FALSE(*live.Refresh("risk_clf"));
  EXPECT_EQ(live.Get("risk_clf"), after);

  auto old_model = registry_->Load("risk_clf@" + std::to_string(old_version));
  auto new_model = registry_->Load("risk_clf@" + std::to_string(new_version));
  ASSERT_TRUE(old_model.ok() && new_model.ok());
  const auto old_scored = ScoreRows(*before, rows_);
  const auto new_scored = ScoreRows(*after, rows_);
  ASSERT_TRUE(old_scored.ok() && new_scored.ok());
  EXPECT_EQ(old_scored->probabilities, Probabilities(*old_model, rows_));
  EXPECT_EQ(new_scored->probabilities, Probabilities(*new_model, rows_));
  EXPECT_NE(old_scored->probabilities, new_scored->probabilities);

  // A promotion of another alias does not touch the served one.
  ASSERT_TRUE(live.Promote("risk_clf", old_version, "staging").ok());
  EXPECT_EQ(live.Get("risk_clf")->version, new_version);
  EXPECT_EQ(live.Promote("risk_clf", 999, "production").code(), StatusCode::kNotFound);
}

TEST_F(LiveModelsTest, RollbackReturnsToThePreviousVersion) {
  LiveModels live(*registry_, {});
  ASSERT_TRUE(live.Add("risk_clf").ok());
  const int64_t old_version = live.Get("risk_clf")->version;
  const int64_t new_version = *registry_->Resolve("risk_clf@latest");
  ASSERT_TRUE(live.Promote("risk_clf", new_version, "production").ok());
  auto rolled_back = live.Rollback("risk_clf", "production");
  ASSERT_TRUE(rolled_back.ok()) << rolled_back.status().ToString();
  EXPECT_EQ(*rolled_back, old_version);
  EXPECT_EQ(live.Get("risk_clf")->version, old_version);
  EXPECT_EQ(*registry_->Resolve("risk_clf@production"), old_version);
}

TEST_F(LiveModelsTest, RefreshPicksUpAPromotionMadeOutsideAndKeepsTheOldOnAFailedLoad) {
  LiveModels live(*registry_, {});
  ASSERT_TRUE(live.Add("risk_clf").ok());
  ASSERT_TRUE(live.Add("risk_xgb").ok());
  const std::shared_ptr<const ServedModel> before = live.Get("risk_clf");
  const int64_t new_version = *registry_->Resolve("risk_clf@latest");
  // Another process (a training job, the CLI) moves the alias.
  ASSERT_TRUE(registry_->Promote("risk_clf", new_version, "production").ok());
  EXPECT_EQ(live.RefreshAll(), std::vector<std::string>{"risk_clf"});
  EXPECT_EQ(live.Get("risk_clf")->version, new_version);

  // Back to a version whose files are damaged, with no fallback: the swap fails and the
  // served snapshot stays.
  DamageWeights("risk_clf", before->version);
  const std::shared_ptr<const ServedModel> current = live.Get("risk_clf");
  EXPECT_FALSE(live.Promote("risk_clf", before->version, "production").ok());
  EXPECT_EQ(live.Get("risk_clf"), current);
  EXPECT_TRUE(live.RefreshAll().empty());
}

TEST_F(LiveModelsTest, DamagedProductionFilesFallBackAndRecoverOnRefresh) {
  const int64_t version = *registry_->Resolve("risk_clf@production");
  DamageWeights("risk_clf", version);
  FallbackConfig fallbacks;
  fallbacks.by_task_name["crash"] = "risk_xgb@production";
  LiveModels live(*registry_, fallbacks);
  ASSERT_TRUE(live.Add("risk_clf").ok());
  const std::shared_ptr<const ServedModel> served = live.Get("risk_clf");
  EXPECT_TRUE(served->is_fallback);
  EXPECT_EQ(served->name, "risk_clf");
  EXPECT_EQ(served->loaded.manifest.name, "risk_xgb");
  EXPECT_FALSE(served->fallback_reason.empty());
  EXPECT_EQ(served->task_name, "crash");
  EXPECT_EQ(live.fallback_count(), 1);
  auto xgb = registry_->Load("risk_xgb@production");
  ASSERT_TRUE(xgb.ok());
  const auto scored = ScoreRows(*served, rows_);
  ASSERT_TRUE(scored.ok()) << scored.status().ToString();
  EXPECT_EQ(scored->probabilities, Probabilities(*xgb, rows_));
  // Still broken: the same fallback, no swap.
  EXPECT_FALSE(*live.Refresh("risk_clf"));

  // Repaired: the production model is served again.
  const auto dir = std::filesystem::path("risk_clf") / std::to_string(version);
  std::filesystem::remove_all(world_.models_dir / dir);
  std::filesystem::copy(testing::SharedWorld().models_dir / dir, world_.models_dir / dir,
                        std::filesystem::copy_options::recursive);
  EXPECT_TRUE(*live.Refresh("risk_clf"));
  EXPECT_FALSE(live.Get("risk_clf")->is_fallback);
  EXPECT_EQ(live.Get("risk_clf")->version, version);
}

// Regression guard for the atomic swap: 8 threads score in a loop while the production
// version flips back and forth; every answer is exactly one version's output, matching
// the version of the snapshot it was scored with, and none fails.
TEST_F(LiveModelsTest, ConcurrentScoringDuringPromotionsNeverMixesOrFails) {
  LiveModels live(*registry_, {});
  ASSERT_TRUE(live.Add("risk_clf").ok());
  const int64_t v1 = live.Get("risk_clf")->version;
  const int64_t v2 = *registry_->Resolve("risk_clf@latest");
  std::map<int64_t, std::vector<double>> expected;
  for (int64_t version : {v1, v2}) {
    auto model = registry_->Load("risk_clf@" + std::to_string(version));
    ASSERT_TRUE(model.ok());
    expected[version] = Probabilities(*model, rows_);
  }
  ASSERT_NE(expected[v1], expected[v2]);

  std::atomic<bool> stop{false};
  std::atomic<int64_t> answers{0};
  std::atomic<int64_t> wrong{0};
  std::vector<std::thread> scorers;
  for (int thread = 0; thread < 8; ++thread) {
    scorers.emplace_back([&] {
      while (!stop.load()) {
        const std::shared_ptr<const ServedModel> served = live.Get("risk_clf");
        const auto scored = ScoreRows(*served, rows_);
        if (!scored.ok() || scored->probabilities != expected.at(served->version)) ++wrong;
        ++answers;
      }
    });
  }
  std::set<int64_t> seen;
  for (int promotion = 0; promotion < 20; ++promotion) {
    const int64_t target = promotion % 2 == 0 ? v2 : v1;
    // Let the scorers answer a few times on each version before the next swap.
    const int64_t until = answers.load() + 8;
    while (answers.load() < until) std::this_thread::yield();
    ASSERT_TRUE(live.Promote("risk_clf", target, "production").ok());
    seen.insert(live.Get("risk_clf")->version);
  }
  stop = true;
  for (std::thread& scorer : scorers) scorer.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(answers.load(), 0);
  EXPECT_EQ(seen, (std::set<int64_t>{v1, v2}));
}

TEST(ResolveServingFeatureSetTest, BuiltInFilesAndMismatches) {
  const ServeWorld& world = testing::SharedWorld();
  auto registry = ModelRegistry::Open(world.models_dir);
  ASSERT_TRUE(registry.ok());
  auto manifest = registry->Show("risk_clf@production");
  ASSERT_TRUE(manifest.ok());

  auto builtin = ResolveServingFeatureSet(*manifest, {});
  ASSERT_TRUE(builtin.ok()) << builtin.status().ToString();
  ASSERT_TRUE(builtin->has_value());
  EXPECT_EQ((*builtin)->Columns(), manifest->feature_set.features);

  // A set given as a file wins over the built-in name.
  const auto file = world.home / "ta-copy.yaml";
  std::ofstream(file) << *BuiltinFeatureSetYaml("ta");
  LiveModelsOptions options;
  options.feature_set_files["ta"] = file;
  auto from_file = ResolveServingFeatureSet(*manifest, options);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ((*from_file)->source, file.string());
  options.feature_set_files["ta"] = world.home / "missing.yaml";
  EXPECT_FALSE(ResolveServingFeatureSet(*manifest, options).ok());
  std::filesystem::remove(file);

  Manifest other = *manifest;
  other.feature_set.spec_hash = "0000000000000000";
  EXPECT_FALSE(ResolveServingFeatureSet(other, {}).ok());
  other.feature_set.name = "no_such_set";
  EXPECT_EQ(ResolveServingFeatureSet(other, {}).status().code(), StatusCode::kNotFound);
  other.feature_set.name = "";
  auto csv = ResolveServingFeatureSet(other, {});
  ASSERT_TRUE(csv.ok());
  EXPECT_FALSE(csv->has_value());
}

}  // namespace
}  // namespace vigil
