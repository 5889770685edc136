// Kind "extended_iforest": Extended Isolation Forest (Hariri, Kind & Brunner, "Extended
// Isolation Forest", IEEE TKDE 2019): isolation trees cut by random hyperplanes instead of
// axis-parallel thresholds, which removes the axis-aligned "ghost" regions of low score that
// the standard forest draws around clusters.
//
//   VIGIL_ASSIGN_OR_RETURN(auto model,
//                          vigil::CreateModel("extended_iforest", {{"extension_level", 1}}));
//   auto* detector = vigil::AsAnomalyDetector(model.get());
//   VIGIL_RETURN_IF_ERROR(detector->Fit(train));
//   VIGIL_ASSIGN_OR_RETURN(vigil::AnomalyScores scores, detector->Score(live));
//
// Trees: rows, feature subsets, depth limit and leaf rules as "isolation_forest"
// (isolation_forest.h). A split (paper, Algorithm 2) draws a normal vector n ~ N(0, I) over
// the tree's features with all but extension_level + 1 randomly chosen coordinates zeroed,
// and an intercept point p uniform in the bounding box of the node's rows; x goes left when
// (x - p) . n <= 0, evaluated as x . n <= p . n. A draw whose non-zero coordinates are all
// constant on the node's rows is drawn again (it could not separate them), so
// extension_level 0 splits exactly like the axis-parallel forest; a node whose features are
// all constant is a leaf. A cut may leave one side empty (an empty leaf has h = depth).
// Raw score: 2 ^ (-mean_t h_t(x) / c(max_samples)), h and c as in isolation_forest.h.
// Contamination: "auto" -> the native threshold raw 0.5; a fraction f -> the (1 - f)
// quantile of the training raw scores.
// Contributions: the isolation attribution of isolation_forest.h (each cut on the row's
// path is worth b = log2((n_node + 1) / (n_side + 1)) bits, credited b / h_t(x)), the
// credit of a hyperplane cut split over its features by n_f^2 / |n|^2 (the squared cosine
// of the normal's angle with axis f; |n_f| / sum |n_j| gave a 9-sigma single-feature outlier
// 0.29 against 0.18, squares 0.34 against 0.18); summed over trees, scaled to shares
// (NormalizeShares).
//
// Configuration: every key of "isolation_forest" (n_estimators, max_samples, max_features,
// bootstrap, contamination, seed, n_jobs; same defaults), plus
//   "extension_level"  "full" (default) = features per tree - 1, or an integer 0..d-1
//                      (checked against the feature count d at Fit)
// Inputs: NaN or infinite values are InvalidArgument naming the row and column. Fit needs
// >= 2 rows.
// Weights file: <dir>/extended_iforest.json, the layout of isolation_forest.json (rows
// included) with "terms_per_split" = extension_level + 1 and per tree "term_features" and
// "term_coefs": internal node i's normal vector has the terms split[i] .. split[i] +
// terms_per_split - 1, and x goes right when sum_j term_coefs[j] * x[term_features[j]] >
// threshold[i]. Thread-safety: as for every Model (const methods concurrent, Fit/LoadWeights
// exclusive).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/anomaly/isolation_forest.h"
#include "vigil/models/model.h"

namespace vigil {

struct ExtendedIsolationForestOptions {
  static constexpr int kFullExtension = -1;  // "full": features per tree - 1

  IsolationForestOptions forest;
  int extension_level = kFullExtension;

  Status Validate() const;
  static Result<ExtendedIsolationForestOptions> FromJson(const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key, defaults included
  // Non-zero normal-vector coordinates per split for a tree over `tree_features` features
  // (InvalidArgument when extension_level >= tree_features).
  Result<int> TermsPerSplit(int tree_features) const;
};

class ExtendedIsolationForest final : public IsolationForestDetector {
 public:
  static constexpr std::string_view kKind = "extended_iforest";
  static constexpr std::string_view kWeightsFile = "extended_iforest.json";
  static constexpr double kNativeThreshold = 0.5;

  explicit ExtendedIsolationForest(ExtendedIsolationForestOptions options = {});

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status LoadWeights(const std::filesystem::path& dir) override;
  // As IsolationForest::Describe, plus "extension_level" (resolved).
  nlohmann::json Describe() const override;

  Status Fit(const FeatureMatrix& x) override;
  Result<AnomalyScores> FitScore(const FeatureMatrix& x) override;

  const ExtendedIsolationForestOptions& options() const { return options_; }

 private:
  std::string_view weights_file() const override { return kWeightsFile; }
  int n_jobs() const override { return options_.forest.n_jobs; }

  ExtendedIsolationForestOptions options_;
};

}  // namespace vigil
