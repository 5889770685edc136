// PostgreSQL backend, part 2: Write() and Query(), the bulk paths.
//
// Write streams each kind's rows with COPY (text format) into a temporary staging table
// and moves them with one INSERT ... SELECT ... ON CONFLICT DO NOTHING: COPY is the
// fastest way into PostgreSQL but cannot skip rows that already exist, the INSERT can,
// and its command tag says how many were new. When no stored row can collide (the usual
// first ingest of a file) the rows are copied straight into the table instead. Query
// streams rows out with binary COPY (SELECT ...) TO STDOUT straight into the Frame.
#include <algorithm>

#include "store/postgres/postgres_copy.h"
#include "store/postgres/postgres_store_impl.h"
#include "store/store_common.h"
#include "vigil/core/clock.h"
#include "vigil/store/migrations.h"

namespace vigil::store_internal {
namespace {

using postgres_internal::AppendCopyText;
using postgres_internal::BinaryCopyDecoder;
using postgres_internal::Connection;
using postgres_internal::CopyRowEncoder;
using postgres_internal::Rows;
using postgres_internal::Transaction;
using CopySink = Connection::CopySink;

// COPY data is sent in chunks of about this size: large enough to amortise the calls,
// small enough not to hold a second copy of a big unit in memory.
constexpr size_t kCopyChunkBytes = 1 << 20;

constexpr std::string_view kRejectColumns = "source, line, instrument, kind, field, reason, raw";

std::string FieldList(const KindSchema& schema) {
  std::string columns = "series_id, ts";
  for (const FieldSpec& field : schema.fields) columns += ", " + std::string(field.name);
  return columns;
}

std::string StageName(std::string_view table) { return "vigil_stage_" + std::string(table); }

// "binance:BTC/USDT candles 1m" or "binance:BTC/USDT candles 1m and 3 more series".
std::string SeriesLabel(const std::vector<const RecordBatch*>& batches) {
  std::string label = batches.front()->series.ToString();
  if (batches.size() > 1) label += " and " + std::to_string(batches.size() - 1) + " more series";
  return label;
}

// Flushes `buffer` to `sink` once it holds a chunk's worth (or always, when `last`).
Status Flush(const CopySink& sink, bool last, std::string* buffer) {
  if (buffer->empty() || (!last && buffer->size() < kCopyChunkBytes)) return Status::Ok();
  Status status = sink(*buffer);
  buffer->clear();
  return status;
}

// Streams the rows of `batches` as COPY text in chunks.
Status Produce(const std::vector<const RecordBatch*>& batches,
               const std::vector<int64_t>& series_ids, const CopySink& sink) {
  std::string buffer;
  buffer.reserve(kCopyChunkBytes + kCopyChunkBytes / 8);
  for (size_t index = 0; index < batches.size(); ++index) {
    CopyRowEncoder encoder(batches[index]->frame, series_ids[index]);
    for (int64_t row = 0; row < batches[index]->frame.rows(); ++row) {
      encoder.AppendRow(row, &buffer);
      VIGIL_RETURN_IF_ERROR(Flush(sink, /*last=*/false, &buffer));
    }
  }
  return Flush(sink, /*last=*/true, &buffer);
}

// What the COPY paths of one kind share.
struct KindCopy {
  Connection& conn;
  std::string table;
  std::string columns;  // "series_id, ts, field..."
  std::string context;
  std::function<Status(const CopySink&)> produce;
};

// Whether any stored row of the batches' series falls inside a batch's time span: one
// index probe per batch. If none does, the rows cannot collide with stored ones.
Result<bool> AnyRowStored(const KindCopy& copy, const std::vector<const RecordBatch*>& batches,
                          const std::vector<int64_t>& series_ids) {
  for (size_t index = 0; index < batches.size(); ++index) {
    std::span<const int64_t> ts = batches[index]->frame.timestamps();
    auto [first, last] = std::minmax_element(ts.begin(), ts.end());
    VIGIL_ASSIGN_OR_RETURN(
        Rows rows, copy.conn.Query("SELECT 1 FROM " + copy.table +
                                       " WHERE series_id = $1 AND ts BETWEEN $2 AND $3 LIMIT 1",
                                   copy.context,
                                   {std::to_string(series_ids[index]), std::to_string(*first),
                                    std::to_string(*last)}));
    if (rows.count() > 0) return true;
  }
  return false;
}

// The fast path for new rows: COPY straight into the table, two to three times faster
// than staging and inserting. Returns nullopt, with the transaction as it was, if a row
// collided after all (a duplicate within the unit, or a concurrent writer).
Result<std::optional<int64_t>> CopyDirect(const KindCopy& copy) {
  int64_t copied = 0;
  auto copy_in = [&]() -> Status {
    VIGIL_ASSIGN_OR_RETURN(
        copied, copy.conn.CopyIn("COPY " + copy.table + " (" + copy.columns + ") FROM STDIN",
                                 copy.context, copy.produce));
    return Status::Ok();
  };
  VIGIL_ASSIGN_OR_RETURN(bool done, copy.conn.RunUnlessDuplicate(copy.context, copy_in));
  if (!done) return std::optional<int64_t>();
  return std::optional<int64_t>(copied);
}

// The general path: COPY into a temporary table, then INSERT what is new. Returns
// (rows staged, rows inserted).
Result<std::pair<int64_t, int64_t>> CopyViaStage(const KindCopy& copy) {
  const std::string stage = StageName(copy.table);
  // LIKE copies the NOT NULL constraints, so a missing required value fails here, but
  // not the primary key: duplicates within the unit are resolved by the INSERT.
  VIGIL_RETURN_IF_ERROR(copy.conn.Exec(
      "CREATE TEMP TABLE " + stage + " (LIKE " + copy.table + ") ON COMMIT DROP", copy.context));
  VIGIL_ASSIGN_OR_RETURN(int64_t staged,
                         copy.conn.CopyIn("COPY " + stage + " (" + copy.columns + ") FROM STDIN",
                                          copy.context, copy.produce));
  VIGIL_ASSIGN_OR_RETURN(
      Rows inserted,
      copy.conn.Query("INSERT INTO " + copy.table + " (" + copy.columns + ") SELECT " +
                          copy.columns + " FROM " + stage + " ON CONFLICT DO NOTHING",
                      copy.context));
  return std::make_pair(staged, inserted.AffectedRows());
}

// Streams the unit's rejects as COPY text rows (ord, kRejectColumns...).
Status ProduceRejects(const WriteUnit& unit, const CopySink& sink) {
  std::string buffer;
  for (size_t index = 0; index < unit.rejects.size(); ++index) {
    const RejectedRow& reject = unit.rejects[index];
    buffer += std::to_string(index) + '\t';
    AppendCopyText(reject.source.empty() ? unit.source : reject.source, &buffer);
    buffer += '\t' + std::to_string(reject.line) + '\t';
    for (std::string_view text : {std::string_view(reject.instrument), KindName(reject.kind),
                                  std::string_view(reject.field), std::string_view(reject.reason),
                                  std::string_view(reject.raw)}) {
      AppendCopyText(text, &buffer);
      buffer += '\t';
    }
    buffer.back() = '\n';
    VIGIL_RETURN_IF_ERROR(Flush(sink, /*last=*/false, &buffer));
  }
  return Flush(sink, /*last=*/true, &buffer);
}

}  // namespace

Result<WriteStats> PostgresStore::Write(const WriteUnit& unit) {
  const std::string context = Where() + ": writing '" + unit.source + "'";
  // Checked before BEGIN, so a malformed unit is an InvalidArgument that touches nothing.
  for (const RecordBatch& batch : unit.batches) {
    VIGIL_RETURN_IF_ERROR(CheckFrameMatchesSchema(batch.frame, SchemaOf(batch.series.kind))
                              .WithContext(context + " (" + batch.series.ToString() + ")"));
  }
  VIGIL_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(&conn_, context));
  WriteStats stats;
  for (DataKind kind : AllKinds()) {
    VIGIL_RETURN_IF_ERROR(WriteKind(kind, unit, &stats));
  }
  VIGIL_ASSIGN_OR_RETURN(stats.rejects_inserted, WriteRejects(unit));
  VIGIL_RETURN_IF_ERROR(transaction.Commit(context));
  return stats;
}

