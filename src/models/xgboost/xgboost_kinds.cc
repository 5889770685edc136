// The four tree-ensemble kinds: their options (parsing, validation, defaults), the public
// Classifier / Regressor classes over TreeEnsemble, and the kind registrations.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "models/builtin_kinds.h"
#include "models/xgboost/xgb_booster.h"
#include "vigil/models/imbalance.h"
#include "vigil/models/xgboost.h"

namespace vigil {
namespace {

using models_internal::ConfigError;
using xgboost_internal::TrainingInput;
using xgboost_internal::TreeEnsemble;

// Keys every kind accepts, then the keys of boosting, classification and regression kinds.
constexpr std::string_view kCommonKeys[] = {"n_estimators", "max_depth",         "min_child_weight",
                                            "subsample",    "colsample_bytree",  "colsample_bynode",
                                            "reg_lambda",   "reg_alpha",         "gamma",
                                            "max_bin",      "grow_policy",       "max_leaves",
                                            "categorical",  "max_cat_to_onehot", "nthread",
                                            "seed",         "base_score",        "predictor"};
constexpr std::string_view kBoostingKeys[] = {"learning_rate", "early_stopping_rounds",
                                              "validation_fraction"};
constexpr std::string_view kClassificationKeys[] = {"num_classes", "scale_pos_weight",
                                                    "class_weight"};
constexpr std::string_view kRegressionKeys[] = {"objective", "huber_slope"};

std::vector<std::string_view> KnownKeys(TreeEnsembleKind kind) {
  std::vector<std::string_view> keys(std::begin(kCommonKeys), std::end(kCommonKeys));
  if (!IsRandomForest(kind))
    keys.insert(keys.end(), std::begin(kBoostingKeys), std::end(kBoostingKeys));
  if (IsClassification(kind)) {
    keys.insert(keys.end(), std::begin(kClassificationKeys), std::end(kClassificationKeys));
  } else {
    keys.insert(keys.end(), std::begin(kRegressionKeys), std::end(kRegressionKeys));
  }
  return keys;
}

Status CheckKeys(TreeEnsembleKind kind, const nlohmann::json& config) {
  const std::string_view name = TreeEnsembleKindName(kind);
  if (config.is_null()) return Status::Ok();
  if (!config.is_object()) {
    return InvalidArgument("model '" + std::string(name) + "': config must be a JSON object");
  }
  const std::vector<std::string_view> known = KnownKeys(kind);
  for (const auto& item : config.items()) {
    if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
    std::string list;
    for (std::string_view key : known) list += (list.empty() ? "" : ", ") + std::string(key);
    return ConfigError(name, item.key(), "unknown key (known: " + list + ")");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ParseCategorical(std::string_view kind,
                                                  const nlohmann::json& config) {
  std::vector<std::string> names;
  if (!config.is_object() || !config.contains("categorical")) return names;
  const nlohmann::json& value = config.at("categorical");
  if (!value.is_array()) return ConfigError(kind, "categorical", "must be a list of feature names");
  for (const nlohmann::json& item : value) {
    if (!item.is_string())
      return ConfigError(kind, "categorical", "must be a list of feature names");
    const std::string name = item.get<std::string>();
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return ConfigError(kind, "categorical", "'" + name + "' listed twice");
    }
    names.push_back(name);
  }
  return names;
}

// A number, or "auto" (nullopt).
Result<std::optional<double>> ParseScalePosWeight(std::string_view kind,
                                                  const nlohmann::json& config, double fallback) {
  if (!config.is_object() || !config.contains("scale_pos_weight")) return {fallback};
  const nlohmann::json& value = config.at("scale_pos_weight");
  if (value.is_string() && value.get<std::string>() == "auto") return std::optional<double>();
  if (!value.is_number())
    return ConfigError(kind, "scale_pos_weight", "must be a number or \"auto\"");
  return std::optional<double>(value.get<double>());
}

// A number, or "auto" (nullopt).
Result<std::optional<double>> ParseBaseScore(std::string_view kind, const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("base_score")) return std::optional<double>();
  const nlohmann::json& value = config.at("base_score");
  if (value.is_string() && value.get<std::string>() == "auto") return std::optional<double>();
  if (!value.is_number()) return ConfigError(kind, "base_score", "must be a number or \"auto\"");
  return std::optional<double>(value.get<double>());
}

Result<uint64_t> ParseSeed(std::string_view kind, const nlohmann::json& config, uint64_t fallback) {
  if (!config.is_object() || !config.contains("seed")) return fallback;
  const nlohmann::json& value = config.at("seed");
  // XGBoost's seed is a signed 64-bit integer.
  if (value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0)) {
    const uint64_t seed = value.get<uint64_t>();
    if (seed <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return seed;
  }
  return ConfigError(kind, "seed", "must be an integer in [0, 2^63)");
}

template <typename Enum>
Result<Enum> ParseChoice(std::string_view kind, const nlohmann::json& config, std::string_view key,
                         std::initializer_list<std::pair<std::string_view, Enum>> choices,
                         Enum fallback) {
  std::string fallback_name;
  for (const auto& [name, value] : choices) {
    if (value == fallback) fallback_name = name;
  }
  VIGIL_ASSIGN_OR_RETURN(std::string text,
                         models_internal::ConfigString(kind, config, key, fallback_name));
  std::string expected;
  for (const auto& [name, value] : choices) {
    if (name == text) return value;
    expected += (expected.empty() ? "" : " or ") + std::string(name);
  }
  return ConfigError(kind, key, "'" + text + "' (expected " + expected + ")");
}

bool InUnitInterval(double value) { return value > 0 && value <= 1; }

// Fit's row-level checks shared by both tasks: shapes, infinities and weights.
Status CheckFitRows(std::string_view kind, const FeatureMatrix& x, size_t labels,
                    std::span<const double> weights) {
  const std::string name(kind);
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/true).WithContext("model '" + name + "'"));
  if (x.rows == 0 || x.cols() == 0) {
    return InvalidArgument("model '" + name + "': nothing to fit (" + std::to_string(x.rows) +
                           " rows, " + std::to_string(x.cols()) + " columns)");
  }
  if (static_cast<int64_t>(labels) != x.rows) {
    return InvalidArgument("model '" + name + "': " + std::to_string(labels) + " labels for " +
                           std::to_string(x.rows) + " rows");
  }
  if (!weights.empty() && static_cast<int64_t>(weights.size()) != x.rows) {
    return InvalidArgument("model '" + name + "': " + std::to_string(weights.size()) +
                           " weights for " + std::to_string(x.rows) + " rows");
  }
  for (size_t row = 0; row < weights.size(); ++row) {
    if (!(std::isfinite(weights[row]) && weights[row] >= 0)) {
      return InvalidArgument("model '" + name + "': row " + std::to_string(row) +
                             ": weight must be finite and >= 0");
    }
  }
  return Status::Ok();
}

