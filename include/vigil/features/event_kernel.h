// Event kernels: incremental features over one or more event streams of any kind.
//
// A kernel declares its inputs (a kind, and optionally which instrument; see
// KernelInput). The feature engine (engine.h) routes every event of a matching stream to
// Observe(input, event) in time order, and asks for the outputs with Emit(now, out) once
// per output row, where `now` is the row's timestamp and every event stamped <= now that
// the row may see has been observed. Time-windowed kernels (counts over the last 5
// minutes, ...) evict by `now`, so a quiet input still decays correctly.
//
// Bar kernels (kernel.h) become event kernels with AdaptBarKernel: they observe candle
// events and emit the values of their latest update.
//
// Point in time: Emit's values depend only on observed events (all stamped <= now) and on
// `now`. Warm-up values are NaN. Updates are O(1) amortised (O(log n) for rolling order
// statistics).
//
// Thread-safety: a kernel holds mutable state; use one per thread (Clone()).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vigil/features/event.h"
#include "vigil/features/kernel.h"

namespace vigil {

struct KernelInput {
  DataKind kind = DataKind::kCandles;
  // Empty: the instrument the feature is computed for. Otherwise "venue:symbol" of
  // another instrument (cross-instrument features, e.g. correlation with BTC).
  std::string instrument;
};

class EventKernel {
 public:
  virtual ~EventKernel() = default;

  virtual std::span<const KernelInput> inputs() const = 0;
  virtual const std::vector<std::string>& output_names() const = 0;
  // Consumes the next event of input `input` (an index into inputs()). Precondition:
  // events arrive in non-decreasing ts across all inputs.
  virtual void Observe(int input, const Event& event) = 0;
  // Writes the outputs as of `now` (>= every observed ts) into `out`
  // (out.size() == output_names().size()). Called once per output row, in time order.
  virtual void Emit(int64_t now, std::span<double> out) = 0;
  virtual void Reset() = 0;
  // A new kernel with the same parameters and no state.
  virtual std::unique_ptr<EventKernel> Clone() const = 0;

  // The bar kernel inside an AdaptBarKernel wrapper, else nullptr. When such a kernel's
  // only input is the driver's candles, the engine calls its Update straight into the row
  // (the same calls, so the same values, without the wrapper's copy).
  virtual FeatureKernel* bar_kernel() { return nullptr; }
};

// Wraps a bar kernel: input {candles}; Observe converts the event to a Bar and updates;
// Emit writes the outputs of the latest update (NaN before the first bar).
std::unique_ptr<EventKernel> AdaptBarKernel(std::unique_ptr<FeatureKernel> bar_kernel);

// Wraps a candles kernel so it sees bars resampled from source_step_ns to target_step_ns
// (resample.h): a higher-timeframe bar reaches the inner kernel only when it has closed,
// stamped at its open time. Output names get the suffix "_<timeframe>" (e.g. sma_20_1h).
// Precondition: every input of `inner` is candles of the same instrument.
Result<std::unique_ptr<EventKernel>> MakeResampledKernel(std::unique_ptr<EventKernel> inner,
                                                         int64_t source_step_ns,
                                                         int64_t target_step_ns);

// Runs a bar kernel on one numeric field of any kind's events (a feature set's `source:
// funding.rate`): each event becomes a bar whose open, high, low and close are the field's
// value (volume NaN); events where the field is NaN are skipped. Input {kind}; output
// names get "_<field name>" (zscore_20_rate). Precondition: field_index names a double
// field of `kind`.
std::unique_ptr<EventKernel> MakeFieldKernel(std::unique_ptr<FeatureKernel> bar_kernel,
                                             DataKind kind, int field_index);

// Wraps a kernel to emit its current outputs followed by, for each lag k in `lags` (each
// >= 1), its outputs from k rows earlier (NaN until k rows exist). Output names: the
// inner names, then "<name>_lag<k>" for each lag in order, for each output.
std::unique_ptr<EventKernel> MakeLaggedKernel(std::unique_ptr<EventKernel> inner,
                                              std::vector<int> lags);

// Research and test helper: runs a fresh clone of `kernel` over its inputs
// (inputs[i] feeds input i; nullptr = no events), merged in time order with the engine's
// rule (at equal ts, inputs 1, 2, ... before input 0), emitting one row after each event of
// inputs[0] (now = that event's ts). Precondition: inputs.size() == kernel.inputs().size().
std::vector<std::vector<double>> RunOverInputs(const EventKernel& kernel,
                                               std::span<const EventStream* const> inputs);
// The single-input case: one row per event of `stream`.
std::vector<std::vector<double>> RunOverStream(const EventKernel& kernel,
                                               const EventStream& stream);

}  // namespace vigil
