// Kind "isolation_forest": Isolation Forest (Liu, Ting & Zhou, "Isolation Forest", ICDM
// 2008) with scikit-learn's semantics and defaults (sklearn.ensemble.IsolationForest 1.2).
// An anomaly is few and different, so random axis-parallel cuts isolate it in fewer steps.
//
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::CreateModel("isolation_forest", {{"seed", 7}}));
//   auto* detector = vigil::AsAnomalyDetector(model.get());
//   VIGIL_RETURN_IF_ERROR(detector->Fit(train));
//   VIGIL_ASSIGN_OR_RETURN(vigil::AnomalyScores scores, detector->Score(live));
//
// Trees (as scikit-learn grows them): each of n_estimators trees is grown on max_samples
// training rows drawn without replacement (with, when bootstrap) and on a feature subset
// (max_features of them, drawn without replacement; all when 1.0). A node draws a feature
// uniformly from the tree's features that are not constant on the node's rows and cuts at a
// threshold uniform in [min, max) of that feature over those rows; rows with x <= threshold
// go left. A node is a leaf at depth max_depth = ceil(log2(max_samples)), with fewer than 2
// rows, or when every feature is constant on its rows.
// Raw score (higher = more anomalous; equals -score_samples in scikit-learn):
//   h_t(x) = depth of the leaf x reaches in tree t + c(rows of the training sample there)
//   raw(x) = 2 ^ (-mean_t h_t(x) / c(max_samples))
// with c(n) = IsolationAveragePathLength(n) below.
// Contamination: "auto" (default) -> the native threshold raw 0.5 (scikit-learn's offset_
// -0.5); a fraction f -> the (1 - f) quantile of the training raw scores. The 0..100 score is
// the ScoreCalibration of anomaly/calibration.h fitted on the training rows.
// Contributions (isolation attribution after DIFFI, Carletti, Terzi & Susto, "Interpretable
// Anomaly Detection with DIFFI", 2020): a cut on the row's path in tree t, at a node that
// n_node of the tree's training rows reached and sending the row to the side n_side of them
// took, is worth b = log2((n_node + 1) / (n_side + 1)) bits of isolation (a cut leaving the
// row with 1 of 256 rows: 7 bits; an even cut: 1 bit; along a path the bits add up to
// log2((max_samples + 1) / (n_leaf + 1))). Its feature is credited b / h_t(x), so cuts that
// split the row off from most rows, on short paths, dominate; summed over trees and scaled
// to shares (NormalizeShares). Filled by Score for flagged rows and by Contributions for
// all rows; scoring itself never walks this path.
//
// Configuration (all optional; scikit-learn's names and defaults):
//   "n_estimators"   trees, >= 1 (100)
//   "max_samples"    rows per tree: "auto" = min(256, rows) (default); an integer >= 1
//                    (capped at the training rows); or a fraction in (0, 1] of the rows
//                    (at least 2 rows are always used: a 1-row tree isolates nothing)
//   "max_features"   features per tree: a fraction in (0, 1] (1.0, all) or an integer >= 1
//                    (Fit fails when it exceeds the feature count)
//   "bootstrap"      draw each tree's rows with replacement (false)
//   "contamination"  "auto" (default) or a fraction in (0, 0.5]
//   "seed"           >= 0 (0); tree t draws from a stream derived from (seed, t)
//   "n_jobs"         threads for Fit (over trees) and Score (over rows): >= 1, or -1 for all
//                    cores (1). Results never depend on it.
// Inputs: NaN or infinite values are InvalidArgument naming the row and column. Fit needs
// >= 2 rows.
// Weights file: <dir>/isolation_forest.json: {"format": "vigil.isolation_forest",
// "version": 2, "feature_names", "max_samples", "max_depth", "terms_per_split": 0, "trees":
// [{"left", "split", "threshold", "path_length", "rows"}], "calibration"}; per tree, node i
// is a leaf when left[i] == -1 (its path_length is h), else it sends x to left[i] when
// x[split[i]] <= threshold[i] and to left[i] + 1 otherwise (children come after their
// parent); rows[i] is the training rows that reached node i (the root: max_samples; a
// node's children add up to it).
// Loading validates every index, feature, size and value (DataError naming the file).
// Performance: each tree is a flat array of 16-byte nodes; a leaf loops to itself, so every
// row takes exactly the tree's depth in branch-free steps; rows are scored in blocks, tree by
// tree (the tree stays in L1), several rows interleaved per step.
// Thread-safety: as for every Model (const methods concurrent, Fit/LoadWeights exclusive).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/anomaly/calibration.h"
#include "vigil/models/model.h"

