// The training config: one YAML file says what `vigil train` fits, on which data, how it
// is validated and when it may be promoted. docs/training.md is the user's reference.
//
//   name: btc_direction
//   task: classification            # classification | regression | anomaly, or a risk task:
//                                   # liquidation | crash | direction | protocol_risk |
//                                   # opportunity (docs/training.md); task: forecast takes
//                                   # the sections of forecast_training.h instead
//   model: {kind: logistic, params: {C: 1.0}}
//   seed: 7
//   data:
//     instruments: [sim:BTC-PERP]
//     timeframe: 1m                 # candle timeframe; default: the smallest stored
//     from: 2024-01-02T00:00:00Z    # optional; earlier data only warms up the features
//     to: 2024-01-09T00:00:00Z      # optional, exclusive
//   features: ta                    # a built-in set, or a path to a feature-set YAML
//   label: {kind: direction, horizon: 15m, threshold: 0.0}
//   validation:
//     method: walk_forward          # walk_forward | purged_kfold
//     window: expanding             # expanding | sliding
//     train: 3d
//     test: 12h
//   promotion: {metric: roc_auc, tolerance: 0.005}
//   retention: {keep: 10}
//   # Optional sections for supervised risk models (docs/training.md):
//   imbalance: {method: smote, k_neighbors: 5, sampling_ratio: 1.0}
//   calibration: {method: isotonic}
//   risk_levels: {medium: 0.25, high: 0.5, critical: 0.75}
//   search: {method: random, metric: pr_auc, trials: 20, params: {C: {min: 0.01, max: 10, log:
//   true}}} fallback: {kind: logistic, params: {C: 1.0}}
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::TrainingConfig config,
//                          vigil::LoadTrainingConfig("btc_direction.yaml"));
//
// Thread-safety: pure functions; a config is a value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/spec.h"
#include "vigil/models/model.h"
#include "vigil/models/probability_calibration.h"
#include "vigil/models/splitters.h"
#include "vigil/pipeline/forecast_series.h"
#include "vigil/pipeline/labels.h"

namespace vigil {

enum class ValidationMethod { kWalkForward, kPurgedKFold };

struct ValidationConfig {
  ValidationMethod method = ValidationMethod::kWalkForward;
  WalkForwardTimeOptions walk_forward;  // train/test/step/gap as durations
  PurgedKFoldOptions purged_kfold;
};

// Which metric decides promotion. Metrics where lower is better (brier, log_loss, mae,
// rmse, mape) are compared the other way round; "none" promotes every new version.
struct PromotionConfig {
  std::string metric = "roc_auc";
  double tolerance = 0.0;  // >= 0: the candidate may be this much worse and still pass
  std::string alias = "production";
  bool enabled = true;  // false: register only, never promote
};

// The supervised risk tasks of `task:`; each is a classification or regression task with
// a label kind (docs/training.md). kNone: the config named a plain task.
enum class RiskTask { kNone, kLiquidation, kCrash, kDirection, kProtocolRisk, kOpportunity };
std::string_view RiskTaskName(RiskTask task);  // "", "liquidation", "crash", ...
Result<RiskTask> ParseRiskTask(std::string_view text);

// How a classifier's fold is rebalanced before it is fitted (never the test rows).
enum class ImbalanceMethod { kNone, kClassWeight, kScalePosWeight, kSmote };
std::string_view ImbalanceMethodName(ImbalanceMethod method);  // "none", "class_weight", ...

struct ImbalanceConfig {
  ImbalanceMethod method = ImbalanceMethod::kNone;
  int k_neighbors = 5;          // smote: neighbours, >= 1
  double sampling_ratio = 1.0;  // smote: minority size / majority size after, (0, 1]
};

struct CalibrationConfig {
  CalibrationMethod method = CalibrationMethod::kNone;  // binary classification only
};

// One searched hyperparameter: a list of values, or a range (random search only).
struct SearchParam {
  std::string name;
  std::vector<nlohmann::json> values;  // a list: sampled uniformly / crossed by grid
  bool is_range = false;
  double min = 0.0;  // range bounds, min < max (min > 0 when log)
  double max = 0.0;
  bool log = false;      // log-uniform
  bool integer = false;  // rounded to the nearest integer
};

enum class SearchMethod { kNone, kGrid, kRandom };

struct SearchConfig {
  SearchMethod method = SearchMethod::kNone;
  std::string metric;  // "" = pr_auc (binary), log_loss (multiclass), rmse (regression)
  int trials = 20;     // random: candidates drawn, >= 1
  uint64_t seed = 0;
  std::vector<SearchParam> params;
  // Walk-forward folds for the search when validation is purged k-fold (then required);
  // otherwise validation's own walk-forward options are used.
  bool has_validation = false;
  WalkForwardTimeOptions validation;
};

// A second, simple model trained by the same job on the same rows and registered as
// "<name>_fallback" (fallback.h serves it when the main model cannot be loaded).
struct FallbackModelConfig {
  std::string kind;  // "" = none
  nlohmann::json params = nlohmann::json::object();
};

// task: forecast (forecast_training.h): rolling-origin validation settings.
struct ForecastValidationConfig {
  int horizon = 1;      // steps forecast at each origin, >= 1
  int origins = 20;     // the last origins whose whole horizon lies in the series, >= 1
  int refit_every = 1;  // refit at every k-th origin, online update between, >= 1
  int min_train = 20;   // the shortest training series, >= 2
  std::vector<double> levels = {0.8, 0.95};  // interval levels for coverage, each in (0, 1)
};

struct TrainingConfig {
  std::string name;  // the model name in the registry
  Task task = Task::kClassification;
  RiskTask risk_task = RiskTask::kNone;  // the `task:` word when it named a risk task
  std::string model_kind;
  nlohmann::json model_params = nlohmann::json::object();
  uint64_t seed = 0;

