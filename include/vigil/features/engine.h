// The feature engine: computes a feature set over one or more event streams, one output
// row per event of the driver stream, in streaming and batch mode with identical values.
//
// Streams are (instrument, kind) pairs; instrument "" is the row's own instrument (the
// file or --instrument being computed), others come from cross-instrument entries. The
// driver stream is ("", spec.driver). Events of all streams are observed in time order;
// a driver event produces a row after every kernel has observed it, with now = its ts.
// At equal timestamps the batch path feeds non-driver streams first (in stream order),
// so a row at t sees every event stamped <= t. Streaming callers must do the same to
// reproduce batch values bit for bit.
//
//   VIGIL_ASSIGN_OR_RETURN(auto spec, vigil::BuiltinFeatureSet("ta"));
//   VIGIL_ASSIGN_OR_RETURN(auto engine, vigil::FeatureEngine::Create(spec, {.base_step_ns =
//   60'000'000'000})); std::vector<double> row(engine.columns().size()); for (const vigil::Event& e
//   : candles.events()) {
//     if (engine.Push(0, e, row)) Use(e.ts, row);
//   }
//   // or, batch:  VIGIL_ASSIGN_OR_RETURN(vigil::Frame table, vigil::ComputeFeatures(engine,
//   {&candles}));
//
// A kernel's columns are NaN until each stream it reads has delivered an event, so
// streams with no events (a kind the input does not have) leave their features NaN
// rather than, say, a liquidation count of 0.
// Thread-safety: an engine holds kernel state; use one per thread.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vigil/core/frame.h"
#include "vigil/core/status.h"
#include "vigil/features/event.h"
#include "vigil/features/event_kernel.h"
#include "vigil/features/spec.h"

namespace vigil {

struct StreamKey {
  std::string instrument;  // "" = the row's own instrument
  DataKind kind = DataKind::kCandles;
  auto operator<=>(const StreamKey&) const = default;
};

struct EngineOptions {
  // Step of the candle streams; needed only when an entry has timeframes (Create fails
  // naming the entry otherwise). Higher timeframes must be whole multiples of it.
  int64_t base_step_ns = 0;
};

class FeatureEngine {
 public:
  static Result<FeatureEngine> Create(const FeatureSetSpec& spec, const EngineOptions& options);

  FeatureEngine(FeatureEngine&&) noexcept;
  FeatureEngine& operator=(FeatureEngine&&) noexcept;
  ~FeatureEngine();

  const std::string& set_name() const { return set_name_; }
  uint64_t spec_hash() const { return spec_hash_; }
  const std::vector<std::string>& columns() const { return columns_; }
  // Streams the set reads; index 0 is the driver.
  const std::vector<StreamKey>& streams() const { return streams_; }

  // Observes `event` of stream `stream` (an index into streams()). For the driver stream
  // also writes the row as of event.ts into `row` (size columns().size()) and returns
  // true. Precondition: event timestamps are non-decreasing across all streams.
  bool Push(int stream, const Event& event, std::span<double> row);
  // Forgets all state.
  void Reset();

  // Batch support (ComputeFeatures): the kernels, their routes and output columns.
  size_t num_kernels() const;
  // Feeds kernel `k` the event of `stream` if the kernel reads that stream.
  void ObserveKernel(size_t k, int stream, const Event& event);
  // Kernel k's outputs as of the driver event (now = its ts) into
  // row[offset(k) .. offset(k) + width(k)).
  void EmitKernel(size_t k, const Event& driver_event, std::span<double> row);
  size_t offset(size_t k) const;
  size_t width(size_t k) const;

 private:
  struct Bound;  // a kernel with its stream bindings and output offset
  FeatureEngine() = default;

  std::string set_name_;
  uint64_t spec_hash_ = 0;
  std::vector<std::string> columns_;
  std::vector<StreamKey> streams_;
  std::vector<Bound> kernels_;
  std::vector<std::vector<std::pair<int, int>>> routes_;  // stream -> (kernel, input)
};

struct ComputeOptions {
  // Kernels are independent, so the batch path runs each over the whole merged event
  // sequence in turn (kernel-major: its state stays in cache), spread over this many
  // threads; 0 = one per hardware thread. Every kernel sees exactly the Observe/Emit calls
  // of streaming, so the values do not depend on the thread count.
  int threads = 1;
};

// Batch path: merges `streams` (streams[i] holds the events of engine.streams()[i];
// nullptr or empty = no data) in time order as described above, drives the engine from
// its current state, and returns a Frame: timestamp + one double column per feature, one
// row per driver event. Fails if a stream is out of time order or its kind differs.
Result<Frame> ComputeFeatures(FeatureEngine& engine, std::span<const EventStream* const> streams,
                              const ComputeOptions& options = {});

}  // namespace vigil
