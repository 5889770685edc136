// ProbabilityCalibrator (Platt and isotonic, checked against scikit-learn 1.2.1 with
// tests/testdata/models/probability_calibration.json from
// scripts/fixtures/probability_calibration.py) and the "calibrated" kind.
#include "vigil/models/probability_calibration.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "models/calibration_test_kinds.h"
#include "vigil/core/text_file.h"
#include "vigil/models/logistic_regression.h"
#include "vigil/models/metrics.h"
#include "vigil/registry/registry.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using testing_util::RowMemorizer;

nlohmann::json LoadFixture() {
  Result<std::string> text =
      ReadFileToString(std::string(VIGIL_TEST_DATA) + "/models/probability_calibration.json");
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json::object();
}

struct FixtureCase {
  std::string name;
  std::vector<double> probs;
  std::vector<int> labels;
  std::vector<double> weights;
  nlohmann::json item;
};

std::vector<FixtureCase> Cases(const std::string& method) {
  std::vector<FixtureCase> cases;
  for (const nlohmann::json& item : LoadFixture().value(method, nlohmann::json::array())) {
    cases.push_back({item.at("name"), item.at("probs").get<std::vector<double>>(),
                     item.at("labels").get<std::vector<int>>(),
                     item.at("weights").get<std::vector<double>>(), item});
  }
  return cases;
}

void ExpectAllNear(const std::vector<double>& actual, const std::vector<double>& expected,
                   double tolerance, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], tolerance) << what << " [" << i << "]";
  }
}

ProbabilityCalibrator MustFit(CalibrationMethod method, const std::vector<double>& probs,
                              const std::vector<int>& labels,
                              const std::vector<double>& weights = {}) {
  Result<ProbabilityCalibrator> fitted = ProbabilityCalibrator::Fit(method, probs, labels, weights);
  EXPECT_TRUE(fitted.ok()) << fitted.status().ToString();
  return fitted.value_or(ProbabilityCalibrator());
}

// Overconfident scores: labels ~ Bernoulli(sigmoid(z)), reported sigmoid(3 z + 0.5).
void MakeMiscalibrated(int n, uint32_t seed, std::vector<double>* probs, std::vector<int>* labels) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.5);
  std::uniform_real_distribution<double> uniform;
  for (int i = 0; i < n; ++i) {
    const double z = normal(rng);
    labels->push_back(uniform(rng) < 1 / (1 + std::exp(-z)) ? 1 : 0);
    probs->push_back(1 / (1 + std::exp(-(3 * z + 0.5))));
  }
}

// --- ProbabilityCalibrator vs scikit-learn ---------------------------------------------

TEST(PlattCalibrationTest, MatchesScikitLearnSigmoidCalibration) {
  const std::vector<FixtureCase> cases = Cases("platt");
  ASSERT_EQ(cases.size(), 3u);
  for (const FixtureCase& c : cases) {
    SCOPED_TRACE(c.name);
    const ProbabilityCalibrator platt =
        MustFit(CalibrationMethod::kPlatt, c.probs, c.labels, c.weights);
    EXPECT_EQ(platt.method(), CalibrationMethod::kPlatt);
    const nlohmann::json json = platt.ToJson();
    // scikit-learn stops BFGS at a gradient norm of 1e-5; Newton reaches the exact optimum.
    EXPECT_NEAR(json.at("a").get<double>(), c.item.at("a").get<double>(), 1e-6);
    EXPECT_NEAR(json.at("b").get<double>(), c.item.at("b").get<double>(), 1e-6);
    ExpectAllNear(platt.Apply(c.probs), c.item.at("fitted"), 1e-7, "fitted");
    ExpectAllNear(platt.Apply(c.item.at("queries").get<std::vector<double>>()),
                  c.item.at("predictions"), 1e-7, "queries");
  }
}

