// The exact likelihood's gradient (arima_likelihood_gradient.cc) against central differences
// of the value the Kalman filter computes, on stationary and differenced models with and
// without a regression term, short series (the covariance never settles) and long ones (the
// steady loop runs), and an MA part outside the invertible region. Also: the value has the
// filter's bits, the derivatives of Q0 match differences of Gardner's solution, and the
// transformation's Jacobian matches differences of PacfToAr.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <random>
#include <vector>

#include "../../../src/models/forecast/arima_internal.h"

namespace vigil::arima_internal {
namespace {

struct GradientCase {
  int p, q, d;
  bool has_beta;
  int n;
  std::vector<double> params;  // phi, theta, beta (untransformed)
};

void PrintTo(const GradientCase& c, std::ostream* os) {
  *os << "ARIMA(" << c.p << "," << c.d << "," << c.q << ")" << (c.has_beta ? "+beta" : "")
      << " n=" << c.n;
}

std::vector<double> Regressor(int d, size_t n) {
  std::vector<double> out(n);
  for (size_t t = 0; t < n; ++t) out[t] = d == 0 ? 1.0 : static_cast<double>(t + 1);
  return out;
}

std::vector<double> Series(const GradientCase& c) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> y(c.n);
  double level = 10.0, previous = 0.0, shock = 0.0;
  for (double& v : y) {
    const double e = noise(rng);
    previous = 0.6 * previous + e + 0.3 * shock;  // an ARMA(1,1) around which to wander
    shock = e;
    level += 0.3 + previous;
    v = c.d == 0 ? 5.0 + previous : (c.d == 1 ? level : level + 0.01 * v);
  }
  if (c.d == 2)
    for (size_t t = 1; t < y.size(); ++t) y[t] += y[t - 1];
  return y;
}

// The objective as arima_fit.cc's MlObjective computes it, by ArimaKalmanFilter::Run.
double FilterObjective(const GradientCase& c, const std::vector<double>& y,
                       const std::vector<double>& params) {
  std::span<const double> all(params);
  ArimaKalmanFilter filter;
  if (!filter.Reset(all.first(c.p), all.subspan(c.p, c.q), c.d).ok())
    return std::numeric_limits<double>::infinity();
  std::vector<double> x = y;
  if (c.has_beta) {
    const std::vector<double> reg = Regressor(c.d, y.size());
    for (size_t t = 0; t < x.size(); ++t) x[t] -= params.back() * reg[t];
  }
  const FilterSums sums = filter.Run(x);
  const double nu = static_cast<double>(sums.nu);
  return 0.5 * (std::log(sums.ssq / nu) + sums.sumlog / nu);
}

double GradientObjective(const GradientCase& c, const std::vector<double>& y,
                         const std::vector<double>& params, std::vector<double>& gradient) {
  std::span<const double> all(params);
  std::vector<double> x = y, reg;
  if (c.has_beta) {
    reg = Regressor(c.d, y.size());
    for (size_t t = 0; t < x.size(); ++t) x[t] -= params.back() * reg[t];
  }
  ArimaKalmanFilter filter;
  ArimaLikelihoodGradient likelihood;
  gradient.assign(params.size(), 0.0);
  return likelihood.Evaluate(filter, all.first(c.p), all.subspan(c.p, c.q), c.d, x, reg, gradient);
}

class LikelihoodGradientTest : public ::testing::TestWithParam<GradientCase> {};

TEST_P(LikelihoodGradientTest, MatchesCentralDifferencesAndTheFilterValue) {
  const GradientCase& c = GetParam();
  const std::vector<double> y = Series(c);
  std::vector<double> gradient;
  const double value = GradientObjective(c, y, c.params, gradient);
  ASSERT_TRUE(std::isfinite(value));
  EXPECT_EQ(value, FilterObjective(c, y, c.params));  // the same bits
  for (size_t i = 0; i < c.params.size(); ++i) {
    // Fourth-order central difference: truncation ~h^4, rounding ~1e-16 / h.
    const double h = 1e-3 * std::max(1.0, std::abs(c.params[i]));
    auto at = [&](double shift) {
      std::vector<double> moved = c.params;
      moved[i] += shift;
      return FilterObjective(c, y, moved);
    };
    const double numeric = (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h);
    EXPECT_NEAR(gradient[i], numeric, 2e-8 * std::max(1.0, std::abs(numeric))) << "parameter " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Orders, LikelihoodGradientTest,
    ::testing::Values(GradientCase{1, 0, 0, true, 300, {0.5, 5.1}},
                      GradientCase{0, 1, 0, true, 300, {0.4, 4.8}},
                      GradientCase{2, 1, 0, true, 40, {0.3, -0.2, 0.5, 5.0}},
                      GradientCase{1, 1, 1, true, 500, {0.5, 0.25, 0.3}},
                      GradientCase{2, 2, 1, true, 200, {0.3, 0.1, -0.5, 0.2, 0.35}},
                      GradientCase{1, 1, 1, false, 150, {0.4, 1.3}},  // non-invertible MA
                      GradientCase{0, 2, 2, false, 120, {-0.5, -0.3}},
                      GradientCase{3, 3, 0, true, 400, {0.2, 0.1, -0.1, 0.3, -0.2, 0.1, 5.0}},
                      GradientCase{0, 0, 1, true, 100, {0.3}},
                      GradientCase{0, 1, 1, false, 300, {-0.97}}));  // slow to settle

TEST(StationaryCovarianceTest, DerivativesMatchDifferencesOfTheSolution) {
  const std::vector<double> phi = {0.5, -0.3, 0.2}, theta = {0.4, 0.25, -0.1, 0.3};
  std::vector<double> derivatives;
  ASSERT_TRUE(StationaryCovariance(phi, theta, false, &derivatives).ok());
  const size_t cells = 25;  // r = max(p, q + 1) = 5
  ASSERT_EQ(derivatives.size(), (phi.size() + theta.size()) * cells);
  const double h = 1e-6;
  for (size_t m = 0; m < phi.size() + theta.size(); ++m) {
    std::vector<double> phi_up = phi, phi_down = phi, theta_up = theta, theta_down = theta;
    if (m < phi.size()) {
      phi_up[m] += h;
      phi_down[m] -= h;
    } else {
      theta_up[m - phi.size()] += h;
      theta_down[m - phi.size()] -= h;
    }
    const std::vector<double> up = *StationaryCovariance(phi_up, theta_up);
    const std::vector<double> down = *StationaryCovariance(phi_down, theta_down);
    for (size_t c = 0; c < cells; ++c)
      EXPECT_NEAR(derivatives[m * cells + c], (up[c] - down[c]) / (2 * h), 1e-7)
          << "parameter " << m << " cell " << c;
  }
}

TEST(ArimaTransformTest, JacobianMatchesDifferencesOfPacfToAr) {
  const std::vector<double> raw = {0.4, -0.7, 1.1, -0.2, 0.3};
  const size_t p = raw.size();
  const std::vector<double> jacobian = PacfToArJacobian(raw);
  const double h = 1e-6;
  for (size_t i = 0; i < p; ++i) {
    std::vector<double> up = raw, down = raw, ar_up(p), ar_down(p);
    up[i] += h;
    down[i] -= h;
    PacfToAr(up, ar_up);
    PacfToAr(down, ar_down);
    for (size_t j = 0; j < p; ++j)
      EXPECT_NEAR(jacobian[i * p + j], (ar_up[j] - ar_down[j]) / (2 * h), 1e-9)
          << "row " << i << " column " << j;
  }
}

}  // namespace
}  // namespace vigil::arima_internal
