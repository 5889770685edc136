#include "vigil/models/ridge_regression.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "models/sklearn_linear_cases.h"
#include "vigil/core/text_file.h"

namespace vigil {
namespace {

// scikit-learn's direct solver and Vigil's solve the same normal equations; only the
// rounding differs.
constexpr double kSklearnRelativeTolerance = 1e-9;

// One case of tests/testdata/models/sklearn_ridge.json
// (written by scripts/fixtures/sklearn_ridge.py), with scikit-learn's predictions.
struct SklearnCase : testing_util::SklearnLinearCase {
  std::vector<double> predict;
};

std::vector<SklearnCase> LoadSklearnCases() {
  std::vector<SklearnCase> cases;
  for (testing_util::SklearnLinearCase& linear :
       testing_util::LoadSklearnLinearCases("sklearn_ridge.json")) {
    std::vector<double> predict = linear.item.at("predict").get<std::vector<double>>();
    cases.push_back(SklearnCase{std::move(linear), std::move(predict)});
  }
  return cases;
}

std::unique_ptr<RidgeRegression> FromParams(const nlohmann::json& params) {
  Result<RidgeRegressionOptions> options = RidgeRegressionOptions::FromJson(params);
  EXPECT_TRUE(options.ok()) << options.status().ToString();
  return std::make_unique<RidgeRegression>(options.value_or({}));
}

double RelativeDeviation(double value, double reference) {
  if (value == reference) return 0.0;
  return std::abs(value - reference) / std::abs(reference);
}

double MaxRelativeDeviation(std::span<const double> values, std::span<const double> reference) {
  double worst = 0.0;
  for (size_t i = 0; i < values.size(); ++i) {
    worst = std::max(worst, RelativeDeviation(values[i], reference[i]));
  }
  return worst;
}

// Seeded three-feature data: a linear target plus noise.
void MakeData(int64_t n, uint32_t seed, FeatureMatrix* x, std::vector<double>* y) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  x->columns = {"spread", "funding", "basis"};
  x->rows = n;
  x->values.clear();
  y->clear();
  for (int64_t row = 0; row < n; ++row) {
    const double a = normal(rng), b = normal(rng), c = normal(rng);
    x->values.insert(x->values.end(), {a, b, c});
    y->push_back(0.4 + 1.5 * a - 0.5 * b + 0.1 * c + 0.3 * normal(rng));
  }
}

std::filesystem::path FreshDir(const std::string& name) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("vigil_ridge_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(RidgeSklearnTest, MatchesScikitLearn) {
  const std::vector<SklearnCase> cases = LoadSklearnCases();
  ASSERT_EQ(cases.size(), 7u);
  for (const SklearnCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto model = FromParams(c.params);
    ASSERT_TRUE(model->Fit(c.x, c.y, c.weights).ok());
    const double coef = MaxRelativeDeviation(model->coefficients(), c.coef);
    const double intercept = RelativeDeviation(model->intercept(), c.intercept);
    Result<std::vector<double>> predicted = model->Predict(c.x);
    ASSERT_TRUE(predicted.ok()) << predicted.status().ToString();
    const double predict = MaxRelativeDeviation(*predicted, c.predict);
    RecordProperty(c.name + "_coef", nlohmann::json(coef).dump());
    RecordProperty(c.name + "_intercept", nlohmann::json(intercept).dump());
    RecordProperty(c.name + "_predict", nlohmann::json(predict).dump());
    EXPECT_LE(coef, kSklearnRelativeTolerance);
    EXPECT_LE(intercept, kSklearnRelativeTolerance);
    EXPECT_LE(predict, kSklearnRelativeTolerance);
    if (!c.params.value("fit_intercept", true)) {
      EXPECT_EQ(model->intercept(), 0.0);
    }

    // Vigil's optimum is at least as good as scikit-learn's under the shared objective (up
    // to the rounding of evaluating it), and Objective agrees with the fit's own value.
    Result<double> sklearn_objective = model->Objective(c.x, c.y, c.weights, c.coef, c.intercept);
    ASSERT_TRUE(sklearn_objective.ok());
    EXPECT_LE(model->objective(), *sklearn_objective * (1 + 1e-12));
    Result<double> own =
        model->Objective(c.x, c.y, c.weights, model->coefficients(), model->intercept());
    ASSERT_TRUE(own.ok());
    EXPECT_NEAR(*own, model->objective(), 1e-12 * model->objective());
    if (!c.params.value("standardize", false)) {
      EXPECT_EQ(*own, model->objective());
    }
  }
}

TEST(RidgeRegressionTest, FactoryBuildsARegressor) {
  Result<std::unique_ptr<Model>> model = CreateModel("ridge", {{"alpha", 0.5}});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->kind(), "ridge");
  EXPECT_EQ((*model)->task(), Task::kRegression);
  EXPECT_EQ(AsClassifier(model->get()), nullptr);
  Regressor* regressor = AsRegressor(model->get());
  ASSERT_NE(regressor, nullptr);
  EXPECT_EQ((*model)->config(),
            (nlohmann::json{{"alpha", 0.5}, {"fit_intercept", true}, {"standardize", false}}));

