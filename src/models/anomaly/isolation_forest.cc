#include "vigil/models/anomaly/isolation_forest.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "models/anomaly/iforest_forest.h"
#include "models/anomaly/iforest_weights.h"
#include "models/builtin_kinds.h"

namespace vigil {
namespace {

using models_internal::ConfigError;

// Euler-Mascheroni constant, as numpy's np.euler_gamma in scikit-learn's formula.
constexpr double kEulerGamma = 0.57721566490153286060651209008240243;
// "auto" max_samples: scikit-learn's min(256, rows) (Liu et al. 2008: 256 suffices).
constexpr int64_t kAutoMaxSamples = 256;

// An integer count >= 1 or a float fraction in (0, 1] at config[key]; absent -> fallback.
Result<CountOrFraction> ParseCountOrFraction(std::string_view kind, const nlohmann::json& config,
                                             std::string_view key, CountOrFraction fallback) {
  if (!config.is_object() || !config.contains(key)) return fallback;
  const nlohmann::json& value = config.at(std::string(key));
  if (value.is_number_integer()) {
    if (value.get<int64_t>() < 1) return ConfigError(kind, key, "an integer must be >= 1");
    return CountOrFraction{false, static_cast<double>(value.get<int64_t>())};
  }
  if (value.is_number_float()) {
    const double fraction = value.get<double>();
    if (!(fraction > 0 && fraction <= 1)) {
      return ConfigError(kind, key, "a fraction must be in (0, 1]");
    }
    return CountOrFraction{true, fraction};
  }
  return ConfigError(kind, key, "expected an integer count or a fraction in (0, 1]");
}

Result<bool> ParseMaxSamplesAuto(std::string_view kind, const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("max_samples")) return true;
  const nlohmann::json& value = config.at("max_samples");
  if (!value.is_string()) return false;
  if (value.get<std::string>() == "auto") return true;
  return ConfigError(
      kind, "max_samples",
      "'" + value.get<std::string>() + "' (expected \"auto\", a count or a fraction)");
}

}  // namespace

double IsolationAveragePathLength(int64_t n) {
  if (n <= 1) return 0.0;
  if (n == 2) return 1.0;
  const double rows = static_cast<double>(n);
  return 2.0 * (std::log(rows - 1.0) + kEulerGamma) - 2.0 * (rows - 1.0) / rows;
}

int64_t CountOrFraction::Resolve(int64_t available) const {
  if (!is_fraction) return static_cast<int64_t>(value);
  return std::max<int64_t>(1, static_cast<int64_t>(value * static_cast<double>(available)));
}

nlohmann::json CountOrFraction::ToJson() const {
  return is_fraction ? nlohmann::json(value) : nlohmann::json(static_cast<int64_t>(value));
}

namespace models_internal {

Result<IsolationForestOptions> ParseIsolationForestOptions(std::string_view kind,
                                                           const nlohmann::json& config) {
  IsolationForestOptions options;
  VIGIL_ASSIGN_OR_RETURN(options.n_estimators,
                         ConfigInt(kind, config, "n_estimators", options.n_estimators));
  VIGIL_ASSIGN_OR_RETURN(options.max_samples_auto, ParseMaxSamplesAuto(kind, config));
  if (!options.max_samples_auto) {
    VIGIL_ASSIGN_OR_RETURN(options.max_samples,
                           ParseCountOrFraction(kind, config, "max_samples", options.max_samples));
  }
  VIGIL_ASSIGN_OR_RETURN(options.max_features,
                         ParseCountOrFraction(kind, config, "max_features", options.max_features));
  VIGIL_ASSIGN_OR_RETURN(options.bootstrap,
                         ConfigBool(kind, config, "bootstrap", options.bootstrap));
  VIGIL_ASSIGN_OR_RETURN(options.contamination, Contamination::FromJson(kind, config));
  VIGIL_ASSIGN_OR_RETURN(options.seed, ConfigInt(kind, config, "seed", options.seed));
  VIGIL_ASSIGN_OR_RETURN(options.n_jobs, ConfigInt(kind, config, "n_jobs", options.n_jobs));
  VIGIL_RETURN_IF_ERROR(options.Validate(kind));
  return options;
}

}  // namespace models_internal

Status IsolationForestOptions::Validate(std::string_view kind) const {
  if (n_estimators < 1) return ConfigError(kind, "n_estimators", "must be >= 1");
  const auto valid = [](const CountOrFraction& setting) {
    return setting.is_fraction ? setting.value > 0 && setting.value <= 1
                               : setting.value >= 1 && setting.value == std::floor(setting.value);
  };
  if (!max_samples_auto && !valid(max_samples)) {
    return ConfigError(kind, "max_samples", "must be \"auto\", an integer >= 1 or in (0, 1]");
  }
  if (!valid(max_features)) {
    return ConfigError(kind, "max_features", "must be an integer >= 1 or in (0, 1]");
  }
  if (!contamination.Validate().ok()) {
    return ConfigError(kind, "contamination", "must be \"auto\" or in (0, 0.5]");
  }
  if (seed < 0) return ConfigError(kind, "seed", "must be >= 0");
  if (n_jobs < 1 && n_jobs != -1) return ConfigError(kind, "n_jobs", "must be >= 1 or -1");
  return Status::Ok();
}

