// Conditional sum of squares for ARIMA (Box & Jenkins 1976, sec. 7.1.2), as R's ARIMA_CSS:
// the differenced series w_t is filtered by the ARMA recursion
//   e_t = w_t - sum_j phi_j w_{t-j} - sum_j theta_j e_{t-j},   t >= ncond,
// with the residuals before ncond taken as zero; the criterion is mean(e_t^2).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

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
    for (int j = lags; j-- > 0;) e -= theta[j] * recent[Slot(t - j - 1)];
    recent[Slot(t)] = e;
    if (!residuals.empty()) residuals[t] = e;
    ssq += e * e;
    ++used;
  }
  return ssq / static_cast<double>(used);
}

namespace {

// ConditionalSumOfSquares for the points of one batch, stepped together: the independent
// recursions overlap in the pipeline. Each point's arithmetic is ConditionalSumOfSquares',
// operation for operation (the same bits).
void CssInterleaved(const CssPoint* batch, int count, int n, int p, int q, int ncond,
                    double* mean_squares) {
  constexpr int kBatch = 8;
  std::array<std::array<double, kRing>, kBatch> recent{};
  std::array<double, kBatch> ssq{};
  for (int t = ncond; t < n; ++t) {
    const int lags = std::min(t - ncond, q);
    for (int b = 0; b < count; ++b) {
      const double* w = batch[b].w;
      double e = w[t];
      for (int j = 0; j < p; ++j) e -= batch[b].phi[j] * w[t - j - 1];
      for (int j = lags; j-- > 0;) e -= batch[b].theta[j] * recent[b][Slot(t - j - 1)];
      recent[b][Slot(t)] = e;
      ssq[b] += e * e;
    }
  }
  for (int b = 0; b < count; ++b) mean_squares[b] = ssq[b] / static_cast<double>(n - ncond);
}

// The same with p, q and the number of points fixed at compile time, for the low orders most
// fits use: the loops unroll and each point's last q residuals stay in registers, so a step
// no longer waits for its previous residual to travel through memory.
template <int kP, int kQ, int kLanes>
void CssInterleavedFixed(const CssPoint* batch, int n, int ncond, double* mean_squares) {
  std::array<std::array<double, kQ + 1>, kLanes> last{};  // last[b][j] = e_{t-1-j}
  std::array<double, kLanes> ssq{};
  for (int t = ncond; t < n; ++t) {
    const int lags = std::min(t - ncond, kQ);
    for (int b = 0; b < kLanes; ++b) {
      const double* w = batch[b].w;
      double e = w[t];
      for (int j = 0; j < kP; ++j) e -= batch[b].phi[j] * w[t - j - 1];
      for (int j = kQ; j-- > 0;)
        if (j < lags) e -= batch[b].theta[j] * last[b][j];
      for (int j = kQ; j-- > 1;) last[b][j] = last[b][j - 1];
      last[b][0] = e;
      ssq[b] += e * e;
    }
  }
  for (int b = 0; b < kLanes; ++b) mean_squares[b] = ssq[b] / static_cast<double>(n - ncond);
}

// Calls body(p, q) with p <= 3 and q <= 2 as std::integral_constant; false for other orders.
template <typename Body>
bool WithFixedOrder(int p, int q, Body&& body) {
  using std::integral_constant;
  if (p < 0 || p > 3 || q < 0 || q > 2) return false;
  auto with_q = [&](auto fixed_p) {
    switch (q) {
      case 0:
        body(fixed_p, integral_constant<int, 0>{});
        break;
      case 1:
        body(fixed_p, integral_constant<int, 1>{});
        break;
      default:
        body(fixed_p, integral_constant<int, 2>{});
        break;
    }
  };
  switch (p) {
    case 0:
      with_q(integral_constant<int, 0>{});
      break;
    case 1:
      with_q(integral_constant<int, 1>{});
      break;
    case 2:
      with_q(integral_constant<int, 2>{});
      break;
    default:
      with_q(integral_constant<int, 3>{});
      break;
  }
  return true;
}

}  // namespace

