// Deterministic synthetic inputs for benchmarks.
#pragma once

#include <cstdint>
#include <string>

#include "vigil/data/records.h"

namespace vigil::bench {

// A freqtrade-style candle CSV ("date,open,high,low,close,volume", ISO times, 1m bars)
// with `rows` rows of a random walk.
std::string CandleCsv(int64_t rows, uint64_t seed = 1);

// The same bars as a RecordBatch for instrument bench:BTC/USDT 1m.
RecordBatch CandleBatch(int64_t rows, uint64_t seed = 1);

}  // namespace vigil::bench
