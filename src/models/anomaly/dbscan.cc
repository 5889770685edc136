#include "vigil/models/anomaly/dbscan.h"

#include <algorithm>
#include <cmath>
#include <limits>
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

constexpr models_internal::WeightsEnvelope kEnvelope{"vigil.dbscan", 1};
// Flag exactly the rows whose raw score exceeds 1 (noise) when contamination is "auto".
const double kNativeThreshold = std::nextafter(1.0, 2.0);

// Cluster labels as scikit-learn's dbscan_inner: clusters grow depth-first from each
// unlabelled core point in row order, and a border point joins the first cluster that
// reaches it.
std::vector<int> LabelClusters(const std::vector<std::vector<int64_t>>& neighborhoods,
                               const std::vector<bool>& is_core, int* clusters) {
  const auto rows = static_cast<int64_t>(is_core.size());
  std::vector<int> labels(rows, Dbscan::kNoise);
  std::vector<int64_t> stack;
  int label = 0;
  for (int64_t seed = 0; seed < rows; ++seed) {
    if (labels[seed] != Dbscan::kNoise || !is_core[seed]) continue;
    int64_t point = seed;
    while (true) {
      if (labels[point] == Dbscan::kNoise) {
        labels[point] = label;
        if (is_core[point]) {
          for (int64_t other : neighborhoods[point]) {
            if (labels[other] == Dbscan::kNoise) stack.push_back(other);
          }
        }
      }
      if (stack.empty()) break;
      point = stack.back();
      stack.pop_back();
    }
    ++label;
  }
  *clusters = label;
  return labels;
}

// Training core points all score 0, so when more than 1 - f of the rows are core the
// (1 - f) quantile is 0 and would flag every row; the smallest positive training raw score is
// used instead, so core points are never flagged.
Result<ScoreCalibration> Calibrate(const std::vector<double>& training_raw,
                                   const DbscanOptions& options) {
  if (options.contamination.automatic) {
    return ScoreCalibration::Fit(training_raw, options.contamination, kNativeThreshold);
  }
  const double quantile = InterpolatedQuantile(training_raw, 1.0 - options.contamination.fraction);
  if (quantile > 0) return ScoreCalibration::Fit(training_raw, options.contamination);
  double smallest_positive = std::numeric_limits<double>::infinity();
  for (double raw : training_raw) {
    if (raw > 0) smallest_positive = std::min(smallest_positive, raw);
  }
  // No positive raw (every row core): an infinite threshold, which flags nothing.
  return ScoreCalibration::Fit(training_raw, Contamination::Auto(), smallest_positive);
}

}  // namespace

Status DbscanOptions::Validate() const {
  constexpr std::string_view kind = Dbscan::kKind;
  if (eps.has_value() && !(*eps > 0 && std::isfinite(*eps))) {
    return ConfigError(kind, "eps", "must be \"auto\" or a number > 0");
  }
  if (min_samples < 1) return ConfigError(kind, "min_samples", "must be >= 1");
  if (!eps.has_value() && min_samples < 2) {
    return ConfigError(kind, "min_samples", "must be >= 2 when eps is \"auto\"");
  }
  if (!(n_jobs >= 1 || n_jobs == -1)) return ConfigError(kind, "n_jobs", "must be >= 1 or -1");
  return contamination.Validate();
}

Result<DbscanOptions> DbscanOptions::FromJson(const nlohmann::json& config) {
  constexpr std::string_view kind = Dbscan::kKind;
  VIGIL_RETURN_IF_ERROR(models_internal::CheckConfigKeys(
      kind, config, {"eps", "min_samples", "standardize", "contamination", "n_jobs"}));
  DbscanOptions options;
  if (config.is_object() && config.contains("eps")) {
    const nlohmann::json& eps = config.at("eps");
    if (eps.is_number()) {
      options.eps = eps.get<double>();
    } else if (!(eps.is_string() && eps.get<std::string>() == "auto")) {
      return ConfigError(kind, "eps", "must be \"auto\" or a number > 0");
    }
  }
  VIGIL_ASSIGN_OR_RETURN(
      options.min_samples,
      models_internal::ConfigInt(kind, config, "min_samples", options.min_samples));
  VIGIL_ASSIGN_OR_RETURN(
      options.standardize,
      models_internal::ConfigBool(kind, config, "standardize", options.standardize));
  VIGIL_ASSIGN_OR_RETURN(options.contamination, Contamination::FromJson(kind, config));
  VIGIL_ASSIGN_OR_RETURN(options.n_jobs,
                         models_internal::ConfigInt(kind, config, "n_jobs", options.n_jobs));
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

nlohmann::json DbscanOptions::ToJson() const {
  return {{"eps", eps.has_value() ? nlohmann::json(*eps) : nlohmann::json("auto")},
          {"min_samples", min_samples},
          {"standardize", standardize},
          {"contamination", contamination.ToJson()},
          {"n_jobs", n_jobs}};
}

Dbscan::Dbscan(DbscanOptions options) : options_(std::move(options)) {}
Dbscan::~Dbscan() = default;
Dbscan::Dbscan(Dbscan&&) noexcept = default;
Dbscan& Dbscan::operator=(Dbscan&&) noexcept = default;

double Dbscan::ElbowEps(std::vector<double> k_distances) {
  std::sort(k_distances.begin(), k_distances.end());
  const size_t n = k_distances.size();
  if (n < 3) return k_distances.back();
  const double first = k_distances.front();
  const double rise = (k_distances.back() - first) / static_cast<double>(n - 1);
  // The chord's vertical gap is proportional to the perpendicular distance, so its argmax
  // is the same point whatever the axes' scales.
  size_t elbow = 0;
  double widest = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const double gap = first + rise * static_cast<double>(i) - k_distances[i];
    if (gap > widest) {
      widest = gap;
      elbow = i;
    }
  }
  return k_distances[elbow];
}