  FeatureMatrix x;
  std::vector<double> y;
  MakeData(200, 1, &x, &y);
  ASSERT_TRUE(regressor->Fit(x, y).ok());
  EXPECT_TRUE((*model)->fitted());
  EXPECT_EQ((*model)->feature_names(), x.columns);
  RidgeRegression direct(RidgeRegressionOptions{.alpha = 0.5});
  ASSERT_TRUE(direct.Fit(x, y).ok());
  Result<std::vector<double>> a = regressor->Predict(x);
  Result<std::vector<double>> b = direct.Predict(x);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  ASSERT_EQ(a->size(), 200u);
  EXPECT_NEAR(direct.coefficients()[0], 1.5, 0.1);
  EXPECT_NEAR(direct.intercept(), 0.4, 0.1);

  Result<std::unique_ptr<Model>> defaults = CreateModel("ridge", nullptr);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ((*defaults)->config()["alpha"], 1.0);
}

TEST(RidgeRegressionTest, ZeroWeightRowsAreDropped) {
  FeatureMatrix x;
  std::vector<double> y;
  MakeData(100, 3, &x, &y);
  std::vector<double> weights(100, 1.0);
  for (int row = 50; row < 100; ++row) weights[row] = 0.0;
  RidgeRegression weighted;
  ASSERT_TRUE(weighted.Fit(x, y, weights).ok());
  FeatureMatrix head{x.columns, 50, std::vector<double>(x.values.begin(), x.values.begin() + 150)};
  RidgeRegression plain;
  ASSERT_TRUE(plain.Fit(head, std::span<const double>(y).first(50)).ok());
  for (size_t col = 0; col < 3; ++col) {
    EXPECT_NEAR(weighted.coefficients()[col], plain.coefficients()[col], 1e-12);
  }
  EXPECT_NEAR(weighted.intercept(), plain.intercept(), 1e-12);
}

TEST(RidgeRegressionTest, IntegerWeightsEqualRepeatedRows) {
  FeatureMatrix x;
  std::vector<double> y;
  MakeData(60, 7, &x, &y);
  std::vector<double> weights(60, 1.0);
  FeatureMatrix repeated = x;
  std::vector<double> repeated_y = y;
  for (int64_t row = 0; row < 60; row += 3) {
    weights[row] = 3.0;  // the row twice more
    for (int copy = 0; copy < 2; ++copy) {
      const auto values = x.row(row);
      repeated.values.insert(repeated.values.end(), values.begin(), values.end());
      repeated_y.push_back(y[row]);
      ++repeated.rows;
    }
  }
  RidgeRegression weighted(RidgeRegressionOptions{.alpha = 2.0});
  RidgeRegression plain(RidgeRegressionOptions{.alpha = 2.0});
  ASSERT_TRUE(weighted.Fit(x, y, weights).ok());
  ASSERT_TRUE(plain.Fit(repeated, repeated_y).ok());
  for (size_t col = 0; col < 3; ++col) {
    EXPECT_NEAR(weighted.coefficients()[col], plain.coefficients()[col], 1e-12);
  }
  EXPECT_NEAR(weighted.intercept(), plain.intercept(), 1e-12);
  EXPECT_NEAR(weighted.objective(), plain.objective(), 1e-10);
}

