#include "vigil/models/neural/autoencoder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "vigil/core/rng.h"
#include "vigil/core/text_file.h"
#include "vigil/models/metrics.h"
#include "vigil/registry/registry.h"

namespace vigil {
namespace {

constexpr int kFeatures = 8;
constexpr int kPerturbedFeature = 3;

// Rows on a random 2-d subspace of R^8 plus small isotropic noise.
struct LowRankData {
  explicit LowRankData(uint64_t seed) : rng(seed) {
    for (double& weight : loadings) weight = rng.Normal();
  }

  std::vector<double> Row() {
    const double z0 = rng.Normal();
    const double z1 = rng.Normal();
    std::vector<double> row(kFeatures);
    for (int j = 0; j < kFeatures; ++j) {
      row[j] = loadings[2 * j] * z0 + loadings[2 * j + 1] * z1 + 0.05 * rng.Normal();
    }
    return row;
  }

  // `normal` on-subspace rows followed by `anomalies` rows pushed off the subspace along
  // kPerturbedFeature only; labels mark the anomalies.
  FeatureMatrix Matrix(int normal, int anomalies, std::vector<int>* labels = nullptr) {
    FeatureMatrix x;
    for (int j = 0; j < kFeatures; ++j) x.columns.push_back("f" + std::to_string(j));
    for (int i = 0; i < normal + anomalies; ++i) {
      std::vector<double> row = Row();
      const bool anomalous = i >= normal;
      if (anomalous) row[kPerturbedFeature] += rng.Bernoulli(0.5) ? 4.0 : -4.0;
      x.values.insert(x.values.end(), row.begin(), row.end());
      if (labels != nullptr) labels->push_back(anomalous ? 1 : 0);
    }
    x.rows = normal + anomalies;
    return x;
  }

  Rng rng;
  double loadings[2 * kFeatures];
};

// Small and fast: a few hundred Adam steps on 8 features.
AutoencoderOptions FastOptions() {
  AutoencoderOptions options;
  options.epochs = 40;
  options.batch_size = 32;
  options.learning_rate = 0.01;
  options.seed = 3;
  return options;
}

int ArgMax(const std::vector<double>& values, int64_t row, size_t cols) {
  const auto begin = values.begin() + row * cols;
  return static_cast<int>(std::max_element(begin, begin + cols) - begin);
}

std::filesystem::path TempDir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("vigil-autoencoder-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void ExpectSameScores(const AnomalyScores& a, const AnomalyScores& b) {
  EXPECT_EQ(a.raw, b.raw);  // exact double equality: bit for bit
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(a.flag, b.flag);
  EXPECT_EQ(a.contributions, b.contributions);
}

class AutoencoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LowRankData data(11);
    train_ = data.Matrix(600, 0);
    test_ = data.Matrix(200, 10, &labels_);
  }

  FeatureMatrix train_;
  FeatureMatrix test_;
  std::vector<int> labels_;
};

TEST_F(AutoencoderTest, LearnsLowRankStructureAndBlamesThePerturbedFeature) {
  Autoencoder model(FastOptions());
  ASSERT_TRUE(model.Fit(train_).ok());
  EXPECT_EQ(model.layer_widths(), (std::vector<int>{8, 4, 2, 4, 8}));
  auto scores = model.Score(test_);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  auto auc = RocAuc(labels_, scores->raw);
  ASSERT_TRUE(auc.ok());
  EXPECT_GT(*auc, 0.97);
  // Reconstruction is good on the subspace: held-out normal rows score near the training loss.
  EXPECT_LT(model.train_loss(), 0.1);

  auto contributions = model.Contributions(test_);
  ASSERT_TRUE(contributions.ok());
  int blamed = 0;
  for (int64_t row = 200; row < test_.rows; ++row) {
    blamed += ArgMax(*contributions, row, test_.cols()) == kPerturbedFeature;
    double total = 0;
    for (size_t col = 0; col < test_.cols(); ++col)
      total += (*contributions)[row * test_.cols() + col];
    EXPECT_NEAR(total, 1.0, 1e-12);
  }
  EXPECT_GE(blamed, 9);
  // Score fills the same shares for flagged rows and zeros elsewhere.
  for (int64_t row = 0; row < test_.rows; ++row) {
    for (size_t col = 0; col < test_.cols(); ++col) {
      const size_t at = row * test_.cols() + col;
      EXPECT_EQ(scores->contributions[at], scores->flag[row] ? (*contributions)[at] : 0.0);
    }
  }

  const nlohmann::json described = model.Describe();
  EXPECT_EQ(described["architecture"]["layers"], nlohmann::json({8, 4, 2, 4, 8}));
  EXPECT_GE(described["epochs_run"].get<int>(), 1);
  EXPECT_TRUE(described["validation_loss"].is_number());
  EXPECT_EQ(described["threshold"].get<double>(), model.calibration().threshold());
}

