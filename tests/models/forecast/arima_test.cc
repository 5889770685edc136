// Unit tests of the ARIMA phases: transformations, the Kalman likelihood against an
// independently computed multivariate-normal likelihood, CSS residuals, forecasts in closed
// form, online updates, persistence and input errors. The R comparisons on the classic
// series are in arima_r_test.cc.
#include "vigil/models/forecast/arima.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "../../../src/models/forecast/arima_internal.h"

namespace vigil {
namespace {

using namespace arima_internal;  // NOLINT(google-build-using-namespace): tests of internals

// R's datasets::Nile (annual Nile flow at Aswan, 1871-1970).
const std::vector<double> kNile = {
    1120, 1160, 963, 1210, 1160, 1160, 813,  1230, 1370, 1140, 995,  935,  1110, 994,  1020,
    960,  1180, 799, 958,  1140, 1100, 1210, 1150, 1250, 1260, 1220, 1030, 1100, 774,  840,
    874,  694,  940, 833,  701,  916,  692,  1020, 1050, 969,  831,  726,  456,  824,  702,
    1120, 1100, 832, 764,  821,  768,  845,  864,  862,  698,  845,  744,  796,  1040, 759,
    781,  865,  845, 944,  984,  897,  822,  1010, 771,  676,  649,  846,  812,  742,  801,
    1040, 860,  874, 848,  890,  744,  749,  838,  1050, 918,  986,  797,  923,  975,  815,
    1020, 906,  901, 1170, 912,  746,  919,  718,  714,  740};

// Simulates an ARMA(p, q) path w_t (after a burn-in) then integrates it d times.
std::vector<double> Simulate(const std::vector<double>& phi, const std::vector<double>& theta,
                             int d, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  const int burn = 200;
  std::vector<double> w(n + burn, 0.0), e(n + burn, 0.0);
  for (int t = 0; t < n + burn; ++t) {
    e[t] = normal(rng);
    w[t] = e[t];
    for (size_t j = 0; j < phi.size(); ++j)
      if (t > static_cast<int>(j)) w[t] += phi[j] * w[t - j - 1];
    for (size_t j = 0; j < theta.size(); ++j)
      if (t > static_cast<int>(j)) w[t] += theta[j] * e[t - j - 1];
  }
  std::vector<double> x(w.begin() + burn, w.end());
  for (int pass = 0; pass < d; ++pass)
    for (int t = 1; t < n; ++t) x[t] += x[t - 1];
  return x;
}

// Autocovariances gamma(0..n-1) of an ARMA process with unit innovation variance, from its
// psi weights (truncated far beyond the decay of the roots used here).
std::vector<double> ArmaAutocovariance(const std::vector<double>& phi,
                                       const std::vector<double>& theta, int n) {
  const int terms = 5000;
  std::vector<double> psi(terms, 0.0);
  for (int j = 0; j < terms; ++j) {
    psi[j] = j == 0 ? 1.0 : (j - 1 < static_cast<int>(theta.size()) ? theta[j - 1] : 0.0);
    for (size_t i = 0; i < phi.size(); ++i)
      if (j > static_cast<int>(i)) psi[j] += phi[i] * psi[j - i - 1];
  }
  std::vector<double> gamma(n, 0.0);
  for (int h = 0; h < n; ++h)
    for (int j = 0; j + h < terms; ++j) gamma[h] += psi[j] * psi[j + h];
  return gamma;
}

using Matrix = std::vector<std::vector<double>>;

Matrix Multiply(const Matrix& a, const Matrix& b) {
  const size_t n = a.size(), m = b[0].size(), k = b.size();
  Matrix out(n, std::vector<double>(m, 0.0));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < m; ++j)
      for (size_t l = 0; l < k; ++l) out[i][j] += a[i][l] * b[l][j];
  return out;
}

Matrix Transpose(const Matrix& a) {
  Matrix out(a[0].size(), std::vector<double>(a.size()));
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < a[0].size(); ++j) out[j][i] = a[i][j];
  return out;
}

