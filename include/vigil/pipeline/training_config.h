// The training config: one YAML file says what `vigil train` fits, on which data, how it
// is validated and when it may be promoted. docs/training.md is the user's reference.
//
//   name: btc_direction
//   task: classification            # classification | regression | anomaly
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
#include "vigil/models/splitters.h"
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

struct TrainingConfig {
  std::string name;  // the model name in the registry
  Task task = Task::kClassification;
  std::string model_kind;
  nlohmann::json model_params = nlohmann::json::object();
  uint64_t seed = 0;

  std::vector<std::string> instruments;  // "venue:symbol", at least one
  std::string timeframe;                 // "" = the smallest stored
  Timestamp from = Timestamp::Min();     // first training row (inclusive)
  Timestamp to = Timestamp::Max();       // exclusive

  FeatureSetSpec features;
  LabelOptions label;
  ValidationConfig validation;
  PromotionConfig promotion;
  int retention_keep = 0;  // after registering, purge all but this many (0 = never)

  std::filesystem::path source;  // the file it came from ("" for text)
  std::string text;              // the YAML as given, recorded with the job

  // Cross-field checks (label kind vs task, metric vs task, ...): InvalidArgument naming
  // the key.
  Status Validate() const;
};

// Parses a training config. Errors are InvalidArgument "<source>:<line>: <key>: <problem>" for
// a missing or mistyped key, an unknown key, a bad duration or time, an unknown task,
// model kind, feature set, label kind or metric. Relative feature-set paths resolve
// against `base_dir`.
Result<TrainingConfig> ParseTrainingConfig(std::string_view yaml_text, std::string_view source,
                                           const std::filesystem::path& base_dir);
Result<TrainingConfig> LoadTrainingConfig(const std::filesystem::path& path);

// Whether a larger value of `metric` is better; InvalidArgument for an unknown metric.
// Known: roc_auc, pr_auc, f1, precision, recall, accuracy (higher); brier, log_loss, mae,
// rmse, mape (lower).
Result<bool> HigherIsBetter(std::string_view metric);

}  // namespace vigil
