#include "vigil/models/logistic_regression.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "models/sklearn_linear_cases.h"
#include "vigil/core/text_file.h"

namespace vigil {
namespace {

// One case of tests/testdata/models/sklearn_logistic.json
// (written by scripts/fixtures/sklearn_logistic.py).
struct SklearnCase {
  std::string name;
  nlohmann::json params;
  FeatureMatrix x;
  std::vector<int> y;
  std::vector<double> weights;
  std::vector<double> coef;
  double intercept = 0;
  std::vector<double> proba1;
};

std::vector<SklearnCase> LoadSklearnCases() {
  std::vector<SklearnCase> cases;
  for (testing_util::SklearnLinearCase& linear :
       testing_util::LoadSklearnLinearCases("sklearn_logistic.json")) {
    SklearnCase c{linear.name,    linear.params, std::move(linear.x), {},
                  linear.weights, linear.coef,   linear.intercept,    {}};
    for (double label : linear.y) c.y.push_back(static_cast<int>(label));
    for (const auto& p : linear.item.at("predict_proba")) c.proba1.push_back(p.at(1));
    cases.push_back(std::move(c));
  }
  return cases;
}

std::unique_ptr<LogisticRegression> FromParams(const nlohmann::json& params) {
  Result<LogisticRegressionOptions> options = LogisticRegressionOptions::FromJson(params);
  EXPECT_TRUE(options.ok()) << options.status().ToString();
  return std::make_unique<LogisticRegression>(options.value_or({}));
}

// Seeded two-feature data: label 1 iff a noisy linear score is positive.
void MakeData(int64_t n, uint32_t seed, FeatureMatrix* x, std::vector<int>* y) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  x->columns = {"spread", "funding"};
  x->rows = n;
  x->values.clear();
  y->clear();
  for (int64_t row = 0; row < n; ++row) {
    const double a = normal(rng), b = normal(rng);
    x->values.insert(x->values.end(), {a, b});
    y->push_back(a - 0.5 * b + normal(rng) > 0 ? 1 : 0);
  }
}

std::filesystem::path FreshDir(const std::string& name) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("vigil_logistic_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(LogisticSklearnTest, MatchesScikitLearn) {
  const std::vector<SklearnCase> cases = LoadSklearnCases();
  ASSERT_EQ(cases.size(), 5u);
  for (const SklearnCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto model = FromParams(c.params);
    ASSERT_TRUE(model->Fit(c.x, c.y, c.weights).ok());
    EXPECT_TRUE(model->converged()) << model->Describe().dump();
    for (size_t col = 0; col < c.coef.size(); ++col) {
      EXPECT_NEAR(model->coefficients()[col], c.coef[col],
                  1e-6 * std::max(1.0, std::abs(c.coef[col])));
    }
    EXPECT_NEAR(model->intercept(), c.intercept, 1e-6 * std::max(1.0, std::abs(c.intercept)));
    Result<ProbabilityMatrix> proba = model->PredictProba(c.x);
    ASSERT_TRUE(proba.ok());
    for (int64_t row = 0; row < c.x.rows; ++row) {
      ASSERT_NEAR(proba->at(row, 1), c.proba1[row], 1e-8) << "row " << row;
      ASSERT_DOUBLE_EQ(proba->at(row, 0) + proba->at(row, 1), 1.0);
    }
    // The objective is on the standardized scale there; the coefficients above are checked.
    if (c.params.value("standardize", false)) continue;
    // Vigil's optimum is at least as good as scikit-learn's under the shared objective.
    Result<double> sklearn_objective = model->Objective(c.x, c.y, c.weights, c.coef, c.intercept);
    ASSERT_TRUE(sklearn_objective.ok());
    EXPECT_LE(model->objective(), *sklearn_objective + 1e-10);
    Result<double> own =
        model->Objective(c.x, c.y, c.weights, model->coefficients(), model->intercept());
    ASSERT_TRUE(own.ok());
    EXPECT_EQ(*own, model->objective());
  }
}

TEST(LogisticRegressionTest, SeparableDataStaysFinite) {
  FeatureMatrix x{{"a"}, 6, {-3, -2, -1, 1, 2, 3}};
  std::vector<int> y{0, 0, 0, 1, 1, 1};
  LogisticRegression model(LogisticRegressionOptions{.c = 100.0});
  ASSERT_TRUE(model.Fit(x, y).ok());
  EXPECT_TRUE(model.converged());
  EXPECT_TRUE(std::isfinite(model.coefficients()[0]));
  EXPECT_GT(model.coefficients()[0], 1.0);
  EXPECT_TRUE(std::isfinite(model.intercept()));
  Result<ProbabilityMatrix> proba = model.PredictProba(x);
  ASSERT_TRUE(proba.ok());
  for (double p : proba->values) EXPECT_FALSE(std::isnan(p));
  EXPECT_GT(proba->at(5, 1), 0.99);
  EXPECT_LT(proba->at(0, 1), 0.01);
}

TEST(LogisticRegressionTest, ZeroWeightRowsAreDropped) {
  FeatureMatrix x;
  std::vector<int> y;
  MakeData(100, 3, &x, &y);
  std::vector<double> weights(100, 1.0);
  for (int row = 50; row < 100; ++row) weights[row] = 0.0;
  LogisticRegression weighted;
  ASSERT_TRUE(weighted.Fit(x, y, weights).ok());
  FeatureMatrix head{x.columns, 50, std::vector<double>(x.values.begin(), x.values.begin() + 100)};
  LogisticRegression plain;
  ASSERT_TRUE(plain.Fit(head, std::span<const int>(y).first(50)).ok());
  for (size_t col = 0; col < 2; ++col) {
    EXPECT_NEAR(weighted.coefficients()[col], plain.coefficients()[col], 1e-9);
  }
  EXPECT_NEAR(weighted.intercept(), plain.intercept(), 1e-9);
}

TEST(LogisticRegressionTest, SaveLoadIsBitIdentical) {
  FeatureMatrix x;
  std::vector<int> y;
  MakeData(300, 5, &x, &y);
  LogisticRegression model(LogisticRegressionOptions{.c = 0.7});
  ASSERT_TRUE(model.Fit(x, y).ok());
  const auto dir = FreshDir("roundtrip");
  ASSERT_TRUE(model.SaveWeights(dir).ok());
  ASSERT_TRUE(std::filesystem::exists(dir / "logistic.json"));

  Result<std::unique_ptr<Model>> loaded = CreateModel("logistic", model.config());
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE((*loaded)->LoadWeights(dir).ok());
  EXPECT_TRUE((*loaded)->fitted());
  EXPECT_EQ((*loaded)->feature_names(), x.columns);
  EXPECT_EQ((*loaded)->Describe(), model.Describe());
  Result<ProbabilityMatrix> a = model.PredictProba(x);
  Result<ProbabilityMatrix> b = AsClassifier(loaded->get())->PredictProba(x);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->values, b->values);  // bit for bit
}