// log det(Sigma) and x' Sigma^-1 x for the Toeplitz covariance of an ARMA process, by a
// plain Cholesky factorisation Sigma = L L'.
std::pair<double, double> DenseGaussianTerms(const std::vector<double>& x,
                                             const std::vector<double>& phi,
                                             const std::vector<double>& theta) {
  const int n = static_cast<int>(x.size());
  const std::vector<double> gamma = ArmaAutocovariance(phi, theta, n);
  Matrix l(n, std::vector<double>(n, 0.0));
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j <= i; ++j) {
      double sum = gamma[i - j];
      for (int k = 0; k < j; ++k) sum -= l[i][k] * l[j][k];
      l[i][j] = i == j ? std::sqrt(sum) : sum / l[j][j];
    }
  }
  std::vector<double> z(n);  // L z = x
  double quad = 0.0, logdet = 0.0;
  for (int i = 0; i < n; ++i) {
    double sum = x[i];
    for (int k = 0; k < i; ++k) sum -= l[i][k] * z[k];
    z[i] = sum / l[i][i];
    quad += z[i] * z[i];
    logdet += 2 * std::log(l[i][i]);
  }
  return {logdet, quad};
}

TEST(ArimaTransformTest, PacfRoundTripAndStationarity) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> uniform(-2.5, 2.5);
  for (int p = 1; p <= 6; ++p) {
    std::vector<double> raw(p), ar(p), back(p);
    for (double& v : raw) v = uniform(rng);
    PacfToAr(raw, ar);
    EXPECT_TRUE(IsStationaryAr(ar)) << "p=" << p;
    ArToPacf(ar, back);
    for (int i = 0; i < p; ++i) EXPECT_NEAR(back[i], raw[i], 1e-8) << "p=" << p << " i=" << i;
  }
}

TEST(ArimaTransformTest, JacobianMatchesClosedFormForTwoLags) {
  // ar1 = t1 (1 - t2), ar2 = t2 with t = tanh(raw).
  const std::vector<double> raw = {0.4, -0.7};
  const double t1 = std::tanh(raw[0]), t2 = std::tanh(raw[1]);
  const std::vector<double> jac = PacfToArJacobian(raw);  // row i = d/d raw_i
  EXPECT_NEAR(jac[0], (1 - t1 * t1) * (1 - t2), 1e-9);
  EXPECT_NEAR(jac[1], 0.0, 1e-9);
  EXPECT_NEAR(jac[2], -t1 * (1 - t2 * t2), 1e-9);
  EXPECT_NEAR(jac[3], 1 - t2 * t2, 1e-9);
}

TEST(ArimaTransformTest, StationarityCheckRejectsUnitAndExplosiveRoots) {
  EXPECT_TRUE(IsStationaryAr(std::vector<double>{0.5, 0.3}));
  EXPECT_FALSE(IsStationaryAr(std::vector<double>{1.0}));
  EXPECT_FALSE(IsStationaryAr(std::vector<double>{0.5, 0.6}));
  EXPECT_TRUE(IsStationaryAr(std::vector<double>{}));
}

TEST(ArimaTransformTest, InvertMaKeepsAutocorrelations) {
  EXPECT_DOUBLE_EQ(InvertMa(std::vector<double>{2.0})[0], 0.5);
  const std::vector<double> ma = {2.5, 1.2};  // roots inside the unit circle
  const std::vector<double> inv = InvertMa(ma);
  auto acf = [](const std::vector<double>& m) {
    const double g0 = 1 + m[0] * m[0] + m[1] * m[1];
    return std::pair{(m[0] + m[0] * m[1]) / g0, m[1] / g0};
  };
  EXPECT_NEAR(acf(inv).first, acf(ma).first, 1e-12);
  EXPECT_NEAR(acf(inv).second, acf(ma).second, 1e-12);
  std::vector<double> poly = {1.0, inv[0], inv[1]};
  // Invertible: the AR-style check on -ma is the root condition of 1 + ma1 z + ma2 z^2.
  EXPECT_TRUE(IsStationaryAr(std::vector<double>{-inv[0], -inv[1]}));
  const std::vector<double> invertible = {0.4, 0.2};
  EXPECT_EQ(InvertMa(invertible), invertible);
}

