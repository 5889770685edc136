// The GARCH-family log-likelihood and its analytic gradient. Differentiating the variance
// recursion alongside it (the derivative of h_t obeys the same recursion, Bollerslev 1986
// section 4; Fiorentini, Calzolari & Panattoni 1996) costs about one extra likelihood pass,
// which is what makes fitting much faster than finite differences.
#include "garch_likelihood.h"

#include <cmath>
#include <numbers>

namespace vigil::garch_internal {
namespace {

constexpr double kLogTwoPi = 1.8378770664093454836;

ParamVector Unit(int index) {
  ParamVector v{};
  v[index] = 1.0;
  return v;
}

// One observation's log density given e_t and h_t, with its partial derivatives.
struct DensityTerms {
  double value, d_residual, d_variance, d_shape;
};

// Normal, or Student-t standardized to unit variance (fGarch's "std"), constants per shape.
class Density {
 public:
  Density(GarchDistribution distribution, double shape)
      : student_(distribution == GarchDistribution::kStudentT), nu_(shape) {
    if (!student_) return;
    constant_ = std::lgamma((nu_ + 1) / 2) - std::lgamma(nu_ / 2) -
                0.5 * std::log(std::numbers::pi * (nu_ - 2));
    d_constant_ = 0.5 * (Digamma((nu_ + 1) / 2) - Digamma(nu_ / 2)) - 0.5 / (nu_ - 2);
  }

  DensityTerms Eval(double e, double h) const {
    if (!student_) {
      return {-0.5 * (kLogTwoPi + std::log(h) + e * e / h), -e / h, 0.5 * (e * e / h - 1.0) / h,
              0.0};
    }
    const double q = e * e / (h * (nu_ - 2));
    const double log1q = std::log1p(q);
    const double w = q / (1 + q);
    return {constant_ - 0.5 * std::log(h) - 0.5 * (nu_ + 1) * log1q,
            -(nu_ + 1) * e / (h * (nu_ - 2) * (1 + q)), (0.5 * (nu_ + 1) * w - 0.5) / h,
            d_constant_ - 0.5 * log1q + 0.5 * (nu_ + 1) * w / (nu_ - 2)};
  }

 private:
  bool student_;
  double nu_;
  double constant_ = 0, d_constant_ = 0;
};

// e_t and its derivatives (only mu and ar1 move residuals). fGarch sets the first AR(1)
// residual to 0 rather than conditioning on a pre-sample value.
struct Residual {
  double e, d_mu, d_ar1;
};
inline Residual ResidualAt(GarchMean mean, const ParamVector& p, std::span<const double> r,
                           size_t t) {
  switch (mean) {
    case GarchMean::kZero:
      return {r[t], 0, 0};
    case GarchMean::kConstant:
      return {r[t] - p[kMu], -1, 0};
    case GarchMean::kAr1:
      if (t == 0) return {0, 0, 0};
      return {r[t] - p[kMu] - p[kAr1] * r[t - 1], -1, -r[t - 1]};
  }
  return {r[t], 0, 0};
}

double AbsMomentShapeDerivative(GarchDistribution distribution, double shape) {
  if (distribution == GarchDistribution::kNormal) return 0.0;
  return AbsMoment(distribution, shape) * 0.5 *
         (1 / (shape - 2) + Digamma((shape - 1) / 2) - Digamma(shape / 2));
}

// fGarch fits GJR as APARCH(delta = 2), (|e| - g e)^2 alpha_ap, and starts it with
// h_1 = omega + (alpha_ap + beta) s2. In GJR terms alpha = alpha_ap (1 - g)^2 and
// alpha + gamma = alpha_ap (1 + g)^2, so alpha_ap = ((sqrt(alpha) + sqrt(alpha + gamma))/2)^2.
struct AparchAlpha {
  double value, d_alpha, d_gamma;
};
AparchAlpha GjrStartAlpha(double alpha, double gamma) {
  const double root_pos = std::sqrt(std::max(alpha, 1e-300));
  const double root_neg = std::sqrt(std::max(alpha + gamma, 1e-300));
  const double half_sum = 0.5 * (root_pos + root_neg);
  const double d_neg = half_sum * 0.5 / root_neg;
  return {half_sum * half_sum, half_sum * 0.5 / root_pos + d_neg, d_neg};
}

// The omega that makes the unconditional variance equal s2 (variance targeting), and its
// derivative through s2 and the other parameters.
double TargetOmega(GarchSpec spec, const ParamVector& p, double s2, const ParamVector& ds2,
                   ParamVector& d_omega) {
  if (spec == GarchSpec::kEgarch) {
    const double log_s2 = std::log(s2);
    for (int k = 0; k < kNumParams; ++k) d_omega[k] = (1 - p[kBeta]) * ds2[k] / s2;
    d_omega[kBeta] -= log_s2;
    return (1 - p[kBeta]) * log_s2;
  }
  const double gamma_share = spec == GarchSpec::kGjr ? 0.5 : 0.0;
  const double persistence = p[kAlpha] + gamma_share * p[kGamma] + p[kBeta];
  for (int k = 0; k < kNumParams; ++k) d_omega[k] = (1 - persistence) * ds2[k];
  d_omega[kAlpha] -= s2;
  d_omega[kGamma] -= gamma_share * s2;
  d_omega[kBeta] -= s2;
  return s2 * (1 - persistence);
}

// The recursion state at time t: e_t, h_t (ln h_t for egarch) and their derivatives.
struct RecursionState {
  Residual residual{};
  double h = 0, log_h = 0;
  ParamVector dh{};  // d h_t (garch, gjr) or d ln h_t (egarch)
};

class Recursion {
 public:
  Recursion(const GarchOptions& options, const ParamVector& p, const ParamVector& d_omega)
      : spec_(options.spec),
        p_(p),
        d_omega_(d_omega),
        kappa_(AbsMoment(options.distribution, p[kShape])),
        d_kappa_(AbsMomentShapeDerivative(options.distribution, p[kShape])) {}

