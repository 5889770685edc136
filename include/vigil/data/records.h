// What readers produce and the store consumes: batches of valid rows per series, and
// rejected rows with the reason they were quarantined.
//
// Every stored row can be traced to its source: RecordBatch::lines[i] is the 1-based
// line (or record) number of frame row i in the source file. A RejectedRow names the
// file, the line, the field and the reason ("line 12: field 'close': not a number").
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/core/frame.h"
#include "vigil/data/market_data.h"

namespace vigil {

struct RecordBatch {
  SeriesKey series;
  Frame frame;                 // columns = SchemaOf(series.kind).fields
  std::vector<int64_t> lines;  // source line of each row (same length as frame)
};

struct RejectedRow {
  std::string source;      // file path as given
  int64_t line = 0;        // 1-based line or record number; 0 = the whole file
  std::string instrument;  // "venue:symbol" when known
  DataKind kind = DataKind::kCandles;
  std::string field;   // the offending field, or empty
  std::string reason;  // human-readable, e.g. "high < low (101.2 < 101.5)"
  std::string raw;     // the raw line or record (truncated to 512 bytes)

  // "file.csv:12: field 'close': not a number"
  std::string ToString() const;
};

// Per-series quality facts found while validating.
struct SeriesReport {
  SeriesKey series;
  int64_t rows = 0;
  int64_t gaps = 0;          // missing intervals of a regular series (bars not present)
  int64_t duplicates = 0;    // rows dropped as repeats of an earlier row
  int64_t out_of_order = 0;  // rows whose timestamp went backwards
};

struct ParsedFile {
  std::string path;
  std::string format;  // the reader used: "csv", "freqtrade", "binance", ...
  int64_t rows_read = 0;
  std::vector<RecordBatch> batches;
  std::vector<RejectedRow> rejects;
  std::vector<SeriesReport> reports;

  int64_t rows_valid() const;
};

}  // namespace vigil
