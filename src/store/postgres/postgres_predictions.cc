// PostgreSQL backend, part 7: what served and live models said (table predictions) and the
// alerts they raised (table alerts).
//
// Writes are one COPY ... FROM STDIN each: a single statement, so atomic without a
// transaction, and one round trip for the data whatever the batch size (the live runner
// writes ~1,000 rows per bar; row-by-row INSERTs would cost a round trip each). Alerts need
// their ids back in order, which COPY does not return, so the ids are drawn from the
// table's sequence first (one statement) and copied in with the rows. Reads are one
// parameterised SELECT each, hence one snapshot; with a limit they select the newest rows
// descending and reverse them. Doubles come back as text: the session sets
// extra_float_digits = 3, so they parse back to the same bits.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "store/postgres/postgres_copy.h"
#include "store/postgres/postgres_store_impl.h"
#include "store/prediction_checks.h"

namespace vigil::store_internal {
namespace {

using postgres_internal::AppendCopyDouble;
using postgres_internal::AppendCopyInt;
using postgres_internal::AppendCopyText;
using postgres_internal::Connection;
using postgres_internal::Rows;
using CopySink = Connection::CopySink;

// COPY data is sent in chunks of about this size (as in Write()).
constexpr size_t kCopyChunkBytes = 1 << 20;

constexpr std::string_view kCopyPredictionsSql =
    "COPY predictions (model_name, model_version, instrument, ts, horizon, value, score, label, "
    "explanation_json, created_at) FROM STDIN";

constexpr std::string_view kPredictionColumns =
    "SELECT prediction_id, model_name, model_version, instrument, ts, horizon, value, score, "
    "label, explanation_json, created_at FROM predictions";

// Ids in the order the sequence hands them out (ORDER BY: rows of a set-returning function
// are not promised to come back in order otherwise).
constexpr std::string_view kNextAlertIdsSql =
    "SELECT id FROM (SELECT nextval(pg_get_serial_sequence('alerts', 'alert_id')) AS id "
    "FROM generate_series(1, $1::bigint)) ids ORDER BY id";

constexpr std::string_view kCopyAlertsSql =
    "COPY alerts (alert_id, rule, instrument, ts, severity, score, message, features_json, "
    "model_name, model_version, acknowledged, created_at) FROM STDIN";

constexpr std::string_view kAlertColumns =
    "SELECT alert_id, rule, instrument, ts, severity, score, message, features_json, "
    "model_name, model_version, acknowledged, created_at FROM alerts";

constexpr std::string_view kNullField = "\\N";

// Flushes `buffer` to `sink` once it holds a chunk's worth (or always, when `last`).
Status Flush(const CopySink& sink, bool last, std::string* buffer) {
  if (buffer->empty() || (!last && buffer->size() < kCopyChunkBytes)) return Status::Ok();
  Status status = sink(*buffer);
  buffer->clear();
  return status;
}

// "" as \N (NULL) for the columns whose header says so.
void AppendCopyTextOrNull(std::string_view text, std::string* out) {
  if (text.empty()) {
    *out += kNullField;
  } else {
    AppendCopyText(text, out);
  }
}

void AppendPrediction(const PredictionRow& row, std::string* out) {
  AppendCopyText(row.model_name, out);
  *out += '\t';
  AppendCopyInt(row.model_version, out);
  *out += '\t';
  AppendCopyText(row.instrument, out);
  *out += '\t';
  AppendCopyInt(row.ts.nanos(), out);
  *out += '\t';
  AppendCopyText(row.horizon, out);
  *out += '\t';
  AppendCopyDouble(row.value, out);  // NaN as \N
  *out += '\t';
  AppendCopyDouble(row.score, out);
  *out += '\t';
  AppendCopyText(row.label, out);
  *out += '\t';
  AppendCopyTextOrNull(row.explanation_json, out);
  *out += '\t';
  AppendCopyInt(row.created_at.nanos(), out);
  *out += '\n';
}

void AppendAlert(int64_t alert_id, const AlertRow& row, std::string* out) {
  AppendCopyInt(alert_id, out);
  for (std::string_view text : {std::string_view(row.rule), std::string_view(row.instrument)}) {
    *out += '\t';
    AppendCopyText(text, out);
  }
  *out += '\t';
  AppendCopyInt(row.ts.nanos(), out);
  *out += '\t';
  AppendCopyText(row.severity, out);
  *out += '\t';
  AppendCopyDouble(row.score, out);
  *out += '\t';
  AppendCopyText(row.message, out);
  *out += '\t';
  AppendCopyTextOrNull(row.features_json, out);
  *out += '\t';
  AppendCopyTextOrNull(row.model_name, out);
  *out += '\t';
  if (row.model_version.has_value()) {
    AppendCopyInt(*row.model_version, out);
  } else {
    *out += kNullField;
  }
  *out += '\t';
  AppendCopyInt(row.acknowledged ? 1 : 0, out);
  *out += '\t';
  AppendCopyInt(row.created_at.nanos(), out);
  *out += '\n';
}

// A DOUBLE PRECISION column as text ("0.1", "Infinity", "NaN"); NULL reads as NaN.
Result<double> ColumnDouble(const Rows& rows, int row, int column, std::string_view context) {
  if (rows.IsNull(row, column)) return std::numeric_limits<double>::quiet_NaN();
  const std::string_view text = rows.Text(row, column);
  double value = 0;
  // from_chars reads "inf", "infinity" and "nan" in any case, which covers the server's
  // spellings; nothing else may follow the number.
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return DatabaseError(std::string(context) + ": column " + std::to_string(column) + " holds '" +
                         std::string(text) + "', not a double");
  }
  return value;
}

Result<IdentifiedPrediction> ReadPrediction(const Rows& rows, int row, std::string_view context) {
  IdentifiedPrediction out;
  VIGIL_ASSIGN_OR_RETURN(out.prediction_id, rows.Int64(row, 0, context));
  PredictionRow& p = out.row;
  p.model_name = std::string(rows.Text(row, 1));
  VIGIL_ASSIGN_OR_RETURN(p.model_version, rows.Int64(row, 2, context));
  p.instrument = std::string(rows.Text(row, 3));
  VIGIL_ASSIGN_OR_RETURN(int64_t ts, rows.Int64(row, 4, context));
  p.ts = Timestamp(ts);
  p.horizon = std::string(rows.Text(row, 5));
  VIGIL_ASSIGN_OR_RETURN(p.value, ColumnDouble(rows, row, 6, context));
  VIGIL_ASSIGN_OR_RETURN(p.score, ColumnDouble(rows, row, 7, context));
  p.label = std::string(rows.Text(row, 8));  // NULL reads as ""
  p.explanation_json = std::string(rows.Text(row, 9));
  VIGIL_ASSIGN_OR_RETURN(int64_t created_at, rows.Int64(row, 10, context));
  p.created_at = Timestamp(created_at);
  return out;
}

Result<AlertRow> ReadAlert(const Rows& rows, int row, std::string_view context) {
  AlertRow out;
  VIGIL_ASSIGN_OR_RETURN(out.alert_id, rows.Int64(row, 0, context));
  out.rule = std::string(rows.Text(row, 1));
  out.instrument = std::string(rows.Text(row, 2));
  VIGIL_ASSIGN_OR_RETURN(int64_t ts, rows.Int64(row, 3, context));
  out.ts = Timestamp(ts);
  out.severity = std::string(rows.Text(row, 4));
  VIGIL_ASSIGN_OR_RETURN(out.score, ColumnDouble(rows, row, 5, context));
  out.message = std::string(rows.Text(row, 6));
  out.features_json = std::string(rows.Text(row, 7));
  out.model_name = std::string(rows.Text(row, 8));
  if (!rows.IsNull(row, 9)) {
    VIGIL_ASSIGN_OR_RETURN(int64_t version, rows.Int64(row, 9, context));
    out.model_version = version;
  }
  VIGIL_ASSIGN_OR_RETURN(int64_t acknowledged, rows.Int64(row, 10, context));
  out.acknowledged = acknowledged != 0;
  VIGIL_ASSIGN_OR_RETURN(int64_t created_at, rows.Int64(row, 11, context));
  out.created_at = Timestamp(created_at);
  return out;
}

template <typename Row>
using RowReader = Result<Row> (*)(const Rows&, int, std::string_view);

template <typename Row>
Result<std::vector<Row>> ReadAll(const Rows& rows, RowReader<Row> read, std::string_view context) {
  std::vector<Row> out;
  out.reserve(rows.count());
  for (int row = 0; row < rows.count(); ++row) {
    VIGIL_ASSIGN_OR_RETURN(Row one, read(rows, row, context));
    out.push_back(std::move(one));
  }
  return out;
}

// Appends " AND <column> = $n" and its parameter when `value` is not "" (= any).
void AddFilter(std::string_view column, const std::string& value, std::string* sql,
               std::vector<std::string>* params) {
  if (value.empty()) return;
  params->push_back(value);
  *sql += " AND " + std::string(column) + " = $" + std::to_string(params->size());
}

// " ORDER BY ..." for ascending rows, or for the newest `limit` (reversed by the caller).
std::string OrderAndLimit(std::string_view id_column, int64_t limit,
                          std::vector<std::string>* params) {
  if (limit <= 0) return " ORDER BY ts, " + std::string(id_column);
  params->push_back(std::to_string(limit));
  return " ORDER BY ts DESC, " + std::string(id_column) + " DESC LIMIT $" +
         std::to_string(params->size()) + "::bigint";
}

}  // namespace

