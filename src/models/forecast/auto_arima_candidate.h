// Fitting and scoring one auto-ARIMA candidate as forecast 8.20's myarima does, with a
// per-search cache so no (p, d, q, constant, method) is fitted twice. Private.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "models/forecast/auto_arima_search.h"
#include "vigil/models/forecast/arima.h"
#include "vigil/models/forecast/auto_arima.h"

namespace vigil::auto_arima_internal {

// myarima's criteria from an AIC (Hurvich & Tsai 1989 for AICc): `npar` counts the
// coefficients plus sigma2, `nstar` = n - d observations.
double CriterionFromAic(double aic, int npar, int nstar, InformationCriterion ic);

// The smallest modulus of the roots of 1 + sign (c1 z + ... + cm z^m) after dropping
// trailing |c| <= 1e-8 (as myarima); 2 when no coefficient is left (myarima's default).
// sign = -1 for an AR polynomial, +1 for an MA polynomial.
double MinRootModulus(std::span<const double> coefficients, double sign);

// myarima's offset for CSS scores: -2 loglik - n log(sigma2) of the exact ARIMA(0,d,0) fit
// (with a mean when d == 0, as stats::arima's default); 0 when that fit fails.
double ApproximationOffset(std::span<const double> y, int d);

class CandidateFitter {
 public:
  // `y` must outlive the fitter. `offset` is used for CSS (approximate) scores only.
  CandidateFitter(std::span<const double> y, int d, InformationCriterion ic, double offset);

  // Fits (once; later calls hit the cache) and scores a candidate: by CSS with the offset
  // criterion when `approximate`, else by exact ML (css-ml). +infinity for a failed fit,
  // roots of modulus < 1.01, or a non-positive coefficient variance (myarima's checkarima).
  Score Evaluate(const Candidate& candidate, bool approximate);
  // The fitted model of an evaluated candidate, or nullptr when its fit failed.
  const ArimaModel* Model(const Candidate& candidate, bool approximate) const;

 private:
  struct Entry {
    Candidate candidate;
    bool approximate = false;
    Score score;
    std::optional<ArimaModel> model;
  };
  const Entry* Find(const Candidate& candidate, bool approximate) const;
  Entry FitEntry(const Candidate& candidate, bool approximate) const;

  std::span<const double> y_;
  int d_;
  InformationCriterion ic_;
  double offset_;
  std::vector<Entry> cache_;
};

}  // namespace vigil::auto_arima_internal