Status PostgresStore::WriteKind(DataKind kind, const WriteUnit& unit, WriteStats* stats) {
  std::vector<const RecordBatch*> batches;
  for (const RecordBatch& batch : unit.batches) {
    if (batch.series.kind == kind && !batch.frame.empty()) batches.push_back(&batch);
  }
  if (batches.empty()) return Status::Ok();
  const std::string table = TableName(kind);
  const std::string context = Where() + ": writing '" + unit.source + "' (" + SeriesLabel(batches) +
                              ", table " + table + ")";
  // Series ids first: the connection is busy for anything else while COPY runs.
  std::vector<int64_t> series_ids;
  for (const RecordBatch* batch : batches) {
    VIGIL_ASSIGN_OR_RETURN(int64_t id, FindOrCreateSeries(batch->series, context));
    series_ids.push_back(id);
  }
  const KindCopy copy{conn_, table, FieldList(SchemaOf(kind)), context,
                      [&](const CopySink& sink) { return Produce(batches, series_ids, sink); }};
  VIGIL_ASSIGN_OR_RETURN(bool overlaps, AnyRowStored(copy, batches, series_ids));
  if (!overlaps) {
    VIGIL_ASSIGN_OR_RETURN(std::optional<int64_t> copied, CopyDirect(copy));
    if (copied.has_value()) {
      stats->rows_inserted += *copied;
      return Status::Ok();
    }
  }
  VIGIL_ASSIGN_OR_RETURN(auto counts, CopyViaStage(copy));
  stats->rows_inserted += counts.second;
  stats->rows_existing += counts.first - counts.second;
  return Status::Ok();
}

