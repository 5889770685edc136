// The "ocsvm" detector (vigil/models/anomaly/ocsvm.h): scikit-learn's OneClassSVM decision
// values to 1e-6 for several kernels and gammas (tests/testdata/models/sklearn_ocsvm.json,
// written by scripts/fixtures/sklearn_density.py), configuration, libsvm's parameter check,
// persistence through libsvm's model file, calibration and contributions.
#include "vigil/models/anomaly/ocsvm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
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

constexpr double kSklearnTolerance = 1e-6;

std::unique_ptr<OneClassSvm> MakeSvm(const nlohmann::json& config) {
  auto model = CreateModel("ocsvm", config);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return nullptr;
  return std::unique_ptr<OneClassSvm>(dynamic_cast<OneClassSvm*>(model->release()));
}

TEST(OcsvmTest, DecisionValuesEqualScikitLearns) {
  const nlohmann::json doc = ReadFixture("sklearn_ocsvm.json");
  ASSERT_TRUE(doc.contains("cases"));
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["params"].dump());
    // The linear case is fitted on shifted rows (see the fixture script).
    FeatureMatrix train = MatrixOf(doc, "train");
    FeatureMatrix fresh = MatrixOf(doc, "new");
    for (double& v : train.values) v += c["shift"].get<double>();
    for (double& v : fresh.values) v += c["shift"].get<double>();
    auto svm = MakeSvm(c["params"]);
    ASSERT_NE(svm, nullptr);
    ASSERT_TRUE(svm->Fit(train).ok());
    EXPECT_NEAR(svm->gamma(), c["gamma_used"].get<double>(), 1e-13 * c["gamma_used"].get<double>());
    EXPECT_EQ(svm->support_vectors(), c["support_vectors"].get<int>());
    for (const auto& [rows, key] :
         {std::pair{&train, "train_decision"}, {&fresh, "new_decision"}}) {
      auto decision = svm->DecisionFunction(*rows);
      ASSERT_TRUE(decision.ok());
      const auto expected = c[key].get<std::vector<double>>();
      ASSERT_EQ(decision->size(), expected.size());
      for (size_t i = 0; i < expected.size(); ++i) {
        // 1e-6, relative for the linear case's decisions of order 1e4.
        EXPECT_NEAR((*decision)[i], expected[i],
                    kSklearnTolerance * std::max(1.0, std::abs(expected[i]) * 1e-3))
            << key << " row " << i;
      }
      // raw = -decision; "auto" flags exactly scikit-learn's predict() == -1 rows.
      auto scores = svm->Score(*rows);
      ASSERT_TRUE(scores.ok());
      for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(scores->raw[i], -(*decision)[i]);
        if (std::abs(expected[i]) > kSklearnTolerance) {
          EXPECT_EQ(static_cast<bool>(scores->flag[i]), expected[i] < 0) << key << " row " << i;
        }
      }
    }
  }
}

TEST(OcsvmTest, ConfigRoundTripsAndBadKeysAreNamed) {
  const nlohmann::json full = {{"kernel", "poly"},     {"nu", 0.2},          {"gamma", 0.5},
                               {"degree", 2},          {"coef0", 1.5},       {"tol", 1e-4},
                               {"shrinking", false},   {"cache_size", 50.0}, {"standardize", true},
                               {"contamination", 0.03}};
  auto svm = MakeSvm(full);
  ASSERT_NE(svm, nullptr);
  EXPECT_EQ(svm->config(), full);
  EXPECT_EQ(MakeSvm(svm->config())->config(), full);
  auto defaults = MakeSvm(nlohmann::json());
  EXPECT_EQ(defaults->config()["gamma"], "scale");
  EXPECT_EQ(defaults->config()["kernel"], "rbf");
  EXPECT_EQ(defaults->config()["nu"], 0.5);
  EXPECT_EQ(MakeSvm({{"gamma", "auto"}})->config()["gamma"], "auto");

  for (const nlohmann::json& bad :
       {nlohmann::json{{"C", 1}}, nlohmann::json{{"kernel", "precomputed"}},
        nlohmann::json{{"nu", 0}}, nlohmann::json{{"nu", 1.5}}, nlohmann::json{{"gamma", -1}},
        nlohmann::json{{"gamma", "median"}}, nlohmann::json{{"degree", 0}},
        nlohmann::json{{"tol", 0}}, nlohmann::json{{"cache_size", -5}},
        nlohmann::json{{"contamination", "none"}}}) {
    auto model = CreateModel("ocsvm", bad);
    ASSERT_FALSE(model.ok()) << bad.dump();
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(model.status().message().find(bad.begin().key()), std::string::npos)
        << model.status().message();
  }
}