TEST(IsotonicCalibrationTest, MatchesScikitLearnIsotonicRegression) {
  const std::vector<FixtureCase> cases = Cases("isotonic");
  ASSERT_EQ(cases.size(), 3u);
  for (const FixtureCase& c : cases) {
    SCOPED_TRACE(c.name);
    const ProbabilityCalibrator iso =
        MustFit(CalibrationMethod::kIsotonic, c.probs, c.labels, c.weights);
    const nlohmann::json json = iso.ToJson();
    // Same thresholds (ties pooled, zero weights dropped, flat runs trimmed as sklearn does).
    ExpectAllNear(json.at("x"), c.item.at("x_thresholds"), 0.0, "x thresholds");
    ExpectAllNear(json.at("y"), c.item.at("y_thresholds"), 1e-14, "y thresholds");
    ExpectAllNear(iso.Apply(c.probs), c.item.at("fitted"), 1e-14, "fitted");
    ExpectAllNear(iso.Apply(c.item.at("queries").get<std::vector<double>>()),
                  c.item.at("predictions"), 1e-14, "queries");
  }
}

TEST(IsotonicCalibrationTest, PoolsTiesInterpolatesClipsAndReportsBlockEvidence) {
  // Unique x: 0.1 (y 0, w 2), 0.2 (1, w 1), 0.3 (2/3, w 3), 0.8 (1, w 1); PAV pools 0.2 and
  // 0.3 into one block of value 3/4 and weight 4.
  const std::vector<double> probs = {0.3, 0.1, 0.2, 0.3, 0.1, 0.3, 0.8};
  const std::vector<int> labels = {0, 0, 1, 1, 0, 1, 1};
  const ProbabilityCalibrator iso = MustFit(CalibrationMethod::kIsotonic, probs, labels);
  EXPECT_EQ(iso.ToJson().at("x"), nlohmann::json({0.1, 0.2, 0.3, 0.8}));
  EXPECT_EQ(iso.ToJson().at("y"), nlohmann::json({0.0, 0.75, 0.75, 1.0}));
  EXPECT_DOUBLE_EQ(iso.Apply(0.25), 0.75);
  EXPECT_DOUBLE_EQ(iso.Apply(0.55), 0.875);
  EXPECT_DOUBLE_EQ(iso.Apply(0.0), 0.0);  // clipped to the first fitted value
  EXPECT_DOUBLE_EQ(iso.Apply(1.0), 1.0);
  EXPECT_TRUE(std::isnan(iso.Apply(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_DOUBLE_EQ(iso.Evidence(0.05), 2.0);
  EXPECT_DOUBLE_EQ(iso.Evidence(0.1), 2.0);
  EXPECT_DOUBLE_EQ(iso.Evidence(0.2), 4.0);
  EXPECT_DOUBLE_EQ(iso.Evidence(0.25), 4.0);
  EXPECT_DOUBLE_EQ(iso.Evidence(0.15), 2.0);  // between blocks of 2 and 4: the lighter
  EXPECT_DOUBLE_EQ(iso.Evidence(0.5), 1.0);
  EXPECT_DOUBLE_EQ(iso.Evidence(0.99), 1.0);
  EXPECT_DOUBLE_EQ(iso.Evidence(std::numeric_limits<double>::quiet_NaN()), 0.0);
}

TEST(PlattCalibrationTest, EvidenceIsTheHeldOutWeight) {
  const std::vector<double> probs = {0.1, 0.4, 0.35, 0.8};
  const std::vector<int> labels = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(MustFit(CalibrationMethod::kPlatt, probs, labels).Evidence(0.3), 4.0);
  EXPECT_DOUBLE_EQ(
      MustFit(CalibrationMethod::kPlatt, probs, labels, {0.5, 1, 2, 0.25}).Evidence(0.9), 3.75);
  const ProbabilityCalibrator identity = MustFit(CalibrationMethod::kNone, probs, labels);
  EXPECT_DOUBLE_EQ(identity.Evidence(0.3), 0.0);
  EXPECT_DOUBLE_EQ(identity.Apply(0.3), 0.3);
  EXPECT_DOUBLE_EQ(ProbabilityCalibrator().Apply(0.42), 0.42);
}

TEST(ProbabilityCalibratorTest, ImprovesBrierAndLogLossOnMiscalibratedHeldOutData) {
  std::vector<double> fit_probs, test_probs;
  std::vector<int> fit_labels, test_labels;
  MakeMiscalibrated(3000, 7, &fit_probs, &fit_labels);
  MakeMiscalibrated(3000, 8, &test_probs, &test_labels);
  const double raw_brier = *BrierScore(test_labels, test_probs);
  const double raw_log_loss = *LogLoss(test_labels, test_probs);
  for (CalibrationMethod method : {CalibrationMethod::kPlatt, CalibrationMethod::kIsotonic}) {
    SCOPED_TRACE(CalibrationMethodName(method));
    const std::vector<double> calibrated = MustFit(method, fit_probs, fit_labels).Apply(test_probs);
    const double brier = *BrierScore(test_labels, calibrated);
    const double log_loss = *LogLoss(test_labels, calibrated);
    EXPECT_LT(brier, raw_brier - 0.005) << brier << " vs " << raw_brier;
    EXPECT_LT(log_loss, raw_log_loss - 0.05) << log_loss << " vs " << raw_log_loss;
  }
}

TEST(ProbabilityCalibratorTest, FitRejectsBadInputs) {
  const std::vector<double> probs = {0.1, 0.9};
  const std::vector<int> labels = {0, 1};
  const auto code = [](Result<ProbabilityCalibrator> r) { return r.status().code(); };
  const auto invalid = StatusCode::kInvalidArgument;
  for (CalibrationMethod method : {CalibrationMethod::kPlatt, CalibrationMethod::kIsotonic}) {
    EXPECT_EQ(code(ProbabilityCalibrator::Fit(method, probs, std::vector<int>{0})), invalid);
    EXPECT_EQ(code(ProbabilityCalibrator::Fit(method, std::vector<double>{0.1, 1.5}, labels)),
              invalid);
    EXPECT_EQ(
        code(ProbabilityCalibrator::Fit(
            method, std::vector<double>{0.1, std::numeric_limits<double>::quiet_NaN()}, labels)),
        invalid);
    EXPECT_EQ(code(ProbabilityCalibrator::Fit(method, probs, std::vector<int>{0, 2})), invalid);
    EXPECT_EQ(code(ProbabilityCalibrator::Fit(method, probs, labels, std::vector<double>{1})),
              invalid);
    EXPECT_EQ(code(ProbabilityCalibrator::Fit(method, probs, labels, std::vector<double>{1, -1})),
              invalid);
    // Both classes need held-out weight.
    const Result<ProbabilityCalibrator> one_class =
        ProbabilityCalibrator::Fit(method, probs, std::vector<int>{1, 1});
    EXPECT_EQ(code(one_class), invalid);
    EXPECT_NE(one_class.status().message().find("both classes"), std::string::npos);
    EXPECT_EQ(code(ProbabilityCalibrator::Fit(method, probs, labels, std::vector<double>{0, 1})),
              invalid);
  }
}

TEST(ProbabilityCalibratorTest, MethodNamesRoundTrip) {
  for (CalibrationMethod method :
       {CalibrationMethod::kNone, CalibrationMethod::kPlatt, CalibrationMethod::kIsotonic}) {
    EXPECT_EQ(*ParseCalibrationMethod(CalibrationMethodName(method)), method);
  }
  EXPECT_EQ(ParseCalibrationMethod("beta").status().code(), StatusCode::kInvalidArgument);
}

TEST(ProbabilityCalibratorTest, JsonRoundTripIsExact) {
  std::vector<double> probs;
  std::vector<int> labels;
  MakeMiscalibrated(500, 3, &probs, &labels);
  for (CalibrationMethod method :
       {CalibrationMethod::kNone, CalibrationMethod::kPlatt, CalibrationMethod::kIsotonic}) {
    SCOPED_TRACE(CalibrationMethodName(method));
    const ProbabilityCalibrator original = MustFit(method, probs, labels);
    const nlohmann::json reparsed = nlohmann::json::parse(original.ToJson().dump());
    Result<ProbabilityCalibrator> copy = ProbabilityCalibrator::FromJson(reparsed, "test.json");
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    EXPECT_EQ(copy->method(), method);
    EXPECT_EQ(copy->ToJson(), original.ToJson());
    for (double p = 0; p <= 1.0; p += 0.01) {
      EXPECT_EQ(copy->Apply(p), original.Apply(p)) << p;  // bit for bit
      EXPECT_EQ(copy->Evidence(p), original.Evidence(p)) << p;
    }
  }
}

TEST(ProbabilityCalibratorTest, FromJsonRejectsMalformedDocuments) {
  const nlohmann::json isotonic = {{"method", "isotonic"},
                                   {"x", {0.1, 0.5}},
                                   {"y", {0.2, 0.7}},
                                   {"weight", {3.0, 4.0}},
                                   {"total_weight", 7.0}};
  ASSERT_TRUE(ProbabilityCalibrator::FromJson(isotonic, "cal.json").ok());
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json copy = isotonic;
    copy[key] = value;
    return copy;
  };
  nlohmann::json no_method = isotonic;
  no_method.erase("method");
  const std::vector<nlohmann::json> bad = {
      nlohmann::json::array(),
      no_method,
      with("method", "beta"),
      with("method", 3),
      with("x", {0.5, 0.1}),  // not increasing
      with("x", {0.1, 0.1}),  // repeated
      with("x", {0.1}),       // lengths differ
      with("x", nlohmann::json::array()),
      with("y", {0.7, 0.2}),       // decreasing
      with("y", {0.2, 1.5}),       // outside [0, 1]
      with("weight", {3.0, 0.0}),  // empty block
      with("weight", "heavy"),
      with("total_weight", -1.0),
      {{"method", "platt"}, {"a", -1.0}, {"total_weight", 4.0}},  // no b
      {{"method", "platt"}, {"a", nullptr}, {"b", 0.1}, {"total_weight", 4.0}},
      {{"method", "platt"}, {"a", -1.0}, {"b", 0.1}, {"total_weight", 0.0}},
  };
  for (const nlohmann::json& doc : bad) {
    const Result<ProbabilityCalibrator> parsed = ProbabilityCalibrator::FromJson(doc, "cal.json");
    ASSERT_FALSE(parsed.ok()) << doc.dump();
    EXPECT_EQ(parsed.status().code(), StatusCode::kDataError) << doc.dump();
    EXPECT_NE(parsed.status().message().find("cal.json"), std::string::npos)
        << parsed.status().ToString();
  }
}

// --- the "calibrated" kind --------------------------------------------------------------

// Rows whose column "row" is the row index, plus a noisy signal; labels from the signal.
void MakeRows(int64_t n, uint32_t seed, FeatureMatrix* x, std::vector<int>* labels) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  x->columns = {"row", "signal"};
  x->rows = n;
  x->values.clear();
  labels->clear();
  for (int64_t row = 0; row < n; ++row) {
    const double signal = normal(rng);
    x->values.insert(x->values.end(), {static_cast<double>(row), signal});
    labels->push_back(3 * signal + normal(rng) > 0 ? 1 : 0);
  }
}

// Logistic data with an overconfident model: features scaled so the fit is too sharp.
void MakeLogisticRows(int64_t n, uint32_t seed, FeatureMatrix* x, std::vector<int>* labels) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform;
  x->columns = {"spread", "funding"};
  x->rows = n;
  x->values.clear();
  labels->clear();
  for (int64_t row = 0; row < n; ++row) {
    const double a = normal(rng), b = normal(rng);
    x->values.insert(x->values.end(), {a, b});
    const double z = 1.5 * a - b;
    labels->push_back(uniform(rng) < 1 / (1 + std::exp(-z)) ? 1 : 0);
  }
}

