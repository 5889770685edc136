// GARCH family: variance forecasts, VaR / ES, variance targeting, Append, JSON persistence
// and errors, on dem2gbp's first 250 returns (garch_test_support.h).
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <span>
#include <vector>

#include "models/forecast/garch_distribution.h"
#include "models/forecast/garch_likelihood.h"
#include "models/forecast/garch_test_support.h"
#include "vigil/models/forecast/garch.h"

namespace vigil {
namespace {

namespace gi = garch_internal;
using garch_test::kDem250;
using garch_test::Options;

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
