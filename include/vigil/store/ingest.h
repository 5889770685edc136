// Ingest: files -> readers + validation -> Store, one transaction per file.
//
//   vigil::IngestOptions options;
//   options.read.kind = vigil::DataKind::kCandles;
//   options.read.venue = "binance";
//   vigil::IngestReport report = vigil::IngestFiles(*store, {"ETH_BTC-5m.csv"}, options);
//   return report.ExitCode();   // 0 all stored, 3 some rows rejected, 2 a file stored nothing
//
// Guarantees: a file that cannot be parsed at all, or whose write fails, stores nothing
// (the store is as it was before that file); valid rows of a file with some bad rows are
// stored and the bad rows go to the `rejects` table with file, line, field and reason;
// re-ingesting a file adds no duplicate rows and no duplicate rejects.
// Thread-safety: uses the Store from the calling thread only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "vigil/data/reader.h"
#include "vigil/store/store.h"

namespace vigil {

// Exit codes of `vigil ingest` (and any command that reports ingest outcomes).
inline constexpr int kExitOk = 0;
inline constexpr int kExitNothingStored = 2;
inline constexpr int kExitSomeRejected = 3;

struct IngestOptions {
  ReadOptions read;
  // Called with (file path, bytes parsed, total bytes) while a file is parsed.
  std::function<void(const std::string&, size_t, size_t)> progress;
};

struct FileIngestResult {
  std::string path;
  std::string format;
  Status status;  // non-OK: nothing from this file was stored
  int64_t rows_read = 0;
  int64_t rows_stored = 0;    // valid rows now in the store (new + already present)
  int64_t rows_inserted = 0;  // of those, new
  int64_t rows_rejected = 0;
  std::vector<std::string> instruments;  // "venue:symbol", sorted
  std::vector<RejectedRow> rejects;      // every rejected row of the file
  std::vector<SeriesReport> reports;
};

struct IngestReport {
  std::vector<FileIngestResult> files;

  int64_t rows_read() const;
  int64_t rows_stored() const;
  int64_t rows_rejected() const;
  // Union of the files' instruments, sorted.
  std::vector<std::string> instruments() const;
  // kExitNothingStored if any file stored nothing, else kExitSomeRejected if any row was
  // rejected, else kExitOk.
  int ExitCode() const;
};

// Ingests `paths` in order with one MarketFileReader (so an order-book snapshot file
// followed by its update file continues one book). Never throws; per-file failures are
// in the report.
IngestReport IngestFiles(Store& store, const std::vector<std::string>& paths,
                         const IngestOptions& options);

}  // namespace vigil