std::unique_ptr<Model> MustCreate(const std::string& kind, const nlohmann::json& config) {
  Result<std::unique_ptr<Model>> model = CreateModel(kind, config);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? std::move(*model) : nullptr;
}

CalibratedClassifier* AsCalibrated(Model* model) {
  return dynamic_cast<CalibratedClassifier*>(model);
}

fs::path FreshDir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("vigil-calibrated-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<double> Positive(const ProbabilityMatrix& p) {
  std::vector<double> out;
  for (int64_t row = 0; row < p.rows(); ++row) out.push_back(p.at(row, 1));
  return out;
}

class CalibratedKindTest : public ::testing::Test {
 protected:
  void SetUp() override { testing_util::RegisterCalibrationTestKinds(); }
};

TEST_F(CalibratedKindTest, HeldOutRowsWereNeverSeenByTheirFoldModel) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeRows(103, 1, &x, &labels);
  for (int64_t gap : {0, 5}) {
    SCOPED_TRACE("gap_rows " + std::to_string(gap));
    auto model = MustCreate("calibrated", {{"base", {{"kind", "test_row_memorizer"}}},
                                           {"method", "isotonic"},
                                           {"folds", 3},
                                           {"gap_rows", gap}});
    auto* calibrated = AsCalibrated(model.get());
    Result<CalibratedClassifier::HeldOutPredictions> held = calibrated->PredictHeldOut(x, labels);
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    // Blocks of 103 rows in 4: [0, 25), [25, 51), [51, 77), [77, 103); blocks 1..3 held out.
    const int64_t begin[] = {0, 25, 51, 77, 103};
    ASSERT_EQ(held->rows.size(), 78u);
    for (size_t i = 0; i < held->rows.size(); ++i) {
      const int64_t row = held->rows[i];
      EXPECT_EQ(row, 25 + static_cast<int64_t>(i));
      const double p = held->probabilities[i];
      ASSERT_NE(p, RowMemorizer::kLeak) << "row " << row << " was in its fold's training rows";
      const int fold = row < begin[2] ? 1 : row < begin[3] ? 2 : 3;
      // The fold model saw exactly rows [0, begin - gap): the largest is begin - gap - 1.
      EXPECT_EQ(RowMemorizer::LargestSeen(p), begin[fold] - gap - 1) << "row " << row;
    }
    // Fit calibrates on exactly those predictions, then refits the base on every row.
    ASSERT_TRUE(calibrated->Fit(x, labels).ok());
    std::vector<int> held_labels;
    for (int64_t row : held->rows) held_labels.push_back(labels[row]);
    EXPECT_EQ(calibrated->calibrator().ToJson(),
              MustFit(CalibrationMethod::kIsotonic, held->probabilities, held_labels).ToJson());
    const Result<ProbabilityMatrix> all = calibrated->PredictProba(x);
    ASSERT_TRUE(all.ok());
    const double seen = calibrated->calibrator().Apply(RowMemorizer::kLeak);
    for (int64_t row = 0; row < x.rows; ++row) EXPECT_EQ(all->at(row, 1), seen) << row;
  }
}

