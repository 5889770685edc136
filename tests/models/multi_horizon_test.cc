// The "multi_horizon" kind (multi_horizon.h): one binary classifier per horizon, served
// and saved together.
#include "vigil/models/multi_horizon.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "models/calibration_test_kinds.h"
#include "vigil/core/text_file.h"
#include "vigil/core/timestamp.h"
#include "vigil/models/logistic_regression.h"
#include "vigil/registry/registry.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

constexpr int64_t k5m = 5 * kNanosPerMinute;
constexpr int64_t k15m = 15 * kNanosPerMinute;
constexpr int64_t k30m = 30 * kNanosPerMinute;
constexpr int64_t k1h = 60 * kNanosPerMinute;

// Three features; the event within a longer horizon is likelier and depends more on vol.
struct HorizonData {
  FeatureMatrix x;
  std::vector<std::vector<int>> labels;  // per horizon: 5m, 15m, 1h
};

HorizonData MakeData(int64_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform;
  HorizonData data;
  data.x.columns = {"leverage", "vol", "funding"};
  data.x.rows = n;
  data.labels.assign(3, {});
  for (int64_t row = 0; row < n; ++row) {
    const double lev = normal(rng), vol = normal(rng), funding = normal(rng);
    data.x.values.insert(data.x.values.end(), {lev, vol, funding});
    const double shift[] = {-1.5, -0.5, 0.5};
    const double vol_weight[] = {0.5, 1.0, 2.0};
    for (int k = 0; k < 3; ++k) {
      const double z = shift[k] + lev + vol_weight[k] * vol - 0.3 * funding;
      data.labels[k].push_back(uniform(rng) < 1 / (1 + std::exp(-z)) ? 1 : 0);
    }
  }
  return data;
}

std::unique_ptr<Model> FittedBase(const std::string& kind, const nlohmann::json& params,
                                  const FeatureMatrix& x, const std::vector<int>& labels) {
  Result<std::unique_ptr<Model>> model = CreateModel(kind, params);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return nullptr;
  EXPECT_TRUE(AsClassifier(model->get())->Fit(x, labels).ok());
  return std::move(*model);
}

std::vector<std::unique_ptr<Model>> FittedBases(const std::string& kind, const HorizonData& data,
                                                const nlohmann::json& params = {}) {
  std::vector<std::unique_ptr<Model>> models;
  for (const std::vector<int>& labels : data.labels) {
    models.push_back(FittedBase(kind, params, data.x, labels));
  }
  return models;
}

std::vector<double> Positive(const ProbabilityMatrix& p) {
  std::vector<double> out;
  for (int64_t row = 0; row < p.rows(); ++row) out.push_back(p.at(row, 1));
  return out;
}

std::unique_ptr<Model> MustCreate(const nlohmann::json& config) {
  Result<std::unique_ptr<Model>> model = CreateModel("multi_horizon", config);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? std::move(*model) : nullptr;
}

MultiHorizonClassifier* AsMultiHorizon(Model* model) {
  return dynamic_cast<MultiHorizonClassifier*>(model);
}

