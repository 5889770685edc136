// ArimaModel against R's stats::arima (tests/testdata/forecast/arima_reference.json, made by
// scripts/fixtures/arima_reference.R) on R's classic series (log AirPassengers, lynx, Nile,
// LakeHuron, WWWusage, sunspot.year) and real crypto log returns / log prices from
// VIGIL_SHARED_DATA, orders (1,0,0) (0,0,1) (2,0,1) (1,1,1) (0,1,1) (2,1,2) (0,2,2), methods
// ML, CSS-ML and CSS.
//
// Tolerances (issue 8):
// - loglik: 1e-6 relative. aic/aicc/bic follow from loglik and the parameter count, so they
//   are allowed 2e-6 |loglik| (twice the loglik tolerance) absolute.
// - coefficients: 1e-4 absolute, or 1e-4 relative for large ones (Nile's intercept ~900,
//   lynx's ~1500): |diff| <= 1e-4 max(1, |R|).
// - sigma2: 1e-4 relative (it moves with the coefficients, unlike the loglik it is not
//   stationary at the optimum).
// - forecasts: 1e-4 relative with the forecast's standard error as floor, so that forecasts
//   of returns near 0 are compared on the scale of their uncertainty; forecast standard
//   errors: 1e-4 relative.
// - R's own precision: "r_spread" is how far R's estimate moves when R itself refits from it
//   with a tighter optimiser (reltol 1e-15, ndeps 1e-6). On a flat ridge (Nile
//   ARIMA(2,1,2) CSS-ML, whose MA root sits on the unit circle) R moves by more than 1e-4,
//   so the coefficient, sigma2 and forecast tolerances there are 10 r_spread; the loglik
//   tolerance never widens.
// - coefficient standard errors: within 2e-2 relative of R's var.coef, whose Hessian (optim,
//   step ndeps) and forward-difference Jacobian of the AR transformation (step 1e-3, fixed in
//   R's C code) carry truncation errors of that order, or within 1e-2 of
//   "standard_errors_accurate", the inverse of numDeriv's Richardson Hessian of R's own
//   objective at R's estimate; not compared where a root modulus is below 1.1 (see
//   ExpectStandardErrorsMatch).
// R's optimiser: where R's default BFGS stopped short of the optimum, the fixture holds R's
// fit with optim.control = list(reltol = 1e-14, maxit = 5000, ndeps = 1e-5) ("control":
// "tight") or, where ML / CSS-ML stopped at a worse local optimum, the same method started
// from the other method's estimate; every start is R's own. One case without an interior
// maximum (log AirPassengers AR(1) ML) is listed under "skipped".
// Method CSS: where R's CSS optimum depends on its optimiser's path ("path_dependent": an MA
// part outside the invertible region, where the conditional recursion explodes and the
// surface is rough, or R's default and tight fits stopping at different optima), Vigil's
// CSS is compared through its objective (Vigil's CSS sigma2 at R's coefficients equals R's,
// and Vigil's minimum is at least as low as R's), not through the point it stops at.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "../../../src/models/forecast/arima_internal.h"
#include "models/forecast/forecast_fixture.h"
#include "vigil/models/forecast/arima.h"

