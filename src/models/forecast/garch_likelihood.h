// Private to the GARCH family: the parameter layout, the exact log-likelihood with its
// analytic gradient and per-observation scores, and the one-step variance recursion that
// forecasts, Append and the risk simulation share. Conventions are fGarch's (see
// include/vigil/models/forecast/garch.h).
#pragma once

#include <array>
#include <cmath>
#include <span>
#include <vector>

#include "vigil/models/forecast/garch.h"

namespace vigil::garch_internal {

// Every specification's parameters live in one fixed-size vector; the ones a specification
// lacks stay 0 and their derivatives are ignored.
enum ParamIndex { kMu = 0, kAr1, kOmega, kAlpha, kGamma, kBeta, kShape, kNumParams };
using ParamVector = std::array<double, kNumParams>;

// fGarch's coefficient name for each index.
const char* ParamName(int index);
// The indices the specification has, in fGarch's order (mu, ar1, omega, alpha1, gamma1,
// beta1, shape); omega is included even under variance targeting.
std::vector<int> ModelParams(const GarchOptions& options);
// ModelParams without omega when it is variance-targeted: the estimated ones.
std::vector<int> EstimatedParams(const GarchOptions& options);

// The per-evaluation outputs of the likelihood. Requested by passing non-null pointers.
struct LikelihoodOutputs {
  ParamVector* gradient = nullptr;           // d loglik / d params
  std::vector<double>* scores = nullptr;     // n x kNumParams, row t = d l_t / d params
  std::vector<double>* residuals = nullptr;  // e_t
  std::vector<double>* variances = nullptr;  // h_t
  double* omega = nullptr;  // the omega used (the targeted one under variance targeting)
};

// Exact Gaussian / standardized-t log-likelihood of `returns` (Bollerslev 1986; Glosten,
// Jagannathan & Runkle 1993; Nelson 1991) with fGarch's start: s2 = mean(e_t^2),
// h_1 = omega + (alpha + beta) s2 (gjr: alpha is fGarch's APARCH alpha, see the .cc),
// egarch ln h_1 = omega + beta ln s2. NaN when the parameters give a non-finite value.
double LogLikelihood(const GarchOptions& options, std::span<const double> returns,
                     const ParamVector& params, const LikelihoodOutputs& outputs = {});

// E|z| for the standardized innovation (sqrt(2 / pi) for the normal).
double AbsMoment(GarchDistribution distribution, double shape);
double Digamma(double x);

// h_{t+1} from e_t and h_t; `abs_moment` is AbsMoment(distribution, shape) (egarch only).
inline double NextVariance(GarchSpec spec, const ParamVector& p, double abs_moment, double e,
                           double h) {
  switch (spec) {
    case GarchSpec::kGarch:
      return p[kOmega] + p[kAlpha] * e * e + p[kBeta] * h;
    case GarchSpec::kGjr: {
      const double alpha = e < 0 ? p[kAlpha] + p[kGamma] : p[kAlpha];
      return p[kOmega] + alpha * e * e + p[kBeta] * h;
    }
    case GarchSpec::kEgarch: {
      const double z = e / std::sqrt(h);
      return std::exp(p[kOmega] + p[kAlpha] * (std::abs(z) - abs_moment) + p[kGamma] * z +
                      p[kBeta] * std::log(h));
    }
  }
  return h;
}

// The mean forecast of r_{t+1} given r_t.
inline double NextMean(GarchMean mean, const ParamVector& p, double r) {
  switch (mean) {
    case GarchMean::kZero:
      return 0.0;
    case GarchMean::kConstant:
      return p[kMu];
    case GarchMean::kAr1:
      return p[kMu] + p[kAr1] * r;
  }
  return 0.0;
}

}  // namespace vigil::garch_internal
