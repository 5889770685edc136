// Kind "lof": the local outlier factor (Breunig, Kriegel, Ng & Sander, "LOF: Identifying
// Density-Based Local Outliers", SIGMOD 2000), with scikit-learn's LocalOutlierFactor
// semantics: a row whose neighbourhood is much sparser than its neighbours' is an outlier.
//
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::CreateModel("lof", {{"n_neighbors", 20}}));
//   auto* detector = vigil::AsAnomalyDetector(model.get());
//   VIGIL_ASSIGN_OR_RETURN(vigil::AnomalyScores in_sample, detector->FitScore(train));
//   VIGIL_ASSIGN_OR_RETURN(vigil::AnomalyScores live, detector->Score(new_rows));
//
// With k neighbours (Euclidean, exact; src/models/anomaly/knn_index.h):
//   k-distance(o)      distance from training row o to its k-th nearest other training row
//   reach-dist(p, o)   max(d(p, o), k-distance(o))
//   lrd(p)             1 / (mean over p's k neighbours o of reach-dist(p, o) + 1e-10)
//   LOF(p)             mean over p's k neighbours o of lrd(o) / lrd(p)
// Raw score = LOF (about 1 inside a cluster, larger when sparser than the neighbours).
// - FitScore: each training row's LOF with the row excluded from its own neighbours:
//   scikit-learn's -negative_outlier_factor_.
// - Score (novelty): the LOF of each new row against the training rows (a new row equal to
//   a training row has that row as a neighbour at distance 0): scikit-learn's
//   -LocalOutlierFactor(novelty=True).score_samples.
// Threshold: contamination "auto" -> LOF 1.5 (scikit-learn's offset_ = -1.5); a fraction f
// -> the (1 - f) quantile of the training LOFs (scikit-learn's offset_). Score 80 at the
// threshold (vigil/models/anomaly/calibration.h).
// Contributions: standardized deviation, |x_j - median_j| / robust scale_j normalised to
// shares (a held RobustZscore fitted on the training rows). Chosen over leaving a feature
// out because it costs nothing extra per row (leave-one-out needs a kNN query per feature),
// and because replacing a value by the training median can land a row in the empty space
// between clusters, where its LOF rises rather than falls.
//
// Configuration (all optional):
//   "n_neighbors"    k, >= 1 (default 20); capped at rows - 1 as scikit-learn does
//   "contamination"  "auto" (default) or a fraction in (0, 0.5]
//   "standardize"    z-score features with the training mean / population sd before
//                    measuring distances (default false, as scikit-learn)
//   "n_jobs"         threads for the neighbour queries: >= 1, or -1 for all cores (default 1)
// Inputs: finite values only (NaN is InvalidArgument naming the row and column); Fit needs
// >= 2 rows. Distance ties are broken by training row order.
// Weights file: <dir>/lof.json (training rows as indexed, k-distances, lrds, training LOFs,
// scaling, calibration; the index is rebuilt on load and scores match bit for bit).
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

struct LocalOutlierFactorOptions {
  int n_neighbors = 20;                                 // k, >= 1
  Contamination contamination = Contamination::Auto();  // "auto" or a fraction
  bool standardize = false;                             // z-score features first
  int n_jobs = 1;                                       // >= 1, or -1 for all cores

  Status Validate() const;
  static Result<LocalOutlierFactorOptions> FromJson(const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key, defaults included
};

class LocalOutlierFactor final : public AnomalyDetector {
 public:
  static constexpr std::string_view kKind = "lof";
  static constexpr std::string_view kWeightsFile = "lof.json";
  static constexpr double kNativeThreshold = 1.5;  // scikit-learn's offset_ for "auto"
  static constexpr double kLrdEpsilon = 1e-10;     // scikit-learn's guard in lrd

  explicit LocalOutlierFactor(LocalOutlierFactorOptions options = {});
  ~LocalOutlierFactor() override;
  LocalOutlierFactor(LocalOutlierFactor&&) noexcept;
  LocalOutlierFactor& operator=(LocalOutlierFactor&&) noexcept;

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  // {"n_neighbors", "training_rows", "search", "threshold", "contamination", ...}.
  nlohmann::json Describe() const override;
  bool fitted() const override { return fitted_; }
  const std::vector<std::string>& feature_names() const override { return feature_names_; }

  Status Fit(const FeatureMatrix& x) override;
  Result<AnomalyScores> Score(const FeatureMatrix& x) const override;
  Result<std::vector<double>> Contributions(const FeatureMatrix& x) const override;
  // Fits, then scores the training rows with themselves excluded (see above).
  Result<AnomalyScores> FitScore(const FeatureMatrix& x) override;

  // The k in use (n_neighbors capped at rows - 1); 0 before Fit.
  int effective_neighbors() const { return k_; }
  const std::vector<double>& k_distances() const { return k_distances_; }
  const std::vector<double>& lrds() const { return lrds_; }
  const std::vector<double>& training_lofs() const { return training_lofs_; }
  const ScoreCalibration& calibration() const { return calibration_; }

 private:
  // Checks columns and finiteness, and applies the fitted scaling.
  Result<std::vector<double>> Prepare(const FeatureMatrix& x) const;
  // Builds the index, the deviation model and the per-row sums from indexed points.
  void IndexPoints(std::vector<double> points, int64_t rows);

  LocalOutlierFactorOptions options_;
  bool fitted_ = false;
  std::vector<std::string> feature_names_;
  std::vector<double> scaling_mean_;   // empty unless standardize
  std::vector<double> scaling_scale_;  // empty unless standardize
  std::unique_ptr<models_internal::KnnIndex> index_;
  int k_ = 0;
  std::vector<double> k_distances_;
  std::vector<double> lrds_;
  std::vector<double> training_lofs_;
  ScoreCalibration calibration_;
  RobustZscore deviation_;
};

}  // namespace vigil
