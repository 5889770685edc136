// Kind "dbscan": density-based clustering (Ester, Kriegel, Sander & Xu, "A Density-Based
// Algorithm for Discovering Clusters in Large Spatial Databases with Noise", KDD 1996);
// rows that belong to no dense region (noise) are the anomalies. Cluster labels are those of
// scikit-learn's sklearn.cluster.DBSCAN(eps, min_samples) on the same (scaled) rows.
//
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::CreateModel("dbscan", {{"min_samples", 10}}));
//   auto* detector = vigil::AsAnomalyDetector(model.get());
//   VIGIL_ASSIGN_OR_RETURN(vigil::AnomalyScores in_sample, detector->FitScore(train));
//   VIGIL_ASSIGN_OR_RETURN(vigil::AnomalyScores live, detector->Score(new_rows));
//
// A core point has at least min_samples training rows (itself included) within eps
// (Euclidean, d <= eps); clusters are the core points connected through eps-neighbourhoods
// plus the non-core rows within eps of them (border points); the rest is noise.
// eps "auto": the k-distance elbow. Each training row's distance to its min_samples-th
// neighbour (counting itself, as min_samples does) is sorted ascending; eps is the value at
// the point farthest below the chord from the first to the last value (Kneedle-style:
// Satopaa et al., 2011). Needs min_samples >= 2.
// Raw score of a row = (distance to the nearest training core point) / eps: training core
// points 0, border points <= 1, noise > 1 (a training noise row whose ratio rounds to 1 is
// lifted to the next double above 1). FitScore gives the training rows' raw scores; Score
// applies the same rule to new rows against the training core points.
// Threshold: contamination "auto" -> just above 1 (exactly the noise rows are flagged);
// a fraction f -> the (1 - f) quantile of the training raw scores, or, when that quantile is 0
// (more than 1 - f of the rows are core points), the smallest positive training raw score,
// so core points are never flagged. Score 80 at the threshold.
// Contributions: standardized deviation, |x_j - median_j| / robust scale_j as shares (a held
// RobustZscore fitted on the training rows, after scaling).
//
// Configuration (all optional):
//   "eps"            "auto" (default) or a number > 0 (in scaled units when standardize)
//   "min_samples"    >= 1 (default 5)
//   "standardize"    z-score features with the training mean / population sd first
//                    (default true: eps is then comparable across features)
//   "contamination"  "auto" (default) or a fraction in (0, 0.5]
//   "n_jobs"         threads for the neighbour queries: >= 1, or -1 for all cores (default 1)
// Inputs: finite values only; Fit needs >= 2 rows and fails (InvalidArgument) when no
// training row is a core point (eps too small for min_samples).
// Weights file: <dir>/dbscan.json (scaled training rows, core flags, labels, eps,
// scaling, calibration); scores match bit for bit after loading.
// Thread-safety: as for every Model (const methods concurrent, Fit/LoadWeights exclusive).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/anomaly/calibration.h"
#include "vigil/models/model.h"
#include "vigil/models/robust_zscore.h"

namespace vigil {

namespace models_internal {
class KnnIndex;
}  // namespace models_internal

struct DbscanOptions {
  std::optional<double> eps;                            // nullopt = "auto"
  int min_samples = 5;                                  // >= 1
  bool standardize = true;                              // z-score features first
  Contamination contamination = Contamination::Auto();  // "auto" or a fraction
  int n_jobs = 1;                                       // >= 1, or -1 for all cores

  Status Validate() const;
  static Result<DbscanOptions> FromJson(const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key, defaults included
};

class Dbscan final : public AnomalyDetector {
 public:
  static constexpr std::string_view kKind = "dbscan";
  static constexpr std::string_view kWeightsFile = "dbscan.json";
  static constexpr int kNoise = -1;  // the label of noise rows, as scikit-learn

  explicit Dbscan(DbscanOptions options = {});
  ~Dbscan() override;
  Dbscan(Dbscan&&) noexcept;
  Dbscan& operator=(Dbscan&&) noexcept;

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  // {"eps", "eps_source" ("auto" or "config"), "clusters", "noise", "core", ...}.
  nlohmann::json Describe() const override;
  bool fitted() const override { return fitted_; }
  const std::vector<std::string>& feature_names() const override { return feature_names_; }

  Status Fit(const FeatureMatrix& x) override;
  Result<AnomalyScores> Score(const FeatureMatrix& x) const override;
  Result<std::vector<double>> Contributions(const FeatureMatrix& x) const override;
  Result<AnomalyScores> FitScore(const FeatureMatrix& x) override;

  double eps() const { return eps_; }  // the eps in use (scaled units)
  // Training labels: 0, 1, ... by cluster, kNoise for noise (scikit-learn's labels_).
  const std::vector<int>& labels() const { return labels_; }
  const std::vector<bool>& is_core() const { return is_core_; }
  int clusters() const { return clusters_; }
  const std::vector<double>& training_raw() const { return training_raw_; }

  // The k-distance elbow described above, from each row's distance to its min_samples-th
  // neighbour (any order). Precondition: not empty.
  static double ElbowEps(std::vector<double> k_distances);

 private:
  Result<std::vector<double>> Prepare(const FeatureMatrix& x) const;
  // Builds the index over the core rows, the deviation model and the training raw scores.
  void IndexCore(const std::vector<double>& points, int64_t rows);
  double RawOfDistance(double distance_to_core) const;

  DbscanOptions options_;
  bool fitted_ = false;
  std::vector<std::string> feature_names_;
  std::vector<double> scaling_mean_;   // empty unless standardize
  std::vector<double> scaling_scale_;  // empty unless standardize
  double eps_ = 0.0;
  std::vector<double> points_;  // scaled training rows
  std::vector<bool> is_core_;
  std::vector<int> labels_;
  int clusters_ = 0;
  std::unique_ptr<models_internal::KnnIndex> core_index_;
  std::vector<double> training_raw_;
  ScoreCalibration calibration_;
  RobustZscore deviation_;
};

}  // namespace vigil
