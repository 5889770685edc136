#include "vigil/pipeline/training_config.h"

#include <algorithm>
#include <cmath>

#include "pipeline/forecast_training_internal.h"
#include "pipeline/training_config_internal.h"
#include "pipeline/yaml_fields.h"
#include "vigil/core/text_file.h"
#include "vigil/pipeline/forecast_training.h"
#include "vigil/registry/registry.h"

namespace vigil {
namespace training_config_internal {

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

// Tree kinds name their classifier; a regression task trains the regressor of the family.
std::string KindForTask(const std::string& kind, Task task) {
  if (task == Task::kRegression && (kind == "xgboost" || kind == "random_forest")) {
    return kind + "_regressor";
  }
  return kind;
}

// The model kind's complete configuration (defaults filled in), or the factory's error.
Result<nlohmann::json> KindConfig(const std::string& kind, const nlohmann::json& params) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> probe, CreateModel(kind, params));
  return probe->config();
}

Status ParseWalkForward(const YamlSource& src, const YAML::Node& node, ValidationConfig& out,
                        const std::string& p) {
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
  if (!valid.ok()) return src.Error(node, p.substr(0, p.size() - 1), valid.message());
  return Status::Ok();
}

}  // namespace training_config_internal

namespace {

using pipeline_internal::YamlSource;
using namespace training_config_internal;

Status ParseModel(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node model = root["model"];
  if (!model.IsDefined()) return src.Error(root, "model", "missing (e.g. {kind: logistic})");
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(model, "model.", {"kind", "params", "config"}));
  VIGIL_ASSIGN_OR_RETURN(auto kind, src.String(model, "kind", "model."));
  if (!kind) return src.Error(model, "model.kind", "missing");
  config.model_kind = KindForTask(*kind, config.task);
  // `config` is a synonym of `params` (the kind's configuration, as Model::config()).
  const char* params_key = model["config"].IsDefined() ? "config" : "params";
  if (model["config"].IsDefined() && model["params"].IsDefined()) {
    return src.Error(model["config"], "model.config", "give params or config, not both");
  }
  const YAML::Node params = model[params_key];
  if (params.IsDefined() && !params.IsNull()) {
    if (!params.IsMap())
      return src.Error(params, std::string("model.") + params_key, "expected a map");
    config.model_params = YamlToJson(params);
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

// The label kind a risk task implies.
LabelKind RiskLabelKind(RiskTask task) {
  switch (task) {
    case RiskTask::kLiquidation:
      return LabelKind::kLiquidation;
    case RiskTask::kCrash:
      return LabelKind::kCrash;
    case RiskTask::kProtocolRisk:
      return LabelKind::kProtocolRisk;
    case RiskTask::kOpportunity:
      return LabelKind::kOpportunity;
    case RiskTask::kDirection:
    case RiskTask::kNone:
      break;
  }
  return LabelKind::kDirection;
}

// The label keys each kind reads, besides kind / horizon / horizon_bars / field.
std::set<std::string> LabelKeys(LabelKind kind) {
  std::set<std::string> keys = {"kind", "horizon", "horizon_bars", "field"};
  std::vector<std::string> extra;
  switch (kind) {
    case LabelKind::kNone:
    case LabelKind::kForwardReturn:
      break;
    case LabelKind::kDirection:
      extra = {"threshold", "horizons"};
      break;
    case LabelKind::kLiquidation:
      extra = {"leverage", "side", "maintenance_margin", "horizons"};
      break;
    case LabelKind::kCrash:
      extra = {"k", "vol_window", "horizons"};
      break;
    case LabelKind::kProtocolRisk:
      extra = {"drawdown_medium", "drawdown_high", "volatility_medium", "volatility_high"};
      break;
    case LabelKind::kOpportunity:
      extra = {"pair",         "fee_bps",      "slippage_bps", "gas_usd",
               "notional_usd", "persist_rows", "horizons"};
      break;
  }
  keys.insert(extra.begin(), extra.end());
  if (kind == LabelKind::kForwardReturn) keys.insert("threshold");  // accepted, unused
  return keys;
}

// The label's kind: from label.kind, or implied by a risk task (which label.kind may only
// repeat, except direction's forward_return, which turns the task into a regression).
Status ParseLabelKindKey(const YamlSource& src, const YAML::Node& label, TrainingConfig& config) {
  VIGIL_ASSIGN_OR_RETURN(auto kind, src.String(label, "kind", "label."));
  if (config.risk_task == RiskTask::kNone) {
    if (!kind) return src.Error(label, "label.kind", "missing");
    Result<LabelKind> parsed = ParseLabelKind(*kind);
    if (!parsed.ok()) return src.Error(label["kind"], "label.kind", parsed.status().message());
    config.label.kind = *parsed;
    return Status::Ok();
  }
  const LabelKind implied = RiskLabelKind(config.risk_task);
  config.label.kind = implied;
  if (!kind || *kind == LabelKindName(implied)) return Status::Ok();
  if (config.risk_task == RiskTask::kDirection && *kind == "forward_return") {
    config.label.kind = LabelKind::kForwardReturn;
    config.task = Task::kRegression;
    return Status::Ok();
  }
  const std::string task(RiskTaskName(config.risk_task));
  return src.Error(label["kind"], "label.kind",
                   "task " + task + " takes " + std::string(LabelKindName(implied)) + " labels" +
                       (config.risk_task == RiskTask::kDirection ? " (or forward_return)" : "") +
                       ", not '" + *kind + "'");
}

// label.horizons: several durations, increasing. One horizon is a plain `horizon`.
Status ParseHorizons(const YamlSource& src, const YAML::Node& label, TrainingConfig& config) {
  if (!label["horizons"].IsDefined()) return Status::Ok();
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> texts,
                         src.StringList(label, "horizons", "label."));
  const YAML::Node node = label["horizons"];
  if (texts.empty()) return src.Error(node, "label.horizons", "name at least one duration");
  if (label["horizon"].IsDefined() || label["horizon_bars"].IsDefined()) {
    return src.Error(node, "label.horizons", "give horizons or horizon, not both");
  }
  std::vector<int64_t> horizons;
  for (const std::string& text : texts) {
    Result<int64_t> nanos = ParseDuration(text);
    if (!nanos.ok() || *nanos <= 0) {
      return src.Error(node, "label.horizons", "'" + text + "' is not a duration like 5m or 1h");
    }
    if (!horizons.empty() && *nanos <= horizons.back()) {
      return src.Error(node, "label.horizons", "must be distinct and increasing");
    }
    horizons.push_back(*nanos);
  }
  config.label.horizon_ns = horizons.back();
  if (horizons.size() >= 2) config.horizons_ns = std::move(horizons);
  return Status::Ok();
}

// The kind-specific parameters (labels.h documents each).
Status ParseLabelParams(const YamlSource& src, const YAML::Node& label, TrainingConfig& config) {
  LabelOptions& options = config.label;
  const std::string p = "label.";
  const auto number = [&](const char* key, double& out) -> Status {
    VIGIL_ASSIGN_OR_RETURN(auto value, src.Double(label, key, p));
    if (value) out = *value;
    return Status::Ok();
  };
  const auto integer = [&](const char* key, int64_t& out) -> Status {
    VIGIL_ASSIGN_OR_RETURN(auto value, src.Int(label, key, p));
    if (value) out = *value;
    return Status::Ok();
  };
  VIGIL_RETURN_IF_ERROR(number("threshold", options.threshold));
  VIGIL_RETURN_IF_ERROR(number("leverage", options.leverage));
  VIGIL_RETURN_IF_ERROR(number("maintenance_margin", options.maintenance_margin));
  VIGIL_RETURN_IF_ERROR(number("k", options.crash_k));
  VIGIL_RETURN_IF_ERROR(integer("vol_window", options.vol_window));
  VIGIL_RETURN_IF_ERROR(number("drawdown_medium", options.drawdown_medium));
  VIGIL_RETURN_IF_ERROR(number("drawdown_high", options.drawdown_high));
  VIGIL_RETURN_IF_ERROR(number("volatility_medium", options.volatility_medium));
  VIGIL_RETURN_IF_ERROR(number("volatility_high", options.volatility_high));
  VIGIL_RETURN_IF_ERROR(number("fee_bps", options.fee_bps));
  VIGIL_RETURN_IF_ERROR(number("slippage_bps", options.slippage_bps));
  VIGIL_RETURN_IF_ERROR(number("gas_usd", options.gas_usd));
  VIGIL_RETURN_IF_ERROR(number("notional_usd", options.notional_usd));
  VIGIL_RETURN_IF_ERROR(integer("persist_rows", options.persist_rows));
  VIGIL_ASSIGN_OR_RETURN(auto side, src.String(label, "side", p));
  if (side) {
    Result<PositionSide> parsed = ParsePositionSide(*side);
    if (!parsed.ok()) return src.Error(label["side"], "label.side", parsed.status().message());
    options.side = *parsed;
  }
  VIGIL_ASSIGN_OR_RETURN(auto pair, src.String(label, "pair", p));
  if (options.kind == LabelKind::kOpportunity) {
    if (!pair) return src.Error(label, "label.pair", "missing (the other venue's venue:symbol)");
    if (pair->find(':') == std::string::npos) {
      return src.Error(label["pair"], "label.pair", "'" + *pair + "' is not venue:symbol");
    }
    config.pair_instrument = *pair;
  }
  return Status::Ok();
}

Status ParseLabel(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node label = root["label"];
  if (!label.IsDefined() || label.IsNull()) {
    if (config.task != Task::kAnomaly) return src.Error(root, "label", "missing");
    config.label.kind = LabelKind::kNone;
    return Status::Ok();
  }
  if (!label.IsMap()) return src.Error(label, "label", "expected a map");
  VIGIL_RETURN_IF_ERROR(ParseLabelKindKey(src, label, config));
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(label, "label.", LabelKeys(config.label.kind)));
  if (config.label.kind == LabelKind::kProtocolRisk) config.label.field = "tvl";
  VIGIL_ASSIGN_OR_RETURN(auto horizon, src.Duration(label, "horizon", "label."));
  VIGIL_ASSIGN_OR_RETURN(auto bars, src.Int(label, "horizon_bars", "label."));
  VIGIL_ASSIGN_OR_RETURN(auto field, src.String(label, "field", "label."));
  config.label.horizon_ns = horizon.value_or(0);
  config.label.horizon_bars = bars.value_or(0);
  if (field) config.label.field = *field;
  VIGIL_RETURN_IF_ERROR(ParseHorizons(src, label, config));
  VIGIL_RETURN_IF_ERROR(ParseLabelParams(src, label, config));
  const Status valid = config.label.Validate();
  if (!valid.ok()) return src.Error(label, "label", valid.message());
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
  if (config.num_classes() > 2) promotion.metric = "log_loss";  // ROC-AUC is binary here
  if (config.label.kind == LabelKind::kNone) promotion.metric = "none";
  if (config.task == Task::kForecast) promotion.metric = "mase";
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
                         "log_loss, mae, rmse, mape, mase or none)");
  }
  if (promotion.tolerance < 0)
    return src.Error(node["tolerance"], "promotion.tolerance", "must be >= 0");
  if (promotion.alias.empty() || promotion.alias == "latest") {
    return src.Error(node["alias"], "promotion.alias", "must be a settable alias (not latest)");
  }
  return Status::Ok();
}