TEST(ArimaStateSpaceTest, StationaryCovarianceSolvesLyapunov) {
  const std::vector<double> phi = {0.6, -0.3, 0.1}, theta = {0.4, 0.25};
  auto solved = StationaryCovariance(phi, theta);
  ASSERT_TRUE(solved.ok());
  const int r = 3;
  Matrix t(r, std::vector<double>(r, 0.0)), sum(r, std::vector<double>(r, 0.0));
  for (int i = 0; i < r; ++i) t[i][0] = phi[i];
  for (int i = 0; i + 1 < r; ++i) t[i][i + 1] = 1.0;
  const std::vector<double> loading = {1.0, theta[0], theta[1]};
  Matrix term(r, std::vector<double>(r));
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < r; ++j) term[i][j] = loading[i] * loading[j];
  for (int k = 0; k < 3000; ++k) {  // P = sum_k T^k V T'^k
    for (int i = 0; i < r; ++i)
      for (int j = 0; j < r; ++j) sum[i][j] += term[i][j];
    term = Multiply(Multiply(t, term), Transpose(t));
  }
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < r; ++j) EXPECT_NEAR((*solved)[i * r + j], sum[i][j], 1e-12);
}

TEST(ArimaStateSpaceTest, KalmanLikelihoodEqualsDenseGaussian) {
  const std::vector<double> phi = {0.5, -0.3}, theta = {0.4};
  const std::vector<double> x = Simulate(phi, theta, 0, 15, 11);
  ArimaKalmanFilter filter;
  ASSERT_TRUE(filter.Reset(phi, theta, 0).ok());
  const FilterSums sums = filter.Run(x);
  const auto [logdet, quad] = DenseGaussianTerms(x, phi, theta);
  EXPECT_EQ(sums.nu, 15);
  EXPECT_NEAR(sums.sumlog, logdet, 1e-10);
  EXPECT_NEAR(sums.ssq, quad, 1e-10 * quad);
}

TEST(ArimaStateSpaceTest, DiffuseDifferencingEqualsLikelihoodOfDifferences) {
  // With d = 1 and a diffuse level the likelihood is that of the differenced series, up to
  // O(1 / kappa) from R's finite kappa = 1e6.
  const std::vector<double> phi = {0.6}, theta = {-0.3};
  const std::vector<double> x = Simulate(phi, theta, 1, 20, 5);
  std::vector<double> w(x.begin() + 1, x.end());
  for (size_t t = 0; t < w.size(); ++t) w[t] = x[t + 1] - x[t];
  ArimaKalmanFilter filter;
  ASSERT_TRUE(filter.Reset(phi, theta, 1).ok());
  const FilterSums sums = filter.Run(x);
  const auto [logdet, quad] = DenseGaussianTerms(w, phi, theta);
  EXPECT_EQ(sums.nu, 19);
  EXPECT_NEAR(sums.sumlog, logdet, 1e-4);
  EXPECT_NEAR(sums.ssq, quad, 1e-4 * quad);
}

TEST(ArimaStateSpaceTest, SteadyStateShortcutMatchesFullFilter) {
  const std::vector<double> phi = {0.5, 0.2}, theta = {0.3, -0.2};
  for (int d = 0; d <= 2; ++d) {
    const std::vector<double> x = Simulate(phi, theta, d, 3000, 3 + d);
    ArimaKalmanFilter fast, full;
    ASSERT_TRUE(fast.Reset(phi, theta, d).ok());
    ASSERT_TRUE(full.Reset(phi, theta, d).ok());
    full.set_steady_state_enabled(false);
    std::vector<double> fast_resid(x.size()), full_resid(x.size());
    const FilterSums a = fast.Run(x, fast_resid), b = full.Run(x, full_resid);
    EXPECT_TRUE(fast.steady()) << "d=" << d;
    EXPECT_NEAR(a.ssq, b.ssq, 1e-12 * b.ssq) << "d=" << d;
    // Per-step gains agree to ~1e-15 relative; their logs are summed over 3000 steps.
    EXPECT_NEAR(a.sumlog, b.sumlog, 1e-13 * static_cast<double>(x.size())) << "d=" << d;
    for (size_t t = 0; t < x.size(); t += 97)
      EXPECT_NEAR(fast_resid[t], full_resid[t], 1e-9 * (1 + std::abs(full_resid[t])));
  }
}

