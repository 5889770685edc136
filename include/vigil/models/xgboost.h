// Gradient-boosted trees and random forests through XGBoost's C API (XGBoost 1.7): the
// supervised risk models. Four kinds, all built on the same booster:
//   "xgboost"                  Classifier: binary:logistic for labels {0, 1}, multi:softprob
//                              when there are more than two classes
//   "xgboost_regressor"        Regressor: reg:squarederror (or reg:pseudohubererror)
//   "random_forest"            Classifier in XGBoost's random-forest mode
//   "random_forest_regressor"  Regressor in random-forest mode
// Random-forest mode is one boosting round of n_estimators parallel trees
// (num_parallel_tree) with learning_rate 1, rows subsampled without replacement per tree
// and features per node, as XGBoost's XGBRFClassifier/XGBRFRegressor.
//
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::CreateModel("xgboost", {{"max_depth", 4}}));
//   auto* classifier = vigil::AsClassifier(model.get());
//   VIGIL_RETURN_IF_ERROR(classifier->Fit(x, labels));
//   VIGIL_ASSIGN_OR_RETURN(vigil::ProbabilityMatrix p, classifier->PredictProba(x));
//   VIGIL_ASSIGN_OR_RETURN(vigil::Attributions shap, vigil::AsExplainable(model.get())->Shap(x));
//
// Configuration (all optional; defaults for boosting kinds / random-forest kinds):
//   "n_estimators"      boosting rounds / trees in the forest, >= 1 (200 / 100)
//   "max_depth"         >= 0; 0 = unlimited, lossguide only (6 / 6)
//   "learning_rate"     eta, > 0 (0.1; forest kinds: fixed at 1, not a key)
//   "min_child_weight"  minimum hessian sum in a leaf, >= 0 (1)
//   "subsample"         rows sampled per tree, (0, 1] (1 / 0.8)
//   "colsample_bytree"  features sampled per tree, (0, 1] (1)
//   "colsample_bynode"  features sampled per split, (0, 1] (1 / 0.8)
//   "reg_lambda"        L2 on leaf weights, >= 0 (1 / 1e-5)
//   "reg_alpha"         L1 on leaf weights, >= 0 (0)
//   "gamma"             minimum loss reduction to split, >= 0 (0)
//   "max_bin"           histogram bins per feature, >= 2 (256)
//   "grow_policy"       "depthwise" or "lossguide" (depthwise)
//   "max_leaves"        leaves per tree, >= 0, 0 = no limit; used with lossguide (0)
//   "categorical"       feature names treated as categorical (native support: XGBoost
//                       feature type "c"); their values are integer codes >= 0 ([])
//   "max_cat_to_onehot" categorical features with fewer categories are split one-vs-rest,
//                       others by partition, >= 1 (4)
//   "nthread"           threads for training and prediction, >= 0, 0 = all cores (0)
//   "seed"              seeds XGBoost's sampling (subsample/colsample), >= 0 (0)
//   "base_score"        the prediction every tree adds to (probability for classifiers, in
//                       (0, 1); target for regressors), or "auto" = the weighted mean label of
//                       the rows trained on (early stopping: without the validation rows),
//                       as XGBoost 2.0's default: binary, the positive rate clipped to
//                       [1e-6, 1 - 1e-6]; regression, the mean target; multiclass, 0.5 (XGBoost
//                       1.7 has one scalar base_score, which softmax ignores) ("auto")
//   "predictor"         "auto": Vigil's compiled predictor (below) when the model allows it,
//                       else XGBoost's; "xgboost": always XGBoost's ("auto")
// Classifier kinds only:
//   "num_classes"       0 = from the labels (max label + 1, at least 2), else >= 2 (0);
//                       fix it when some fit rows may lack the highest class
//   "scale_pos_weight"  weight of positive rows, > 0, or "auto" = negatives / positives of
//                       the rows passed to Fit; binary only (1)
//   "class_weight"      "none" or "balanced": BalancedSampleWeights (imbalance.h, scikit-
//                       learn's "balanced") multiplied into the sample weights (none)
// Regressor kinds only:
//   "objective"         "squarederror" or "pseudohubererror" (squarederror)
//   "huber_slope"       delta of the pseudo-Huber loss, > 0 (1)
// Boosting kinds only (early stopping):
//   "early_stopping_rounds"  0 = off; else the chronologically last validation_fraction of
//                       the fit rows (floor(n * fraction), at least 1) is held out, training
//                       on the rest stops once the validation metric (logloss, mlogloss or
//                       rmse) has not improved (strictly, as printed by XGBoost) for that
//                       many rounds, and the model is cut back to its best round. (0)
//   "validation_fraction"    (0, 1) (0.2)
// tree_method is always "hist". Unknown keys or bad values: InvalidArgument naming the kind
// and the key.
//
// Inputs: NaN is a missing value (XGBoost's native handling: each split learns a default
// direction); infinities are InvalidArgument naming row and column. Labels: class indices
// in [0, num_classes); regression targets finite. Weights: empty or one per row, finite, >= 0.
// Categorical columns: non-negative integer codes (or NaN) at Fit and at prediction.
//
// Predictions: float32 as in XGBoost, returned as doubles. PredictProba, Predict and
// RawMargin use Vigil's compiled predictor: after Fit and LoadWeights the trees are compiled
// into flat complete-tree arrays walked branch-free (src/models/xgboost/xgb_fast_predictor.h),
// with XGBoost's exact semantics (float32 features, `value < split` goes left, NaN to the
// default child, float32 sums in tree order from the base margin, XGBoost's sigmoid and
// softmax), and checked bit for bit against XGBoost's predictor on probe rows before use.
// Models it does not compile, or that fail the check, predict through XGBoost's in-place
// prediction instead (Describe's "predictor" says which, "predictor_fallback" why):
// categorical features, trees deeper than 12 (lossguide without a depth limit), layouts
// over 256 MiB. Either way the numbers are XGBoost's bit for bit. Batches of 256 rows or
// more per thread use up to nthread threads; results never depend on the thread count.
// RawMargin is the untransformed sum of tree outputs plus base_score's margin (log-odds;
// per class for multiclass).
// SHAP (ExplainableModel::Shap): exact TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent
// individualized feature attribution for tree ensembles", Algorithm 2) as computed by
// XGBoost's pred_contribs, in margin space: rows x outputs x (features + 1), the last
// entry the bias (expected margin); each row's contributions to an output sum to its raw
// margin up to float rounding. Importance: XGBoost's gain, cover, total_gain, total_cover
// and weight (split count) per feature, 0 for features never split on.
//
// Weight files in the registry's version directory: xgboost.json (the booster in
// XGBoost's JSON model format) and xgboost_meta.json (format tag, kind, features,
// num_classes, best iteration, categorical columns, base_score, and the model file's size
// and hash; files without base_score, written before the key existed, mean 0.5).
// LoadWeights fails with DataError naming the file when either is missing, unparsable, or
// inconsistent with the other or with the configuration; predictions after a load equal
// the saved model's bit for bit.
//
// Thread-safety: const methods (PredictProba, Predict, RawMargin, Shap, Importance,
// Describe, SaveWeights) may run concurrently on one fitted model: the compiled predictor
// is immutable, and XGBoost documents prediction on tree boosters as thread-safe since 1.4
// (outputs live in per-thread buffers); the model is configured once at the end of Fit /
// LoadWeights so no lazy configuration happens during prediction. Fit and LoadWeights need
// exclusive access. Lifetime: destroy models before the process exits. XGBoost keeps per-thread
// state that is torn down when exit() starts, and freeing a booster after that crashes, so a model
// held by a static object must be released on purpose (never destroyed) or reset before
// main returns.
#pragma once

