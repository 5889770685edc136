// Exporting a stored series to CSV, in the same layout `vigil ingest` reads back:
//   ts,instrument,<the kind's fields>
// with ts as ISO-8601 UTC, numbers in shortest round-trip form and empty fields for
// missing values, so export -> ingest reproduces the series exactly.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::SeriesKey series,
//                          vigil::ResolveSeries(*store, instrument, vigil::DataKind::kCandles,
//                          ""));
//   VIGIL_ASSIGN_OR_RETURN(int64_t rows, vigil::ExportCsv(*store, series, from, to, "out.csv"));
//
// Thread-safety: uses the Store from the calling thread only.
#pragma once

#include <cstdint>
#include <string>

#include "vigil/store/store.h"

namespace vigil {

// Finds the stored series for an instrument and kind. `timeframe` may be empty when the
// instrument has exactly one stored timeframe of that kind; otherwise the error lists the
// timeframes to choose from. NotFound when nothing is stored.
Result<SeriesKey> ResolveSeries(Store& store, const Instrument& instrument, DataKind kind,
                                const std::string& timeframe);

// Renders rows of `frame` (a series of `series.kind`) as CSV text with a header.
std::string FrameToCsv(const SeriesKey& series, const Frame& frame);

// Writes rows with from <= ts < to to `path` atomically; returns the row count.
Result<int64_t> ExportCsv(Store& store, const SeriesKey& series, Timestamp from, Timestamp to,
                          const std::string& path);

}  // namespace vigil
