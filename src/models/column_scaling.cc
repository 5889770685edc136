#include "models/column_scaling.h"

#include <cmath>
#include <span>

namespace vigil::models_internal {

ColumnScaling ColumnScaling::Fit(const FeatureMatrix& x, bool center) {
  const size_t d = x.cols();
  ColumnScaling scaling{std::vector<double>(d, 0.0), std::vector<double>(d, 1.0)};
  if (x.rows == 0) return scaling;
  const double n = static_cast<double>(x.rows);
  // Row-major passes over the row-major matrix (cache-friendly); each column's sums still
  // run over the rows in order, so the results are those of a per-column loop exactly.
  std::vector<double> sums(d, 0.0);
  for (int64_t row = 0; row < x.rows; ++row) {
    const std::span<const double> values = x.row(row);
    for (size_t col = 0; col < d; ++col) sums[col] += values[col];
  }
  std::vector<double> means(d);
  for (size_t col = 0; col < d; ++col) means[col] = sums[col] / n;
  std::vector<double> squares(d, 0.0);
  for (int64_t row = 0; row < x.rows; ++row) {
    const std::span<const double> values = x.row(row);
    for (size_t col = 0; col < d; ++col) {
      const double deviation = values[col] - means[col];
      squares[col] += deviation * deviation;
    }
  }
  for (size_t col = 0; col < d; ++col) {
    const double sd = std::sqrt(squares[col] / n);
    scaling.mean[col] = center ? means[col] : 0.0;
    const double rms = std::sqrt(squares[col] / n + means[col] * means[col]);
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
