// The "extended_iforest" detector (extended_iforest.h): configuration and extension_level,
// determinism across thread counts, weights round trips and corrupt files, contributions,
// input checks, and ROC-AUC on the scikit-learn fixture
// (tests/testdata/models/sklearn_iforest.json) against scikit-learn's IsolationForest.
#include "vigil/models/anomaly/extended_iforest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vigil/core/rng.h"
#include "vigil/core/text_file.h"
#include "vigil/models/metrics.h"
#include "vigil/registry/registry.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

FeatureMatrix GaussianRows(int64_t rows, int cols, uint64_t seed) {
  Rng rng(seed);
  FeatureMatrix x;
  for (int col = 0; col < cols; ++col) x.columns.push_back("f" + std::to_string(col));
  x.rows = rows;
  for (int64_t i = 0; i < rows * cols; ++i) x.values.push_back(rng.Normal());
  return x;
}

std::unique_ptr<ExtendedIsolationForest> MakeForest(const nlohmann::json& config) {
  auto model = CreateModel("extended_iforest", config);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::unique_ptr<ExtendedIsolationForest>(
      static_cast<ExtendedIsolationForest*>(model->release()));
}

TEST(ExtendedIsolationForestTest, ConfigRoundTripsThroughTheFactory) {
  const nlohmann::json config = MakeForest(nlohmann::json::object())->config();
  EXPECT_EQ(config.at("extension_level"), "full");
  EXPECT_EQ(config.at("n_estimators"), 100);
  EXPECT_EQ(config.at("max_samples"), "auto");
  EXPECT_EQ(config.at("contamination"), "auto");
  const nlohmann::json custom = {
      {"n_estimators", 40},    {"max_samples", 128}, {"max_features", 0.5}, {"bootstrap", false},
      {"contamination", 0.02}, {"seed", 4},          {"n_jobs", 2},         {"extension_level", 1}};
  EXPECT_EQ(MakeForest(custom)->config(), custom);
  EXPECT_EQ(MakeForest(MakeForest(custom)->config())->config(), custom);
}

TEST(ExtendedIsolationForestTest, RejectsBadExtensionLevels) {
  for (const nlohmann::json& level :
       {nlohmann::json("half"), nlohmann::json(-1), nlohmann::json(1.5)}) {
    const auto model = CreateModel("extended_iforest", {{"extension_level", level}});
    ASSERT_FALSE(model.ok()) << level.dump();
    EXPECT_NE(model.status().message().find("extension_level"), std::string::npos);
  }
  EXPECT_FALSE(CreateModel("extended_iforest", {{"depth", 3}}).ok());
  EXPECT_FALSE(CreateModel("extended_iforest", {{"n_estimators", 0}}).ok());
  auto too_high = MakeForest({{"extension_level", 3}});
  const Status status = too_high->Fit(GaussianRows(100, 3, 1));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("extension_level"), std::string::npos);
  EXPECT_TRUE(MakeForest({{"extension_level", 2}})->Fit(GaussianRows(100, 3, 1)).ok());
}

TEST(ExtendedIsolationForestTest, ExtensionLevelSetsTermsPerSplit) {
  const FeatureMatrix x = GaussianRows(400, 5, 2);
  auto full = MakeForest(nlohmann::json::object());
  auto axis = MakeForest({{"extension_level", 0}});
  ASSERT_TRUE(full->Fit(x).ok() && axis->Fit(x).ok());
  EXPECT_EQ(full->Describe().at("extension_level"), 4);
  EXPECT_EQ(axis->Describe().at("extension_level"), 0);
  auto subset = MakeForest({{"max_features", 3}});
  ASSERT_TRUE(subset->Fit(x).ok());
  EXPECT_EQ(subset->Describe().at("extension_level"), 2);  // "full" over the tree's 3 features
}

