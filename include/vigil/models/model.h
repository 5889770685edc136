// The model interfaces every family plugs into: a small base (kind, task, configuration
// separate from learned weights, a description) and one interface per task. Kinds register
// under a string name, so a manifest names a kind and the registry can rebuild the model
// without knowing its type at compile time.
//
//   VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<vigil::Model> model,
//                          vigil::CreateModel("logistic", {{"C", 1.0}}));
//   auto* classifier = vigil::AsClassifier(model.get());           // nullptr for other tasks
//   VIGIL_RETURN_IF_ERROR(classifier->Fit(x, labels));
//   VIGIL_ASSIGN_OR_RETURN(vigil::ProbabilityMatrix p, classifier->PredictProba(x));
//   VIGIL_RETURN_IF_ERROR(model->SaveWeights(dir));                 // config() goes in the
//   manifest
//
// Conventions: expected failures (bad shapes, NaN inputs, unfitted model, unreadable weight
// files) are Status errors naming the problem; nothing throws across this interface.
// Feature matrices are row-major doubles with named columns; NaN is a missing value and
// each kind documents whether it accepts them.
// Thread-safety: a fitted model's const methods may be called concurrently; Fit and
// LoadWeights need exclusive access.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/frame.h"
#include "vigil/core/status.h"

namespace vigil {

enum class Task { kAnomaly, kClassification, kRegression, kForecast };

std::string_view TaskName(Task task);  // "anomaly", "classification", "regression", "forecast"
Result<Task> ParseTask(std::string_view text);

// Rows x columns of doubles, row-major, with column names (the feature list).
struct FeatureMatrix {
  std::vector<std::string> columns;
  int64_t rows = 0;
  std::vector<double> values;  // size rows * columns.size(); values[r * cols + c]

  size_t cols() const { return columns.size(); }
  double at(int64_t row, size_t col) const { return values[row * cols() + col]; }
  std::span<const double> row(int64_t r) const {
    return std::span<const double>(values).subspan(r * cols(), cols());
  }
  // Checks sizes, and that every value is finite unless allow_nan.
  Status Validate(bool allow_nan) const;
  // The named double columns of a Frame, in the given order (NotFound naming a missing one).
  static Result<FeatureMatrix> FromFrame(const Frame& frame, const std::vector<std::string>& names);
};

// Per-row class probabilities: rows x num_classes, row-major; each row sums to 1.
struct ProbabilityMatrix {
  int num_classes = 2;
  std::vector<double> values;
  int64_t rows() const {
    return num_classes == 0 ? 0 : static_cast<int64_t>(values.size()) / num_classes;
  }
  double at(int64_t row, int k) const { return values[row * num_classes + k]; }
};

// What a risk desk acts on: a probability mapped to a level by cutpoints.
enum class RiskLevel { kLow, kMedium, kHigh, kCritical };
std::string_view RiskLevelName(RiskLevel level);  // "low", "medium", "high", "critical"
struct RiskCutpoints {
  double medium = 0.25;  // p >= medium -> at least medium
  double high = 0.5;
  double critical = 0.75;
  Status Validate() const;  // 0 < medium < high < critical < 1
};
RiskLevel RiskLevelOf(double probability, const RiskCutpoints& cutpoints);

class Model {
 public:
  virtual ~Model() = default;

