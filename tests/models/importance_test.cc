#include "vigil/models/importance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "vigil/core/text_file.h"
#include "vigil/models/logistic_regression.h"
#include "vigil/models/metrics.h"
#include "vigil/models/ridge_regression.h"

namespace vigil {
namespace {

// Rows whose target depends strongly on f0, weakly on f1 and not at all on f2.
FeatureMatrix MakeFeatures(int64_t n, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  FeatureMatrix x{{"f0", "f1", "f2"}, n, {}};
  for (int64_t row = 0; row < 3 * n; ++row) x.values.push_back(normal(rng));
  return x;
}

void MakeClassification(int64_t n, uint32_t seed, FeatureMatrix* x, std::vector<int>* labels,
                        std::vector<double>* targets) {
  std::mt19937_64 rng(seed);
  *x = MakeFeatures(n, rng);
  std::uniform_real_distribution<double> uniform;
  labels->clear();
  targets->clear();
  for (int64_t row = 0; row < n; ++row) {
    const double z = 3.0 * x->at(row, 0) + 0.7 * x->at(row, 1);
    const int label = uniform(rng) < 1.0 / (1.0 + std::exp(-z)) ? 1 : 0;
    labels->push_back(label);
    targets->push_back(label);
  }
}

void MakeRegression(int64_t n, uint32_t seed, FeatureMatrix* x, std::vector<double>* targets) {
  std::mt19937_64 rng(seed);
  *x = MakeFeatures(n, rng);
  std::normal_distribution<double> normal;
  targets->clear();
  for (int64_t row = 0; row < n; ++row) {
    targets->push_back(2.0 * x->at(row, 0) + 0.5 * x->at(row, 1) + 0.3 * normal(rng));
  }
}

std::filesystem::path FreshDir(const std::string& name) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("vigil_importance_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A linear kind holding given coefficients, through its weights file (written as before
// the feature means were stored, so Shap is unavailable on it).
std::unique_ptr<Model> LinearWithCoefficients(const std::string& kind,
                                              const std::vector<std::string>& names,
                                              const std::vector<double>& coef, double intercept) {
  nlohmann::json doc = {{"format", "vigil." + kind}, {"version", 1},
                        {"feature_names", names},    {"coefficients", coef},
                        {"intercept", intercept},    {"objective", 0.0}};
  if (kind == "logistic") {
    doc["iterations"] = 1;
    doc["converged"] = true;
  }
  const auto dir = FreshDir("coefficients_" + kind);
  EXPECT_TRUE(WriteFileAtomically((dir / (kind + ".json")).string(), doc.dump()).ok());
  Result<std::unique_ptr<Model>> model = CreateModel(kind, nlohmann::json::object());
  EXPECT_TRUE(model.ok());
  Status loaded = (*model)->LoadWeights(dir);
  EXPECT_TRUE(loaded.ok()) << loaded.ToString();
  return std::move(*model);
}

// A three-class classifier over one feature: softmax of (-2x, 0, 2x).
class ThreeClassToy final : public Classifier {
 public:
  std::string_view kind() const override { return "three_class_toy"; }
  nlohmann::json config() const override { return nlohmann::json::object(); }
  Status SaveWeights(const std::filesystem::path&) const override { return Status::Ok(); }
  Status LoadWeights(const std::filesystem::path&) override { return Status::Ok(); }
  nlohmann::json Describe() const override { return {}; }
  bool fitted() const override { return true; }
  const std::vector<std::string>& feature_names() const override { return names_; }
  Status Fit(const FeatureMatrix&, std::span<const int>, std::span<const double>) override {
    return Status::Ok();
  }
  int num_classes() const override { return 3; }
  Result<ProbabilityMatrix> PredictProba(const FeatureMatrix& x) const override {
    ProbabilityMatrix out;
    out.num_classes = 3;
    for (int64_t row = 0; row < x.rows; ++row) {
      const double v = x.at(row, 0);
      const double e[3] = {std::exp(-2 * v), 1.0, std::exp(2 * v)};
      const double total = e[0] + e[1] + e[2];
      for (double value : e) out.values.push_back(value / total);
    }
    return out;
  }

 private:
  std::vector<std::string> names_{"signal", "noise"};
};

class PermutationImportanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeClassification(600, 1, &x_, &labels_, &targets_);
    ASSERT_TRUE(logistic_.Fit(x_, labels_).ok());
  }
  FeatureMatrix x_;
  std::vector<int> labels_;
  std::vector<double> targets_;
  LogisticRegression logistic_;
};

TEST_F(PermutationImportanceTest, OrdersFeaturesByTheirEffect) {
  for (const std::string metric : {"roc_auc", "pr_auc", "log_loss", "brier", "accuracy"}) {
    SCOPED_TRACE(metric);
    PermutationOptions options;
    options.metric = metric;
    options.repeats = 10;
    Result<PermutationImportance> result =
        ComputePermutationImportance(logistic_, x_, targets_, options);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->features, x_.columns);
    ASSERT_EQ(result->mean.size(), 3u);
    ASSERT_EQ(result->stddev.size(), 3u);
    EXPECT_GT(result->mean[0], result->mean[1]);
    EXPECT_GT(result->mean[1], 4 * std::abs(result->mean[2]));
    EXPECT_GT(result->mean[1], 0);
    EXPECT_LT(std::abs(result->mean[2]), 0.02);
    for (double s : result->stddev) EXPECT_GE(s, 0);
  }
}

