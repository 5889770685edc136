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
#include <limits>
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

// Computed features of one instrument and feature set, in wide form: frame holds the
// timestamp and one double column per feature, named after it (NaN = undefined, stored as
// NULL). Names and text are UTF-8 without NUL bytes. The frame is borrowed: it must
// outlive the WriteFeatureValues call.
struct FeatureValues {
  std::string instrument;   // "venue:symbol"
  std::string feature_set;  // set name
  int64_t version = 0;      // the set's spec hash (bit pattern of the uint64)
  const Frame* frame = nullptr;
  Timestamp computed_at;  // stored with every value written
};

// One row of model_versions: the store's mirror of one version directory of the model
// registry (the files are the source of truth). Text is UTF-8 without NUL bytes.
struct ModelVersionRow {
  std::string name;
  int64_t version = 0;  // >= 1
  std::string family;   // the model kind, e.g. "logistic"
  std::string task;     // "classification", "anomaly", ...
  // Comma-separated aliases pointing at it ("production,latest"), "" if none.
  std::string stage;
  // JSON text, stored as given (not parsed); must be non-empty.
  std::string config_json = "{}";
  std::string metrics_json = "{}";
  std::string feature_set;      // "<set name>@<spec hash>"
  std::string artifact_path;    // the version directory
  std::string artifact_sha256;  // may be ""
  // Absent = NULL in the table.
  std::optional<Timestamp> train_from, train_to;
  Timestamp created_at;
  std::optional<Timestamp> promoted_at;

  bool operator==(const ModelVersionRow&) const = default;
};

// One row of training_jobs: a training job's life, queued -> running -> succeeded | failed.
// Text is UTF-8 without NUL bytes.
struct TrainingJobRow {
  int64_t job_id = 0;  // assigned by InsertTrainingJob (>= 1)
  std::string model_name;
  // "queued", "running", "succeeded" or "failed".
  std::string status = "queued";
  // Why the job ran: "manual", "schedule", "drift: <detail>", ...; non-empty.
  std::string trigger_reason = "manual";
  // JSON text, stored as given (not parsed); non-empty.
  std::string config_json = "{}";
  std::string metrics_json = "{}";
  std::optional<int64_t> model_version;  // the registered version, once known
  std::string error;                     // why it failed; "" otherwise
  Timestamp queued_at;
  // Absent = NULL in the table.
  std::optional<Timestamp> started_at, finished_at;

  bool operator==(const TrainingJobRow&) const = default;
};

// One row of predictions: what a served or live model said about an instrument at a time.
// Text is UTF-8 without NUL bytes.
struct PredictionRow {
  std::string model_name;  // non-empty
  int64_t model_version = 0;
  std::string instrument;  // "venue:symbol", non-empty
  Timestamp ts;            // the time the prediction is as of (the bar's time)
  std::string horizon;     // "" or a duration such as "15m" (one row per horizon)
  // Absent values are NaN, stored as NULL.
  double value = std::numeric_limits<double>::quiet_NaN();  // probability / prediction
  double score = std::numeric_limits<double>::quiet_NaN();  // 0-100 score
  std::string label;                                        // e.g. the risk level "high"; may be ""
  std::string explanation_json;                             // JSON text stored as given; "" = NULL
  Timestamp created_at;

  bool operator==(const PredictionRow&) const = default;
};

// Which predictions QueryPredictions returns: from <= ts < to, optional filters.
struct PredictionQuery {
  std::string instrument;  // "" = any
  std::string model_name;  // "" = any
  Timestamp from = Timestamp::Min();
  Timestamp to = Timestamp::Max();
  int64_t limit = 0;  // <= 0 = all; otherwise the newest `limit` rows (still returned ascending)
};

// One row of alerts. Text is UTF-8 without NUL bytes.
struct AlertRow {
  int64_t alert_id = 0;  // assigned by WriteAlerts
  std::string rule;      // the rule's name, non-empty
  std::string instrument;
  Timestamp ts;          // the time of the data that raised it
  std::string severity;  // "info", "warning", "high" or "critical"
  double score = std::numeric_limits<double>::quiet_NaN();  // NaN = NULL
  std::string message;                                      // non-empty
  std::string features_json;                                // JSON text stored as given; "" = NULL
  std::string model_name;                                   // "" = NULL
  std::optional<int64_t> model_version;
  bool acknowledged = false;
  Timestamp created_at;

  bool operator==(const AlertRow&) const = default;
};

// Which alerts QueryAlerts returns.
struct AlertQuery {
  Timestamp since = Timestamp::Min();  // ts >= since
  std::string instrument;              // "" = any
  int64_t limit = 1000;  // <= 0 = all; otherwise the newest `limit` (still returned ascending)
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

