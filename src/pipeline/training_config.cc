#include "vigil/pipeline/training_config.h"

#include "pipeline/yaml_fields.h"
#include "vigil/core/text_file.h"
#include "vigil/registry/registry.h"

namespace vigil {
namespace {

using pipeline_internal::YamlSource;

// YAML to JSON for model params: scalars become numbers or booleans when they read as
// such, so `C: 1.0` reaches the model as a number.
nlohmann::json YamlToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& item : node) out[item.first.Scalar()] = YamlToJson(item.second);
    return out;
  }
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const YAML::Node& item : node) out.push_back(YamlToJson(item));
    return out;
  }
  if (!node.IsScalar()) return nullptr;
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  int64_t integer = 0;
  double real = 0;
  bool boolean = false;
  if (YAML::convert<int64_t>::decode(node, integer)) return integer;
  if (YAML::convert<double>::decode(node, real)) return real;
  if (YAML::convert<bool>::decode(node, boolean)) return boolean;
  return text;
}

Status ParseModel(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node model = root["model"];
  if (!model.IsDefined()) return src.Error(root, "model", "missing (e.g. {kind: logistic})");
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(model, "model.", {"kind", "params"}));
  VIGIL_ASSIGN_OR_RETURN(auto kind, src.String(model, "kind", "model."));
  if (!kind) return src.Error(model, "model.kind", "missing");
  config.model_kind = *kind;
  if (model["params"].IsDefined() && !model["params"].IsNull()) {
    if (!model["params"].IsMap())
      return src.Error(model["params"], "model.params", "expected a map");
    config.model_params = YamlToJson(model["params"]);
  }
  bool known = false;
  for (const auto& [name, task] : ModelKinds()) {
    if (name != config.model_kind) continue;
    known = true;
    if (task != config.task) {
      return src.Error(model["kind"], "model.kind",
                       "'" + name + "' is a " + std::string(TaskName(task)) +
                           " model but task is " + std::string(TaskName(config.task)));
    }
  }
  if (!known) {
    std::string list;
    for (const auto& [name, task] : ModelKinds()) list += (list.empty() ? "" : ", ") + name;
    return src.Error(model["kind"], "model.kind",
                     "unknown kind '" + *kind + "' (known: " + list + ")");
  }
  // Building the model once checks the params where they were written.
  Result<std::unique_ptr<Model>> probe = CreateModel(config.model_kind, config.model_params);
  if (!probe.ok()) return src.Error(model, "model.params", probe.status().message());
  return Status::Ok();
}

Status ParseData(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node data = root["data"];
  if (!data.IsDefined()) return src.Error(root, "data", "missing (data.instruments is required)");
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(data, "data.", {"instruments", "timeframe", "from", "to"}));
  VIGIL_ASSIGN_OR_RETURN(config.instruments, src.StringList(data, "instruments", "data."));
  if (config.instruments.empty()) return src.Error(data, "data.instruments", "name at least one");
  for (const std::string& instrument : config.instruments) {
    if (instrument.find(':') == std::string::npos) {
      return src.Error(data["instruments"], "data.instruments",
                       "'" + instrument + "' is not venue:symbol");
    }
  }
  VIGIL_ASSIGN_OR_RETURN(auto timeframe, src.Duration(data, "timeframe", "data."));
  if (timeframe) config.timeframe = FormatDuration(*timeframe);
  VIGIL_ASSIGN_OR_RETURN(auto from, src.Time(data, "from", "data."));
  VIGIL_ASSIGN_OR_RETURN(auto to, src.Time(data, "to", "data."));
  if (from) config.from = *from;
  if (to) config.to = *to;
  if (config.from >= config.to) return src.Error(data, "data.to", "must be after data.from");
  return Status::Ok();
}

