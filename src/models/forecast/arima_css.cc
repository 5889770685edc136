// Conditional sum of squares for ARIMA (Box & Jenkins 1976, sec. 7.1.2), as R's ARIMA_CSS:
// the differenced series w_t is filtered by the ARMA recursion
//   e_t = w_t - sum_j phi_j w_{t-j} - sum_j theta_j e_{t-j},   t >= ncond,
// with the residuals before ncond taken as zero; the criterion is mean(e_t^2).
#include <algorithm>

#include "arima_internal.h"

namespace vigil::arima_internal {

void DifferenceInPlace(std::span<double> x, int d) {
  for (int pass = 0; pass < d; ++pass)
    for (size_t t = x.size(); t-- > 1;) x[t] -= x[t - 1];
}

double ConditionalSumOfSquares(std::span<const double> w, std::span<const double> phi,
                               std::span<const double> theta, int ncond,
                               std::span<double> residuals) {
  const int n = static_cast<int>(w.size());
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  // A ring of the last q residuals keeps the recursion allocation-free when `residuals`
  // is not requested.
  std::array<double, kMaxArmaOrder> recent{};
  double ssq = 0.0;
  int64_t used = 0;
  for (int t = 0; t < std::min(ncond, n); ++t)
    if (!residuals.empty()) residuals[t] = 0.0;
  for (int t = ncond; t < n; ++t) {
    double e = w[t];
    for (int j = 0; j < p; ++j) e -= phi[j] * w[t - j - 1];
    const int lags = std::min(t - ncond, q);
    for (int j = 0; j < lags; ++j) e -= theta[j] * recent[(t - j - 1) % kMaxArmaOrder];
    recent[t % kMaxArmaOrder] = e;
    if (!residuals.empty()) residuals[t] = e;
    ssq += e * e;
    ++used;
  }
  return ssq / static_cast<double>(used);
}

}  // namespace vigil::arima_internal
