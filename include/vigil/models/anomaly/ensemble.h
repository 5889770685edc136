// Kind "ensemble": several anomaly detectors combined by rank-normalized score. Each member
// is an ordinary detector kind built through the factory; a member that cannot be created
// or fitted is dropped (logged, and listed in Describe() with its error), so one fragile
// detector does not take the monitor down.
//
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::CreateModel("ensemble", {
//       {"members", {{{"kind", "isolation_forest"}, {"params", {{"n_estimators", 200}}}},
//                    {{"kind", "ecod"}}}},
//       {"combine", "max"}, {"seed", 7}}));
//   auto* detector = vigil::AsAnomalyDetector(model.get());
//   VIGIL_RETURN_IF_ERROR(detector->Fit(train));
//   VIGIL_ASSIGN_OR_RETURN(vigil::AnomalyScores scores, detector->Score(live));
//
// Raw score. At fit time each member's in-sample raw scores (its FitScore) are summarised by
// at most kMaxQuantilePoints points of their empirical distribution (all sorted values when
// there are no more; otherwise the quantiles at k / (kMaxQuantilePoints - 1)). A member's
// normalized score for a raw value r is r's position in those points, linearly interpolated
// between neighbouring points and divided by (points - 1), so it lies in [0, 1]: 0 at or
// below the smallest training raw, 1 at or above the largest, and for a value equal to a run
// of tied points the middle of the run. The ensemble's raw score is the mean (or max) of the
// normalized scores of the members that scored; members whose Score fails at scoring time
// are skipped with a warning (all failing is an error).
// Threshold: contamination = fraction -> the training quantile of the ensemble raw scores;
// "auto" -> Tukey's fence (the ensemble has no native threshold); see anomaly/calibration.h.
// Contributions: the mean of the scoring members' Contributions() rows, as shares.
// FitScore returns in-sample scores built from the members' own FitScore (so lof and dbscan
// members score training rows as scikit-learn's fit_predict does).
//
// Configuration (all optional):
//   "members"        list of {"kind": K, "params": {...}} (params optional, default {});
//                    default: isolation_forest, lof and ecod with their defaults. Kind
//                    "ensemble" is rejected; other kinds are checked when fitting.
//   "combine"        "mean" (default) or "max"
//   "contamination"  "auto" (default) or an expected anomaly fraction in (0, 0.5]
//   "seed"           non-negative integer (optional): given as "seed" to every member of a
//                    seeded kind (kSeededKinds) whose params do not set one
// Inputs: whatever the members accept.
// Weights: <dir>/ensemble.json (member kinds and effective params, quantile points,
// calibration, failed members) and each fitted member's weights in
// <dir>/member_<i>_<kind>/, i being the member's index in "members".
// Thread-safety: as for every Model (const methods concurrent, Fit/LoadWeights exclusive).
#pragma once

#include <array>
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

namespace vigil {

struct EnsembleMember {
  std::string kind;
  nlohmann::json params = nlohmann::json::object();
};

// Kinds that take a "seed" key.
inline constexpr std::array<std::string_view, 3> kSeededKinds = {"isolation_forest",
                                                                 "extended_iforest", "autoencoder"};

// `params` with "seed" set to `seed` when the kind is seeded, a seed is given and params
// has none; otherwise `params` unchanged.
nlohmann::json ParamsWithSeed(std::string_view kind, nlohmann::json params,
                              std::optional<uint64_t> seed);

struct EnsembleOptions {
  enum class Combine { kMean, kMax };

  std::vector<EnsembleMember> members = DefaultMembers();
  Combine combine = Combine::kMean;
  Contamination contamination = Contamination::Auto();
  std::optional<uint64_t> seed;

  static std::vector<EnsembleMember> DefaultMembers();
  Status Validate() const;
  static Result<EnsembleOptions> FromJson(const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key, defaults included
};

class Ensemble final : public AnomalyDetector {
 public:
  static constexpr std::string_view kKind = "ensemble";
  static constexpr std::string_view kWeightsFile = "ensemble.json";
  static constexpr size_t kMaxQuantilePoints = 1001;

  explicit Ensemble(EnsembleOptions options = {});

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  // {"members": [{"index", "kind", "params", "status": "fitted", "model": member Describe()}
  //   or {"index", "kind", "params", "status": "failed", "error"}], "calibration", ...}.
  nlohmann::json Describe() const override;
  bool fitted() const override { return fitted_; }
  const std::vector<std::string>& feature_names() const override { return feature_names_; }

  // Fails only when every member fails (the error names each member and its error).
  Status Fit(const FeatureMatrix& x) override;
  Result<AnomalyScores> Score(const FeatureMatrix& x) const override;
  Result<std::vector<double>> Contributions(const FeatureMatrix& x) const override;
  Result<AnomalyScores> FitScore(const FeatureMatrix& x) override;

  // Position of `raw` in ascending `points` (see above), in [0, 1]; NaN for NaN raw.
  static double NormalizedRank(std::span<const double> points, double raw);

  // The members that fitted, in member order (index into options().members).
  size_t fitted_member_count() const { return members_.size(); }
  const AnomalyDetector& member(size_t i) const;
  size_t member_index(size_t i) const { return members_[i].index; }
  const std::vector<double>& member_quantiles(size_t i) const { return members_[i].quantiles; }
  const ScoreCalibration& calibration() const { return calibration_; }
  const EnsembleOptions& options() const { return options_; }

 private:
  struct FittedMember {
    size_t index = 0;
    std::string kind;
    nlohmann::json params;
    std::unique_ptr<Model> model;
    std::vector<double> quantiles;
  };
  struct FailedMember {
    size_t index = 0;
    std::string kind;
    nlohmann::json params;
    std::string error;
  };

  // Fits every member; returns the ensemble's in-sample raw scores.
  Result<std::vector<double>> FitMembers(const FeatureMatrix& x);
  // Combines per-member raw scores (one vector per fitted member, empty = did not score).
  std::vector<double> Combine(const std::vector<std::vector<double>>& member_raw,
                              int64_t rows) const;
  // Fills contributions of the flagged rows of `scores` from the members.
  Status FillFlaggedContributions(const FeatureMatrix& x, AnomalyScores& scores) const;

  EnsembleOptions options_;
  bool fitted_ = false;
  std::vector<std::string> feature_names_;
  std::vector<FittedMember> members_;
  std::vector<FailedMember> failed_;
  ScoreCalibration calibration_;
};

}  // namespace vigil