namespace vigil {

namespace models_internal {
struct IsolationForestState;
}  // namespace models_internal

// c(n): the average path length of an unsuccessful search in a binary search tree of n
// keys, scikit-learn's _average_path_length: 0 for n <= 1, 1 for n = 2, else
// 2 (ln(n - 1) + Euler's gamma) - 2 (n - 1) / n (Liu et al. 2008, eq. 1, H(i) ~ ln i + gamma).
double IsolationAveragePathLength(int64_t n);

// scikit-learn's integer-or-fraction convention for max_samples and max_features.
struct CountOrFraction {
  bool is_fraction = true;
  double value = 1.0;  // a count (integer >= 1) or a fraction in (0, 1]

  // count as given, or floor(fraction * available) (at least 1).
  int64_t Resolve(int64_t available) const;
  nlohmann::json ToJson() const;  // an integer or a float
};

// The settings both isolation-forest kinds share (see the configuration keys above).
struct IsolationForestOptions {
  int n_estimators = 100;
  bool max_samples_auto = true;  // "auto": min(256, rows)
  CountOrFraction max_samples;   // used when !max_samples_auto
  CountOrFraction max_features;  // default: all features
  bool bootstrap = false;
  Contamination contamination;  // default "auto"
  int seed = 0;
  int n_jobs = 1;

  Status Validate(std::string_view kind = "isolation_forest") const;
  static Result<IsolationForestOptions> FromJson(const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key, defaults included
};

// What both isolation-forest kinds share once fitted: the forest, its scoring, attribution
// and weights file. The kinds add their options, Fit and the checks of LoadWeights.
class IsolationForestDetector : public AnomalyDetector {
 public:
  bool fitted() const override { return forest_ != nullptr; }
  const std::vector<std::string>& feature_names() const override;
  // Fails if unfitted, on a column mismatch or on NaN / infinite values.
  Result<AnomalyScores> Score(const FeatureMatrix& x) const override;
  Result<std::vector<double>> Contributions(const FeatureMatrix& x) const override;
  Status SaveWeights(const std::filesystem::path& dir) const override;
  const ScoreCalibration& calibration() const;  // precondition: fitted

 protected:
  virtual std::string_view weights_file() const = 0;
  virtual int n_jobs() const = 0;

  std::shared_ptr<const models_internal::IsolationForestState> forest_;
};

class IsolationForest final : public IsolationForestDetector {
 public:
  static constexpr std::string_view kKind = "isolation_forest";
  static constexpr std::string_view kWeightsFile = "isolation_forest.json";
  // scikit-learn's offset_ = -0.5 for contamination "auto": raw 0.5 is the threshold.
  static constexpr double kNativeThreshold = 0.5;

  explicit IsolationForest(IsolationForestOptions options = {});

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status LoadWeights(const std::filesystem::path& dir) override;
  // {"trees", "max_samples", "max_depth", "deepest_leaf", "nodes", "threshold_raw",
  //  "contamination", "estimated_contamination", ...}.
  nlohmann::json Describe() const override;

  Status Fit(const FeatureMatrix& x) override;
  // Fit, then the training rows' scores from the pass Fit already made (equal to Score(x)).
  Result<AnomalyScores> FitScore(const FeatureMatrix& x) override;

  const IsolationForestOptions& options() const { return options_; }
  // Preconditions for the accessors below: fitted.
  int64_t max_samples() const;  // rows per tree, resolved
  int max_depth() const;        // ceil(log2(max_samples))

 private:
  std::string_view weights_file() const override { return kWeightsFile; }
  int n_jobs() const override { return options_.n_jobs; }

  IsolationForestOptions options_;
};

}  // namespace vigil