std::vector<float> ToFloats(std::span<const double> values) {
  return std::vector<float>(values.begin(), values.end());
}

Status CheckFitted(std::string_view kind, const TreeEnsemble* ensemble) {
  if (ensemble != nullptr) return Status::Ok();
  return FailedPrecondition("model '" + std::string(kind) + "': not fitted");
}

const std::vector<std::string>& NoFeatures() {
  static const std::vector<std::string> empty;
  return empty;
}

nlohmann::json UnfittedDescription(std::string_view kind) {
  return {{"kind", kind}, {"fitted", false}};
}

}  // namespace

std::string_view TreeEnsembleKindName(TreeEnsembleKind kind) {
  switch (kind) {
    case TreeEnsembleKind::kXGBoost:
      return "xgboost";
    case TreeEnsembleKind::kXGBoostRegressor:
      return "xgboost_regressor";
    case TreeEnsembleKind::kRandomForest:
      return "random_forest";
    case TreeEnsembleKind::kRandomForestRegressor:
      return "random_forest_regressor";
  }
  return "xgboost";
}

bool IsRandomForest(TreeEnsembleKind kind) {
  return kind == TreeEnsembleKind::kRandomForest ||
         kind == TreeEnsembleKind::kRandomForestRegressor;
}

bool IsClassification(TreeEnsembleKind kind) {
  return kind == TreeEnsembleKind::kXGBoost || kind == TreeEnsembleKind::kRandomForest;
}

