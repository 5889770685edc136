// The "lof" detector (vigil/models/anomaly/lof.h) and the kNN index behind it
// (src/models/anomaly/knn_index.h): scikit-learn's LocalOutlierFactor scores to 1e-6
// (tests/testdata/models/sklearn_lof.json, written by scripts/fixtures/sklearn_density.py),
// both search paths against an exhaustive search, configuration, persistence, calibration
// and contributions.
#include "vigil/models/anomaly/lof.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "anomaly_test_data.h"
#include "models/anomaly/knn_index.h"
#include "vigil/core/text_file.h"
#include "vigil/registry/registry.h"

namespace vigil {
namespace {

using namespace anomaly_test_data;  // NOLINT(google-build-using-namespace)

namespace fs = std::filesystem;
using models_internal::KnnIndex;

constexpr double kSklearnTolerance = 1e-6;

std::unique_ptr<AnomalyDetector> MakeLof(const nlohmann::json& config) {
  auto model = CreateModel("lof", config);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return nullptr;
  return std::unique_ptr<AnomalyDetector>(AsAnomalyDetector(model->release()));
}

TEST(LofTest, MatchesScikitLearnOnTrainingAndNewRows) {
  const nlohmann::json doc = ReadFixture("sklearn_lof.json");
  ASSERT_TRUE(doc.contains("cases"));
  const FeatureMatrix train = MatrixOf(doc, "train");
  const FeatureMatrix fresh = MatrixOf(doc, "new");
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE("n_neighbors " + std::to_string(c["n_neighbors"].get<int>()));
    auto lof = MakeLof({{"n_neighbors", c["n_neighbors"]}});
    ASSERT_NE(lof, nullptr);
    Result<AnomalyScores> in_sample = lof->FitScore(train);
    ASSERT_TRUE(in_sample.ok()) << in_sample.status().ToString();
    const auto expected_train = c["negative_outlier_factor"].get<std::vector<double>>();
    ASSERT_EQ(in_sample->raw.size(), expected_train.size());
    for (size_t i = 0; i < expected_train.size(); ++i) {
      EXPECT_NEAR(in_sample->raw[i], -expected_train[i], kSklearnTolerance) << "train row " << i;
    }
    Result<AnomalyScores> novelty = lof->Score(fresh);
    ASSERT_TRUE(novelty.ok()) << novelty.status().ToString();
    const auto expected_new = c["novelty_score_samples"].get<std::vector<double>>();
    ASSERT_EQ(novelty->raw.size(), expected_new.size());
    for (size_t i = 0; i < expected_new.size(); ++i) {
      EXPECT_NEAR(novelty->raw[i], -expected_new[i], kSklearnTolerance) << "new row " << i;
    }
    // "auto": flagged exactly when LOF >= 1.5 (scikit-learn's offset_ = -1.5).
    for (size_t i = 0; i < expected_train.size(); ++i) {
      EXPECT_EQ(in_sample->flag[i], in_sample->raw[i] >= 1.5);
    }
  }
}

// Exhaustive k nearest (ties by index) for checking both search paths.
std::vector<int64_t> ExhaustiveNeighbors(const FeatureMatrix& points, std::span<const double> q,
                                         int k, int64_t self) {
  std::vector<std::pair<double, int64_t>> all;
  for (int64_t row = 0; row < points.rows; ++row) {
    if (row != self) all.emplace_back(KnnIndex::Distance(q, points.row(row)), row);
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> out;
  for (int i = 0; i < k; ++i) out.push_back(all[i].second);
  return out;
}

TEST(KnnIndexTest, KdTreeAndBruteForceMatchExhaustiveSearch) {
  for (int dims : {3, 20}) {
    SCOPED_TRACE("dims " + std::to_string(dims));
    const FeatureMatrix points = NormalData(700, dims, 5 + dims);
    const FeatureMatrix queries = NormalData(50, dims, 6 + dims);
    const KnnIndex index(points.values, points.rows, dims);
    EXPECT_EQ(index.method(),
              dims >= 16 ? KnnIndex::Method::kBruteForce : KnnIndex::Method::kKdTree);
    constexpr int k = 7;
    const auto training = index.KnnOfIndexed(k, /*threads=*/2);
    for (int64_t row = 0; row < points.rows; row += 37) {
      const auto expected = ExhaustiveNeighbors(points, points.row(row), k, row);
      EXPECT_EQ(
          std::vector<int64_t>(training.indices_of(row).begin(), training.indices_of(row).end()),
          expected);
      EXPECT_EQ(training.distances_of(row)[k - 1],
                KnnIndex::Distance(points.row(row), points.row(expected[k - 1])));
    }
    const auto fresh = index.Knn(queries.values, queries.rows, k, /*threads=*/1);
    for (int64_t row = 0; row < queries.rows; ++row) {
      const auto expected = ExhaustiveNeighbors(points, queries.row(row), k, -1);
      EXPECT_EQ(std::vector<int64_t>(fresh.indices_of(row).begin(), fresh.indices_of(row).end()),
                expected);
    }
    // Radius: the same set as an exhaustive d <= r scan, the point itself included.
    const double radius = training.distances_of(0)[3];
    const auto within = index.WithinRadius(points.values, 1, radius, 1);
    std::vector<int64_t> expected_within;
    for (int64_t row = 0; row < points.rows; ++row) {
      if (KnnIndex::Distance(points.row(0), points.row(row)) <= radius) {
        expected_within.push_back(row);
      }
    }
    EXPECT_EQ(within[0], expected_within);
  }
}

TEST(LofTest, ConfigRoundTripsThroughTheFactoryAndBadKeysAreNamed) {
  auto lof =
      MakeLof({{"n_neighbors", 7}, {"contamination", 0.05}, {"standardize", true}, {"n_jobs", -1}});
  ASSERT_NE(lof, nullptr);
  const nlohmann::json config = lof->config();
  EXPECT_EQ(
      config,
      (nlohmann::json{
          {"n_neighbors", 7}, {"contamination", 0.05}, {"standardize", true}, {"n_jobs", -1}}));
  auto again = CreateModel("lof", config);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->config(), config);
  EXPECT_EQ(MakeLof(nlohmann::json())->config()["contamination"], "auto");

  for (const nlohmann::json& bad :
       {nlohmann::json{{"k", 3}}, nlohmann::json{{"n_neighbors", 0}},
        nlohmann::json{{"n_neighbors", 2.5}}, nlohmann::json{{"contamination", 0.7}},
        nlohmann::json{{"contamination", "sometimes"}}, nlohmann::json{{"n_jobs", 0}},
        nlohmann::json{{"standardize", "yes"}}}) {
    auto model = CreateModel("lof", bad);
    ASSERT_FALSE(model.ok()) << bad.dump();
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(model.status().message().find("'lof'"), std::string::npos);
    EXPECT_NE(model.status().message().find(bad.begin().key()), std::string::npos)
        << model.status().message();
  }
}

TEST(LofTest, NeighborsAreCappedAtRowsMinusOne) {
  LocalOutlierFactor lof;
  ASSERT_TRUE(lof.Fit(NormalData(6, 2, 1)).ok());
  EXPECT_EQ(lof.effective_neighbors(), 5);
  EXPECT_EQ(lof.Describe()["n_neighbors"], 5);
  EXPECT_FALSE(lof.Fit(NormalData(1, 2, 1)).ok());
}

TEST(LofTest, SavedWeightsRestoreScoresBitForBitAlsoThroughTheRegistry) {
  const FeatureMatrix train = NormalData(300, 4, 11);
  const FeatureMatrix fresh = NormalData(60, 4, 12);
  LocalOutlierFactor lof(LocalOutlierFactorOptions{.n_neighbors = 12, .standardize = true});
  ASSERT_TRUE(lof.Fit(train).ok());
  auto before = lof.Score(fresh);
  ASSERT_TRUE(before.ok());

  const fs::path dir = FreshDir("lof", "save");
  ASSERT_TRUE(lof.SaveWeights(dir).ok());
  auto rebuilt = CreateModel("lof", lof.config());
  ASSERT_TRUE(rebuilt.ok());
  ASSERT_TRUE((*rebuilt)->LoadWeights(dir).ok());
  auto after = AsAnomalyDetector(rebuilt->get())->Score(fresh);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->raw, before->raw);
  EXPECT_EQ(after->score, before->score);
  EXPECT_EQ(after->contributions, before->contributions);