TEST(RidgeRegressionTest, StandardizeIsInvariantToColumnUnits) {
  FeatureMatrix x;
  std::vector<double> y;
  MakeData(150, 11, &x, &y);
  FeatureMatrix rescaled = x;
  for (int64_t row = 0; row < x.rows; ++row) {
    rescaled.values[row * 3] = 1000.0 * x.at(row, 0) + 42000.0;  // same feature, other units
  }
  RidgeRegressionOptions options{.alpha = 10.0, .standardize = true};
  RidgeRegression original(options);
  RidgeRegression in_other_units(options);
  ASSERT_TRUE(original.Fit(x, y).ok());
  ASSERT_TRUE(in_other_units.Fit(rescaled, y).ok());
  EXPECT_NEAR(in_other_units.coefficients()[0] * 1000.0, original.coefficients()[0], 1e-10);
  EXPECT_NEAR(in_other_units.coefficients()[1], original.coefficients()[1], 1e-10);
  Result<std::vector<double>> a = original.Predict(x);
  Result<std::vector<double>> b = in_other_units.Predict(rescaled);
  ASSERT_TRUE(a.ok() && b.ok());
  for (int64_t row = 0; row < x.rows; ++row) EXPECT_NEAR((*a)[row], (*b)[row], 1e-9);

  // Without standardize the penalty is not unit-free: the coefficient differs.
  RidgeRegression raw(RidgeRegressionOptions{.alpha = 10.0});
  RidgeRegression raw_other_units(RidgeRegressionOptions{.alpha = 10.0});
  ASSERT_TRUE(raw.Fit(x, y).ok());
  ASSERT_TRUE(raw_other_units.Fit(rescaled, y).ok());
  EXPECT_GT(std::abs(raw_other_units.coefficients()[0] * 1000.0 - raw.coefficients()[0]), 0.01);
}

TEST(RidgeRegressionTest, InterceptOnlyWithoutFeatures) {
  FeatureMatrix none{{}, 4, {}};
  const std::vector<double> y{1, 2, 3, 10};
  RidgeRegression model;
  ASSERT_TRUE(model.Fit(none, y, std::vector<double>{1, 1, 1, 0}).ok());
  EXPECT_DOUBLE_EQ(model.intercept(), 2.0);  // the weighted mean
  Result<std::vector<double>> predicted = model.Predict(FeatureMatrix{{}, 2, {}});
  ASSERT_TRUE(predicted.ok());
  EXPECT_EQ(*predicted, (std::vector<double>{2.0, 2.0}));
  RidgeRegression no_intercept(RidgeRegressionOptions{.fit_intercept = false});
  EXPECT_EQ(no_intercept.Fit(none, y).code(), StatusCode::kInvalidArgument);
}

TEST(RidgeRegressionTest, SaveLoadIsBitIdentical) {
  FeatureMatrix x;
  std::vector<double> y;
  MakeData(300, 5, &x, &y);
  for (int64_t row = 0; row < x.rows; ++row) x.values[row * 3 + 1] *= 1e-3;  // tiny column
  RidgeRegression model(RidgeRegressionOptions{.alpha = 0.7, .standardize = true});
  ASSERT_TRUE(model.Fit(x, y).ok());
  const auto dir = FreshDir("roundtrip");
  ASSERT_TRUE(model.SaveWeights(dir).ok());
  ASSERT_TRUE(std::filesystem::exists(dir / "ridge.json"));

  Result<std::unique_ptr<Model>> loaded = CreateModel("ridge", model.config());
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE((*loaded)->LoadWeights(dir).ok());
  EXPECT_TRUE((*loaded)->fitted());
  EXPECT_EQ((*loaded)->feature_names(), x.columns);
  EXPECT_EQ((*loaded)->Describe(), model.Describe());
  Result<std::vector<double>> a = model.Predict(x);
  Result<std::vector<double>> b = AsRegressor(loaded->get())->Predict(x);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);  // bit for bit
}