void ConditionalSumOfSquaresBatch(std::span<const CssPoint> points, int n, int p, int q, int ncond,
                                  std::span<double> mean_squares) {
  if (ncond >= n) {  // no residual enters: 0 / 0, as ConditionalSumOfSquares
    std::fill(mean_squares.begin(), mean_squares.end(), std::numeric_limits<double>::quiet_NaN());
    return;
  }
  // Lanes of four points (a batch of 8 lanes would spill the registers), one lane for a single
  // point; a group of two or three is padded with copies of its last point.
  const bool fixed = WithFixedOrder(p, q, [&](auto fixed_p, auto fixed_q) {
    constexpr int kP = decltype(fixed_p)::value, kQ = decltype(fixed_q)::value;
    for (size_t first = 0; first < points.size(); first += 4) {
      const size_t count = std::min<size_t>(4, points.size() - first);
      if (count == 1) {
        CssInterleavedFixed<kP, kQ, 1>(points.data() + first, n, ncond, &mean_squares[first]);
        continue;
      }
      std::array<CssPoint, 4> group;
      std::array<double, 4> values;
      for (size_t b = 0; b < 4; ++b) group[b] = points[first + std::min(b, count - 1)];
      CssInterleavedFixed<kP, kQ, 4>(group.data(), n, ncond, values.data());
      std::copy_n(values.begin(), count, mean_squares.begin() + first);
    }
  });
  if (fixed) return;
  // Otherwise in equal batches of up to 8 (10 points as 5 + 5, not 8 + 2: a short batch is
  // latency-bound).
  constexpr size_t kBatch = 8;
  const size_t batches = (points.size() + kBatch - 1) / kBatch;
  const size_t size = batches == 0 ? 0 : (points.size() + batches - 1) / batches;
  for (size_t first = 0; first < points.size(); first += size) {
    const int count = static_cast<int>(std::min(size, points.size() - first));
    CssInterleaved(points.data() + first, count, n, p, q, ncond, &mean_squares[first]);
  }
}

// The gradient by reverse accumulation (the adjoint of the recursion): with e_s = 0 before
// ncond, e_t depends on e_{t-j} through -theta_j, so the sensitivities
//   mu_t = e_t - sum_j theta_j mu_{t+j}        (mu_t = 0.5 dS / de_t, S = sum_t e_t^2)
// run backwards from the end, and then, summing over t >= ncond,
//   dS/dphi_i   / 2 = -sum_t mu_t w_{t-i}
//   dS/dtheta_i / 2 = -sum_t mu_t e_{t-i}
//   dS/dbeta    / 2 = sum_t mu_t (-1 + sum_j phi_j)   (dw_t / dbeta = -1),
// and d/dc 0.5 log(S / m) = (dS/dc / 2) / S. One backward pass costs about what the forward
// pass costs, whatever the number of parameters (the forward-mode tangents cost q per
// parameter and step). Written by hand: the recursion is R's, and no library differentiates
// it.
double ConditionalSumOfSquaresObjective(std::span<const double> w, std::span<const double> phi,
                                        std::span<const double> theta, int ncond, bool has_beta,
                                        std::span<double> gradient) {
  const int n = static_cast<int>(w.size());
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  const int start = std::min(ncond, n);
  // e_t at e[t - start + q]: q zeros stand for the residuals before ncond.
  std::vector<double> residuals(static_cast<size_t>(n - start + q), 0.0);
  double* e = residuals.data();
  const int shift = q - start;
  double ssq = 0.0;
  for (int t = start; t < n; ++t) {
    double value = w[t];
    for (int j = 0; j < p; ++j) value -= phi[j] * w[t - j - 1];
    for (int j = q; j-- > 0;) value -= theta[j] * e[shift + t - j - 1];
    e[shift + t] = value;
    ssq += value * value;
  }
  const int64_t used = n - start;
  std::array<double, kRing> later{};  // mu_{t+1..t+q}
  std::array<double, kMaxParams> sums{};
  double mu_sum = 0.0;
  for (int t = n - 1; t >= start; --t) {
    double mu = e[shift + t];
    for (int j = q; j-- > 0;) mu -= theta[j] * later[Slot(t + j + 1)];
    later[Slot(t)] = mu;
    for (int i = 0; i < p; ++i) sums[i] -= mu * w[t - i - 1];
    for (int i = 0; i < q; ++i) sums[p + i] -= mu * e[shift + t - i - 1];
    mu_sum += mu;
  }
  double phi_sum = 0.0;
  for (double v : phi) phi_sum += v;
  for (int c = 0; c < p + q; ++c) gradient[c] = sums[c] / ssq;
  if (has_beta) gradient[p + q] = mu_sum * (-1.0 + phi_sum) / ssq;
  return 0.5 * std::log(ssq / static_cast<double>(used));
}

}  // namespace vigil::arima_internal
