// Kind "ecod": Empirical-Cumulative-distribution-based Outlier Detection (Li, Zhao, Hu,
// Botta, Ionescu & Chen, "ECOD: Unsupervised Outlier Detection Using Empirical Cumulative
// Distribution Functions", IEEE TKDE 2022). Parameter-free: each feature's training column
// is its own model, and a row is unusual when it sits far in a tail of several columns.
//
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::CreateModel("ecod", {{"contamination", 0.02}}));
//   auto* detector = vigil::AsAnomalyDetector(model.get());
//   VIGIL_RETURN_IF_ERROR(detector->Fit(train));
//   VIGIL_ASSIGN_OR_RETURN(vigil::AnomalyScores scores, detector->Score(live));
//
// Raw score (Algorithm 1 of the paper). With n training rows and, per feature j,
//   F_l,j(x) = #{train_j <= x} / n    (left-tail ECDF)
//   F_r,j(x) = #{train_j >= x} / n    (right-tail ECDF)
// both clamped below at 1 / (n + 1) so a value outside the training range (where the
// count is 0) gets a finite tail probability just beyond the most extreme training row,
// and skew_j the (biased, scipy.stats.skew default) sample skewness of the training
// column (0 for a constant column: |m2| <= (1e-15 * |mean|)^2, where scipy returns NaN):
//   O_left  = sum_j -log F_l,j(x_j)
//   O_right = sum_j -log F_r,j(x_j)
//   O_auto  = sum_j (skew_j < 0 ? -log F_l,j(x_j) : -log F_r,j(x_j))
//   raw     = max(O_left, O_right, O_auto)
// Differences from PyOD's ECOD: PyOD takes the maximum per dimension before summing (so its
// scores are >= these); and PyOD's decision_function refits the ECDFs on train + new rows,
// whereas Vigil scores new rows against the training ECDFs only (novelty mode, so a row's
// score does not depend on the batch it arrives in). The ECDFs are binary searches in the
// sorted training columns: O(d log n) per row, rows scored in parallel.
// Threshold: contamination = fraction -> the training quantile; "auto" -> Tukey's fence on
// the training raw scores (ECOD has no native threshold); see anomaly/calibration.h.
// Contributions: ECOD's dimensional outlier graph - the per-feature terms of the aggregate
// that won (O_left, O_right or O_auto; ties resolved in that order), as shares.
//
// Configuration (all optional):
//   "contamination"  "auto" (default) or an expected anomaly fraction in (0, 0.5]
//   "n_jobs"         threads for fit and score: >= 1, or -1 for all cores (default 1);
//                    results never depend on it
// Inputs: finite values only (NaN or infinity is InvalidArgument). Fit needs >= 2 rows.
// Weights file: <dir>/ecod.json (sorted training columns, skewness, calibration).
// Thread-safety: as for every Model (const methods concurrent, Fit/LoadWeights exclusive).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/anomaly/calibration.h"
#include "vigil/models/model.h"

namespace vigil {

struct EcodOptions {
  Contamination contamination = Contamination::Auto();
  int n_jobs = 1;  // >= 1, or -1 for all cores

  Status Validate() const;
  static Result<EcodOptions> FromJson(const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key, defaults included
};

class Ecod final : public AnomalyDetector {
 public:
  static constexpr std::string_view kKind = "ecod";
  static constexpr std::string_view kWeightsFile = "ecod.json";

  // Which aggregate produced a row's raw score.
  enum class Aggregate { kLeft, kRight, kAuto };

  explicit Ecod(EcodOptions options = {});

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  // {"training_rows", "features": {name: {"skewness", "auto_tail"}}, "calibration", ...}.
  nlohmann::json Describe() const override;
  bool fitted() const override { return fitted_; }
  const std::vector<std::string>& feature_names() const override { return feature_names_; }

  Status Fit(const FeatureMatrix& x) override;
  // Fails if unfitted, on a column mismatch or on non-finite values.
  Result<AnomalyScores> Score(const FeatureMatrix& x) const override;
  Result<std::vector<double>> Contributions(const FeatureMatrix& x) const override;

  // One row's raw score; `terms` (size = feature count) receives the winning aggregate's
  // per-feature -log tail probabilities and `winner` (if not null) which aggregate won.
  // Preconditions: fitted, row.size() == terms.size() == feature count.
  double RowScore(std::span<const double> row, std::span<double> terms,
                  Aggregate* winner = nullptr) const;

  const std::vector<double>& skewness() const { return skewness_; }
  const ScoreCalibration& calibration() const { return calibration_; }
  int64_t training_rows() const { return training_rows_; }

 private:
  // -log F_l and -log F_r of value `x` in feature `col`.
  std::pair<double, double> TailTerms(size_t col, double x) const;
  // RowScore with caller-provided scratch for the right-tail terms (size = feature count).
  double RowScoreWithScratch(std::span<const double> row, std::span<double> terms,
                             std::span<double> right_terms, Aggregate* winner) const;
  // Raw scores (and, when `contributions` is not null, every row's shares) of x's rows.
  std::vector<double> RawScores(const FeatureMatrix& x, std::vector<double>* contributions) const;
  Status CheckInput(const FeatureMatrix& x) const;

  EcodOptions options_;
  bool fitted_ = false;
  std::vector<std::string> feature_names_;
  int64_t training_rows_ = 0;
  std::vector<std::vector<double>> sorted_columns_;  // per feature, ascending
  std::vector<double> skewness_;
  ScoreCalibration calibration_;
};

}  // namespace vigil
