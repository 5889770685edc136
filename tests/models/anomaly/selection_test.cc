// Model selection for anomaly detectors (anomaly/selection.h): PR-AUC on labeled
// validation rows, the ensemble fallback, the silhouette option, and failing candidates.
// Candidate lists are explicit (zscore, ecod and deliberately broken entries) so the tests
// hold whichever other kinds are built.
#include "vigil/models/anomaly/selection.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "anomaly_test_data.h"
#include "vigil/models/metrics.h"

namespace vigil {
namespace {

using namespace anomaly_test_data;  // NOLINT(google-build-using-namespace)

struct Labeled {
  FeatureMatrix x;
  std::vector<int> labels;
};

// Validation rows where every 25th row gets a large shift in one feature.
Labeled LabeledValidation(uint64_t seed) {
  Labeled out{NormalData(500, 3, seed), std::vector<int>(500, 0)};
  for (int64_t row = 0; row < out.x.rows; row += 25) {
    out.x.values[row * 3 + row % 3] += 6.0;
    out.labels[row] = 1;
  }
  return out;
}

std::vector<SelectionCandidate> Candidates(
    std::vector<std::pair<std::string, nlohmann::json>> list) {
  std::vector<SelectionCandidate> out;
  for (auto& [kind, config] : list) out.push_back({kind, config});
  return out;
}

TEST(SelectionTest, PrAucPicksTheBestCandidateAndRecordsFailures) {
  const FeatureMatrix train = NormalData(1000, 3, 1);
  const Labeled validation = LabeledValidation(2);
  SelectionOptions options;
  options.candidates = Candidates({{"no_such_kind", nlohmann::json::object()},
                                   {"zscore", {{"contamination", 0.05}}},
                                   {"ecod", nlohmann::json::object()},
                                   {"zscore", {{"contamination", 3}}},
                                   {"logistic", nlohmann::json::object()}});
  Result<SelectionResult> result =
      SelectDetector(train, {&validation.x, validation.labels}, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->method, SelectionMethod::kPrAuc);
  ASSERT_EQ(result->candidates.size(), 5u);
  EXPECT_FALSE(result->candidates[0].ok());
  EXPECT_FALSE(result->candidates[3].ok());
  EXPECT_NE(result->candidates[3].error.find("contamination"), std::string::npos);
  EXPECT_FALSE(result->candidates[4].ok());
  EXPECT_FALSE(result->candidates[0].metric.has_value());

  // Each successful metric is the average precision of that candidate's validation scores.
  double best = -1.0;
  std::string best_kind;
  for (size_t i : {1u, 2u}) {
    const CandidateOutcome& outcome = result->candidates[i];
    ASSERT_TRUE(outcome.ok()) << outcome.error;
    ASSERT_TRUE(outcome.metric.has_value());
    Result<std::unique_ptr<Model>> model = CreateModel(outcome.kind, outcome.config);
    ASSERT_TRUE(model.ok());
    AnomalyDetector* detector = AsAnomalyDetector(model->get());
    ASSERT_TRUE(detector->Fit(train).ok());
    Result<AnomalyScores> scores = detector->Score(validation.x);
    ASSERT_TRUE(scores.ok());
    Result<double> ap = AveragePrecision(validation.labels, scores->raw);
    ASSERT_TRUE(ap.ok());
    EXPECT_EQ(*outcome.metric, *ap) << outcome.kind;
    EXPECT_GT(*ap, 0.5) << outcome.kind;  // the shifted rows are easy to find
    if (*ap > best) best = *ap, best_kind = outcome.kind;
  }
  EXPECT_EQ(result->kind, best_kind);
  EXPECT_EQ(result->config, result->candidates[best_kind == "zscore" ? 1 : 2].config);

  const nlohmann::json json = result->ToJson();
  EXPECT_EQ(json["method"], "pr_auc");
  EXPECT_TRUE(json["candidates"][0]["metric"].is_null());
  EXPECT_TRUE(json["candidates"][0]["error"].is_string());
  EXPECT_TRUE(json["candidates"][1]["error"].is_null());

  Result<std::unique_ptr<Model>> fitted = FitSelectedDetector(*result, train);
  ASSERT_TRUE(fitted.ok()) << fitted.status().ToString();
  EXPECT_EQ((*fitted)->kind(), best_kind);
  EXPECT_TRUE((*fitted)->fitted());
}

TEST(SelectionTest, TiesGoToTheEarlierCandidate) {
  // The contamination changes the flags, not the raw scores, so both tie exactly.
  SelectionOptions options;
  options.candidates =
      Candidates({{"ecod", {{"contamination", 0.1}}}, {"ecod", {{"contamination", "auto"}}}});
  const Labeled validation = LabeledValidation(3);
  Result<SelectionResult> result =
      SelectDetector(NormalData(300, 3, 4), {&validation.x, validation.labels}, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->candidates[0].metric, result->candidates[1].metric);
  EXPECT_EQ(result->config["contamination"], 0.1);
}

TEST(SelectionTest, WithoutLabelsTheResultIsAnEnsembleOfTheCandidatesThatFit) {
  const FeatureMatrix train = NormalData(400, 2, 5);
  SelectionOptions options;
  options.candidates = Candidates({{"zscore", {{"contamination", 0.02}}},
                                   {"no_such_kind", nlohmann::json::object()},
                                   {"ecod", nlohmann::json::object()}});
  options.seed = 11;
  Result<SelectionResult> result = SelectDetector(train, {}, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->method, SelectionMethod::kEnsemble);
  EXPECT_EQ(result->kind, "ensemble");
  const nlohmann::json& members = result->config["members"];
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0]["kind"], "zscore");
  EXPECT_EQ(members[0]["params"]["contamination"], 0.02);
  EXPECT_EQ(members[1]["kind"], "ecod");
  EXPECT_EQ(result->config["seed"], 11);
  for (const CandidateOutcome& outcome : result->candidates)
    EXPECT_FALSE(outcome.metric.has_value());
  EXPECT_FALSE(result->candidates[1].ok());