TEST(ArimaCssTest, ResidualsFollowTheArmaRecursionAfterDifferencing) {
  const std::vector<double> y = {1.0, 2.5, 2.0, 3.5, 3.0, 4.2, 5.1, 4.8};
  std::vector<double> w = y;
  DifferenceInPlace(w, 1);
  const double phi = 0.4, theta = -0.3;
  std::vector<double> resid(y.size());
  const double mean_square =
      ConditionalSumOfSquares(w, std::vector<double>{phi}, std::vector<double>{theta}, 2, resid);
  // ncond = d + p = 2: residuals 0, 0, then e_t = w_t - phi w_{t-1} - theta e_{t-1}.
  std::vector<double> expected(y.size(), 0.0);
  double ssq = 0.0;
  for (size_t t = 2; t < y.size(); ++t) {
    const double wt = y[t] - y[t - 1], wt1 = y[t - 1] - y[t - 2];
    expected[t] = wt - phi * wt1 - (t > 2 ? theta * expected[t - 1] : 0.0);
    ssq += expected[t] * expected[t];
  }
  for (size_t t = 0; t < y.size(); ++t) EXPECT_NEAR(resid[t], expected[t], 1e-14);
  EXPECT_NEAR(mean_square, ssq / 6.0, 1e-14);
}

ArimaOptions Options(int p, int d, int q, ArimaMethod method = ArimaMethod::kCssMl,
                     bool constant = true) {
  ArimaOptions options;
  options.order = {p, d, q};
  options.method = method;
  options.include_constant = constant;
  return options;
}

TEST(ArimaModelTest, ArOneForecastHasClosedForm) {
  const double phi = 0.6, mu = 900.0;
  const std::vector<double> coef = {phi, mu};
  auto model = ArimaModel::FromCoefficients(kNile, Options(1, 0, 0, ArimaMethod::kMl), coef);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto path = model->Forecast(5, std::vector<double>{0.95});
  ASSERT_TRUE(path.ok());
  const double sigma2 = model->fit().sigma2;
  for (int h = 1; h <= 5; ++h) {
    const double mean = mu + std::pow(phi, h) * (kNile.back() - mu);
    const double var = sigma2 * (1 - std::pow(phi, 2 * h)) / (1 - phi * phi);
    EXPECT_NEAR(path->mean[h - 1], mean, 1e-9 * mu);
    EXPECT_NEAR(path->se[h - 1], std::sqrt(var), 1e-9 * std::sqrt(var));
    EXPECT_NEAR(path->upper[0][h - 1] - path->mean[h - 1], 1.959963984540054 * path->se[h - 1],
                1e-9 * path->se[h - 1]);
  }
}

TEST(ArimaModelTest, AppendEqualsRefilteringTheWholeSeries) {
  for (int d = 0; d <= 1; ++d) {
    const ArimaOptions options = Options(1, d, 1);
    const std::span<const double> head(kNile.data(), 70);
    auto model = ArimaModel::Fit(head, options);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ASSERT_TRUE(model->Append(std::span(kNile).subspan(70, 13)).ok());
    ASSERT_TRUE(model->Append(std::span(kNile).subspan(83)).ok());
    EXPECT_EQ(model->size(), 100);
    auto refiltered = ArimaModel::FromCoefficients(kNile, options, model->fit().coefficients);
    ASSERT_TRUE(refiltered.ok());
    auto a = model->Forecast(8), b = refiltered->Forecast(8);
    ASSERT_TRUE(a.ok() && b.ok());
    for (int h = 0; h < 8; ++h) {
      EXPECT_NEAR(a->mean[h], b->mean[h], 1e-10 * std::abs(b->mean[h])) << "d=" << d;
      EXPECT_NEAR(a->se[h], b->se[h] * std::sqrt(model->fit().sigma2 / refiltered->fit().sigma2),
                  1e-10 * b->se[h]);
    }
  }
}

TEST(ArimaModelTest, MatchesRNileArima111) {
  // Rscript -e 'f <- arima(Nile, order = c(1,1,1), method = "ML"); print(f$loglik,
  //   digits = 17); print(coef(f), digits = 17); print(predict(f, 3)$se, digits = 17)'
  auto model = ArimaModel::Fit(kNile, Options(1, 1, 1, ArimaMethod::kMl, false));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const ArimaFit& fit = model->fit();
  EXPECT_GE(fit.loglik, -630.62738177655922 - 1e-9);
  EXPECT_NEAR(fit.loglik, -630.62738177655922, 1e-6 * 630.6);
  EXPECT_NEAR(fit.Coefficient("ar1"), 0.25436959910466117, 1e-4);
  EXPECT_NEAR(fit.Coefficient("ma1"), -0.87413511031271585, 1e-4);
  EXPECT_NEAR(fit.aic, 1267.255, 1e-3);  // print(f$aic)
  auto path = model->Forecast(1);
  ASSERT_TRUE(path.ok());
  EXPECT_NEAR(path->mean[0], 816.18116647978286, 1e-4 * 816.2);
  EXPECT_NEAR(path->se[0], 140.60330313405294, 1e-4 * 140.6);
}