  // Writes every value of values.frame into feature_store in one transaction: all of it
  // is stored or, on failure, nothing is. A value already stored under the same
  // (instrument, set, version, feature, ts) is replaced, computed_at included, so
  // recomputing a range is idempotent; stored values the frame does not cover are kept.
  // The frame may be unsorted; of several rows with the same timestamp the last is stored.
  // Returns the number of values written: distinct timestamps x feature columns (0 for an
  // empty frame, which touches nothing). InvalidArgument, before anything is written, for
  // a null frame, an empty instrument or set name, a column that is not double, an empty
  // or non-UTF-8 name or columns of unequal length; DatabaseError naming the key when the
  // backend fails.
  virtual Result<int64_t> WriteFeatureValues(const FeatureValues& values) = 0;
  // Stored values of (instrument, feature_set, version) with from <= ts < to, in wide form:
  // timestamp + one double column per name in `features`, in that order (empty = every
  // feature stored under the key, in any time range, sorted by name bytewise); one row per
  // timestamp at which any of those features has a stored value, ascending; NaN where a
  // value is NULL or absent. Unknown keys or names, and from >= to, give no rows (but the
  // columns). The frame is read from one consistent snapshot. InvalidArgument for a
  // repeated, empty or "ts" name in `features`; DatabaseError naming the key otherwise.
  virtual Result<Frame> ReadFeatureValues(std::string_view instrument, std::string_view feature_set,
                                          int64_t version, std::span<const std::string> features,
                                          Timestamp from, Timestamp to) = 0;

  // Replaces every row of model `name` in model_versions with `rows` (all of that name) in
  // one transaction: the mirror of one model's directory. Versions not in `rows` are
  // removed, other models are untouched, and an empty `rows` removes the model's rows.
  // Every field is stored exactly as given (stage "" stays "", not the column default).
  // InvalidArgument, before anything is written, for an empty name, a row of another name,
  // a version < 1, a version given twice, an empty config_json or metrics_json (JSON is
  // not parsed), or text that is not UTF-8 or holds a NUL byte; DatabaseError naming the
  // model when the backend fails (the stored rows are then as they were).
  virtual Status ReplaceModelVersions(std::string_view name,
                                      std::span<const ModelVersionRow> rows) = 0;
  // Stored rows of model `name` ("" = every model), sorted by name (bytewise), then
  // version; empty for an unknown name. Read from one consistent snapshot. DatabaseError
  // naming the model when the backend fails.
  virtual Result<std::vector<ModelVersionRow>> ListModelVersions(std::string_view name) = 0;

  // Inserts `row` into training_jobs (row.job_id is ignored) and returns its new job_id,
  // increasing across calls. InvalidArgument, before anything is written, for an empty
  // model_name, trigger_reason, config_json or metrics_json, a status outside the four
  // above, or text that is not UTF-8 or holds a NUL byte; DatabaseError otherwise.
  virtual Result<int64_t> InsertTrainingJob(const TrainingJobRow& row) = 0;
  // Overwrites every column of the job row.job_id with `row` (one statement). The same
  // InvalidArgument checks; NotFound naming the id when no such job exists.
  virtual Status UpdateTrainingJob(const TrainingJobRow& row) = 0;
  // Jobs of `model_name` ("" = every model), newest first (by job_id), at most `limit`
  // (<= 0 = all). Read from one consistent snapshot.
  virtual Result<std::vector<TrainingJobRow>> ListTrainingJobs(std::string_view model_name,
                                                               int64_t limit) = 0;

  // Appends `rows` to predictions in one transaction (all or nothing); returns how many were
  // written. InvalidArgument, before anything is written, for an empty model_name or
  // instrument or text that is not UTF-8 or holds a NUL byte; DatabaseError otherwise.
  virtual Result<int64_t> WritePredictions(std::span<const PredictionRow> rows) = 0;
  // Stored predictions matching `query`, ascending by (ts, prediction id).
  virtual Result<std::vector<PredictionRow>> QueryPredictions(const PredictionQuery& query) = 0;
  // The rows of the latest ts stored for (instrument, model_name) (one per horizon, sorted
  // by horizon bytewise); empty when there are none. model_name "" = the latest ts across
  // models, every model's rows at that ts.
  virtual Result<std::vector<PredictionRow>> LatestPredictions(std::string_view instrument,
                                                               std::string_view model_name) = 0;
  // Appends `rows` to alerts in one transaction (all or nothing); returns the new alert_ids
  // in order. The same InvalidArgument checks as WritePredictions (rule, message non-empty;
  // severity one of the four).
  virtual Result<std::vector<int64_t>> WriteAlerts(std::span<const AlertRow> rows) = 0;
  // Stored alerts matching `query`, ascending by (ts, alert_id).
  virtual Result<std::vector<AlertRow>> QueryAlerts(const AlertQuery& query) = 0;

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
