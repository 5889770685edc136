// Tests for include/vigil/models/metrics.h: every metric against scikit-learn 1.2.1 on the
// committed fixture (tests/testdata/models/sklearn_metrics.json, made by
// scripts/fixtures/sklearn_metrics.py), hand-computed tiny cases, and bad input.
//
// Tolerance: 1e-12 relative for the summed metrics (Vigil's compensated sums vs numpy's
// pairwise sums). Counts, precision/recall/F1, precision@k, coverage, calibration tables
// and the bin edges are compared exactly: Vigil reproduces sklearn's arithmetic there.
#include "vigil/models/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vigil {
namespace {

using nlohmann::json;

constexpr double kRelTol = 1e-12;

const json& Fixture() {
  static const json fixture = [] {
    std::ifstream in(std::string(VIGIL_TEST_DATA) + "/models/sklearn_metrics.json");
    return json::parse(in, nullptr, /*allow_exceptions=*/false);
  }();
  return fixture;
}

std::vector<double> Doubles(const json& j) { return j.get<std::vector<double>>(); }
std::vector<int> Ints(const json& j) { return j.get<std::vector<int>>(); }

double Value(const Result<double>& r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::numeric_limits<double>::quiet_NaN();
}

void ExpectRel(double actual, double expected, const std::string& what) {
  EXPECT_LE(std::abs(actual - expected), kRelTol * std::abs(expected))
      << what << ": vigil " << actual << " sklearn " << expected;
}

void ExpectInvalid(const Status& status, const std::string& needle) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find(needle), std::string::npos) << status.ToString();
}

TEST(MetricsFixtureFile, Loads) {
  ASSERT_FALSE(Fixture().is_discarded()) << "cannot read sklearn_metrics.json";
  EXPECT_EQ(Fixture()["meta"]["sklearn"], "1.2.1");
  EXPECT_EQ(Fixture()["binary"].size(), 2u);
}

// ---------------------------------------------------------------------------------------
// Against sklearn.

class MetricsSklearnBinary : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Fixture().is_discarded());
    data_ = Fixture()["binary"][GetParam()];
    name_ = data_["name"].get<std::string>();
    labels_ = Ints(data_["labels"]);
    scores_ = Doubles(data_["scores"]);
    weights_ = Doubles(data_["weights"]);
  }
  json data_;
  std::string name_;
  std::vector<int> labels_;
  std::vector<double> scores_;
  std::vector<double> weights_;
};

TEST_P(MetricsSklearnBinary, RankingAndProbabilisticScores) {
  const auto check = [&](const Result<double>& r, const char* key) {
    ExpectRel(Value(r), data_[key].get<double>(), name_ + " " + key);
  };
  check(RocAuc(labels_, scores_), "roc_auc");
  check(RocAuc(labels_, scores_, weights_), "roc_auc_weighted");
  check(AveragePrecision(labels_, scores_), "average_precision");
  check(AveragePrecision(labels_, scores_, weights_), "average_precision_weighted");
  check(BrierScore(labels_, scores_), "brier");
  check(BrierScore(labels_, scores_, weights_), "brier_weighted");
  check(LogLoss(labels_, scores_), "log_loss");
  check(LogLoss(labels_, scores_, weights_), "log_loss_weighted");
}

TEST_P(MetricsSklearnBinary, PrecisionRecallF1AtThresholds) {
  for (const json& expected : data_["thresholds"]) {
    const double threshold = expected["threshold"].get<double>();
    SCOPED_TRACE(name_ + " threshold " + std::to_string(threshold));
    const Result<ThresholdMetrics> m = PrecisionRecallF1At(labels_, scores_, threshold);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ(m->tp, expected["tp"].get<int64_t>());
    EXPECT_EQ(m->fp, expected["fp"].get<int64_t>());
    EXPECT_EQ(m->fn, expected["fn"].get<int64_t>());
    EXPECT_EQ(m->tn, expected["tn"].get<int64_t>());
    EXPECT_EQ(m->precision, expected["precision"].get<double>());
    EXPECT_EQ(m->recall, expected["recall"].get<double>());
    EXPECT_EQ(m->f1, expected["f1"].get<double>());
  }
}