Result<int64_t> PostgresStore::WriteRejects(const WriteUnit& unit) {
  if (unit.rejects.empty()) return 0;
  const std::string context = Where() + ": writing '" + unit.source + "' (table rejects)";
  const std::string stage = StageName("rejects");
  VIGIL_RETURN_IF_ERROR(conn_.Exec("CREATE TEMP TABLE " + stage +
                                       " (ord BIGINT, source TEXT, line BIGINT, instrument TEXT, "
                                       "kind TEXT, field TEXT, reason TEXT, raw TEXT) "
                                       "ON COMMIT DROP",
                                   context));
  auto produce = [&unit](const CopySink& sink) { return ProduceRejects(unit, sink); };
  VIGIL_RETURN_IF_ERROR(
      conn_
          .CopyIn("COPY " + stage + " (ord, " + std::string(kRejectColumns) + ") FROM STDIN",
                  context, produce)
          .status());
  // In input order, so reject_id (which Rejects() sorts by) follows the file.
  VIGIL_ASSIGN_OR_RETURN(
      Rows inserted,
      conn_.Query("INSERT INTO rejects (" + std::string(kRejectColumns) + ", recorded_at) SELECT " +
                      std::string(kRejectColumns) + ", $1::bigint FROM " + stage +
                      " ORDER BY ord ON CONFLICT DO NOTHING",
                  context, {std::to_string(SystemClock().Now().nanos())}));
  return inserted.AffectedRows();
}

Result<Frame> PostgresStore::Query(const SeriesKey& series, Timestamp from, Timestamp to) {
  const KindSchema& schema = SchemaOf(series.kind);
  Frame frame = MakeFrame(schema);
  const std::string context = Where() + ": querying " + series.ToString();
  VIGIL_ASSIGN_OR_RETURN(std::optional<int64_t> series_id, FindSeries(series));
  if (!series_id.has_value() || from >= to) return frame;
  std::string sql = "COPY (SELECT ts";
  for (const FieldSpec& field : schema.fields) sql += ", " + std::string(field.name);
  // Ordered by the primary key, so the server walks the key index without sorting.
  sql += " FROM " + TableName(series.kind) + " WHERE series_id = " + std::to_string(*series_id) +
         " AND ts >= " + std::to_string(from.nanos()) + " AND ts < " + std::to_string(to.nanos()) +
         " ORDER BY ts";
  for (std::string_view key : schema.key_fields) sql += ", " + std::string(key);
  sql += ") TO STDOUT (FORMAT binary)";
  BinaryCopyDecoder decoder(&frame);
  VIGIL_RETURN_IF_ERROR(conn_.CopyOut(sql, context, [&](std::string_view chunk) {
    return decoder.Consume(chunk).WithContext(context);
  }));
  VIGIL_RETURN_IF_ERROR(decoder.Finish().WithContext(context));
  VIGIL_RETURN_IF_ERROR(frame.CheckConsistent().WithContext(context));
  return frame;
}

Result<std::optional<int64_t>> PostgresStore::FindSeries(const SeriesKey& series) {
  const std::string context = Where() + ": looking up series " + series.ToString();
  VIGIL_ASSIGN_OR_RETURN(
      Rows rows, conn_.Query("SELECT series_id FROM series WHERE instrument = $1 AND kind = $2 AND "
                             "timeframe = $3",
                             context,
                             {series.instrument.ToString(), std::string(KindName(series.kind)),
                              series.timeframe}));
  if (rows.count() == 0) return std::optional<int64_t>();
  VIGIL_ASSIGN_OR_RETURN(int64_t id, rows.Int64(0, 0, context));
  return std::optional<int64_t>(id);
}

Result<int64_t> PostgresStore::FindOrCreateSeries(const SeriesKey& series,
                                                  std::string_view context) {
  VIGIL_ASSIGN_OR_RETURN(std::optional<int64_t> existing, FindSeries(series));
  if (existing.has_value()) return *existing;
  // DO NOTHING + a second lookup: another writer may register the same series between
  // our SELECT and INSERT, and its id is as good as ours.
  VIGIL_RETURN_IF_ERROR(
      conn_
          .Query("INSERT INTO series (instrument, venue, symbol, kind, timeframe, created_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                 std::string(context) + ": registering the series",
                 {series.instrument.ToString(), series.instrument.venue, series.instrument.symbol,
                  std::string(KindName(series.kind)), series.timeframe,
                  std::to_string(SystemClock().Now().nanos())})
          .status());
  VIGIL_ASSIGN_OR_RETURN(existing, FindSeries(series));
  if (!existing.has_value()) {
    return DatabaseError(std::string(context) + ": series " + series.ToString() +
                         " missing right after it was registered");
  }
  return *existing;
}

}  // namespace vigil::store_internal