TEST(LogisticRegressionTest, ConfigRoundTripFitsIdentically) {
  FeatureMatrix x;
  std::vector<int> y;
  MakeData(200, 9, &x, &y);
  LogisticRegressionOptions options{
      .c = 3.0,
      .fit_intercept = false,
      .max_iter = 50,
      .tol = 1e-12,
      .class_weight = LogisticRegressionOptions::ClassWeight::kBalanced};
  LogisticRegression model(options);
  ASSERT_TRUE(model.Fit(x, y).ok());
  const nlohmann::json config = model.config();
  EXPECT_EQ(config["class_weight"], "balanced");
  EXPECT_EQ(config["fit_intercept"], false);
  Result<std::unique_ptr<Model>> rebuilt = CreateModel("logistic", config);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ((*rebuilt)->config(), config);
  ASSERT_TRUE(AsClassifier(rebuilt->get())->Fit(x, y).ok());
  EXPECT_EQ((*rebuilt)->Describe(), model.Describe());
  EXPECT_EQ(model.intercept(), 0.0);
}

TEST(LogisticRegressionTest, DescribeNamesCoefficients) {
  FeatureMatrix x;
  std::vector<int> y;
  MakeData(100, 4, &x, &y);
  LogisticRegression model;
  ASSERT_TRUE(model.Fit(x, y).ok());
  const nlohmann::json summary = model.Describe();
  EXPECT_EQ(summary["coefficients"]["spread"], model.coefficients()[0]);
  EXPECT_EQ(summary["coefficients"]["funding"], model.coefficients()[1]);
  EXPECT_GT(model.coefficients()[0], 0);
  EXPECT_LT(model.coefficients()[1], 0);
  EXPECT_EQ(summary["converged"], true);
  EXPECT_GT(summary["iterations"].get<int>(), 0);
  EXPECT_TRUE(summary.contains("objective"));
  EXPECT_TRUE(summary.contains("intercept"));
}

TEST(LogisticRegressionTest, Errors) {
  FeatureMatrix x{{"a", "b"}, 3, {1, 2, 3, 4, 5, 6}};
  std::vector<int> y{0, 1, 0};
  LogisticRegression model;
  EXPECT_EQ(model.PredictProba(x).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(model.SaveWeights(FreshDir("unfitted")).ok());

  FeatureMatrix with_nan = x;
  with_nan.values[2] = std::nan("");
  EXPECT_EQ(model.Fit(with_nan, y).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(model.Fit(x, std::vector<int>{0, 1}).ok());
  EXPECT_FALSE(model.Fit(x, std::vector<int>{0, 2, 1}).ok());
  EXPECT_FALSE(model.Fit(x, std::vector<int>{1, 1, 1}).ok());  // one class
  EXPECT_FALSE(model.Fit(x, y, std::vector<double>{1, -1, 1}).ok());
  EXPECT_FALSE(model.Fit(x, y, std::vector<double>{1, 1}).ok());
  EXPECT_FALSE(model.Fit(x, y, std::vector<double>{1, 0, 1}).ok());  // label 1 has no weight
  EXPECT_FALSE(model.Fit(FeatureMatrix{{"a"}, 0, {}}, {}).ok());
  EXPECT_FALSE(model.fitted());

  ASSERT_TRUE(model.Fit(x, y).ok());
  EXPECT_FALSE(model.PredictProba(with_nan).ok());
  FeatureMatrix renamed = x;
  renamed.columns = {"b", "a"};
  EXPECT_EQ(model.PredictProba(renamed).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(model.PredictProba(FeatureMatrix{{"a"}, 1, {1}}).ok());
}

TEST(LogisticRegressionTest, LoadWeightsErrorsNameTheFile) {
  LogisticRegression model;
  const auto dir = FreshDir("corrupt");
  Status missing = model.LoadWeights(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("logistic.json"), std::string::npos);
  std::ofstream(dir / "logistic.json") << "{not json";
  Status corrupt = model.LoadWeights(dir);
  EXPECT_EQ(corrupt.code(), StatusCode::kDataError);
  EXPECT_NE(corrupt.message().find("logistic.json"), std::string::npos);
  std::ofstream(dir / "logistic.json", std::ios::trunc)
      << R"({"format":"vigil.logistic","version":1,"feature_names":["a"],"coefficients":[1,2],)"
      << R"("intercept":0,"iterations":1,"converged":true,"objective":1})";
  EXPECT_EQ(model.LoadWeights(dir).code(), StatusCode::kDataError);
  EXPECT_FALSE(model.fitted());
}

}  // namespace
}  // namespace vigil