XGBoostOptions XGBoostOptions::Defaults(TreeEnsembleKind kind) {
  XGBoostOptions options;
  options.kind = kind;
  if (IsRandomForest(kind)) {
    // XGBoost's XGBRFClassifier / XGBRFRegressor defaults.
    options.n_estimators = 100;
    options.learning_rate = 1.0;
    options.subsample = 0.8;
    options.colsample_bynode = 0.8;
    options.reg_lambda = 1e-5;
  }
  return options;
}

Status XGBoostOptions::Validate() const {
  const std::string_view name = TreeEnsembleKindName(kind);
  if (n_estimators < 1) return ConfigError(name, "n_estimators", "must be >= 1");
  if (max_depth < 0) return ConfigError(name, "max_depth", "must be >= 0");
  if (max_depth == 0 && grow_policy != GrowPolicy::kLossguide) {
    return ConfigError(name, "max_depth", "0 (unlimited) needs grow_policy lossguide");
  }
  if (!(learning_rate > 0) || !std::isfinite(learning_rate)) {
    return ConfigError(name, "learning_rate", "must be > 0");
  }
  if (IsRandomForest(kind) && learning_rate != 1.0) {
    return ConfigError(name, "learning_rate", "is 1 in random-forest mode");
  }
  if (!(min_child_weight >= 0) || !std::isfinite(min_child_weight)) {
    return ConfigError(name, "min_child_weight", "must be >= 0");
  }
  if (!InUnitInterval(subsample)) return ConfigError(name, "subsample", "must lie in (0, 1]");
  if (!InUnitInterval(colsample_bytree)) {
    return ConfigError(name, "colsample_bytree", "must lie in (0, 1]");
  }
  if (!InUnitInterval(colsample_bynode)) {
    return ConfigError(name, "colsample_bynode", "must lie in (0, 1]");
  }
  for (const auto& [key, value] :
       {std::pair{"reg_lambda", reg_lambda}, {"reg_alpha", reg_alpha}, {"gamma", gamma}}) {
    if (!(value >= 0) || !std::isfinite(value)) return ConfigError(name, key, "must be >= 0");
  }
  if (max_bin < 2) return ConfigError(name, "max_bin", "must be >= 2");
  if (max_leaves < 0) return ConfigError(name, "max_leaves", "must be >= 0");
  if (max_cat_to_onehot < 1) return ConfigError(name, "max_cat_to_onehot", "must be >= 1");
  if (nthread < 0) return ConfigError(name, "nthread", "must be >= 0 (0 = all cores)");
  if (seed > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return ConfigError(name, "seed", "must be below 2^63");
  }
  if (num_classes != 0 && num_classes < 2) {
    return ConfigError(name, "num_classes", "must be 0 (from the labels) or >= 2");
  }
  if (scale_pos_weight && (!(*scale_pos_weight > 0) || !std::isfinite(*scale_pos_weight))) {
    return ConfigError(name, "scale_pos_weight", "must be > 0 or \"auto\"");
  }
  if (base_score && !std::isfinite(*base_score)) {
    return ConfigError(name, "base_score", "must be finite or \"auto\"");
  }
  if (base_score && IsClassification(kind) && !(*base_score > 0 && *base_score < 1)) {
    return ConfigError(name, "base_score", "must lie in (0, 1) for a classifier, or be \"auto\"");
  }
  if (!(huber_slope > 0) || !std::isfinite(huber_slope)) {
    return ConfigError(name, "huber_slope", "must be > 0");
  }
  if (early_stopping_rounds < 0) return ConfigError(name, "early_stopping_rounds", "must be >= 0");
  if (IsRandomForest(kind) && early_stopping_rounds != 0) {
    return ConfigError(name, "early_stopping_rounds", "random forests train one round");
  }
  if (!(validation_fraction > 0 && validation_fraction < 1)) {
    return ConfigError(name, "validation_fraction", "must lie in (0, 1)");
  }
  return Status::Ok();
}

