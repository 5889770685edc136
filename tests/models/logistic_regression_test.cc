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

// Exact linear SHAP (Lundberg & Lee 2017, section 5.1): contribution_j = w_j (x_j - mean_j),
// bias b + sum_j w_j mean_j, means weighted by the sample weights.
TEST(LogisticShapTest, ContributionsAreCoefficientTimesCentredFeature) {
  FeatureMatrix x;
  std::vector<int> y;
  MakeData(200, 21, &x, &y);
  std::vector<double> weights(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) weights[row] = 0.5 + (row % 4);
  LogisticRegression model(LogisticRegressionOptions{.c = 2.0});
  ASSERT_TRUE(model.Fit(x, y, weights).ok());
  // Hand computation of the weighted means and population standard deviations.
  double total = 0, mean[2] = {0, 0}, var[2] = {0, 0};
  for (int64_t row = 0; row < x.rows; ++row) {
    total += weights[row];
    for (int col = 0; col < 2; ++col) mean[col] += weights[row] * x.at(row, col);
  }
  for (double& m : mean) m /= total;
  for (int64_t row = 0; row < x.rows; ++row) {
    for (int col = 0; col < 2; ++col) {
      var[col] += weights[row] * (x.at(row, col) - mean[col]) * (x.at(row, col) - mean[col]);
    }
  }
  for (int col = 0; col < 2; ++col) {
    EXPECT_NEAR(model.feature_means()[col], mean[col], 1e-12);
    EXPECT_NEAR(model.feature_stds()[col], std::sqrt(var[col] / total), 1e-12);
  }
  const ExplainableModel* explainable = AsExplainable(&model);
  ASSERT_NE(explainable, nullptr);
  Result<Attributions> shap = explainable->Shap(x);
  Result<std::vector<double>> margin = explainable->RawMargin(x);
  Result<ProbabilityMatrix> proba = model.PredictProba(x);
  ASSERT_TRUE(shap.ok() && margin.ok() && proba.ok()) << shap.status().ToString();
  EXPECT_EQ(shap->features, x.columns);
  EXPECT_EQ(shap->outputs, 1);
  EXPECT_EQ(shap->rows, x.rows);
  ASSERT_EQ(shap->values.size(), static_cast<size_t>(x.rows) * 3);
  const double w0 = model.coefficients()[0], w1 = model.coefficients()[1];
  const double bias = model.intercept() + w0 * mean[0] + w1 * mean[1];
  for (int64_t row = 0; row < x.rows; ++row) {
    EXPECT_NEAR(shap->at(row, 0, 0), w0 * (x.at(row, 0) - mean[0]), 1e-12);
    EXPECT_NEAR(shap->at(row, 0, 1), w1 * (x.at(row, 1) - mean[1]), 1e-12);
    EXPECT_NEAR(shap->at(row, 0, 2), bias, 1e-12);
    const double sum = shap->at(row, 0, 0) + shap->at(row, 0, 1) + shap->at(row, 0, 2);
    EXPECT_NEAR(sum, (*margin)[row], 1e-12);  // additivity
    EXPECT_NEAR((*margin)[row], w0 * x.at(row, 0) + w1 * x.at(row, 1) + model.intercept(), 1e-12);
    EXPECT_NEAR(1.0 / (1.0 + std::exp(-(*margin)[row])), proba->at(row, 1), 1e-15);
  }
  Result<FeatureImportance> importance = explainable->Importance();
  ASSERT_TRUE(importance.ok());
  EXPECT_EQ(importance->features, x.columns);
  EXPECT_EQ(importance->by_method.at("coefficient_abs"),
            (std::vector<double>{std::abs(w0), std::abs(w1)}));
  EXPECT_NEAR(importance->by_method.at("standardized")[0], std::abs(w0) * std::sqrt(var[0] / total),
              1e-12);
  EXPECT_NEAR(importance->by_method.at("standardized")[1], std::abs(w1) * std::sqrt(var[1] / total),
              1e-12);
}

TEST(LogisticShapTest, HandComputedTinyCase) {
  // Means (1 + 3) / 2 = 2 and (0 + 4) / 2 = 2; contributions w_j (x_j - 2).
  FeatureMatrix x{{"a", "b"}, 2, {1, 0, 3, 4}};
  LogisticRegression model;
  ASSERT_TRUE(model.Fit(x, std::vector<int>{0, 1}).ok());
  const double w0 = model.coefficients()[0], w1 = model.coefficients()[1];
  Result<Attributions> shap = model.Shap(FeatureMatrix{{"a", "b"}, 1, {5, -1}});
  ASSERT_TRUE(shap.ok());
  EXPECT_DOUBLE_EQ(shap->at(0, 0, 0), w0 * 3);
  EXPECT_DOUBLE_EQ(shap->at(0, 0, 1), w1 * -3);
  EXPECT_DOUBLE_EQ(shap->at(0, 0, 2), model.intercept() + 2 * w0 + 2 * w1);
}