TEST_F(PermutationImportanceTest, BaselineIsTheMetricItself) {
  Result<ProbabilityMatrix> proba = logistic_.PredictProba(x_);
  ASSERT_TRUE(proba.ok());
  std::vector<double> positive;
  for (int64_t row = 0; row < x_.rows; ++row) positive.push_back(proba->at(row, 1));
  PermutationOptions options;
  options.repeats = 1;
  Result<PermutationImportance> auc =
      ComputePermutationImportance(logistic_, x_, targets_, options);
  ASSERT_TRUE(auc.ok());
  EXPECT_EQ(auc->baseline, *RocAuc(labels_, positive));
  options.metric = "log_loss";
  Result<PermutationImportance> loss =
      ComputePermutationImportance(logistic_, x_, targets_, options);
  ASSERT_TRUE(loss.ok());
  EXPECT_EQ(loss->baseline, *LogLoss(labels_, positive));
  EXPECT_GT(loss->mean[0], 0);  // lower is better: a permutation raises the loss
}

TEST_F(PermutationImportanceTest, IndependentOfJobsAndDeterministicPerSeed) {
  PermutationOptions options;
  options.repeats = 4;
  options.seed = 17;
  options.jobs = 1;
  Result<PermutationImportance> serial =
      ComputePermutationImportance(logistic_, x_, targets_, options);
  options.jobs = 3;
  Result<PermutationImportance> threaded =
      ComputePermutationImportance(logistic_, x_, targets_, options);
  options.jobs = 0;
  Result<PermutationImportance> all_cores =
      ComputePermutationImportance(logistic_, x_, targets_, options);
  ASSERT_TRUE(serial.ok() && threaded.ok() && all_cores.ok());
  EXPECT_EQ(serial->mean, threaded->mean);
  EXPECT_EQ(serial->stddev, threaded->stddev);
  EXPECT_EQ(serial->mean, all_cores->mean);
  options.seed = 18;
  Result<PermutationImportance> reseeded =
      ComputePermutationImportance(logistic_, x_, targets_, options);
  ASSERT_TRUE(reseeded.ok());
  EXPECT_NE(reseeded->mean, serial->mean);
  EXPECT_EQ(reseeded->baseline, serial->baseline);
}