Status ParseFeatures(const YamlSource& src, const YAML::Node& root,
                     const std::filesystem::path& base_dir, TrainingConfig& config) {
  VIGIL_ASSIGN_OR_RETURN(auto name, src.String(root, "features"));
  if (!name) return src.Error(root, "features", "missing (a built-in set such as ta, or a file)");
  const bool is_file =
      name->find('/') != std::string::npos || name->ends_with(".yaml") || name->ends_with(".yml");
  Result<FeatureSetSpec> spec =
      is_file ? LoadFeatureSetSpec((base_dir / *name).string()) : BuiltinFeatureSet(*name);
  if (!spec.ok()) return src.Error(root["features"], "features", spec.status().message());
  config.features = std::move(*spec);
  return Status::Ok();
}

Status ParseLabel(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node label = root["label"];
  if (!label.IsDefined() || label.IsNull()) {
    if (config.task != Task::kAnomaly) return src.Error(root, "label", "missing");
    config.label.kind = LabelKind::kNone;
    return Status::Ok();
  }
  VIGIL_RETURN_IF_ERROR(
      src.CheckKeys(label, "label.", {"kind", "horizon", "horizon_bars", "threshold", "field"}));
  VIGIL_ASSIGN_OR_RETURN(auto kind, src.String(label, "kind", "label."));
  if (!kind) return src.Error(label, "label.kind", "missing");
  Result<LabelKind> parsed = ParseLabelKind(*kind);
  if (!parsed.ok()) return src.Error(label["kind"], "label.kind", parsed.status().message());
  config.label.kind = *parsed;
  VIGIL_ASSIGN_OR_RETURN(auto horizon, src.Duration(label, "horizon", "label."));
  VIGIL_ASSIGN_OR_RETURN(auto bars, src.Int(label, "horizon_bars", "label."));
  VIGIL_ASSIGN_OR_RETURN(auto threshold, src.Double(label, "threshold", "label."));
  VIGIL_ASSIGN_OR_RETURN(auto field, src.String(label, "field", "label."));
  config.label.horizon_ns = horizon.value_or(0);
  config.label.horizon_bars = bars.value_or(0);
  config.label.threshold = threshold.value_or(0.0);
  if (field) config.label.field = *field;
  const Status valid = config.label.Validate();
  if (!valid.ok()) return src.Error(label, "label", valid.message());
  return Status::Ok();
}

Status ParseWalkForward(const YamlSource& src, const YAML::Node& node, ValidationConfig& out) {
  const std::string p = "validation.";
  VIGIL_ASSIGN_OR_RETURN(auto window, src.String(node, "window", p));
  if (window && *window != "expanding" && *window != "sliding") {
    return src.Error(node["window"], p + "window", "expected expanding or sliding");
  }
  WalkForwardTimeOptions& wf = out.walk_forward;
  wf.mode = window && *window == "sliding" ? WindowMode::kSliding : WindowMode::kExpanding;
  VIGIL_ASSIGN_OR_RETURN(auto train, src.Duration(node, "train", p));
  VIGIL_ASSIGN_OR_RETURN(auto test, src.Duration(node, "test", p));
  VIGIL_ASSIGN_OR_RETURN(auto step, src.Duration(node, "step", p));
  VIGIL_ASSIGN_OR_RETURN(auto gap, src.Duration(node, "gap", p));
  VIGIL_ASSIGN_OR_RETURN(auto folds, src.Int(node, "max_folds", p));
  if (!train) return src.Error(node, p + "train", "missing (a duration such as 3d)");
  if (!test) return src.Error(node, p + "test", "missing (a duration such as 12h)");
  wf.train_ns = *train;
  wf.test_ns = *test;
  wf.step_ns = step.value_or(0);
  wf.gap_ns = gap.value_or(0);
  wf.max_folds = folds.value_or(0);
  const Status valid = wf.Validate();
  if (!valid.ok()) return src.Error(node, "validation", valid.message());
  return Status::Ok();
}

