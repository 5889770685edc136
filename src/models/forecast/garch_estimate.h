// Private to the GARCH family: maximum-likelihood estimation and standard errors.
#pragma once

#include <span>
#include <vector>

#include "garch_likelihood.h"
#include "vigil/core/status.h"
#include "vigil/models/forecast/garch.h"

namespace vigil::garch_internal {

struct GarchEstimate {
  ParamVector params{};  // on the scale of the returns; omega is the targeted one under VT
  double loglik = 0;
  int iterations = 0;
  bool converged = false;
  // Per ModelParams(options) entry; NaN for a targeted omega or a singular Hessian.
  std::vector<double> standard_errors, robust_standard_errors;
};

// Fits by bounded L-BFGS-B on the series divided by its standard deviation (as fGarch does,
// for conditioning), polishes with Newton steps on a finite-difference Hessian of the
// analytic gradient, and maps back. Preconditions: options valid, returns finite with
// non-zero variance. FailedPrecondition when no finite likelihood is found.
Result<GarchEstimate> EstimateGarch(const GarchOptions& options, std::span<const double> returns);

}  // namespace vigil::garch_internal