TEST(OcsvmTest, FitNeedsTwoRowsAndScoringNeedsAFit) {
  // Every value libsvm's svm_check_parameter would refuse is already refused by the
  // options' Validate (see ConfigRoundTripsAndBadKeysAreNamed).
  OneClassSvm svm;
  EXPECT_EQ(svm.Score(NormalData(3, 2, 1)).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(svm.Fit(NormalData(1, 2, 1)).code(), StatusCode::kInvalidArgument);
  // nu = 1 puts every alpha at its bound: libsvm's rho is then not finite, reported as such.
  auto all_bounded = MakeSvm({{"kernel", "sigmoid"}, {"nu", 1.0}});
  const Status status = all_bounded->Fit(NormalData(20, 2, 1));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("nu"), std::string::npos) << status.message();
}

TEST(OcsvmTest, SavedModelRestoresScoresBitForBitAlsoThroughTheRegistry) {
  const FeatureMatrix train = NormalData(300, 4, 11);
  const FeatureMatrix fresh = NormalData(80, 4, 12);
  for (const char* kernel : {"rbf", "linear"}) {
    SCOPED_TRACE(kernel);
    auto svm = MakeSvm({{"kernel", kernel}, {"nu", 0.2}, {"standardize", true}});
    ASSERT_TRUE(svm->Fit(train).ok());
    auto before = svm->Score(fresh);
    ASSERT_TRUE(before.ok());
    const fs::path dir = FreshDir("ocsvm", std::string("save_") + kernel);
    ASSERT_TRUE(svm->SaveWeights(dir).ok());
    EXPECT_TRUE(fs::exists(dir / "ocsvm.model"));
    auto loaded = MakeSvm(svm->config());
    const Status status = loaded->LoadWeights(dir);
    ASSERT_TRUE(status.ok()) << status.ToString();
    auto after = loaded->Score(fresh);
    ASSERT_TRUE(after.ok());
    EXPECT_EQ(after->raw, before->raw);
    EXPECT_EQ(after->score, before->score);
    EXPECT_EQ(after->contributions, before->contributions);
    EXPECT_EQ(loaded->Describe(), svm->Describe());
  }
  auto svm = MakeSvm({{"nu", 0.1}});
  ASSERT_TRUE(svm->Fit(train).ok());
  auto registry = ModelRegistry::Open(FreshDir("ocsvm", "registry"));
  ASSERT_TRUE(registry.ok());
  Manifest manifest;
  manifest.name = "ocsvm_test";
  manifest.feature_set = {"test", "0123456789abcdef", train.columns};
  ASSERT_TRUE(registry->Register(*svm, manifest).ok());
  auto via = registry->Load("ocsvm_test");
  ASSERT_TRUE(via.ok()) << via.status().ToString();
  EXPECT_EQ(AsAnomalyDetector(via->model.get())->Score(fresh)->raw, svm->Score(fresh)->raw);
}

TEST(OcsvmTest, CorruptFilesFailWithDataErrorNeverACrash) {
  auto svm = MakeSvm({{"nu", 0.3}});
  ASSERT_TRUE(svm->Fit(NormalData(60, 3, 2)).ok());
  const fs::path dir = FreshDir("ocsvm", "corrupt");
  ASSERT_TRUE(svm->SaveWeights(dir).ok());
  const std::string model_path = (dir / "ocsvm.model").string();
  const std::string json_path = (dir / "ocsvm.json").string();
  const std::string model_text = *ReadFileToString(model_path);
  const std::string json_text = *ReadFileToString(json_path);

  const auto expect_data_error = [&](const std::string& model, const std::string& json,
                                     const std::string& named) {
    ASSERT_TRUE(WriteFileAtomically(model_path, model).ok());
    ASSERT_TRUE(WriteFileAtomically(json_path, json).ok());
    auto target = MakeSvm(svm->config());
    const Status status = target->LoadWeights(dir);
    EXPECT_EQ(status.code(), StatusCode::kDataError) << status.ToString();
    EXPECT_NE(status.message().find(named), std::string::npos) << status.message();
    EXPECT_FALSE(target->fitted());
  };
  const size_t sv_section = model_text.find("SV\n") + 3;
  // Truncated in the middle of the support vectors, an empty line, a mangled pair, junk.
  expect_data_error(model_text.substr(0, sv_section + 40), json_text, "ocsvm.model");
  expect_data_error(model_text.substr(0, sv_section) + "\n\n\n", json_text, "ocsvm.model");
  std::string mangled = model_text;
  mangled.replace(mangled.find("2:", sv_section), 2, "x:");
  expect_data_error(mangled, json_text, "ocsvm.model");
  expect_data_error("garbage", json_text, "ocsvm.model");
  std::string classifier = model_text;
  classifier.replace(classifier.find("one_class"), 9, "c_svc");
  expect_data_error(classifier, json_text, "ocsvm.model");
  // The two files disagree, or the JSON is broken.
  auto doc = nlohmann::json::parse(json_text);
  doc["support_vectors"][0] = doc["support_vectors"][0].get<double>() + 0.5;
  expect_data_error(model_text, doc.dump(), "ocsvm.model");
  expect_data_error(model_text, "{", "ocsvm.json");
  auto short_medians = nlohmann::json::parse(json_text);
  short_medians["medians"].erase(0);
  expect_data_error(model_text, short_medians.dump(), "ocsvm.json");
  // Restored files load again.
  ASSERT_TRUE(WriteFileAtomically(model_path, model_text).ok());
  ASSERT_TRUE(WriteFileAtomically(json_path, json_text).ok());
  EXPECT_TRUE(MakeSvm(svm->config())->LoadWeights(dir).ok());
}