TEST(RidgeRegressionTest, ConfigRoundTripFitsIdentically) {
  FeatureMatrix x;
  std::vector<double> y;
  MakeData(200, 9, &x, &y);
  RidgeRegression model(
      RidgeRegressionOptions{.alpha = 3.0, .fit_intercept = false, .standardize = true});
  ASSERT_TRUE(model.Fit(x, y).ok());
  const nlohmann::json config = model.config();
  EXPECT_EQ(config["alpha"], 3.0);
  EXPECT_EQ(config["fit_intercept"], false);
  EXPECT_EQ(config["standardize"], true);
  Result<std::unique_ptr<Model>> rebuilt = CreateModel("ridge", config);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ((*rebuilt)->config(), config);
  ASSERT_TRUE(AsRegressor(rebuilt->get())->Fit(x, y).ok());
  EXPECT_EQ((*rebuilt)->Describe(), model.Describe());
  EXPECT_EQ(model.intercept(), 0.0);
}

TEST(RidgeRegressionTest, DescribeNamesCoefficients) {
  FeatureMatrix x;
  std::vector<double> y;
  MakeData(100, 4, &x, &y);
  RidgeRegression model;
  EXPECT_EQ(model.Describe()["fitted"], false);
  ASSERT_TRUE(model.Fit(x, y).ok());
  const nlohmann::json summary = model.Describe();
  EXPECT_EQ(summary["kind"], "ridge");
  EXPECT_EQ(summary["fitted"], true);
  EXPECT_EQ(summary["coefficients"]["spread"], model.coefficients()[0]);
  EXPECT_EQ(summary["coefficients"]["funding"], model.coefficients()[1]);
  EXPECT_EQ(summary["coefficients"]["basis"], model.coefficients()[2]);
  EXPECT_GT(model.coefficients()[0], 0);
  EXPECT_LT(model.coefficients()[1], 0);
  EXPECT_EQ(summary["intercept"], model.intercept());
  EXPECT_EQ(summary["objective"], model.objective());
}

