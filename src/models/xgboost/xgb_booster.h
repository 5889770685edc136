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
};

// The training problem as XGBoost sees it.
struct TrainingInput {
  const FeatureMatrix* x = nullptr;
  std::vector<float> labels;   // class index or target, one per row
  std::vector<float> weights;  // empty = all 1
  int num_classes = 0;         // 0 for regression
  double scale_pos_weight = 1.0;
};

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
  // In-place prediction (rows x outputs, row-major): probabilities / predictions, or raw
  // margins. Precondition: CheckRows(x) passed.
  Result<std::vector<double>> Predict(const FeatureMatrix& x, bool margin) const;
  Result<Attributions> Shap(const FeatureMatrix& x) const;
  Result<FeatureImportance> Importance() const;
  nlohmann::json Describe() const;

 private:
  TreeEnsemble(BoosterOwner booster, EnsembleMeta meta, int nthread);
  // Makes the serial copy of the booster and runs one prediction on each, so that XGBoost's
  // lazy configuration happens now, under exclusive access, not inside concurrent const calls.
  Status Prepare();
  Result<std::vector<double>> PredictWith(const BoosterOwner& booster, const FeatureMatrix& x,
                                          bool margin) const;
  // Categorical flags per feature (empty when no column is categorical).
  std::vector<bool> CategoricalMask() const;

  // XGBoost's CPU predictor hands out blocks of 64 rows per thread, so a batch of at most
  // that many rows runs on one thread anyway and only pays for waking the others (tens of
  // microseconds, milliseconds on a loaded machine). Such batches go to serial_booster_, a
  // copy of the same trees configured with one thread: every row still sums its trees in
  // the same order, so the results are bit-identical. Empty when nthread is 1.
  static constexpr int64_t kSerialRows = 64;

  BoosterOwner booster_;
  BoosterOwner serial_booster_;
  EnsembleMeta meta_;
  std::vector<size_t> categorical_columns_;
  int nthread_ = 0;
};

// Parses and validates the kind-independent checks of a fit: categorical names exist,
// codes are valid. Exposed for the public classes' input checks.
Status CheckCategoricalCodes(std::string_view kind, const FeatureMatrix& x,
                             std::span<const size_t> columns);
Result<std::vector<size_t>> CategoricalColumns(std::string_view kind,
                                               const std::vector<std::string>& names,
                                               const std::vector<std::string>& features);

}  // namespace vigil::xgboost_internal
