// GARCH family: likelihood, gradient and estimation (forecasts, VaR / ES, Append, JSON and
// errors are in garch_forecast_test.cc). Hand-checked fGarch numbers use dem2gbp's first 250
// returns (garch_test_support.h); the full series and the crypto fixtures are in
// garch_r_test.cc.
#include "vigil/models/forecast/garch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "models/forecast/garch_distribution.h"
#include "models/forecast/garch_likelihood.h"
#include "models/forecast/garch_test_support.h"

namespace vigil {
namespace {

namespace gi = garch_internal;
using garch_test::kDem250;
using garch_test::Options;

// kDem250 and Options() are in garch_test_support.h.

// An independent, derivative-free evaluation of the fGarch likelihood. gjr is given in
// fGarch's APARCH form (|e| - g e)^2 a_ap; the library takes alpha = a_ap (1 - g)^2 and
// gamma = 4 a_ap g.
double DirectLoglik(const GarchOptions& o, const std::vector<double>& r, const gi::ParamVector& p,
                    double aparch_alpha = 0, double aparch_g = 0) {
  const size_t n = r.size();
  std::vector<double> e(n);
  double s2 = 0;
  for (size_t t = 0; t < n; ++t) {
    if (o.mean == GarchMean::kZero) e[t] = r[t];
    if (o.mean == GarchMean::kConstant) e[t] = r[t] - p[gi::kMu];
    if (o.mean == GarchMean::kAr1) e[t] = t == 0 ? 0 : r[t] - p[gi::kMu] - p[gi::kAr1] * r[t - 1];
    s2 += e[t] * e[t] / n;
  }
  const double nu = p[gi::kShape];
  const double kappa = o.distribution == GarchDistribution::kNormal
                           ? std::sqrt(2 / std::numbers::pi)
                           : std::sqrt(nu - 2) * std::tgamma((nu - 1) / 2) /
                                 (std::sqrt(std::numbers::pi) * std::tgamma(nu / 2));
  double h = 0, loglik = 0;
  for (size_t t = 0; t < n; ++t) {
    if (o.spec == GarchSpec::kGarch) {
      h = t == 0 ? p[gi::kOmega] + (p[gi::kAlpha] + p[gi::kBeta]) * s2
                 : p[gi::kOmega] + p[gi::kAlpha] * e[t - 1] * e[t - 1] + p[gi::kBeta] * h;
    } else if (o.spec == GarchSpec::kGjr) {
      const double news = t == 0 ? 0 : std::abs(e[t - 1]) - aparch_g * e[t - 1];
      h = t == 0 ? p[gi::kOmega] + (aparch_alpha + p[gi::kBeta]) * s2
                 : p[gi::kOmega] + aparch_alpha * news * news + p[gi::kBeta] * h;
    } else {
      const double z = t == 0 ? 0 : e[t - 1] / std::sqrt(h);
      const double g = t == 0 ? 0 : p[gi::kAlpha] * (std::abs(z) - kappa) + p[gi::kGamma] * z;
      h = std::exp(p[gi::kOmega] + g + p[gi::kBeta] * std::log(t == 0 ? s2 : h));
    }
    if (o.distribution == GarchDistribution::kNormal) {
      loglik += -0.5 * std::log(2 * std::numbers::pi * h) - 0.5 * e[t] * e[t] / h;
    } else {  // fGarch's dstd: dt(z s, nu) s / sqrt(h), s = sqrt(nu / (nu - 2))
      const double s = std::sqrt(nu / (nu - 2)), x = e[t] / std::sqrt(h) * s;
      const double dt = std::tgamma((nu + 1) / 2) /
                        (std::sqrt(nu * std::numbers::pi) * std::tgamma(nu / 2)) *
                        std::pow(1 + x * x / nu, -(nu + 1) / 2);
      loglik += std::log(dt * s / std::sqrt(h));
    }
  }
  return loglik;
}

gi::ParamVector SomeParams(GarchSpec spec) {
  // mu, ar1, omega, alpha, gamma, beta, shape
  if (spec == GarchSpec::kEgarch) return {-0.01, 0.05, -0.3, 0.2, -0.08, 0.9, 5.5};
  return {-0.01, 0.05, 0.02, 0.12, 0.06, 0.8, 5.5};
}

TEST(GarchLikelihood, MatchesDirectEvaluation) {
  for (auto spec : {GarchSpec::kGarch, GarchSpec::kGjr, GarchSpec::kEgarch}) {
    for (auto dist : {GarchDistribution::kNormal, GarchDistribution::kStudentT}) {
      for (auto mean : {GarchMean::kZero, GarchMean::kConstant, GarchMean::kAr1}) {
        const GarchOptions o = Options(spec, dist, mean);
        gi::ParamVector p = SomeParams(spec);
        const double a_ap = 0.12, g = 0.2;  // gjr in APARCH form
        if (spec == GarchSpec::kGjr)
          p[gi::kAlpha] = a_ap * (1 - g) * (1 - g), p[gi::kGamma] = 4 * a_ap * g;
        const double expected = DirectLoglik(o, kDem250, p, a_ap, g);
        EXPECT_NEAR(gi::LogLikelihood(o, kDem250, p), expected, 1e-10 * std::abs(expected))
            << GarchSpecName(spec) << " " << GarchDistributionName(dist) << " "
            << GarchMeanName(mean);
      }
    }
  }
}

TEST(GarchLikelihood, AnalyticGradientAndScoresMatchFiniteDifferences) {
  for (auto spec : {GarchSpec::kGarch, GarchSpec::kGjr, GarchSpec::kEgarch}) {
    for (bool targeting : {false, true}) {
      GarchOptions o = Options(spec, GarchDistribution::kStudentT, GarchMean::kAr1);
      o.variance_targeting = targeting;
      const gi::ParamVector p = SomeParams(spec);
      gi::ParamVector gradient{};
      std::vector<double> scores;
      gi::LogLikelihood(o, kDem250, p, {.gradient = &gradient, .scores = &scores});
      for (int k : gi::EstimatedParams(o)) {
        const double step = 1e-6;
        gi::ParamVector up = p, down = p;
        up[k] += step;
        down[k] -= step;
        const double numeric =
            (gi::LogLikelihood(o, kDem250, up) - gi::LogLikelihood(o, kDem250, down)) / (2 * step);
        EXPECT_NEAR(gradient[k], numeric, 1e-5 * (1 + std::abs(numeric)))
            << GarchSpecName(spec) << " " << gi::ParamName(k) << " targeting " << targeting;
        double score_sum = 0;
        for (size_t t = 0; t < kDem250.size(); ++t) score_sum += scores[t * gi::kNumParams + k];
        EXPECT_NEAR(score_sum, gradient[k], 1e-9 * (1 + std::abs(numeric)));
      }
    }
  }
}

// R: f <- garchFit(~garch(1,1), data = x, trace = FALSE); coef(f); f@fit$llh; f@fit$se.coef
//    garchFit(..., cond.dist = "std") likewise (x = dem2gbp[1:250, 1]).
TEST(GarchFit, MatchesFGarchOnDem2gbpStart) {
  auto normal = GarchModel::Fit(kDem250, GarchOptions{});
  ASSERT_TRUE(normal.ok()) << normal.status().ToString();
  const GarchFit& f = normal->fit();
  EXPECT_NEAR(f.Coefficient("mu"), -0.03132141059, 1e-5);
  EXPECT_NEAR(f.Coefficient("omega"), 0.03097373814, 1e-5);
  EXPECT_NEAR(f.Coefficient("alpha1"), 0.15121943880, 1e-4);
  EXPECT_NEAR(f.Coefficient("beta1"), 0.67183555000, 1e-4);
  EXPECT_NEAR(f.loglik, -125.1887324, 1e-6 * 125.19);
  const double fgarch_se[] = {0.02462468675, 0.01398860202, 0.05878042937, 0.11042826152};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(f.standard_errors[i], fgarch_se[i], 0.01 * fgarch_se[i]);

  auto student = GarchModel::Fit(
      kDem250, Options(GarchSpec::kGarch, GarchDistribution::kStudentT, GarchMean::kConstant));
  ASSERT_TRUE(student.ok());
  EXPECT_NEAR(student->fit().Coefficient("shape"), 4.059420642926, 1e-3);
  EXPECT_NEAR(student->fit().Coefficient("alpha1"), 0.220041506631, 1e-4);
  EXPECT_NEAR(student->fit().loglik, -116.311091, 1e-6 * 116.31);
}

// r_t = mu + e_t with the model's own recursion, burn-in dropped.
std::vector<double> Simulate(const GarchOptions& o, const gi::ParamVector& p, size_t n,
                             uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::student_t_distribution<double> student(p[gi::kShape]);
  const double t_scale = std::sqrt((p[gi::kShape] - 2) / p[gi::kShape]);
  const double kappa = gi::AbsMoment(o.distribution, p[gi::kShape]);
  double h = o.spec == GarchSpec::kEgarch ? std::exp(p[gi::kOmega] / (1 - p[gi::kBeta])) : 1.0;
  double e = 0;
  std::vector<double> r;
  for (size_t t = 0; t < n + 500; ++t) {
    h = gi::NextVariance(o.spec, p, kappa, e, h);
    const double z =
        o.distribution == GarchDistribution::kNormal ? normal(rng) : student(rng) * t_scale;
    e = std::sqrt(h) * z;
    if (t >= 500) r.push_back(p[gi::kMu] + e);
  }
  return r;
}

TEST(GarchFit, RecoversSimulatedParameters) {
  struct Case {
    GarchSpec spec;
    GarchDistribution dist;
    gi::ParamVector truth;
  };
  const Case cases[] = {
      {GarchSpec::kGarch, GarchDistribution::kNormal, {0.05, 0, 0.05, 0.08, 0, 0.9, 0}},
      {GarchSpec::kGjr, GarchDistribution::kStudentT, {0.02, 0, 0.04, 0.04, 0.1, 0.88, 6}},
      {GarchSpec::kEgarch, GarchDistribution::kNormal, {-0.03, 0, 0.0, 0.15, -0.07, 0.95, 0}}};
  for (const Case& c : cases) {
    const GarchOptions o = Options(c.spec, c.dist, GarchMean::kConstant);
    const std::vector<double> r = Simulate(o, c.truth, 4000, 7);
    auto model = GarchModel::Fit(r, o);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    const GarchFit& f = model->fit();
    EXPECT_TRUE(f.converged);
    const std::vector<int> params = gi::ModelParams(o);
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_NEAR(f.coefficients[i], c.truth[params[i]], 4 * f.standard_errors[i])
          << GarchSpecName(c.spec) << " " << f.names[i];
      EXPECT_GT(f.robust_standard_errors[i], 0) << f.names[i];
    }
  }
}

}  // namespace
}  // namespace vigil
