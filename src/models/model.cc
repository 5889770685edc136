#include "vigil/models/model.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "models/builtin_kinds.h"

namespace vigil {

std::string_view TaskName(Task task) {
  switch (task) {
    case Task::kAnomaly:
      return "anomaly";
    case Task::kClassification:
      return "classification";
    case Task::kRegression:
      return "regression";
    case Task::kForecast:
      return "forecast";
  }
  return "unknown";
}

Result<Task> ParseTask(std::string_view text) {
  for (Task task : {Task::kAnomaly, Task::kClassification, Task::kRegression, Task::kForecast}) {
    if (TaskName(task) == text) return task;
  }
  return InvalidArgument("unknown task '" + std::string(text) +
                         "' (expected anomaly, classification, regression or forecast)");
}

Status FeatureMatrix::Validate(bool allow_nan) const {
  if (rows < 0) return InvalidArgument("feature matrix: negative row count");
  const size_t expected = static_cast<size_t>(rows) * cols();
  if (values.size() != expected) {
    return InvalidArgument("feature matrix: " + std::to_string(values.size()) + " values for " +
                           std::to_string(rows) + " rows x " + std::to_string(cols()) + " columns");
  }
  // Fast path: one vectorised pass (Eigen) answers "all finite?" for the usual clean
  // matrix; only a matrix with a bad value is scanned again to name it.
  const Eigen::Map<const Eigen::ArrayXd> all(values.data(), static_cast<Eigen::Index>(expected));
  if (all.allFinite() || (allow_nan && !all.isInf().any())) return Status::Ok();
  for (int64_t row_idx = 0; row_idx < rows; ++row_idx) {
    for (size_t col = 0; col < cols(); ++col) {
      const double value = at(row_idx, col);
      if (std::isfinite(value) || (allow_nan && std::isnan(value))) continue;
      return InvalidArgument("feature matrix: row " + std::to_string(row_idx) + ", column '" +
                             columns[col] + "': " + (std::isnan(value) ? "NaN" : "infinite") +
                             " value");
    }
  }
  return Status::Ok();
}

Result<FeatureMatrix> FeatureMatrix::FromFrame(const Frame& frame,
                                               const std::vector<std::string>& names) {
  FeatureMatrix matrix;
  matrix.columns = names;
  matrix.rows = frame.rows();
  matrix.values.resize(static_cast<size_t>(matrix.rows) * names.size());
  for (size_t col = 0; col < names.size(); ++col) {
    if (!frame.HasColumn(names[col])) {
      return NotFound("feature matrix: frame has no column '" + names[col] + "'");
    }
    Result<std::span<const double>> column = frame.DoubleColumn(names[col]);
    if (!column.ok()) return column.status().WithContext("feature matrix");
    for (int64_t row_idx = 0; row_idx < matrix.rows; ++row_idx) {
      matrix.values[row_idx * names.size() + col] = (*column)[row_idx];
    }
  }
  return matrix;
}

std::string_view RiskLevelName(RiskLevel level) {
  switch (level) {
    case RiskLevel::kLow:
      return "low";
    case RiskLevel::kMedium:
      return "medium";
    case RiskLevel::kHigh:
      return "high";
    case RiskLevel::kCritical:
      return "critical";
  }
  return "unknown";
}

Status RiskCutpoints::Validate() const {
  // Written so that NaN cutpoints fail too.
  if (!(0.0 < medium && medium < high && high < critical && critical < 1.0)) {
    return InvalidArgument("risk cutpoints: need 0 < medium < high < critical < 1, got " +
                           std::to_string(medium) + ", " + std::to_string(high) + ", " +
                           std::to_string(critical));
  }
  return Status::Ok();
}

RiskLevel RiskLevelOf(double probability, const RiskCutpoints& cutpoints) {
  if (probability >= cutpoints.critical) return RiskLevel::kCritical;
  if (probability >= cutpoints.high) return RiskLevel::kHigh;
  if (probability >= cutpoints.medium) return RiskLevel::kMedium;
  return RiskLevel::kLow;  // including NaN: no evidence of risk
}

Result<AnomalyScores> AnomalyDetector::FitScore(const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(Fit(x));
  return Score(x);
}

Classifier* AsClassifier(Model* model) {
  return model != nullptr && model->task() == Task::kClassification
             ? static_cast<Classifier*>(model)
             : nullptr;
}
Regressor* AsRegressor(Model* model) {
  return model != nullptr && model->task() == Task::kRegression ? static_cast<Regressor*>(model)
                                                                : nullptr;
}
AnomalyDetector* AsAnomalyDetector(Model* model) {
  return model != nullptr && model->task() == Task::kAnomaly ? static_cast<AnomalyDetector*>(model)
                                                             : nullptr;
}
Forecaster* AsForecaster(Model* model) {
  return model != nullptr && model->task() == Task::kForecast ? static_cast<Forecaster*>(model)
                                                              : nullptr;
}

const ExplainableModel* AsExplainable(const Model* model) {
  return dynamic_cast<const ExplainableModel*>(model);
}
const Classifier* AsClassifier(const Model* model) {
  return AsClassifier(const_cast<Model*>(model));  // the same object, handed back const
}
const Regressor* AsRegressor(const Model* model) { return AsRegressor(const_cast<Model*>(model)); }
const AnomalyDetector* AsAnomalyDetector(const Model* model) {
  return AsAnomalyDetector(const_cast<Model*>(model));
}
const Forecaster* AsForecaster(const Model* model) {
  return AsForecaster(const_cast<Model*>(model));
}

namespace {

struct KindEntry {
  Task task;
  ModelFactory factory;
};

// The kind registry. Built-in kinds are added when it is first constructed, i.e. on the
// first use of the factory.
class KindRegistry {
 public:
  static KindRegistry& Get() {
    static KindRegistry* registry = new KindRegistry();  // never destroyed: safe at exit
    return *registry;
  }