TEST_F(PermutationImportanceTest, ConstantColumnHasExactlyZeroImportance) {
  FeatureMatrix x = x_;
  for (int64_t row = 0; row < x.rows; ++row) x.values[row * 3 + 2] = 1.25;
  PermutationOptions options;
  options.repeats = 5;
  for (const std::string metric : {"roc_auc", "log_loss"}) {
    options.metric = metric;
    Result<PermutationImportance> result =
        ComputePermutationImportance(logistic_, x, targets_, options);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->mean[2], 0.0);
    EXPECT_EQ(result->stddev[2], 0.0);
  }
}

TEST(PermutationImportanceRegressionTest, MaeAndRmse) {
  FeatureMatrix x;
  std::vector<double> targets;
  MakeRegression(500, 2, &x, &targets);
  RidgeRegression ridge;
  ASSERT_TRUE(ridge.Fit(x, targets).ok());
  Result<std::vector<double>> predicted = ridge.Predict(x);
  ASSERT_TRUE(predicted.ok());
  for (const std::string metric : {"mae", "rmse"}) {
    SCOPED_TRACE(metric);
    PermutationOptions options;
    options.metric = metric;
    options.repeats = 8;
    Result<PermutationImportance> result = ComputePermutationImportance(ridge, x, targets, options);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->baseline,
              metric == "mae" ? *Mae(targets, *predicted) : *Rmse(targets, *predicted));
    EXPECT_GT(result->mean[0], result->mean[1]);
    EXPECT_GT(result->mean[1], 10 * std::abs(result->mean[2]));
    EXPECT_LT(std::abs(result->mean[2]), 0.01);
  }
}

TEST(PermutationImportanceMulticlassTest, LogLossAndAccuracyOnly) {
  FeatureMatrix x{{"signal", "noise"}, 0, {}};
  std::vector<double> targets;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  for (int row = 0; row < 300; ++row) {
    const double v = normal(rng);
    x.values.insert(x.values.end(), {v, normal(rng)});
    targets.push_back(v < -0.4 ? 0 : v > 0.4 ? 2 : 1);
    ++x.rows;
  }
  ThreeClassToy toy;
  for (const std::string metric : {"log_loss", "accuracy"}) {
    PermutationOptions options;
    options.metric = metric;
    Result<PermutationImportance> result = ComputePermutationImportance(toy, x, targets, options);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_GT(result->mean[0], 0.1);
    EXPECT_EQ(result->mean[1], 0.0);  // the toy ignores the column
  }
  PermutationOptions auc;
  EXPECT_EQ(ComputePermutationImportance(toy, x, targets, auc).status().code(),
            StatusCode::kInvalidArgument);
  targets[4] = 3;  // not a class of a three-class model
  PermutationOptions options;
  options.metric = "accuracy";
  Status bad = ComputePermutationImportance(toy, x, targets, options).status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("row 4"), std::string::npos) << bad.ToString();
}

TEST_F(PermutationImportanceTest, Errors) {
  auto code = [&](const Model& model, const FeatureMatrix& x, std::span<const double> targets,
                  const PermutationOptions& options) {
    return ComputePermutationImportance(model, x, targets, options).status().code();
  };
  PermutationOptions options;
  options.metric = "mae";  // a regression metric on a classifier
  Status mismatch = ComputePermutationImportance(logistic_, x_, targets_, options).status();
  EXPECT_EQ(mismatch.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.message().find("'mae'"), std::string::npos) << mismatch.ToString();
  options.metric = "f2_score";
  EXPECT_EQ(code(logistic_, x_, targets_, options), StatusCode::kInvalidArgument);
  options = PermutationOptions{};
  options.repeats = 0;
  EXPECT_EQ(code(logistic_, x_, targets_, options), StatusCode::kInvalidArgument);
  options = PermutationOptions{};
  options.jobs = -2;
  EXPECT_EQ(code(logistic_, x_, targets_, options), StatusCode::kInvalidArgument);
  options = PermutationOptions{};
  EXPECT_EQ(code(logistic_, x_, std::span<const double>(targets_).first(10), options),
            StatusCode::kInvalidArgument);
  std::vector<double> fractional = targets_;
  fractional[7] = 0.5;
  EXPECT_EQ(code(logistic_, x_, fractional, options), StatusCode::kInvalidArgument);
  std::vector<double> one_class(targets_.size(), 1.0);
  EXPECT_EQ(code(logistic_, x_, one_class, options), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(LogisticRegression{}, x_, targets_, options), StatusCode::kFailedPrecondition);
  FeatureMatrix renamed = x_;
  renamed.columns[1] = "other";
  EXPECT_EQ(code(logistic_, renamed, targets_, options), StatusCode::kInvalidArgument);

  FeatureMatrix rx;
  std::vector<double> rt;
  MakeRegression(50, 4, &rx, &rt);
  RidgeRegression ridge;
  ASSERT_TRUE(ridge.Fit(rx, rt).ok());
  EXPECT_EQ(code(ridge, rx, rt, PermutationOptions{}), StatusCode::kInvalidArgument);  // roc_auc
}

