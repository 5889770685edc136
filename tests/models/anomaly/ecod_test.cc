// The "ecod" detector (anomaly/ecod.h): hand-computed tails, an independent numpy
// computation (tests/testdata/models/ecod_reference.json from
// scripts/fixtures/ecod_reference.py), calibration, contributions, threads, persistence.
#include "vigil/models/anomaly/ecod.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
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

FeatureMatrix FromRows(const std::vector<std::string>& columns,
                       const std::vector<std::vector<double>>& rows) {
  FeatureMatrix x{columns, static_cast<int64_t>(rows.size()), {}};
  for (const auto& row : rows) x.values.insert(x.values.end(), row.begin(), row.end());
  return x;
}

Ecod MustFit(const FeatureMatrix& x, EcodOptions options = {}) {
  Ecod model(options);
  const Status status = model.Fit(x);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return model;
}

TEST(EcodTest, HandComputedTailsAggregatesAndShares) {
  // a = {1, 2, 3, 10} is right-skewed, b = {-10, 1, 2, 3} left-skewed.
  const FeatureMatrix train = FromRows({"a", "b"}, {{1, -10}, {2, 1}, {3, 2}, {10, 3}});
  const Ecod model = MustFit(train);
  ASSERT_EQ(model.skewness().size(), 2u);
  EXPECT_NEAR(model.skewness()[0], 45.0 / std::pow(12.5, 1.5), 1e-12);  // m3 / m2^1.5
  EXPECT_NEAR(model.skewness()[1], -157.5 / std::pow(27.5, 1.5), 1e-12);
  EXPECT_EQ(model.Describe()["features"]["b"]["auto_tail"], "left");

  std::vector<double> terms(2);
  Ecod::Aggregate winner;
  // (10, 2): a: F_l = 1, F_r = 1/4; b: F_l = 3/4, F_r = 2/4.
  // O_left = log(4/3), O_right = log 4 + log 2, O_auto = log 4 + log(4/3).
  EXPECT_NEAR(model.RowScore(std::vector<double>{10, 2}, terms, &winner), std::log(8.0), 1e-12);
  EXPECT_EQ(winner, Ecod::Aggregate::kRight);
  EXPECT_NEAR(terms[0], std::log(4.0), 1e-12);
  EXPECT_NEAR(terms[1], std::log(2.0), 1e-12);
  // (10, -10): a: F_l = 1, F_r = 1/4; b: F_l = 1/4, F_r = 1: each feature in its skewed
  // tail, so O_auto = log 4 + log 4 beats O_left = O_right = log 4.
  EXPECT_NEAR(model.RowScore(std::vector<double>{10, -10}, terms, &winner), 2 * std::log(4.0),
              1e-12);
  EXPECT_EQ(winner, Ecod::Aggregate::kAuto);
  // (0, -20): below every training value: counts 0 clamp to 1 / (n + 1) = 1/5.
  EXPECT_NEAR(model.RowScore(std::vector<double>{0, -20}, terms, &winner), 2 * std::log(5.0),
              1e-12);
  EXPECT_EQ(winner, Ecod::Aggregate::kLeft);
  // (0, 5): O_left = O_right = log 5, O_auto = 0; the tie goes to O_left.
  EXPECT_NEAR(model.RowScore(std::vector<double>{0, 5}, terms, &winner), std::log(5.0), 1e-12);
  EXPECT_EQ(winner, Ecod::Aggregate::kLeft);
  EXPECT_EQ(terms[1], 0.0);

  Result<std::vector<double>> shares =
      model.Contributions(FromRows({"a", "b"}, {{10, 2}, {0, -20}, {0, 5}}));
  ASSERT_TRUE(shares.ok()) << shares.status().ToString();
  const std::vector<double> expected = {2.0 / 3.0, 1.0 / 3.0, 0.5, 0.5, 1.0, 0.0};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR((*shares)[i], expected[i], 1e-12) << i;
}