Status ParseTop(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(
      root, "",
      {"name", "task", "model", "seed", "data", "features", "label", "validation", "promotion",
       "retention", "imbalance", "calibration", "risk_levels", "search", "fallback"}));
  VIGIL_ASSIGN_OR_RETURN(auto name, src.String(root, "name"));
  if (!name) return src.Error(root, "name", "missing (the model name)");
  const Status valid_name = ValidateModelName(*name);
  if (!valid_name.ok()) return src.Error(root["name"], "name", valid_name.message());
  config.name = *name;
  constexpr const char* kTasks =
      "classification, regression, anomaly, forecast, liquidation, crash, direction, "
      "protocol_risk or opportunity";
  VIGIL_ASSIGN_OR_RETURN(auto task, src.String(root, "task"));
  if (!task) return src.Error(root, "task", std::string("missing (") + kTasks + ")");
  Result<RiskTask> risk = ParseRiskTask(*task);
  Result<Task> parsed = ParseTask(*task);
  if (risk.ok()) {
    config.risk_task = *risk;
    config.task = Task::kClassification;  // direction with forward_return labels: regression
  } else if (parsed.ok()) {
    config.task = *parsed;
  } else {
    return src.Error(root["task"], "task", std::string("expected ") + kTasks);
  }
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

std::string_view RiskTaskName(RiskTask task) {
  switch (task) {
    case RiskTask::kNone:
      return "";
    case RiskTask::kLiquidation:
      return "liquidation";
    case RiskTask::kCrash:
      return "crash";
    case RiskTask::kDirection:
      return "direction";
    case RiskTask::kProtocolRisk:
      return "protocol_risk";
    case RiskTask::kOpportunity:
      return "opportunity";
  }
  return "";
}