Result<XGBoostOptions> XGBoostOptions::FromJson(TreeEnsembleKind kind,
                                                const nlohmann::json& config) {
  using models_internal::ConfigInt;
  using models_internal::ConfigNumber;
  const std::string_view name = TreeEnsembleKindName(kind);
  VIGIL_RETURN_IF_ERROR(CheckKeys(kind, config));
  XGBoostOptions o = Defaults(kind);
  VIGIL_ASSIGN_OR_RETURN(o.n_estimators, ConfigInt(name, config, "n_estimators", o.n_estimators));
  VIGIL_ASSIGN_OR_RETURN(o.max_depth, ConfigInt(name, config, "max_depth", o.max_depth));
  VIGIL_ASSIGN_OR_RETURN(o.learning_rate,
                         ConfigNumber(name, config, "learning_rate", o.learning_rate));
  VIGIL_ASSIGN_OR_RETURN(o.min_child_weight,
                         ConfigNumber(name, config, "min_child_weight", o.min_child_weight));
  VIGIL_ASSIGN_OR_RETURN(o.subsample, ConfigNumber(name, config, "subsample", o.subsample));
  VIGIL_ASSIGN_OR_RETURN(o.colsample_bytree,
                         ConfigNumber(name, config, "colsample_bytree", o.colsample_bytree));
  VIGIL_ASSIGN_OR_RETURN(o.colsample_bynode,
                         ConfigNumber(name, config, "colsample_bynode", o.colsample_bynode));
  VIGIL_ASSIGN_OR_RETURN(o.reg_lambda, ConfigNumber(name, config, "reg_lambda", o.reg_lambda));
  VIGIL_ASSIGN_OR_RETURN(o.reg_alpha, ConfigNumber(name, config, "reg_alpha", o.reg_alpha));
  VIGIL_ASSIGN_OR_RETURN(o.gamma, ConfigNumber(name, config, "gamma", o.gamma));
  VIGIL_ASSIGN_OR_RETURN(o.max_bin, ConfigInt(name, config, "max_bin", o.max_bin));
  VIGIL_ASSIGN_OR_RETURN(o.grow_policy, ParseChoice(name, config, "grow_policy",
                                                    {{"depthwise", GrowPolicy::kDepthwise},
                                                     {"lossguide", GrowPolicy::kLossguide}},
                                                    o.grow_policy));
  VIGIL_ASSIGN_OR_RETURN(o.max_leaves, ConfigInt(name, config, "max_leaves", o.max_leaves));
  VIGIL_ASSIGN_OR_RETURN(o.categorical, ParseCategorical(name, config));
  VIGIL_ASSIGN_OR_RETURN(o.max_cat_to_onehot,
                         ConfigInt(name, config, "max_cat_to_onehot", o.max_cat_to_onehot));
  VIGIL_ASSIGN_OR_RETURN(o.nthread, ConfigInt(name, config, "nthread", o.nthread));
  VIGIL_ASSIGN_OR_RETURN(o.seed, ParseSeed(name, config, o.seed));
  VIGIL_ASSIGN_OR_RETURN(o.base_score, ParseBaseScore(name, config));
  VIGIL_ASSIGN_OR_RETURN(
      o.predictor,
      ParseChoice(name, config, "predictor",
                  {{"auto", Predictor::kAuto}, {"xgboost", Predictor::kXGBoost}}, o.predictor));
  VIGIL_ASSIGN_OR_RETURN(o.num_classes, ConfigInt(name, config, "num_classes", o.num_classes));
  VIGIL_ASSIGN_OR_RETURN(o.scale_pos_weight, ParseScalePosWeight(name, config, 1.0));
  VIGIL_ASSIGN_OR_RETURN(o.class_weight, ParseChoice(name, config, "class_weight",
                                                     {{"none", ClassWeight::kNone},
                                                      {"balanced", ClassWeight::kBalanced}},
                                                     o.class_weight));
  VIGIL_ASSIGN_OR_RETURN(o.objective,
                         ParseChoice(name, config, "objective",
                                     {{"squarederror", RegressionObjective::kSquaredError},
                                      {"pseudohubererror", RegressionObjective::kPseudoHuber}},
                                     o.objective));
  VIGIL_ASSIGN_OR_RETURN(o.huber_slope, ConfigNumber(name, config, "huber_slope", o.huber_slope));
  VIGIL_ASSIGN_OR_RETURN(o.early_stopping_rounds,
                         ConfigInt(name, config, "early_stopping_rounds", o.early_stopping_rounds));
  VIGIL_ASSIGN_OR_RETURN(o.validation_fraction,
                         ConfigNumber(name, config, "validation_fraction", o.validation_fraction));
  VIGIL_RETURN_IF_ERROR(o.Validate());
  return o;
}