TEST_P(MetricsSklearnBinary, PrecisionAtK) {
  for (const json& expected : data_["precision_at_k"]) {
    const int64_t k = expected["k"].get<int64_t>();
    EXPECT_EQ(Value(PrecisionAtK(labels_, scores_, k)), expected["value"].get<double>())
        << name_ << " k=" << k;
  }
}

TEST_P(MetricsSklearnBinary, CalibrationTable) {
  for (const json& expected : data_["calibration"]) {
    const std::string strategy_name = expected["strategy"].get<std::string>();
    const int n_bins = expected["n_bins"].get<int>();
    SCOPED_TRACE(name_ + " " + strategy_name + " " + std::to_string(n_bins));
    const auto strategy = strategy_name == "quantile" ? CalibrationStrategy::kQuantile
                                                      : CalibrationStrategy::kUniform;
    const Result<std::vector<CalibrationBin>> table =
        CalibrationTable(labels_, scores_, n_bins, strategy);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    ASSERT_EQ(table->size(), expected["count"].size());
    for (size_t row = 0; row < table->size(); ++row) {
      const CalibrationBin& bin = (*table)[row];
      EXPECT_EQ(bin.lower, expected["lower"][row].get<double>()) << "row " << row;
      EXPECT_EQ(bin.upper, expected["upper"][row].get<double>()) << "row " << row;
      EXPECT_EQ(bin.count, expected["count"][row].get<int64_t>()) << "row " << row;
      EXPECT_EQ(bin.mean_predicted, expected["mean_predicted"][row].get<double>()) << row;
      EXPECT_EQ(bin.fraction_positive, expected["fraction_positive"][row].get<double>()) << row;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(MetricsFixture, MetricsSklearnBinary, ::testing::Values(0, 1),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Imbalanced") : std::string("Ties");
                         });

TEST(MetricsSklearn, MulticlassLogLoss) {
  const json& data = Fixture()["multiclass"];
  const std::vector<int> labels = Ints(data["labels"]);
  const std::vector<double> probs = Doubles(data["probs"]);
  const std::vector<double> weights = Doubles(data["weights"]);
  const int k = data["num_classes"].get<int>();
  ExpectRel(Value(MulticlassLogLoss(labels, probs, k)), data["log_loss"].get<double>(), "log_loss");
  ExpectRel(Value(MulticlassLogLoss(labels, probs, k, weights)),
            data["log_loss_weighted"].get<double>(), "log_loss_weighted");
}

TEST(MetricsSklearn, RegressionAndForecast) {
  const json& data = Fixture()["regression"];
  const std::vector<double> actual = Doubles(data["actual"]);
  const std::vector<double> forecast = Doubles(data["forecast"]);
  const std::vector<double> weights = Doubles(data["weights"]);
  const std::vector<double> training = Doubles(data["training"]);
  const auto check = [&](const Result<double>& r, const char* key) {
    ExpectRel(Value(r), data[key].get<double>(), key);
  };
  check(Mae(actual, forecast), "mae");
  check(Mae(actual, forecast, weights), "mae_weighted");
  check(Rmse(actual, forecast), "rmse");
  check(Rmse(actual, forecast, weights), "rmse_weighted");
  check(Mape(actual, forecast), "mape");
  check(Mape(actual, forecast, weights), "mape_weighted");
  for (const json& expected : data["mase"]) {
    const int m = expected["m"].get<int>();
    ExpectRel(Value(Mase(actual, forecast, training, m)), expected["value"].get<double>(),
              "mase m=" + std::to_string(m));
  }
  EXPECT_EQ(Value(IntervalCoverage(actual, Doubles(data["lower"]), Doubles(data["upper"]))),
            data["interval_coverage"].get<double>());
}

TEST(MetricsSklearn, MapeDividesByEpsilonWhenActualIsZero) {
  const json& data = Fixture()["mape_with_zero"];
  ExpectRel(Value(Mape(Doubles(data["actual"]), Doubles(data["forecast"]))),
            data["mape"].get<double>(), "mape_with_zero");
}

// ---------------------------------------------------------------------------------------
// Hand-computed cases.

TEST(MetricsHand, RocAucCountsTiesAsHalf) {
  // Pairs (pos, neg): 0.8 > 0.1, 0.8 > 0.4, 0.4 ~ 0.4 (half), 0.4 > 0.1 -> 3.5 / 4.
  EXPECT_EQ(Value(RocAuc(std::vector<int>{0, 0, 1, 1}, std::vector<double>{0.1, 0.4, 0.4, 0.8})),
            0.875);
  EXPECT_EQ(Value(RocAuc(std::vector<int>{1, 0}, std::vector<double>{2.0, -3.0})), 1.0);
  EXPECT_EQ(Value(RocAuc(std::vector<int>{1, 0}, std::vector<double>{5.0, 5.0})), 0.5);
}

TEST(MetricsHand, RocAucIgnoresZeroWeightSamples) {
  const std::vector<int> labels = {0, 1, 0, 1};
  const std::vector<double> scores = {0.9, 0.8, 0.3, 0.2};
  const std::vector<double> weights = {0.0, 1.0, 1.0, 1.0};  // drop the 0.9 negative
  EXPECT_EQ(Value(RocAuc(labels, scores, weights)), 0.5);
}

TEST(MetricsHand, AveragePrecisionIsStepwise) {
  // Ranked: 1 (P=1, R=1/2), 0, 1 (P=2/3, R=1): AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
  const std::vector<int> labels = {1, 0, 1};
  const std::vector<double> scores = {0.9, 0.8, 0.7};
  EXPECT_NEAR(Value(AveragePrecision(labels, scores)), 5.0 / 6.0, 1e-15);
  // Weight 2 on the last positive: R steps 1/3 then 2/3; AP = 1/3 + 2/3 * 3/4 = 5/6 too.
  EXPECT_NEAR(Value(AveragePrecision(labels, scores, std::vector<double>{1, 1, 2})), 5.0 / 6.0,
              1e-15);
}

TEST(MetricsHand, PrecisionAtKBreaksTiesByPosition) {
  const std::vector<int> labels = {0, 1, 1, 0};
  const std::vector<double> scores = {0.5, 0.5, 0.9, 0.1};
  EXPECT_EQ(Value(PrecisionAtK(labels, scores, 1)), 1.0);  // index 2
  EXPECT_EQ(Value(PrecisionAtK(labels, scores, 2)), 0.5);  // then index 0 (tie, earlier)
  EXPECT_EQ(Value(PrecisionAtK(labels, scores, 3)), 2.0 / 3.0);
}

TEST(MetricsHand, PrecisionRecallF1AtThresholdIsInclusive) {
  const std::vector<int> labels = {1, 1, 0, 0, 1};
  const std::vector<double> probs = {0.5, 0.2, 0.5, 0.1, 0.9};
  const Result<ThresholdMetrics> m = PrecisionRecallF1At(labels, probs, 0.5);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->tp, 2);
  EXPECT_EQ(m->fp, 1);
  EXPECT_EQ(m->fn, 1);
  EXPECT_EQ(m->tn, 1);
  EXPECT_DOUBLE_EQ(m->precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m->recall, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m->f1, 2.0 / 3.0);
  const Result<ThresholdMetrics> none = PrecisionRecallF1At(labels, probs, 0.95);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->precision, 0.0);  // zero_division=0
  EXPECT_EQ(none->f1, 0.0);
}