TEST(EcodTest, ConstantFeatureHasNoSkewAndDeviationsScoreOnTheRight) {
  const FeatureMatrix train = FromRows({"c", "x"}, {{7, 1}, {7, 2}, {7, 3}, {7, 4}});
  const Ecod model = MustFit(train);
  EXPECT_EQ(model.skewness()[0], 0.0);
  std::vector<double> terms(2);
  // At the constant both tails are 1: no contribution; off it, the clamped tail.
  EXPECT_NEAR(model.RowScore(std::vector<double>{7, 4}, terms), std::log(4.0), 1e-12);
  EXPECT_NEAR(model.RowScore(std::vector<double>{8, 4}, terms), std::log(4.0) + std::log(5.0),
              1e-12);
}

TEST(EcodTest, MatchesIndependentNumpyComputation) {
  Result<std::string> text =
      ReadFileToString(std::string(VIGIL_TEST_DATA) + "/models/ecod_reference.json");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const nlohmann::json doc = nlohmann::json::parse(*text);
  const auto columns = doc.at("columns").get<std::vector<std::string>>();
  const FeatureMatrix train =
      FromRows(columns, doc.at("train").get<std::vector<std::vector<double>>>());
  const FeatureMatrix test =
      FromRows(columns, doc.at("test").get<std::vector<std::vector<double>>>());
  const Ecod model = MustFit(train);

  const auto skewness = doc.at("skewness").get<std::vector<double>>();
  for (size_t c = 0; c < skewness.size(); ++c) EXPECT_NEAR(model.skewness()[c], skewness[c], 1e-12);
  for (const auto& [x, key] : {std::pair{&train, "train_raw"}, std::pair{&test, "test_raw"}}) {
    const auto expected = doc.at(key).get<std::vector<double>>();
    Result<AnomalyScores> scores = model.Score(*x);
    ASSERT_TRUE(scores.ok()) << scores.status().ToString();
    ASSERT_EQ(scores->raw.size(), expected.size());
    for (size_t row = 0; row < expected.size(); ++row) {
      EXPECT_NEAR(scores->raw[row], expected[row], 1e-12 * std::max(1.0, expected[row]))
          << key << " row " << row;
    }
  }
  const auto winners = doc.at("test_winner").get<std::vector<std::string>>();
  const auto shares = doc.at("test_shares").get<std::vector<std::vector<double>>>();
  Result<std::vector<double>> contributions = model.Contributions(test);
  ASSERT_TRUE(contributions.ok());
  std::vector<double> terms(test.cols());
  for (int64_t row = 0; row < test.rows; ++row) {
    Ecod::Aggregate winner;
    model.RowScore(test.row(row), terms, &winner);
    const std::string name = winner == Ecod::Aggregate::kLeft    ? "left"
                             : winner == Ecod::Aggregate::kRight ? "right"
                                                                 : "auto";
    EXPECT_EQ(name, winners[row]) << "row " << row;
    for (size_t c = 0; c < test.cols(); ++c) {
      EXPECT_NEAR((*contributions)[row * test.cols() + c], shares[row][c], 1e-12)
          << "row " << row << " col " << c;
    }
  }
}