nlohmann::json XGBoostOptions::ToJson() const {
  nlohmann::json json = {
      {"n_estimators", n_estimators},
      {"max_depth", max_depth},
      {"min_child_weight", min_child_weight},
      {"subsample", subsample},
      {"colsample_bytree", colsample_bytree},
      {"colsample_bynode", colsample_bynode},
      {"reg_lambda", reg_lambda},
      {"reg_alpha", reg_alpha},
      {"gamma", gamma},
      {"max_bin", max_bin},
      {"grow_policy", grow_policy == GrowPolicy::kLossguide ? "lossguide" : "depthwise"},
      {"max_leaves", max_leaves},
      {"categorical", categorical},
      {"max_cat_to_onehot", max_cat_to_onehot},
      {"nthread", nthread},
      {"seed", seed},
      {"base_score", base_score ? nlohmann::json(*base_score) : nlohmann::json("auto")},
      {"predictor", predictor == Predictor::kXGBoost ? "xgboost" : "auto"}};
  if (!IsRandomForest(kind)) {
    json["learning_rate"] = learning_rate;
    json["early_stopping_rounds"] = early_stopping_rounds;
    json["validation_fraction"] = validation_fraction;
  }
  if (IsClassification(kind)) {
    json["num_classes"] = num_classes;
    json["scale_pos_weight"] =
        scale_pos_weight ? nlohmann::json(*scale_pos_weight) : nlohmann::json("auto");
    json["class_weight"] = class_weight == ClassWeight::kBalanced ? "balanced" : "none";
  } else {
    json["objective"] =
        objective == RegressionObjective::kPseudoHuber ? "pseudohubererror" : "squarederror";
    json["huber_slope"] = huber_slope;
  }
  return json;
}

// --- XGBoostClassifier ---

XGBoostClassifier::XGBoostClassifier(XGBoostOptions options) : options_(std::move(options)) {}
XGBoostClassifier::~XGBoostClassifier() = default;

bool XGBoostClassifier::fitted() const { return ensemble_ != nullptr; }
int XGBoostClassifier::num_classes() const {
  if (ensemble_) return ensemble_->meta().num_classes;
  return options_.num_classes == 0 ? 2 : options_.num_classes;
}
int XGBoostClassifier::best_iteration() const {
  return ensemble_ ? ensemble_->meta().best_iteration : -1;
}
const std::vector<std::string>& XGBoostClassifier::feature_names() const {
  return ensemble_ ? ensemble_->meta().features : NoFeatures();
}

