// Private to vigil_models: exact SHAP values of a linear model, shared by the `logistic` and
// `ridge` kinds. Header-only.
//
// For a margin f(x) = w.x + b and features taken as independent (the interventional
// setting), the Shapley value of feature j is exactly w_j (x_j - E[x_j]) and the expected
// margin is b + sum_j w_j E[x_j] (Lundberg & Lee 2017, "A Unified Approach to Interpreting
// Model Predictions", NeurIPS, section 5.1 "Linear SHAP"). E[x_j] is the mean of feature
// j over the training rows, weighted by the sample weights, so the model stores the means
// (and standard deviations, for the standardized importance) with its weights.
//
//   FeatureMoments moments = FeatureMoments::Of(x, weights);     // at Fit
//   VIGIL_ASSIGN_OR_RETURN(Attributions a,
//                          LinearShap("logistic", names, w, b, moments, x));
#pragma once

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil::models_internal {

// Per-feature weighted mean and population standard deviation of the training rows.
// Empty when unknown (weights files written before the moments were stored).
struct FeatureMoments {
  std::vector<double> mean;
  std::vector<double> stddev;

  // One mean and one standard deviation per feature (trivially so with no features).
  bool known(size_t features) const { return mean.size() == features && stddev.size() == features; }

  // Weights empty (all 1) or one per row, >= 0 with a positive sum (the fits check this);
  // two passes, so the variance does not cancel catastrophically.
  static FeatureMoments Of(const FeatureMatrix& x, std::span<const double> weights) {
    const size_t cols = x.cols();
    FeatureMoments moments{std::vector<double>(cols, 0.0), std::vector<double>(cols, 0.0)};
    double total = 0;
    for (int64_t row = 0; row < x.rows; ++row) {
      const double w = weights.empty() ? 1.0 : weights[row];
      total += w;
      for (size_t col = 0; col < cols; ++col) moments.mean[col] += w * x.at(row, col);
    }
    if (!(total > 0)) return moments;
    for (double& mean : moments.mean) mean /= total;
    for (int64_t row = 0; row < x.rows; ++row) {
      const double w = weights.empty() ? 1.0 : weights[row];
      for (size_t col = 0; col < cols; ++col) {
        const double deviation = x.at(row, col) - moments.mean[col];
        moments.stddev[col] += w * deviation * deviation;
      }
    }
    for (double& stddev : moments.stddev) stddev = std::sqrt(stddev / total);
    return moments;
  }

  // Written into the kind's weights document as "feature_means" and "feature_stds".
  void WriteTo(size_t features, nlohmann::json& doc) const {
    if (!known(features)) return;
    doc["feature_means"] = mean;
    doc["feature_stds"] = stddev;
  }

  // Both keys or neither (older documents); throws std::runtime_error on a bad document,
  // which LoadLinearWeights turns into a DataError naming the file.
  static FeatureMoments ReadFrom(const nlohmann::json& doc, size_t features) {
    FeatureMoments moments;
    if (!doc.contains("feature_means") && !doc.contains("feature_stds")) return moments;
    moments.mean = doc.at("feature_means").get<std::vector<double>>();
    moments.stddev = doc.at("feature_stds").get<std::vector<double>>();
    if (!moments.known(features)) {
      throw std::runtime_error("feature_means / feature_stds need one value per feature");
    }
    for (size_t col = 0; col < features; ++col) {
      if (!std::isfinite(moments.mean[col]) || !(moments.stddev[col] >= 0) ||
          !std::isfinite(moments.stddev[col])) {
        throw std::runtime_error("feature_means / feature_stds: bad value at feature " +
                                 std::to_string(col));
      }
    }
    return moments;
  }
};

// Attributions of the margins w.x + b of the rows of x to the features:
// w_j (x_j - mean_j), bias b + sum_j w_j mean_j. Preconditions: x checked against the
// model's columns and finite. FailedPrecondition when the moments are unknown.
inline Result<Attributions> LinearShap(std::string_view kind,
                                       const std::vector<std::string>& feature_names,
                                       const std::vector<double>& coefficients, double intercept,
                                       const FeatureMoments& moments, const FeatureMatrix& x) {
  if (!moments.known(coefficients.size())) {
    return FailedPrecondition("model '" + std::string(kind) +
                              "': refit to explain: the weights predate stored feature means");
  }
  double bias = intercept;
  for (size_t col = 0; col < coefficients.size(); ++col) {
    bias += coefficients[col] * moments.mean[col];
  }
  Attributions out;
  out.features = feature_names;
  out.outputs = 1;
  out.rows = x.rows;
  out.values.resize(static_cast<size_t>(x.rows) * out.width());
  for (int64_t row = 0; row < x.rows; ++row) {
    double* contributions = out.values.data() + static_cast<size_t>(row) * out.width();
    for (size_t col = 0; col < coefficients.size(); ++col) {
      contributions[col] = coefficients[col] * (x.at(row, col) - moments.mean[col]);
    }
    contributions[coefficients.size()] = bias;
  }
  return out;
}

// "coefficient_abs": |w_j|; "standardized": |w_j| * stddev_j (when the moments are known).
inline FeatureImportance LinearImportance(const std::vector<std::string>& feature_names,
                                          const std::vector<double>& coefficients,
                                          const FeatureMoments& moments) {
  FeatureImportance out;
  out.features = feature_names;
  std::vector<double>& magnitude = out.by_method["coefficient_abs"];
  for (double w : coefficients) magnitude.push_back(std::abs(w));
  if (moments.known(coefficients.size())) {
    std::vector<double>& standardized = out.by_method["standardized"];
    for (size_t col = 0; col < coefficients.size(); ++col) {
      standardized.push_back(std::abs(coefficients[col]) * moments.stddev[col]);
    }
  }
  return out;
}

}  // namespace vigil::models_internal
