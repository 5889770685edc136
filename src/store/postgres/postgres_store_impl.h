// Internal to the PostgreSQL backend: the Store implementation, split by phase across
//   postgres_store.cc    opening, session setup, migrations, TimescaleDB, maintenance
//   postgres_series.cc   Write() and Query(): the bulk paths (COPY in and out)
//   postgres_catalog.cc  ListSeries(), Summarize(), Rejects()
//   postgres_features.cc WriteFeatureValues(), ReadFeatureValues() (table feature_store)
//   postgres_model_versions.cc ReplaceModelVersions(), ListModelVersions() (model_versions)
//   postgres_predictions.cc  WritePredictions(), QueryPredictions(), LatestPredictions(),
//                        WriteAlerts(), QueryAlerts()
//   postgres_training_jobs.cc  InsertTrainingJob(), UpdateTrainingJob(), ListTrainingJobs()
//                              (training_jobs)
// on top of postgres_handles.h (libpq owners) and postgres_copy.h (COPY data formats).
// Tables are named without a schema, so the connection's search_path (for example
// `?options=-csearch_path%3Dmy_schema` in the URL) decides where they live.
// Thread-safety: one thread at a time (see Store).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "store/postgres/postgres_handles.h"
#include "vigil/store/store.h"

namespace vigil::store_internal {

class PostgresStore final : public Store {
 public:
  // Connects, configures the session, migrates and sets up hypertables when possible.
  static Result<std::unique_ptr<Store>> Open(const std::string& url, const StoreOptions& options);

  std::string_view backend() const override { return "postgresql"; }
  std::string url() const override { return masked_url_; }
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

  // True when the market-data tables are TimescaleDB hypertables.
  bool uses_hypertables() const { return hypertables_; }

 private:
  PostgresStore(std::string masked_url, postgres_internal::Connection conn)
      : masked_url_(std::move(masked_url)), conn_(std::move(conn)) {}

  Status ConfigureSession();
  // The schema unqualified tables go to: the first search_path entry, else current_schema().
  Result<std::string> TargetSchema();
  Status Migrate();
  // Runs `body` in a transaction holding the migration lock of `schema_`.
  Status UnderMigrationLock(std::string_view context, const std::function<Status()>& body);
  Status ApplyMigration(int version, const std::string& name,
                        const std::vector<std::string>& statements);
  // Hypertables when the server has TimescaleDB; logs which kind of tables is used.
  Status SetUpHypertables();
  Status CreateHypertables(const std::string& context);

  // series_id of `series`, or nullopt when it was never written.
  Result<std::optional<int64_t>> FindSeries(const SeriesKey& series);
  Result<int64_t> FindOrCreateSeries(const SeriesKey& series, std::string_view context);
  // Stages every batch of `kind` with COPY and inserts the new rows.
  Status WriteKind(DataKind kind, const WriteUnit& unit, WriteStats* stats);
  Result<int64_t> WriteRejects(const WriteUnit& unit);
  // Every row of the series table, as (series_id, key).
  Result<std::vector<std::pair<int64_t, SeriesKey>>> LoadSeries();
  Status SummarizeKind(DataKind kind, const std::vector<std::pair<int64_t, SeriesKey>>& series,
                       std::vector<SeriesSummary>* out);
  Status AddRejectCounts(std::vector<SeriesSummary>* summaries);
  // Every feature stored under (instrument, feature_set, version), in no particular order.
  Result<std::vector<std::string>> StoredFeatureNames(std::string_view instrument,
                                                      std::string_view feature_set, int64_t version,
                                                      std::string_view context);
  // The (ts, value) rows of one feature with from <= ts < to, as a one-column frame.
  // `key_sql` is the WHERE condition selecting (instrument, feature_set, version).
  Result<Frame> ReadFeatureSeries(const std::string& key_sql, const std::string& feature,
                                  Timestamp from, Timestamp to, std::string_view context);

  // Prefix of every error message: the masked URL.
  const std::string& Where() const { return masked_url_; }

  std::string masked_url_;
  postgres_internal::Connection conn_;
  std::string schema_;  // where the tables live, for the migration lock and catalog queries
  bool hypertables_ = false;
};

}  // namespace vigil::store_internal