namespace vigil {
namespace {

namespace ff = forecast_fixture;

constexpr double kLoglikTolerance = 1e-6;
constexpr double kCoefficientTolerance = 1e-4;
constexpr double kSigma2Tolerance = 1e-4;
constexpr double kForecastTolerance = 1e-4;
constexpr double kAccurateStandardErrorTolerance = 1e-2;
constexpr double kRStandardErrorTolerance = 2e-2;
constexpr double kBoundaryModulus = 1.1;
// Tolerances widen to this multiple of R's own precision on the case (r_spread).
constexpr double kSpreadMultiple = 10.0;

double Widened(double tolerance, const nlohmann::json& item) {
  return std::max(tolerance, kSpreadMultiple * ff::Number(item.at("r_spread")));
}

// A CSS fit whose MA part is invertible: a minimum in the region where the CSS approximates
// the likelihood (R may find lower values outside it).
bool InsideInvertibleRegion(const ArimaModel& model) {
  const ArimaFit& fit = model.fit();
  const std::span<const double> ma =
      std::span<const double>(fit.coefficients).subspan(fit.order.p, fit.order.q);
  const std::vector<double> inverted = arima_internal::InvertMa(ma);
  return std::equal(ma.begin(), ma.end(), inverted.begin());
}

bool PathDependent(const nlohmann::json& item) {
  return item.contains("path_dependent") && item.at("path_dependent").is_string();
}

ArimaMethod MethodOf(const std::string& r_method) {
  if (r_method == "ML") return ArimaMethod::kMl;
  if (r_method == "CSS") return ArimaMethod::kCss;
  return ArimaMethod::kCssMl;
}

ArimaOptions OptionsOf(const nlohmann::json& item) {
  ArimaOptions options;
  const std::vector<double> order = ff::Numbers(item.at("order"));
  options.order = {static_cast<int>(order.at(0)), static_cast<int>(order.at(1)),
                   static_cast<int>(order.at(2))};
  options.method = MethodOf(item.at("method"));
  options.include_constant = item.at("include_constant");
  return options;
}

std::string CaseName(const nlohmann::json& item) {
  const std::vector<double> order = ff::Numbers(item.at("order"));
  return item.at("series").get<std::string>() + " ARIMA(" + std::to_string(int(order[0])) + "," +
         std::to_string(int(order[1])) + "," + std::to_string(int(order[2])) + ") " +
         item.at("method").get<std::string>() +
         (item.at("include_constant").get<bool>() ? " constant" : " no-constant") +
         " control=" + item.at("control").get<std::string>();
}

void ExpectCoefficientsMatch(const ArimaFit& fit, const nlohmann::json& item) {
  const std::vector<double> expected = ff::Numbers(item.at("coefficients"));
  ASSERT_EQ(fit.names, ff::Strings(item.at("names")));
  ASSERT_EQ(fit.coefficients.size(), expected.size());
  for (size_t idx = 0; idx < expected.size(); ++idx) {
    EXPECT_TRUE(
        ff::Near(fit.coefficients[idx], expected[idx], Widened(kCoefficientTolerance, item), 1.0))
        << fit.names[idx];
  }
}

void ExpectCriteriaMatch(const ArimaFit& fit, const nlohmann::json& item) {
  const double loglik = ff::Number(item.at("loglik"));
  EXPECT_TRUE(ff::Near(fit.loglik, loglik, kLoglikTolerance)) << "loglik";
  EXPECT_TRUE(ff::Near(fit.sigma2, ff::Number(item.at("sigma2")), Widened(kSigma2Tolerance, item)))
      << "sigma2";
  EXPECT_EQ(fit.nobs, item.at("nobs").get<int64_t>());
  // Absolute 2e-6 |loglik|, written as Near's floor with a relative part of 1.
  const double criterion_allowed = 2 * kLoglikTolerance * std::abs(loglik);
  for (const auto& [name, value] :
       {std::pair{"aic", fit.aic}, std::pair{"aicc", fit.aicc}, std::pair{"bic", fit.bic}}) {
    const double expected = ff::Number(item.at(name));
    if (std::isnan(expected)) {  // R reports NA for CSS
      EXPECT_TRUE(std::isnan(value)) << name << " should be NaN, is " << value;
    } else {
      EXPECT_LE(std::abs(value - expected), criterion_allowed)
          << name << " " << value << " vs R " << expected;
    }
  }
}

// Coefficient standard errors have two references, each imprecise somewhere: R's var.coef
// (finite differences with steps 1e-5 and 1e-3; off by up to 5% on the crypto returns,
// where the Richardson Hessian and Vigil agree to 1e-5) and the Richardson Hessian of R's
// objective (numDeriv; unreliable where its steps leave the region, e.g. LakeHuron). Vigil
// must agree with one of them. Near the stationarity / invertibility boundary (a root
// modulus below kBoundaryModulus) the information matrix is near-singular and the standard
// errors are not determined; they are not compared there.
void ExpectStandardErrorsMatch(const ArimaFit& fit, const nlohmann::json& item) {
  if (ff::Number(item.at("min_root_modulus")) < kBoundaryModulus) return;
  const std::vector<double> r = ff::Numbers(item.at("standard_errors"));
  const std::vector<double> accurate = ff::Numbers(item.at("standard_errors_accurate"));
  const ::testing::AssertionResult near_r =
      ff::AllNear(fit.standard_errors, r, kRStandardErrorTolerance);
  const ::testing::AssertionResult near_accurate =
      ff::AllNear(fit.standard_errors, accurate, kAccurateStandardErrorTolerance);
  EXPECT_TRUE(near_r || near_accurate)
      << "vs R's var.coef: " << near_r.message()
      << "\nvs the Richardson Hessian: " << near_accurate.message();
}

void ExpectForecastMatches(const ArimaModel& model, const nlohmann::json& item) {
  const std::vector<double> mean = ff::Numbers(item.at("forecast"));
  const std::vector<double> se = ff::Numbers(item.at("forecast_se"));
  Result<ArimaForecast> forecast = model.Forecast(static_cast<int>(mean.size()));
  ASSERT_TRUE(forecast.ok()) << forecast.status().ToString();
  const double tolerance = Widened(kForecastTolerance, item);
  EXPECT_TRUE(ff::AllNear(forecast->mean, mean, tolerance, se)) << "forecast mean";
  EXPECT_TRUE(ff::AllNear(forecast->se, se, tolerance)) << "forecast se";
}

class ArimaRFixtureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new nlohmann::json(ff::Load("arima_reference.json"));
    series_ = new std::map<std::string, std::vector<double>>(ff::BuildSeries(*fixture_));
  }
  static void TearDownTestSuite() {
    delete fixture_;
    delete series_;
  }
  static const nlohmann::json& Cases() { return fixture_->at("cases"); }
  static const std::vector<double>& SeriesOf(const nlohmann::json& item) {
    return series_->at(item.at("series").get<std::string>());
  }
  static bool Loaded() { return fixture_->is_object() && !series_->empty(); }

  static nlohmann::json* fixture_;
  static std::map<std::string, std::vector<double>>* series_;
};

nlohmann::json* ArimaRFixtureTest::fixture_ = nullptr;
std::map<std::string, std::vector<double>>* ArimaRFixtureTest::series_ = nullptr;

TEST_F(ArimaRFixtureTest, FixtureCoversClassicAndCryptoSeriesAndAllMethods) {
  ASSERT_TRUE(Loaded());
  EXPECT_EQ(series_->size(), fixture_->at("series").size()) << "a series failed to rebuild";
  std::map<std::string, int> per_method;
  for (const auto& item : Cases()) ++per_method[item.at("method").get<std::string>()];
  EXPECT_GE(per_method["ML"], 50);
  EXPECT_GE(per_method["CSS-ML"], 50);
  EXPECT_GE(per_method["CSS"], 50);
}

TEST_F(ArimaRFixtureTest, MatchesStatsArimaFit) {
  ASSERT_TRUE(Loaded());
  for (const auto& item : Cases()) {
    if (PathDependent(item)) continue;  // see PathDependentCssConverges
    SCOPED_TRACE(CaseName(item));
    Result<ArimaModel> model = ArimaModel::Fit(SeriesOf(item), OptionsOf(item));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ExpectCoefficientsMatch(model->fit(), item);
    ExpectCriteriaMatch(model->fit(), item);
  }
}

TEST_F(ArimaRFixtureTest, MatchesStatsArimaStandardErrors) {
  ASSERT_TRUE(Loaded());
  for (const auto& item : Cases()) {
    if (PathDependent(item)) continue;  // see PathDependentCssConverges
    SCOPED_TRACE(CaseName(item));
    Result<ArimaModel> model = ArimaModel::Fit(SeriesOf(item), OptionsOf(item));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ExpectStandardErrorsMatch(model->fit(), item);
  }
}

TEST_F(ArimaRFixtureTest, MatchesPredictArima) {
  ASSERT_TRUE(Loaded());
  for (const auto& item : Cases()) {
    if (PathDependent(item)) continue;  // see PathDependentCssConverges
    SCOPED_TRACE(CaseName(item));
    Result<ArimaModel> model = ArimaModel::Fit(SeriesOf(item), OptionsOf(item));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ExpectForecastMatches(*model, item);
  }
}

// Filtering with R's coefficients must reproduce R's likelihood (CSS: R's conditional sum of
// squares) tightly: this separates an objective difference from an optimiser difference.
TEST_F(ArimaRFixtureTest, LikelihoodAtRCoefficientsMatchesR) {
  ASSERT_TRUE(Loaded());
  for (const auto& item : Cases()) {
    SCOPED_TRACE(CaseName(item));
    Result<ArimaModel> model = ArimaModel::FromCoefficients(SeriesOf(item), OptionsOf(item),
                                                            ff::Numbers(item.at("coefficients")));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_TRUE(ff::Near(model->fit().loglik, ff::Number(item.at("loglik")), 1e-9)) << "loglik";
    EXPECT_TRUE(ff::Near(model->fit().sigma2, ff::Number(item.at("sigma2")), 1e-9)) << "sigma2";
  }
}

// Path-dependent CSS cases (see the header): a fit whose CSS objective is finite and at least
// as low as R's default fit (Vigil's objective is R's, LikelihoodAtRCoefficientsMatchesR),
// or a minimum with an invertible MA part (Nile ARIMA(2,0,1): R's lower
// values lie outside the invertible region), and finite forecasts; they stay a minority of CSS
// cases. Convergence is not required: outside the invertible region the CSS objective can fall
// without bound (Nile ARIMA(0,1,1): R's own sigma2 at ma1 = -0.79, -1.10, -1.25, -1.4 is 20405,
// 17427, 13060, 10463), so there R and Vigil stop wherever their optimisers give up, and Vigil
// reports converged = false.
TEST_F(ArimaRFixtureTest, PathDependentCssConverges) {
  ASSERT_TRUE(Loaded());
  int path_dependent = 0, css = 0;
  for (const auto& item : Cases()) {
    if (item.at("method") != "CSS") continue;
    ++css;
    if (!PathDependent(item)) continue;
    ++path_dependent;
    SCOPED_TRACE(CaseName(item) + ": " + item.at("path_dependent").get<std::string>());
    Result<ArimaModel> model = ArimaModel::Fit(SeriesOf(item), OptionsOf(item));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_TRUE(std::isfinite(model->fit().sigma2) && model->fit().sigma2 > 0);
    // R's out-of-the-box (default control) CSS sigma2, from its loglik -n/2 (log(2 pi s2) + 1).
    const double n = static_cast<double>(item.at("nobs").get<int64_t>());
    const double r_default_sigma2 =
        std::exp(-2.0 * ff::Number(item.at("default_loglik")) / n - 1.0) / (2.0 * std::numbers::pi);
    const bool as_low_as_r = model->fit().sigma2 <= r_default_sigma2 * (1 + kLoglikTolerance);
    EXPECT_TRUE(as_low_as_r || InsideInvertibleRegion(*model))
        << "sigma2 " << model->fit().sigma2 << " vs R's default " << r_default_sigma2
        << " and tight " << ff::Number(item.at("sigma2")) << "; converged "
        << model->fit().converged << " after " << model->fit().iterations << " iterations";
    Result<ArimaForecast> forecast = model->Forecast(10);
    ASSERT_TRUE(forecast.ok()) << forecast.status().ToString();
    for (double v : forecast->mean) EXPECT_TRUE(std::isfinite(v));
  }
  EXPECT_LE(path_dependent, css / 2) << path_dependent << " of " << css << " CSS cases";
}

}  // namespace
}  // namespace vigil