  template <bool kGrad>
  void Start(double s2, const ParamVector& ds2, RecursionState& s) const {
    if (spec_ == GarchSpec::kEgarch) {
      s.log_h = p_[kOmega] + p_[kBeta] * std::log(s2);
      s.h = std::exp(s.log_h);
      if (!kGrad) return;
      for (int k = 0; k < kNumParams; ++k) s.dh[k] = d_omega_[k] + p_[kBeta] * ds2[k] / s2;
      s.dh[kBeta] += std::log(s2);
      return;
    }
    AparchAlpha a{p_[kAlpha], 1, 0};
    if (spec_ == GarchSpec::kGjr) a = GjrStartAlpha(p_[kAlpha], p_[kGamma]);
    s.h = p_[kOmega] + (a.value + p_[kBeta]) * s2;
    if (!kGrad) return;
    for (int k = 0; k < kNumParams; ++k) s.dh[k] = d_omega_[k] + (a.value + p_[kBeta]) * ds2[k];
    s.dh[kAlpha] += a.d_alpha * s2;
    s.dh[kGamma] += a.d_gamma * s2;
    s.dh[kBeta] += s2;
  }

  // Moves `s` (holding e_{t-1}, h_{t-1}) to h_t; the caller then sets s.residual = e_t.
  template <bool kGrad>
  void Step(RecursionState& s) const {
    if (spec_ == GarchSpec::kEgarch) return StepEgarch<kGrad>(s);
    const double e = s.residual.e;
    const bool negative = spec_ == GarchSpec::kGjr && e < 0;
    const double a = negative ? p_[kAlpha] + p_[kGamma] : p_[kAlpha];
    const double h_prev = s.h;
    s.h = p_[kOmega] + a * e * e + p_[kBeta] * h_prev;
    if (!kGrad) return;
    for (int k = 0; k < kNumParams; ++k) s.dh[k] = d_omega_[k] + p_[kBeta] * s.dh[k];
    s.dh[kMu] += 2 * a * e * s.residual.d_mu;
    s.dh[kAr1] += 2 * a * e * s.residual.d_ar1;
    s.dh[kAlpha] += e * e;
    if (negative) s.dh[kGamma] += e * e;
    s.dh[kBeta] += h_prev;
  }

 private:
  // Nelson (1991) eq. (2.1) with g(z) = alpha (|z| - E|z|) + gamma z.
  template <bool kGrad>
  void StepEgarch(RecursionState& s) const {
    const double root_h = std::sqrt(s.h);
    const double z = s.residual.e / root_h;
    const double log_h_prev = s.log_h;
    s.log_h =
        p_[kOmega] + p_[kAlpha] * (std::abs(z) - kappa_) + p_[kGamma] * z + p_[kBeta] * log_h_prev;
    s.h = std::exp(s.log_h);
    if (!kGrad) return;
    const double slope = p_[kAlpha] * (z < 0 ? -1.0 : 1.0) + p_[kGamma];
    ParamVector next;
    for (int k = 0; k < kNumParams; ++k) {
      const double dz = -0.5 * z * s.dh[k];
      next[k] = d_omega_[k] + slope * dz + p_[kBeta] * s.dh[k];
    }
    next[kMu] += slope * s.residual.d_mu / root_h;
    next[kAr1] += slope * s.residual.d_ar1 / root_h;
    next[kAlpha] += std::abs(z) - kappa_;
    next[kShape] -= p_[kAlpha] * d_kappa_;
    next[kGamma] += z;
    next[kBeta] += log_h_prev;
    s.dh = next;
  }

