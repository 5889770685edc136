// Private to vigil_models: the per-column scaling behind the baselines' `standardize`
// option (logistic, ridge). A model fits on the scaled columns, so its penalty treats every
// feature alike, then folds the scaling back into its coefficients, which stay on the raw
// scale: prediction never needs the scaling.
//
//   const ColumnScaling scaling = ColumnScaling::Fit(x, /*center=*/fit_intercept);
//   ... fit on scaling.Apply(x), giving coefficients and intercept ...
//   scaling.FoldInto(&coefficients, &intercept);
#pragma once

#include <vector>

#include "vigil/models/model.h"

namespace vigil::models_internal {

struct ColumnScaling {
  std::vector<double> mean;   // subtracted from each column (0 when not centring)
  std::vector<double> scale;  // each column is divided by it (> 0, finite)

  // With `center`: the column means and population standard deviations of `x`
  // (scikit-learn's StandardScaler, unweighted). Without (a model with no intercept could
  // not absorb the shift): mean 0 and the root mean square, so each column still has unit
  // size. A constant (or all-zero) column gets scale 1. Zero rows: mean 0, scale 1.
  static ColumnScaling Fit(const FeatureMatrix& x, bool center);

  // (x - mean) / scale, column by column. Precondition: x has mean.size() columns.
  FeatureMatrix Apply(const FeatureMatrix& x) const;

  // Coefficients w and intercept b fitted on Apply(x) to the raw scale:
  // w.(x - m)/s + b = (w/s).x + (b - sum(w m / s)).
  void FoldInto(std::vector<double>* coefficients, double* intercept) const;
};

}  // namespace vigil::models_internal
