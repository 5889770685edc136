// The "dbscan" detector (vigil/models/anomaly/dbscan.h): scikit-learn's DBSCAN labels up to
// cluster renumbering (tests/testdata/models/sklearn_dbscan.json, written by
// scripts/fixtures/sklearn_density.py), the raw-score rule, eps "auto", configuration,
// persistence, calibration and contributions.
#include "vigil/models/anomaly/dbscan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "anomaly_test_data.h"
#include "vigil/core/text_file.h"
#include "vigil/registry/registry.h"

namespace vigil {
namespace {

using namespace anomaly_test_data;  // NOLINT(google-build-using-namespace)

namespace fs = std::filesystem;

// Two tight blobs in 2-D plus `outliers` far-away points (the last rows).
FeatureMatrix Blobs(int64_t per_blob, int outliers, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 0.3);
  FeatureMatrix x{{"spread", "funding"}, 0, {}};
  for (int64_t i = 0; i < per_blob; ++i) {
    x.values.insert(x.values.end(), {normal(rng), normal(rng)});
    x.values.insert(x.values.end(), {5 + normal(rng), 5 + normal(rng)});
    x.rows += 2;
  }
  for (int i = 0; i < outliers; ++i) {
    x.values.insert(x.values.end(), {-6.0 - 3 * i, 12.0 + 2 * i});
    ++x.rows;
  }
  return x;
}

TEST(DbscanTest, LabelsEqualScikitLearnsUpToRenumbering) {
  const nlohmann::json doc = ReadFixture("sklearn_dbscan.json");
  ASSERT_TRUE(doc.contains("cases"));
  const FeatureMatrix train = MatrixOf(doc, "train");
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c.dump().substr(0, 60));
    Dbscan dbscan(DbscanOptions{.eps = c["eps"].get<double>(),
                                .min_samples = c["min_samples"].get<int>(),
                                .standardize = c["standardize"].get<bool>()});
    auto scores = dbscan.FitScore(train);
    ASSERT_TRUE(scores.ok()) << scores.status().ToString();
    const auto expected = c["labels"].get<std::vector<int>>();
    ASSERT_EQ(dbscan.labels().size(), expected.size());
    EXPECT_EQ(dbscan.clusters(), c["clusters"].get<int>());
    std::map<int, int> ours_to_theirs;
    for (size_t i = 0; i < expected.size(); ++i) {
      const int ours = dbscan.labels()[i];
      EXPECT_EQ(ours == Dbscan::kNoise, expected[i] == -1) << "row " << i;
      if (ours == Dbscan::kNoise) continue;
      auto [it, inserted] = ours_to_theirs.emplace(ours, expected[i]);
      EXPECT_EQ(it->second, expected[i]) << "row " << i;
    }
    // The raw score rule: core 0, border in (0, 1], noise > 1; "auto" flags the noise.
    for (size_t i = 0; i < expected.size(); ++i) {
      if (dbscan.is_core()[i]) {
        EXPECT_EQ(scores->raw[i], 0.0);
      } else if (expected[i] == -1) {
        EXPECT_GT(scores->raw[i], 1.0);
      } else {
        EXPECT_GT(scores->raw[i], 0.0);
        EXPECT_LE(scores->raw[i], 1.0);
      }
      EXPECT_EQ(scores->flag[i], expected[i] == -1) << "row " << i;
    }
    EXPECT_EQ(dbscan.Describe()["noise"], c["noise"]);
  }
}

TEST(DbscanTest, NoveltyScoresUseTheTrainingCorePoints) {
  const FeatureMatrix train = Blobs(100, 3, 1);
  Dbscan dbscan(DbscanOptions{.eps = 0.5, .min_samples = 5, .standardize = false});
  ASSERT_TRUE(dbscan.Fit(train).ok());
  EXPECT_EQ(dbscan.clusters(), 2);
  // A copy of a core row scores 0; a point 20 away from everything is far beyond eps.
  int64_t core_row = 0;
  while (!dbscan.is_core()[core_row]) ++core_row;
  FeatureMatrix probe{train.columns, 2, {train.at(core_row, 0), train.at(core_row, 1), 20, -20}};
  auto scores = dbscan.Score(probe);
  ASSERT_TRUE(scores.ok());
  EXPECT_EQ(scores->raw[0], 0.0);
  EXPECT_FALSE(scores->flag[0]);
  EXPECT_GT(scores->raw[1], 20.0);
  EXPECT_TRUE(scores->flag[1]);
  EXPECT_GE(scores->score[1], 80.0);
}

