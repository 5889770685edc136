// Conditional sum of squares for ARIMA (Box & Jenkins 1976, sec. 7.1.2), as R's ARIMA_CSS:
// the differenced series w_t is filtered by the ARMA recursion
//   e_t = w_t - sum_j phi_j w_{t-j} - sum_j theta_j e_{t-j},   t >= ncond,
// with the residuals before ncond taken as zero; the criterion is mean(e_t^2).
#include <algorithm>

#include "arima_internal.h"

namespace vigil::arima_internal {
namespace {

// Rings of recent residuals: a power of two above kMaxArmaOrder, so that a lag's slot is a
// mask (no division in the inner loops) and step t never overwrites a lag it still reads.
constexpr int kRing = 32;
static_assert(kRing > kMaxArmaOrder && (kRing & (kRing - 1)) == 0);
constexpr int Slot(int t) { return t & (kRing - 1); }

}  // namespace

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
  std::array<double, kRing> recent{};
  double ssq = 0.0;
  int64_t used = 0;
  for (int t = 0; t < std::min(ncond, n); ++t)
    if (!residuals.empty()) residuals[t] = 0.0;
  for (int t = ncond; t < n; ++t) {
    double e = w[t];
    for (int j = 0; j < p; ++j) e -= phi[j] * w[t - j - 1];
    const int lags = std::min(t - ncond, q);
    for (int j = 0; j < lags; ++j) e -= theta[j] * recent[Slot(t - j - 1)];
    recent[Slot(t)] = e;
    if (!residuals.empty()) residuals[t] = e;
    ssq += e * e;
    ++used;
  }
  return ssq / static_cast<double>(used);
}

// Differentiating the recursion gives, for each parameter c, the recursion of de_t / dc:
//   de_t/dphi_i   = -w_{t-i}               - sum_j theta_j de_{t-j}/dphi_i
//   de_t/dtheta_i = -e_{t-i}               - sum_j theta_j de_{t-j}/dtheta_i
//   de_t/dbeta    = -1 + sum_j phi_j       - sum_j theta_j de_{t-j}/dbeta
// (residuals and their derivatives before ncond are 0), and
//   d/dc 0.5 log(S / m) = sum_t e_t de_t/dc / S,   S = sum_t e_t^2.
// Written by hand: the recursion is R's, and no library differentiates it.
double ConditionalSumOfSquaresObjective(std::span<const double> w, std::span<const double> phi,
                                        std::span<const double> theta, int ncond, bool has_beta,
                                        std::span<double> gradient) {
  const int n = static_cast<int>(w.size());
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  const int k = p + q + (has_beta ? 1 : 0);
  constexpr int kMaxParams = 2 * kMaxArmaOrder + 1;
  std::array<double, kRing> recent{};
  std::array<std::array<double, kMaxParams>, kRing> recent_d{};
  std::array<double, kMaxParams> sum_ed{};
  double phi_sum = 0.0;
  for (double v : phi) phi_sum += v;
  double ssq = 0.0;
  int64_t used = 0;
  for (int t = ncond; t < n; ++t) {
    const int lags = std::min(t - ncond, q);
    double e = w[t];
    for (int j = 0; j < p; ++j) e -= phi[j] * w[t - j - 1];
    for (int j = 0; j < lags; ++j) e -= theta[j] * recent[Slot(t - j - 1)];
    std::array<double, kMaxParams>& de = recent_d[Slot(t)];
    for (int i = 0; i < p; ++i) de[i] = -w[t - i - 1];
    for (int i = 0; i < q; ++i) de[p + i] = i < lags ? -recent[Slot(t - i - 1)] : 0.0;
    if (has_beta) de[p + q] = -1.0 + phi_sum;
    for (int j = 0; j < lags; ++j) {
      const std::array<double, kMaxParams>& past = recent_d[Slot(t - j - 1)];
      for (int c = 0; c < k; ++c) de[c] -= theta[j] * past[c];
    }
    recent[Slot(t)] = e;
    for (int c = 0; c < k; ++c) sum_ed[c] += e * de[c];
    ssq += e * e;
    ++used;
  }
  for (int c = 0; c < k; ++c) gradient[c] = sum_ed[c] / ssq;
  return 0.5 * std::log(ssq / static_cast<double>(used));
}

}  // namespace vigil::arima_internal