Result<int64_t> PostgresStore::WritePredictions(std::span<const PredictionRow> rows) {
  const std::string context = Where() + ": writing " + CountLabel(rows.size(), "prediction");
  VIGIL_RETURN_IF_ERROR(CheckPredictionRows(rows).WithContext(context));
  if (rows.empty()) return 0;
  auto produce = [&rows](const CopySink& sink) -> Status {
    std::string buffer;
    for (const PredictionRow& row : rows) {
      AppendPrediction(row, &buffer);
      VIGIL_RETURN_IF_ERROR(Flush(sink, /*last=*/false, &buffer));
    }
    return Flush(sink, /*last=*/true, &buffer);
  };
  return conn_.CopyIn(kCopyPredictionsSql, context, produce);
}

Result<std::vector<PredictionRow>> PostgresStore::QueryPredictions(const PredictionQuery& query) {
  const std::string context = Where() + ": querying predictions";
  std::vector<std::string> params = {std::to_string(query.from.nanos()),
                                     std::to_string(query.to.nanos())};
  std::string sql = std::string(kPredictionColumns) + " WHERE ts >= $1::bigint AND ts < $2::bigint";
  AddFilter("instrument", query.instrument, &sql, &params);
  AddFilter("model_name", query.model_name, &sql, &params);
  sql += OrderAndLimit("prediction_id", query.limit, &params);
  VIGIL_ASSIGN_OR_RETURN(Rows selected, conn_.Query(sql, context, params));
  VIGIL_ASSIGN_OR_RETURN(std::vector<IdentifiedPrediction> found,
                         ReadAll<IdentifiedPrediction>(selected, ReadPrediction, context));
  if (query.limit > 0) std::reverse(found.begin(), found.end());
  std::vector<PredictionRow> rows;
  rows.reserve(found.size());
  for (IdentifiedPrediction& one : found) rows.push_back(std::move(one.row));
  return rows;
}