TEST(MetricsHand, BrierAndLogLoss) {
  const std::vector<int> labels = {1, 0};
  const std::vector<double> probs = {0.8, 0.4};
  EXPECT_DOUBLE_EQ(Value(BrierScore(labels, probs)), (0.04 + 0.16) / 2);
  EXPECT_DOUBLE_EQ(Value(BrierScore(labels, probs, std::vector<double>{3, 1})),
                   (3 * 0.04 + 0.16) / 4);
  EXPECT_NEAR(Value(LogLoss(labels, probs)), -(std::log(0.8) + std::log(0.6)) / 2, 1e-15);
  // A confident miss is clipped to eps = 2^-52, not infinite: -log(2^-52) = 52 ln 2.
  EXPECT_NEAR(Value(LogLoss(std::vector<int>{1}, std::vector<double>{0.0})), 52 * std::log(2.0),
              1e-12);
}

TEST(MetricsHand, MulticlassLogLossRenormalisesRows) {
  // Row 0 sums to 0.5: renormalised to (0.4, 0.2, 0.4); label 1 -> -log(0.2).
  const std::vector<double> probs = {0.2, 0.1, 0.2, 0.7, 0.2, 0.1};
  EXPECT_NEAR(Value(MulticlassLogLoss(std::vector<int>{1, 0}, probs, 3)),
              -(std::log(0.1 / 0.5) + std::log(0.7)) / 2, 1e-15);
}

