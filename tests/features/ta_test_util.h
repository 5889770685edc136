// Shared checks for feature kernels: the TTR reference fixture, reference comparison,
// streaming = batch parity and the point-in-time (truncation) property.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigil/features/kernel.h"

namespace vigil::testing_util {

struct TtrFixture {
  std::vector<Bar> bars;
  std::map<std::string, std::vector<double>> expected;  // TTR's value per bar, NaN = NA
};

// tests/testdata/features/ttrc_ta.csv (made by scripts/fixtures/ttr_ta.R).
const TtrFixture& Ttrc();
// tests/testdata/features/ttrc_price.csv (made by scripts/fixtures/ttr_price.R): the same
// bars with the price.h kernels' reference columns.
const TtrFixture& TtrcPrice();

// Feeds `bars` to `kernel` one at a time (continuing its state) and returns every
// bar's outputs: result[bar][column].
std::vector<std::vector<double>> RunKernel(FeatureKernel& kernel, const std::vector<Bar>& bars);

// Candle bars of a real crypto file in ../shared/data (freqtrade CSV layout).
std::vector<Bar> SharedCandles(const std::string& relative_path);
// The same without failing the test: nullopt when the readers cannot read the file as
// candles (for sweeps over every file of a folder).
std::optional<std::vector<Bar>> TrySharedCandles(const std::string& relative_path);

// Every output column of `kernel` over the fixture equals TTR's column of the same name:
// NaN exactly where TTR has NA, else |a - b| <= 1e-9 * max(1, |b|).
void ExpectMatchesTtr(const FeatureKernel& kernel);
// The same check against another fixture's bars and columns (e.g. TtrcPrice()).
void ExpectMatchesTtr(const FeatureKernel& kernel, const TtrFixture& fixture);

// After Reset() a kernel replays `bars` exactly; Clone() of a kernel with state starts
// fresh, with the same output names.
void ExpectResetAndCloneStartFresh(FeatureKernel& kernel, const std::vector<Bar>& bars);

// Streaming updates one bar at a time give bit-identical values to ComputeOverBars.
void ExpectStreamingEqualsBatch(const FeatureKernel& kernel, const std::vector<Bar>& bars);

// Truncating the input at `cuts` random points never changes a value already produced:
// the value at t depends only on bars <= t.
void ExpectPointInTime(const FeatureKernel& kernel, const std::vector<Bar>& bars, int cuts = 25);

}  // namespace vigil::testing_util
