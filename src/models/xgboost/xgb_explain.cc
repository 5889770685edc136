// Prediction and explanation: Vigil's compiled predictor or XGBoost's in-place prediction
// (probabilities, predictions, raw margins), TreeSHAP contributions and XGBoost's own
// feature importance.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "models/builtin_kinds.h"
#include "models/xgboost/xgb_booster.h"

namespace vigil::xgboost_internal {
namespace {

// XGBoost's prediction types (XGBoosterPredictFromDMatrix's "type").
constexpr int kPredictValue = 0;
constexpr int kPredictMargin = 1;
constexpr int kPredictContributions = 2;
constexpr size_t kTopFeatures = 10;

// strict_shape: values and margins are always rows x groups, contributions rows x groups x
// (features + 1), for binary and multiclass alike. iteration_end 0 = every kept round
// (early stopping already cut the booster back to its best round).
std::string PredictConfig(int type) {
  return R"({"type":)" + std::to_string(type) +
         R"(,"training":false,"iteration_begin":0,"iteration_end":0,"strict_shape":true,)"
         R"("missing":NaN,"cache_id":0})";
}

const std::string& ValueConfig() {
  static const std::string config = PredictConfig(kPredictValue);
  return config;
}
const std::string& MarginConfig() {
  static const std::string config = PredictConfig(kPredictMargin);
  return config;
}

Status CheckShape(const PredictionArray& out, std::vector<uint64_t> expected, const char* what) {
  if (out.shape == expected) return Status::Ok();
  std::string got;
  for (uint64_t dim : out.shape) got += (got.empty() ? "" : "x") + std::to_string(dim);
  return Internal(std::string("XGBoost returned ") + what + " of shape " + got);
}

std::vector<std::string> IndexNames(size_t count) {
  std::vector<std::string> names;
  for (size_t col = 0; col < count; ++col) names.push_back("f" + std::to_string(col));
  return names;
}

}  // namespace

Status TreeEnsemble::CheckRows(const FeatureMatrix& x) const {
  const std::string kind(TreeEnsembleKindName(meta_.kind));
  VIGIL_RETURN_IF_ERROR(models_internal::CheckColumns(kind, meta_.features, x));
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/true).WithContext("model '" + kind + "'"));
  return CheckCategoricalCodes(kind, x, categorical_columns_);
}

Result<std::vector<double>> TreeEnsemble::Predict(const FeatureMatrix& x, bool margin) const {
  if (!fast_) return PredictWithXGBoost(x, margin);
  std::vector<double> out(static_cast<size_t>(x.rows) * outputs());
  fast_->Predict(x.values.data(), x.rows, margin, threads_, out.data());
  return out;
}

Result<std::vector<double>> TreeEnsemble::PredictWithXGBoost(const FeatureMatrix& x,
                                                             bool margin) const {
  // Binary probabilities are P(label 1) only: one column, as the margins.
  const uint64_t width = static_cast<uint64_t>(outputs());
  if (x.rows == 0) return std::vector<double>{};
  const std::string array = DenseArrayInterface(x.values.data(), x.rows, x.cols());
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* values = nullptr;
  VIGIL_RETURN_IF_ERROR(
      CheckXGBoost(XGBoosterPredictFromDense(booster_.get(), array.c_str(),
                                             (margin ? MarginConfig() : ValueConfig()).c_str(),
                                             nullptr, &shape, &dims, &values),
                   "XGBoosterPredictFromDense"));
  // The result lives in XGBoost's per-thread buffer until this thread's next call.
  const uint64_t rows = static_cast<uint64_t>(x.rows);
  if (dims != 2 || shape[0] != rows || shape[1] != width) {
    return CheckShape(CopyPrediction(shape, dims, values), {rows, width}, "predictions");
  }
  return std::vector<double>(values, values + rows * width);
}