Result<IsolationForestOptions> IsolationForestOptions::FromJson(const nlohmann::json& config) {
  VIGIL_RETURN_IF_ERROR(
      models_internal::CheckConfigKeys(IsolationForest::kKind, config,
                                       {"n_estimators", "max_samples", "max_features", "bootstrap",
                                        "contamination", "seed", "n_jobs"}));
  return models_internal::ParseIsolationForestOptions(IsolationForest::kKind, config);
}

nlohmann::json IsolationForestOptions::ToJson() const {
  return {{"n_estimators", n_estimators},
          {"max_samples", max_samples_auto ? nlohmann::json("auto") : max_samples.ToJson()},
          {"max_features", max_features.ToJson()},
          {"bootstrap", bootstrap},
          {"contamination", contamination.ToJson()},
          {"seed", seed},
          {"n_jobs", n_jobs}};
}

IsolationForest::IsolationForest(IsolationForestOptions options) : options_(std::move(options)) {}

const std::vector<std::string>& IsolationForestDetector::feature_names() const {
  static const std::vector<std::string> kNone;
  return forest_ ? forest_->feature_names : kNone;
}

const ScoreCalibration& IsolationForestDetector::calibration() const {
  return forest_->calibration;
}

Result<AnomalyScores> IsolationForestDetector::Score(const FeatureMatrix& x) const {
  return models_internal::ScoreForest(kind(), forest_.get(), n_jobs(), x);
}

Result<std::vector<double>> IsolationForestDetector::Contributions(const FeatureMatrix& x) const {
  return models_internal::ForestContributions(kind(), forest_.get(), n_jobs(), x);
}

Status IsolationForestDetector::SaveWeights(const std::filesystem::path& dir) const {
  return models_internal::SaveForest(kind(), forest_.get(), dir / weights_file());
}

int64_t IsolationForest::max_samples() const { return forest_->max_samples; }
int IsolationForest::max_depth() const { return forest_->max_depth; }

namespace {

Result<models_internal::FittedForest> FitAxisForest(const IsolationForestOptions& options,
                                                    const FeatureMatrix& x) {
  constexpr std::string_view kind = IsolationForest::kKind;
  VIGIL_RETURN_IF_ERROR(options.Validate(kind));
  VIGIL_RETURN_IF_ERROR(models_internal::CheckTrainingInput(kind, x));
  VIGIL_ASSIGN_OR_RETURN(models_internal::ForestPlan plan,
                         models_internal::PlanForest(kind, options, x));
  plan.terms_per_split = 0;
  return models_internal::FitForest(kind, options, plan, x, IsolationForest::kNativeThreshold);
}

}  // namespace

Status IsolationForest::Fit(const FeatureMatrix& x) {
  VIGIL_ASSIGN_OR_RETURN(models_internal::FittedForest fitted, FitAxisForest(options_, x));
  forest_ = std::move(fitted.forest);
  return Status::Ok();
}

Result<AnomalyScores> IsolationForest::FitScore(const FeatureMatrix& x) {
  VIGIL_ASSIGN_OR_RETURN(models_internal::FittedForest fitted, FitAxisForest(options_, x));
  forest_ = std::move(fitted.forest);
  return models_internal::ScoresFromRaw(*forest_, x, std::move(fitted.training_raw));
}

nlohmann::json IsolationForest::Describe() const {
  return models_internal::DescribeForest(kKind, forest_.get(), config());
}

Status IsolationForest::LoadWeights(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / kWeightsFile;
  VIGIL_ASSIGN_OR_RETURN(auto forest,
                         models_internal::LoadForest(kKind, file, options_.n_estimators));
  if (forest->terms_per_split != 0) {
    return DataError(file.string() + ": hyperplane splits in an axis-parallel forest");
  }
  forest_ = std::move(forest);
  return Status::Ok();
}

namespace models_internal {
KindRegistration IsolationForestKind() {
  return {std::string(IsolationForest::kKind), Task::kAnomaly,
          [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
            VIGIL_ASSIGN_OR_RETURN(IsolationForestOptions options,
                                   IsolationForestOptions::FromJson(config));
            return std::unique_ptr<Model>(std::make_unique<IsolationForest>(options));
          }};
}
}  // namespace models_internal

}  // namespace vigil