TEST(ExtendedIsolationForestTest, ThreadCountDoesNotChangeResults) {
  const FeatureMatrix x = GaussianRows(4000, 5, 3);
  auto one = MakeForest({{"n_jobs", 1}, {"extension_level", 2}});
  auto four = MakeForest({{"n_jobs", 4}, {"extension_level", 2}});
  ASSERT_TRUE(one->Fit(x).ok() && four->Fit(x).ok());
  EXPECT_EQ(one->Score(x)->raw, four->Score(x)->raw);
  EXPECT_EQ(*one->Contributions(x), *four->Contributions(x));
}

TEST(ExtendedIsolationForestTest, ContaminationAndScoresAgree) {
  const FeatureMatrix x = GaussianRows(3000, 4, 4);
  auto forest = MakeForest({{"contamination", 0.04}});
  const auto scores = forest->FitScore(x);
  ASSERT_TRUE(scores.ok());
  const double flagged =
      static_cast<double>(std::count(scores->flag.begin(), scores->flag.end(), true)) / x.rows;
  EXPECT_NEAR(flagged, 0.04, 0.005);
  for (int64_t row = 0; row < x.rows; ++row) {
    EXPECT_EQ(scores->score[row] >= 80.0, static_cast<bool>(scores->flag[row]));
  }
  auto automatic = MakeForest(nlohmann::json::object());
  ASSERT_TRUE(automatic->Fit(x).ok());
  EXPECT_EQ(automatic->calibration().threshold(), 0.5);
}

TEST(ExtendedIsolationForestTest, ContributionsAreSharesAndFindAnAxisOutlier) {
  FeatureMatrix x = GaussianRows(1000, 5, 5);
  constexpr int64_t kRow = 123;
  constexpr size_t kFeature = 1;
  x.values[kRow * 5 + kFeature] = -9.0;
  for (int level : {0, 4}) {
    auto forest = MakeForest({{"extension_level", level}, {"seed", 2}});
    const auto scores = forest->FitScore(x);
    ASSERT_TRUE(scores.ok());
    EXPECT_TRUE(scores->flag[kRow]) << level;
    const auto shares = forest->Contributions(x);
    ASSERT_TRUE(shares.ok());
    for (int64_t row = 0; row < x.rows; ++row) {
      double sum = 0.0;
      for (size_t col = 0; col < 5; ++col) {
        EXPECT_GE((*shares)[row * 5 + col], 0.0);
        sum += (*shares)[row * 5 + col];
      }
      EXPECT_NEAR(sum, 1.0, 1e-12);
    }
    const auto begin = shares->begin() + kRow * 5;
    // Axis-parallel cuts attribute the isolation to the deviating feature; full hyperplanes
    // spread each cut's credit over every feature by |n_f|, so only shares are checked there.
    if (level == 0) {
      EXPECT_EQ(std::max_element(begin, begin + 5) - begin, long{kFeature});
    }
  }
}

TEST(ExtendedIsolationForestTest, RejectsNonFiniteInput) {
  FeatureMatrix x = GaussianRows(40, 3, 6);
  x.values[5 * 3 + 1] = std::nan("");
  const Status status = MakeForest(nlohmann::json::object())->Fit(x);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("row 5"), std::string::npos);
  EXPECT_NE(status.message().find("f1"), std::string::npos);
}

class ExtendedIsolationForestWeightsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vigil-eif-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    x_ = GaussianRows(500, 4, 7);
    forest_ = MakeForest({{"n_estimators", 20}, {"extension_level", 2}, {"contamination", 0.05}});
    ASSERT_TRUE(forest_->Fit(x_).ok());
    ASSERT_TRUE(forest_->SaveWeights(dir_).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  void ExpectSameScores(const AnomalyDetector& loaded) {
    const auto expected = forest_->Score(x_);
    const auto actual = loaded.Score(x_);
    ASSERT_TRUE(expected.ok() && actual.ok()) << actual.status().ToString();
    EXPECT_EQ(expected->raw, actual->raw);
    EXPECT_EQ(expected->score, actual->score);
    EXPECT_EQ(expected->contributions, actual->contributions);
  }

  fs::path dir_;
  FeatureMatrix x_;
  std::unique_ptr<ExtendedIsolationForest> forest_;
};