  virtual std::string_view kind() const = 0;  // the factory name, e.g. "logistic"
  virtual Task task() const = 0;
  // Hyperparameters, complete (defaults filled in): CreateModel(kind(), config()) builds an
  // unfitted model that fits identically. Goes into the manifest.
  virtual nlohmann::json config() const = 0;
  // Learned state, written to / read from files of the kind's choosing inside `dir`
  // (which exists). LoadWeights on a model built from the same config restores predictions
  // bit for bit; missing or corrupt files fail naming the file.
  virtual Status SaveWeights(const std::filesystem::path& dir) const = 0;
  virtual Status LoadWeights(const std::filesystem::path& dir) = 0;
  // A summary of the fitted model (coefficients, thresholds, ...) for `vigil models show`.
  virtual nlohmann::json Describe() const = 0;
  virtual bool fitted() const = 0;
  // The feature columns the model was fitted on, in order (empty before Fit).
  virtual const std::vector<std::string>& feature_names() const = 0;
};

class Classifier : public Model {
 public:
  Task task() const override { return Task::kClassification; }
  // labels[i] in [0, num_classes); weights empty or one per row (>= 0).
  virtual Status Fit(const FeatureMatrix& x, std::span<const int> labels,
                     std::span<const double> weights = {}) = 0;
  virtual Result<ProbabilityMatrix> PredictProba(const FeatureMatrix& x) const = 0;
  virtual int num_classes() const = 0;
};

class Regressor : public Model {
 public:
  Task task() const override { return Task::kRegression; }
  virtual Status Fit(const FeatureMatrix& x, std::span<const double> targets,
                     std::span<const double> weights = {}) = 0;
  virtual Result<std::vector<double>> Predict(const FeatureMatrix& x) const = 0;
};

struct AnomalyScores {
  std::vector<double> raw;    // higher = more anomalous
  std::vector<double> score;  // 0..100, calibrated on the training distribution
  std::vector<bool> flag;     // score >= the detector's threshold
  // Per row, per feature: how much each feature drove the score (rows x cols, row-major);
  // filled for flagged rows, zeros elsewhere.
  std::vector<double> contributions;
};

// Every detector (include/vigil/models/anomaly/ and the zscore baseline) follows one contract:
// - raw: higher = more anomalous, on the detector's own scale;
// - score: 0..100 by the detector's ScoreCalibration (anomaly/calibration.h), fitted on the
//   training rows, so the flag threshold maps to a fixed level (80) for every kind;
// - flag: raw >= the threshold set by `contamination` (a fraction, or "auto");
// - contributions: non-negative per-feature shares summing to 1 (all zero when there is
//   nothing to attribute), filled by Score for flagged rows and by Contributions for all.
class AnomalyDetector : public Model {
 public:
  Task task() const override { return Task::kAnomaly; }
  virtual Status Fit(const FeatureMatrix& x) = 0;
  // Scores new rows against the fitted model (novelty mode).
  virtual Result<AnomalyScores> Score(const FeatureMatrix& x) const = 0;
  // Per-row, per-feature shares (rows x cols, row-major) for every row of x, computed the
  // way Score fills them for flagged rows.
  virtual Result<std::vector<double>> Contributions(const FeatureMatrix& x) const = 0;
  // Fits on x and scores the same rows in-sample. Default: Fit then Score. Kinds whose
  // training-row scores differ from novelty scores (lof and dbscan: a training row is not
  // its own neighbour) override it, matching scikit-learn's fit_predict semantics.
  virtual Result<AnomalyScores> FitScore(const FeatureMatrix& x);
};

struct ForecastPath {
  std::vector<double> mean;   // horizons 1..H
  std::vector<double> level;  // interval levels, e.g. {0.8, 0.95}
  // lower[i][h], upper[i][h] for level[i], horizon h + 1.
  std::vector<std::vector<double>> lower;
  std::vector<std::vector<double>> upper;
  // Forecast standard errors, horizons 1..H (the intervals' scale); empty when a kind has
  // none.
  std::vector<double> se;
};

// Forecasting kinds (include/vigil/models/forecast/: arima, auto_arima, garch, and the naive
// and drift baselines). A forecaster has one input series; feature_names() is {"y"} once
// fitted.
class Forecaster : public Model {
 public:
  Task task() const override { return Task::kForecast; }
  // Fits to the series (finite values, oldest first), replacing any earlier fit.
  virtual Status Fit(std::span<const double> series) = 0;
  // Forecasts horizons 1..horizon (>= 1) from the end of the data seen (fit + appended),
  // with intervals at `levels` (each in (0, 1)). FailedPrecondition when not fitted.
  virtual Result<ForecastPath> Forecast(int horizon, std::span<const double> levels) const = 0;
  // Online update without refitting: the observations that followed the data seen so far
  // extend the model's state (filter, last value, variance recursion) with the fitted
  // parameters unchanged, so Forecast continues from the new end. FailedPrecondition when
  // not fitted; InvalidArgument for non-finite values. Kinds without an online update keep
  // this default, which returns Unimplemented.
  virtual Status Append(std::span<const double> values) {
    (void)values;
    return Unimplemented("model '" + std::string(kind()) + "': no online update (Append)");
  }
};

// Per-prediction attributions in the model's raw margin space (log-odds for binary
// classifiers, per-class margins for multiclass, the prediction for regressors).
// values[(row * outputs + k) * (features + 1) + j]: feature j's contribution to output k
// of the row, with j == features the bias (the expected margin). Each row's contributions
// to output k sum to RawMargin's value for (row, k) up to float rounding.
struct Attributions {
  std::vector<std::string> features;  // the model's feature names, in order (bias not listed)
  int outputs = 1;                    // 1, or num_classes for multiclass
  int64_t rows = 0;
  std::vector<double> values;

