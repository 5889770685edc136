// GarchModel: options, fitting, the online update and serialisation. The likelihood is in
// garch_likelihood.cc, estimation in garch_estimate.cc, forecasts and risk in garch_risk.cc.
#include "vigil/models/forecast/garch.h"

#include <cmath>
#include <string>

#include "garch_estimate.h"
#include "garch_likelihood.h"
#include "garch_state.h"

namespace vigil {

using garch_internal::kAlpha;
using garch_internal::kBeta;
using garch_internal::kGamma;
using garch_internal::kOmega;
using garch_internal::kShape;

std::string_view GarchSpecName(GarchSpec spec) {
  switch (spec) {
    case GarchSpec::kGarch:
      return "garch";
    case GarchSpec::kGjr:
      return "gjr";
    case GarchSpec::kEgarch:
      return "egarch";
  }
  return "garch";
}
std::string_view GarchDistributionName(GarchDistribution d) {
  return d == GarchDistribution::kNormal ? "normal" : "t";
}
std::string_view GarchMeanName(GarchMean mean) {
  switch (mean) {
    case GarchMean::kZero:
      return "zero";
    case GarchMean::kConstant:
      return "constant";
    case GarchMean::kAr1:
      return "ar1";
  }
  return "constant";
}
Result<GarchSpec> ParseGarchSpec(std::string_view name) {
  if (name == "garch") return GarchSpec::kGarch;
  if (name == "gjr") return GarchSpec::kGjr;
  if (name == "egarch") return GarchSpec::kEgarch;
  return InvalidArgument("unknown GARCH spec '" + std::string(name) + "' (garch, gjr, egarch)");
}
Result<GarchDistribution> ParseGarchDistribution(std::string_view name) {
  if (name == "normal") return GarchDistribution::kNormal;
  if (name == "t") return GarchDistribution::kStudentT;
  return InvalidArgument("unknown GARCH distribution '" + std::string(name) + "' (normal, t)");
}
Result<GarchMean> ParseGarchMean(std::string_view name) {
  if (name == "zero") return GarchMean::kZero;
  if (name == "constant") return GarchMean::kConstant;
  if (name == "ar1") return GarchMean::kAr1;
  return InvalidArgument("unknown GARCH mean '" + std::string(name) + "' (zero, constant, ar1)");
}

Status GarchOptions::Validate() const {
  if (max_iterations < 1) return InvalidArgument("GARCH option max_iterations must be >= 1");
  if (simulations < 1000) return InvalidArgument("GARCH option simulations must be >= 1000");
  return Status::Ok();
}

double GarchFit::Coefficient(std::string_view name) const {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return coefficients[i];
  return std::nan("");
}

namespace {

Status CheckReturns(std::span<const double> returns, size_t minimum) {
  if (returns.size() < minimum) {
    return InvalidArgument("GARCH fit needs >= " + std::to_string(minimum) + " observations, got " +
                           std::to_string(returns.size()));
  }
  for (size_t t = 0; t < returns.size(); ++t) {
    if (!std::isfinite(returns[t])) {
      return InvalidArgument("GARCH: return at index " + std::to_string(t) + " is not finite");
    }
  }
  return Status::Ok();
}

// sigma^2 = E[h]: garch / gjr omega / (1 - persistence) (gjr: gamma counts half, the
// innovations being symmetric); egarch see UnconditionalEgarchVariance. NaN if not finite.
double UnconditionalVariance(const GarchOptions& options, const garch_internal::ParamVector& p) {
  if (options.spec == GarchSpec::kEgarch) return garch_internal::EgarchLongRunVariance(options, p);
  const double gamma_share = options.spec == GarchSpec::kGjr ? 0.5 : 0.0;
  const double persistence = p[kAlpha] + gamma_share * p[kGamma] + p[kBeta];
  return persistence < 1 ? p[kOmega] / (1 - persistence) : std::nan("");
}

GarchFit MakeFit(const GarchOptions& options, std::span<const double> returns,
                 const garch_internal::GarchEstimate& estimate) {
  GarchFit fit;
  fit.options = options;
  for (int param : garch_internal::ModelParams(options)) {
    fit.names.emplace_back(garch_internal::ParamName(param));
    fit.coefficients.push_back(estimate.params[param]);
  }
  fit.standard_errors = estimate.standard_errors;
  fit.robust_standard_errors = estimate.robust_standard_errors;
  fit.loglik = estimate.loglik;
  const double k = static_cast<double>(garch_internal::EstimatedParams(options).size());
  fit.nobs = static_cast<int64_t>(returns.size());
  fit.aic = -2 * fit.loglik + 2 * k;
  fit.bic = -2 * fit.loglik + k * std::log(static_cast<double>(fit.nobs));
  fit.iterations = estimate.iterations;
  fit.converged = estimate.converged;
  std::vector<double> residuals;
  garch_internal::LogLikelihood(options, returns, estimate.params,
                                {.residuals = &residuals, .variances = &fit.conditional_variance});
  for (size_t t = 0; t < residuals.size(); ++t) {
    fit.standardized_residuals.push_back(residuals[t] / std::sqrt(fit.conditional_variance[t]));
  }
  fit.unconditional_variance = UnconditionalVariance(options, estimate.params);
  return fit;
}

}  // namespace

GarchModel::GarchModel() : state_(std::make_unique<State>()) {}
GarchModel::~GarchModel() = default;
GarchModel::GarchModel(const GarchModel& other) : state_(std::make_unique<State>(*other.state_)) {}
GarchModel& GarchModel::operator=(const GarchModel& other) {
  if (this != &other) state_ = std::make_unique<State>(*other.state_);
  return *this;
}
GarchModel::GarchModel(GarchModel&&) noexcept = default;
GarchModel& GarchModel::operator=(GarchModel&&) noexcept = default;

Result<GarchModel> GarchModel::Fit(std::span<const double> returns, const GarchOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(CheckReturns(returns, 20));
  double mean = 0, sum_sq = 0;
  for (double r : returns) mean += r / static_cast<double>(returns.size());
  for (double r : returns) sum_sq += (r - mean) * (r - mean);
  if (!(sum_sq > 0)) return InvalidArgument("GARCH fit: the returns have zero variance");
  VIGIL_ASSIGN_OR_RETURN(const garch_internal::GarchEstimate estimate,
                         garch_internal::EstimateGarch(options, returns));
  GarchModel model;
  State& state = *model.state_;
  state.fit = MakeFit(options, returns, estimate);
  state.params = estimate.params;
  state.fitted = true;
  std::vector<double> residuals;
  garch_internal::LogLikelihood(options, returns, estimate.params, {.residuals = &residuals});
  state.last_return = returns.back();
  state.last_residual = residuals.back();
  state.last_variance = state.fit.conditional_variance.back();
  return model;
}

bool GarchModel::fitted() const { return state_->fitted; }
const GarchFit& GarchModel::fit() const { return state_->fit; }

Status GarchModel::Append(std::span<const double> returns) {
  if (!fitted()) return FailedPrecondition("GARCH Append: the model is not fitted");
  VIGIL_RETURN_IF_ERROR(CheckReturns(returns, 0));
  State& s = *state_;
  const GarchOptions& options = s.fit.options;
  const double abs_moment = garch_internal::AbsMoment(options.distribution, s.params[kShape]);
  for (double r : returns) {
    const double h = garch_internal::NextVariance(options.spec, s.params, abs_moment,
                                                  s.last_residual, s.last_variance);
    const double e = r - garch_internal::NextMean(options.mean, s.params, s.last_return);
    s.fit.conditional_variance.push_back(h);
    s.fit.standardized_residuals.push_back(e / std::sqrt(h));
    s.last_return = r;
    s.last_residual = e;
    s.last_variance = h;
  }
  return Status::Ok();
}

}  // namespace vigil
