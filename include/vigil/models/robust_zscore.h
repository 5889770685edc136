// Kind "zscore": the anomaly baseline. Each feature is centred on its training median and
// scaled by a robust spread, and a row's raw score combines the absolute robust z-scores
// of its features (Iglewicz & Hoaglin, "How to Detect and Handle Outliers", 1993: the
// median/MAD "modified z-score").
//
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::CreateModel("zscore", {{"contamination", 0.02}}));
//   auto* detector = vigil::AsAnomalyDetector(model.get());
//   VIGIL_RETURN_IF_ERROR(detector->Fit(train));
//   VIGIL_ASSIGN_OR_RETURN(vigil::AnomalyScores scores, detector->Score(live));
//
// Scale per feature (fitted on the non-NaN training values):
//   1. MAD * 1.4826 (the normal-consistent MAD: equals the sd for normal data);
//   2. if the MAD is 0 (over half the values equal the median): mean absolute deviation
//      from the median * 1.2533 (sqrt(pi/2), normal-consistent as well);
//   3. if that is 0 too (a constant feature), or the feature has no non-NaN value, the
//      feature is ignored: it never contributes to a score.
// Raw score of a row, over its non-NaN, non-ignored features (NaN features are skipped for
// that row; a row with none scores 0):
//   "max"          max_j |z_j|
//   "mean_square"  sqrt(mean_j z_j^2)
// Threshold: the raw-score quantile (linear interpolation, numpy's default) of the training
// rows at 1 - contamination, floored at kMinThresholdRaw. A row is flagged iff raw >= it.
// 0..100 score: piecewise linear and increasing through the knots
//   (0, 0), (median training raw, 50), (threshold raw, threshold_score), (2 * threshold raw, 100)
// and 100 beyond. The median knot is dropped when it is not strictly between 0 and the
// threshold. So score >= threshold_score exactly when the row is flagged.
// Contributions (flagged rows): feature j's share |z_j| / sum_k |z_k|.
//
// Configuration (all optional):
//   "combine"          "max" (default) or "mean_square"
//   "contamination"    expected anomaly fraction, in (0, 0.5] (default 0.01)
//   "threshold_score"  the 0..100 score of the threshold, in (50, 100) (default 80)
// Inputs: NaN allowed (see above); infinite values are InvalidArgument. Fit needs >= 2 rows.
// Weights file: <dir>/zscore.json.
// Thread-safety: as for every Model (const methods concurrent, Fit/LoadWeights exclusive).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil {

struct RobustZscoreOptions {
  enum class Combine { kMax, kMeanSquare };

  Combine combine = Combine::kMax;  // how per-feature |z| combine into the raw score
  double contamination = 0.01;      // expected anomaly fraction, (0, 0.5]
  double threshold_score = 80.0;    // score assigned to the threshold, (50, 100)

  Status Validate() const;
  static Result<RobustZscoreOptions> FromJson(const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key, defaults included
};

class RobustZscore final : public AnomalyDetector {
 public:
  static constexpr std::string_view kKind = "zscore";
  static constexpr std::string_view kWeightsFile = "zscore.json";
  static constexpr double kMadConsistency = 1.4826;      // 1 / Phi^-1(3/4)
  static constexpr double kMeanAbsConsistency = 1.2533;  // sqrt(pi / 2)
  static constexpr double kMinThresholdRaw = 1e-9;       // keeps the score map increasing

  // How a feature's scale was obtained.
  enum class ScaleMethod { kMad, kMeanAbsoluteDeviation, kIgnored };

  explicit RobustZscore(RobustZscoreOptions options = {});

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  // {"features": {name: {"median", "scale", "method"}}, "median_raw", "threshold_raw", ...}.
  nlohmann::json Describe() const override;
  bool fitted() const override { return fitted_; }
  const std::vector<std::string>& feature_names() const override { return feature_names_; }

  Status Fit(const FeatureMatrix& x) override;
  // Fails if unfitted, on a column mismatch or on infinite values.
  Result<AnomalyScores> Score(const FeatureMatrix& x) const override;
  // Every row's shares |z_j| / sum_k |z_k| (the standardized-deviation attribution other
  // detectors reuse by holding a fitted RobustZscore).
  Result<std::vector<double>> Contributions(const FeatureMatrix& x) const override;
  // One row's shares into `shares` (size cols; all zero when no feature deviates).
  // Preconditions: fitted, row.size() == shares.size() == feature count.
  void DeviationShares(std::span<const double> row, std::span<double> shares) const;

  // The 0..100 map described above (precondition: fitted).
  double ScoreOfRaw(double raw) const;

  const std::vector<double>& medians() const { return medians_; }
  const std::vector<double>& scales() const { return scales_; }  // 0 for ignored features
  const std::vector<ScaleMethod>& scale_methods() const { return methods_; }
  double median_raw() const { return median_raw_; }
  double threshold_raw() const { return threshold_raw_; }

 private:
  // Fills z (|z| per feature, 0 where skipped) and returns the raw score of one row.
  double RowScore(std::span<const double> row, std::span<double> z) const;

  RobustZscoreOptions options_;
  bool fitted_ = false;
  std::vector<std::string> feature_names_;
  std::vector<double> medians_;
  std::vector<double> scales_;
  std::vector<ScaleMethod> methods_;
  double median_raw_ = 0.0;
  double threshold_raw_ = 0.0;
};

}  // namespace vigil
