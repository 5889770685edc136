// Internal to vigil_store: logic both backends share, so SQLite and PostgreSQL answer
// the Store contract identically.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/store/store.h"

namespace vigil::store_internal {

// A summary line for a stored series with its missing-bar count: for regular kinds the
// bars a gapless series would have between first and last, minus the rows present; 0 for
// irregular kinds and for timeframes that are not a duration.
SeriesSummary MakeSummary(const SeriesKey& series, int64_t rows, Timestamp first, Timestamp last);

// Adds a rejects count for (instrument text, kind) to every matching summary (rejects carry
// no timeframe, so all timeframes of the instrument share it), or appends a rows-0 line
// when nothing of that instrument and kind is stored.
void MergeRejectCount(const std::string& instrument, DataKind kind, int64_t count,
                      std::vector<SeriesSummary>* summaries);

// Orders summaries by SeriesKey (venue, symbol, kind, timeframe), independent of any
// database collation.
void SortSummaries(std::vector<SeriesSummary>* summaries);

// InvalidArgument unless `frame` has exactly the kind's fields (names and types, in order)
// and consistent column lengths.
Status CheckFrameMatchesSchema(const Frame& frame, const KindSchema& schema);

// The first 80 characters of `sql` on one line, for error messages.
std::string SqlExcerpt(std::string_view sql);

// Length of the valid UTF-8 sequence starting at text[pos], or 0 if it is invalid
// (RFC 3629 table 3-7: no overlongs, no surrogates, nothing above U+10FFFF).
size_t Utf8SequenceLength(std::string_view text, size_t pos);

// --- Feature values (table feature_store) ---

// "binance:BTC/USDT momentum version 42": names a feature-values key in messages.
std::string FeatureKeyLabel(std::string_view instrument, std::string_view feature_set,
                            int64_t version);

// InvalidArgument naming the problem unless `values` can be written: a frame is given, the
// instrument and set names are non-empty, every column is double and its name passes
// CheckFeatureNames, all text is UTF-8 without NUL bytes (so both backends store the same
// text) and the columns have equal lengths.
Status CheckFeatureValues(const FeatureValues& values);

// InvalidArgument unless `features` can name the columns of a Frame: non-empty, unique,
// not "ts", UTF-8 without NUL bytes.
Status CheckFeatureNames(std::span<const std::string> features);

// The rows of `frame` that WriteFeatureValues stores, in time order: one per distinct
// timestamp, the last row among those sharing it (the latest value computed for that
// time). O(rows) for a sorted frame.
std::vector<int64_t> RowsToStore(const Frame& frame);

// The wide form ReadFeatureValues returns, from one series per feature: `series[i]` holds
// the stored values of `names[i]` as a frame with a single double column, rows in any
// order. The result has a double column per name (in order), one row per timestamp of
// any series (ascending) and NaN where a feature has no value at that time.
// Precondition: names.size() == series.size(), names pass CheckFeatureNames.
Frame WidenFeatureSeries(std::span<const std::string> names, std::vector<Frame> series);

// --- Model versions (table model_versions) ---

// "model 'trend' version 3" / "model 'trend'": names a model (and version) in messages.
std::string ModelLabel(std::string_view name, int64_t version = 0);

// InvalidArgument naming the row unless `rows` can replace the rows of model `name`:
// the name is non-empty, every row has that name, a version >= 1 given once, non-empty
// config_json and metrics_json, and all text is UTF-8 without NUL bytes.
Status CheckModelVersions(std::string_view name, std::span<const ModelVersionRow> rows);

// Orders rows by name (bytewise, independent of any database collation), then version.
void SortModelVersions(std::vector<ModelVersionRow>* rows);

// --- Training jobs (table training_jobs) ---

// "training job 7 of model 'trend'" / "training job of model 'trend'" (job_id 0, not yet
// inserted): names a job in messages.
std::string TrainingJobLabel(int64_t job_id, std::string_view model_name);

// InvalidArgument naming the field unless `row` can be stored in training_jobs: non-empty
// model_name, trigger_reason, config_json and metrics_json, a status of "queued",
// "running", "succeeded" or "failed", and all text UTF-8 without NUL bytes. The caller
// adds the context naming the job. row.job_id is not checked (Insert ignores it; Update
// reports an unknown one).
Status CheckTrainingJob(const TrainingJobRow& row);

}  // namespace vigil::store_internal
