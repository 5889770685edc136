// Feature kernels: incremental computations over a stream of observations.
//
// A kernel consumes one observation at a time in time order and, after each, produces
// its output values (one or more named columns). Updates are O(1) amortised (O(log n)
// for rolling order statistics), so the same kernel serves live scoring and research:
// the batch path (ComputeOverCandles) drives the very same Update calls over a Frame,
// which makes batch and streaming results bit-identical by construction.
//
// Point in time: a value after the update at time t depends only on observations with
// timestamps <= t. Warm-up values are NaN, never a guess.
//
//   std::unique_ptr<vigil::FeatureKernel> sma = vigil::MakeSma(20);
//   std::vector<double> out(sma->output_names().size());
//   for (const vigil::Bar& bar : bars) { sma->Update(bar, out); ... out[0] ... }
//
// Thread-safety: a kernel holds mutable state; use one per thread (Clone()).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vigil/core/frame.h"
#include "vigil/core/status.h"

namespace vigil {

// One candle as kernels see it.
struct Bar {
  int64_t ts = 0;
  double open = 0;
  double high = 0;
  double low = 0;
  double close = 0;
  double volume = 0;
};

class FeatureKernel {
 public:
  virtual ~FeatureKernel() = default;

  // Names of the output columns, e.g. {"macd_12_26_9", "macd_signal_12_26_9", ...}.
  virtual const std::vector<std::string>& output_names() const = 0;
  // Consumes the next bar (precondition: bar.ts >= the previous bar's ts) and writes one
  // value per output name into `out` (precondition: out.size() == output_names().size()).
  virtual void Update(const Bar& bar, std::span<double> out) = 0;
  // Forgets all observations.
  virtual void Reset() = 0;
  // A new kernel with the same parameters and no state.
  virtual std::unique_ptr<FeatureKernel> Clone() const = 0;
};

// Reads a candles Frame (columns open, high, low, close, volume; see market_data.h)
// into bars. Fails when a column is missing.
Result<std::vector<Bar>> BarsFromCandles(const Frame& candles);

// The batch path: runs fresh clones of `kernels` over `bars` and returns a Frame with the
// bars' timestamps and every kernel's output columns, in kernel order.
Frame ComputeOverBars(std::span<const std::unique_ptr<FeatureKernel>> kernels,
                      std::span<const Bar> bars);

}  // namespace vigil