TEST_F(CalibratedKindTest, PredictsTheCalibratedBaseRefittedOnAllRows) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeLogisticRows(600, 2, &x, &labels);
  std::vector<double> weights(labels.size());
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = 0.5 + (i % 4) * 0.5;
  for (const char* method : {"platt", "isotonic"}) {
    SCOPED_TRACE(method);
    auto model = MustCreate(
        "calibrated",
        {{"base", {{"kind", "logistic"}, {"params", {{"C", 0.5}}}}}, {"method", method}});
    auto* calibrated = AsCalibrated(model.get());
    EXPECT_FALSE(calibrated->fitted());
    EXPECT_EQ(calibrated->PredictProba(x).status().code(), StatusCode::kFailedPrecondition);
    ASSERT_TRUE(calibrated->Fit(x, labels, weights).ok());
    EXPECT_TRUE(calibrated->fitted());
    EXPECT_EQ(calibrated->feature_names(), x.columns);

    LogisticRegression reference(*LogisticRegressionOptions::FromJson({{"C", 0.5}}));
    ASSERT_TRUE(reference.Fit(x, labels, weights).ok());
    const std::vector<double> raw = Positive(*reference.PredictProba(x));
    const Result<ProbabilityMatrix> p = calibrated->PredictProba(x);
    ASSERT_TRUE(p.ok());
    for (int64_t row = 0; row < x.rows; ++row) {
      EXPECT_EQ(p->at(row, 1), calibrated->calibrator().Apply(raw[row]));
      EXPECT_EQ(p->at(row, 0) + p->at(row, 1), 1.0);
    }
    // The held-out predictions come from fold models that differ from the refitted base.
    const auto held = calibrated->PredictHeldOut(x, labels, weights);
    ASSERT_TRUE(held.ok());
    EXPECT_NE(held->probabilities.front(), raw[held->rows.front()]);
    const nlohmann::json described = calibrated->Describe();
    EXPECT_EQ(described.at("method"), method);
    EXPECT_TRUE(described.at("base").contains("coefficients"));
  }
}

