// Shared by the forecast_r_test suites: loads the reference fixtures under
// tests/testdata/forecast/ (made by scripts/fixtures/arima_reference.R,
// auto_arima_reference.R, garch_reference.R and egarch_reference.py), rebuilds their series
// and compares numbers with the tolerances the tests document.
//
// Series in a fixture are either embedded ("source": "R datasets", "values") or rebuilt
// from real candles in VIGIL_SHARED_DATA ("source": "shared": file, column, transform,
// first_row, rows), exactly as forecast_series.R builds them for R:
//   log             log(close)
//   log_return      log(c[t]) - log(c[t-1])
//   pct_log_return  100 * (log(c[t]) - log(c[t-1]))
// Every series is checked against the fixture's length and first/last values, so a changed
// data file fails loudly instead of producing confusing mismatches.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vigil::forecast_fixture {

// tests/testdata/forecast/<file> parsed; records a failure and returns null when the file
// cannot be read or parsed.
nlohmann::json Load(const std::string& file);

// The series of fixture["series"] by name. Records a failure for a series that cannot be
// rebuilt or whose length/first/last differ from the fixture (relative 1e-12: R's and
// C++'s number parsing and log may differ in the last bit).
std::map<std::string, std::vector<double>> BuildSeries(const nlohmann::json& fixture);

// A JSON number, or NaN for null (R's NA).
double Number(const nlohmann::json& value);
// A JSON array of numbers (null entries NaN); a scalar is a one-element array.
std::vector<double> Numbers(const nlohmann::json& value);
std::vector<std::string> Strings(const nlohmann::json& value);

// |actual - expected| <= tolerance * max(|expected|, scale): relative, with `scale` as the
// floor for values near zero. Both NaN counts as equal.
::testing::AssertionResult Near(double actual, double expected, double tolerance,
                                double scale = 0.0);

// Element-wise Near over two vectors of the same length; `scales` (optional, same length)
// are the per-element floors.
::testing::AssertionResult AllNear(const std::vector<double>& actual,
                                   const std::vector<double>& expected, double tolerance,
                                   const std::vector<double>& scales = {});

}  // namespace vigil::forecast_fixture
