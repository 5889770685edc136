// GARCH family: likelihood, gradient, estimation, forecasts, VaR / ES, Append, JSON.
// Hand-checked fGarch numbers use dem2gbp's first 250 returns (embedded below); the full
// series and the crypto fixtures are in garch_r_test.cc.
#include "vigil/models/forecast/garch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "models/forecast/garch_distribution.h"
#include "models/forecast/garch_likelihood.h"

namespace vigil {
namespace {

namespace gi = garch_internal;

// R: library(fGarch); data(dem2gbp); x <- dem2gbp[1:250, 1]
const std::vector<double> kDem250 = {
    0.12533286,    0.028874268,   0.063461772,   0.22671922,    -0.21426695,  0.20285367,
    0.16307007,    0.044576711,   -0.32004288,   0.50415113,    -0.23378662,  -0.098017371,
    -0.084630738,  0.015684012,   -0.034409159,  -0.060019766,  0.058845114,  -0.11381741,
    0.07111826,    -0.18494858,   -0.23161388,   -0.41518445,   -0.1118114,   -0.15872893,
    -0.15172886,   -0.28214838,   -0.22096176,   -0.028998565,  -0.16657024,  0.14475309,
    -0.44695983,   -0.15385684,   0.37519467,    0.25476431,    0.90773184,   -1.3428085,
    0.59497405,    -1.0008502,    0.47749075,    0.35887564,    -0.17128037,  -0.26294254,
    -1.0645585,    -0.12831676,   -0.71015654,   -0.83077487,   0.18235792,   -0.23850088,
    0.48550827,    -0.019511971,  -0.48343942,   0.19273652,    0.31021804,   0.55211979,
    -0.32646765,   0.11806431,    -0.40383002,   -0.36056214,   -0.14807346,  -0.3671111,
    0.39471258,    -0.66563837,   0.00023669811, -0.34414368,   0.29264842,   0.26996162,
    0.061295132,   -0.097898501,  0.05479321,    0.34217414,    -0.021377494, -0.18664832,
    -0.073771376,  0.15649133,    -0.10756813,   0.15809097,    0.11685817,   0.70424822,
    -0.032410086,  0.099593918,   -0.1258643,    0.28750859,    0.55526249,   0.16035716,
    0.037636347,   0.99289668,    -0.59502353,   0.34458857,    -0.51398545,  -0.097358688,
    -0.27608475,   0.045422736,   0.53248155,    0.25038678,    0.020437057,  -0.88803935,
    -0.44555314,   0.03269032,    -0.67453815,   0.21905975,    -0.052402043, -0.48691452,
    -0.38949084,   -0.19647625,   0.19974889,    0.2791193,     0.066852638,  0.092622831,
    0.0094754755,  -0.072675511,  0.24783998,    0.25318874,    0.42509829,   -0.20683847,
    0.18728071,    -0.04814215,   -0.42451497,   -0.28349715,   -0.2084125,   0.14939652,
    0.062254677,   -0.12035567,   -0.10225692,   -0.13658221,   -0.54083995,  -0.26526508,
    -0.81430322,   0.59191109,    0.35709797,    0.24574713,    -0.1981661,   0.92156417,
    -0.30971633,   0.31287732,    0.34348245,    0.20491882,    0.32197795,   -0.039548166,
    -0.14936658,   -0.66260774,   0.55406147,    -0.13949821,   0.31055931,   0.13130508,
    0.16762258,    0.037975184,   0.13911912,    -0.070004927,  -0.02323676,  -0.35917118,
    0.43766322,    0.02210069,    -0.24978662,   -0.38139904,   -0.11131912,  0.10435283,
    -0.030957727,  0.051483363,   -0.90032885,   0.14673118,    0.63034427,   -0.26300222,
    0.27610261,    -0.031949462,  0.18958905,    -0.21857975,   -0.037664378, 0.096106579,
    0.25370134,    0.27992645,    0.72172607,    -0.1350748,    0.49291158,   -0.14784016,
    -0.19642314,   -1.2518038,    1.0256249,     -0.0074590955, 0.50596102,   -1.8154856,
    0.2936402,     0.074301129,   -0.48561912,   0.13978382,    -1.053173,    1.0590836,
    -0.11778238,   -0.0062380841, 0.027523959,   -0.02360152,   0.3979064,    0.21781026,
    0.32801227,    -0.021469681,  -0.047730438,  -0.7004222,    -0.90461117,  -1.0251354,
    -0.84324901,   0.21232275,    0.13562663,    -0.13014892,   0.6018916,    -0.0051007308,
    -0.056676138,  -0.28432785,   -0.10100292,   -0.0055319758, 0.10342352,   0.24184819,
    0.44313083,    -0.11905695,   0.58135731,    -0.1985493,    0.21770468,   0.16589777,
    -0.0070445742, 0.073999718,   -0.30757702,   -0.0066470109, 0.10480587,   -1.2658492,
    -0.030191892,  -0.24020397,   0.19294544,    -0.16353336,   0.48917481,   0.4180829,
    -0.007525896,  0.039751588,   0.056437334,   -0.37236851,   -0.062710039, 0.54271194,
    -0.27829445,   -0.33819936,   -0.074701326,  0.10756666,    -0.27550824,  -0.92766082,
    -0.32863123,   -0.6084544,    0.87652858,    0.46547359,    -0.34009246,  -0.46073353,
    -0.27015917,   0.18729968,    0.2220803,     -0.35339659};

GarchOptions Options(GarchSpec spec, GarchDistribution dist, GarchMean mean) {
  GarchOptions o;
  o.spec = spec;
  o.distribution = dist;
  o.mean = mean;
  return o;
}

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

TEST(GarchForecast, GarchAndGjrFollowTheClosedForm) {
  for (auto spec : {GarchSpec::kGarch, GarchSpec::kGjr}) {
    auto model =
        GarchModel::Fit(kDem250, Options(spec, GarchDistribution::kNormal, GarchMean::kConstant));
    ASSERT_TRUE(model.ok());
    const GarchFit& f = model->fit();
    const double persistence = f.Coefficient("alpha1") + f.Coefficient("beta1") +
                               (spec == GarchSpec::kGjr ? 0.5 * f.Coefficient("gamma1") : 0);
    const double s2 = f.Coefficient("omega") / (1 - persistence);
    EXPECT_NEAR(f.unconditional_variance, s2, 1e-12);
    auto forecast = model->VarianceForecast(20);
    ASSERT_TRUE(forecast.ok());
    const double e = kDem250.back() - f.Coefficient("mu");
    const double news = spec == GarchSpec::kGjr && e < 0 ? f.Coefficient("gamma1") : 0;
    EXPECT_NEAR((*forecast)[0],
                f.Coefficient("omega") + (f.Coefficient("alpha1") + news) * e * e +
                    f.Coefficient("beta1") * f.conditional_variance.back(),
                1e-12);
    for (int k = 1; k <= 20; ++k) {
      EXPECT_NEAR((*forecast)[k - 1], s2 + std::pow(persistence, k - 1) * ((*forecast)[0] - s2),
                  1e-12);
    }
    auto annual = model->AnnualizedVolatility(252, 20);
    ASSERT_TRUE(annual.ok());
    double mean = 0;
    for (double h : *forecast) mean += h / 20;
    EXPECT_NEAR(*annual, std::sqrt(252 * mean), 1e-12);
  }
}

// E[h_{T+2}] = E exp(omega + alpha (|z| - E|z|) + gamma z + beta ln h_{T+1}) by quadrature.
TEST(GarchForecast, EgarchTwoStepEqualsNumericalExpectation) {
  auto model = GarchModel::Fit(
      kDem250, Options(GarchSpec::kEgarch, GarchDistribution::kNormal, GarchMean::kConstant));
  ASSERT_TRUE(model.ok());
  const GarchFit& f = model->fit();
  auto forecast = model->VarianceForecast(2);
  ASSERT_TRUE(forecast.ok());
  const double kappa = std::sqrt(2 / std::numbers::pi), dz = 1e-4;
  double expectation = 0;
  for (double z = -12; z < 12; z += dz) {
    const double g = f.Coefficient("alpha1") * (std::abs(z) - kappa) + f.Coefficient("gamma1") * z;
    expectation +=
        std::exp(f.Coefficient("omega") + g + f.Coefficient("beta1") * std::log((*forecast)[0])) *
        std::exp(-0.5 * z * z) * dz;
  }
  expectation /= std::sqrt(2 * std::numbers::pi);
  EXPECT_NEAR((*forecast)[1], expectation, 1e-8 * expectation);
}

TEST(GarchRisk, HorizonOneIsTheInnovationQuantile) {
  for (auto dist : {GarchDistribution::kNormal, GarchDistribution::kStudentT}) {
    auto model = GarchModel::Fit(kDem250, Options(GarchSpec::kGarch, dist, GarchMean::kConstant));
    ASSERT_TRUE(model.ok());
    const double levels[] = {0.95, 0.99};
    auto risk = model->Risk(1, levels);
    ASSERT_TRUE(risk.ok());
    const double mu = model->fit().Coefficient("mu"), nu = model->fit().Coefficient("shape");
    const double sd = std::sqrt((*model->VarianceForecast(1))[0]);
    // The innovation density, integrated numerically below the quantile.
    const double s = dist == GarchDistribution::kNormal ? 1 : std::sqrt(nu / (nu - 2));
    const double t_constant =
        std::tgamma((nu + 1) / 2) / (std::sqrt(nu * std::numbers::pi) * std::tgamma(nu / 2)) * s;
    auto density = [&](double z) {
      if (dist == GarchDistribution::kNormal) {
        return std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
      }
      return t_constant * std::pow(1 + z * z * s * s / nu, -(nu + 1) / 2);
    };
    for (int i = 0; i < 2; ++i) {
      const double q = -(risk->var[i] + mu) / sd;  // the standardized quantile
      double mass = 0, first_moment = 0;
      for (double z = -150; z < q; z += 1e-4) {
        mass += density(z) * 1e-4;
        first_moment += z * density(z) * 1e-4;
      }
      EXPECT_NEAR(mass, 1 - levels[i], 2e-5) << GarchDistributionName(dist);
      EXPECT_NEAR(risk->es[i], -(mu + sd * first_moment / (1 - levels[i])), 1e-3 * risk->es[i]);
      EXPECT_GT(risk->es[i], risk->var[i]);
    }
  }
  // R: print(qnorm(0.05), digits = 17); print(qt(0.05, 5), digits = 17)
  EXPECT_NEAR(gi::NormalQuantile(0.05), -1.6448536269514726, 1e-14);
  EXPECT_NEAR(gi::StudentQuantile(0.05, 5), -2.0150483733330233, 1e-12);
}

// With alpha1 = 0 the variance path is deterministic, so the cumulative return is normal with
// variance sum_k h_{T+k}: the simulation must converge to that closed form.
TEST(GarchRisk, SimulationConvergesToClosedFormWhenVarianceIsDeterministic) {
  auto model = GarchModel::Fit(kDem250, GarchOptions{});
  ASSERT_TRUE(model.ok());
  nlohmann::json j = model->ToJson();
  j["coefficients"]["alpha1"] = 0.0;
  auto fixed = GarchModel::FromJson(j);
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  const int horizon = 10;
  const double levels[] = {0.95, 0.99};
  auto risk = fixed->Risk(horizon, levels);
  ASSERT_TRUE(risk.ok());
  double total_variance = 0;
  const std::vector<double> variances = *fixed->VarianceForecast(horizon);
  for (double h : variances) total_variance += h;
  const double mean = horizon * fixed->fit().Coefficient("mu"), sd = std::sqrt(total_variance);
  for (int i = 0; i < 2; ++i) {
    const double z = gi::NormalQuantile(1 - levels[i]);
    const double es =
        -(mean - sd * std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi) / (1 - levels[i]));
    EXPECT_NEAR(risk->var[i], -(mean + sd * z), 0.02 * sd);
    EXPECT_NEAR(risk->es[i], es, 0.03 * sd);
  }
}

TEST(GarchRisk, SimulationIsDeterministicForASeed) {
  GarchOptions o = Options(GarchSpec::kGjr, GarchDistribution::kStudentT, GarchMean::kAr1);
  o.simulations = 20000;
  auto a = GarchModel::Fit(kDem250, o);
  auto b = GarchModel::Fit(kDem250, o);
  o.seed = 99;
  auto c = GarchModel::Fit(kDem250, o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const double levels[] = {0.95, 0.99};
  const GarchRisk ra = *a->Risk(5, levels), rb = *b->Risk(5, levels), rc = *c->Risk(5, levels);
  EXPECT_EQ(ra.var, rb.var);
  EXPECT_EQ(ra.es, rb.es);
  EXPECT_NE(ra.var, rc.var);
  EXPECT_NEAR(ra.var[1], rc.var[1], 0.1 * ra.var[1]);
  EXPECT_EQ(ra.var, a->Risk(5, levels)->var);  // a const call does not advance a generator
}

TEST(GarchFit, VarianceTargetingPinsTheUnconditionalVariance) {
  GarchOptions o;
  o.variance_targeting = true;
  auto targeted = GarchModel::Fit(kDem250, o);
  auto free = GarchModel::Fit(kDem250, GarchOptions{});
  ASSERT_TRUE(targeted.ok() && free.ok());
  const GarchFit& f = targeted->fit();
  double s2 = 0;
  for (double r : kDem250) s2 += std::pow(r - f.Coefficient("mu"), 2) / kDem250.size();
  EXPECT_NEAR(f.unconditional_variance, s2, 1e-12);
  EXPECT_TRUE(std::isnan(f.standard_errors[1]));  // omega is not estimated
  EXPECT_FALSE(std::isnan(f.standard_errors[2]));
  EXPECT_LE(f.loglik, free->fit().loglik + 1e-9);
  EXPECT_NEAR(f.aic, -2 * f.loglik + 2 * 3, 1e-9);
}

TEST(GarchAppend, ContinuesTheRecursionWithoutRefitting) {
  const std::vector<double> head(kDem250.begin(), kDem250.begin() + 200);
  auto model =
      GarchModel::Fit(head, Options(GarchSpec::kGjr, GarchDistribution::kNormal, GarchMean::kAr1));
  ASSERT_TRUE(model.ok());
  GarchModel chunked = *model;
  const std::vector<double> coefficients = model->fit().coefficients;
  ASSERT_TRUE(model->Append(std::span(kDem250).subspan(200)).ok());
  ASSERT_TRUE(chunked.Append(std::span(kDem250).subspan(200, 20)).ok());
  ASSERT_TRUE(chunked.Append(std::span(kDem250).subspan(220)).ok());
  const GarchFit& f = model->fit();
  EXPECT_EQ(f.coefficients, coefficients);
  ASSERT_EQ(f.conditional_variance.size(), kDem250.size());
  const double mu = f.Coefficient("mu"), ar1 = f.Coefficient("ar1");
  for (size_t t = 200; t < kDem250.size(); ++t) {
    const double e = kDem250[t - 1] - mu - ar1 * kDem250[t - 2];
    const double alpha = f.Coefficient("alpha1") + (e < 0 ? f.Coefficient("gamma1") : 0);
    const double h = f.Coefficient("omega") + alpha * e * e +
                     f.Coefficient("beta1") * f.conditional_variance[t - 1];
    EXPECT_NEAR(f.conditional_variance[t], h, 1e-12 * h);
    EXPECT_EQ(chunked.fit().conditional_variance[t], f.conditional_variance[t]);
  }
  EXPECT_EQ(*chunked.VarianceForecast(3), *model->VarianceForecast(3));
  EXPECT_NEAR((*model->MeanForecast(1))[0], mu + ar1 * kDem250.back(), 1e-15);
}

TEST(GarchJson, RoundTripKeepsForecastsAndRisk) {
  GarchOptions o = Options(GarchSpec::kEgarch, GarchDistribution::kStudentT, GarchMean::kAr1);
  o.simulations = 5000;
  o.seed = 3;
  auto model = GarchModel::Fit(kDem250, o);
  ASSERT_TRUE(model.ok());
  auto copy = GarchModel::FromJson(nlohmann::json::parse(model->ToJson().dump()));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->fit().names, model->fit().names);
  EXPECT_EQ(copy->fit().coefficients, model->fit().coefficients);
  EXPECT_EQ(copy->fit().loglik, model->fit().loglik);
  EXPECT_EQ(*copy->VarianceForecast(5), *model->VarianceForecast(5));
  const double levels[] = {0.99};
  EXPECT_EQ(copy->Risk(4, levels)->es, model->Risk(4, levels)->es);
  ASSERT_TRUE(copy->Append(std::span(kDem250).subspan(0, 3)).ok());
  ASSERT_TRUE(model->Append(std::span(kDem250).subspan(0, 3)).ok());
  EXPECT_EQ(*copy->VarianceForecast(2), *model->VarianceForecast(2));
}

TEST(GarchJson, InvalidFieldsAreDataErrorsNamingTheField) {
  auto model = GarchModel::Fit(
      kDem250, Options(GarchSpec::kGarch, GarchDistribution::kStudentT, GarchMean::kConstant));
  ASSERT_TRUE(model.ok());
  const nlohmann::json good = model->ToJson();
  auto expect_error = [&](const char* field, auto mutate) {
    nlohmann::json j = good;
    mutate(j);
    auto result = GarchModel::FromJson(j);
    ASSERT_FALSE(result.ok()) << field;
    EXPECT_NE(result.status().message().find(field), std::string::npos)
        << result.status().ToString();
  };
  expect_error("shape", [](nlohmann::json& j) { j["coefficients"]["shape"] = 1.5; });
  expect_error("omega", [](nlohmann::json& j) { j["coefficients"].erase("omega"); });
  expect_error("last_variance", [](nlohmann::json& j) { j["last_variance"] = -1; });
  expect_error("seed", [](nlohmann::json& j) { j["seed"] = "x"; });
  expect_error("variance_targeting", [](nlohmann::json& j) { j.erase("variance_targeting"); });
  expect_error("spec", [](nlohmann::json& j) { j["spec"] = "figarch"; });
  EXPECT_EQ(GarchModel::FromJson(nlohmann::json::array()).status().code(), StatusCode::kDataError);
}

TEST(GarchModelErrors, InvalidInputOptionsAndCalls) {
  std::vector<double> r(kDem250.begin(), kDem250.begin() + 19);
  EXPECT_EQ(GarchModel::Fit(r, {}).status().code(), StatusCode::kInvalidArgument);
  r = kDem250;
  r[7] = std::nan("");
  EXPECT_NE(GarchModel::Fit(r, {}).status().message().find("index 7"), std::string::npos);
  EXPECT_FALSE(GarchModel::Fit(std::vector<double>(30, 1.0), {}).ok());
  GarchOptions o;
  o.max_iterations = 0;
  EXPECT_NE(GarchModel::Fit(kDem250, o).status().message().find("max_iterations"),
            std::string::npos);
  o = {};
  o.simulations = 10;
  EXPECT_NE(o.Validate().message().find("simulations"), std::string::npos);
  EXPECT_FALSE(ParseGarchSpec("arch").ok());
  EXPECT_EQ(*ParseGarchDistribution("t"), GarchDistribution::kStudentT);
  EXPECT_EQ(*ParseGarchMean("ar1"), GarchMean::kAr1);

  GarchModel unfitted;
  EXPECT_EQ(unfitted.VarianceForecast(1).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(unfitted.Append(kDem250).code(), StatusCode::kFailedPrecondition);
  auto model = GarchModel::Fit(kDem250, {});
  ASSERT_TRUE(model.ok());
  const double bad_levels[] = {0.95, 1.0};
  EXPECT_EQ(model->Risk(1, bad_levels).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(model->VarianceForecast(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(model->AnnualizedVolatility(0).ok());
  const double inf[] = {INFINITY};
  EXPECT_FALSE(model->Append(inf).ok());
}

}  // namespace
}  // namespace vigil
