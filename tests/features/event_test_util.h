// Shared checks for event kernels (event_kernel.h): real-data loading, streaming = batch
// parity and the point-in-time (truncation) property, for kernels with one or more inputs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vigil/data/market_data.h"
#include "vigil/data/reader.h"
#include "vigil/features/event.h"
#include "vigil/features/event_kernel.h"

namespace vigil::testing_util {

// Reads a file under ../shared/data (relative path, e.g. "trades/binance_btcusdt-trades.csv")
// with MarketFileReader (format auto unless given; venue/symbol "test"/"TEST" when the
// file does not name them) and returns the events of its first batch of `kind`, sorted by
// time. Fails the test (ADD_FAILURE) and returns an empty stream when it cannot.
EventStream LoadSharedEvents(DataKind kind, const std::string& relative_path,
                             FileFormat format = FileFormat::kAuto);

// Events of `kind` from a frame built row by row in tests: each row is {ts, values...}
// in the kind's field order (order books: {ts, side, level, price, size}).
EventStream MakeEvents(DataKind kind, const std::vector<std::vector<double>>& rows);

// Streaming (a kernel fed one event at a time, emitting after each inputs[0] event) gives
// bit-identical rows to RunOverInputs, and a kernel that is Reset() and run again gives
// them too. inputs[i] feeds input i.
void ExpectEventStreamingEqualsBatch(const EventKernel& kernel,
                                     const std::vector<const EventStream*>& inputs);

// Truncating every input at `cuts` random times t never changes a row already produced
// for a driver event stamped <= t.
void ExpectEventPointInTime(const EventKernel& kernel,
                            const std::vector<const EventStream*>& inputs, int cuts = 25);

// The catalogue group `group` holds exactly the features in `expected_outputs`, and each
// builds from its defaults with those output names and one input of its listed kind.
void ExpectCatalogueGroup(const std::string& group,
                          const std::map<std::string, std::vector<std::string>>& expected_outputs);

// Every input cut to its events stamped <= cut, as new streams (nullptr -> empty).
std::vector<EventStream> TruncateAt(const std::vector<const EventStream*>& inputs, int64_t cut);

// Runs the kernel (RunOverInputs) and returns column `name` (fails the test if absent).
std::vector<double> RunColumn(const EventKernel& kernel,
                              const std::vector<const EventStream*>& inputs,
                              const std::string& name);

}  // namespace vigil::testing_util
