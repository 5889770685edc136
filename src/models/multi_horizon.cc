#include "vigil/models/multi_horizon.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "models/builtin_kinds.h"
#include "models/wrapped_classifier.h"
#include "vigil/core/timestamp.h"

namespace vigil {
namespace {

using models_internal::ConfigError;

constexpr std::string_view kKind = MultiHorizonClassifier::kKind;
constexpr std::string_view kWeightsFile = "multi_horizon.json";
constexpr std::string_view kWeightsFormat = "vigil.multi_horizon";
constexpr int kWeightsVersion = 1;

// The liquidation horizons of issue 6: 5, 15, 30 and 60 minutes.
std::vector<int64_t> DefaultHorizons() {
  return {5 * kNanosPerMinute, 15 * kNanosPerMinute, 30 * kNanosPerMinute, 60 * kNanosPerMinute};
}

std::string HorizonName(int64_t horizon_ns) { return FormatDuration(horizon_ns); }

// Each horizon's base lives in <dir>/h<duration>/, e.g. h5m/.
std::filesystem::path HorizonDir(const std::filesystem::path& dir, int64_t horizon_ns) {
  return dir / ("h" + HorizonName(horizon_ns));
}

std::string HorizonContext(int64_t horizon_ns) {
  return "model 'multi_horizon': horizon " + HorizonName(horizon_ns);
}

Status CheckHorizons(const std::vector<int64_t>& horizons) {
  if (horizons.empty()) return ConfigError(kKind, "horizons", "needs at least one horizon");
  for (size_t k = 0; k < horizons.size(); ++k) {
    if (horizons[k] <= 0) return ConfigError(kKind, "horizons", "durations must be > 0");
    if (k > 0 && horizons[k] <= horizons[k - 1]) {
      return ConfigError(kKind, "horizons",
                         "must be distinct and increasing ('" + HorizonName(horizons[k]) +
                             "' after '" + HorizonName(horizons[k - 1]) + "')");
    }
  }
  return Status::Ok();
}

Result<int64_t> ParseHorizon(std::string_view key, const nlohmann::json& value) {
  if (!value.is_string()) return ConfigError(kKind, key, "durations are strings such as \"5m\"");
  Result<int64_t> nanos = ParseDuration(value.get<std::string>());
  if (!nanos.ok()) return ConfigError(kKind, key, nanos.status().message());
  return *nanos;
}

// The fitted base of horizon k, as an explainer (FailedPrecondition when it is none).
Result<const ExplainableModel*> ExplainableHorizon(const Model& model, int64_t horizon_ns) {
  const ExplainableModel* explainable = AsExplainable(&model);
  if (explainable == nullptr) {
    return FailedPrecondition(HorizonContext(horizon_ns) + ": base kind '" +
                              std::string(model.kind()) + "' does not explain its predictions");
  }
  return explainable;
}

}  // namespace

// --- Options -------------------------------------------------------------------------

Status MultiHorizonClassifier::Options::Validate() const {
  VIGIL_RETURN_IF_ERROR(CheckHorizons(horizons_ns));
  if (primary_ns != 0 &&
      std::find(horizons_ns.begin(), horizons_ns.end(), primary_ns) == horizons_ns.end()) {
    return ConfigError(kKind, "primary", "'" + HorizonName(primary_ns) + "' is not a horizon");
  }
  return models_internal::CreateBinaryClassifier(kKind, base_kind, base_params).status();
}

Result<MultiHorizonClassifier::Options> MultiHorizonClassifier::Options::FromJson(
    const nlohmann::json& config) {
  VIGIL_RETURN_IF_ERROR(
      models_internal::CheckConfigKeys(kKind, config, {"horizons", "base", "primary"}));
  Options options;
  options.horizons_ns = DefaultHorizons();
  if (config.is_object() && config.contains("horizons")) {
    const nlohmann::json& horizons = config.at("horizons");
    if (!horizons.is_array()) {
      return ConfigError(kKind, "horizons", "must be an array such as [\"5m\", \"15m\"]");
    }
    options.horizons_ns.clear();
    for (const nlohmann::json& item : horizons) {
      VIGIL_ASSIGN_OR_RETURN(int64_t horizon, ParseHorizon("horizons", item));
      options.horizons_ns.push_back(horizon);
    }
  }
  if (config.is_object() && config.contains("primary") && !config.at("primary").is_null()) {
    VIGIL_ASSIGN_OR_RETURN(options.primary_ns, ParseHorizon("primary", config.at("primary")));
  }
  VIGIL_ASSIGN_OR_RETURN(models_internal::BaseClassifierSpec base,
                         models_internal::ParseBaseClassifierSpec(kKind, config, "logistic"));
  options.base_kind = std::move(base.kind);
  options.base_params = std::move(base.params);
  VIGIL_RETURN_IF_ERROR(CheckHorizons(options.horizons_ns));
  if (options.primary_ns != 0 && std::find(options.horizons_ns.begin(), options.horizons_ns.end(),
                                           options.primary_ns) == options.horizons_ns.end()) {
    return ConfigError(kKind, "primary",
                       "'" + HorizonName(options.primary_ns) + "' is not one of the horizons");
  }
  return options;
}

nlohmann::json MultiHorizonClassifier::Options::ToJson() const {
  nlohmann::json horizons = nlohmann::json::array();
  for (int64_t horizon : horizons_ns) horizons.push_back(HorizonName(horizon));
  const int64_t primary = primary_ns != 0 || horizons_ns.empty() ? primary_ns : horizons_ns[0];
  return {{"horizons", horizons},
          {"base", models_internal::BaseClassifierSpecJson(base_kind, base_params)},
          {"primary", primary > 0 ? nlohmann::json(HorizonName(primary)) : nlohmann::json()}};
}

// --- construction --------------------------------------------------------------------

MultiHorizonClassifier::MultiHorizonClassifier(Options options) : options_(std::move(options)) {}

Result<std::unique_ptr<MultiHorizonClassifier>> MultiHorizonClassifier::FromModels(
    std::vector<int64_t> horizons_ns, std::vector<std::unique_ptr<Model>> models) {
  if (models.size() != horizons_ns.size()) {
    return InvalidArgument("model 'multi_horizon': " + std::to_string(models.size()) +
                           " models for " + std::to_string(horizons_ns.size()) + " horizons");
  }
  VIGIL_RETURN_IF_ERROR(CheckHorizons(horizons_ns));
  for (size_t k = 0; k < models.size(); ++k) {
    const std::string where = "horizon " + HorizonName(horizons_ns[k]);
    if (models[k] == nullptr)
      return InvalidArgument("model 'multi_horizon': " + where + ": no model");
    VIGIL_RETURN_IF_ERROR(models_internal::CheckBinaryClassifier(
        kKind, where + " (kind '" + std::string(models[k]->kind()) + "')", models[k].get()));
    if (!models[k]->fitted()) {
      return InvalidArgument("model 'multi_horizon': " + where + ": model is not fitted");
    }
    if (k == 0) continue;
    const std::string first = "horizon " + HorizonName(horizons_ns[0]);
    if (models[k]->kind() != models[0]->kind()) {
      return InvalidArgument("model 'multi_horizon': " + where + " is kind '" +
                             std::string(models[k]->kind()) + "', " + first + " is '" +
                             std::string(models[0]->kind()) + "' (one kind for every horizon)");
    }
    if (models[k]->config() != models[0]->config()) {
      return InvalidArgument("model 'multi_horizon': " + where + "'s config differs from " + first +
                             "'s (every horizon shares one base config)");
    }
    if (models[k]->feature_names() != models[0]->feature_names()) {
      return InvalidArgument("model 'multi_horizon': " + where + "'s features differ from " +
                             first + "'s");
    }
  }
  Options options;
  options.horizons_ns = std::move(horizons_ns);
  options.base_kind = std::string(models[0]->kind());
  options.base_params = models[0]->config();
  auto model = std::make_unique<MultiHorizonClassifier>(std::move(options));
  model->models_ = std::move(models);
  return model;
}

bool MultiHorizonClassifier::fitted() const {
  return !models_.empty() &&
         std::all_of(models_.begin(), models_.end(), [](const auto& m) { return m->fitted(); });
}

const std::vector<std::string>& MultiHorizonClassifier::feature_names() const {
  static const std::vector<std::string> kNone;
  return models_.empty() ? kNone : models_[0]->feature_names();
}

// --- fitting and prediction ----------------------------------------------------------

Status MultiHorizonClassifier::Fit(const FeatureMatrix& x, std::span<const int> labels,
                                   std::span<const double> weights) {
  const std::vector<int> copy(labels.begin(), labels.end());
  return FitHorizons(x, std::vector<std::vector<int>>(options_.horizons_ns.size(), copy), weights);
}

Status MultiHorizonClassifier::FitHorizons(const FeatureMatrix& x,
                                           const std::vector<std::vector<int>>& labels,
                                           std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  if (labels.size() != options_.horizons_ns.size()) {
    return InvalidArgument("model 'multi_horizon': " + std::to_string(labels.size()) +
                           " label vectors for " + std::to_string(options_.horizons_ns.size()) +
                           " horizons");
  }
  std::vector<std::unique_ptr<Model>> models;
  for (size_t k = 0; k < labels.size(); ++k) {
    const std::string where = HorizonContext(options_.horizons_ns[k]);
    VIGIL_ASSIGN_OR_RETURN(
        std::unique_ptr<Model> model,
        models_internal::CreateBinaryClassifier(kKind, options_.base_kind, options_.base_params));
    VIGIL_RETURN_IF_ERROR(AsClassifier(model.get())->Fit(x, labels[k], weights).WithContext(where));
    models.push_back(std::move(model));
  }
  models_ = std::move(models);
  return Status::Ok();
}

Result<ProbabilityMatrix> MultiHorizonClassifier::PredictProba(const FeatureMatrix& x) const {
  if (!fitted()) return FailedPrecondition("model 'multi_horizon': not fitted");
  const int64_t primary = options_.primary_ns != 0 ? options_.primary_ns : options_.horizons_ns[0];
  const size_t k = static_cast<size_t>(
      std::find(options_.horizons_ns.begin(), options_.horizons_ns.end(), primary) -
      options_.horizons_ns.begin());
  return AsClassifier(models_[k].get())->PredictProba(x);
}

Result<std::vector<double>> MultiHorizonClassifier::PredictHorizons(const FeatureMatrix& x) const {
  if (!fitted()) return FailedPrecondition("model 'multi_horizon': not fitted");
  const size_t horizons = models_.size();
  std::vector<double> out(static_cast<size_t>(x.rows) * horizons);
  for (size_t k = 0; k < horizons; ++k) {
    Result<std::vector<double>> probs =
        models_internal::PositiveProbabilities(*AsClassifier(models_[k].get()), x);
    VIGIL_RETURN_IF_ERROR(probs.status().WithContext(HorizonContext(options_.horizons_ns[k])));
    for (int64_t row = 0; row < x.rows; ++row) out[row * horizons + k] = (*probs)[row];
  }
  return out;
}

// --- explanation ---------------------------------------------------------------------

Result<std::vector<double>> MultiHorizonClassifier::RawMargin(const FeatureMatrix& x) const {
  if (!fitted()) return FailedPrecondition("model 'multi_horizon': not fitted");
  const size_t horizons = models_.size();
  std::vector<double> out(static_cast<size_t>(x.rows) * horizons);
  for (size_t k = 0; k < horizons; ++k) {
    const std::string where = HorizonContext(options_.horizons_ns[k]);
    VIGIL_ASSIGN_OR_RETURN(const ExplainableModel* base,
                           ExplainableHorizon(*models_[k], options_.horizons_ns[k]));
    Result<std::vector<double>> margin = base->RawMargin(x);
    VIGIL_RETURN_IF_ERROR(margin.status().WithContext(where));
    if (static_cast<int64_t>(margin->size()) != x.rows) {
      return Internal(where + ": RawMargin returned " + std::to_string(margin->size()) +
                      " values for " + std::to_string(x.rows) + " rows");
    }
    for (int64_t row = 0; row < x.rows; ++row) out[row * horizons + k] = (*margin)[row];
  }
  return out;
}

Result<Attributions> MultiHorizonClassifier::Shap(const FeatureMatrix& x) const {
  if (!fitted()) return FailedPrecondition("model 'multi_horizon': not fitted");
  Attributions out;
  out.features = feature_names();
  out.outputs = static_cast<int>(models_.size());
  out.rows = x.rows;
  out.values.resize(static_cast<size_t>(x.rows) * models_.size() * out.width());
  for (size_t k = 0; k < models_.size(); ++k) {
    const std::string where = HorizonContext(options_.horizons_ns[k]);
    VIGIL_ASSIGN_OR_RETURN(const ExplainableModel* base,
                           ExplainableHorizon(*models_[k], options_.horizons_ns[k]));
    Result<Attributions> shap = base->Shap(x);
    VIGIL_RETURN_IF_ERROR(shap.status().WithContext(where));
    if (shap->outputs != 1 || shap->rows != x.rows || shap->width() != out.width()) {
      return Internal(where + ": Shap returned " + std::to_string(shap->outputs) + " outputs x " +
                      std::to_string(shap->rows) + " rows x " + std::to_string(shap->width()) +
                      " columns");
    }
    for (int64_t row = 0; row < x.rows; ++row) {
      const auto source = shap->values.begin() + static_cast<std::ptrdiff_t>(row * out.width());
      std::copy(source, source + static_cast<std::ptrdiff_t>(out.width()),
                out.values.begin() +
                    static_cast<std::ptrdiff_t>((row * models_.size() + k) * out.width()));
    }
  }
  return out;
}

// Methods every horizon reports, averaged over horizons.
Result<FeatureImportance> MultiHorizonClassifier::Importance() const {
  if (!fitted()) return FailedPrecondition("model 'multi_horizon': not fitted");
  std::vector<FeatureImportance> per_horizon;
  for (size_t k = 0; k < models_.size(); ++k) {
    VIGIL_ASSIGN_OR_RETURN(const ExplainableModel* base,
                           ExplainableHorizon(*models_[k], options_.horizons_ns[k]));
    Result<FeatureImportance> importance = base->Importance();
    VIGIL_RETURN_IF_ERROR(importance.status().WithContext(HorizonContext(options_.horizons_ns[k])));
    per_horizon.push_back(std::move(*importance));
  }
  FeatureImportance out;
  out.features = feature_names();
  for (const auto& [method, values] : per_horizon[0].by_method) {
    std::vector<double> mean(out.features.size(), 0.0);
    bool everywhere = true;
    for (const FeatureImportance& importance : per_horizon) {
      const auto it = importance.by_method.find(method);
      if (it == importance.by_method.end() || it->second.size() != mean.size()) {
        everywhere = false;
        break;
      }
      for (size_t j = 0; j < mean.size(); ++j) mean[j] += it->second[j] / per_horizon.size();
    }
    if (everywhere) out.by_method[method] = std::move(mean);
  }
  return out;
}

// --- persistence ---------------------------------------------------------------------

nlohmann::json MultiHorizonClassifier::Describe() const {
  nlohmann::json horizons = nlohmann::json::object();
  for (size_t k = 0; k < models_.size(); ++k) {
    horizons[HorizonName(options_.horizons_ns[k])] = models_[k]->Describe();
  }
  const nlohmann::json config = options_.ToJson();
  return {{"kind", kKind},
          {"fitted", fitted()},
          {"primary", config.at("primary")},
          {"horizons", horizons}};
}

Status MultiHorizonClassifier::SaveWeights(const std::filesystem::path& dir) const {
  if (!fitted()) return FailedPrecondition("model 'multi_horizon': not fitted, nothing to save");
  nlohmann::json horizons = nlohmann::json::array();
  for (size_t k = 0; k < models_.size(); ++k) {
    const std::filesystem::path sub = HorizonDir(dir, options_.horizons_ns[k]);
    VIGIL_RETURN_IF_ERROR(models_internal::EnsureDirectory(sub));
    VIGIL_RETURN_IF_ERROR(
        models_[k]->SaveWeights(sub).WithContext(HorizonContext(options_.horizons_ns[k])));
    horizons.push_back(HorizonName(options_.horizons_ns[k]));
  }
  nlohmann::json doc = models_internal::WrapperWeightsDocument(kWeightsFormat, kWeightsVersion,
                                                               models_[0]->kind(), feature_names());
  doc["horizons"] = horizons;
  return models_internal::WriteWeightsDocument(dir / kWeightsFile, doc);
}

Status MultiHorizonClassifier::LoadWeights(const std::filesystem::path& dir) {
  VIGIL_ASSIGN_OR_RETURN(models_internal::WrapperWeights weights,
                         models_internal::ReadWrapperWeights(dir / kWeightsFile, kWeightsFormat,
                                                             kWeightsVersion, options_.base_kind));
  const nlohmann::json horizons = options_.ToJson().at("horizons");
  const nlohmann::json saved = weights.doc.value("horizons", nlohmann::json());
  if (saved != horizons) {
    return DataError(weights.source + ": horizons " + saved.dump() + " but the config says " +
                     horizons.dump());
  }
  std::vector<std::unique_ptr<Model>> models;
  for (int64_t horizon : options_.horizons_ns) {
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                           models_internal::LoadBaseClassifier(
                               kKind, options_.base_kind, options_.base_params,
                               HorizonDir(dir, horizon), HorizonContext(horizon), weights));
    models.push_back(std::move(model));
  }
  models_ = std::move(models);
  return Status::Ok();
}

namespace models_internal {
KindRegistration MultiHorizonKind() { return WrapperKindRegistration<MultiHorizonClassifier>(); }
}  // namespace models_internal

}  // namespace vigil