TEST(DbscanTest, AutoEpsIsTheKDistanceElbow) {
  // Hand-made curve: flat then a jump; the elbow is the last flat value.
  EXPECT_EQ(Dbscan::ElbowEps({1, 1.1, 1.2, 1.3, 1.4, 9, 20}), 1.4);
  EXPECT_EQ(Dbscan::ElbowEps({0.5, 0.7, 0.6, 10}), 0.7);

  const FeatureMatrix train = Blobs(150, 4, 2);
  Dbscan dbscan(DbscanOptions{.min_samples = 5, .standardize = false});
  ASSERT_TRUE(dbscan.Fit(train).ok());
  const nlohmann::json described = dbscan.Describe();
  EXPECT_EQ(described["eps_source"], "auto");
  EXPECT_EQ(described["clusters"], 2);
  // eps lies between the blobs' typical spacing and the gap to the outliers.
  EXPECT_GT(dbscan.eps(), 0.05);
  EXPECT_LT(dbscan.eps(), 3.0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(dbscan.labels()[train.rows - 1 - i], Dbscan::kNoise);
  EXPECT_EQ(described["noise"].get<int64_t>(),
            std::count(dbscan.labels().begin(), dbscan.labels().end(), Dbscan::kNoise));
  EXPECT_GT(described["core"].get<int64_t>(), 250);

  // Duplicate rows give a 0 elbow: refused, naming eps.
  FeatureMatrix same{{"a"}, 10, std::vector<double>(10, 1.0)};
  Status status = Dbscan().Fit(same);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("eps"), std::string::npos);
}

TEST(DbscanTest, ConfigRoundTripsAndBadKeysAreNamed) {
  for (const nlohmann::json& config : {nlohmann::json{{"eps", 0.4},
                                                      {"min_samples", 3},
                                                      {"standardize", false},
                                                      {"contamination", 0.1},
                                                      {"n_jobs", 2}},
                                       nlohmann::json{{"eps", "auto"},
                                                      {"min_samples", 5},
                                                      {"standardize", true},
                                                      {"contamination", "auto"},
                                                      {"n_jobs", 1}}}) {
    auto model = CreateModel("dbscan", config);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ((*model)->config(), config);
  }
  for (const nlohmann::json& bad :
       {nlohmann::json{{"radius", 1}}, nlohmann::json{{"eps", -1}},
        nlohmann::json{{"eps", "elbow"}}, nlohmann::json{{"min_samples", 0}},
        nlohmann::json{{"contamination", 0.9}}, nlohmann::json{{"n_jobs", -3}}}) {
    auto model = CreateModel("dbscan", bad);
    ASSERT_FALSE(model.ok()) << bad.dump();
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(model.status().message().find(bad.begin().key()), std::string::npos);
  }
  // eps "auto" needs a neighbour besides the row itself.
  EXPECT_FALSE(CreateModel("dbscan", {{"min_samples", 1}}).ok());
  EXPECT_TRUE(CreateModel("dbscan", {{"min_samples", 1}, {"eps", 1.0}}).ok());
}

TEST(DbscanTest, NoCorePointIsAnError) {
  Dbscan dbscan(DbscanOptions{.eps = 1e-3, .min_samples = 5, .standardize = false});
  const Status status = dbscan.Fit(Blobs(20, 0, 3));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("core"), std::string::npos);
}