Status XGBoostClassifier::Fit(const FeatureMatrix& x, std::span<const int> labels,
                              std::span<const double> weights) {
  const std::string name(kind());
  if (!IsClassification(options_.kind)) {
    return InvalidArgument("model '" + name + "' is not a classification kind");
  }
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(CheckFitRows(name, x, labels.size(), weights));
  int max_label = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    const bool too_large = options_.num_classes != 0 && labels[row] >= options_.num_classes;
    if (labels[row] < 0 || too_large) {
      return InvalidArgument(
          "model '" + name + "': row " + std::to_string(row) + ": label " +
          std::to_string(labels[row]) + " is not a class index" +
          (too_large ? " (num_classes " + std::to_string(options_.num_classes) + ")" : ""));
    }
    max_label = std::max(max_label, labels[row]);
  }
  TrainingInput input;
  input.x = &x;
  input.num_classes = options_.num_classes != 0 ? options_.num_classes : std::max(2, max_label + 1);
  if (input.num_classes > 2 && options_.scale_pos_weight.value_or(0.0) != 1.0) {
    return ConfigError(
        name, "scale_pos_weight",
        "applies to binary labels only (" + std::to_string(input.num_classes) + " classes)");
  }
  input.scale_pos_weight = options_.scale_pos_weight.value_or(ScalePosWeight(labels));
  for (int label : labels) input.labels.push_back(static_cast<float>(label));
  if (options_.class_weight == XGBoostOptions::ClassWeight::kBalanced) {
    std::vector<double> combined = BalancedSampleWeights(labels, input.num_classes);
    for (size_t row = 0; row < weights.size(); ++row) combined[row] *= weights[row];
    input.weights = ToFloats(combined);
  } else {
    input.weights = ToFloats(weights);
  }
  VIGIL_ASSIGN_OR_RETURN(ensemble_, TreeEnsemble::Fit(options_, input));
  return Status::Ok();
}

Result<ProbabilityMatrix> XGBoostClassifier::PredictProba(const FeatureMatrix& x) const {
  VIGIL_RETURN_IF_ERROR(CheckFitted(kind(), ensemble_.get()));
  VIGIL_RETURN_IF_ERROR(ensemble_->CheckRows(x));
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> predicted, ensemble_->Predict(x, /*margin=*/false));
  ProbabilityMatrix out;
  out.num_classes = ensemble_->meta().num_classes;
  if (out.num_classes > 2) {
    out.values = std::move(predicted);
    return out;
  }
  out.values.resize(predicted.size() * 2);
  for (size_t row = 0; row < predicted.size(); ++row) {
    out.values[row * 2] = 1.0 - predicted[row];  // as XGBClassifier.predict_proba
    out.values[row * 2 + 1] = predicted[row];
  }
  return out;
}

Result<std::vector<double>> XGBoostClassifier::RawMargin(const FeatureMatrix& x) const {
  VIGIL_RETURN_IF_ERROR(CheckFitted(kind(), ensemble_.get()));
  VIGIL_RETURN_IF_ERROR(ensemble_->CheckRows(x));
  return ensemble_->Predict(x, /*margin=*/true);
}

Result<Attributions> XGBoostClassifier::Shap(const FeatureMatrix& x) const {
  VIGIL_RETURN_IF_ERROR(CheckFitted(kind(), ensemble_.get()));
  VIGIL_RETURN_IF_ERROR(ensemble_->CheckRows(x));
  return ensemble_->Shap(x);
}

Result<FeatureImportance> XGBoostClassifier::Importance() const {
  VIGIL_RETURN_IF_ERROR(CheckFitted(kind(), ensemble_.get()));
  return ensemble_->Importance();
}

nlohmann::json XGBoostClassifier::Describe() const {
  return ensemble_ ? ensemble_->Describe() : UnfittedDescription(kind());
}

Status XGBoostClassifier::SaveWeights(const std::filesystem::path& dir) const {
  if (!ensemble_)
    return FailedPrecondition("model '" + std::string(kind()) + "': not fitted, nothing to save");
  return ensemble_->Save(dir);
}

Status XGBoostClassifier::LoadWeights(const std::filesystem::path& dir) {
  VIGIL_ASSIGN_OR_RETURN(ensemble_, TreeEnsemble::Load(options_, dir));
  return Status::Ok();
}

// --- XGBoostRegressor ---

XGBoostRegressor::XGBoostRegressor(XGBoostOptions options) : options_(std::move(options)) {}
XGBoostRegressor::~XGBoostRegressor() = default;

bool XGBoostRegressor::fitted() const { return ensemble_ != nullptr; }
int XGBoostRegressor::best_iteration() const {
  return ensemble_ ? ensemble_->meta().best_iteration : -1;
}
const std::vector<std::string>& XGBoostRegressor::feature_names() const {
  return ensemble_ ? ensemble_->meta().features : NoFeatures();
}