TEST(RidgeRegressionTest, ConfigErrorsNameTheKey) {
  Result<std::unique_ptr<Model>> unknown = CreateModel("ridge", {{"lambda", 1.0}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("'ridge'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("'lambda'"), std::string::npos);

  Result<std::unique_ptr<Model>> negative = CreateModel("ridge", {{"alpha", -0.1}});
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(negative.status().message().find("'alpha'"), std::string::npos);
  EXPECT_FALSE(CreateModel("ridge", {{"alpha", "big"}}).ok());
  EXPECT_FALSE(CreateModel("ridge", {{"fit_intercept", 1}}).ok());
  EXPECT_FALSE(CreateModel("ridge", {{"standardize", "yes"}}).ok());
  EXPECT_FALSE(CreateModel("ridge", nlohmann::json::array()).ok());
  EXPECT_TRUE(CreateModel("ridge", {{"alpha", 0}}).ok());

  RidgeRegression invalid(RidgeRegressionOptions{.alpha = -1.0});
  FeatureMatrix x{{"a"}, 2, {1, 2}};
  EXPECT_EQ(invalid.Fit(x, std::vector<double>{1, 2}).code(), StatusCode::kInvalidArgument);
}

TEST(RidgeRegressionTest, InputErrors) {
  FeatureMatrix x{{"a", "b"}, 3, {1, 2, 3, 5, 5, 6}};
  const std::vector<double> y{0.5, 1.5, 2.0};
  RidgeRegression model;
  EXPECT_EQ(model.Predict(x).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(model.SaveWeights(FreshDir("unfitted")).code(), StatusCode::kFailedPrecondition);

  FeatureMatrix with_nan = x;
  with_nan.values[2] = std::nan("");
  Status nan_fit = model.Fit(with_nan, y);
  EXPECT_EQ(nan_fit.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nan_fit.message().find("'a'"), std::string::npos) << nan_fit.message();
  EXPECT_FALSE(model.Fit(x, std::vector<double>{0, std::nan("")}).ok());
  EXPECT_FALSE(model.Fit(x, std::vector<double>{0, std::nan(""), 1}).ok());
  EXPECT_FALSE(model.Fit(x, y, std::vector<double>{1, -1, 1}).ok());
  EXPECT_FALSE(model.Fit(x, y, std::vector<double>{1, std::nan(""), 1}).ok());
  EXPECT_FALSE(model.Fit(x, y, std::vector<double>{1, 1}).ok());
  EXPECT_FALSE(model.Fit(x, y, std::vector<double>{0, 0, 0}).ok());
  EXPECT_FALSE(model.Fit(FeatureMatrix{{"a"}, 0, {}}, {}).ok());
  EXPECT_FALSE(model.Fit(FeatureMatrix{{"a"}, 2, {1}}, std::vector<double>{1, 2}).ok());
  EXPECT_FALSE(model.fitted());

  ASSERT_TRUE(model.Fit(x, y).ok());
  const std::vector<double> fitted = model.coefficients();
  EXPECT_FALSE(model.Fit(with_nan, y).ok());
  EXPECT_EQ(model.coefficients(), fitted);  // a failed Fit leaves the model as it was
  EXPECT_EQ(model.Predict(with_nan).status().code(), StatusCode::kInvalidArgument);
  FeatureMatrix renamed = x;
  renamed.columns = {"b", "a"};
  Result<std::vector<double>> mismatch = model.Predict(renamed);
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.status().message().find("'b'"), std::string::npos);
  EXPECT_FALSE(model.Predict(FeatureMatrix{{"a"}, 1, {1}}).ok());
}

TEST(RidgeRegressionTest, SingularAlphaZeroFailsNamingTheColumn) {
  FeatureMatrix x;
  std::vector<double> y;
  MakeData(50, 2, &x, &y);
  RidgeRegression ols(RidgeRegressionOptions{.alpha = 0.0});
  ASSERT_TRUE(ols.Fit(x, y).ok());  // independent columns: fine

  auto with_column = [&](auto value_of_row) {
    FeatureMatrix out{{"spread", "funding", "basis", "extra"}, x.rows, {}};
    for (int64_t row = 0; row < x.rows; ++row) {
      const auto values = x.row(row);
      out.values.insert(out.values.end(), values.begin(), values.end());
      out.values.push_back(value_of_row(row));
    }
    return out;
  };
  const FeatureMatrix duplicate = with_column([&](int64_t row) { return x.at(row, 1); });
  const FeatureMatrix constant = with_column([](int64_t) { return 7.0; });
  const FeatureMatrix combination =
      with_column([&](int64_t row) { return 0.3 * x.at(row, 0) - 1.7 * x.at(row, 2); });
  for (const FeatureMatrix* singular : {&duplicate, &constant, &combination}) {
    Status status = ols.Fit(*singular, y);
    ASSERT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("alpha = 0"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("singular"), std::string::npos) << status.message();
  }
  EXPECT_NE(ols.Fit(constant, y).message().find("'extra'"), std::string::npos);
  EXPECT_EQ(ols.coefficients().size(), 3u);  // still the first fit

  // More features than weighted rows is singular too.
  FeatureMatrix wide{{"a", "b", "c"}, 2, {1, 2, 3, 4, 5, 7}};
  EXPECT_FALSE(ols.Fit(wide, std::vector<double>{1, 2}).ok());

  // Without an intercept a constant column is the intercept: not singular.
  RidgeRegression ols_through_origin(RidgeRegressionOptions{.alpha = 0.0, .fit_intercept = false});
  EXPECT_TRUE(ols_through_origin.Fit(constant, y).ok());

  // Any alpha > 0 regularises every one of them.
  RidgeRegression ridge(RidgeRegressionOptions{.alpha = 1e-3});
  for (const FeatureMatrix* singular : {&duplicate, &constant, &combination}) {
    ASSERT_TRUE(ridge.Fit(*singular, y).ok());
    for (double w : ridge.coefficients()) EXPECT_TRUE(std::isfinite(w));
  }
  ASSERT_TRUE(ridge.Fit(duplicate, y).ok());
  EXPECT_NEAR(ridge.coefficients()[1], ridge.coefficients()[3], 1e-9);  // split evenly
}

TEST(RidgeRegressionTest, LoadWeightsErrorsNameTheFile) {
  RidgeRegression model;
  const auto dir = FreshDir("corrupt");
  Status missing = model.LoadWeights(dir);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("ridge.json"), std::string::npos);
  std::ofstream(dir / "ridge.json") << "{not json";
  Status corrupt = model.LoadWeights(dir);
  EXPECT_EQ(corrupt.code(), StatusCode::kDataError);
  EXPECT_NE(corrupt.message().find("ridge.json"), std::string::npos);
  std::ofstream(dir / "ridge.json", std::ios::trunc)
      << R"({"format":"vigil.ridge","version":1,"feature_names":["a"],"coefficients":[1,2],)"
      << R"("intercept":0,"objective":1})";
  Status mismatch = model.LoadWeights(dir);
  EXPECT_EQ(mismatch.code(), StatusCode::kDataError);
  EXPECT_NE(mismatch.message().find("ridge.json"), std::string::npos);
  std::ofstream(dir / "ridge.json", std::ios::trunc)
      << R"({"format":"vigil.logistic","version":1,"feature_names":["a"],"coefficients":[1],)"
      << R"("intercept":0,"objective":1})";
  EXPECT_EQ(model.LoadWeights(dir).code(), StatusCode::kDataError);
  std::ofstream(dir / "ridge.json", std::ios::trunc)
      << R"({"format":"vigil.ridge","version":1,"feature_names":["a"],"coefficients":[1],)"
      << R"("intercept":0.5,"objective":1})";
  RidgeRegression no_intercept(RidgeRegressionOptions{.fit_intercept = false});
  EXPECT_EQ(no_intercept.LoadWeights(dir).code(), StatusCode::kDataError);
  EXPECT_FALSE(model.fitted());
  EXPECT_FALSE(no_intercept.fitted());
  ASSERT_TRUE(model.LoadWeights(dir).ok());
  Result<std::vector<double>> predicted = model.Predict(FeatureMatrix{{"a"}, 1, {2.0}});
  ASSERT_TRUE(predicted.ok());
  EXPECT_EQ(*predicted, std::vector<double>{2.5});
}

// Exact linear SHAP for the regression baseline: contributions w_j (x_j - mean_j) with the
// weighted training means, bias b + sum_j w_j mean_j, summing to the prediction.
TEST(RidgeShapTest, AdditiveAndExact) {
  FeatureMatrix x;
  std::vector<double> y;
  MakeData(120, 31, &x, &y);
  std::vector<double> weights(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) weights[row] = row % 3 == 0 ? 0.0 : 1.0 + row % 5;
  RidgeRegression model(RidgeRegressionOptions{.alpha = 0.5, .standardize = true});
  ASSERT_TRUE(model.Fit(x, y, weights).ok());
  std::vector<double> mean(3, 0.0);
  double total = 0;
  for (int64_t row = 0; row < x.rows; ++row) {
    total += weights[row];
    for (int col = 0; col < 3; ++col) mean[col] += weights[row] * x.at(row, col);
  }
  for (double& m : mean) m /= total;
  const ExplainableModel* explainable = AsExplainable(&model);
  ASSERT_NE(explainable, nullptr);
  Result<Attributions> shap = explainable->Shap(x);
  Result<std::vector<double>> margin = explainable->RawMargin(x);
  Result<std::vector<double>> predicted = model.Predict(x);
  ASSERT_TRUE(shap.ok() && margin.ok() && predicted.ok());
  EXPECT_EQ(*margin, *predicted);
  double bias = model.intercept();
  for (int col = 0; col < 3; ++col) bias += model.coefficients()[col] * mean[col];
  for (int64_t row = 0; row < x.rows; ++row) {
    double sum = 0;
    for (int col = 0; col < 3; ++col) {
      EXPECT_NEAR(shap->at(row, 0, col), model.coefficients()[col] * (x.at(row, col) - mean[col]),
                  1e-12);
      sum += shap->at(row, 0, col);
    }
    EXPECT_NEAR(shap->at(row, 0, 3), bias, 1e-12);
    EXPECT_NEAR(sum + shap->at(row, 0, 3), (*margin)[row], 1e-12);
  }
  // Averaged over the (weighted) training rows the contributions vanish: the bias is the
  // expected prediction.
  for (int col = 0; col < 3; ++col) {
    double weighted = 0;
    for (int64_t row = 0; row < x.rows; ++row) weighted += weights[row] * shap->at(row, 0, col);
    EXPECT_NEAR(weighted / total, 0.0, 1e-12);
  }
  Result<FeatureImportance> importance = explainable->Importance();
  ASSERT_TRUE(importance.ok());
  for (int col = 0; col < 3; ++col) {
    EXPECT_EQ(importance->by_method.at("coefficient_abs")[col],
              std::abs(model.coefficients()[col]));
    EXPECT_EQ(importance->by_method.at("standardized")[col],
              std::abs(model.coefficients()[col]) * model.feature_stds()[col]);
  }
}

TEST(RidgeShapTest, SaveLoadKeepsExplainabilityAndOldFilesCannotExplain) {
  FeatureMatrix x;
  std::vector<double> y;
  MakeData(80, 32, &x, &y);
  RidgeRegression model;
  ASSERT_TRUE(model.Fit(x, y).ok());
  const auto dir = FreshDir("shap_roundtrip");
  ASSERT_TRUE(model.SaveWeights(dir).ok());
  RidgeRegression loaded;
  ASSERT_TRUE(loaded.LoadWeights(dir).ok());
  Result<Attributions> a = model.Shap(x);
  Result<Attributions> b = loaded.Shap(x);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->values, b->values);

  std::ofstream(dir / "ridge.json", std::ios::trunc)
      << R"({"format":"vigil.ridge","version":1,"feature_names":["a"],"coefficients":[2],)"
      << R"("intercept":0.5,"objective":1})";
  RidgeRegression old;
  ASSERT_TRUE(old.LoadWeights(dir).ok());
  const FeatureMatrix one{{"a"}, 1, {3.0}};
  EXPECT_EQ(*old.RawMargin(one), std::vector<double>{6.5});
  Status shap = old.Shap(one).status();
  EXPECT_EQ(shap.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(shap.message().find("refit to explain"), std::string::npos);
  EXPECT_EQ(old.Importance()->by_method.count("standardized"), 0u);
}

TEST(RidgeShapTest, InterceptOnlyModelExplainsItsBias) {
  RidgeRegression model;
  const FeatureMatrix none{{}, 3, {}};
  ASSERT_TRUE(model.Fit(none, std::vector<double>{1, 2, 6}).ok());
  Result<Attributions> shap = model.Shap(none);
  ASSERT_TRUE(shap.ok()) << shap.status().ToString();
  ASSERT_EQ(shap->values.size(), 3u);
  for (double bias : shap->values) EXPECT_DOUBLE_EQ(bias, 3.0);
}

}  // namespace
}  // namespace vigil