TEST(LogisticShapTest, SaveLoadKeepsExplainability) {
  FeatureMatrix x;
  std::vector<int> y;
  MakeData(150, 22, &x, &y);
  LogisticRegression model(LogisticRegressionOptions{.standardize = true});
  ASSERT_TRUE(model.Fit(x, y).ok());
  const auto dir = FreshDir("shap_roundtrip");
  ASSERT_TRUE(model.SaveWeights(dir).ok());
  LogisticRegression loaded(LogisticRegressionOptions{.standardize = true});
  ASSERT_TRUE(loaded.LoadWeights(dir).ok());
  EXPECT_EQ(loaded.feature_means(), model.feature_means());
  EXPECT_EQ(loaded.feature_stds(), model.feature_stds());
  Result<Attributions> a = model.Shap(x);
  Result<Attributions> b = loaded.Shap(x);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->values, b->values);  // bit for bit
  EXPECT_EQ(loaded.Importance()->by_method, model.Importance()->by_method);
}

TEST(LogisticShapTest, OldWeightsFileLoadsButCannotExplain) {
  const auto dir = FreshDir("shap_old");
  std::ofstream(dir / "logistic.json")
      << R"({"format":"vigil.logistic","version":1,"feature_names":["a","b"],)"
      << R"("coefficients":[0.5,-2],"intercept":0.25,"iterations":3,"converged":true,)"
      << R"("objective":1.5})";
  LogisticRegression model;
  ASSERT_TRUE(model.LoadWeights(dir).ok());
  const FeatureMatrix x{{"a", "b"}, 1, {2, 1}};
  Result<std::vector<double>> margin = model.RawMargin(x);
  ASSERT_TRUE(margin.ok());
  EXPECT_DOUBLE_EQ((*margin)[0], 0.5 * 2 - 2 * 1 + 0.25);
  Status shap = model.Shap(x).status();
  EXPECT_EQ(shap.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(shap.message().find("refit to explain"), std::string::npos) << shap.ToString();
  Result<FeatureImportance> importance = model.Importance();
  ASSERT_TRUE(importance.ok());
  EXPECT_EQ(importance->by_method.at("coefficient_abs"), (std::vector<double>{0.5, 2.0}));
  EXPECT_EQ(importance->by_method.count("standardized"), 0u);
  // Saving it again keeps it an old-style file (no invented means).
  const auto resaved = FreshDir("shap_old_resaved");
  ASSERT_TRUE(model.SaveWeights(resaved).ok());
  LogisticRegression reloaded;
  ASSERT_TRUE(reloaded.LoadWeights(resaved).ok());
  EXPECT_EQ(reloaded.Shap(x).status().code(), StatusCode::kFailedPrecondition);

  // Means of the wrong length are a corrupt file.
  std::ofstream(dir / "logistic.json", std::ios::trunc)
      << R"({"format":"vigil.logistic","version":1,"feature_names":["a","b"],)"
      << R"("coefficients":[0.5,-2],"intercept":0.25,"iterations":3,"converged":true,)"
      << R"("objective":1.5,"feature_means":[1],"feature_stds":[1,2]})";
  Status bad = LogisticRegression().LoadWeights(dir);
  EXPECT_EQ(bad.code(), StatusCode::kDataError);
  EXPECT_NE(bad.message().find("logistic.json"), std::string::npos);
}

TEST(LogisticShapTest, ErrorsAsPrediction) {
  LogisticRegression model;
  const FeatureMatrix x{{"a", "b"}, 3, {1, 2, 3, 4, 5, 6}};
  EXPECT_EQ(model.Shap(x).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(model.RawMargin(x).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(model.Importance().status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(model.Fit(x, std::vector<int>{0, 1, 0}).ok());
  FeatureMatrix with_nan = x;
  with_nan.values[1] = std::nan("");
  EXPECT_EQ(model.Shap(with_nan).status().code(), StatusCode::kInvalidArgument);
  FeatureMatrix renamed = x;
  renamed.columns = {"b", "a"};
  EXPECT_EQ(model.Shap(renamed).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil
