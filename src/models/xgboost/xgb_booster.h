// Private to vigil_models: a trained XGBoost booster and what Vigil learned with it, shared
// by the four tree-ensemble kinds (include/vigil/models/xgboost.h). Training and
// persistence live in xgb_booster.cc, prediction and explanation in xgb_explain.cc.
//
// The public classes check their inputs (labels, weights, class weights) and hand this class
// float labels and final row weights; it owns every XGBoost call.
//
// Thread-safety: const methods may run concurrently (see xgboost.h); Fit and Load build a
// new ensemble, so a live one is never modified.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "models/xgboost/xgb_fast_predictor.h"
#include "models/xgboost/xgb_handles.h"
#include "vigil/core/status.h"
#include "vigil/models/model.h"
#include "vigil/models/xgboost.h"

namespace vigil::xgboost_internal {

// What Vigil records beside the booster (the meta file).
struct EnsembleMeta {
  TreeEnsembleKind kind = TreeEnsembleKind::kXGBoost;
  std::vector<std::string> features;
  std::vector<std::string> categorical;  // names, in feature order
  int num_classes = 0;                   // 0 for regression, >= 2 for classification
  std::string objective;                 // XGBoost's name, e.g. "binary:logistic"
  int boosted_rounds = 0;                // rounds kept in the booster
  int best_iteration = -1;               // 0-based; the last kept round
  int trained_rounds = 0;                // rounds run before early stopping cut back
  int parallel_trees = 1;                // trees per output per round (forests: n_estimators)
  double scale_pos_weight = 1.0;         // as resolved at Fit ("auto" -> a number)
  double base_score = 0.5;               // as resolved at Fit ("auto" -> a number)
};

// The training problem as XGBoost sees it.
struct TrainingInput {
  const FeatureMatrix* x = nullptr;
  std::vector<float> labels;   // class index or target, one per row
  std::vector<float> weights;  // empty = all 1
  int num_classes = 0;         // 0 for regression
  double scale_pos_weight = 1.0;
};

// The base_score XGBoost trains from: the option's number, or for "auto" the weighted mean
// label of the first `train_rows` rows (binary: the positive rate clipped to [1e-6, 1 - 1e-6];
// regression: the mean target; multiclass: 0.5, as XGBoost 1.7 has one scalar base_score).
double ResolveBaseScore(const XGBoostOptions& options, const TrainingInput& input,
                        int64_t train_rows);

class TreeEnsemble {
 public:
  static Result<std::unique_ptr<TreeEnsemble>> Fit(const XGBoostOptions& options,
                                                   const TrainingInput& input);
  // Reads <dir>/xgboost.json and <dir>/xgboost_meta.json (DataError naming the file).
  static Result<std::unique_ptr<TreeEnsemble>> Load(const XGBoostOptions& options,
                                                    const std::filesystem::path& dir);
  Status Save(const std::filesystem::path& dir) const;

  const EnsembleMeta& meta() const { return meta_; }
  // Margin outputs per row: num_classes for multiclass, else 1.
  int outputs() const { return meta_.num_classes > 2 ? meta_.num_classes : 1; }
  // Trees in the booster: rounds x outputs x trees per round.
  int64_t trees() const;

  // Checks x against the fitted columns (names, order), infinities and categorical codes.
  Status CheckRows(const FeatureMatrix& x) const;
  // Rows x outputs, row-major: probabilities / predictions, or raw margins. Vigil's compiled
  // predictor when the model allows it (bit-identical to XGBoost's), else XGBoost's in-place
  // prediction. Precondition: CheckRows(x) passed.
  Result<std::vector<double>> Predict(const FeatureMatrix& x, bool margin) const;
  // XGBoost's in-place prediction, whatever the predictor in use.
  Result<std::vector<double>> PredictWithXGBoost(const FeatureMatrix& x, bool margin) const;
  Result<Attributions> Shap(const FeatureMatrix& x) const;
  Result<FeatureImportance> Importance() const;
  nlohmann::json Describe() const;
  // Whether predictions use Vigil's compiled predictor, and why not when they do not.
  bool compiled() const { return fast_ != nullptr; }
  const std::string& fallback_reason() const { return fallback_reason_; }

 private:
  TreeEnsemble(BoosterOwner booster, EnsembleMeta meta, const XGBoostOptions& options);
  // Runs one prediction so that XGBoost's lazy configuration happens now, under exclusive
  // access, not inside concurrent const calls; then compiles the trees (Vigil's predictor)
  // unless the options or the model rule it out, and checks the compiled predictor against
  // XGBoost's on probe rows plus the first rows of `training` (may be null), bit for bit.
  Status Prepare(const FeatureMatrix* training);
  // The compiled predictor, or the reason (fallback_reason_) to keep XGBoost's.
  Result<std::unique_ptr<FastPredictor>> CompileAndCheck(const FeatureMatrix* training) const;
  // Categorical flags per feature (empty when no column is categorical).
  std::vector<bool> CategoricalMask() const;

  BoosterOwner booster_;
  EnsembleMeta meta_;
  std::vector<size_t> categorical_columns_;
  int nthread_ = 0;
  int threads_ = 1;  // nthread resolved (0 = all cores) once: the lookup reads /sys
  bool use_xgboost_predictor_ = false;  // the "predictor" option is "xgboost"
  std::unique_ptr<const FastPredictor> fast_;
  std::string fallback_reason_;  // empty when fast_ is set
};

// Parses and validates the kind-independent checks of a fit: categorical names exist,
// codes are valid. Exposed for the public classes' input checks.
Status CheckCategoricalCodes(std::string_view kind, const FeatureMatrix& x,
                             std::span<const size_t> columns);
Result<std::vector<size_t>> CategoricalColumns(std::string_view kind,
                                               const std::vector<std::string>& names,
                                               const std::vector<std::string>& features);

}  // namespace vigil::xgboost_internal
