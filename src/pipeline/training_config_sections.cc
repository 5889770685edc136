// The risk and search sections of the training YAML: imbalance, calibration, risk_levels,
// search and fallback (see include/vigil/pipeline/training_config.h for the schema).
#include <algorithm>
#include <cmath>

#include "pipeline/training_config_internal.h"
#include "vigil/models/model.h"
#include "vigil/models/probability_calibration.h"
#include "vigil/models/risk_levels.h"
#include "vigil/registry/registry.h"

namespace vigil::training_config_internal {
Status ParseImbalance(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node node = root["imbalance"];
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  const std::string p = "imbalance.";
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(node, p, {"method", "k_neighbors", "sampling_ratio"}));
  VIGIL_ASSIGN_OR_RETURN(auto method, src.String(node, "method", p));
  VIGIL_ASSIGN_OR_RETURN(auto k, src.Int(node, "k_neighbors", p));
  VIGIL_ASSIGN_OR_RETURN(auto ratio, src.Double(node, "sampling_ratio", p));
  ImbalanceConfig& out = config.imbalance;
  bool known = !method;
  for (ImbalanceMethod m : {ImbalanceMethod::kNone, ImbalanceMethod::kClassWeight,
                            ImbalanceMethod::kScalePosWeight, ImbalanceMethod::kSmote}) {
    if (method && *method == ImbalanceMethodName(m)) {
      out.method = m;
      known = true;
    }
  }
  if (!known) {
    return src.Error(node["method"], p + "method",
                     "expected none, class_weight, scale_pos_weight or smote");
  }
  if ((k || ratio) && out.method != ImbalanceMethod::kSmote) {
    return src.Error(node, p + (k ? "k_neighbors" : "sampling_ratio"), "applies to smote only");
  }
  out.k_neighbors = static_cast<int>(k.value_or(5));
  out.sampling_ratio = ratio.value_or(1.0);
  if (out.k_neighbors < 1) return src.Error(node["k_neighbors"], p + "k_neighbors", "must be >= 1");
  if (!(out.sampling_ratio > 0 && out.sampling_ratio <= 1)) {
    return src.Error(node["sampling_ratio"], p + "sampling_ratio", "must be in (0, 1]");
  }
  if (out.method != ImbalanceMethod::kNone && config.task != Task::kClassification) {
    return src.Error(node, p + "method", "applies to classification tasks only");
  }
  if (out.method == ImbalanceMethod::kScalePosWeight) {
    if (config.num_classes() != 2) {
      return src.Error(node["method"], p + "method", "scale_pos_weight needs a binary label");
    }
    Result<nlohmann::json> kind_config = KindConfig(config.model_kind, config.model_params);
    if (kind_config.ok() && !kind_config->contains("scale_pos_weight")) {
      return src.Error(node["method"], p + "method",
                       "model kind '" + config.model_kind +
                           "' has no scale_pos_weight (xgboost and random_forest do); use "
                           "class_weight");
    }
  }
  return Status::Ok();
}

Status ParseCalibration(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node node = root["calibration"];
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(node, "calibration.", {"method"}));
  VIGIL_ASSIGN_OR_RETURN(auto method, src.String(node, "method", "calibration."));
  if (!method) return src.Error(node, "calibration.method", "missing (none, platt or isotonic)");
  Result<CalibrationMethod> parsed = ParseCalibrationMethod(*method);
  if (!parsed.ok()) {
    return src.Error(node["method"], "calibration.method", "expected none, platt or isotonic");
  }
  config.calibration.method = *parsed;
  if (*parsed != CalibrationMethod::kNone && config.num_classes() != 2) {
    return src.Error(node["method"], "calibration.method",
                     "calibrates binary classifiers only (this task is " +
                         std::string(TaskName(config.task)) +
                         (config.num_classes() > 2 ? ", multiclass" : "") + ")");
  }
  return Status::Ok();
}

Status ParseRiskLevels(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node node = root["risk_levels"];
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(node, "risk_levels.", {"medium", "high", "critical"}));
  nlohmann::json cutpoints = nlohmann::json::object();
  for (const char* key : {"medium", "high", "critical"}) {
    VIGIL_ASSIGN_OR_RETURN(auto value, src.Double(node, key, "risk_levels."));
    if (value) cutpoints[key] = *value;
  }
  Result<RiskCutpoints> parsed = RiskCutpointsFromJson(cutpoints);
  if (!parsed.ok()) return src.Error(node, "risk_levels", parsed.status().message());
  if (config.num_classes() != 2) {
    return src.Error(node, "risk_levels", "maps a binary classifier's probability to levels");
  }
  config.has_risk_levels = true;
  config.risk_levels = *parsed;
  return Status::Ok();
}

namespace {

// One entry of search.params: a list of values or a {min, max, log, integer} range.
Result<SearchParam> ParseSearchParam(const YamlSource& src, const std::string& name,
                                     const YAML::Node& node) {
  const std::string key = "search.params." + name;
  SearchParam param;
  param.name = name;
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) return src.Error(item, key, "expected a list of values");
      param.values.push_back(YamlToJson(item));
    }
    if (param.values.empty()) return src.Error(node, key, "name at least one value");
    return param;
  }
  if (!node.IsMap()) return src.Error(node, key, "expected a list of values or {min, max}");
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(node, key + ".", {"min", "max", "log", "integer"}));
  VIGIL_ASSIGN_OR_RETURN(auto min, src.Double(node, "min", key + "."));
  VIGIL_ASSIGN_OR_RETURN(auto max, src.Double(node, "max", key + "."));
  VIGIL_ASSIGN_OR_RETURN(auto log, src.Bool(node, "log", key + "."));
  VIGIL_ASSIGN_OR_RETURN(auto integer, src.Bool(node, "integer", key + "."));
  if (!min || !max) return src.Error(node, key, "a range needs min and max");
  if (!(*min < *max)) return src.Error(node, key, "min must be below max");
  if (log.value_or(false) && *min <= 0) return src.Error(node, key, "a log range needs min > 0");
  param.is_range = true;
  param.min = *min;
  param.max = *max;
  param.log = log.value_or(false);
  param.integer = integer.value_or(false);
  return param;
}

