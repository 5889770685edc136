// Features and the store: loading the event streams a feature set reads, and saving /
// loading computed features in the `feature_store` table keyed by the set's spec hash.
//
//   VIGIL_ASSIGN_OR_RETURN(auto inputs, vigil::LoadStreams(store, "binance:BTC/USDT",
//                                                           engine.streams(), "", to));
//   VIGIL_ASSIGN_OR_RETURN(vigil::Frame table, vigil::ComputeFeatures(engine, inputs.pointers()));
//   VIGIL_RETURN_IF_ERROR(vigil::SaveFeatures(store, "binance:BTC/USDT", spec, table,
//   now).status());
//
// Thread-safety: functions use the store they are given; see store.h.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "vigil/core/frame.h"
#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/engine.h"
#include "vigil/features/spec.h"
#include "vigil/store/store.h"

namespace vigil {

// The streams of an engine, loaded from a store; pointers() feeds ComputeFeatures.
struct LoadedStreams {
  std::vector<EventStream> streams;
  std::string candle_timeframe;  // the candle timeframe used ("" when no candles read)
  int64_t candle_step_ns = 0;    // its step, for EngineOptions::base_step_ns

  std::vector<const EventStream*> pointers() const;
};

// Loads every stream in `keys` for `instrument` (keys with instrument "" mean this one)
// with ts < to. Candles use `candle_timeframe`, or when empty the smallest timeframe stored
// for the row's own instrument. A stream with no stored rows is empty. Fails when the
// instrument is malformed or the store fails.
Result<LoadedStreams> LoadStreams(Store& store, const std::string& instrument,
                                  std::span<const StreamKey> keys,
                                  const std::string& candle_timeframe, Timestamp to);

// A feature set computed over stored data (ComputeStoredFeatures).
struct StoredFeatures {
  LoadedStreams inputs;    // the streams read; inputs.streams[0] is the driver
  Frame table;             // ComputeFeatures output for driver events with from <= ts < to
  size_t first_event = 0;  // driver event of table row 0 (row r = event first_event + r)
};

// Computes `spec` for `instrument` from everything stored with ts < to; data before `from`
// only warms the kernels up. NotFound naming the instrument and kind when no driver data
// is stored; otherwise as LoadStreams and ComputeFeatures.
Result<StoredFeatures> ComputeStoredFeatures(Store& store, const std::string& instrument,
                                             const FeatureSetSpec& spec,
                                             const std::string& candle_timeframe, Timestamp from,
                                             Timestamp to, const ComputeOptions& options = {});

// Writes a ComputeFeatures table under (instrument, spec.name, spec hash); replaces values
// already stored for the same timestamps. Returns the number of values written.
Result<int64_t> SaveFeatures(Store& store, const std::string& instrument,
                             const FeatureSetSpec& spec, const Frame& features,
                             Timestamp computed_at);

// Instruments with stored data of `kind`, sorted: those a feature set driven by `kind` can be
// computed for (detector scans over every instrument).
Result<std::vector<std::string>> InstrumentsWithData(Store& store, DataKind kind);

// Stored features of (instrument, spec) with from <= ts < to, columns spec.Columns().
Result<Frame> LoadFeatures(Store& store, const std::string& instrument, const FeatureSetSpec& spec,
                           Timestamp from, Timestamp to);

}  // namespace vigil
