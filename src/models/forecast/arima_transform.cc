// Jones (1980) reparameterisation of the AR part and the root conditions of R's arima.
//
// Jones, R. H. (1980). Maximum likelihood fitting of ARMA models to time series with missing
// observations. Technometrics 22, 389-395: an AR(p) polynomial is stationary exactly when
// its partial autocorrelations lie in (-1, 1), so optimising tanh^-1 of them keeps every
// iterate stationary; the Durbin-Levinson recursion maps partial autocorrelations to AR
// coefficients.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <complex>

#include "arima_internal.h"

namespace vigil::arima_internal {
namespace {

// Roots of c0 + c1 z + ... + cm z^m (cm != 0, m >= 1) as eigenvalues of the companion
// matrix.
std::vector<std::complex<double>> PolynomialRoots(std::span<const double> coef) {
  const int degree = static_cast<int>(coef.size()) - 1;
  Eigen::MatrixXd companion = Eigen::MatrixXd::Zero(degree, degree);
  for (int i = 0; i < degree; ++i) companion(0, i) = -coef[degree - 1 - i] / coef[degree];
  for (int i = 1; i < degree; ++i) companion(i, i - 1) = 1.0;
  Eigen::EigenSolver<Eigen::MatrixXd> solver(companion, false);
  std::vector<std::complex<double>> roots(degree);
  for (int i = 0; i < degree; ++i) roots[i] = solver.eigenvalues()[i];
  return roots;
}

// Index of the last non-zero coefficient + 1 (0 when all are zero).
int EffectiveOrder(std::span<const double> coef) {
  int order = static_cast<int>(coef.size());
  while (order > 0 && coef[order - 1] == 0.0) --order;
  return order;
}

}  // namespace

void PacfToAr(std::span<const double> raw, std::span<double> ar) {
  const size_t p = raw.size();
  std::array<double, kMaxArmaOrder> work{};
  for (size_t j = 0; j < p; ++j) work[j] = ar[j] = std::tanh(raw[j]);
  // Durbin-Levinson: phi_{j,k} = phi_{j-1,k} - phi_{jj} phi_{j-1,j-k}.
  for (size_t j = 1; j < p; ++j) {
    const double pacf = ar[j];
    for (size_t k = 0; k < j; ++k) work[k] -= pacf * ar[j - k - 1];
    for (size_t k = 0; k < j; ++k) ar[k] = work[k];
  }
}

void ArToPacf(std::span<const double> ar, std::span<double> raw) {
  const size_t p = ar.size();
  std::array<double, kMaxArmaOrder> work{};
  for (size_t j = 0; j < p; ++j) work[j] = raw[j] = ar[j];
  // The Durbin-Levinson recursion run backwards.
  for (size_t j = p; j-- > 1;) {
    const double pacf = raw[j];
    for (size_t k = 0; k < j; ++k) work[k] = (raw[k] + pacf * raw[j - k - 1]) / (1.0 - pacf * pacf);
    for (size_t k = 0; k < j; ++k) raw[k] = work[k];
  }
  for (size_t j = 0; j < p; ++j) raw[j] = std::atanh(raw[j]);
}

std::vector<double> PacfToArJacobian(std::span<const double> raw) {
  // PacfToAr differentiated along its recursion (R's ARIMA_Gradtrans takes a forward
  // difference with step 1e-3 instead): row i carries d/d raw_i of every intermediate.
  const size_t p = raw.size();
  std::vector<double> jacobian(p * p, 0.0);
  std::array<double, kMaxArmaOrder> pacf{}, ar{}, next{}, dar{}, dnext{};
  for (size_t j = 0; j < p; ++j) pacf[j] = std::tanh(raw[j]);
  for (size_t i = 0; i < p; ++i) {
    std::copy_n(pacf.begin(), p, ar.begin());
    std::fill_n(dar.begin(), p, 0.0);
    dar[i] = 1.0 - pacf[i] * pacf[i];
    for (size_t j = 1; j < p; ++j) {
      // ar_k <- ar_k - pacf_j ar_{j-k-1} for k < j; ar_j is still pacf_j.
      for (size_t k = 0; k < j; ++k) {
        next[k] = ar[k] - ar[j] * ar[j - k - 1];
        dnext[k] = dar[k] - dar[j] * ar[j - k - 1] - ar[j] * dar[j - k - 1];
      }
      std::copy_n(next.begin(), j, ar.begin());
      std::copy_n(dnext.begin(), j, dar.begin());
    }
    std::copy_n(dar.begin(), p, jacobian.begin() + static_cast<std::ptrdiff_t>(i * p));
  }
  return jacobian;
}

bool IsStationaryAr(std::span<const double> ar) {
  const int p = EffectiveOrder(ar);
  if (p == 0) return true;
  std::vector<double> poly(p + 1);
  poly[0] = 1.0;
  for (int i = 0; i < p; ++i) poly[i + 1] = -ar[i];
  for (const auto& root : PolynomialRoots(poly))
    if (std::abs(root) <= 1.0) return false;
  return true;
}

std::vector<double> InvertMa(std::span<const double> ma) {
  std::vector<double> out(ma.begin(), ma.end());
  const int q0 = EffectiveOrder(ma);
  if (q0 == 0) return out;
  std::vector<double> poly(q0 + 1);
  poly[0] = 1.0;
  for (int i = 0; i < q0; ++i) poly[i + 1] = ma[i];
  std::vector<std::complex<double>> roots = PolynomialRoots(poly);
  if (std::none_of(roots.begin(), roots.end(),
                   [](const auto& root) { return std::abs(root) < 1.0; }))
    return out;
  if (q0 == 1) {
    out[0] = 1.0 / ma[0];
    return out;
  }
  for (auto& root : roots)
    if (std::abs(root) < 1.0) root = 1.0 / root;
  // Rebuild prod_k (1 - z / root_k), whose constant term is 1.
  std::vector<std::complex<double>> product{1.0};
  for (const auto& root : roots) {
    std::vector<std::complex<double>> next(product.size() + 1, 0.0);
    for (size_t i = 0; i < product.size(); ++i) {
      next[i] += product[i];
      next[i + 1] -= product[i] / root;
    }
    product = std::move(next);
  }
  for (int i = 0; i < q0; ++i) out[i] = product[i + 1].real();
  return out;
}

}  // namespace vigil::arima_internal