Status ParseSearchValidation(const YamlSource& src, const YAML::Node& node, SearchConfig& search) {
  const YAML::Node validation = node["validation"];
  if (!validation.IsDefined() || validation.IsNull()) return Status::Ok();
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(validation, "search.validation.",
                                      {"window", "train", "test", "step", "gap", "max_folds"}));
  ValidationConfig parsed;
  VIGIL_RETURN_IF_ERROR(ParseWalkForward(src, validation, parsed, "search.validation."));
  search.has_validation = true;
  search.validation = parsed.walk_forward;
  return Status::Ok();
}

}  // namespace

Status ParseSearch(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node node = root["search"];
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  const std::string p = "search.";
  VIGIL_RETURN_IF_ERROR(
      src.CheckKeys(node, p, {"method", "metric", "trials", "seed", "params", "validation"}));
  SearchConfig& search = config.search;
  VIGIL_ASSIGN_OR_RETURN(auto method, src.String(node, "method", p));
  if (!method || (*method != "grid" && *method != "random")) {
    return src.Error(method ? node["method"] : node, p + "method", "expected grid or random");
  }
  search.method = *method == "grid" ? SearchMethod::kGrid : SearchMethod::kRandom;
  VIGIL_ASSIGN_OR_RETURN(auto metric, src.String(node, "metric", p));
  VIGIL_ASSIGN_OR_RETURN(auto trials, src.Int(node, "trials", p));
  VIGIL_ASSIGN_OR_RETURN(auto seed, src.Int(node, "seed", p));
  if (metric) search.metric = *metric;
  if (trials && *trials < 1) return src.Error(node["trials"], p + "trials", "must be >= 1");
  if (trials && search.method == SearchMethod::kGrid) {
    return src.Error(node["trials"], p + "trials", "applies to random search only");
  }
  if (seed && *seed < 0) return src.Error(node["seed"], p + "seed", "must be >= 0");
  search.trials = static_cast<int>(trials.value_or(20));
  search.seed = seed ? static_cast<uint64_t>(*seed) : config.seed;
  const YAML::Node params = node["params"];
  if (!params.IsDefined() || !params.IsMap() || params.size() == 0) {
    return src.Error(params.IsDefined() ? params : node, p + "params",
                     "expected a map of parameter: [values] or {min, max}");
  }
  const Result<nlohmann::json> kind_config = KindConfig(config.model_kind, config.model_params);
  for (const auto& item : params) {
    const std::string name = item.first.Scalar();
    if (kind_config.ok() && !kind_config->contains(name)) {
      return src.Error(item.first, p + "params." + name,
                       "not a parameter of model kind '" + config.model_kind + "'");
    }
    VIGIL_ASSIGN_OR_RETURN(SearchParam param, ParseSearchParam(src, name, item.second));
    if (param.is_range && search.method == SearchMethod::kGrid) {
      return src.Error(item.second, p + "params." + name,
                       "grid search takes lists of values, not ranges (use method: random)");
    }
    search.params.push_back(std::move(param));
  }
  VIGIL_RETURN_IF_ERROR(ParseSearchValidation(src, node, search));
  const std::string chosen = config.search_metric();
  if (!HigherIsBetter(chosen).ok()) {
    return src.Error(node["metric"], p + "metric", "unknown metric '" + chosen + "'");
  }
  return Status::Ok();
}

Status ParseFallback(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node node = root["fallback"];
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(node, "fallback.", {"kind", "params"}));
  VIGIL_ASSIGN_OR_RETURN(auto kind, src.String(node, "kind", "fallback."));
  if (!kind) return src.Error(node, "fallback.kind", "missing (e.g. logistic)");
  config.fallback.kind = KindForTask(*kind, config.task);
  if (node["params"].IsDefined() && !node["params"].IsNull()) {
    if (!node["params"].IsMap())
      return src.Error(node["params"], "fallback.params", "expected a map");
    config.fallback.params = YamlToJson(node["params"]);
  }
  bool known = false;
  for (const auto& [name, task] : ModelKinds()) {
    if (name != config.fallback.kind) continue;
    known = true;
    if (task != config.task) {
      return src.Error(node["kind"], "fallback.kind",
                       "'" + name + "' is a " + std::string(TaskName(task)) +
                           " model but task is " + std::string(TaskName(config.task)));
    }
  }
  if (!known) return src.Error(node["kind"], "fallback.kind", "unknown kind '" + *kind + "'");
  Result<std::unique_ptr<Model>> probe = CreateModel(config.fallback.kind, config.fallback.params);
  if (!probe.ok()) return src.Error(node, "fallback.params", probe.status().message());
  const Status valid_name = ValidateModelName(config.fallback_name());
  if (!valid_name.ok()) return src.Error(node, "fallback", valid_name.message());
  return Status::Ok();
}

}  // namespace vigil::training_config_internal