TEST_F(ExtendedIsolationForestWeightsTest, LoadRestoresScoresBitForBit) {
  auto loaded = MakeForest(forest_->config());
  ASSERT_TRUE(loaded->LoadWeights(dir_).ok());
  ExpectSameScores(*loaded);
  auto registry = ModelRegistry::Open(dir_ / "models");
  ASSERT_TRUE(registry.ok());
  Manifest manifest;
  manifest.name = "eif";
  manifest.feature_set = {"default", "81f468742147cd7b", x_.columns};
  ASSERT_TRUE(registry->Register(*forest_, manifest).ok());
  auto through_registry = registry->Load("eif");
  ASSERT_TRUE(through_registry.ok()) << through_registry.status().ToString();
  ExpectSameScores(*AsAnomalyDetector(through_registry->model.get()));
}

TEST_F(ExtendedIsolationForestWeightsTest, CorruptFilesAreDataErrors) {
  const std::string path = (dir_ / "extended_iforest.json").string();
  const nlohmann::json original = nlohmann::json::parse(*ReadFileToString(path));
  const std::vector<void (*)(nlohmann::json&)> edits = {
      [](nlohmann::json& doc) { doc["trees"][0]["term_features"][0] = 17; },
      [](nlohmann::json& doc) { doc["trees"][0]["term_coefs"].erase(0); },
      [](nlohmann::json& doc) { doc["trees"][0]["split"][0] = 1; },
      [](nlohmann::json& doc) { doc["terms_per_split"] = 4; },
      [](nlohmann::json& doc) { doc["trees"][0]["threshold"][0] = "nan"; }};
  for (const auto& edit : edits) {
    nlohmann::json doc = original;
    edit(doc);
    ASSERT_TRUE(WriteFileAtomically(path, doc.dump()).ok());
    auto fresh = MakeForest(forest_->config());
    const Status status = fresh->LoadWeights(dir_);
    EXPECT_EQ(status.code(), StatusCode::kDataError) << status.ToString();
    EXPECT_NE(status.message().find("extended_iforest.json"), std::string::npos);
  }
}

// Extended splits should isolate the fixture's outliers at least about as well as
// scikit-learn's axis-parallel forest (mean over seeds 0..4).
TEST(ExtendedIsolationForestTest, RocAucIsComparableToScikitLearn) {
  const auto text = ReadFileToString(std::string(VIGIL_TEST_DATA) + "/models/sklearn_iforest.json");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const nlohmann::json fixture = nlohmann::json::parse(*text);
  for (const nlohmann::json& data : fixture.at("datasets")) {
    FeatureMatrix x;
    for (int col = 0; col < data.at("cols").get<int>(); ++col) {
      x.columns.push_back("x" + std::to_string(col));
    }
    x.rows = data.at("rows").get<int64_t>();
    for (const auto& row : data.at("x")) {
      for (const auto& value : row) x.values.push_back(value.get<double>());
    }
    const auto labels = data.at("labels").get<std::vector<int>>();
    double auc_sum = 0.0;
    for (int seed : fixture.at("seeds").get<std::vector<int>>()) {
      auto forest = MakeForest({{"seed", seed}});
      const auto scores = forest->FitScore(x);
      ASSERT_TRUE(scores.ok()) << scores.status().ToString();
      auc_sum += *RocAuc(labels, scores->raw);
    }
    const double mean = auc_sum / 5;
    const double sklearn_mean = data.at("sklearn_auc_mean").get<double>();
    EXPECT_GE(mean, sklearn_mean - 0.05) << data.at("name");
    std::printf("%s: extended_iforest mean ROC-AUC %.4f, scikit-learn IsolationForest %.4f\n",
                data.at("name").get<std::string>().c_str(), mean, sklearn_mean);
  }
}

}  // namespace
}  // namespace vigil