  auto registry = ModelRegistry::Open(FreshDir("lof", "registry"));
  ASSERT_TRUE(registry.ok());
  Manifest manifest;
  manifest.name = "lof_test";
  manifest.feature_set = {"test", "0123456789abcdef", train.columns};
  ASSERT_TRUE(registry->Register(lof, manifest).ok());
  auto loaded = registry->Load("lof_test");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto via_registry = AsAnomalyDetector(loaded->model.get())->Score(fresh);
  ASSERT_TRUE(via_registry.ok());
  EXPECT_EQ(via_registry->raw, before->raw);
}

TEST(LofTest, CorruptWeightsFailNamingTheFile) {
  LocalOutlierFactor lof;
  ASSERT_TRUE(lof.Fit(NormalData(50, 3, 2)).ok());
  const fs::path dir = FreshDir("lof", "corrupt");
  ASSERT_TRUE(lof.SaveWeights(dir).ok());
  const std::string path = (dir / "lof.json").string();
  auto doc = nlohmann::json::parse(*ReadFileToString(path));

  const auto expect_data_error = [&](const std::string& contents) {
    ASSERT_TRUE(WriteFileAtomically(path, contents).ok());
    LocalOutlierFactor target;
    const Status status = target.LoadWeights(dir);
    EXPECT_EQ(status.code(), StatusCode::kDataError) << status.ToString();
    EXPECT_NE(status.message().find("lof.json"), std::string::npos);
    EXPECT_FALSE(target.fitted());
  };
  expect_data_error("{\"format\": \"vigil.lof\"");
  auto short_lrds = doc;
  short_lrds["lrds"].erase(0);
  expect_data_error(short_lrds.dump());
  auto big_k = doc;
  big_k["n_neighbors"] = 50;
  expect_data_error(big_k.dump());
  auto negative = doc;
  negative["k_distances"][3] = -1.0;
  expect_data_error(negative.dump());
  auto bad_calibration = doc;
  bad_calibration["calibration"]["hi"] = -5;
  expect_data_error(bad_calibration.dump());
}