Status ParsePurgedKFold(const YamlSource& src, const YAML::Node& node, ValidationConfig& out) {
  const std::string p = "validation.";
  VIGIL_ASSIGN_OR_RETURN(auto k, src.Int(node, "k", p));
  VIGIL_ASSIGN_OR_RETURN(auto embargo, src.Double(node, "embargo", p));
  out.purged_kfold.k = k.value_or(5);
  out.purged_kfold.embargo_fraction = embargo.value_or(0.0);
  const Status valid = out.purged_kfold.Validate();
  if (!valid.ok()) return src.Error(node, "validation", valid.message());
  return Status::Ok();
}

Status ParseValidation(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node node = root["validation"];
  if (!node.IsDefined())
    return src.Error(root, "validation", "missing (e.g. {train: 3d, test: 12h})");
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(
      node, "validation.",
      {"method", "window", "train", "test", "step", "gap", "max_folds", "k", "embargo"}));
  VIGIL_ASSIGN_OR_RETURN(auto method, src.String(node, "method", "validation."));
  if (!method || *method == "walk_forward") {
    config.validation.method = ValidationMethod::kWalkForward;
    return ParseWalkForward(src, node, config.validation);
  }
  if (*method == "purged_kfold") {
    config.validation.method = ValidationMethod::kPurgedKFold;
    return ParsePurgedKFold(src, node, config.validation);
  }
  return src.Error(node["method"], "validation.method", "expected walk_forward or purged_kfold");
}

Status ParsePromotion(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  PromotionConfig& promotion = config.promotion;
  if (config.task == Task::kRegression) promotion.metric = "rmse";
  if (config.label.kind == LabelKind::kNone) promotion.metric = "none";
  const YAML::Node node = root["promotion"];
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  VIGIL_RETURN_IF_ERROR(
      src.CheckKeys(node, "promotion.", {"metric", "tolerance", "alias", "enabled"}));
  VIGIL_ASSIGN_OR_RETURN(auto metric, src.String(node, "metric", "promotion."));
  VIGIL_ASSIGN_OR_RETURN(auto tolerance, src.Double(node, "tolerance", "promotion."));
  VIGIL_ASSIGN_OR_RETURN(auto alias, src.String(node, "alias", "promotion."));
  VIGIL_ASSIGN_OR_RETURN(auto enabled, src.Bool(node, "enabled", "promotion."));
  if (metric) promotion.metric = *metric;
  if (tolerance) promotion.tolerance = *tolerance;
  if (alias) promotion.alias = *alias;
  if (enabled) promotion.enabled = *enabled;
  if (promotion.metric != "none" && !HigherIsBetter(promotion.metric).ok()) {
    return src.Error(node["metric"], "promotion.metric",
                     "unknown metric '" + promotion.metric +
                         "' (roc_auc, pr_auc, f1, precision, recall, accuracy, brier, "
                         "log_loss, mae, rmse, mape or none)");
  }
  if (promotion.tolerance < 0)
    return src.Error(node["tolerance"], "promotion.tolerance", "must be >= 0");
  if (promotion.alias.empty() || promotion.alias == "latest") {
    return src.Error(node["alias"], "promotion.alias", "must be a settable alias (not latest)");
  }
  return Status::Ok();
}

Status ParseTop(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(root, "",
                                      {"name", "task", "model", "seed", "data", "features", "label",
                                       "validation", "promotion", "retention"}));
  VIGIL_ASSIGN_OR_RETURN(auto name, src.String(root, "name"));
  if (!name) return src.Error(root, "name", "missing (the model name)");
  const Status valid_name = ValidateModelName(*name);
  if (!valid_name.ok()) return src.Error(root["name"], "name", valid_name.message());
  config.name = *name;
  VIGIL_ASSIGN_OR_RETURN(auto task, src.String(root, "task"));
  if (!task) return src.Error(root, "task", "missing (classification, regression or anomaly)");
  Result<Task> parsed = ParseTask(*task);
  if (!parsed.ok() || *parsed == Task::kForecast) {
    return src.Error(root["task"], "task", "expected classification, regression or anomaly");
  }
  config.task = *parsed;
  VIGIL_ASSIGN_OR_RETURN(auto seed, src.Int(root, "seed"));
  if (seed && *seed < 0) return src.Error(root["seed"], "seed", "must be >= 0");
  config.seed = static_cast<uint64_t>(seed.value_or(0));
  const YAML::Node retention = root["retention"];
  if (retention.IsDefined() && !retention.IsNull()) {
    VIGIL_RETURN_IF_ERROR(src.CheckKeys(retention, "retention.", {"keep"}));
    VIGIL_ASSIGN_OR_RETURN(auto keep, src.Int(retention, "keep", "retention."));
    if (keep && *keep < 0) return src.Error(retention["keep"], "retention.keep", "must be >= 0");
    config.retention_keep = static_cast<int>(keep.value_or(0));
  }
  return Status::Ok();
}

}  // namespace