TEST_F(CalibratedKindTest, MethodNoneIsTheBase) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeLogisticRows(200, 3, &x, &labels);
  auto model = MustCreate("calibrated", {{"method", "none"}});
  ASSERT_TRUE(AsClassifier(model.get())->Fit(x, labels).ok());
  LogisticRegression reference;
  ASSERT_TRUE(reference.Fit(x, labels).ok());
  EXPECT_EQ(Positive(*AsClassifier(model.get())->PredictProba(x)),
            Positive(*reference.PredictProba(x)));
}

TEST_F(CalibratedKindTest, FitFailsNamingTheFold) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeRows(40, 4, &x, &labels);
  auto too_many_folds = MustCreate("calibrated", {{"folds", 40}});
  EXPECT_EQ(AsClassifier(too_many_folds.get())->Fit(x, labels).code(),
            StatusCode::kInvalidArgument);
  auto big_gap = MustCreate("calibrated", {{"folds", 3}, {"gap_rows", 10}});
  const Status gap = AsClassifier(big_gap.get())->Fit(x, labels);
  EXPECT_EQ(gap.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(gap.message().find("fold 1"), std::string::npos) << gap.ToString();
  // The first block holds only negatives: fold 1's logistic base cannot be fitted.
  std::vector<int> late_positives(40, 0);
  for (int row = 20; row < 40; row += 2) late_positives[row] = 1;
  auto model = MustCreate("calibrated", {{"folds", 3}});
  const Status one_class = AsClassifier(model.get())->Fit(x, late_positives);
  EXPECT_FALSE(one_class.ok());
  EXPECT_NE(one_class.message().find("fold 1"), std::string::npos) << one_class.ToString();
  EXPECT_FALSE(model->fitted());
  EXPECT_EQ(AsClassifier(model.get())->Fit(x, std::vector<int>{0, 1}).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(CalibratedKindTest, FromPartsWrapsAFittedBase) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeLogisticRows(300, 5, &x, &labels);
  auto base = std::make_unique<LogisticRegression>();
  ASSERT_TRUE(base->Fit(x, labels).ok());
  const std::vector<double> raw = Positive(*base->PredictProba(x));
  const ProbabilityCalibrator platt = MustFit(CalibrationMethod::kPlatt, raw, labels);
  Result<std::unique_ptr<CalibratedClassifier>> model =
      CalibratedClassifier::FromParts(std::move(base), platt);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->config().at("method"), "platt");
  EXPECT_EQ((*model)->config().at("base").at("kind"), "logistic");
  EXPECT_EQ((*model)->config().at("base").at("params"), LogisticRegression().config());
  const std::vector<double> p = Positive(*(*model)->PredictProba(x));
  for (size_t row = 0; row < p.size(); ++row) EXPECT_EQ(p[row], platt.Apply(raw[row]));
  // CreateModel(kind, config()) rebuilds an equivalent unfitted model.
  auto rebuilt = MustCreate("calibrated", (*model)->config());
  ASSERT_NE(rebuilt, nullptr);
  EXPECT_EQ(rebuilt->config(), (*model)->config());

  EXPECT_EQ(CalibratedClassifier::FromParts(nullptr, platt).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CalibratedClassifier::FromParts(std::make_unique<LogisticRegression>(), platt)
                .status()
                .code(),
            StatusCode::kInvalidArgument);  // not fitted
  EXPECT_EQ(CalibratedClassifier::FromParts(MustCreate("ridge", {}), platt).status().code(),
            StatusCode::kInvalidArgument);  // not a classifier
}