Result<RiskTask> ParseRiskTask(std::string_view text) {
  for (RiskTask task : {RiskTask::kLiquidation, RiskTask::kCrash, RiskTask::kDirection,
                        RiskTask::kProtocolRisk, RiskTask::kOpportunity}) {
    if (text == RiskTaskName(task)) return task;
  }
  return InvalidArgument("unknown risk task '" + std::string(text) + "'");
}

std::string_view ImbalanceMethodName(ImbalanceMethod method) {
  switch (method) {
    case ImbalanceMethod::kNone:
      return "none";
    case ImbalanceMethod::kClassWeight:
      return "class_weight";
    case ImbalanceMethod::kScalePosWeight:
      return "scale_pos_weight";
    case ImbalanceMethod::kSmote:
      return "smote";
  }
  return "none";
}

int TrainingConfig::num_classes() const {
  if (task != Task::kClassification) return 0;
  return label.kind == LabelKind::kProtocolRisk ? 3 : 2;
}

std::string TrainingConfig::search_metric() const {
  if (!search.metric.empty()) return search.metric;
  if (task == Task::kRegression) return "rmse";
  return num_classes() > 2 ? "log_loss" : "pr_auc";
}

Result<bool> HigherIsBetter(std::string_view metric) {
  for (std::string_view m : {"roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy"}) {
    if (metric == m) return true;
  }
  for (std::string_view m : {"brier", "log_loss", "mae", "rmse", "mape", "mase"}) {
    if (metric == m) return false;
  }
  return InvalidArgument("unknown metric '" + std::string(metric) + "'");
}