Result<std::vector<PredictionRow>> PostgresStore::LatestPredictions(std::string_view instrument,
                                                                    std::string_view model_name) {
  const std::string context = Where() + ": reading the latest predictions for '" +
                              std::string(instrument) + "'" +
                              (model_name.empty() ? "" : " of " + ModelLabel(model_name));
  // Two statements rather than one with "$2 = '' OR model_name = $2", so each reads one
  // index range (predictions_by_model, predictions_by_instrument) from its end. ORDER BY
  // ts DESC LIMIT 1 rather than MAX(ts): the planner then reads one index entry, where it
  // sometimes aggregates over every entry of the key.
  std::vector<std::string> params = {std::string(instrument)};
  std::string key = "instrument = $1";
  if (!model_name.empty()) {
    params.emplace_back(model_name);
    key += " AND model_name = $2";
  }
  const std::string sql = std::string(kPredictionColumns) + " WHERE " + key +
                          " AND ts = (SELECT ts FROM predictions WHERE " + key +
                          " ORDER BY ts DESC LIMIT 1)";
  VIGIL_ASSIGN_OR_RETURN(Rows selected, conn_.Query(sql, context, params));
  VIGIL_ASSIGN_OR_RETURN(std::vector<IdentifiedPrediction> found,
                         ReadAll<IdentifiedPrediction>(selected, ReadPrediction, context));
  return LatestPerHorizon(std::move(found));
}

Result<std::vector<int64_t>> PostgresStore::WriteAlerts(std::span<const AlertRow> rows) {
  const std::string context = Where() + ": writing " + CountLabel(rows.size(), "alert");
  VIGIL_RETURN_IF_ERROR(CheckAlertRows(rows).WithContext(context));
  std::vector<int64_t> ids;
  if (rows.empty()) return ids;
  // Drawn outside the COPY: if it then fails, the ids are skipped, never reused, so they
  // still increase across calls.
  VIGIL_ASSIGN_OR_RETURN(Rows drawn,
                         conn_.Query(kNextAlertIdsSql, context, {std::to_string(rows.size())}));
  if (drawn.count() != static_cast<int>(rows.size())) {
    return DatabaseError(context + ": the sequence returned " + std::to_string(drawn.count()) +
                         " ids");
  }
  ids.reserve(rows.size());
  for (int index = 0; index < drawn.count(); ++index) {
    VIGIL_ASSIGN_OR_RETURN(int64_t id, drawn.Int64(index, 0, context));
    ids.push_back(id);
  }
  auto produce = [&](const CopySink& sink) -> Status {
    std::string buffer;
    for (size_t index = 0; index < rows.size(); ++index) {
      AppendAlert(ids[index], rows[index], &buffer);
      VIGIL_RETURN_IF_ERROR(Flush(sink, /*last=*/false, &buffer));
    }
    return Flush(sink, /*last=*/true, &buffer);
  };
  VIGIL_RETURN_IF_ERROR(conn_.CopyIn(kCopyAlertsSql, context, produce).status());
  return ids;
}

Result<std::vector<AlertRow>> PostgresStore::QueryAlerts(const AlertQuery& query) {
  const std::string context = Where() + ": querying alerts";
  std::vector<std::string> params = {std::to_string(query.since.nanos())};
  std::string sql = std::string(kAlertColumns) + " WHERE ts >= $1::bigint";
  AddFilter("instrument", query.instrument, &sql, &params);
  sql += OrderAndLimit("alert_id", query.limit, &params);
  VIGIL_ASSIGN_OR_RETURN(Rows selected, conn_.Query(sql, context, params));
  VIGIL_ASSIGN_OR_RETURN(std::vector<AlertRow> rows,
                         ReadAll<AlertRow>(selected, ReadAlert, context));
  if (query.limit > 0) std::reverse(rows.begin(), rows.end());
  return rows;
}

}  // namespace vigil::store_internal