TEST(ArimaModelTest, CssMethodReportsConditionalSigmaAndNoAic) {
  auto model = ArimaModel::Fit(kNile, Options(1, 1, 1, ArimaMethod::kCss, false));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const ArimaFit& fit = model->fit();
  EXPECT_TRUE(std::isnan(fit.aic) && std::isnan(fit.aicc) && std::isnan(fit.bic));
  // sigma2 is the mean squared conditional residual (ncond = d + p = 2 leading zeros).
  double ssq = 0.0;
  for (size_t t = 2; t < kNile.size(); ++t) ssq += fit.residuals[t] * fit.residuals[t];
  EXPECT_EQ(fit.residuals[0], 0.0);
  EXPECT_NEAR(fit.sigma2, ssq / 98.0, 1e-9 * fit.sigma2);
  const double n = 99.0;  // n.used = n - d
  EXPECT_NEAR(fit.loglik,
              -0.5 * (n * std::log(fit.sigma2) + n + n * std::log(2 * std::numbers::pi)),
              1e-9 * std::abs(fit.loglik));
}

TEST(ArimaModelTest, RejectsNonFiniteInputNamingTheIndex) {
  std::vector<double> y = kNile;
  y[5] = std::nan("");
  auto model = ArimaModel::Fit(y, Options(1, 0, 0));
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("5"), std::string::npos);
  auto fitted = ArimaModel::Fit(kNile, Options(1, 0, 0));
  ASSERT_TRUE(fitted.ok());
  const std::vector<double> bad = {1.0, INFINITY};
  EXPECT_EQ(fitted->Append(bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fitted->size(), 100);
  EXPECT_FALSE(fitted->Forecast(0).ok());
  EXPECT_FALSE(fitted->Forecast(3, std::vector<double>{1.5}).ok());
}

TEST(ArimaModelTest, RejectsBadOptionsAndShortSeries) {
  EXPECT_EQ(Options(21, 0, 0).Validate().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Options(0, 3, 0).Validate().code(), StatusCode::kInvalidArgument);
  ArimaOptions options = Options(1, 0, 0);
  options.gradient_tolerance = 0.0;
  EXPECT_FALSE(options.Validate().ok());
  const std::vector<double> tiny = {1.0, 2.0, 3.0};
  EXPECT_EQ(ArimaModel::Fit(tiny, Options(2, 0, 1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ArimaModel().fitted());
  EXPECT_FALSE(ArimaModel().Forecast(1).ok());
}

TEST(ArimaModelTest, JsonRoundTripKeepsForecastsAndUpdates) {
  for (ArimaMethod method : {ArimaMethod::kCssMl, ArimaMethod::kCss}) {
    auto model = ArimaModel::Fit(std::span(kNile).first(90), Options(1, 1, 1, method));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto restored = ArimaModel::FromJson(nlohmann::json::parse(model->ToJson().dump()));
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    EXPECT_EQ(restored->fit().coefficients, model->fit().coefficients);
    EXPECT_EQ(std::isnan(restored->fit().aic), std::isnan(model->fit().aic));
    ASSERT_TRUE(model->Append(std::span(kNile).subspan(90)).ok());
    ASSERT_TRUE(restored->Append(std::span(kNile).subspan(90)).ok());
    auto a = model->Forecast(5), b = restored->Forecast(5);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->mean, b->mean);
    EXPECT_EQ(a->se, b->se);
  }
}

TEST(ArimaModelTest, FromJsonNamesTheBadField) {
  auto model = ArimaModel::Fit(kNile, Options(1, 0, 1));
  ASSERT_TRUE(model.ok());
  nlohmann::json json = model->ToJson();
  json["fit"]["coefficients"][0] = "x";
  auto bad = ArimaModel::FromJson(json);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataError);
  EXPECT_NE(bad.status().message().find("coefficients"), std::string::npos);
  json = model->ToJson();
  json["state"]["a"].push_back(1.0);
  bad = ArimaModel::FromJson(json);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'a'"), std::string::npos);
  json = model->ToJson();
  json["options"]["order"][0] = 2;
  EXPECT_EQ(ArimaModel::FromJson(json).status().code(), StatusCode::kDataError);
}

}  // namespace
}  // namespace vigil