Status TrainingConfig::Validate() const {
  VIGIL_RETURN_IF_ERROR(ValidateModelName(name));
  if (task == Task::kForecast) return ValidateForecastTrainingConfig(*this);
  if (instruments.empty()) return InvalidArgument("data.instruments: name at least one");
  VIGIL_RETURN_IF_ERROR(label.Validate());
  const bool classification_label =
      label.kind == LabelKind::kDirection || label.kind == LabelKind::kLiquidation ||
      label.kind == LabelKind::kCrash || label.kind == LabelKind::kProtocolRisk ||
      label.kind == LabelKind::kOpportunity;
  if (task == Task::kClassification && !classification_label) {
    return InvalidArgument(
        "label.kind: classification needs a class label (direction, liquidation, crash, "
        "protocol_risk or opportunity)");
  }
  if (label.kind == LabelKind::kOpportunity && pair_instrument.empty()) {
    return InvalidArgument("label.pair: opportunity labels need the other venue's instrument");
  }
  if (multi_horizon() && (num_classes() != 2 || label.horizon_ns != horizons_ns.back())) {
    return InvalidArgument("label.horizons: several horizons need a binary label");
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
    if (num_classes() > 2 && promotion.metric != "log_loss" && promotion.metric != "accuracy") {
      return InvalidArgument(
          "promotion.metric: a multiclass model is scored by log_loss or "
          "accuracy, not " +
          promotion.metric);
    }
  }
  if (search.method != SearchMethod::kNone) {
    const std::string metric = search_metric();
    VIGIL_RETURN_IF_ERROR(HigherIsBetter(metric).status().WithContext("search.metric"));
    const bool regression_metric = metric == "mae" || metric == "rmse" || metric == "mape";
    if ((task == Task::kRegression) != regression_metric ||
        (num_classes() > 2 && metric != "log_loss" && metric != "accuracy")) {
      return InvalidArgument("search.metric: " + metric + " does not apply to this task");
    }
    if (validation.method == ValidationMethod::kPurgedKFold && !search.has_validation) {
      return InvalidArgument(
          "search: hyperparameters are searched on walk-forward folds only; with "
          "validation.method purged_kfold give search.validation: {train: ..., test: ...}");
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
  if (config.task == Task::kForecast) {
    // One series and rolling-origin validation instead of features, labels and folds.
    VIGIL_RETURN_IF_ERROR(pipeline_internal::CheckForecastKeys(src, root));
    VIGIL_RETURN_IF_ERROR(ParseModel(src, root, config));
    VIGIL_RETURN_IF_ERROR(pipeline_internal::ParseForecastData(src, root, config));
    VIGIL_RETURN_IF_ERROR(pipeline_internal::ParseForecastValidation(src, root, config));
    VIGIL_RETURN_IF_ERROR(ParsePromotion(src, root, config));
  } else {
    VIGIL_RETURN_IF_ERROR(ParseLabel(src, root, config));  // may turn the task into regression
    VIGIL_RETURN_IF_ERROR(ParseModel(src, root, config));
    VIGIL_RETURN_IF_ERROR(ParseData(src, root, config));
    VIGIL_RETURN_IF_ERROR(ParseFeatures(src, root, base_dir, config));
    VIGIL_RETURN_IF_ERROR(ParseValidation(src, root, config));
    VIGIL_RETURN_IF_ERROR(ParsePromotion(src, root, config));
    VIGIL_RETURN_IF_ERROR(ParseImbalance(src, root, config));
    VIGIL_RETURN_IF_ERROR(ParseCalibration(src, root, config));
    VIGIL_RETURN_IF_ERROR(ParseRiskLevels(src, root, config));
    VIGIL_RETURN_IF_ERROR(ParseSearch(src, root, config));
    VIGIL_RETURN_IF_ERROR(ParseFallback(src, root, config));
  }
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
