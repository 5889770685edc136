// Internal to the SQLite backend: the Store implementation, split by phase across
//   sqlite_store.cc    opening, PRAGMAs, migrations, tables and maintenance
//   sqlite_series.cc   Write() and Query(): the bulk paths (reads via FrameSink)
//   sqlite_catalog.cc  ListSeries(), Summarize(), Rejects()
//   sqlite_features.cc WriteFeatureValues(), ReadFeatureValues() (table feature_store)
//   sqlite_model_versions.cc ReplaceModelVersions(), ListModelVersions() (model_versions)
//   sqlite_predictions.cc  WritePredictions(), QueryPredictions(), LatestPredictions(),
//                        WriteAlerts(), QueryAlerts()
//   sqlite_training_jobs.cc  InsertTrainingJob(), UpdateTrainingJob(), ListTrainingJobs()
//                            (training_jobs)
// Thread-safety: one thread at a time (see Store).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_frame_sink.h"
#include "store/sqlite/sqlite_handles.h"
#include "vigil/store/migrations.h"
#include "vigil/store/store.h"

namespace vigil::store_internal {

class SqliteStore final : public Store {
 public:
  // Opens (creating the file and its parent directories), configures and migrates.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const StoreOptions& options);
  // Use Open(); public only so Open() can use std::make_unique.
  SqliteStore(std::string path, sqlite_internal::Database db)
      : path_(std::move(path)), db_(std::move(db)) {}

  std::string_view backend() const override { return "sqlite"; }
  std::string url() const override { return "sqlite:" + path_; }
  Result<int> SchemaVersion() override;
  Result<std::vector<std::string>> ListTables() override;
  Result<WriteStats> Write(const WriteUnit& unit) override;
  Result<Frame> Query(const SeriesKey& series, Timestamp from, Timestamp to) override;
  Result<std::vector<SeriesKey>> ListSeries() override;
  Result<std::vector<SeriesSummary>> Summarize() override;
  Result<std::vector<StoredReject>> Rejects(std::string_view source, int64_t limit) override;
  Result<int64_t> WriteFeatureValues(const FeatureValues& values) override;
  Result<Frame> ReadFeatureValues(std::string_view instrument, std::string_view feature_set,
                                  int64_t version, std::span<const std::string> features,
                                  Timestamp from, Timestamp to) override;
  Status ReplaceModelVersions(std::string_view name,
                              std::span<const ModelVersionRow> rows) override;
  Result<std::vector<ModelVersionRow>> ListModelVersions(std::string_view name) override;
  Result<int64_t> WritePredictions(std::span<const PredictionRow> rows) override;
  Result<std::vector<PredictionRow>> QueryPredictions(const PredictionQuery& query) override;
  Result<std::vector<PredictionRow>> LatestPredictions(std::string_view instrument,
                                                       std::string_view model_name) override;
  Result<std::vector<int64_t>> WriteAlerts(std::span<const AlertRow> rows) override;
  Result<std::vector<AlertRow>> QueryAlerts(const AlertQuery& query) override;
  Result<int64_t> InsertTrainingJob(const TrainingJobRow& row) override;
  Status UpdateTrainingJob(const TrainingJobRow& row) override;
  Result<std::vector<TrainingJobRow>> ListTrainingJobs(std::string_view model_name,
                                                       int64_t limit) override;
  Status Execute(std::string_view sql) override;
  Result<int64_t> CountRows(std::string_view table) override;

 private:
  Status Configure(const StoreOptions& options);
  Status Migrate();
  Status ApplyMigration(const Migration& migration);

  // series_id of `series`, or nullopt when it was never written.
  Result<std::optional<int64_t>> FindSeries(const SeriesKey& series);
  Result<int64_t> FindOrCreateSeries(const SeriesKey& series);
  // Appends the rows of `series_id` with from <= ts < to to `frame`.
  Status ReadSeries(int64_t series_id, const SeriesKey& series, Timestamp from, Timestamp to,
                    Frame* frame);
  // Upper bound on those rows for a regular series (one per bar between the first and
  // last), so the Frame is allocated once; 0 when there is no cheap estimate.
  Result<int64_t> EstimateRows(int64_t series_id, const SeriesKey& series, Timestamp from,
                               Timestamp to);
  Status WriteBatch(const RecordBatch& batch, WriteStats* stats);
  Result<int64_t> WriteRejects(const WriteUnit& unit);
  // Every row of the series table: series_id -> key.
  Result<std::map<int64_t, SeriesKey>> LoadSeries();
  Status SummarizeKind(DataKind kind, const std::map<int64_t, SeriesKey>& series,
                       std::vector<SeriesSummary>* out);
  Status AddRejectCounts(std::vector<SeriesSummary>* summaries);
  // Upserts rows `rows` of every column of values.frame (inside the caller's transaction).
  Status UpsertFeatureValues(const FeatureValues& values, std::span<const int64_t> rows);
  // Every feature stored under (instrument, feature_set, version), in no particular order.
  Result<std::vector<std::string>> StoredFeatureNames(std::string_view instrument,
                                                      std::string_view feature_set,
                                                      int64_t version);
  // The (ts, value) rows of one feature with from <= ts < to, as a one-column frame.
  Result<Frame> ReadFeatureSeries(std::string_view instrument, std::string_view feature_set,
                                  int64_t version, const std::string& feature, Timestamp from,
                                  Timestamp to);

  // "sqlite:<path>": the prefix of every error message.
  std::string Where() const { return url(); }

  std::string path_;
  // Declared before db_ so that it outlives the connection its SQL function points to.
  sqlite_internal::FrameSink sink_;
  sqlite_internal::Database db_;
};

}  // namespace vigil::store_internal
