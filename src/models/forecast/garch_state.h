// Private to the GARCH family: the fitted model's state, shared by garch.cc (fit, append,
// serialisation) and garch_risk.cc (forecasts, VaR / ES).
#pragma once

#include "garch_likelihood.h"
#include "vigil/models/forecast/garch.h"

namespace vigil {

struct GarchModel::State {
  GarchFit fit;
  garch_internal::ParamVector params{};  // omega is the targeted value under targeting
  bool fitted = false;
  // The end of the recursion: r_T, e_T and h_T, from which h_{T+1} and r_{T+1} follow.
  double last_return = 0;
  double last_residual = 0;
  double last_variance = 0;
};

namespace garch_internal {
// E[h] of the stationary egarch process: normal innovations exactly, exp(omega / (1 - beta))
// prod_i M(beta^i); Student-t, for which E[h] is infinite, the log-linear value
// exp(omega / (1 - beta)) that the forecasts converge to. NaN when |beta| >= 1.
double EgarchLongRunVariance(const GarchOptions& options, const ParamVector& p);
}  // namespace garch_internal

}  // namespace vigil