TEST(OcsvmTest, NanInputIsRejected) {
  FeatureMatrix x = NormalData(30, 3, 3);
  x.values[4 * 3 + 1] = std::nan("");
  OneClassSvm svm;
  const Status status = svm.Fit(x);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("row 4"), std::string::npos) << status.message();
  ASSERT_TRUE(svm.Fit(NormalData(30, 3, 4)).ok());
  EXPECT_EQ(svm.Score(x).status().code(), StatusCode::kInvalidArgument);
}

TEST(OcsvmTest, ContaminationFractionAndScoresMarkTheFlag) {
  const FeatureMatrix train = NormalData(500, 3, 5);
  auto svm = MakeSvm({{"contamination", 0.04}, {"nu", 0.1}});
  ASSERT_TRUE(svm->Fit(train).ok());
  auto scores = svm->Score(train);
  ASSERT_TRUE(scores.ok());
  const double flagged =
      static_cast<double>(std::count(scores->flag.begin(), scores->flag.end(), true));
  EXPECT_NEAR(flagged / train.rows, 0.04, 0.003);
  EXPECT_NEAR(svm->calibration().contamination(), 0.04, 0.003);
  for (size_t row = 0; row < scores->raw.size(); ++row) {
    EXPECT_EQ(scores->score[row] >= 80.0, static_cast<bool>(scores->flag[row]));
  }
  // "auto": about nu of the training rows fall outside the boundary (Schölkopf et al.).
  auto native = MakeSvm({{"nu", 0.1}});
  ASSERT_TRUE(native->Fit(train).ok());
  EXPECT_NEAR(native->calibration().contamination(), 0.1, 0.03);
  EXPECT_EQ(native->calibration().threshold(), 0.0);
}

TEST(OcsvmTest, LeaveOneFeatureOutContributionsPointAtThePerturbedFeature) {
  const FeatureMatrix train = NormalData(400, 4, 6);
  auto svm = MakeSvm({{"nu", 0.1}});
  ASSERT_TRUE(svm->Fit(train).ok());
  FeatureMatrix probe = NormalData(4, 4, 7);
  for (int64_t row = 0; row < 4; ++row) {
    for (int col = 0; col < 4; ++col) probe.values[row * 4 + col] *= 0.2;
    probe.values[row * 4 + row] = row % 2 ? -5.0 : 5.0;
  }
  auto scores = svm->Score(probe);
  ASSERT_TRUE(scores.ok());
  auto shares = svm->Contributions(probe);
  ASSERT_TRUE(shares.ok());
  for (int64_t row = 0; row < 4; ++row) {
    ASSERT_TRUE(scores->flag[row]) << "row " << row;
    const auto begin = scores->contributions.begin() + row * 4;
    EXPECT_EQ(std::max_element(begin, begin + 4) - begin, row);
    EXPECT_NEAR(std::accumulate(begin, begin + 4, 0.0), 1.0, 1e-12);
    EXPECT_EQ(std::vector<double>(begin, begin + 4),
              std::vector<double>(shares->begin() + row * 4, shares->begin() + row * 4 + 4));
  }
  // An unflagged row has no contributions in Score.
  FeatureMatrix typical{train.columns, 1, {0.0, 0.0, 0.0, 0.0}};
  auto inside = svm->Score(typical);
  ASSERT_TRUE(inside.ok());
  EXPECT_FALSE(inside->flag[0]);
  EXPECT_EQ(inside->contributions, std::vector<double>(4, 0.0));
}

}  // namespace
}  // namespace vigil
