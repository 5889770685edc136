// Choosing an anomaly detector for a data set (what `vigil detect --model auto` runs).
//
//   vigil::SelectionOptions options;                    // default candidates, method "auto"
//   VIGIL_ASSIGN_OR_RETURN(vigil::SelectionResult chosen,
//                          vigil::SelectDetector(train, {&validation, labels}, options));
//   VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<vigil::Model> model,
//                          vigil::FitSelectedDetector(chosen, train));
//
// Methods:
// - "pr_auc" (what "auto" picks when labeled validation rows are given): each candidate is
//   fitted on the training rows and scores the validation rows; the metric is the average
//   precision of its raw scores against the labels (vigil::AveragePrecision, scikit-learn's
//   average_precision_score). The highest wins; ties go to the earlier candidate, so list
//   simpler candidates first to prefer them.
// - "ensemble" (what "auto" picks without labels): every candidate is fitted on the
//   training rows; the result is an "ensemble" configuration whose members are the
//   candidates that fitted (no metric: without labels there is nothing to rank them by).
// - "silhouette" (opt-in, and weak: a well-separated inlier/outlier split is not the same
//   as finding the anomalies that matter, and it favours detectors that flag a compact,
//   distant group): each candidate's in-sample flags (FitScore) split the training rows in
//   two; the metric is the silhouette coefficient (Rousseeuw 1987, scikit-learn's
//   silhouette_score, Euclidean) of that split on at most `silhouette_sample_rows` rows
//   drawn at random (seeded) and standardized by the training mean and standard deviation
//   (constant features are dropped). A candidate whose sample holds a single group is
//   recorded with an error. The highest wins; ties go to the earlier candidate.
// A candidate that cannot be created, fitted or scored is recorded in the table with its
// error, never fatal; the selection fails only when no candidate succeeds.
// `seed`, when set, is given to the seeded kinds as in the ensemble (ParamsWithSeed).
// Thread-safety: SelectDetector has no shared state; call it from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil {

enum class SelectionMethod { kAuto, kPrAuc, kEnsemble, kSilhouette };
std::string_view SelectionMethodName(SelectionMethod method);  // "auto", "pr_auc", ...
Result<SelectionMethod> ParseSelectionMethod(std::string_view text);

struct SelectionCandidate {
  std::string kind;
  nlohmann::json config = nlohmann::json::object();
};

struct SelectionOptions {
  SelectionMethod method = SelectionMethod::kAuto;
  // isolation_forest, extended_iforest, lof, ocsvm, dbscan, ecod, zscore (default configs).
  std::vector<SelectionCandidate> candidates = DefaultCandidates();
  std::optional<uint64_t> seed;           // for the seeded kinds and the silhouette sample
  int64_t silhouette_sample_rows = 2000;  // >= 2

  static std::vector<SelectionCandidate> DefaultCandidates();
  Status Validate() const;
};

// Validation rows with 0/1 labels (1 = anomaly). Absent when x is null.
struct LabeledRows {
  const FeatureMatrix* x = nullptr;
  std::span<const int> labels;
};

struct CandidateOutcome {
  std::string kind;
  nlohmann::json config;         // complete config when the kind could be created
  std::optional<double> metric;  // set when the method measures one and the candidate ran
  std::string error;             // empty when the candidate succeeded
  bool ok() const { return error.empty(); }
};

struct SelectionResult {
  std::string kind;       // the chosen kind ("ensemble" for method "ensemble")
  nlohmann::json config;  // its configuration, ready for CreateModel
  SelectionMethod method = SelectionMethod::kEnsemble;  // the method actually used
  std::vector<CandidateOutcome> candidates;             // one per candidate, in order

  // {"kind", "config", "method", "candidates": [{"kind", "config", "metric", "error"}]}.
  nlohmann::json ToJson() const;
};

// Runs the selection. InvalidArgument for bad options, for method "pr_auc" without labeled
// rows, for labels that are not 0/1 or not one per validation row, or for validation rows
// with no anomaly; FailedPrecondition (listing every candidate's error) when none succeeds.
Result<SelectionResult> SelectDetector(const FeatureMatrix& train, const LabeledRows& validation,
                                       const SelectionOptions& options = {});

// The chosen detector, created from the result and fitted on `train`.
Result<std::unique_ptr<Model>> FitSelectedDetector(const SelectionResult& selection,
                                                   const FeatureMatrix& train);

// Mean silhouette coefficient of a two-group partition (`in_second_group` per row) of the
// rows of `x` (Euclidean). InvalidArgument unless both groups are non-empty. A row alone in
// its group scores 0, as in scikit-learn.
Result<double> TwoGroupSilhouette(const FeatureMatrix& x, const std::vector<bool>& in_second_group);

}  // namespace vigil
