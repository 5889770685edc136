#include "vigil/models/anomaly/lof.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <utility>

#include "models/anomaly/detector_support.h"
#include "models/anomaly/knn_index.h"
#include "models/anomaly/parallel.h"
#include "models/builtin_kinds.h"

namespace vigil {
namespace {

using models_internal::ConfigError;
using models_internal::KnnIndex;
using models_internal::NeighborLists;

constexpr models_internal::WeightsEnvelope kEnvelope{"vigil.lof", 1};

// lrd(p) = 1 / (mean_o max(d(p, o), k-distance(o)) + 1e-10)   (Breunig et al., Def. 6).
double LocalReachabilityDensity(std::span<const double> distances,
                                std::span<const int64_t> neighbors,
                                const std::vector<double>& k_distances) {
  double sum = 0.0;
  for (size_t i = 0; i < neighbors.size(); ++i) {
    sum += std::max(distances[i], k_distances[neighbors[i]]);
  }
  return 1.0 / (sum / static_cast<double>(neighbors.size()) + LocalOutlierFactor::kLrdEpsilon);
}

// LOF(p) = mean_o lrd(o) / lrd(p)   (Def. 7), as the mean of the ratios like scikit-learn.
double OutlierFactor(double lrd, std::span<const int64_t> neighbors,
                     const std::vector<double>& lrds) {
  double sum = 0.0;
  for (int64_t o : neighbors) sum += lrds[o] / lrd;
  return sum / static_cast<double>(neighbors.size());
}

bool AllFiniteAndNonNegative(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(),
                     [](double v) { return std::isfinite(v) && v >= 0; });
}

}  // namespace

Status LocalOutlierFactorOptions::Validate() const {
  constexpr std::string_view kind = LocalOutlierFactor::kKind;
  if (n_neighbors < 1) return ConfigError(kind, "n_neighbors", "must be >= 1");
  if (!(n_jobs >= 1 || n_jobs == -1)) return ConfigError(kind, "n_jobs", "must be >= 1 or -1");
  return contamination.Validate();
}

Result<LocalOutlierFactorOptions> LocalOutlierFactorOptions::FromJson(
    const nlohmann::json& config) {
  constexpr std::string_view kind = LocalOutlierFactor::kKind;
  VIGIL_RETURN_IF_ERROR(models_internal::CheckConfigKeys(
      kind, config, {"n_neighbors", "contamination", "standardize", "n_jobs"}));
  LocalOutlierFactorOptions options;
  VIGIL_ASSIGN_OR_RETURN(
      options.n_neighbors,
      models_internal::ConfigInt(kind, config, "n_neighbors", options.n_neighbors));
  VIGIL_ASSIGN_OR_RETURN(options.contamination, Contamination::FromJson(kind, config));
  VIGIL_ASSIGN_OR_RETURN(
      options.standardize,
      models_internal::ConfigBool(kind, config, "standardize", options.standardize));
  VIGIL_ASSIGN_OR_RETURN(options.n_jobs,
                         models_internal::ConfigInt(kind, config, "n_jobs", options.n_jobs));
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

nlohmann::json LocalOutlierFactorOptions::ToJson() const {
  return {{"n_neighbors", n_neighbors},
          {"contamination", contamination.ToJson()},
          {"standardize", standardize},
          {"n_jobs", n_jobs}};
}

LocalOutlierFactor::LocalOutlierFactor(LocalOutlierFactorOptions options)
    : options_(std::move(options)) {}
LocalOutlierFactor::~LocalOutlierFactor() = default;
LocalOutlierFactor::LocalOutlierFactor(LocalOutlierFactor&&) noexcept = default;
LocalOutlierFactor& LocalOutlierFactor::operator=(LocalOutlierFactor&&) noexcept = default;

Result<std::vector<double>> LocalOutlierFactor::Prepare(const FeatureMatrix& x) const {
  return models_internal::PrepareRows(kKind, fitted_, feature_names_,
                                      {scaling_mean_, scaling_scale_}, x);
}

void LocalOutlierFactor::IndexPoints(std::vector<double> points, int64_t rows) {
  const FeatureMatrix matrix{feature_names_, rows, points};
  // Fitting on finite rows of >= 2 rows cannot fail.
  (void)deviation_.Fit(matrix);
  index_ =
      std::make_unique<KnnIndex>(std::move(points), rows, static_cast<int>(feature_names_.size()));
}

Status LocalOutlierFactor::Fit(const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(models_internal::CheckTrainingInput(kKind, x));
  LocalOutlierFactor fitted(options_);
  fitted.feature_names_ = x.columns;
  std::vector<double> points = models_internal::StandardizeTraining(
      x, options_.standardize, {fitted.scaling_mean_, fitted.scaling_scale_});
  fitted.k_ = static_cast<int>(std::min<int64_t>(options_.n_neighbors, x.rows - 1));
  fitted.IndexPoints(std::move(points), x.rows);
  const int k = fitted.k_;
  const NeighborLists neighbors =
      fitted.index_->KnnOfIndexed(k, models_internal::ResolveJobs(options_.n_jobs));
  fitted.k_distances_.resize(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) {
    fitted.k_distances_[row] = neighbors.distances[row * k + k - 1];
  }
  fitted.lrds_.resize(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) {
    fitted.lrds_[row] = LocalReachabilityDensity(neighbors.distances_of(row),
                                                 neighbors.indices_of(row), fitted.k_distances_);
  }
  fitted.training_lofs_.resize(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) {
    fitted.training_lofs_[row] =
        OutlierFactor(fitted.lrds_[row], neighbors.indices_of(row), fitted.lrds_);
  }
  VIGIL_ASSIGN_OR_RETURN(
      fitted.calibration_,
      ScoreCalibration::Fit(fitted.training_lofs_, options_.contamination, kNativeThreshold));
  fitted.fitted_ = true;
  *this = std::move(fitted);
  return Status::Ok();
}

Result<AnomalyScores> LocalOutlierFactor::Score(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> points, Prepare(x));
  std::vector<double> raw(x.rows);
  if (x.rows > 0) {
    const NeighborLists neighbors =
        index_->Knn(points, x.rows, k_, models_internal::ResolveJobs(options_.n_jobs));
    for (int64_t row = 0; row < x.rows; ++row) {
      const double lrd = LocalReachabilityDensity(neighbors.distances_of(row),
                                                  neighbors.indices_of(row), k_distances_);
      raw[row] = OutlierFactor(lrd, neighbors.indices_of(row), lrds_);
    }
  }
  return models_internal::DeviationExplainedScores(std::move(raw), calibration_, deviation_,
                                                   points);
}