// The same fitted models as scikit-learn's permutation_importance, on the same rows
// (tests/testdata/models/permutation_importance.json, from
// scripts/fixtures/permutation_importance.py). The permutations differ, so the means agree
// within their sampling error: each is a mean of 200 repeats, the difference has standard
// error about std / 10.
TEST(PermutationImportanceSklearnTest, MatchesScikitLearnWithinSamplingError) {
  Result<std::string> text =
      ReadFileToString(std::string(VIGIL_TEST_DATA) + "/models/permutation_importance.json");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const nlohmann::json doc = nlohmann::json::parse(*text);
  const int repeats = doc.at("repeats");
  for (const std::string kind : {"logistic", "ridge"}) {
    const nlohmann::json& item = doc.at(kind);
    FeatureMatrix x{{"f0", "f1", "f2"}, 0, {}};
    for (const auto& row : item.at("x")) {
      for (double value : row) x.values.push_back(value);
      ++x.rows;
    }
    const std::vector<double> targets = item.at("y").get<std::vector<double>>();
    std::unique_ptr<Model> model = LinearWithCoefficients(
        kind, x.columns, item.at("coef").get<std::vector<double>>(), item.at("intercept"));
    for (const auto& [metric, reference] : item.at("importance").items()) {
      SCOPED_TRACE(kind + " " + metric);
      PermutationOptions options;
      options.metric = metric;
      options.repeats = repeats;
      options.seed = 5;
      Result<PermutationImportance> result =
          ComputePermutationImportance(*model, x, targets, options);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      for (size_t col = 0; col < 3; ++col) {
        const double sk_mean = reference.at("mean")[col];
        const double sk_std = reference.at("std")[col];
        const double error =
            std::sqrt((sk_std * sk_std + result->stddev[col] * result->stddev[col]) / repeats);
        EXPECT_NEAR(result->mean[col], sk_mean, 5 * error + 1e-12) << "feature " << col;
        // The spread over repeats is a property of the data, not of the generator.
        EXPECT_NEAR(result->stddev[col], sk_std, 0.35 * sk_std + 1e-12) << "feature " << col;
      }
    }
  }
}

TEST(MeanAbsShapTest, AveragesMagnitudesOverRowsAndSumsOutputs) {
  Attributions a;
  a.features = {"a", "b"};
  a.outputs = 2;
  a.rows = 2;
  // row 0: output 0 (1, -2 | bias 9), output 1 (0.5, 0 | 9); row 1: (-3, 4 | 9), (0, -1 | 9)
  a.values = {1, -2, 9, 0.5, 0, 9, -3, 4, 9, 0, -1, 9};
  const std::vector<double> mean = MeanAbsShap(a);
  ASSERT_EQ(mean.size(), 2u);
  EXPECT_DOUBLE_EQ(mean[0], (1 + 0.5 + 3 + 0) / 2.0);
  EXPECT_DOUBLE_EQ(mean[1], (2 + 0 + 4 + 1) / 2.0);
  Attributions empty;
  empty.features = {"a"};
  EXPECT_EQ(MeanAbsShap(empty), std::vector<double>{0.0});
}