  Status Register(const std::string& kind, Task task, ModelFactory factory) {
    if (kind.empty()) return InvalidArgument("model kind: empty name");
    if (!factory) return InvalidArgument("model kind '" + kind + "': empty factory");
    std::lock_guard<std::mutex> lock(mu_);
    if (!kinds_.emplace(kind, KindEntry{task, std::move(factory)}).second) {
      return AlreadyExists("model kind '" + kind + "' is already registered");
    }
    return Status::Ok();
  }

  Result<KindEntry> Find(const std::string& kind) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kinds_.find(kind);
    if (it != kinds_.end()) return it->second;
    std::string known;
    for (const auto& [name, entry] : kinds_) known += (known.empty() ? "" : ", ") + name;
    return NotFound("unknown model kind '" + kind + "' (known kinds: " + known + ")");
  }

  std::vector<std::pair<std::string, Task>> List() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<std::string, Task>> out;
    for (const auto& [name, entry] : kinds_) out.emplace_back(name, entry.task);
    return out;  // std::map keeps them sorted
  }

 private:
  KindRegistry() {
    for (models_internal::KindRegistration builtin :
         {models_internal::LogisticRegressionKind(),
          models_internal::RidgeRegressionKind(),
          models_internal::RobustZscoreKind(),
          models_internal::IsolationForestKind(),
          models_internal::ExtendedIsolationForestKind(),
          models_internal::LocalOutlierFactorKind(),
          models_internal::OneClassSvmKind(),
          models_internal::DbscanKind(),
          models_internal::EcodKind(),
          models_internal::EnsembleKind(),
          models_internal::XGBoostKind(),
          models_internal::XGBoostRegressorKind(),
          models_internal::RandomForestKind(),
          models_internal::RandomForestRegressorKind(),
          models_internal::CalibratedKind(),
          models_internal::MultiHorizonKind(),
          models_internal::ArimaKind(),
          models_internal::AutoArimaKind(),
          models_internal::GarchKind(),
          models_internal::NaiveForecastKind(),
          models_internal::DriftForecastKind()}) {
      kinds_.emplace(builtin.kind, KindEntry{builtin.task, std::move(builtin.factory)});
    }
  }

  mutable std::mutex mu_;
  std::map<std::string, KindEntry> kinds_;  // GUARDED_BY(mu_)
};

}  // namespace

Status RegisterModelKind(const std::string& kind, Task task, ModelFactory factory) {
  return KindRegistry::Get().Register(kind, task, std::move(factory));
}