TEST_F(AutoencoderTest, DeterministicForAFixedSeed) {
  Autoencoder first(FastOptions());
  Autoencoder second(FastOptions());
  ASSERT_TRUE(first.Fit(train_).ok());
  ASSERT_TRUE(second.Fit(train_).ok());
  auto a = first.Score(test_);
  auto b = second.Score(test_);
  ASSERT_TRUE(a.ok() && b.ok());
  ExpectSameScores(*a, *b);
  EXPECT_EQ(first.epochs_run(), second.epochs_run());

  AutoencoderOptions reseeded = FastOptions();
  reseeded.seed = 4;
  Autoencoder third(reseeded);
  ASSERT_TRUE(third.Fit(train_).ok());
  auto c = third.Score(test_);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->raw, c->raw);
}

TEST_F(AutoencoderTest, EarlyStoppingKeepsTheBestEpoch) {
  AutoencoderOptions options = FastOptions();
  options.epochs = 200;
  options.patience = 2;
  Autoencoder model(options);
  ASSERT_TRUE(model.Fit(train_).ok());
  EXPECT_LT(model.epochs_run(), 200);
  EXPECT_EQ(model.best_epoch(), model.epochs_run() - 2);
  ASSERT_TRUE(model.validation_loss().has_value());

  options.validation_fraction = 0;
  options.epochs = 5;
  Autoencoder without_validation(options);
  ASSERT_TRUE(without_validation.Fit(train_).ok());
  EXPECT_EQ(without_validation.epochs_run(), 5);
  EXPECT_FALSE(without_validation.validation_loss().has_value());
}

TEST(AutoencoderConfigTest, RoundTripsThroughTheFactory) {
  ASSERT_TRUE(RegisterNeuralModelKinds().ok());
  ASSERT_TRUE(RegisterNeuralModelKinds().ok());  // idempotent
  const nlohmann::json config = {{"hidden", {6, 3}},
                                 {"activation", "tanh"},
                                 {"epochs", 7},
                                 {"seed", 9},
                                 {"contamination", 0.05}};
  auto model = CreateModel("autoencoder", config);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->task(), Task::kAnomaly);
  const nlohmann::json full = (*model)->config();
  EXPECT_EQ(full["hidden"], nlohmann::json({6, 3}));
  EXPECT_EQ(full["activation"], "tanh");
  EXPECT_EQ(full["epochs"], 7);
  EXPECT_EQ(full["batch_size"], 128);
  EXPECT_EQ(full["learning_rate"], 1e-3);
  EXPECT_EQ(full["weight_decay"], 0.0);
  EXPECT_EQ(full["validation_fraction"], 0.1);
  EXPECT_EQ(full["patience"], 5);
  EXPECT_EQ(full["threads"], 1);
  EXPECT_EQ(full["contamination"], 0.05);
  auto rebuilt = CreateModel("autoencoder", full);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ((*rebuilt)->config(), full);

  auto defaults = CreateModel("autoencoder", nullptr);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ((*defaults)->config()["hidden"], "auto");
  EXPECT_EQ((*defaults)->config()["contamination"], "auto");
}

TEST(AutoencoderConfigTest, RejectsBadKeysNamingThem) {
  ASSERT_TRUE(RegisterNeuralModelKinds().ok());
  const std::vector<std::pair<std::string, nlohmann::json>> bad = {
      {"layers", {{"layers", 3}}},
      {"hidden", {{"hidden", nlohmann::json::array()}}},
      {"hidden", {{"hidden", {4, 0}}}},
      {"hidden", {{"hidden", "wide"}}},
      {"activation", {{"activation", "sigmoid"}}},
      {"epochs", {{"epochs", 0}}},
      {"batch_size", {{"batch_size", 0}}},
      {"learning_rate", {{"learning_rate", 0.0}}},
      {"weight_decay", {{"weight_decay", -1.0}}},
      {"validation_fraction", {{"validation_fraction", 0.6}}},
      {"patience", {{"patience", 0}}},
      {"seed", {{"seed", -1}}},
      {"threads", {{"threads", 0}}},
      {"contamination", {{"contamination", 0.7}}},
  };
  for (const auto& [key, config] : bad) {
    auto model = CreateModel("autoencoder", config);
    ASSERT_FALSE(model.ok()) << config.dump();
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument) << config.dump();
    EXPECT_NE(model.status().message().find("'" + key + "'"), std::string::npos)
        << model.status().message();
  }
}