  GarchSpec spec_;
  ParamVector p_, d_omega_;
  double kappa_, d_kappa_;
};

// Adds observation t's score (d l_t / d params) to `out`.
inline void AddScore(const GarchOptions& options, const DensityTerms& d, const RecursionState& s,
                     ParamVector& out) {
  const double dh_scale = options.spec == GarchSpec::kEgarch ? d.d_variance * s.h : d.d_variance;
  for (int k = 0; k < kNumParams; ++k) out[k] = dh_scale * s.dh[k];
  out[kMu] += d.d_residual * s.residual.d_mu;
  out[kAr1] += d.d_residual * s.residual.d_ar1;
  out[kShape] += d.d_shape;
}

template <bool kGrad>
double Evaluate(const GarchOptions& options, std::span<const double> r, const ParamVector& p,
                const LikelihoodOutputs& out) {
  const size_t n = r.size();
  double s2 = 0;
  ParamVector ds2{};
  for (size_t t = 0; t < n; ++t) {
    const Residual res = ResidualAt(options.mean, p, r, t);
    s2 += res.e * res.e;
    ds2[kMu] += 2 * res.e * res.d_mu;
    ds2[kAr1] += 2 * res.e * res.d_ar1;
  }
  s2 /= static_cast<double>(n);
  for (double& v : ds2) v /= static_cast<double>(n);

  ParamVector q = p;
  ParamVector d_omega = Unit(kOmega);
  if (options.variance_targeting) q[kOmega] = TargetOmega(options.spec, p, s2, ds2, d_omega);
  if (out.omega) *out.omega = q[kOmega];
  const Recursion recursion(options, q, d_omega);
  const Density density(options.distribution, p[kShape]);

  if (out.scores) out.scores->assign(n * kNumParams, 0.0);
  if (out.residuals) out.residuals->resize(n);
  if (out.variances) out.variances->resize(n);
  RecursionState state;
  recursion.Start<kGrad>(s2, ds2, state);
  double loglik = 0;
  ParamVector gradient{}, score;
  for (size_t t = 0; t < n; ++t) {
    if (t > 0) recursion.Step<kGrad>(state);
    state.residual = ResidualAt(options.mean, p, r, t);
    if (!(state.h > 0) || !std::isfinite(state.h)) return std::nan("");
    const DensityTerms d = density.Eval(state.residual.e, state.h);
    loglik += d.value;
    if (out.residuals) (*out.residuals)[t] = state.residual.e;
    if (out.variances) (*out.variances)[t] = state.h;
    if (!kGrad) continue;
    AddScore(options, d, state, score);
    for (int k = 0; k < kNumParams; ++k) gradient[k] += score[k];
    if (out.scores) std::copy(score.begin(), score.end(), out.scores->begin() + t * kNumParams);
  }
  if (kGrad && out.gradient) *out.gradient = gradient;
  return std::isfinite(loglik) ? loglik : std::nan("");
}

}  // namespace

const char* ParamName(int index) {
  static constexpr const char* kNames[kNumParams] = {"mu",     "ar1",   "omega", "alpha1",
                                                     "gamma1", "beta1", "shape"};
  return kNames[index];
}

std::vector<int> ModelParams(const GarchOptions& options) {
  std::vector<int> params;
  if (options.mean != GarchMean::kZero) params.push_back(kMu);
  if (options.mean == GarchMean::kAr1) params.push_back(kAr1);
  params.push_back(kOmega);
  params.push_back(kAlpha);
  if (options.spec != GarchSpec::kGarch) params.push_back(kGamma);
  params.push_back(kBeta);
  if (options.distribution == GarchDistribution::kStudentT) params.push_back(kShape);
  return params;
}

std::vector<int> EstimatedParams(const GarchOptions& options) {
  std::vector<int> params = ModelParams(options);
  if (options.variance_targeting) std::erase(params, static_cast<int>(kOmega));
  return params;
}

double LogLikelihood(const GarchOptions& options, std::span<const double> returns,
                     const ParamVector& params, const LikelihoodOutputs& outputs) {
  if (returns.empty()) return std::nan("");
  if (outputs.gradient || outputs.scores) return Evaluate<true>(options, returns, params, outputs);
  return Evaluate<false>(options, returns, params, outputs);
}

double AbsMoment(GarchDistribution distribution, double shape) {
  if (distribution == GarchDistribution::kNormal) return std::sqrt(2 / std::numbers::pi);
  return std::exp(0.5 * std::log(shape - 2) + std::lgamma((shape - 1) / 2) -
                  0.5 * std::log(std::numbers::pi) - std::lgamma(shape / 2));
}

// Recurrence up to x >= 6, then the asymptotic (Stirling) series; ~1e-15 relative.
double Digamma(double x) {
  double result = 0;
  while (x < 6) {
    result -= 1 / x;
    x += 1;
  }
  const double inv2 = 1 / (x * x);
  const double series =
      inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 / 132))));
  return result + std::log(x) - 0.5 / x - series;
}

}  // namespace vigil::garch_internal