Manifest TestManifest(const std::string& name, const std::vector<std::string>& features) {
  Manifest m;
  m.name = name;
  m.feature_set = {"default", "81f468742147cd7b", features};
  m.training_data.instruments = {"sim:BTC-PERP"};
  m.training_data.from = Timestamp::FromSeconds(1'700'000'000);
  m.training_data.to = Timestamp::FromSeconds(1'700'086'400);
  m.training_data.rows = 600;
  m.training_data.fingerprint = "cafe";
  m.created_at = Timestamp::FromSeconds(1'700'100'000);
  return m;
}

TEST_F(CalibratedKindTest, RegistryRoundTripReproducesPredictionsBitForBit) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeLogisticRows(500, 6, &x, &labels);
  const fs::path dir = FreshDir("registry");
  auto registry = ModelRegistry::Open(dir);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  for (const char* method : {"platt", "isotonic"}) {
    SCOPED_TRACE(method);
    auto model = MustCreate("calibrated", {{"method", method}, {"folds", 2}});
    ASSERT_TRUE(AsClassifier(model.get())->Fit(x, labels).ok());
    const Result<Manifest> stored =
        registry->Register(*model, TestManifest(std::string("liq_") + method, x.columns));
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    const fs::path version_dir = dir / stored->name / std::to_string(stored->version);
    EXPECT_TRUE(fs::exists(version_dir / "calibrated.json"));
    EXPECT_TRUE(fs::exists(version_dir / "base" / "logistic.json"));
    Result<LoadedModel> loaded = registry->Load(stored->name);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->model->kind(), "calibrated");
    EXPECT_EQ(loaded->model->config(), model->config());
    EXPECT_EQ(loaded->model->feature_names(), x.columns);
    EXPECT_EQ(Positive(*AsClassifier(loaded->model.get())->PredictProba(x)),
              Positive(*AsClassifier(model.get())->PredictProba(x)));
    EXPECT_EQ(loaded->model->Describe(), model->Describe());
  }
  fs::remove_all(dir);
}

TEST_F(CalibratedKindTest, CorruptWeightsFailNamingTheFile) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeLogisticRows(300, 7, &x, &labels);
  auto model = MustCreate("calibrated", {{"method", "isotonic"}});
  ASSERT_TRUE(AsClassifier(model.get())->Fit(x, labels).ok());
  const fs::path dir = FreshDir("corrupt");
  ASSERT_TRUE(model->SaveWeights(dir).ok());
  const fs::path own = dir / "calibrated.json";
  const fs::path base = dir / "base" / "logistic.json";
  const std::string own_text = *ReadFileToString(own.string());
  const std::string base_text = *ReadFileToString(base.string());

  auto expect_load_fails = [&](const fs::path& named, StatusCode code,
                               const nlohmann::json& config) {
    auto fresh = MustCreate("calibrated", config);
    const Status status = fresh->LoadWeights(dir);
    EXPECT_EQ(status.code(), code) << status.ToString();
    EXPECT_NE(status.message().find(named.string()), std::string::npos) << status.ToString();
    EXPECT_FALSE(fresh->fitted());
  };
  const nlohmann::json config = model->config();
  ASSERT_TRUE(WriteFileAtomically(own.string(), "{\"format\": \"vigil.calibrated\", \"vers").ok());
  expect_load_fails(own, StatusCode::kDataError, config);
  nlohmann::json doc = nlohmann::json::parse(own_text);
  doc["calibrator"]["y"][0] = 2.0;
  ASSERT_TRUE(WriteFileAtomically(own.string(), doc.dump()).ok());
  expect_load_fails(own, StatusCode::kDataError, config);
  doc = nlohmann::json::parse(own_text);
  doc["format"] = "vigil.other";
  ASSERT_TRUE(WriteFileAtomically(own.string(), doc.dump()).ok());
  expect_load_fails(own, StatusCode::kDataError, config);
  // Weights of an isotonic model loaded under a Platt config.
  ASSERT_TRUE(WriteFileAtomically(own.string(), own_text).ok());
  nlohmann::json platt_config = config;
  platt_config["method"] = "platt";
  expect_load_fails(own, StatusCode::kDataError, platt_config);
  // The base's own file, corrupt or missing.
  ASSERT_TRUE(WriteFileAtomically(base.string(), "not json").ok());
  expect_load_fails(base, StatusCode::kDataError, config);
  fs::remove(base);
  expect_load_fails(base, StatusCode::kIoError, config);
  fs::remove(own);
  expect_load_fails(own, StatusCode::kIoError, config);
  // Restored, it loads again.
  ASSERT_TRUE(WriteFileAtomically(own.string(), own_text).ok());
  ASSERT_TRUE(WriteFileAtomically(base.string(), base_text).ok());
  auto fresh = MustCreate("calibrated", config);
  EXPECT_TRUE(fresh->LoadWeights(dir).ok());
  EXPECT_EQ(MustCreate("calibrated", {})->SaveWeights(dir).code(), StatusCode::kFailedPrecondition);
  fs::remove_all(dir);
}

