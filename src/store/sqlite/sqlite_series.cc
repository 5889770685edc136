// SQLite backend, part 2: Write() and Query(), the bulk paths. Both reuse one prepared
// statement per kind (cached on the connection) and move values straight between Frame
// columns and SQLite by index, without intermediate rows. Reads go through FrameSink
// (sqlite_frame_sink.h).
#include <algorithm>

#include "store/sqlite/sqlite_frame_sink.h"
#include "store/sqlite/sqlite_store_impl.h"
#include "store/store_common.h"
#include "vigil/core/clock.h"

namespace vigil::store_internal {
namespace {

using sqlite_internal::StatementLease;
using sqlite_internal::Transaction;

// Upsert's DO NOTHING, not INSERT OR IGNORE: OR IGNORE would also silently drop rows
// that violate NOT NULL, while a missing required value must fail the whole unit.
std::string InsertSql(const KindSchema& schema) {
  std::string columns = "series_id, ts";
  std::string params = "?, ?";
  for (const FieldSpec& field : schema.fields) {
    columns += ", " + std::string(field.name);
    params += ", ?";
  }
  return "INSERT INTO " + std::string(schema.name) + " (" + columns + ") VALUES (" + params +
         ") ON CONFLICT DO NOTHING";
}

// Upper bound on a Frame reservation from a time-span estimate (8M rows, 64 MB a
// column): beyond it the Frame grows as rows arrive.
constexpr uint64_t kMaxReservedRows = uint64_t{1} << 23;

void BindRange(sqlite_internal::Statement& select, int64_t series_id, Timestamp from,
               Timestamp to) {
  // Bound raw: Timestamp::Min() equals kMissingInt, which BindInt64 would make NULL.
  sqlite3_bind_int64(select.get(), 1, series_id);
  sqlite3_bind_int64(select.get(), 2, from.nanos());
  sqlite3_bind_int64(select.get(), 3, to.nanos());
}

void ShrinkToFit(Frame* frame) {
  frame->mutable_timestamps().shrink_to_fit();
  for (size_t column = 0; column < frame->num_columns(); ++column) {
    if (frame->columns()[column].type == ColumnType::kDouble) {
      frame->MutableDoublesAt(column).shrink_to_fit();
    } else {
      frame->MutableInt64sAt(column).shrink_to_fit();
    }
  }
}

constexpr std::string_view kInsertRejectSql =
    "INSERT INTO rejects (source, line, instrument, kind, field, reason, raw, recorded_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

// "row 3 (line 12)": where a failing row came from.
std::string RowLabel(const RecordBatch& batch, int64_t row) {
  std::string label = "row " + std::to_string(row);
  if (row < static_cast<int64_t>(batch.lines.size())) {
    label += " (line " + std::to_string(batch.lines[row]) + ")";
  }
  return label;
}

// Column sources of one batch, resolved once instead of per row.
struct FieldColumn {
  const double* doubles = nullptr;  // set for double fields
  const int64_t* ints = nullptr;    // set for int64 fields
};

std::vector<FieldColumn> FieldColumns(const Frame& frame) {
  std::vector<FieldColumn> columns(frame.num_columns());
  for (size_t column = 0; column < columns.size(); ++column) {
    if (frame.columns()[column].type == ColumnType::kDouble) {
      columns[column].doubles = frame.DoublesAt(column).data();
    } else {
      columns[column].ints = frame.Int64sAt(column).data();
    }
  }
  return columns;
}

}  // namespace

Result<WriteStats> SqliteStore::Write(const WriteUnit& unit) {
  const std::string context = "writing '" + unit.source + "'";
  Result<Transaction> transaction = Transaction::BeginImmediate(&db_);
  if (!transaction.ok()) return transaction.status().WithContext(context);
  WriteStats stats;
  for (const RecordBatch& batch : unit.batches) {
    VIGIL_RETURN_IF_ERROR(WriteBatch(batch, &stats)
                              .WithContext(context + " (" + batch.series.ToString() + ", table " +
                                           TableName(batch.series.kind) + ")"));
  }
  Result<int64_t> rejects = WriteRejects(unit);
  if (!rejects.ok()) return rejects.status().WithContext(context + " (table rejects)");
  stats.rejects_inserted = *rejects;
  VIGIL_RETURN_IF_ERROR(transaction->Commit().WithContext(context));
  return stats;
}

Status SqliteStore::WriteBatch(const RecordBatch& batch, WriteStats* stats) {
  const KindSchema& schema = SchemaOf(batch.series.kind);
  VIGIL_RETURN_IF_ERROR(CheckFrameMatchesSchema(batch.frame, schema));
  if (batch.frame.empty()) return Status::Ok();
  VIGIL_ASSIGN_OR_RETURN(int64_t series_id, FindOrCreateSeries(batch.series));
  VIGIL_ASSIGN_OR_RETURN(StatementLease insert, db_.Cached(InsertSql(schema)));
  // Bindings survive sqlite3_reset, so the series id is bound once per batch.
  insert->BindInt64(1, series_id);
  const std::vector<FieldColumn> columns = FieldColumns(batch.frame);
  const std::span<const int64_t> timestamps = batch.frame.timestamps();
  for (int64_t row = 0; row < batch.frame.rows(); ++row) {
    sqlite3_bind_int64(insert->get(), 2, timestamps[row]);  // ts is never "missing"
    for (size_t column = 0; column < columns.size(); ++column) {
      const int index = static_cast<int>(column) + 3;
      if (columns[column].doubles != nullptr) {
        insert->BindDouble(index, columns[column].doubles[row]);
      } else {
        insert->BindInt64(index, columns[column].ints[row]);
      }
    }
    Result<bool> stepped = insert->Step();
    if (!stepped.ok()) return stepped.status().WithContext(RowLabel(batch, row));
    // A key collision is skipped by ON CONFLICT DO NOTHING and changes nothing.
    (sqlite3_changes(db_.get()) > 0 ? stats->rows_inserted : stats->rows_existing) += 1;
    insert->Reset();
  }
  return Status::Ok();
}

Result<int64_t> SqliteStore::WriteRejects(const WriteUnit& unit) {
  if (unit.rejects.empty()) return 0;
  VIGIL_ASSIGN_OR_RETURN(StatementLease insert, db_.Cached(kInsertRejectSql));
  const int64_t recorded_at = SystemClock().Now().nanos();
  int64_t inserted = 0;
  for (const RejectedRow& reject : unit.rejects) {
    const std::string& source = reject.source.empty() ? unit.source : reject.source;
    insert->BindText(1, source);
    insert->BindInt64(2, reject.line);
    insert->BindText(3, reject.instrument);
    insert->BindText(4, KindName(reject.kind));
    insert->BindText(5, reject.field);
    insert->BindText(6, reject.reason);
    insert->BindText(7, reject.raw);
    insert->BindInt64(8, recorded_at);
    Result<bool> stepped = insert->Step();
    if (!stepped.ok()) {
      return stepped.status().WithContext("reject " + source + ":" + std::to_string(reject.line));
    }
    inserted += sqlite3_changes(db_.get());
    insert->Reset();
  }
  return inserted;
}

Result<Frame> SqliteStore::Query(const SeriesKey& series, Timestamp from, Timestamp to) {
  Frame frame = MakeFrame(SchemaOf(series.kind));
  const std::string context = "querying " + series.ToString();
  Result<std::optional<int64_t>> series_id = FindSeries(series);
  if (!series_id.ok()) return series_id.status().WithContext(context);
  if (!series_id->has_value() || from >= to) return frame;
  VIGIL_RETURN_IF_ERROR(ReadSeries(**series_id, series, from, to, &frame).WithContext(context));
  return frame;
}

Status SqliteStore::ReadSeries(int64_t series_id, const SeriesKey& series, Timestamp from,
                               Timestamp to, Frame* frame) {
  const KindSchema& schema = SchemaOf(series.kind);
  VIGIL_ASSIGN_OR_RETURN(int64_t expected_rows, EstimateRows(series_id, series, from, to));
  frame->Reserve(expected_rows);
  VIGIL_ASSIGN_OR_RETURN(StatementLease select, db_.Cached(sqlite_internal::FrameRowsSql(schema)));
  BindRange(*select, series_id, from, to);
  sink_.Begin(frame);
  Result<bool> stepped = select->Step();
  const Status sunk = sink_.End();
  VIGIL_RETURN_IF_ERROR(stepped.status());
  VIGIL_RETURN_IF_ERROR(sunk);
  // A sparse series can have far fewer rows than its time span suggests.
  if (expected_rows > 2 * frame->rows()) ShrinkToFit(frame);
  sqlite_internal::EnsureKeyOrder(schema, frame);
  return Status::Ok();
}

Result<int64_t> SqliteStore::EstimateRows(int64_t series_id, const SeriesKey& series,
                                          Timestamp from, Timestamp to) {
  Result<int64_t> step = ParseDuration(series.timeframe);
  if (!SchemaOf(series.kind).regular || !step.ok() || *step <= 0) return 0;
  int64_t edges[2] = {0, 0};
  const char* const aggregates[2] = {"MIN", "MAX"};
  for (int edge = 0; edge < 2; ++edge) {
    // MIN / MAX alone over the key prefix: SQLite answers each with one index seek.
    VIGIL_ASSIGN_OR_RETURN(
        StatementLease select,
        db_.Cached(std::string("SELECT ") + aggregates[edge] + "(ts) FROM " +
                   TableName(series.kind) + " WHERE " + sqlite_internal::kSeriesRangeSql));
    BindRange(*select, series_id, from, to);
    VIGIL_ASSIGN_OR_RETURN(bool has_row, select->Step());
    if (!has_row || sqlite3_column_type(select->get(), 0) == SQLITE_NULL) return 0;
    edges[edge] = sqlite3_column_int64(select->get(), 0);
  }
  const uint64_t span = static_cast<uint64_t>(edges[1]) - static_cast<uint64_t>(edges[0]);
  const uint64_t bars = span / static_cast<uint64_t>(*step) + 1;
  return static_cast<int64_t>(std::min<uint64_t>(bars, kMaxReservedRows));
}

Result<std::optional<int64_t>> SqliteStore::FindSeries(const SeriesKey& series) {
  VIGIL_ASSIGN_OR_RETURN(
      StatementLease select,
      db_.Cached("SELECT series_id FROM series WHERE instrument = ? AND kind = ? AND "
                 "timeframe = ?"));
  select->BindText(1, series.instrument.ToString());
  select->BindText(2, KindName(series.kind));
  select->BindText(3, series.timeframe);
  VIGIL_ASSIGN_OR_RETURN(bool has_row, select->Step());
  if (!has_row) return std::optional<int64_t>();
  return std::optional<int64_t>(select->ColumnInt64(0));
}

Result<int64_t> SqliteStore::FindOrCreateSeries(const SeriesKey& series) {
  VIGIL_ASSIGN_OR_RETURN(std::optional<int64_t> existing, FindSeries(series));
  if (existing.has_value()) return *existing;
  VIGIL_ASSIGN_OR_RETURN(
      StatementLease insert,
      db_.Cached("INSERT INTO series (instrument, venue, symbol, kind, timeframe, created_at) "
                 "VALUES (?, ?, ?, ?, ?, ?)"));
  insert->BindText(1, series.instrument.ToString());
  insert->BindText(2, series.instrument.venue);
  insert->BindText(3, series.instrument.symbol);
  insert->BindText(4, KindName(series.kind));
  insert->BindText(5, series.timeframe);
  insert->BindInt64(6, SystemClock().Now().nanos());
  VIGIL_RETURN_IF_ERROR(insert->Step().status().WithContext("registering the series"));
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_.get()));
}

}  // namespace vigil::store_internal