  size_t width() const { return features.size() + 1; }
  double at(int64_t row, int output, size_t j) const {
    return values[(static_cast<size_t>(row) * outputs + output) * width() + j];
  }
};

// Global importance of each feature, by method name ("gain", "cover", "mean_abs_shap",
// "permutation", ...), each a vector aligned with feature_names().
struct FeatureImportance {
  std::vector<std::string> features;
  std::map<std::string, std::vector<double>> by_method;
};

// Models that explain their predictions exactly: tree ensembles (TreeSHAP) and linear
// models (interventional linear SHAP, w_j * (x_j - mean_j)). Found with AsExplainable.
class ExplainableModel {
 public:
  virtual ~ExplainableModel() = default;
  // Raw margins: rows x outputs, row-major (see Attributions).
  virtual Result<std::vector<double>> RawMargin(const FeatureMatrix& x) const = 0;
  virtual Result<Attributions> Shap(const FeatureMatrix& x) const = 0;
  // The importance the model knows by itself (tree: gain, cover; linear: |coefficient| *
  // feature standard deviation). mean_abs_shap is added by the caller from Shap.
  virtual Result<FeatureImportance> Importance() const = 0;
};

// The model's ExplainableModel side, or nullptr when it has none.
const ExplainableModel* AsExplainable(const Model* model);

// Downcasts by task (nullptr when the model is of another task).
Classifier* AsClassifier(Model* model);
Regressor* AsRegressor(Model* model);
AnomalyDetector* AsAnomalyDetector(Model* model);
Forecaster* AsForecaster(Model* model);
const Classifier* AsClassifier(const Model* model);
const Regressor* AsRegressor(const Model* model);
const AnomalyDetector* AsAnomalyDetector(const Model* model);
const Forecaster* AsForecaster(const Model* model);

// --- the kind factory ---

using ModelFactory = std::function<Result<std::unique_ptr<Model>>(const nlohmann::json& config)>;

// Registers a kind (AlreadyExists if the name is taken). Built-in kinds are registered on
// first use of the factory; families in later modules register theirs the same way.
Status RegisterModelKind(const std::string& kind, Task task, ModelFactory factory);
// A new, unfitted model of `kind` from its configuration: unknown keys and bad values fail
// with InvalidArgument naming the kind and key; missing keys take defaults.
Result<std::unique_ptr<Model>> CreateModel(const std::string& kind, const nlohmann::json& config);
// Registered kinds, sorted, with their tasks.
std::vector<std::pair<std::string, Task>> ModelKinds();

}  // namespace vigil