TEST_F(CalibratedKindTest, ConfigIsCompleteAndErrorsNameTheKey) {
  auto model = MustCreate("calibrated", {});
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->config().at("method"), "isotonic");
  EXPECT_EQ(model->config().at("folds"), 3);
  EXPECT_EQ(model->config().at("gap_rows"), 0);
  EXPECT_EQ(model->config().at("base").at("kind"), "logistic");
  EXPECT_EQ(model->config().at("base").at("params"), LogisticRegression().config());
  EXPECT_EQ(MustCreate("calibrated", model->config())->config(), model->config());

  const std::vector<std::pair<nlohmann::json, std::string>> bad = {
      {{{"folds", 0}}, "folds"},
      {{{"folds", "3"}}, "folds"},
      {{{"gap_rows", -1}}, "gap_rows"},
      {{{"method", "beta"}}, "method"},
      {{{"calibration", "platt"}}, "calibration"},
      {{{"base", "logistic"}}, "base"},
      {{{"base", {{"kind", "logistic"}, {"param", {}}}}}, "base"},
      {{{"base", {{"kind", 7}}}}, "base"},
      {{{"base", {{"kind", "logistic"}, {"params", {{"C", -1}}}}}}, "C"},
      {{{"base", {{"kind", "ridge"}}}}, "not a classifier"},
      {{{"base", {{"kind", "no_such_kind"}}}}, "no_such_kind"},
  };
  for (const auto& [config, named] : bad) {
    const Result<std::unique_ptr<Model>> created = CreateModel("calibrated", config);
    ASSERT_FALSE(created.ok()) << config.dump();
    EXPECT_NE(created.status().message().find("calibrated"), std::string::npos)
        << created.status().ToString();
    EXPECT_NE(created.status().message().find(named), std::string::npos)
        << created.status().ToString();
  }
}

