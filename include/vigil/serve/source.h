// Sources of live events for `vigil run`: a replay of stored data or of files, the
// simulator, and later exchange connectors, all behind MarketSource.
//
//   VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<vigil::MarketSource> source,
//                          vigil::OpenStoreReplay(store, replay_options));
//   vigil::SourceEvent event;
//   while (true) {
//     VIGIL_ASSIGN_OR_RETURN(bool more, source->Next(&event));
//     if (!more) break;
//     Process(event);  // event.event's spans stay valid until the next Next()
//   }
//
// Order: events come in time order across every series. At equal timestamps the non-candle
// kinds come first (in DataKind order), then candles, each series in instrument order, so a
// feature row at t sees every event stamped <= t (the feature engine's batch order; engine.h).
// Pacing: `speed` 0 delivers as fast as possible; speed s > 0 sleeps so that data time
// advances s times as fast as the injected clock (1 = real time), measured from the first
// event. Sleeps go through `sleep` (tests inject a fake). A source that is behind never
// sleeps and never drops events.
// Thread-safety: a source is used by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vigil/core/clock.h"
#include "vigil/core/status.h"
#include "vigil/data/market_data.h"
#include "vigil/data/records.h"
#include "vigil/data/simulator.h"
#include "vigil/features/event.h"
#include "vigil/store/store.h"

namespace vigil {

struct SourceEvent {
  std::string instrument;  // "venue:symbol"
  std::string timeframe;   // candles only
  Event event;             // event.kind is the data kind; ts in ns
  Timestamp arrived;       // when the source delivered it (clock time), for scoring lag
};

class MarketSource {
 public:
  virtual ~MarketSource() = default;
  // The next event into *out; false at the end of the data (a live source never ends).
  virtual Result<bool> Next(SourceEvent* out) = 0;
  // One line for the log: "store replay of 3 instruments, 2024-01-01 .. 2024-01-08 at 60x".
  virtual std::string Describe() const = 0;
};

struct PaceOptions {
  double speed = 0.0;            // 0 = as fast as possible; > 0 = data time per clock time
  const Clock* clock = nullptr;  // nullptr = a SystemClock
  std::function<void(std::chrono::nanoseconds)> sleep;  // empty = std::this_thread::sleep_for
  Status Validate() const;
};

// Replays in-memory batches (each sorted by time; ValidateBatch-clean). Several batches of one
// series are merged (at equal timestamps in the given order). `description` starts Describe()
// ("store replay" -> "store replay of 2 instruments, 2024-01-01 .. 2024-01-04 at 60x").
// InvalidArgument for invalid pace options or a batch out of time order (naming the series).
// The events are built up front, so memory is about the batches' size.
Result<std::unique_ptr<MarketSource>> OpenBatchReplay(std::vector<RecordBatch> batches,
                                                      PaceOptions pace, std::string description);

struct StoreReplayOptions {
  std::vector<std::string> instruments;  // empty = every stored instrument
  std::vector<DataKind> kinds;           // empty = every stored kind
  std::string timeframe;                 // candles; "" = each instrument's smallest
  Timestamp from = Timestamp::Min();
  Timestamp to = Timestamp::Max();
  PaceOptions pace;
};
// Reads the selected series from `store` (now, all into memory) and replays them; from <= ts
// < to. NotFound naming it when a listed instrument has no stored data, and when nothing
// matches; InvalidArgument when from >= to.
Result<std::unique_ptr<MarketSource>> OpenStoreReplay(Store& store,
                                                      const StoreReplayOptions& options);

struct FileSourceSpec {
  std::string path;
  DataKind kind = DataKind::kCandles;
  std::string format = "auto";           // FileFormat name
  std::string venue, symbol, timeframe;  // as ReadOptions
};
// Reads and validates the files (rejected rows are logged and skipped, as ingest does) and
// replays them (one MarketFileReader per spec). Fails naming the file when one cannot be read
// at all (or its format name is unknown); InvalidArgument for an empty list.
Result<std::unique_ptr<MarketSource>> OpenFileReplay(const std::vector<FileSourceSpec>& files,
                                                     PaceOptions pace);

// Runs the simulator and replays its batches; `events_out` (may be null) receives the
// injected incidents (ground truth).
Result<std::unique_ptr<MarketSource>> OpenSimulatorSource(const SimulationOptions& options,
                                                          PaceOptions pace,
                                                          std::vector<SimulatedEvent>* events_out);

}  // namespace vigil