TEST(MetricsHand, CalibrationTableUniformDropsEmptyBins) {
  const std::vector<int> labels = {0, 1, 1, 0, 1};
  const std::vector<double> probs = {0.1, 0.2, 0.5, 0.9, 1.0};
  // Edges 0, 0.5, 1: 0.5 sits on the interior edge and falls in the lower bin.
  const Result<std::vector<CalibrationBin>> two = CalibrationTable(labels, probs, 2);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].count, 3);
  EXPECT_DOUBLE_EQ((*two)[0].mean_predicted, 0.8 / 3);
  EXPECT_DOUBLE_EQ((*two)[0].fraction_positive, 2.0 / 3);
  EXPECT_EQ((*two)[1].count, 2);
  EXPECT_EQ((*two)[1].lower, 0.5);
  EXPECT_EQ((*two)[1].upper, 1.0);
  // Four bins: (0.25, 0.5] holds 0.5 only, (0.5, 0.75] is empty and dropped.
  const Result<std::vector<CalibrationBin>> four = CalibrationTable(labels, probs, 4);
  ASSERT_TRUE(four.ok());
  ASSERT_EQ(four->size(), 3u);
  EXPECT_EQ((*four)[1].lower, 0.25);
  EXPECT_EQ((*four)[1].count, 1);
  EXPECT_EQ((*four)[2].lower, 0.75);
}

TEST(MetricsHand, RegressionErrors) {
  const std::vector<double> actual = {1.0, 2.0, 4.0};
  const std::vector<double> forecast = {2.0, 2.0, 1.0};
  EXPECT_DOUBLE_EQ(Value(Mae(actual, forecast)), 4.0 / 3);
  EXPECT_DOUBLE_EQ(Value(Rmse(actual, forecast)), std::sqrt(10.0 / 3));
  EXPECT_DOUBLE_EQ(Value(Mape(actual, forecast)), (1.0 + 0.0 + 0.75) / 3);
  // Naive in-sample MAE of {1, 3, 2, 6} is (2 + 1 + 4) / 3; MASE = (4/3) / (7/3).
  const std::vector<double> training = {1.0, 3.0, 2.0, 6.0};
  EXPECT_DOUBLE_EQ(Value(Mase(actual, forecast, training)), 4.0 / 7);
  // m = 2: |2 - 1|, |6 - 3| -> 2.
  EXPECT_DOUBLE_EQ(Value(Mase(actual, forecast, training, 2)), 2.0 / 3);
  EXPECT_DOUBLE_EQ(Value(IntervalCoverage(actual, std::vector<double>{1.0, 2.5, 0.0},
                                          std::vector<double>{1.0, 3.0, 3.9})),
                   1.0 / 3);
}

// ---------------------------------------------------------------------------------------
// Bad input.

TEST(MetricsErrors, SizeMismatchAndEmpty) {
  const std::vector<int> labels = {0, 1};
  const std::vector<double> three = {0.1, 0.2, 0.3};
  ExpectInvalid(RocAuc(labels, three).status(), "labels has 2 elements but scores has 3");
  ExpectInvalid(BrierScore({}, {}).status(), "labels is empty");
  ExpectInvalid(LogLoss(labels, std::vector<double>{0.1, 0.2}, three).status(), "weights has 3");
  ExpectInvalid(Mae({}, {}).status(), "actual is empty");
  ExpectInvalid(
      IntervalCoverage(std::vector<double>{1.0}, std::vector<double>{0.0}, three).status(),
      "upper has 3");
  ExpectInvalid(MulticlassLogLoss(labels, three, 2).status(), "expected 2 rows x 2 classes");
}