Result<std::vector<double>> Dbscan::Prepare(const FeatureMatrix& x) const {
  return models_internal::PrepareRows(kKind, fitted_, feature_names_,
                                      {scaling_mean_, scaling_scale_}, x);
}

double Dbscan::RawOfDistance(double distance_to_core) const { return distance_to_core / eps_; }

void Dbscan::IndexCore(const std::vector<double>& points, int64_t rows) {
  const size_t cols = feature_names_.size();
  // Fitting on finite rows of >= 2 rows cannot fail.
  (void)deviation_.Fit(FeatureMatrix{feature_names_, rows, points});
  std::vector<double> core_points;
  std::vector<int64_t> core_rows;
  for (int64_t row = 0; row < rows; ++row) {
    if (!is_core_[row]) continue;
    core_rows.push_back(row);
    core_points.insert(core_points.end(), points.begin() + row * cols,
                       points.begin() + (row + 1) * cols);
  }
  core_index_ = std::make_unique<KnnIndex>(
      std::move(core_points), static_cast<int64_t>(core_rows.size()), static_cast<int>(cols));
}

Status Dbscan::Fit(const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(models_internal::CheckTrainingInput(kKind, x));
  Dbscan fitted(options_);
  fitted.feature_names_ = x.columns;
  fitted.points_ = models_internal::StandardizeTraining(
      x, options_.standardize, {fitted.scaling_mean_, fitted.scaling_scale_});
  const int threads = models_internal::ResolveJobs(options_.n_jobs);
  const KnnIndex all(fitted.points_, x.rows, static_cast<int>(x.cols()));
  if (options_.eps.has_value()) {
    fitted.eps_ = *options_.eps;
  } else {
    if (options_.min_samples > x.rows) {
      return InvalidArgument("model 'dbscan': eps \"auto\" needs min_samples <= rows (" +
                             std::to_string(x.rows) + ")");
    }
    // The min_samples-th neighbour counting the row itself is its (min_samples - 1)-th other.
    const int k = options_.min_samples - 1;
    const models_internal::NeighborLists neighbors = all.KnnOfIndexed(k, threads);
    std::vector<double> k_distances(x.rows);
    for (int64_t row = 0; row < x.rows; ++row) {
      k_distances[row] = neighbors.distances[row * k + k - 1];
    }
    fitted.eps_ = ElbowEps(std::move(k_distances));
    if (!(fitted.eps_ > 0)) {
      return InvalidArgument(
          "model 'dbscan': eps \"auto\" found a k-distance elbow of 0 (duplicate rows); set eps");
    }
  }
  const auto neighborhoods = all.WithinRadius(fitted.points_, x.rows, fitted.eps_, threads);
  fitted.is_core_.resize(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) {
    fitted.is_core_[row] = static_cast<int64_t>(neighborhoods[row].size()) >= options_.min_samples;
  }
  if (std::none_of(fitted.is_core_.begin(), fitted.is_core_.end(), [](bool c) { return c; })) {
    return InvalidArgument("model 'dbscan': no core point (no row has min_samples = " +
                           std::to_string(options_.min_samples) +
                           " rows within eps = " + std::to_string(fitted.eps_) + ")");
  }
  fitted.labels_ = LabelClusters(neighborhoods, fitted.is_core_, &fitted.clusters_);
  fitted.IndexCore(fitted.points_, x.rows);
  const models_internal::NeighborLists nearest_core =
      fitted.core_index_->Knn(fitted.points_, x.rows, 1, threads);
  fitted.training_raw_.resize(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) {
    double raw = fitted.is_core_[row] ? 0.0 : fitted.RawOfDistance(nearest_core.distances[row]);
    if (fitted.labels_[row] == kNoise && raw <= 1.0) raw = kNativeThreshold;
    fitted.training_raw_[row] = raw;
  }
  VIGIL_ASSIGN_OR_RETURN(fitted.calibration_, Calibrate(fitted.training_raw_, options_));
  fitted.fitted_ = true;
  *this = std::move(fitted);
  return Status::Ok();
}