TEST_F(CalibratedKindTest, ExplanationsAreTheBases) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeLogisticRows(300, 8, &x, &labels);
  auto model =
      MustCreate("calibrated", {{"base", {{"kind", "test_centroid"}}}, {"method", "platt"}});
  auto* calibrated = AsCalibrated(model.get());
  EXPECT_EQ(calibrated->Shap(x).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(calibrated->Fit(x, labels).ok());
  ASSERT_NE(AsExplainable(model.get()), nullptr);
  const ExplainableModel* base = AsExplainable(calibrated->base());
  ASSERT_NE(base, nullptr);
  const Result<Attributions> shap = calibrated->Shap(x);
  ASSERT_TRUE(shap.ok()) << shap.status().ToString();
  EXPECT_EQ(shap->values, base->Shap(x)->values);
  EXPECT_EQ(shap->features, x.columns);
  const Result<std::vector<double>> margin = calibrated->RawMargin(x);
  ASSERT_TRUE(margin.ok());
  for (int64_t row = 0; row < x.rows; ++row) {
    double sum = 0;
    for (size_t j = 0; j < shap->width(); ++j) sum += shap->at(row, 0, j);
    EXPECT_NEAR(sum, (*margin)[row], 1e-12);
  }
  EXPECT_EQ(calibrated->Importance()->by_method, base->Importance()->by_method);

  // A base that does not explain itself.
  FeatureMatrix rows;
  std::vector<int> row_labels;
  MakeRows(100, 9, &rows, &row_labels);
  auto opaque = MustCreate("calibrated", {{"base", {{"kind", "test_row_memorizer"}}}});
  ASSERT_TRUE(AsClassifier(opaque.get())->Fit(rows, row_labels).ok());
  const Status status = AsCalibrated(opaque.get())->Shap(rows).status();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("test_row_memorizer"), std::string::npos);
  EXPECT_EQ(AsCalibrated(opaque.get())->RawMargin(rows).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(AsCalibrated(opaque.get())->Importance().status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace vigil
