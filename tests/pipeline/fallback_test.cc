#include "vigil/pipeline/fallback.h"

#include <gtest/gtest.h>

#include "pipeline/pipeline_fixture.h"
#include "vigil/models/logistic_regression.h"
#include "vigil/models/robust_zscore.h"

namespace vigil {
namespace {

class FallbackTest : public testing_util::PipelineTest {
 protected:
  // Registers a fitted logistic model as `name` v1 and points production at it.
  void RegisterLogistic(const std::string& name) {
    FeatureMatrix x;
    x.columns = {"f"};
    x.rows = 6;
    x.values = {-2, -1, -0.5, 0.5, 1, 2};
    LogisticRegression model;
    ASSERT_TRUE(model.Fit(x, std::vector<int>{0, 0, 1, 0, 1, 1}).ok());
    Manifest manifest;
    manifest.name = name;
    manifest.kind = "logistic";
    manifest.feature_set = {"custom", "0000000000000001", {"f"}};
    auto stored = registry_->Register(model, manifest);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    ASSERT_TRUE(registry_->Promote(name, stored->version).ok());
  }
  // As RegisterLogistic, recording a risk task the way training jobs do.
  void RegisterForTask(const std::string& name, const std::string& task) {
    FeatureMatrix x;
    x.columns = {"f"};
    x.rows = 4;
    x.values = {-2, -1, 1, 2};
    LogisticRegression model;
    ASSERT_TRUE(model.Fit(x, std::vector<int>{0, 1, 0, 1}).ok());
    Manifest manifest;
    manifest.name = name;
    manifest.kind = "logistic";
    manifest.feature_set = {"custom", "0000000000000001", {"f"}};
    manifest.details = {{"task", task}};
    auto stored = registry_->Register(model, manifest);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    ASSERT_TRUE(registry_->Promote(name, stored->version).ok());
  }
  void Break(const std::string& name) {
    std::filesystem::remove(home_ / "models" / name / "1" / "logistic.json");
  }
};

TEST_F(FallbackTest, ProductionLoadsWithoutFallback) {
  RegisterLogistic("liq");
  ModelLoader loader(*registry_, {});
  auto live = loader.Load("liq@production", Task::kClassification);
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_FALSE(live->is_fallback);
  EXPECT_EQ(live->loaded.manifest.name, "liq");
  EXPECT_EQ(loader.fallback_count(), 0);
}

TEST_F(FallbackTest, UnloadableProductionServesTheFallbackAndCountsIt) {
  RegisterLogistic("liq");
  RegisterLogistic("baseline");
  Break("liq");
  FallbackConfig fallbacks;
  fallbacks.by_task[Task::kClassification] = "baseline@production";
  ModelLoader loader(*registry_, fallbacks);
  for (int i = 0; i < 3; ++i) {
    auto live = loader.Load("liq@production", Task::kClassification);
    ASSERT_TRUE(live.ok()) << live.status().ToString();
    EXPECT_TRUE(live->is_fallback);
    EXPECT_EQ(live->loaded.manifest.name, "baseline");
    EXPECT_NE(live->error.find("logistic.json"), std::string::npos) << live->error;
  }
  EXPECT_EQ(loader.fallback_count(), 3);
  EXPECT_EQ(loader.fallback_counts().at("liq@production"), 3);
  // A model that does not exist at all falls back too.
  EXPECT_TRUE(loader.Load("nothing", Task::kClassification)->is_fallback);
  EXPECT_EQ(loader.fallback_count(), 4);
}

TEST_F(FallbackTest, WrongTaskFallsBack) {
  RegisterLogistic("liq");
  RegisterLogistic("baseline");
  FallbackConfig fallbacks;
  fallbacks.by_task[Task::kAnomaly] = "baseline@production";
  ModelLoader loader(*registry_, fallbacks);
  // liq is a classifier, asked for as an anomaly detector; the fallback is a classifier too.
  auto live = loader.Load("liq", Task::kAnomaly);
  ASSERT_FALSE(live.ok());
  EXPECT_NE(live.status().message().find("nor its fallback baseline@production"), std::string::npos)
      << live.status().message();
  EXPECT_NE(live.status().message().find("is a classification model, not anomaly"),
            std::string::npos);
  EXPECT_EQ(loader.fallback_count(), 0);
}

TEST_F(FallbackTest, NoFallbackConfiguredIsAnError) {
  RegisterLogistic("liq");
  Break("liq");
  ModelLoader loader(*registry_, {});
  auto live = loader.Load("liq@production", Task::kClassification);
  ASSERT_FALSE(live.ok());
  EXPECT_NE(live.status().message().find("no fallback configured for classification models"),
            std::string::npos)
      << live.status().message();
}

TEST_F(FallbackTest, RiskTasksResolveTheirFallbackByName) {
  RegisterForTask("liq_btc", "liquidation");
  RegisterForTask("liq_btc_fallback", "liquidation");
  RegisterForTask("crash_btc_fallback", "crash");
  FallbackConfig fallbacks;
  fallbacks.by_task_name["liquidation"] = "liq_btc_fallback@production";
  fallbacks.by_task_name["crash"] = "crash_btc_fallback@production";
  ModelLoader loader(*registry_, fallbacks);
  auto live = loader.LoadForTask("liq_btc@production", "liquidation");
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_FALSE(live->is_fallback);
  // Asked for as a crash model, liq_btc is of the wrong task: crash's fallback serves.
  auto crash = loader.LoadForTask("liq_btc@production", "crash");
  ASSERT_TRUE(crash.ok()) << crash.status().ToString();
  EXPECT_TRUE(crash->is_fallback);
  EXPECT_EQ(crash->loaded.manifest.name, "crash_btc_fallback");
  EXPECT_NE(crash->error.find("is a liquidation model, not crash"), std::string::npos);
  Break("liq_btc");
  auto broken = loader.LoadForTask("liq_btc@production", "liquidation");
  ASSERT_TRUE(broken.ok()) << broken.status().ToString();
  EXPECT_TRUE(broken->is_fallback);
  EXPECT_EQ(broken->loaded.manifest.name, "liq_btc_fallback");
  EXPECT_EQ(loader.fallback_counts().at("liq_btc@production"), 2);
  // A task without a configured fallback fails, naming it.
  auto none = loader.LoadForTask("liq_btc@production", "opportunity");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no fallback configured for opportunity models"),
            std::string::npos);
  // The reference a training job recorded is read back from the manifest.
  EXPECT_EQ(RecordedFallback(*registry_, "liq_btc_fallback").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace vigil