  Result<std::unique_ptr<Model>> fitted = FitSelectedDetector(*result, train);
  ASSERT_TRUE(fitted.ok()) << fitted.status().ToString();
  EXPECT_EQ((*fitted)->Describe()["members"].size(), 2u);
}

TEST(SelectionTest, TwoGroupSilhouetteByHand) {
  // 1-D points 0, 1, 10 in groups {0, 1} and {10}:
  // row 0: a = 1, b = 10 -> 0.9; row 1: a = 1, b = 9 -> 8/9; row 2 is alone -> 0.
  const FeatureMatrix x{{"v"}, 3, {0, 1, 10}};
  Result<double> s = TwoGroupSilhouette(x, {false, false, true});
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(*s, (0.9 + 8.0 / 9.0) / 3.0, 1e-15);
  // Two dimensions: squares of side 1 around (0,0) and (5,0), all distances Euclidean.
  const FeatureMatrix y{{"a", "b"}, 4, {0, 0, 0, 1, 5, 0, 5, 1}};
  Result<double> t = TwoGroupSilhouette(y, {false, false, true, true});
  ASSERT_TRUE(t.ok());
  const double b = (5.0 + std::sqrt(26.0)) / 2.0;  // mean distance to the other square
  EXPECT_NEAR(*t, (b - 1.0) / b, 1e-15);
  EXPECT_EQ((TwoGroupSilhouette(x, {false, false, false}).status().code()),
            StatusCode::kInvalidArgument);
  EXPECT_EQ((TwoGroupSilhouette(x, {true}).status().code()), StatusCode::kInvalidArgument);
}