#include <cstdint>
#include <filesystem>
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

// Which of the four kinds an option set belongs to.
enum class TreeEnsembleKind { kXGBoost, kXGBoostRegressor, kRandomForest, kRandomForestRegressor };

std::string_view TreeEnsembleKindName(TreeEnsembleKind kind);  // "xgboost", ...
bool IsRandomForest(TreeEnsembleKind kind);
bool IsClassification(TreeEnsembleKind kind);

struct XGBoostOptions {
  enum class GrowPolicy { kDepthwise, kLossguide };
  enum class ClassWeight { kNone, kBalanced };
  enum class RegressionObjective { kSquaredError, kPseudoHuber };

  TreeEnsembleKind kind = TreeEnsembleKind::kXGBoost;
  int n_estimators = 200;
  int max_depth = 6;
  double learning_rate = 0.1;
  double min_child_weight = 1.0;
  double subsample = 1.0;
  double colsample_bytree = 1.0;
  double colsample_bynode = 1.0;
  double reg_lambda = 1.0;
  double reg_alpha = 0.0;
  double gamma = 0.0;
  int max_bin = 256;
  GrowPolicy grow_policy = GrowPolicy::kDepthwise;
  int max_leaves = 0;
  std::vector<std::string> categorical;
  int max_cat_to_onehot = 4;
  int nthread = 0;
  uint64_t seed = 0;
  std::optional<double> base_score;  // nullopt = "auto"
  enum class Predictor { kAuto, kXGBoost };
  Predictor predictor = Predictor::kAuto;
  // Classification.
  int num_classes = 0;
  std::optional<double> scale_pos_weight = 1.0;  // nullopt = "auto"
  ClassWeight class_weight = ClassWeight::kNone;
  // Regression.
  RegressionObjective objective = RegressionObjective::kSquaredError;
  double huber_slope = 1.0;
  // Boosting.
  int early_stopping_rounds = 0;
  double validation_fraction = 0.2;