Result<Attributions> TreeEnsemble::Shap(const FeatureMatrix& x) const {
  Attributions out;
  out.features = meta_.features;
  out.outputs = outputs();
  out.rows = x.rows;
  if (x.rows == 0) return out;
  VIGIL_ASSIGN_OR_RETURN(DMatrixOwner matrix, MakeDMatrix(x.values.data(), x.rows, x.cols(),
                                                          nthread_, CategoricalMask()));
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* values = nullptr;
  VIGIL_RETURN_IF_ERROR(
      CheckXGBoost(XGBoosterPredictFromDMatrix(booster_.get(), matrix.get(),
                                               PredictConfig(kPredictContributions).c_str(), &shape,
                                               &dims, &values),
                   "XGBoosterPredictFromDMatrix(contributions)"));
  const PredictionArray contributions = CopyPrediction(shape, dims, values);
  VIGIL_RETURN_IF_ERROR(
      CheckShape(contributions,
                 {static_cast<uint64_t>(x.rows), static_cast<uint64_t>(out.outputs), x.cols() + 1},
                 "SHAP contributions"));
  out.values.assign(contributions.values.begin(), contributions.values.end());
  return out;
}

Result<FeatureImportance> TreeEnsemble::Importance() const {
  FeatureImportance importance;
  importance.features = meta_.features;
  // Named f0, f1, ... inside XGBoost: Vigil's names may hold characters XGBoost rejects.
  const std::vector<std::string> names = IndexNames(meta_.features.size());
  for (const char* type : {"gain", "cover", "total_gain", "total_cover", "weight"}) {
    const nlohmann::json config = {{"importance_type", type}, {"feature_names", names}};
    bst_ulong n_features = 0;
    const char** features = nullptr;
    bst_ulong dims = 0;
    const bst_ulong* shape = nullptr;
    const float* scores = nullptr;
    VIGIL_RETURN_IF_ERROR(
        CheckXGBoost(XGBoosterFeatureScore(booster_.get(), config.dump().c_str(), &n_features,
                                           &features, &dims, &shape, &scores),
                     std::string("XGBoosterFeatureScore(") + type + ")"));
    // Only features used in a split are listed; the rest stay 0.
    std::vector<double> by_feature(meta_.features.size(), 0.0);
    for (bst_ulong item = 0; item < n_features; ++item) {
      const auto at = std::find(names.begin(), names.end(), features[item]);
      if (at == names.end())
        return Internal(std::string("XGBoost scored feature ") + features[item]);
      by_feature[at - names.begin()] = scores[item];
    }
    importance.by_method[type] = std::move(by_feature);
  }
  return importance;
}

nlohmann::json TreeEnsemble::Describe() const {
  nlohmann::json top = nlohmann::json::array();
  Result<FeatureImportance> importance = Importance();
  if (importance.ok()) {
    const std::vector<double>& gain = importance->by_method.at("gain");
    std::vector<size_t> order(gain.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return gain[a] > gain[b]; });
    for (size_t rank = 0; rank < std::min(kTopFeatures, order.size()); ++rank) {
      if (gain[order[rank]] <= 0) break;
      top.push_back({{"feature", meta_.features[order[rank]]}, {"gain", gain[order[rank]]}});
    }
  }
  return {{"kind", TreeEnsembleKindName(meta_.kind)},
          {"fitted", true},
          {"objective", meta_.objective},
          {"num_classes", meta_.num_classes},
          {"trees", trees()},
          {"boosted_rounds", meta_.boosted_rounds},
          {"best_iteration", meta_.best_iteration},
          {"trained_rounds", meta_.trained_rounds},
          {"scale_pos_weight", meta_.scale_pos_weight},
          {"base_score", meta_.base_score},
          {"predictor", fast_ ? "vigil" : "xgboost"},
          {"predictor_fallback", fallback_reason_},
          {"categorical", meta_.categorical},
          {"top_features", top}};
}

}  // namespace vigil::xgboost_internal