Status XGBoostRegressor::Fit(const FeatureMatrix& x, std::span<const double> targets,
                             std::span<const double> weights) {
  const std::string name(kind());
  if (IsClassification(options_.kind)) {
    return InvalidArgument("model '" + name + "' is not a regression kind");
  }
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(CheckFitRows(name, x, targets.size(), weights));
  for (size_t row = 0; row < targets.size(); ++row) {
    if (!std::isfinite(targets[row])) {
      return InvalidArgument("model '" + name + "': row " + std::to_string(row) +
                             ": target is not finite");
    }
  }
  TrainingInput input;
  input.x = &x;
  input.labels = ToFloats(targets);
  input.weights = ToFloats(weights);
  VIGIL_ASSIGN_OR_RETURN(ensemble_, TreeEnsemble::Fit(options_, input));
  return Status::Ok();
}

Result<std::vector<double>> XGBoostRegressor::Predict(const FeatureMatrix& x) const {
  VIGIL_RETURN_IF_ERROR(CheckFitted(kind(), ensemble_.get()));
  VIGIL_RETURN_IF_ERROR(ensemble_->CheckRows(x));
  return ensemble_->Predict(x, /*margin=*/false);
}

Result<std::vector<double>> XGBoostRegressor::RawMargin(const FeatureMatrix& x) const {
  VIGIL_RETURN_IF_ERROR(CheckFitted(kind(), ensemble_.get()));
  VIGIL_RETURN_IF_ERROR(ensemble_->CheckRows(x));
  return ensemble_->Predict(x, /*margin=*/true);
}

Result<Attributions> XGBoostRegressor::Shap(const FeatureMatrix& x) const {
  VIGIL_RETURN_IF_ERROR(CheckFitted(kind(), ensemble_.get()));
  VIGIL_RETURN_IF_ERROR(ensemble_->CheckRows(x));
  return ensemble_->Shap(x);
}

Result<FeatureImportance> XGBoostRegressor::Importance() const {
  VIGIL_RETURN_IF_ERROR(CheckFitted(kind(), ensemble_.get()));
  return ensemble_->Importance();
}

nlohmann::json XGBoostRegressor::Describe() const {
  return ensemble_ ? ensemble_->Describe() : UnfittedDescription(kind());
}

Status XGBoostRegressor::SaveWeights(const std::filesystem::path& dir) const {
  if (!ensemble_)
    return FailedPrecondition("model '" + std::string(kind()) + "': not fitted, nothing to save");
  return ensemble_->Save(dir);
}

Status XGBoostRegressor::LoadWeights(const std::filesystem::path& dir) {
  VIGIL_ASSIGN_OR_RETURN(ensemble_, TreeEnsemble::Load(options_, dir));
  return Status::Ok();
}

// --- registration ---

namespace models_internal {
namespace {
KindRegistration TreeEnsembleRegistration(TreeEnsembleKind kind) {
  const Task task = IsClassification(kind) ? Task::kClassification : Task::kRegression;
  return {std::string(TreeEnsembleKindName(kind)), task,
          [kind](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
            VIGIL_ASSIGN_OR_RETURN(XGBoostOptions options, XGBoostOptions::FromJson(kind, config));
            if (IsClassification(kind)) {
              return std::unique_ptr<Model>(std::make_unique<XGBoostClassifier>(options));
            }
            return std::unique_ptr<Model>(std::make_unique<XGBoostRegressor>(options));
          }};
}
}  // namespace

KindRegistration XGBoostKind() { return TreeEnsembleRegistration(TreeEnsembleKind::kXGBoost); }
KindRegistration XGBoostRegressorKind() {
  return TreeEnsembleRegistration(TreeEnsembleKind::kXGBoostRegressor);
}
KindRegistration RandomForestKind() {
  return TreeEnsembleRegistration(TreeEnsembleKind::kRandomForest);
}
KindRegistration RandomForestRegressorKind() {
  return TreeEnsembleRegistration(TreeEnsembleKind::kRandomForestRegressor);
}
}  // namespace models_internal

}  // namespace vigil