Result<bool> HigherIsBetter(std::string_view metric) {
  for (std::string_view m : {"roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy"}) {
    if (metric == m) return true;
  }
  for (std::string_view m : {"brier", "log_loss", "mae", "rmse", "mape"}) {
    if (metric == m) return false;
  }
  return InvalidArgument("unknown metric '" + std::string(metric) + "'");
}

Status TrainingConfig::Validate() const {
  VIGIL_RETURN_IF_ERROR(ValidateModelName(name));
  if (instruments.empty()) return InvalidArgument("data.instruments: name at least one");
  VIGIL_RETURN_IF_ERROR(label.Validate());
  const bool classification_label = label.kind == LabelKind::kDirection;
  if (task == Task::kClassification && !classification_label) {
    return InvalidArgument("label.kind: classification needs a class label (direction)");
  }
  if (task == Task::kRegression && label.kind != LabelKind::kForwardReturn) {
    return InvalidArgument("label.kind: regression needs a numeric label (forward_return)");
  }
  if (task == Task::kAnomaly && label.kind == LabelKind::kForwardReturn) {
    return InvalidArgument(
        "label.kind: an anomaly detector is scored against a class label "
        "(direction) or none");
  }
  if (promotion.metric != "none") {
    VIGIL_ASSIGN_OR_RETURN(bool higher, HigherIsBetter(promotion.metric));
    (void)higher;
    const bool regression_metric =
        promotion.metric == "mae" || promotion.metric == "rmse" || promotion.metric == "mape";
    if ((task == Task::kRegression) != regression_metric) {
      return InvalidArgument("promotion.metric: " + promotion.metric + " does not apply to " +
                             std::string(TaskName(task)) + " models");
    }
    if (label.kind == LabelKind::kNone) {
      return InvalidArgument("promotion.metric: needs a label; use none for unlabeled detectors");
    }
  }
  return Status::Ok();
}

Result<TrainingConfig> ParseTrainingConfig(std::string_view yaml_text, std::string_view source,
                                           const std::filesystem::path& base_dir) {
  const YamlSource src{std::string(source)};
  TrainingConfig config;
  config.text = std::string(yaml_text);
  VIGIL_ASSIGN_OR_RETURN(YAML::Node root, ParseYamlMap(config.text, src));
  VIGIL_RETURN_IF_ERROR(ParseTop(src, root, config));
  VIGIL_RETURN_IF_ERROR(ParseModel(src, root, config));
  VIGIL_RETURN_IF_ERROR(ParseData(src, root, config));
  VIGIL_RETURN_IF_ERROR(ParseFeatures(src, root, base_dir, config));
  VIGIL_RETURN_IF_ERROR(ParseLabel(src, root, config));
  VIGIL_RETURN_IF_ERROR(ParseValidation(src, root, config));
  VIGIL_RETURN_IF_ERROR(ParsePromotion(src, root, config));
  const Status valid = config.Validate();
  if (!valid.ok()) return InvalidArgument(std::string(source) + ": " + valid.message());
  return config;
}

Result<TrainingConfig> LoadTrainingConfig(const std::filesystem::path& path) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path.string()));
  VIGIL_ASSIGN_OR_RETURN(TrainingConfig config,
                         ParseTrainingConfig(text, path.string(), path.parent_path()));
  config.source = path;
  return config;
}

}  // namespace vigil