Result<AnomalyScores> Dbscan::Score(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> points, Prepare(x));
  std::vector<double> raw(x.rows);
  if (x.rows > 0) {
    const models_internal::NeighborLists nearest_core =
        core_index_->Knn(points, x.rows, 1, models_internal::ResolveJobs(options_.n_jobs));
    for (int64_t row = 0; row < x.rows; ++row) {
      raw[row] = RawOfDistance(nearest_core.distances[row]);
    }
  }
  return models_internal::DeviationExplainedScores(std::move(raw), calibration_, deviation_,
                                                   points);
}

Result<AnomalyScores> Dbscan::FitScore(const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(Fit(x));
  return models_internal::DeviationExplainedScores(training_raw_, calibration_, deviation_,
                                                   points_);
}

Result<std::vector<double>> Dbscan::Contributions(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> points, Prepare(x));
  return models_internal::DeviationShares(deviation_, points, x.cols());
}

nlohmann::json Dbscan::Describe() const {
  nlohmann::json out = models_internal::DescribeDetector(kKind, fitted_, calibration_);
  if (!fitted_) return out;
  out["eps"] = eps_;
  out["eps_source"] = options_.eps.has_value() ? "config" : "auto";
  out["min_samples"] = options_.min_samples;
  out["standardize"] = !scaling_mean_.empty();
  out["clusters"] = clusters_;
  out["noise"] = std::count(labels_.begin(), labels_.end(), kNoise);
  out["core"] = std::count(is_core_.begin(), is_core_.end(), true);
  out["training_rows"] = labels_.size();
  return out;
}

Status Dbscan::SaveWeights(const std::filesystem::path& dir) const {
  if (!fitted_) return FailedPrecondition("model 'dbscan': not fitted, nothing to save");
  return kEnvelope.Write(
      dir / kWeightsFile,
      {{"feature_names", feature_names_},
       {"eps", eps_},
       {"rows", labels_.size()},
       {"points", points_},
       {"is_core", is_core_},
       {"labels", labels_},
       {"clusters", clusters_},
       {"training_raw", training_raw_},
       {"scaling", models_internal::ScalingToJson({scaling_mean_, scaling_scale_})},
       {"calibration", calibration_.ToJson()}});
}

Status Dbscan::LoadWeights(const std::filesystem::path& dir) {
  const std::string path = (dir / kWeightsFile).string();
  Dbscan loaded(options_);
  int64_t rows = 0;
  VIGIL_RETURN_IF_ERROR(kEnvelope.Read(path, [&](const nlohmann::json& doc) -> Status {
    loaded.feature_names_ = doc.at("feature_names").get<std::vector<std::string>>();
    loaded.eps_ = doc.at("eps").get<double>();
    rows = doc.at("rows").get<int64_t>();
    loaded.points_ = doc.at("points").get<std::vector<double>>();
    loaded.is_core_ = doc.at("is_core").get<std::vector<bool>>();
    loaded.labels_ = doc.at("labels").get<std::vector<int>>();
    loaded.clusters_ = doc.at("clusters").get<int>();
    loaded.training_raw_ = doc.at("training_raw").get<std::vector<double>>();
    VIGIL_RETURN_IF_ERROR(
        models_internal::ScalingFromJson(path, doc.at("scaling"), loaded.feature_names_.size(),
                                         {loaded.scaling_mean_, loaded.scaling_scale_}));
    VIGIL_ASSIGN_OR_RETURN(loaded.calibration_, models_internal::CalibrationFromJson(path, doc));
    return Status::Ok();
  }));
  const size_t cols = loaded.feature_names_.size();
  const auto n = static_cast<size_t>(std::max<int64_t>(rows, 0));
  if (cols == 0 || rows < 2 || loaded.points_.size() != n * cols || loaded.is_core_.size() != n ||
      loaded.labels_.size() != n || loaded.training_raw_.size() != n) {
    return DataError(path + ": points, is_core, labels and training_raw do not match " +
                     std::to_string(rows) + " rows x " + std::to_string(cols) + " features");
  }
  if (!(loaded.eps_ > 0 && std::isfinite(loaded.eps_))) return DataError(path + ": bad eps");
  const auto finite = [](double v) { return std::isfinite(v); };
  if (!std::all_of(loaded.points_.begin(), loaded.points_.end(), finite) ||
      !std::all_of(loaded.training_raw_.begin(), loaded.training_raw_.end(), finite)) {
    return DataError(path + ": a point or training score is not finite");
  }
  if (std::none_of(loaded.is_core_.begin(), loaded.is_core_.end(), [](bool c) { return c; }) ||
      std::any_of(loaded.labels_.begin(), loaded.labels_.end(),
                  [&](int l) { return l < kNoise || l >= loaded.clusters_; })) {
    return DataError(path + ": no core point, or a label outside [-1, clusters)");
  }
  loaded.IndexCore(loaded.points_, rows);
  loaded.fitted_ = true;
  *this = std::move(loaded);
  return Status::Ok();
}

namespace models_internal {
KindRegistration DbscanKind() { return DetectorKind<Dbscan, DbscanOptions>(); }
}  // namespace models_internal

}  // namespace vigil
