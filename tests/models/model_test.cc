#include "vigil/models/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "vigil/models/logistic_regression.h"
#include "vigil/models/ridge_regression.h"
#include "vigil/models/robust_zscore.h"

namespace vigil {
namespace {

TEST(ModelTaskTest, NamesRoundTrip) {
  for (Task task : {Task::kAnomaly, Task::kClassification, Task::kRegression, Task::kForecast}) {
    Result<Task> parsed = ParseTask(TaskName(task));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, task);
  }
  EXPECT_EQ(TaskName(Task::kClassification), "classification");
  Result<Task> bad = ParseTask("clustering");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("clustering"), std::string::npos);
}

TEST(ModelRiskTest, LevelsFollowCutpoints) {
  RiskCutpoints cutpoints;  // 0.25, 0.5, 0.75
  EXPECT_TRUE(cutpoints.Validate().ok());
  EXPECT_EQ(RiskLevelOf(0.0, cutpoints), RiskLevel::kLow);
  EXPECT_EQ(RiskLevelOf(0.2499, cutpoints), RiskLevel::kLow);
  EXPECT_EQ(RiskLevelOf(0.25, cutpoints), RiskLevel::kMedium);
  EXPECT_EQ(RiskLevelOf(0.5, cutpoints), RiskLevel::kHigh);
  EXPECT_EQ(RiskLevelOf(0.75, cutpoints), RiskLevel::kCritical);
  EXPECT_EQ(RiskLevelOf(1.0, cutpoints), RiskLevel::kCritical);
  EXPECT_EQ(RiskLevelName(RiskLevel::kCritical), "critical");
  EXPECT_EQ(RiskLevelName(RiskLevel::kLow), "low");
}

TEST(ModelRiskTest, CutpointsValidation) {
  EXPECT_FALSE((RiskCutpoints{0.5, 0.5, 0.75}).Validate().ok());
  EXPECT_FALSE((RiskCutpoints{0.0, 0.5, 0.75}).Validate().ok());
  EXPECT_FALSE((RiskCutpoints{0.2, 0.5, 1.0}).Validate().ok());
  EXPECT_FALSE((RiskCutpoints{0.6, 0.5, 0.75}).Validate().ok());
  EXPECT_FALSE((RiskCutpoints{std::nan(""), 0.5, 0.75}).Validate().ok());
  EXPECT_TRUE((RiskCutpoints{0.1, 0.2, 0.9}).Validate().ok());
}

TEST(ModelFeatureMatrixTest, FromFrameSelectsColumnsInOrder) {
  Frame frame({{"a", ColumnType::kDouble}, {"n", ColumnType::kInt64}, {"b", ColumnType::kDouble}});
  frame.AppendRow(1, std::vector<double>{1.0, 10.0}, std::vector<int64_t>{7});
  frame.AppendRow(2, std::vector<double>{2.0, 20.0}, std::vector<int64_t>{8});
  Result<FeatureMatrix> x = FeatureMatrix::FromFrame(frame, {"b", "a"});
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  EXPECT_EQ(x->rows, 2);
  EXPECT_EQ(x->columns, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(x->values, (std::vector<double>{10, 1, 20, 2}));
  EXPECT_DOUBLE_EQ(x->at(1, 1), 2.0);
  EXPECT_EQ(x->row(1)[0], 20.0);

  Result<FeatureMatrix> missing = FeatureMatrix::FromFrame(frame, {"a", "zz"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("zz"), std::string::npos);
  EXPECT_FALSE(FeatureMatrix::FromFrame(frame, {"n"}).ok());  // int64 column
}

TEST(ModelFeatureMatrixTest, Validate) {
  FeatureMatrix x{{"a", "b"}, 2, {1, 2, 3, 4}};
  EXPECT_TRUE(x.Validate(false).ok());
  x.values.pop_back();
  EXPECT_FALSE(x.Validate(true).ok());
  x.values.push_back(std::nan(""));
  EXPECT_TRUE(x.Validate(true).ok());
  Status nan = x.Validate(false);
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.message().find("'b'"), std::string::npos) << nan.message();
  x.values[3] = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(x.Validate(true).ok());
}

TEST(ModelFactoryTest, ListsBuiltinKinds) {
  const auto kinds = ModelKinds();
  auto find = [&](const std::string& name) -> const std::pair<std::string, Task>* {
    for (const auto& kind : kinds) {
      if (kind.first == name) return &kind;
    }
    return nullptr;
  };
  ASSERT_NE(find("logistic"), nullptr);
  EXPECT_EQ(find("logistic")->second, Task::kClassification);
  ASSERT_NE(find("ridge"), nullptr);
  EXPECT_EQ(find("ridge")->second, Task::kRegression);
  ASSERT_NE(find("zscore"), nullptr);
  EXPECT_EQ(find("zscore")->second, Task::kAnomaly);
  EXPECT_TRUE(std::is_sorted(kinds.begin(), kinds.end()));
}

TEST(ModelFactoryTest, CreatesKindsWithDefaults) {
  Result<std::unique_ptr<Model>> model = CreateModel("logistic", nlohmann::json::object());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->kind(), "logistic");
  EXPECT_FALSE((*model)->fitted());
  EXPECT_TRUE((*model)->feature_names().empty());
  EXPECT_EQ((*model)->config()["C"], 1.0);
  Result<std::unique_ptr<Model>> null_config = CreateModel("zscore", nullptr);
  ASSERT_TRUE(null_config.ok());
  EXPECT_EQ((*null_config)->config()["combine"], "max");
}