TEST(SelectionTest, SilhouetteScoresEachCandidatesSplit) {
  // A tight bulk plus a distant cluster of 3%: a detector flagging exactly that cluster
  // splits the data well.
  FeatureMatrix train = NormalData(600, 2, 6);
  for (int64_t row = 0; row < 18; ++row) {
    train.values[row * 2] += 12.0;
    train.values[row * 2 + 1] += 12.0;
  }
  SelectionOptions options;
  options.method = SelectionMethod::kSilhouette;
  options.silhouette_sample_rows = 300;
  options.candidates = Candidates({{"zscore", {{"contamination", 0.3}}},
                                   {"zscore", {{"contamination", 0.03}}},
                                   {"ecod", {{"contamination", 0.3}}},
                                   {"no_such_kind", nlohmann::json::object()}});
  Result<SelectionResult> result = SelectDetector(train, {}, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->method, SelectionMethod::kSilhouette);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(result->candidates[i].ok()) << result->candidates[i].error;
    ASSERT_TRUE(result->candidates[i].metric.has_value());
    EXPECT_GE(*result->candidates[i].metric, -1.0);
    EXPECT_LE(*result->candidates[i].metric, 1.0);
  }
  EXPECT_FALSE(result->candidates[3].ok());
  EXPECT_EQ(result->kind, "zscore");
  EXPECT_EQ(result->config["contamination"], 0.03);
  EXPECT_GT(*result->candidates[1].metric, 0.7);

  // Deterministic for a seed.
  Result<SelectionResult> again = SelectDetector(train, {}, options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToJson(), result->ToJson());
}

TEST(SelectionTest, NoCandidateSucceedingIsAnErrorListingEach) {
  SelectionOptions options;
  options.candidates =
      Candidates({{"no_such_kind", nlohmann::json::object()}, {"ecod", {{"n_jobs", 0}}}});
  const Status status = SelectDetector(NormalData(50, 2, 7), {}, options).status();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("no_such_kind"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("n_jobs"), std::string::npos) << status.message();
}

TEST(SelectionTest, BadRequestsAreRejected) {
  const FeatureMatrix train = NormalData(100, 3, 8);
  Labeled validation = LabeledValidation(9);
  SelectionOptions pr_auc;
  pr_auc.method = SelectionMethod::kPrAuc;
  pr_auc.candidates = Candidates({{"ecod", nlohmann::json::object()}});
  EXPECT_EQ(SelectDetector(train, {}, pr_auc).status().code(), StatusCode::kInvalidArgument);
  std::vector<int> short_labels(10, 1);
  EXPECT_EQ((SelectDetector(train, {&validation.x, short_labels}, pr_auc).status().code()),
            StatusCode::kInvalidArgument);
  std::vector<int> no_anomaly(500, 0);
  EXPECT_EQ((SelectDetector(train, {&validation.x, no_anomaly}, pr_auc).status().code()),
            StatusCode::kInvalidArgument);
  validation.labels[1] = 2;
  EXPECT_EQ((SelectDetector(train, {&validation.x, validation.labels}, pr_auc).status().code()),
            StatusCode::kInvalidArgument);
  SelectionOptions empty;
  empty.candidates.clear();
  EXPECT_EQ(SelectDetector(train, {}, empty).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSelectionMethod("silhouette").value_or(SelectionMethod::kAuto),
            SelectionMethod::kSilhouette);
  EXPECT_FALSE(ParseSelectionMethod("accuracy").ok());
}

TEST(SelectionTest, DefaultCandidatesRunWhicheverKindsExist) {
  std::vector<std::string> kinds;
  for (const auto& c : SelectionOptions::DefaultCandidates()) kinds.push_back(c.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"isolation_forest", "extended_iforest", "lof", "ocsvm",
                                             "dbscan", "ecod", "zscore"}));
  const FeatureMatrix train = NormalData(300, 3, 10);
  const Labeled validation = LabeledValidation(11);
  SelectionOptions options;
  options.seed = 1;
  Result<SelectionResult> result =
      SelectDetector(train, {&validation.x, validation.labels}, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->candidates.size(), 7u);
  bool chosen_ok = false;
  for (const CandidateOutcome& c : result->candidates)
    chosen_ok |= c.ok() && c.kind == result->kind;
  EXPECT_TRUE(chosen_ok);
  EXPECT_TRUE(result->candidates[5].ok()) << result->candidates[5].error;  // ecod
  EXPECT_TRUE(result->candidates[6].ok()) << result->candidates[6].error;  // zscore
}

}  // namespace
}  // namespace vigil