TEST(LofTest, NanInputIsRejectedNamingRowAndColumn) {
  FeatureMatrix x = NormalData(30, 3, 3);
  x.values[7 * 3 + 2] = std::nan("");
  LocalOutlierFactor lof;
  Status status = lof.Fit(x);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("row 7"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("f2"), std::string::npos);
  ASSERT_TRUE(lof.Fit(NormalData(30, 3, 4)).ok());
  EXPECT_EQ(lof.Score(x).status().code(), StatusCode::kInvalidArgument);
}

TEST(LofTest, ContaminationFractionSetsTheTrainingQuantileAndScoresMarkTheFlag) {
  const FeatureMatrix train = NormalData(1000, 3, 21);
  auto lof = MakeLof({{"contamination", 0.05}});
  auto scores = lof->FitScore(train);
  ASSERT_TRUE(scores.ok());
  const auto flagged = std::count(scores->flag.begin(), scores->flag.end(), true);
  EXPECT_NEAR(static_cast<double>(flagged) / train.rows, 0.05, 0.002);
  std::vector<double> raw = scores->raw;
  std::sort(raw.begin(), raw.end());
  const double quantile = raw[949] + 0.05 * (raw[950] - raw[949]);  // numpy's (1 - f) quantile
  EXPECT_DOUBLE_EQ(dynamic_cast<LocalOutlierFactor*>(lof.get())->calibration().threshold(),
                   quantile);
  for (int64_t row = 0; row < train.rows; ++row) {
    EXPECT_EQ(scores->score[row] >= 80.0, static_cast<bool>(scores->flag[row]));
  }
  auto fresh = lof->Score(NormalData(300, 3, 22));
  ASSERT_TRUE(fresh.ok());
  for (size_t row = 0; row < fresh->raw.size(); ++row) {
    EXPECT_EQ(fresh->score[row] >= 80.0, static_cast<bool>(fresh->flag[row]));
  }
}

TEST(LofTest, ContributionsPointAtThePerturbedFeature) {
  const FeatureMatrix train = NormalData(500, 4, 31);
  LocalOutlierFactor lof;
  ASSERT_TRUE(lof.Fit(train).ok());
  FeatureMatrix probe = NormalData(4, 4, 32);
  for (int64_t row = 0; row < 4; ++row) probe.values[row * 4 + row] = 7.0;
  auto scores = lof.Score(probe);
  ASSERT_TRUE(scores.ok());
  auto shares = lof.Contributions(probe);
  ASSERT_TRUE(shares.ok());
  for (int64_t row = 0; row < 4; ++row) {
    EXPECT_TRUE(scores->flag[row]) << "row " << row << " raw " << scores->raw[row];
    const auto begin = scores->contributions.begin() + row * 4;
    EXPECT_EQ(std::max_element(begin, begin + 4) - begin, row);
    EXPECT_NEAR(std::accumulate(begin, begin + 4, 0.0), 1.0, 1e-12);
    EXPECT_EQ(std::vector<double>(begin, begin + 4),
              std::vector<double>(shares->begin() + row * 4, shares->begin() + row * 4 + 4));
  }
}

TEST(LofTest, ThreadCountDoesNotChangeScores) {
  const FeatureMatrix train = NormalData(800, 18, 41);  // the brute-force path
  auto one = MakeLof({{"n_jobs", 1}});
  auto all = MakeLof({{"n_jobs", -1}});
  auto a = one->FitScore(train);
  auto b = all->FitScore(train);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->raw, b->raw);
}

TEST(LofTest, StandardizeMakesScoresScaleInvariant) {
  FeatureMatrix train = NormalData(400, 3, 51);
  auto plain = MakeLof({{"standardize", true}});
  auto a = plain->FitScore(train);
  for (int64_t row = 0; row < train.rows; ++row) train.values[row * 3 + 1] *= 1e4;
  auto scaled = MakeLof({{"standardize", true}});
  auto b = scaled->FitScore(train);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t i = 0; i < a->raw.size(); ++i) EXPECT_NEAR(a->raw[i], b->raw[i], 1e-9);
}

}  // namespace
}  // namespace vigil