TEST_F(AutoencoderTest, SavesAndLoadsBitForBitDirectlyAndThroughTheRegistry) {
  ASSERT_TRUE(RegisterNeuralModelKinds().ok());
  AutoencoderOptions options = FastOptions();
  options.contamination = Contamination::Fraction(0.05);
  Autoencoder model(options);
  ASSERT_TRUE(model.Fit(train_).ok());
  auto expected = model.Score(test_);
  ASSERT_TRUE(expected.ok());

  const auto dir = TempDir("save");
  ASSERT_TRUE(model.SaveWeights(dir).ok());
  EXPECT_TRUE(std::filesystem::exists(dir / "autoencoder.pt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "autoencoder.json"));
  Autoencoder loaded(options);
  const Status status = loaded.LoadWeights(dir);
  ASSERT_TRUE(status.ok()) << status.ToString();
  auto restored = loaded.Score(test_);
  ASSERT_TRUE(restored.ok());
  ExpectSameScores(*expected, *restored);
  EXPECT_EQ(loaded.Describe(), model.Describe());

  auto registry = ModelRegistry::Open(dir / "models");
  ASSERT_TRUE(registry.ok());
  Manifest manifest;
  manifest.name = "ae";
  manifest.feature_set = {"default", "81f468742147cd7b", train_.columns};
  auto stored = registry->Register(model, manifest);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  auto live = registry->Load("ae@latest");
  ASSERT_TRUE(live.ok()) << live.status().ToString();
  EXPECT_EQ(live->model->kind(), "autoencoder");
  auto* detector = AsAnomalyDetector(live->model.get());
  ASSERT_NE(detector, nullptr);
  auto through_registry = detector->Score(test_);
  ASSERT_TRUE(through_registry.ok());
  ExpectSameScores(*expected, *through_registry);
  std::filesystem::remove_all(dir);
}

// Writes `text` over `path`.
void Overwrite(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Loads `dir` into a fresh model and expects DataError naming `file`.
void ExpectRejected(const AutoencoderOptions& options, const std::filesystem::path& dir,
                    const std::string& file, const std::string& why) {
  Autoencoder model(options);
  const Status status = model.LoadWeights(dir);
  EXPECT_EQ(status.code(), StatusCode::kDataError) << why << ": " << status.ToString();
  EXPECT_NE(status.message().find(file), std::string::npos) << why << ": " << status.message();
  EXPECT_FALSE(model.fitted()) << why;
}

TEST_F(AutoencoderTest, RejectsCorruptOrMismatchedWeightFiles) {
  Autoencoder model(FastOptions());
  ASSERT_TRUE(model.Fit(train_).ok());
  const auto dir = TempDir("corrupt");
  ASSERT_TRUE(model.SaveWeights(dir).ok());
  const std::string parameters = Slurp(dir / "autoencoder.pt");
  const std::string state = Slurp(dir / "autoencoder.json");

  Overwrite(dir / "autoencoder.pt", parameters.substr(0, parameters.size() / 2));
  ExpectRejected(FastOptions(), dir, "autoencoder.pt", "truncated parameters");
  Overwrite(dir / "autoencoder.pt", "not a zip archive");
  ExpectRejected(FastOptions(), dir, "autoencoder.pt", "garbage parameters");
  std::filesystem::remove(dir / "autoencoder.pt");
  ExpectRejected(FastOptions(), dir, "autoencoder.pt", "missing parameters");

  // Parameters of another fit: well-formed, but not the ones the state file describes.
  AutoencoderOptions other = FastOptions();
  other.seed = 99;
  other.epochs = 1;
  Autoencoder stranger(other);
  ASSERT_TRUE(stranger.Fit(train_).ok());
  const auto stranger_dir = TempDir("stranger");
  ASSERT_TRUE(stranger.SaveWeights(stranger_dir).ok());
  std::filesystem::copy_file(stranger_dir / "autoencoder.pt", dir / "autoencoder.pt");
  ExpectRejected(FastOptions(), dir, "autoencoder.pt", "parameters of another model");
  Overwrite(dir / "autoencoder.pt", parameters);

  Overwrite(dir / "autoencoder.json", state.substr(0, state.size() / 2));
  ExpectRejected(FastOptions(), dir, "autoencoder.json", "truncated state");
  nlohmann::json edited = nlohmann::json::parse(state);
  edited["sds"][0] = -1.0;
  Overwrite(dir / "autoencoder.json", edited.dump());
  ExpectRejected(FastOptions(), dir, "autoencoder.json", "negative sd");
  std::filesystem::remove(dir / "autoencoder.json");
  ExpectRejected(FastOptions(), dir, "autoencoder.json", "missing state");

  // A configuration whose architecture differs from the saved one.
  Overwrite(dir / "autoencoder.json", state);
  AutoencoderOptions wider = FastOptions();
  wider.hidden = {6, 3};
  ExpectRejected(wider, dir, "autoencoder.json", "architecture mismatch");
  Autoencoder intact(FastOptions());
  EXPECT_TRUE(intact.LoadWeights(dir).ok());
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(stranger_dir);
}

TEST_F(AutoencoderTest, ContaminationFractionFlagsAboutThatFraction) {
  AutoencoderOptions options = FastOptions();
  options.contamination = Contamination::Fraction(0.05);
  Autoencoder model(options);
  auto in_sample = model.FitScore(train_);
  ASSERT_TRUE(in_sample.ok()) << in_sample.status().ToString();
  const auto flagged = std::count(in_sample->flag.begin(), in_sample->flag.end(), true);
  EXPECT_NEAR(static_cast<double>(flagged) / train_.rows, 0.05, 0.005);
  auto novelty = model.Score(test_);
  ASSERT_TRUE(novelty.ok());
  for (const AnomalyScores* scores : {&*in_sample, &*novelty}) {
    for (size_t row = 0; row < scores->raw.size(); ++row) {
      EXPECT_EQ(scores->score[row] >= 80.0, static_cast<bool>(scores->flag[row])) << row;
      EXPECT_GE(scores->score[row], 0.0);
      EXPECT_LE(scores->score[row], 100.0);
    }
  }
  // Every injected off-subspace row is flagged.
  for (int64_t row = 200; row < test_.rows; ++row) EXPECT_TRUE(novelty->flag[row]) << row;
}

TEST_F(AutoencoderTest, IgnoresConstantFeaturesAndRejectsNonFiniteInput) {
  FeatureMatrix with_constant;
  with_constant.columns = train_.columns;
  with_constant.columns.push_back("flat");
  with_constant.rows = train_.rows;
  for (int64_t row = 0; row < train_.rows; ++row) {
    const auto values = train_.row(row);
    with_constant.values.insert(with_constant.values.end(), values.begin(), values.end());
    with_constant.values.push_back(2.5);
  }
  AutoencoderOptions options = FastOptions();
  options.epochs = 3;
  Autoencoder model(options);
  ASSERT_TRUE(model.Fit(with_constant).ok());
  EXPECT_EQ(model.layer_widths().front(), 8);
  EXPECT_EQ(model.sds().back(), 1.0);
  EXPECT_EQ(model.Describe()["architecture"]["ignored_features"], nlohmann::json({"flat"}));
  FeatureMatrix shifted = with_constant;
  shifted.values[with_constant.cols() - 1] = 1e6;  // the constant feature moves in row 0
  auto contributions = model.Contributions(shifted);
  ASSERT_TRUE(contributions.ok());
  EXPECT_EQ((*contributions)[with_constant.cols() - 1], 0.0);

  FeatureMatrix bad = with_constant;
  bad.values[2 * bad.cols() + 4] = std::nan("");
  auto scored = model.Score(bad);
  ASSERT_EQ(scored.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(scored.status().message().find("row 2"), std::string::npos);
  EXPECT_NE(scored.status().message().find("'f4'"), std::string::npos);
  bad.values[2 * bad.cols() + 4] = INFINITY;
  EXPECT_EQ(model.Fit(bad).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(model.fitted());  // a failed Fit leaves the fitted model in place

  Autoencoder unfitted(options);
  EXPECT_EQ(unfitted.Score(train_).status().code(), StatusCode::kFailedPrecondition);
  FeatureMatrix flat;
  flat.columns = {"a", "b"};
  flat.rows = 3;
  flat.values = {1, 2, 1, 2, 1, 2};
  EXPECT_EQ(unfitted.Fit(flat).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil
