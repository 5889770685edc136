// Variance and mean forecasts, Value-at-Risk and Expected Shortfall of a fitted GARCH model.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "garch_distribution.h"
#include "garch_likelihood.h"
#include "garch_state.h"
#include "vigil/models/forecast/garch.h"

namespace vigil {

using garch_internal::kAlpha;
using garch_internal::kBeta;
using garch_internal::kGamma;
using garch_internal::kOmega;
using garch_internal::kShape;
using garch_internal::ParamVector;

namespace garch_internal {
namespace {

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

// M(c) = E exp(c g(z)) for z ~ N(0, 1) and g(z) = alpha (|z| - E|z|) + gamma z: splitting at
// z = 0, E[exp(b z) 1{z > 0}] = exp(b^2 / 2) Phi(b).
double EgarchNormalMoment(const ParamVector& p, double c) {
  const double up = c * (p[kAlpha] + p[kGamma]);
  const double down = c * (p[kAlpha] - p[kGamma]);
  const double kappa = std::sqrt(2 / std::numbers::pi);
  return std::exp(-c * p[kAlpha] * kappa) *
         (std::exp(0.5 * up * up) * NormalCdf(up) + std::exp(0.5 * down * down) * NormalCdf(down));
}

}  // namespace

double EgarchLongRunVariance(const GarchOptions& options, const ParamVector& p) {
  const double beta = p[kBeta];
  if (!(std::abs(beta) < 1)) return std::nan("");
  double log_variance = p[kOmega] / (1 - beta);
  if (options.distribution == GarchDistribution::kNormal) {
    double power = 1;
    for (int i = 0; i < 100000 && std::abs(power) > 1e-17; ++i, power *= beta) {
      log_variance += std::log(EgarchNormalMoment(p, power));
    }
  }
  return std::exp(log_variance);
}

}  // namespace garch_internal

namespace {

Status CheckUsable(const GarchModel& model, int horizon) {
  if (!model.fitted()) return FailedPrecondition("GARCH: the model is not fitted");
  if (horizon < 1) return InvalidArgument("GARCH: horizon must be >= 1");
  return Status::Ok();
}

double NextStepVariance(const GarchModel::State& s) {
  const GarchOptions& o = s.fit.options;
  return garch_internal::NextVariance(o.spec, s.params,
                                      garch_internal::AbsMoment(o.distribution, s.params[kShape]),
                                      s.last_residual, s.last_variance);
}

// E[h_{T+k}]. garch / gjr: h_{T+k} = omega + persistence h_{T+k-1} (gjr's gamma counts half,
// P(z < 0) = 1/2). egarch: ln h_{T+k} = omega (1 + .. + beta^{k-2}) + beta^{k-1} ln h_{T+1} +
// sum_i beta^i g(z), so E[h_{T+k}] multiplies in M(beta^i), i = 0..k-2, for normal z; for
// Student-t z M is infinite and the log-linear recursion (M = 1, as rugarch) is used.
std::vector<double> VarianceForecasts(const GarchModel::State& s, int horizon) {
  const GarchOptions& o = s.fit.options;
  const ParamVector& p = s.params;
  std::vector<double> forecast{NextStepVariance(s)};
  if (o.spec != GarchSpec::kEgarch) {
    const double gamma_share = o.spec == GarchSpec::kGjr ? 0.5 : 0.0;
    const double persistence = p[kAlpha] + gamma_share * p[kGamma] + p[kBeta];
    for (int k = 1; k < horizon; ++k) forecast.push_back(p[kOmega] + persistence * forecast.back());
    return forecast;
  }
  double log_mean = std::log(forecast[0]);  // E ln h_{T+k}
  double log_moments = 0, power = 1;
  for (int k = 1; k < horizon; ++k) {
    log_mean = p[kOmega] + p[kBeta] * log_mean;
    if (o.distribution == GarchDistribution::kNormal) {
      log_moments += std::log(garch_internal::EgarchNormalMoment(p, power));
    }
    power *= p[kBeta];
    forecast.push_back(std::exp(log_mean + log_moments));
  }
  return forecast;
}

Status CheckLevels(std::span<const double> levels) {
  if (levels.empty()) return InvalidArgument("GARCH risk: no levels");
  for (double level : levels) {
    if (!(level > 0 && level < 1)) {
      return InvalidArgument("GARCH risk: level " + std::to_string(level) + " is not in (0, 1)");
    }
  }
  return Status::Ok();
}

// R = r_{T+1} + .. + r_{T+horizon} along options.simulations paths of the fitted model.
std::vector<double> SimulateCumulativeReturns(const GarchModel::State& s, int horizon) {
  const GarchOptions& o = s.fit.options;
  const ParamVector& p = s.params;
  const double abs_moment = garch_internal::AbsMoment(o.distribution, p[kShape]);
  const double first_variance = NextStepVariance(s);
  garch_internal::InnovationGenerator generator(o.seed, o.distribution, p[kShape]);
  std::vector<double> totals(static_cast<size_t>(o.simulations));
  for (double& total : totals) {
    double h = first_variance, e = 0, r = s.last_return, sum = 0;
    for (int k = 0; k < horizon; ++k) {
      if (k > 0) h = garch_internal::NextVariance(o.spec, p, abs_moment, e, h);
      e = std::sqrt(h) * generator.Next();
      r = garch_internal::NextMean(o.mean, p, r) + e;
      sum += r;
    }
    total = sum;
  }
  return totals;
}

// The empirical (1 - level) quantile (the m-th smallest, m = ceil((1 - level) n)) and the
// mean of the m smallest, as losses.
void EmpiricalRisk(std::vector<double>& totals, double level, double& var, double& es) {
  const size_t n = totals.size();
  const size_t m = std::clamp<size_t>(
      static_cast<size_t>(std::ceil((1 - level) * static_cast<double>(n) - 1e-9)), 1, n);
  std::nth_element(totals.begin(), totals.begin() + static_cast<ptrdiff_t>(m - 1), totals.end());
  double tail_sum = 0;
  for (size_t i = 0; i < m; ++i) tail_sum += totals[i];
  var = -totals[m - 1];
  es = -tail_sum / static_cast<double>(m);
}

}  // namespace

Result<std::vector<double>> GarchModel::VarianceForecast(int horizon) const {
  VIGIL_RETURN_IF_ERROR(CheckUsable(*this, horizon));
  return VarianceForecasts(*state_, horizon);
}

Result<std::vector<double>> GarchModel::MeanForecast(int horizon) const {
  VIGIL_RETURN_IF_ERROR(CheckUsable(*this, horizon));
  std::vector<double> forecast;
  double r = state_->last_return;
  for (int k = 0; k < horizon; ++k) {
    r = garch_internal::NextMean(state_->fit.options.mean, state_->params, r);
    forecast.push_back(r);
  }
  return forecast;
}

Result<GarchRisk> GarchModel::Risk(int horizon, std::span<const double> levels) const {
  VIGIL_RETURN_IF_ERROR(CheckUsable(*this, horizon));
  VIGIL_RETURN_IF_ERROR(CheckLevels(levels));
  const GarchOptions& o = state_->fit.options;
  GarchRisk risk{.horizon = horizon, .level = {levels.begin(), levels.end()}};
  if (horizon == 1) {
    const double mean = garch_internal::NextMean(o.mean, state_->params, state_->last_return);
    const double sd = std::sqrt(NextStepVariance(*state_));
    const double shape = state_->params[kShape];
    for (double level : levels) {
      risk.var.push_back(
          -(mean + sd * garch_internal::InnovationQuantile(o.distribution, shape, 1 - level)));
      risk.es.push_back(
          -(mean + sd * garch_internal::InnovationTailMean(o.distribution, shape, 1 - level)));
    }
    return risk;
  }
  std::vector<double> totals = SimulateCumulativeReturns(*state_, horizon);
  for (double level : levels) {
    double var = 0, es = 0;
    EmpiricalRisk(totals, level, var, es);
    risk.var.push_back(var);
    risk.es.push_back(es);
  }
  return risk;
}

Result<double> GarchModel::AnnualizedVolatility(double periods_per_year, int horizon) const {
  VIGIL_RETURN_IF_ERROR(CheckUsable(*this, horizon));
  if (!(periods_per_year > 0) || !std::isfinite(periods_per_year)) {
    return InvalidArgument("GARCH: periods_per_year must be positive");
  }
  const std::vector<double> forecast = VarianceForecasts(*state_, horizon);
  double mean = 0;
  for (double h : forecast) mean += h / static_cast<double>(horizon);
  return std::sqrt(periods_per_year * mean);
}

}  // namespace vigil