  // The defaults of a kind (random-forest kinds: 100 trees, learning_rate 1, subsample and
  // colsample_bynode 0.8, reg_lambda 1e-5, as XGBoost's XGBRF* estimators).
  static XGBoostOptions Defaults(TreeEnsembleKind kind);
  Status Validate() const;  // InvalidArgument naming the kind and key
  // From the kind's JSON configuration (InvalidArgument naming an unknown key or bad value).
  static Result<XGBoostOptions> FromJson(TreeEnsembleKind kind, const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key of the kind, defaults included
};

namespace xgboost_internal {
class TreeEnsemble;  // the booster and what was learned with it (src/models/xgboost/)
}  // namespace xgboost_internal

// "xgboost" and "random_forest".
class XGBoostClassifier final : public Classifier, public ExplainableModel {
 public:
  static constexpr std::string_view kWeightsFile = "xgboost.json";
  static constexpr std::string_view kMetaFile = "xgboost_meta.json";

  // options.kind must be a classification kind (checked by Fit).
  explicit XGBoostClassifier(XGBoostOptions options = {});
  ~XGBoostClassifier() override;
  XGBoostClassifier(const XGBoostClassifier&) = delete;
  XGBoostClassifier& operator=(const XGBoostClassifier&) = delete;

  std::string_view kind() const override { return TreeEnsembleKindName(options_.kind); }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  // {"kind", "fitted", "objective", "num_classes", "trees", "boosted_rounds",
  //  "best_iteration", "trained_rounds", "scale_pos_weight", "base_score", "predictor"
  //  ("vigil" or "xgboost"), "predictor_fallback" (why not "vigil"; empty when it is),
  //  "categorical", "top_features": [{feature, gain}]}.
  nlohmann::json Describe() const override;
  bool fitted() const override;
  const std::vector<std::string>& feature_names() const override;

  Status Fit(const FeatureMatrix& x, std::span<const int> labels,
             std::span<const double> weights = {}) override;
  // rows x num_classes probabilities. Fails if unfitted, on a column mismatch, on an
  // infinite value or an invalid categorical code.
  Result<ProbabilityMatrix> PredictProba(const FeatureMatrix& x) const override;
  int num_classes() const override;

  Result<std::vector<double>> RawMargin(const FeatureMatrix& x) const override;
  Result<Attributions> Shap(const FeatureMatrix& x) const override;
  Result<FeatureImportance> Importance() const override;

  const XGBoostOptions& options() const { return options_; }
  // The best round (0-based) kept by early stopping, else the last round; -1 unfitted.
  int best_iteration() const;

 private:
  XGBoostOptions options_;
  std::unique_ptr<xgboost_internal::TreeEnsemble> ensemble_;
};

// "xgboost_regressor" and "random_forest_regressor".
class XGBoostRegressor final : public Regressor, public ExplainableModel {
 public:
  // options.kind must be a regression kind (checked by Fit).
  explicit XGBoostRegressor(XGBoostOptions options);
  ~XGBoostRegressor() override;
  XGBoostRegressor(const XGBoostRegressor&) = delete;
  XGBoostRegressor& operator=(const XGBoostRegressor&) = delete;

  std::string_view kind() const override { return TreeEnsembleKindName(options_.kind); }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  nlohmann::json Describe() const override;  // as XGBoostClassifier's
  bool fitted() const override;
  const std::vector<std::string>& feature_names() const override;

  Status Fit(const FeatureMatrix& x, std::span<const double> targets,
             std::span<const double> weights = {}) override;
  Result<std::vector<double>> Predict(const FeatureMatrix& x) const override;

  Result<std::vector<double>> RawMargin(const FeatureMatrix& x) const override;
  Result<Attributions> Shap(const FeatureMatrix& x) const override;
  Result<FeatureImportance> Importance() const override;

  const XGBoostOptions& options() const { return options_; }
  int best_iteration() const;

 private:
  XGBoostOptions options_;
  std::unique_ptr<xgboost_internal::TreeEnsemble> ensemble_;
};

}  // namespace vigil
