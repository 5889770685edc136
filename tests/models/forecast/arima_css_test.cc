// The conditional-sum-of-squares objective's exact gradient (arima_css.cc) against central
// differences of the same objective, with and without a regression term, including MA
// parts outside the invertible region (R's CSS does not restrict them).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "../../../src/models/forecast/arima_internal.h"

namespace vigil::arima_internal {
namespace {

// w = diff^d(y - beta * regressor) as the fit builds it (the regressor differences to 1).
std::vector<double> Differenced(const std::vector<double>& y, double beta, int d) {
  std::vector<double> x(y.size());
  for (size_t t = 0; t < y.size(); ++t) x[t] = y[t] - beta * (d == 0 ? 1.0 : t + 1.0);
  DifferenceInPlace(x, d);
  return x;
}

double Objective(const std::vector<double>& y, const std::vector<double>& params, int p, int q,
                 int d, bool has_beta, std::vector<double>* gradient) {
  const std::vector<double> w = Differenced(y, has_beta ? params.back() : 0.0, d);
  std::span<const double> all(params);
  std::vector<double> unused(params.size());
  return ConditionalSumOfSquaresObjective(w, all.first(p), all.subspan(p, q), d + p, has_beta,
                                          gradient ? std::span<double>(*gradient) : unused);
}

struct GradientCase {
  int p, q, d;
  bool has_beta;
  std::vector<double> params;
};

class CssGradientTest : public ::testing::TestWithParam<GradientCase> {};

TEST_P(CssGradientTest, MatchesCentralDifferences) {
  const GradientCase& c = GetParam();
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> y(300);
  double level = 10.0;
  for (double& v : y) {
    level += 0.3 + noise(rng);               // a random walk with drift when d > 0,
    v = c.d > 0 ? level : 5.0 + noise(rng);  // white noise around 5 when d == 0
  }
  std::vector<double> gradient(c.params.size());
  const double value = Objective(y, c.params, c.p, c.q, c.d, c.has_beta, &gradient);
  ASSERT_TRUE(std::isfinite(value));
  for (size_t i = 0; i < c.params.size(); ++i) {
    const double h = 1e-6;
    std::vector<double> up = c.params, down = c.params;
    up[i] += h;
    down[i] -= h;
    const double numeric = (Objective(y, up, c.p, c.q, c.d, c.has_beta, nullptr) -
                            Objective(y, down, c.p, c.q, c.d, c.has_beta, nullptr)) /
                           (2 * h);
    EXPECT_NEAR(gradient[i], numeric, 1e-6 * std::max(1.0, std::abs(numeric))) << "param " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Orders, CssGradientTest,
    ::testing::Values(GradientCase{1, 0, 0, true, {0.5, 5.1}},
                      GradientCase{0, 1, 0, true, {0.4, 4.8}},
                      GradientCase{2, 1, 0, true, {0.3, -0.2, 0.5, 5.0}},
                      GradientCase{1, 1, 1, true, {0.2, -0.4, 0.25}},
                      GradientCase{2, 2, 1, true, {0.3, 0.1, -0.5, 0.2, 0.35}},
                      GradientCase{1, 1, 1, false, {-0.6, 1.06}},  // non-invertible MA
                      GradientCase{0, 2, 2, false, {-0.5, -0.55}},
                      GradientCase{3, 3, 0, false, {0.2, 0.1, -0.1, 0.3, -0.2, 0.1}}));

// Low orders (p <= 3, q <= 2) run in compiled lanes of four, padded when a group is short;
// higher orders in interleaved batches of up to 8. Every batch size from 1 to 11 and both
// paths must give each point the bits of its own evaluation.
TEST(CssBatchTest, EachPointHasTheBitsOfItsOwnEvaluation) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0.0, 1.0);
  const int n = 200;
  std::vector<std::vector<double>> series(3, std::vector<double>(n));
  for (auto& w : series)
    for (double& v : w) v = noise(rng);
  const std::vector<std::pair<int, int>> orders = {{2, 2}, {3, 1}, {0, 1}, {1, 0},
                                                   {0, 0}, {3, 2}, {4, 3}, {1, 5}};
  for (const auto& [p, q] : orders) {
    const int ncond = p + 1;  // d = 1
    // Some MA parts non-invertible.
    std::vector<std::vector<double>> coefficients;
    for (int i = 0; i < 11; ++i) {
      std::vector<double> c;
      for (int j = 0; j < p; ++j) c.push_back(0.1 * i - 0.5 + 0.05 * j);
      for (int j = 0; j < q; ++j) c.push_back(0.3 * i - 1.2 + 0.1 * j);
      coefficients.push_back(c);
    }
    for (size_t count = 1; count <= coefficients.size(); ++count) {
      std::vector<CssPoint> points;
      for (size_t i = 0; i < count; ++i) {
        const double* c = coefficients[i].data();
        points.push_back({series[i % 3].data(), c, c + p});
      }
      std::vector<double> batch(points.size());
      ConditionalSumOfSquaresBatch(points, n, p, q, ncond, batch);
      for (size_t i = 0; i < points.size(); ++i) {
        std::span<const double> c(coefficients[i]);
        const double alone =
            ConditionalSumOfSquares(series[i % 3], c.first(p), c.subspan(p, q), ncond);
        EXPECT_EQ(batch[i], alone)
            << "ARMA(" << p << "," << q << "), " << count << " points, point " << i;
      }
    }
  }
}

}  // namespace
}  // namespace vigil::arima_internal