  std::vector<std::string> instruments;  // "venue:symbol", at least one
  std::string timeframe;                 // "" = the smallest stored
  Timestamp from = Timestamp::Min();     // first training row (inclusive)
  Timestamp to = Timestamp::Max();       // exclusive

  FeatureSetSpec features;
  LabelOptions label;
  // label.horizons: two or more increasing horizons train one model per horizon served
  // together (multi_horizon.h); label.horizon_ns is then the longest. Empty otherwise.
  std::vector<int64_t> horizons_ns;
  std::string pair_instrument;  // opportunity: the other venue's "venue:symbol"
  ValidationConfig validation;
  PromotionConfig promotion;
  int retention_keep = 0;  // after registering, purge all but this many (0 = never)

  ImbalanceConfig imbalance;
  CalibrationConfig calibration;
  bool has_risk_levels = false;
  RiskCutpoints risk_levels;
  SearchConfig search;
  FallbackModelConfig fallback;

  // task: forecast only: the series (data: instrument, field, timeframe, from, to, every,
  // transform; `instruments` then holds the one instrument) and its validation.
  StoreSeriesSpec forecast_series;
  ForecastValidationConfig forecast_validation;

  std::filesystem::path source;  // the file it came from ("" for text)
  std::string text;              // the YAML as given, recorded with the job

  bool multi_horizon() const { return horizons_ns.size() >= 2; }
  // Classes of the label (2 for binary kinds, 3 for protocol_risk; 0 for regression and
  // anomaly).
  int num_classes() const;
  std::string fallback_name() const { return name + "_fallback"; }
  // The search metric with its default filled in.
  std::string search_metric() const;

  // Cross-field checks (label kind vs task, metric vs task, ...): InvalidArgument naming
  // the key.
  Status Validate() const;
};

// Parses a training config. A risk task sets the task and label kind (liquidation, crash,
// opportunity: binary classification; protocol_risk: 3-class classification; direction:
// classification, or regression with label {kind: forward_return}, where the kinds
// xgboost and random_forest become xgboost_regressor and random_forest_regressor). Errors are
// InvalidArgument "<source>:<line>: <key>: <problem>" for a missing or mistyped key, an unknown
// key, a bad duration or time, an unknown task, model kind, feature set, label kind or metric.
// Relative feature-set paths resolve against `base_dir`.
Result<TrainingConfig> ParseTrainingConfig(std::string_view yaml_text, std::string_view source,
                                           const std::filesystem::path& base_dir);
Result<TrainingConfig> LoadTrainingConfig(const std::filesystem::path& path);

// Whether a larger value of `metric` is better; InvalidArgument for an unknown metric.
// Known: roc_auc, pr_auc, f1, precision, recall, accuracy (higher); brier, log_loss, mae,
// rmse, mape, mase (lower).
Result<bool> HigherIsBetter(std::string_view metric);

}  // namespace vigil
