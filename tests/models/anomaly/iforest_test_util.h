// Test helpers shared by isolation_forest_test.cc and extended_iforest_test.cc: Gaussian data,
// per-test temporary directories, the scikit-learn fixture's data sets and the mean ROC-AUC
// of a detector over the fixture's seeds.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "vigil/core/rng.h"
#include "vigil/core/text_file.h"
#include "vigil/models/metrics.h"
#include "vigil/models/model.h"

namespace vigil::iforest_test {

// A detector of kind Detector::kKind made by the factory from `config` (a failure fails the
// test and returns null).
template <typename Detector>
std::unique_ptr<Detector> MakeDetector(const nlohmann::json& config) {
  auto model = CreateModel(std::string(Detector::kKind), config);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return nullptr;
  return std::unique_ptr<Detector>(static_cast<Detector*>(model->release()));
}

// rows x cols independent standard normal values, columns "f0", "f1", ...
inline FeatureMatrix GaussianRows(int64_t rows, int cols, uint64_t seed) {
  Rng rng(seed);
  FeatureMatrix x;
  for (int col = 0; col < cols; ++col) x.columns.push_back("f" + std::to_string(col));
  x.rows = rows;
  for (int64_t i = 0; i < rows * cols; ++i) x.values.push_back(rng.Normal());
  return x;
}

// A fresh empty directory named after the process and the running test.
inline std::filesystem::path TestTempDir(const std::string& prefix) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      (prefix + "-" + std::to_string(::getpid()) + "-" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// One labelled data set of tests/testdata/models/sklearn_iforest.json.
struct FixtureDataset {
  std::string name;
  FeatureMatrix x;  // columns "x0", "x1", ...
  std::vector<int> labels;
  double sklearn_auc_mean = 0.0;  // scikit-learn's IsolationForest, mean over `seeds`
};

struct SklearnFixture {
  std::vector<int> seeds;
  std::vector<FixtureDataset> datasets;
};

inline SklearnFixture LoadSklearnFixture() {
  const auto text = ReadFileToString(std::string(VIGIL_TEST_DATA) + "/models/sklearn_iforest.json");
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  SklearnFixture fixture;
  if (!text.ok()) return fixture;
  const nlohmann::json doc = nlohmann::json::parse(*text);
  fixture.seeds = doc.at("seeds").get<std::vector<int>>();
  for (const nlohmann::json& data : doc.at("datasets")) {
    FixtureDataset set;
    set.name = data.at("name").get<std::string>();
    for (int col = 0; col < data.at("cols").get<int>(); ++col) {
      set.x.columns.push_back("x" + std::to_string(col));
    }
    set.x.rows = data.at("rows").get<int64_t>();
    for (const auto& row : data.at("x")) {
      for (const auto& value : row) set.x.values.push_back(value.get<double>());
    }
    set.labels = data.at("labels").get<std::vector<int>>();
    set.sklearn_auc_mean = data.at("sklearn_auc_mean").get<double>();
    fixture.datasets.push_back(std::move(set));
  }
  return fixture;
}

// Mean ROC-AUC of FitScore's raw scores over `seeds`, the detector made by make(seed).
inline double MeanRocAuc(const std::function<std::unique_ptr<AnomalyDetector>(int seed)>& make,
                         const FixtureDataset& data, const std::vector<int>& seeds) {
  double sum = 0.0;
  for (int seed : seeds) {
    const auto scores = make(seed)->FitScore(data.x);
    EXPECT_TRUE(scores.ok()) << scores.status().ToString();
    if (!scores.ok()) return 0.0;
    sum += *RocAuc(data.labels, scores->raw);
  }
  return sum / static_cast<double>(seeds.size());
}

// Two detectors give x the same raw scores, 0..100 scores, flags and contributions, bit for bit.
inline void ExpectSameScores(const AnomalyDetector& expected_model,
                             const AnomalyDetector& actual_model, const FeatureMatrix& x) {
  const auto expected = expected_model.Score(x);
  const auto actual = actual_model.Score(x);
  ASSERT_TRUE(expected.ok() && actual.ok()) << actual.status().ToString();
  EXPECT_EQ(expected->raw, actual->raw);
  EXPECT_EQ(expected->score, actual->score);
  EXPECT_EQ(expected->flag, actual->flag);
  EXPECT_EQ(expected->contributions, actual->contributions);
}

// A fitted forest of kind `Detector`, its training rows and its weights saved in a fresh
// directory (removed after the test); SetUp of a derived fixture calls FitAndSave.
template <typename Detector>
class SavedForestTest : public ::testing::Test {
 protected:
  void FitAndSave(const std::string& prefix, std::unique_ptr<Detector> forest, FeatureMatrix x) {
    dir_ = TestTempDir(prefix);
    x_ = std::move(x);
    forest_ = std::move(forest);
    ASSERT_TRUE(forest_->Fit(x_).ok());
    ASSERT_TRUE(forest_->SaveWeights(dir_).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void ExpectSameScores(const AnomalyDetector& loaded) {
    iforest_test::ExpectSameScores(*forest_, loaded, x_);
  }

  std::filesystem::path dir_;
  FeatureMatrix x_;
  std::unique_ptr<Detector> forest_;
};

// The share of `feature` and the largest share of any other feature in one row's shares.
struct ShareSplit {
  double top = 0.0;
  double largest_other = 0.0;
};

inline ShareSplit SplitShares(const std::vector<double>& shares, int64_t row, size_t cols,
                              size_t feature) {
  ShareSplit split;
  for (size_t col = 0; col < cols; ++col) {
    const double share = shares[row * cols + col];
    if (col == feature) {
      split.top = share;
    } else {
      split.largest_other = std::max(split.largest_other, share);
    }
  }
  return split;
}

}  // namespace vigil::iforest_test