TEST(DbscanTest, SavedWeightsRestoreScoresBitForBitAlsoThroughTheRegistry) {
  const FeatureMatrix train = Blobs(80, 3, 4);
  const FeatureMatrix probe = Blobs(10, 2, 5);
  Dbscan dbscan;
  ASSERT_TRUE(dbscan.Fit(train).ok());
  auto before = dbscan.Score(probe);
  ASSERT_TRUE(before.ok());
  const fs::path dir = FreshDir("dbscan", "save");
  ASSERT_TRUE(dbscan.SaveWeights(dir).ok());
  Dbscan loaded;
  ASSERT_TRUE(loaded.LoadWeights(dir).ok());
  auto after = loaded.Score(probe);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->raw, before->raw);
  EXPECT_EQ(after->contributions, before->contributions);
  EXPECT_EQ(loaded.Describe(), dbscan.Describe());

  auto registry = ModelRegistry::Open(FreshDir("dbscan", "registry"));
  ASSERT_TRUE(registry.ok());
  Manifest manifest;
  manifest.name = "dbscan_test";
  manifest.feature_set = {"test", "0123456789abcdef", train.columns};
  ASSERT_TRUE(registry->Register(dbscan, manifest).ok());
  auto via = registry->Load("dbscan_test");
  ASSERT_TRUE(via.ok()) << via.status().ToString();
  EXPECT_EQ(AsAnomalyDetector(via->model.get())->Score(probe)->raw, before->raw);
}

TEST(DbscanTest, CorruptWeightsFailNamingTheFile) {
  Dbscan dbscan;
  ASSERT_TRUE(dbscan.Fit(Blobs(40, 2, 6)).ok());
  const fs::path dir = FreshDir("dbscan", "corrupt");
  ASSERT_TRUE(dbscan.SaveWeights(dir).ok());
  const std::string path = (dir / "dbscan.json").string();
  const auto doc = nlohmann::json::parse(*ReadFileToString(path));
  const auto expect_data_error = [&](const std::string& contents) {
    ASSERT_TRUE(WriteFileAtomically(path, contents).ok());
    Dbscan target;
    const Status status = target.LoadWeights(dir);
    EXPECT_EQ(status.code(), StatusCode::kDataError) << status.ToString();
    EXPECT_NE(status.message().find("dbscan.json"), std::string::npos);
  };
  expect_data_error("[1, 2");
  auto no_core = doc;
  for (auto& c : no_core["is_core"]) c = false;
  expect_data_error(no_core.dump());
  auto bad_label = doc;
  bad_label["labels"][0] = 99;
  expect_data_error(bad_label.dump());
  auto bad_eps = doc;
  bad_eps["eps"] = 0;
  expect_data_error(bad_eps.dump());
  auto short_points = doc;
  short_points["points"].erase(0);
  expect_data_error(short_points.dump());
}

TEST(DbscanTest, NanInputIsRejected) {
  FeatureMatrix x = Blobs(20, 0, 7);
  x.values[5] = std::nan("");
  Dbscan dbscan;
  const Status status = dbscan.Fit(x);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("row 2"), std::string::npos) << status.message();
}

TEST(DbscanTest, ContaminationFractionAndScoresMarkTheFlag) {
  const FeatureMatrix train = Blobs(200, 5, 8);
  Dbscan dbscan(DbscanOptions{.contamination = Contamination::Fraction(0.1)});
  auto scores = dbscan.FitScore(train);
  ASSERT_TRUE(scores.ok());
  const double flagged =
      static_cast<double>(std::count(scores->flag.begin(), scores->flag.end(), true));
  EXPECT_LE(flagged / train.rows, 0.1 + 1e-9);
  EXPECT_GE(flagged, 5);  // at least the outliers
  for (size_t row = 0; row < scores->raw.size(); ++row) {
    EXPECT_EQ(scores->score[row] >= 80.0, static_cast<bool>(scores->flag[row]));
  }
}

TEST(DbscanTest, ContributionsPointAtThePerturbedFeature) {
  const FeatureMatrix train = Blobs(150, 0, 9);
  Dbscan dbscan;
  ASSERT_TRUE(dbscan.Fit(train).ok());
  FeatureMatrix probe{train.columns, 2, {0.1, 30.0, -25.0, 5.0}};
  auto scores = dbscan.Score(probe);
  ASSERT_TRUE(scores.ok());
  ASSERT_TRUE(scores->flag[0] && scores->flag[1]);
  EXPECT_GT(scores->contributions[1], scores->contributions[0]);
  EXPECT_GT(scores->contributions[2], scores->contributions[3]);
}

}  // namespace
}  // namespace vigil
