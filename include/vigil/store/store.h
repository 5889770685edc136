// Store: where Vigil keeps market data, rejected rows and the ML tables, behind one
// interface with two backends:
//   sqlite:PATH             embedded default: one file, WAL mode
//   postgresql://...        server backend (TimescaleDB hypertables when the extension
//                           is available, plain tables otherwise)
//
//   VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<vigil::Store> store,
//                          vigil::OpenStore("sqlite:vigil-data/vigil.db"));
//   VIGIL_RETURN_IF_ERROR(store->Write(unit).status());   // one file = one transaction
//   VIGIL_ASSIGN_OR_RETURN(vigil::Frame bars, store->Query(series, from, to));
//
// Opening a store applies any pending schema migrations (see migrations.h).
// Ownership: the caller owns the Store; it closes its connection on destruction.
// Thread-safety: a Store is used by one thread at a time; open one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/frame.h"
#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/data/records.h"

namespace vigil {

// Everything one ingested file contributes; written atomically by Store::Write.
struct WriteUnit {
  std::string source;  // the file path, recorded with rejects
  std::span<const RecordBatch> batches;
  std::span<const RejectedRow> rejects;
};

struct WriteStats {
  int64_t rows_inserted = 0;     // new rows
  int64_t rows_existing = 0;     // rows already stored with the same key (re-ingest)
  int64_t rejects_inserted = 0;  // new reject records (a re-ingested reject is not repeated)
};

// One line of `vigil data summary`.
struct SeriesSummary {
  SeriesKey series;
  Timestamp first;
  Timestamp last;
  int64_t rows = 0;
  int64_t gaps = 0;     // missing bars for regular series (candles), else 0
  int64_t rejects = 0;  // rejected rows recorded for this instrument and kind
};

struct StoredReject {
  RejectedRow row;
  Timestamp recorded_at;
};

struct StoreOptions {
  // SQLite: milliseconds to wait on a locked database before failing (>= 0).
  int64_t busy_timeout_ms = 5000;
  // PostgreSQL: try to create TimescaleDB hypertables when the extension exists.
  bool use_timescaledb = true;
};

class Store {
 public:
  virtual ~Store() = default;

  // "sqlite" or "postgresql".
  virtual std::string_view backend() const = 0;
  // The URL this store was opened with (passwords masked).
  virtual std::string url() const = 0;
  // Highest applied migration version.
  virtual Result<int> SchemaVersion() = 0;
  // Names of all tables (market, rejects, ML tables, bookkeeping).
  virtual Result<std::vector<std::string>> ListTables() = 0;

  // Writes every batch and reject of `unit` in one transaction: either all of it is
  // stored or, on failure, nothing is and the store is as it was. Rows whose key
  // (series, ts, key fields) already exists are left as they are and counted in
  // rows_existing, so re-ingesting a file adds nothing.
  virtual Result<WriteStats> Write(const WriteUnit& unit) = 0;

  // Rows of one series with from <= ts < to, sorted by time (and key fields). Columns are
  // SchemaOf(series.kind).fields; NULLs come back as NaN / kMissingInt. An unknown series
  // returns an empty frame.
  virtual Result<Frame> Query(const SeriesKey& series, Timestamp from, Timestamp to) = 0;

  // Every stored series, sorted by instrument, kind, timeframe.
  virtual Result<std::vector<SeriesKey>> ListSeries() = 0;
  // Per-series first/last/rows/gaps/rejects (see SeriesSummary).
  virtual Result<std::vector<SeriesSummary>> Summarize() = 0;
  // Rejected rows, newest first; `source` filters by file path when non-empty.
  virtual Result<std::vector<StoredReject>> Rejects(std::string_view source, int64_t limit) = 0;

  // Runs `sql` (one or more statements) outside any transaction; for migrations, tests
  // and maintenance.
  virtual Status Execute(std::string_view sql) = 0;
  // Number of rows in `table` (tests and summaries).
  virtual Result<int64_t> CountRows(std::string_view table) = 0;
};

// Opens (creating if needed) the store at `url` and migrates it to the latest schema.
// "sqlite:PATH", "sqlite://PATH", a bare path ending in .db/.sqlite, or
// "postgresql://..." / "postgres://...". Fails with InvalidArgument for an unknown
// scheme, DatabaseError when the backend cannot connect or migrate.
Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& options = {});

}  // namespace vigil