TEST(EcodTest, InjectedAnomaliesAreFlaggedAndAttributed) {
  // Two features: one extreme feature is enough to stand out. (With many features ECOD's
  // tail terms saturate at log(n + 1), so a single extreme feature competes with rows that
  // are moderately unusual in several.)
  const FeatureMatrix train = NormalData(2000, 2, 3);
  const Ecod model = MustFit(train, EcodOptions{.contamination = Contamination::Fraction(0.02)});
  FeatureMatrix test = NormalData(300, 2, 4);
  const std::vector<std::pair<int64_t, size_t>> injected = {{7, 0}, {100, 1}, {250, 1}};
  for (const auto& [row, col] : injected) {
    for (size_t c = 0; c < 2; ++c) test.values[row * 2 + c] = 0.0;  // typical elsewhere
    test.values[row * 2 + col] = row % 2 ? -8.0 : 8.0;
  }
  Result<AnomalyScores> scores = model.Score(test);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  for (const auto& [row, col] : injected) {
    EXPECT_TRUE(scores->flag[row]) << row;
    EXPECT_GT(scores->contributions[row * 2 + col], 0.8) << row;
  }
  for (int64_t row = 0; row < test.rows; ++row) {
    ASSERT_EQ(scores->flag[row], scores->score[row] >= 80.0) << row;
    const double total = scores->contributions[row * 2] + scores->contributions[row * 2 + 1];
    EXPECT_NEAR(total, scores->flag[row] ? 1.0 : 0.0, 1e-12) << row;
  }
  // About 2% of the training rows are flagged.
  Result<AnomalyScores> in_sample = model.Score(train);
  ASSERT_TRUE(in_sample.ok());
  EXPECT_NEAR(std::count(in_sample->flag.begin(), in_sample->flag.end(), true), 40, 1);
}

TEST(EcodTest, AutoContaminationUsesTukeysFence) {
  const FeatureMatrix train = NormalData(1000, 3, 8);
  const Ecod model = MustFit(train);
  Result<AnomalyScores> scores = model.Score(train);
  ASSERT_TRUE(scores.ok());
  std::vector<double> raw = scores->raw;
  const double q1 = InterpolatedQuantile(raw, 0.25), q3 = InterpolatedQuantile(raw, 0.75);
  EXPECT_NEAR(model.calibration().threshold(), q3 + 1.5 * (q3 - q1), 1e-12);
  EXPECT_EQ(model.config()["contamination"], "auto");
}

TEST(EcodTest, ThreadCountDoesNotChangeResults) {
  const FeatureMatrix train = NormalData(3000, 5, 10);
  const FeatureMatrix test = NormalData(1000, 5, 11);
  const Ecod one = MustFit(train, EcodOptions{.n_jobs = 1});
  const Ecod many = MustFit(train, EcodOptions{.n_jobs = 4});
  Result<AnomalyScores> a = one.Score(test), b = many.Score(test);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->raw, b->raw);
  EXPECT_EQ(a->score, b->score);
  EXPECT_EQ(a->contributions, b->contributions);
  EXPECT_EQ(one.calibration().ToJson(), many.calibration().ToJson());
}

TEST(EcodTest, SaveLoadRestoresScoresBitForBit) {
  const FeatureMatrix train = NormalData(500, 3, 12);
  const FeatureMatrix test = NormalData(200, 3, 13);
  const Ecod model = MustFit(train, EcodOptions{.contamination = Contamination::Fraction(0.05)});
  const fs::path dir = FreshDir("ecod", "roundtrip");
  ASSERT_TRUE(model.SaveWeights(dir).ok());
  EXPECT_TRUE(fs::exists(dir / "ecod.json"));
  Result<std::unique_ptr<Model>> loaded = CreateModel("ecod", model.config());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE((*loaded)->LoadWeights(dir).ok());
  Result<AnomalyScores> a = model.Score(test);
  Result<AnomalyScores> b = AsAnomalyDetector(loaded->get())->Score(test);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->raw, b->raw);
  EXPECT_EQ(a->score, b->score);
  EXPECT_EQ(a->flag, b->flag);
  EXPECT_EQ(a->contributions, b->contributions);
  EXPECT_EQ((*loaded)->Describe(), model.Describe());
}

