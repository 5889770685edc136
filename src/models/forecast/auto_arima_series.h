// Series helpers shared by the KPSS tests and the auto-ARIMA driver (private).
#pragma once

#include <span>
#include <vector>

namespace vigil::auto_arima_internal {

// forecast:::is.constant: all.equal(y, rep(y[1], n)) with R's default tolerance
// sqrt(.Machine$double.eps): the mean absolute deviation from y[1] over the elements that
// differ, relative to their mean absolute value (absolute when that is tiny), is <= 1.5e-8.
// True for n <= 1.
bool IsConstantLikeR(std::span<const double> y);

// The `order`-th difference (1 - B)^order y, of length n - order (empty when n <= order).
std::vector<double> Difference(std::span<const double> y, int order);

}  // namespace vigil::auto_arima_internal