TEST(ModelFactoryTest, UnknownKindListsKnownOnes) {
  Result<std::unique_ptr<Model>> model = CreateModel("xgboost9", {});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  const std::string& message = model.status().message();
  EXPECT_NE(message.find("xgboost9"), std::string::npos);
  EXPECT_NE(message.find("logistic"), std::string::npos);
  EXPECT_NE(message.find("ridge"), std::string::npos);
  EXPECT_NE(message.find("zscore"), std::string::npos);
}

TEST(ModelFactoryTest, BadConfigNamesKindAndKey) {
  Result<std::unique_ptr<Model>> unknown_key = CreateModel("logistic", {{"l2", 1.0}});
  ASSERT_FALSE(unknown_key.ok());
  EXPECT_EQ(unknown_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown_key.status().message().find("'logistic'"), std::string::npos);
  EXPECT_NE(unknown_key.status().message().find("'l2'"), std::string::npos);

  Result<std::unique_ptr<Model>> bad_value = CreateModel("logistic", {{"C", -1.0}});
  ASSERT_FALSE(bad_value.ok());
  EXPECT_NE(bad_value.status().message().find("'C'"), std::string::npos);
  EXPECT_FALSE(CreateModel("logistic", {{"C", "big"}}).ok());
  EXPECT_FALSE(CreateModel("logistic", {{"max_iter", 2.5}}).ok());
  EXPECT_FALSE(CreateModel("logistic", {{"class_weight", "auto"}}).ok());
  EXPECT_FALSE(CreateModel("logistic", nlohmann::json::array()).ok());

  Result<std::unique_ptr<Model>> zscore = CreateModel("zscore", {{"contamination", 0.7}});
  ASSERT_FALSE(zscore.ok());
  EXPECT_NE(zscore.status().message().find("'contamination'"), std::string::npos);
  EXPECT_FALSE(CreateModel("zscore", {{"combine", "sum"}}).ok());
  EXPECT_FALSE(CreateModel("zscore", {{"threshold_score", 40}}).ok());
}

TEST(ModelFactoryTest, RegisterRejectsDuplicates) {
  auto factory = [](const nlohmann::json&) -> Result<std::unique_ptr<Model>> {
    return std::unique_ptr<Model>(std::make_unique<RobustZscore>());
  };
  Status duplicate = RegisterModelKind("logistic", Task::kClassification, factory);
  EXPECT_EQ(duplicate.code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(RegisterModelKind("model_test_zscore_alias", Task::kAnomaly, factory).ok());
  EXPECT_EQ(RegisterModelKind("model_test_zscore_alias", Task::kAnomaly, factory).code(),
            StatusCode::kAlreadyExists);
  Result<std::unique_ptr<Model>> alias = CreateModel("model_test_zscore_alias", {});
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ((*alias)->kind(), "zscore");
  EXPECT_FALSE(RegisterModelKind("", Task::kAnomaly, factory).ok());
  EXPECT_FALSE(RegisterModelKind("model_test_empty", Task::kAnomaly, nullptr).ok());
}

TEST(ModelDowncastTest, ByTask) {
  LogisticRegression logistic;
  RidgeRegression ridge;
  RobustZscore zscore;
  EXPECT_EQ(AsClassifier(&logistic), &logistic);
  EXPECT_EQ(AsAnomalyDetector(&logistic), nullptr);
  EXPECT_EQ(AsRegressor(&logistic), nullptr);
  EXPECT_EQ(AsForecaster(&logistic), nullptr);
  EXPECT_EQ(AsAnomalyDetector(&zscore), &zscore);
  EXPECT_EQ(AsClassifier(&zscore), nullptr);
  EXPECT_EQ(AsRegressor(&ridge), &ridge);
  EXPECT_EQ(AsClassifier(&ridge), nullptr);
  EXPECT_EQ(AsAnomalyDetector(&ridge), nullptr);
  EXPECT_EQ(AsClassifier(static_cast<Model*>(nullptr)), nullptr);
  // The const overloads return the same objects.
  const Model& const_logistic = logistic;
  EXPECT_EQ(AsClassifier(&const_logistic), &logistic);
  EXPECT_EQ(AsAnomalyDetector(&const_logistic), nullptr);
  EXPECT_EQ(AsClassifier(static_cast<const Model*>(nullptr)), nullptr);
  const Model& const_ridge = ridge;
  EXPECT_EQ(AsRegressor(&const_ridge), &ridge);
  EXPECT_EQ(AsForecaster(&const_ridge), nullptr);
}

}  // namespace
}  // namespace vigil