TEST(EcodTest, RoundTripThroughTheRegistry) {
  const FeatureMatrix train = NormalData(400, 2, 14);
  const Ecod model = MustFit(train);
  const fs::path dir = FreshDir("ecod", "registry");
  Result<ModelRegistry> registry = ModelRegistry::Open(dir);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  Manifest manifest;
  manifest.name = "ecod_test";
  manifest.feature_set = {"default", "81f468742147cd7b", train.columns};
  Result<Manifest> stored = registry->Register(model, manifest);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  Result<LoadedModel> loaded = registry->Load("ecod_test");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->manifest.kind, "ecod");
  const FeatureMatrix test = NormalData(100, 2, 15);
  Result<AnomalyScores> a = model.Score(test);
  Result<AnomalyScores> b = AsAnomalyDetector(loaded->model.get())->Score(test);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->raw, b->raw);
  EXPECT_EQ(a->score, b->score);
}

TEST(EcodTest, CorruptWeightsFailNamingTheFile) {
  const Ecod model = MustFit(NormalData(50, 2, 16));
  const fs::path dir = FreshDir("ecod", "corrupt");
  ASSERT_TRUE(model.SaveWeights(dir).ok());
  const std::string path = (dir / "ecod.json").string();
  nlohmann::json doc = nlohmann::json::parse(*ReadFileToString(path));
  auto expect_data_error = [&](const nlohmann::json& bad, const std::string& what) {
    ASSERT_TRUE(WriteFileAtomically(path, bad.dump()).ok());
    Ecod reloaded;
    const Status status = reloaded.LoadWeights(dir);
    EXPECT_EQ(status.code(), StatusCode::kDataError) << what << ": " << status.ToString();
    EXPECT_NE(status.message().find("ecod.json"), std::string::npos) << status.message();
    EXPECT_FALSE(reloaded.fitted());
  };
  nlohmann::json unsorted = doc;
  std::swap(unsorted["sorted_columns"][0][0], unsorted["sorted_columns"][0][1]);
  unsorted["sorted_columns"][0][0] = 1e9;
  expect_data_error(unsorted, "unsorted");
  nlohmann::json short_column = doc;
  short_column["sorted_columns"][1].erase(0);
  expect_data_error(short_column, "ragged");
  nlohmann::json no_skew = doc;
  no_skew["skewness"] = {0.1};
  expect_data_error(no_skew, "skewness count");
  nlohmann::json bad_calibration = doc;
  bad_calibration["calibration"]["hi"] = -1e9;
  expect_data_error(bad_calibration, "calibration");
  nlohmann::json wrong_format = doc;
  wrong_format["format"] = "vigil.zscore";
  expect_data_error(wrong_format, "format");
  ASSERT_TRUE(WriteFileAtomically(path, "{not json").ok());
  EXPECT_EQ(Ecod().LoadWeights(dir).code(), StatusCode::kDataError);
  fs::remove(path);
  EXPECT_FALSE(Ecod().LoadWeights(dir).ok());
}

TEST(EcodTest, BadConfigAndInputsAreRejected) {
  for (const nlohmann::json& config :
       {nlohmann::json{{"contamination", 0.9}}, nlohmann::json{{"n_jobs", 0}},
        nlohmann::json{{"n_estimators", 10}}, nlohmann::json{{"contamination", "sometimes"}}}) {
    Result<std::unique_ptr<Model>> model = CreateModel("ecod", config);
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument) << config.dump();
  }
  Result<std::unique_ptr<Model>> defaults = CreateModel("ecod", nullptr);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ((*defaults)->config(), (nlohmann::json{{"contamination", "auto"}, {"n_jobs", 1}}));

  Ecod model;
  const FeatureMatrix train = NormalData(20, 2, 17);
  EXPECT_EQ(model.Score(train).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(model.Fit(FromRows({"a"}, {{1.0}})).code(), StatusCode::kInvalidArgument);
  FeatureMatrix with_nan = train;
  with_nan.values[5] = std::nan("");
  EXPECT_EQ(model.Fit(with_nan).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(model.Fit(train).ok());
  EXPECT_EQ(model.Score(with_nan).status().code(), StatusCode::kInvalidArgument);
  FeatureMatrix renamed = train;
  renamed.columns[1] = "other";
  EXPECT_EQ(model.Score(renamed).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(model.Contributions(renamed).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil
