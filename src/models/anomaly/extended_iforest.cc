#include "vigil/models/anomaly/extended_iforest.h"

#include <memory>
#include <string>
#include <utility>

#include "models/anomaly/iforest_forest.h"
#include "models/anomaly/iforest_weights.h"
#include "models/builtin_kinds.h"

namespace vigil {
namespace {

using models_internal::ConfigError;

constexpr std::string_view kKind = ExtendedIsolationForest::kKind;

Result<int> ParseExtensionLevel(const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("extension_level")) {
    return ExtendedIsolationForestOptions::kFullExtension;
  }
  const nlohmann::json& value = config.at("extension_level");
  if (value.is_string() && value.get<std::string>() == "full") {
    return ExtendedIsolationForestOptions::kFullExtension;
  }
  if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > 1 << 20) {
    return ConfigError(kKind, "extension_level", "expected \"full\" or an integer >= 0");
  }
  return value.get<int>();
}

// The features each tree sees, as PlanForest resolves them (for checking extension_level).
int64_t FeaturesPerTree(const IsolationForestOptions& options, int64_t features) {
  return std::min(options.max_features.Resolve(features), features);
}

Result<models_internal::FittedForest> FitHyperplaneForest(
    const ExtendedIsolationForestOptions& options, const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(models_internal::CheckTrainingInput(kKind, x));
  VIGIL_ASSIGN_OR_RETURN(models_internal::ForestPlan plan,
                         models_internal::PlanForest(kKind, options.forest, x));
  VIGIL_ASSIGN_OR_RETURN(plan.terms_per_split, options.TermsPerSplit(plan.features_per_tree));
  return models_internal::FitForest(kKind, options.forest, plan, x,
                                    ExtendedIsolationForest::kNativeThreshold);
}

}  // namespace

Status ExtendedIsolationForestOptions::Validate() const {
  VIGIL_RETURN_IF_ERROR(forest.Validate(kKind));
  if (extension_level < 0 && extension_level != kFullExtension) {
    return ConfigError(kKind, "extension_level", "must be \"full\" or an integer >= 0");
  }
  return Status::Ok();
}

Result<ExtendedIsolationForestOptions> ExtendedIsolationForestOptions::FromJson(
    const nlohmann::json& config) {
  VIGIL_RETURN_IF_ERROR(
      models_internal::CheckConfigKeys(kKind, config,
                                       {"n_estimators", "max_samples", "max_features", "bootstrap",
                                        "contamination", "seed", "n_jobs", "extension_level"}));
  ExtendedIsolationForestOptions options;
  VIGIL_ASSIGN_OR_RETURN(options.forest,
                         models_internal::ParseIsolationForestOptions(kKind, config));
  VIGIL_ASSIGN_OR_RETURN(options.extension_level, ParseExtensionLevel(config));
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

nlohmann::json ExtendedIsolationForestOptions::ToJson() const {
  nlohmann::json out = forest.ToJson();
  out["extension_level"] =
      extension_level == kFullExtension ? nlohmann::json("full") : nlohmann::json(extension_level);
  return out;
}

Result<int> ExtendedIsolationForestOptions::TermsPerSplit(int tree_features) const {
  if (extension_level == kFullExtension) return tree_features;
  if (extension_level >= tree_features) {
    return ConfigError(kKind, "extension_level",
                       std::to_string(extension_level) + " must be below the " +
                           std::to_string(tree_features) + " features per tree");
  }
  return extension_level + 1;
}

ExtendedIsolationForest::ExtendedIsolationForest(ExtendedIsolationForestOptions options)
    : options_(std::move(options)) {}

Status ExtendedIsolationForest::Fit(const FeatureMatrix& x) {
  VIGIL_ASSIGN_OR_RETURN(models_internal::FittedForest fitted, FitHyperplaneForest(options_, x));
  forest_ = std::move(fitted.forest);
  return Status::Ok();
}

Result<AnomalyScores> ExtendedIsolationForest::FitScore(const FeatureMatrix& x) {
  VIGIL_ASSIGN_OR_RETURN(models_internal::FittedForest fitted, FitHyperplaneForest(options_, x));
  forest_ = std::move(fitted.forest);
  return models_internal::ScoresFromRaw(*forest_, x, std::move(fitted.training_raw));
}

nlohmann::json ExtendedIsolationForest::Describe() const {
  nlohmann::json out = models_internal::DescribeForest(kKind, forest_.get(), config());
  if (forest_) out["extension_level"] = forest_->terms_per_split - 1;
  return out;
}

Status ExtendedIsolationForest::LoadWeights(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / kWeightsFile;
  VIGIL_ASSIGN_OR_RETURN(auto forest,
                         models_internal::LoadForest(kKind, file, options_.forest.n_estimators));
  const int64_t tree_features =
      FeaturesPerTree(options_.forest, static_cast<int64_t>(forest->feature_names.size()));
  const auto expected = options_.TermsPerSplit(static_cast<int>(tree_features));
  if (!expected.ok() || *expected != forest->terms_per_split) {
    return DataError(file.string() + ": terms_per_split " +
                     std::to_string(forest->terms_per_split) +
                     " does not match the configured extension_level");
  }
  forest_ = std::move(forest);
  return Status::Ok();
}

namespace models_internal {
KindRegistration ExtendedIsolationForestKind() {
  return {std::string(ExtendedIsolationForest::kKind), Task::kAnomaly,
          [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
            VIGIL_ASSIGN_OR_RETURN(ExtendedIsolationForestOptions options,
                                   ExtendedIsolationForestOptions::FromJson(config));
            return std::unique_ptr<Model>(std::make_unique<ExtendedIsolationForest>(options));
          }};
}
}  // namespace models_internal

}  // namespace vigil
