// One auto-ARIMA candidate, scored as forecast 8.20's myarima: CSS fits during an
// approximate search are scored by offset + (n - d) log(sigma2) + 2 npar (Hyndman &
// Khandakar 2008, sec. 3.2: the approximation that makes the search fast on long series).
#include "models/forecast/auto_arima_candidate.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

namespace vigil::auto_arima_internal {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
// myarima: a coefficient this small is treated as zero when trimming the polynomial.
constexpr double kNegligibleCoefficient = 1e-8;
// myarima: roots must lie outside the circle of radius 1 + 0.01.
constexpr double kMinRootModulus = 1.01;

// myarima's checkarima: a coefficient variance whose square root is NaN.
bool HasInvalidVariance(const ArimaFit& fit) {
  const size_t k = fit.coefficients.size();
  if (fit.covariance.size() == k * k && k > 0) {
    for (size_t i = 0; i < k; ++i) {
      const double variance = fit.covariance[i * k + i];
      if (std::isnan(variance) || variance < 0) return true;
    }
    return false;
  }
  // No covariance: the Hessian was not positive definite (ArimaFit's contract).
  return std::any_of(fit.standard_errors.begin(), fit.standard_errors.end(),
                     [](double se) { return std::isnan(se); });
}

bool RootsTooClose(const ArimaFit& fit) {
  const int p = fit.order.p, q = fit.order.q;
  std::span<const double> coefficients(fit.coefficients);
  if (static_cast<int>(coefficients.size()) < p + q) return true;
  double min_root = 2;
  if (p > 0) min_root = std::min(min_root, MinRootModulus(coefficients.subspan(0, p), -1));
  if (q > 0) min_root = std::min(min_root, MinRootModulus(coefficients.subspan(p, q), 1));
  return !(min_root >= kMinRootModulus);
}

}  // namespace

double CriterionFromAic(double aic, int npar, int nstar, InformationCriterion ic) {
  if (std::isnan(aic)) return kInfinity;
  switch (ic) {
    case InformationCriterion::kAic:
      return aic;
    case InformationCriterion::kBic:
      return aic + npar * (std::log(static_cast<double>(nstar)) - 2);
    case InformationCriterion::kAicc:
      return aic + 2.0 * npar * (npar + 1) / static_cast<double>(nstar - npar - 1);
  }
  return aic;
}

double MinRootModulus(std::span<const double> coefficients, double sign) {
  size_t degree = coefficients.size();
  while (degree > 0 && !(std::fabs(coefficients[degree - 1]) > kNegligibleCoefficient)) {
    --degree;
  }
  if (degree == 0) return 2;
  if (degree == 1) return 1.0 / std::fabs(coefficients[0]);
  // Roots z of 1 + sign sum c_i z^i are 1 / lambda for the eigenvalues lambda of the
  // companion matrix of lambda^m + sign sum c_i lambda^(m-i).
  Eigen::MatrixXd companion = Eigen::MatrixXd::Zero(degree, degree);
  for (size_t i = 0; i < degree; ++i) companion(0, i) = -sign * coefficients[i];
  for (size_t i = 1; i < degree; ++i) companion(i, i - 1) = 1;
  const Eigen::VectorXcd eigenvalues = companion.eigenvalues();
  const double largest = eigenvalues.cwiseAbs().maxCoeff();
  return largest > 0 ? 1.0 / largest : kInfinity;
}

double ApproximationOffset(std::span<const double> y, int d) {
  ArimaOptions options;
  options.order = {0, d, 0};
  options.method = ArimaMethod::kCssMl;
  options.include_constant = d == 0;
  Result<ArimaModel> fit = ArimaModel::Fit(y, options);
  if (!fit.ok()) return 0;
  const double n = static_cast<double>(y.size());
  return -2 * fit->fit().loglik - n * std::log(fit->fit().sigma2);
}

CandidateFitter::CandidateFitter(std::span<const double> y, int d, InformationCriterion ic,
                                 double offset)
    : y_(y), d_(d), ic_(ic), offset_(offset) {}

const CandidateFitter::Entry* CandidateFitter::Find(const Candidate& candidate,
                                                    bool approximate) const {
  for (const Entry& entry : cache_) {
    if (entry.candidate == candidate && entry.approximate == approximate) return &entry;
  }
  return nullptr;
}

CandidateFitter::Entry CandidateFitter::FitEntry(const Candidate& candidate,
                                                 bool approximate) const {
  Entry entry{candidate, approximate, {kInfinity, false}, std::nullopt};
  ArimaOptions options;
  options.order = {candidate.p, d_, candidate.q};
  options.method = approximate ? ArimaMethod::kCss : ArimaMethod::kCssMl;
  options.include_constant = candidate.constant;
  Result<ArimaModel> model = ArimaModel::Fit(y_, options);
  if (!model.ok()) return entry;
  const ArimaFit& fit = model->fit();
  const int nstar = static_cast<int>(y_.size()) - d_;
  const int npar = static_cast<int>(fit.coefficients.size()) + 1;
  const double aic = approximate ? offset_ + nstar * std::log(fit.sigma2) + 2.0 * npar
                                 : -2 * fit.loglik + 2.0 * npar;
  double ic = CriterionFromAic(aic, npar, nstar, ic_);
  if (std::isnan(ic) || RootsTooClose(fit) || HasInvalidVariance(fit)) ic = kInfinity;
  entry.score = {ic, true};
  entry.model = std::move(*model);
  return entry;
}

Score CandidateFitter::Evaluate(const Candidate& candidate, bool approximate) {
  if (const Entry* hit = Find(candidate, approximate)) return hit->score;
  cache_.push_back(FitEntry(candidate, approximate));
  return cache_.back().score;
}

const ArimaModel* CandidateFitter::Model(const Candidate& candidate, bool approximate) const {
  const Entry* entry = Find(candidate, approximate);
  return entry != nullptr && entry->model ? &*entry->model : nullptr;
}

}  // namespace vigil::auto_arima_internal