Result<AnomalyScores> LocalOutlierFactor::FitScore(const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(Fit(x));
  return models_internal::DeviationExplainedScores(training_lofs_, calibration_, deviation_,
                                                   index_->points());
}

Result<std::vector<double>> LocalOutlierFactor::Contributions(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> points, Prepare(x));
  return models_internal::DeviationShares(deviation_, points, x.cols());
}

nlohmann::json LocalOutlierFactor::Describe() const {
  nlohmann::json out = models_internal::DescribeDetector(kKind, fitted_, calibration_);
  if (!fitted_) return out;
  out["n_neighbors"] = k_;
  out["training_rows"] = index_->rows();
  out["search"] = index_->method() == KnnIndex::Method::kKdTree ? "kd_tree" : "brute_force";
  out["standardize"] = !scaling_mean_.empty();
  out["max_training_lof"] = *std::max_element(training_lofs_.begin(), training_lofs_.end());
  return out;
}

Status LocalOutlierFactor::SaveWeights(const std::filesystem::path& dir) const {
  if (!fitted_) return FailedPrecondition("model 'lof': not fitted, nothing to save");
  return kEnvelope.Write(
      dir / kWeightsFile,
      {{"feature_names", feature_names_},
       {"n_neighbors", k_},
       {"rows", index_->rows()},
       {"points", index_->points()},
       {"k_distances", k_distances_},
       {"lrds", lrds_},
       {"training_lofs", training_lofs_},
       {"scaling", models_internal::ScalingToJson({scaling_mean_, scaling_scale_})},
       {"calibration", calibration_.ToJson()}});
}

Status LocalOutlierFactor::LoadWeights(const std::filesystem::path& dir) {
  const std::string path = (dir / kWeightsFile).string();
  LocalOutlierFactor loaded(options_);
  std::vector<double> points;
  int64_t rows = 0;
  VIGIL_RETURN_IF_ERROR(kEnvelope.Read(path, [&](const nlohmann::json& doc) -> Status {
    loaded.feature_names_ = doc.at("feature_names").get<std::vector<std::string>>();
    loaded.k_ = doc.at("n_neighbors").get<int>();
    rows = doc.at("rows").get<int64_t>();
    points = doc.at("points").get<std::vector<double>>();
    loaded.k_distances_ = doc.at("k_distances").get<std::vector<double>>();
    loaded.lrds_ = doc.at("lrds").get<std::vector<double>>();
    loaded.training_lofs_ = doc.at("training_lofs").get<std::vector<double>>();
    VIGIL_RETURN_IF_ERROR(
        models_internal::ScalingFromJson(path, doc.at("scaling"), loaded.feature_names_.size(),
                                         {loaded.scaling_mean_, loaded.scaling_scale_}));
    VIGIL_ASSIGN_OR_RETURN(loaded.calibration_, models_internal::CalibrationFromJson(path, doc));
    return Status::Ok();
  }));
  const size_t cols = loaded.feature_names_.size();
  const auto n = static_cast<size_t>(std::max<int64_t>(rows, 0));
  if (cols == 0 || rows < 2 || points.size() != n * cols || loaded.k_distances_.size() != n ||
      loaded.lrds_.size() != n || loaded.training_lofs_.size() != n) {
    return DataError(path + ": points, k_distances, lrds and training_lofs do not match " +
                     std::to_string(rows) + " rows x " + std::to_string(cols) + " features");
  }
  if (loaded.k_ < 1 || loaded.k_ > rows - 1) return DataError(path + ": bad n_neighbors");
  if (!std::all_of(points.begin(), points.end(), [](double v) { return std::isfinite(v); }) ||
      !AllFiniteAndNonNegative(loaded.k_distances_) || !AllFiniteAndNonNegative(loaded.lrds_) ||
      !AllFiniteAndNonNegative(loaded.training_lofs_)) {
    return DataError(path + ": a point, k-distance, lrd or LOF is not finite or is negative");
  }
  loaded.IndexPoints(std::move(points), rows);
  loaded.fitted_ = true;
  *this = std::move(loaded);
  return Status::Ok();
}

namespace models_internal {
KindRegistration LocalOutlierFactorKind() {
  return DetectorKind<LocalOutlierFactor, LocalOutlierFactorOptions>();
}
}  // namespace models_internal

}  // namespace vigil