fs::path FreshDir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("vigil-multi-horizon-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

class MultiHorizonTest : public ::testing::Test {
 protected:
  void SetUp() override { testing_util::RegisterCalibrationTestKinds(); }
  HorizonData data_ = MakeData(400, 11);
};

TEST_F(MultiHorizonTest, FromModelsServesEveryHorizonFromItsOwnModel) {
  std::vector<std::unique_ptr<Model>> bases = FittedBases("logistic", data_);
  std::vector<std::vector<double>> expected;
  for (const auto& base : bases)
    expected.push_back(Positive(*AsClassifier(base.get())->PredictProba(data_.x)));
  auto model = MultiHorizonClassifier::FromModels({k5m, k15m, k1h}, std::move(bases));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_TRUE((*model)->fitted());
  EXPECT_EQ((*model)->feature_names(), data_.x.columns);
  EXPECT_EQ((*model)->horizons_ns(), (std::vector<int64_t>{k5m, k15m, k1h}));
  EXPECT_EQ((*model)->config().at("horizons"), nlohmann::json({"5m", "15m", "1h"}));
  EXPECT_EQ((*model)->config().at("primary"), "5m");
  const Result<std::vector<double>> horizons = (*model)->PredictHorizons(data_.x);
  ASSERT_TRUE(horizons.ok());
  ASSERT_EQ(horizons->size(), static_cast<size_t>(data_.x.rows) * 3);
  for (int64_t row = 0; row < data_.x.rows; ++row) {
    for (size_t k = 0; k < 3; ++k) EXPECT_EQ((*horizons)[row * 3 + k], expected[k][row]);
  }
  // PredictProba answers the primary horizon (the first).
  EXPECT_EQ(Positive(*(*model)->PredictProba(data_.x)), expected[0]);
  // Longer horizons: more events, so higher mean probability.
  double mean[3] = {0, 0, 0};
  for (int64_t row = 0; row < data_.x.rows; ++row) {
    for (size_t k = 0; k < 3; ++k) mean[k] += (*horizons)[row * 3 + k];
  }
  EXPECT_LT(mean[0], mean[1]);
  EXPECT_LT(mean[1], mean[2]);
  const nlohmann::json described = (*model)->Describe();
  EXPECT_TRUE(described.at("horizons").contains("15m"));
  EXPECT_TRUE(described.at("horizons").at("1h").contains("coefficients"));
  EXPECT_EQ(AsClassifier(&(*model)->horizon_model(1))->num_classes(), 2);
}

TEST_F(MultiHorizonTest, FromModelsValidatesTheModels) {
  auto code = [](const Result<std::unique_ptr<MultiHorizonClassifier>>& r) {
    return r.status().code();
  };
  const auto invalid = StatusCode::kInvalidArgument;
  // Counts differ.
  EXPECT_EQ(code(MultiHorizonClassifier::FromModels({k5m, k15m}, FittedBases("logistic", data_))),
            invalid);
  EXPECT_EQ(code(MultiHorizonClassifier::FromModels({}, {})), invalid);
  // Horizons not increasing, or repeated.
  EXPECT_EQ(
      code(MultiHorizonClassifier::FromModels({k15m, k5m, k1h}, FittedBases("logistic", data_))),
      invalid);
  EXPECT_EQ(
      code(MultiHorizonClassifier::FromModels({k5m, k5m, k1h}, FittedBases("logistic", data_))),
      invalid);
  // A missing, unfitted or non-binary-classifier model.
  auto with_replaced = [&](size_t k, std::unique_ptr<Model> replacement) {
    std::vector<std::unique_ptr<Model>> models = FittedBases("logistic", data_);
    models[k] = std::move(replacement);
    return MultiHorizonClassifier::FromModels({k5m, k15m, k1h}, std::move(models));
  };
  EXPECT_EQ(code(with_replaced(1, nullptr)), invalid);
  EXPECT_EQ(code(with_replaced(1, std::make_unique<LogisticRegression>())), invalid);
  EXPECT_EQ(code(with_replaced(2, *CreateModel("ridge", {}))), invalid);
  // Another kind, another config, other features.
  const auto other_kind =
      with_replaced(1, FittedBase("test_centroid", {}, data_.x, data_.labels[1]));
  EXPECT_EQ(code(other_kind), invalid);
  EXPECT_NE(other_kind.status().message().find("15m"), std::string::npos);
  EXPECT_EQ(code(with_replaced(2, FittedBase("logistic", {{"C", 0.1}}, data_.x, data_.labels[2]))),
            invalid);
  FeatureMatrix renamed = data_.x;
  renamed.columns[2] = "basis";
  const auto other_features =
      with_replaced(2, FittedBase("logistic", {}, renamed, data_.labels[2]));
  EXPECT_EQ(code(other_features), invalid);
  EXPECT_NE(other_features.status().message().find("1h"), std::string::npos);
}

TEST_F(MultiHorizonTest, FitHorizonsFitsEachHorizonOnItsLabels) {
  auto model = MustCreate({{"horizons", {"5m", "15m", "1h"}}, {"primary", "15m"}});
  auto* multi = AsMultiHorizon(model.get());
  EXPECT_FALSE(multi->fitted());
  EXPECT_EQ(multi->PredictHorizons(data_.x).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(multi->FitHorizons(data_.x, data_.labels).ok());
  for (size_t k = 0; k < 3; ++k) {
    LogisticRegression reference;
    ASSERT_TRUE(reference.Fit(data_.x, data_.labels[k]).ok());
    EXPECT_EQ(Positive(*AsClassifier(&multi->horizon_model(k))->PredictProba(data_.x)),
              Positive(*reference.PredictProba(data_.x)));
  }
  EXPECT_EQ(Positive(*multi->PredictProba(data_.x)),
            Positive(*AsClassifier(&multi->horizon_model(1))->PredictProba(data_.x)));

  // Fit uses one label vector for every horizon.
  ASSERT_TRUE(multi->Fit(data_.x, data_.labels[2]).ok());
  EXPECT_EQ(Positive(*AsClassifier(&multi->horizon_model(0))->PredictProba(data_.x)),
            Positive(*AsClassifier(&multi->horizon_model(2))->PredictProba(data_.x)));

  // Errors: label vector count, and a horizon whose labels cannot be fitted (named).
  EXPECT_EQ(multi->FitHorizons(data_.x, {data_.labels[0]}).code(), StatusCode::kInvalidArgument);
  std::vector<std::vector<int>> one_class = data_.labels;
  one_class[1].assign(one_class[1].size(), 0);
  const Status status = multi->FitHorizons(data_.x, one_class);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("horizon 15m"), std::string::npos) << status.ToString();
  EXPECT_TRUE(multi->fitted());  // the earlier fit is kept
}

Manifest TestManifest(const std::vector<std::string>& features) {
  Manifest m;
  m.name = "liq_multi";
  m.feature_set = {"default", "81f468742147cd7b", features};
  m.training_data.instruments = {"sim:BTC-PERP"};
  m.training_data.from = Timestamp::FromSeconds(1'700'000'000);
  m.training_data.to = Timestamp::FromSeconds(1'700'086'400);
  m.training_data.rows = 400;
  m.training_data.fingerprint = "beef";
  m.created_at = Timestamp::FromSeconds(1'700'100'000);
  return m;
}

TEST_F(MultiHorizonTest, RegistryRoundTripReproducesEveryHorizonBitForBit) {
  auto model = MustCreate({{"horizons", {"5m", "15m", "1h"}}, {"primary", "1h"}});
  ASSERT_TRUE(AsMultiHorizon(model.get())->FitHorizons(data_.x, data_.labels).ok());
  const fs::path dir = FreshDir("registry");
  auto registry = ModelRegistry::Open(dir);
  ASSERT_TRUE(registry.ok());
  const Result<Manifest> stored = registry->Register(*model, TestManifest(data_.x.columns));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  const fs::path version_dir = dir / "liq_multi" / std::to_string(stored->version);
  EXPECT_TRUE(fs::exists(version_dir / "multi_horizon.json"));
  for (const char* sub : {"h5m", "h15m", "h1h"}) {
    EXPECT_TRUE(fs::exists(version_dir / sub / "logistic.json")) << sub;
  }
  Result<LoadedModel> loaded = registry->Load("liq_multi@1");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  auto* multi = AsMultiHorizon(loaded->model.get());
  ASSERT_NE(multi, nullptr);
  EXPECT_EQ(loaded->model->config(), model->config());
  EXPECT_EQ(*multi->PredictHorizons(data_.x),
            *AsMultiHorizon(model.get())->PredictHorizons(data_.x));
  EXPECT_EQ(Positive(*multi->PredictProba(data_.x)),
            Positive(*AsClassifier(&multi->horizon_model(2))->PredictProba(data_.x)));
  EXPECT_EQ(loaded->model->Describe(), model->Describe());
  fs::remove_all(dir);
}

TEST_F(MultiHorizonTest, CorruptOrMismatchedWeightsFailNamingTheFile) {
  auto model = MustCreate({{"horizons", {"5m", "15m"}}});
  ASSERT_TRUE(AsClassifier(model.get())->Fit(data_.x, data_.labels[1]).ok());
  const fs::path dir = FreshDir("corrupt");
  ASSERT_TRUE(model->SaveWeights(dir).ok());
  const fs::path own = dir / "multi_horizon.json";
  const fs::path sub = dir / "h15m" / "logistic.json";
  const std::string own_text = *ReadFileToString(own.string());
  const std::string sub_text = *ReadFileToString(sub.string());
  auto expect_fails = [&](const fs::path& named, StatusCode code, const nlohmann::json& config) {
    auto fresh = MustCreate(config);
    const Status status = fresh->LoadWeights(dir);
    EXPECT_EQ(status.code(), code) << status.ToString();
    EXPECT_NE(status.message().find(named.string()), std::string::npos) << status.ToString();
    EXPECT_FALSE(fresh->fitted());
  };
  const nlohmann::json config = model->config();

  ASSERT_TRUE(WriteFileAtomically(sub.string(), "{\"format\": \"vigil.logistic\", [").ok());
  expect_fails(sub, StatusCode::kDataError, config);
  nlohmann::json doc = nlohmann::json::parse(sub_text);
  doc["coefficients"] = {1.0};  // one coefficient for three features
  ASSERT_TRUE(WriteFileAtomically(sub.string(), doc.dump()).ok());
  expect_fails(sub, StatusCode::kDataError, config);
  fs::remove_all(dir / "h15m");
  expect_fails(sub, StatusCode::kIoError, config);
  ASSERT_TRUE(fs::create_directories(dir / "h15m"));
  ASSERT_TRUE(WriteFileAtomically(sub.string(), sub_text).ok());

  ASSERT_TRUE(WriteFileAtomically(own.string(), "[1, 2").ok());
  expect_fails(own, StatusCode::kDataError, config);
  doc = nlohmann::json::parse(own_text);
  doc["feature_names"] = {"a", "b", "c"};
  ASSERT_TRUE(WriteFileAtomically(own.string(), doc.dump()).ok());
  expect_fails(own, StatusCode::kDataError, config);
  doc = nlohmann::json::parse(own_text);
  doc["horizons"] = 5;
  ASSERT_TRUE(WriteFileAtomically(own.string(), doc.dump()).ok());
  expect_fails(own, StatusCode::kDataError, config);
  ASSERT_TRUE(WriteFileAtomically(own.string(), own_text).ok());
  // Weights of 5m/15m loaded under a config with other horizons.
  nlohmann::json other = config;
  other["horizons"] = {"5m", "30m"};
  expect_fails(own, StatusCode::kDataError, other);

  auto fresh = MustCreate(config);
  ASSERT_TRUE(fresh->LoadWeights(dir).ok());
  EXPECT_EQ(*AsMultiHorizon(fresh.get())->PredictHorizons(data_.x),
            *AsMultiHorizon(model.get())->PredictHorizons(data_.x));
  EXPECT_EQ(MustCreate({})->SaveWeights(dir).code(), StatusCode::kFailedPrecondition);
  fs::remove_all(dir);
}

TEST_F(MultiHorizonTest, ShapHasOneOutputPerHorizonAndSumsToTheRawMargin) {
  std::vector<std::unique_ptr<Model>> bases =
      FittedBases("test_centroid", data_, {{"shrink", 0.5}});
  std::vector<Attributions> expected;
  for (const auto& base : bases) expected.push_back(*AsExplainable(base.get())->Shap(data_.x));
  auto model = MultiHorizonClassifier::FromModels({k5m, k15m, k30m}, std::move(bases));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Result<Attributions> shap = (*model)->Shap(data_.x);
  ASSERT_TRUE(shap.ok()) << shap.status().ToString();
  const Result<std::vector<double>> margin = (*model)->RawMargin(data_.x);
  ASSERT_TRUE(margin.ok());
  EXPECT_EQ(shap->outputs, 3);
  EXPECT_EQ(shap->rows, data_.x.rows);
  EXPECT_EQ(shap->features, data_.x.columns);
  ASSERT_EQ(shap->values.size(), static_cast<size_t>(data_.x.rows) * 3 * 4);
  for (int64_t row = 0; row < data_.x.rows; ++row) {
    for (int k = 0; k < 3; ++k) {
      double sum = 0;
      for (size_t j = 0; j < shap->width(); ++j) {
        EXPECT_EQ(shap->at(row, k, j), expected[k].at(row, 0, j));
        sum += shap->at(row, k, j);
      }
      EXPECT_NEAR(sum, (*margin)[row * 3 + k], 1e-12);
      // The margin is the horizon's log-odds.
      const double p = (*(*model)->PredictHorizons(data_.x))[row * 3 + k];
      EXPECT_NEAR(1 / (1 + std::exp(-(*margin)[row * 3 + k])), p, 1e-12);
    }
  }
  // Importance: each method averaged over the horizons.
  const Result<FeatureImportance> importance = (*model)->Importance();
  ASSERT_TRUE(importance.ok());
  for (size_t j = 0; j < 3; ++j) {
    double mean = 0;
    for (size_t k = 0; k < 3; ++k) {
      mean +=
          AsExplainable(&(*model)->horizon_model(k))->Importance()->by_method.at("coefficient")[j] /
          3;
    }
    EXPECT_NEAR(importance->by_method.at("coefficient")[j], mean, 1e-15);
    EXPECT_DOUBLE_EQ(importance->by_method.at("shrink")[j], 0.5);
  }

  // Bases that do not explain themselves: FailedPrecondition naming the horizon.
  FeatureMatrix rows;
  rows.columns = {"row"};
  rows.rows = 50;
  std::vector<int> labels;
  for (int row = 0; row < 50; ++row) {
    rows.values.push_back(row);
    labels.push_back(row % 2);
  }
  std::vector<std::unique_ptr<Model>> opaque;
  for (int k = 0; k < 2; ++k) opaque.push_back(FittedBase("test_row_memorizer", {}, rows, labels));
  auto unexplained = MultiHorizonClassifier::FromModels({k5m, k15m}, std::move(opaque));
  ASSERT_TRUE(unexplained.ok()) << unexplained.status().ToString();
  const Status status = (*unexplained)->Shap(rows).status();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("horizon 5m"), std::string::npos) << status.ToString();
  EXPECT_EQ((*unexplained)->RawMargin(rows).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*unexplained)->Importance().status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(MultiHorizonTest, ConfigDefaultsAndErrors) {
  auto model = MustCreate({});
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->config().at("horizons"), nlohmann::json({"5m", "15m", "30m", "1h"}));
  EXPECT_EQ(model->config().at("primary"), "5m");
  EXPECT_EQ(model->config().at("base").at("kind"), "logistic");
  EXPECT_EQ(model->config().at("base").at("params"), LogisticRegression().config());
  EXPECT_EQ(MustCreate(model->config())->config(), model->config());
  // "60m" and "1h" are the same horizon.
  EXPECT_EQ(MustCreate({{"horizons", {"15m", "60m"}}})->config().at("horizons"),
            nlohmann::json({"15m", "1h"}));

  const std::vector<std::pair<nlohmann::json, std::string>> bad = {
      {{{"horizons", "5m"}}, "horizons"},
      {{{"horizons", nlohmann::json::array()}}, "horizons"},
      {{{"horizons", {"5m", "5x"}}}, "horizons"},
      {{{"horizons", {"5m", 15}}}, "horizons"},
      {{{"horizons", {"15m", "5m"}}}, "horizons"},
      {{{"horizons", {"5m", "300s"}}}, "horizons"},
      {{{"horizons", {"5m", "15m"}}, {"primary", "30m"}}, "primary"},
      {{{"primary", 5}}, "primary"},
      {{{"horizon", {"5m"}}}, "horizon"},
      {{{"base", {{"kind", "ridge"}}}}, "not a classifier"},
      {{{"base", {{"kind", "logistic"}, {"params", {{"max_iter", 0}}}}}}, "max_iter"},
  };
  for (const auto& [config, named] : bad) {
    const Result<std::unique_ptr<Model>> created = CreateModel("multi_horizon", config);
    ASSERT_FALSE(created.ok()) << config.dump();
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument) << config.dump();
    EXPECT_NE(created.status().message().find("multi_horizon"), std::string::npos)
        << created.status().ToString();
    EXPECT_NE(created.status().message().find(named), std::string::npos)
        << created.status().ToString();
  }
}

}  // namespace
}  // namespace vigil