Result<std::unique_ptr<Model>> CreateModel(const std::string& kind, const nlohmann::json& config) {
  VIGIL_ASSIGN_OR_RETURN(KindEntry entry, KindRegistry::Get().Find(kind));
  // Factories are user code as far as the registry knows; a JSON type error must not
  // escape as an exception.
  try {
    Result<std::unique_ptr<Model>> model = entry.factory(config);
    if (model.ok() && *model == nullptr) {
      return Internal("model kind '" + kind + "': factory returned no model");
    }
    return model;
  } catch (const std::exception& e) {
    return InvalidArgument("model '" + kind + "': bad config: " + e.what());
  }
}

std::vector<std::pair<std::string, Task>> ModelKinds() { return KindRegistry::Get().List(); }

namespace models_internal {

Status ConfigError(std::string_view kind, std::string_view key, std::string_view what) {
  return InvalidArgument("model '" + std::string(kind) + "': config key '" + std::string(key) +
                         "': " + std::string(what));
}

Status CheckConfigKeys(std::string_view kind, const nlohmann::json& config,
                       std::initializer_list<std::string_view> known) {
  if (config.is_null()) return Status::Ok();
  if (!config.is_object()) {
    return InvalidArgument("model '" + std::string(kind) + "': config must be a JSON object");
  }
  for (const auto& item : config.items()) {
    if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
    std::string list;
    for (std::string_view name : known) list += (list.empty() ? "" : ", ") + std::string(name);
    return ConfigError(kind, item.key(), "unknown key (known: " + list + ")");
  }
  return Status::Ok();
}

namespace {
const nlohmann::json* Lookup(const nlohmann::json& config, std::string_view key) {
  if (!config.is_object()) return nullptr;
  auto it = config.find(std::string(key));
  return it == config.end() ? nullptr : &*it;
}
}  // namespace

Result<double> ConfigNumber(std::string_view kind, const nlohmann::json& config,
                            std::string_view key, double fallback) {
  const nlohmann::json* value = Lookup(config, key);
  if (value == nullptr) return fallback;
  if (!value->is_number()) return ConfigError(kind, key, "must be a number");
  const double number = value->get<double>();
  if (!std::isfinite(number)) return ConfigError(kind, key, "must be finite");
  return number;
}

Result<int> ConfigInt(std::string_view kind, const nlohmann::json& config, std::string_view key,
                      int fallback) {
  const nlohmann::json* value = Lookup(config, key);
  if (value == nullptr) return fallback;
  if (!value->is_number_integer()) return ConfigError(kind, key, "must be an integer");
  const int64_t number = value->get<int64_t>();
  if (number < INT32_MIN || number > INT32_MAX) return ConfigError(kind, key, "out of range");
  return static_cast<int>(number);
}

Result<bool> ConfigBool(std::string_view kind, const nlohmann::json& config, std::string_view key,
                        bool fallback) {
  const nlohmann::json* value = Lookup(config, key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) return ConfigError(kind, key, "must be true or false");
  return value->get<bool>();
}

Result<std::string> ConfigString(std::string_view kind, const nlohmann::json& config,
                                 std::string_view key, std::string fallback) {
  const nlohmann::json* value = Lookup(config, key);
  if (value == nullptr) return fallback;
  if (!value->is_string()) return ConfigError(kind, key, "must be a string");
  return value->get<std::string>();
}

Status CheckColumns(std::string_view kind, const std::vector<std::string>& fitted,
                    const FeatureMatrix& x) {
  if (x.cols() != fitted.size()) {
    return InvalidArgument("model '" + std::string(kind) + "': fitted on " +
                           std::to_string(fitted.size()) + " features, got " +
                           std::to_string(x.cols()));
  }
  for (size_t col = 0; col < fitted.size(); ++col) {
    if (x.columns[col] != fitted[col]) {
      return InvalidArgument("model '" + std::string(kind) + "': feature " + std::to_string(col) +
                             " is '" + x.columns[col] + "', fitted on '" + fitted[col] + "'");
    }
  }
  return Status::Ok();
}

}  // namespace models_internal
}  // namespace vigil
