#include "models/column_scaling.h"

#include <cmath>

namespace vigil::models_internal {

ColumnScaling ColumnScaling::Fit(const FeatureMatrix& x, bool center) {
  const size_t d = x.cols();
  ColumnScaling scaling{std::vector<double>(d, 0.0), std::vector<double>(d, 1.0)};
  if (x.rows == 0) return scaling;
  const double n = static_cast<double>(x.rows);
  for (size_t col = 0; col < d; ++col) {
    double sum = 0;
    for (int64_t row = 0; row < x.rows; ++row) sum += x.at(row, col);
    const double mean = sum / n;
    double squares = 0;
    for (int64_t row = 0; row < x.rows; ++row) {
      squares += (x.at(row, col) - mean) * (x.at(row, col) - mean);
    }
    const double sd = std::sqrt(squares / n);
    scaling.mean[col] = center ? mean : 0.0;
    const double rms = std::sqrt(squares / n + mean * mean);
    const double size = center ? sd : rms;
    scaling.scale[col] = size > 0 && std::isfinite(size) ? size : 1.0;
  }
  return scaling;
}

FeatureMatrix ColumnScaling::Apply(const FeatureMatrix& x) const {
  FeatureMatrix out = x;
  const size_t d = x.cols();
  for (int64_t row = 0; row < x.rows; ++row) {
    for (size_t col = 0; col < d; ++col) {
      double& value = out.values[row * d + col];
      value = (value - mean[col]) / scale[col];
    }
  }
  return out;
}

void ColumnScaling::FoldInto(std::vector<double>* coefficients, double* intercept) const {
  for (size_t col = 0; col < coefficients->size(); ++col) {
    (*coefficients)[col] /= scale[col];
    *intercept -= (*coefficients)[col] * mean[col];
  }
}

}  // namespace vigil::models_internal