TEST(MetricsErrors, NanAndInfinity) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<int> labels = {0, 1};
  ExpectInvalid(RocAuc(labels, std::vector<double>{0.1, nan}).status(), "scores[1] is NaN");
  ExpectInvalid(AveragePrecision(labels, std::vector<double>{inf, 0.1}).status(),
                "scores[0] is infinite");
  ExpectInvalid(Rmse(std::vector<double>{1.0}, std::vector<double>{nan}).status(),
                "forecast[0] is NaN");
  ExpectInvalid(
      Mase(std::vector<double>{1.0}, std::vector<double>{1.0}, std::vector<double>{1, nan})
          .status(),
      "training[1] is NaN");
  ExpectInvalid(
      BrierScore(labels, std::vector<double>{0.1, 0.2}, std::vector<double>{1, nan}).status(),
      "weights[1] is NaN");
  ExpectInvalid(PrecisionRecallF1At(labels, std::vector<double>{0.1, 0.2}, nan).status(),
                "threshold");
}

TEST(MetricsErrors, LabelsMustBeBinary) {
  const std::vector<double> probs = {0.1, 0.2};
  ExpectInvalid(RocAuc(std::vector<int>{0, 2}, probs).status(), "labels[1] = 2 is not 0 or 1");
  ExpectInvalid(LogLoss(std::vector<int>{-1, 0}, probs).status(), "labels[0] = -1");
  ExpectInvalid(MulticlassLogLoss(std::vector<int>{0, 3}, std::vector<double>(6, 0.3), 3).status(),
                "labels[1] = 3 is outside [0, 3)");
  ExpectInvalid(MulticlassLogLoss(std::vector<int>{0}, std::vector<double>{1.0}, 1).status(),
                "num_classes");
}

TEST(MetricsErrors, ProbabilitiesOutsideUnitInterval) {
  const std::vector<int> labels = {0, 1};
  ExpectInvalid(BrierScore(labels, std::vector<double>{0.1, 1.5}).status(),
                "probs[1] = 1.500000 is outside [0, 1]");
  ExpectInvalid(LogLoss(labels, std::vector<double>{-0.1, 0.5}).status(), "probs[0]");
  ExpectInvalid(CalibrationTable(labels, std::vector<double>{0.1, 1.01}).status(), "probs[1]");
  ExpectInvalid(PrecisionRecallF1At(labels, std::vector<double>{2.0, 0.5}, 0.5).status(),
                "probs[0]");
  // Scores for ranking metrics may be any finite reals.
  EXPECT_TRUE(RocAuc(labels, std::vector<double>{-4.0, 7.0}).ok());
}

TEST(MetricsErrors, SingleClass) {
  const std::vector<double> scores = {0.1, 0.2};
  ExpectInvalid(RocAuc(std::vector<int>{1, 1}, scores).status(), "single class");
  ExpectInvalid(RocAuc(std::vector<int>{0, 1}, scores, std::vector<double>{1, 0}).status(),
                "single class");
  ExpectInvalid(AveragePrecision(std::vector<int>{0, 0}, scores).status(), "no positive");
  // Log loss and Brier are defined on one class (labels=[0, 1] implied).
  EXPECT_TRUE(LogLoss(std::vector<int>{0, 0}, scores).ok());
}

TEST(MetricsErrors, BadWeightsAndParameters) {
  const std::vector<int> labels = {0, 1};
  const std::vector<double> probs = {0.1, 0.2};
  ExpectInvalid(RocAuc(labels, probs, std::vector<double>{1, -1}).status(),
                "weights[1] is negative");
  ExpectInvalid(BrierScore(labels, probs, std::vector<double>{0, 0}).status(),
                "weights sum to zero");
  ExpectInvalid(PrecisionAtK(labels, probs, 0).status(), "k = 0 is outside [1, 2]");
  ExpectInvalid(PrecisionAtK(labels, probs, 3).status(), "k = 3");
  ExpectInvalid(CalibrationTable(labels, probs, 0).status(), "n_bins = 0");
  const std::vector<double> one = {1.0};
  ExpectInvalid(Mase(one, one, std::vector<double>{1, 2}, 0).status(), "m = 0");
  ExpectInvalid(Mase(one, one, std::vector<double>{1, 2}, 2).status(), "needs more than m = 2");
  ExpectInvalid(Mase(one, one, std::vector<double>{3, 3, 3}).status(), "constant");
  ExpectInvalid(IntervalCoverage(one, std::vector<double>{2.0}, one).status(),
                "lower[0] is above upper[0]");
}

}  // namespace
}  // namespace vigil