TEST(GlobalImportanceTest, LogisticHasEveryMethod) {
  FeatureMatrix x;
  std::vector<int> labels;
  std::vector<double> targets;
  MakeClassification(400, 6, &x, &labels, &targets);
  LogisticRegression model;
  ASSERT_TRUE(model.Fit(x, labels).ok());
  PermutationOptions options;
  options.repeats = 3;
  Result<FeatureImportance> importance = GlobalImportance(model, x, targets, options);
  ASSERT_TRUE(importance.ok()) << importance.status().ToString();
  EXPECT_EQ(importance->features, x.columns);
  for (const char* method : {"coefficient_abs", "standardized", "mean_abs_shap", "permutation"}) {
    ASSERT_TRUE(importance->by_method.count(method)) << method;
    EXPECT_EQ(importance->by_method.at(method).size(), 3u) << method;
  }
  EXPECT_EQ(importance->by_method.size(), 4u);
  for (size_t col = 0; col < 3; ++col) {
    EXPECT_EQ(importance->by_method.at("coefficient_abs")[col],
              std::abs(model.coefficients()[col]));
  }
  Result<Attributions> shap = model.Shap(x);
  ASSERT_TRUE(shap.ok());
  EXPECT_EQ(importance->by_method.at("mean_abs_shap"), MeanAbsShap(*shap));
  Result<PermutationImportance> permutation =
      ComputePermutationImportance(model, x, targets, options);
  ASSERT_TRUE(permutation.ok());
  EXPECT_EQ(importance->by_method.at("permutation"), permutation->mean);
  // Every method ranks the strong feature first.
  for (const auto& [method, values] : importance->by_method) {
    EXPECT_GT(values[0], values[1]) << method;
    EXPECT_GT(values[0], values[2]) << method;
  }
}

TEST(GlobalImportanceTest, OldWeightsStillGetPermutationImportance) {
  FeatureMatrix x;
  std::vector<int> labels;
  std::vector<double> targets;
  MakeClassification(200, 7, &x, &labels, &targets);
  std::unique_ptr<Model> model = LinearWithCoefficients("logistic", x.columns, {3.0, 0.7, 0.0}, 0);
  PermutationOptions options;
  options.repeats = 2;
  Result<FeatureImportance> importance = GlobalImportance(*model, x, targets, options);
  ASSERT_TRUE(importance.ok()) << importance.status().ToString();
  EXPECT_EQ(importance->by_method.count("mean_abs_shap"), 0u);
  EXPECT_EQ(importance->by_method.count("standardized"), 0u);
  EXPECT_EQ(importance->by_method.count("coefficient_abs"), 1u);
  EXPECT_EQ(importance->by_method.count("permutation"), 1u);
}

TEST(GlobalImportanceTest, NonExplainableModelGetsPermutationOnly) {
  FeatureMatrix x{{"signal", "noise"}, 0, {}};
  std::vector<double> targets;
  for (int row = 0; row < 60; ++row) {
    const double v = (row % 7) - 3.0;
    x.values.insert(x.values.end(), {v, static_cast<double>(row % 5)});
    targets.push_back(v < -1 ? 0 : v > 1 ? 2 : 1);
    ++x.rows;
  }
  ThreeClassToy toy;
  PermutationOptions options;
  options.metric = "accuracy";
  Result<FeatureImportance> importance = GlobalImportance(toy, x, targets, options);
  ASSERT_TRUE(importance.ok()) << importance.status().ToString();
  EXPECT_EQ(importance->by_method.size(), 1u);
  EXPECT_EQ(importance->features, toy.feature_names());
  EXPECT_GT(importance->by_method.at("permutation")[0], 0);
}

}  // namespace
}  // namespace vigil
