// PostgreSQL backend, part 4: computed feature values in table feature_store.
//
// Writes take the path Write() takes for market data: when no stored value of the key can
// collide (the usual first computation of a range), the rows are copied straight into
// feature_store. Otherwise they are copied into a temporary staging table that holds only
// what varies per value (feature, ts, value); the stored values they replace are deleted
// and the stage inserted. For a recomputed range that is over twice as fast as INSERT ...
// ON CONFLICT DO UPDATE, which locks, updates and re-indexes row by row; the upsert
// remains the fallback when a concurrent writer inserts one of the keys meanwhile. Reads
// take one snapshot, list the stored names when none are requested, and stream each
// feature's range out with binary COPY into a one-column frame; store_common joins those
// into the wide form.
#include <algorithm>

#include "store/postgres/postgres_copy.h"
#include "store/postgres/postgres_store_impl.h"
#include "store/store_common.h"

namespace vigil::store_internal {
namespace {

using postgres_internal::AppendCopyDouble;
using postgres_internal::AppendCopyInt;
using postgres_internal::AppendCopyText;
using postgres_internal::BinaryCopyDecoder;
using postgres_internal::Connection;
using postgres_internal::Rows;
using postgres_internal::Transaction;
using CopySink = Connection::CopySink;

// COPY data is sent in chunks of about this size (as in Write()).
constexpr size_t kCopyChunkBytes = 1 << 20;

// Straight into the table: the key and computed_at lead each row, ts and value follow.
constexpr std::string_view kCopyDirectSql =
    "COPY feature_store (instrument, feature_set, feature_set_version, feature, computed_at, "
    "ts, value) FROM STDIN";

// The stage holds only what varies per value; NOT NULL as in feature_store.
constexpr std::string_view kCreateStageSql =
    "CREATE TEMP TABLE vigil_stage_feature_values (feature TEXT NOT NULL, ts BIGINT NOT NULL, "
    "value DOUBLE PRECISION) ON COMMIT DROP";
constexpr std::string_view kCopyToStageSql =
    "COPY vigil_stage_feature_values (feature, ts, value) FROM STDIN";
// The stored values the stage replaces: bounded by the stage's features and time span, so
// the server reads only that part of the key, whatever else is stored.
constexpr std::string_view kDeleteReplacedSql =
    "DELETE FROM feature_store f USING vigil_stage_feature_values s "
    "WHERE f.instrument = $1 AND f.feature_set = $2 AND f.feature_set_version = $3::bigint "
    "AND f.feature = ANY($4::text[]) AND f.ts BETWEEN $5::bigint AND $6::bigint "
    "AND f.feature = s.feature AND f.ts = s.ts";
constexpr std::string_view kInsertFromStageSql =
    "INSERT INTO feature_store (instrument, feature_set, feature_set_version, feature, ts, "
    "value, computed_at) SELECT $1, $2, $3::bigint, feature, ts, value, $4::bigint "
    "FROM vigil_stage_feature_values";
constexpr std::string_view kUpsertFromStageSql =
    "INSERT INTO feature_store (instrument, feature_set, feature_set_version, feature, ts, "
    "value, computed_at) SELECT $1, $2, $3::bigint, feature, ts, value, $4::bigint "
    "FROM vigil_stage_feature_values "
    "ON CONFLICT (instrument, feature_set, feature_set_version, feature, ts) "
    "DO UPDATE SET value = EXCLUDED.value, computed_at = EXCLUDED.computed_at";

// One index probe per feature: ScalarArrayOp on the primary key's feature column.
constexpr std::string_view kAnyStoredSql =
    "SELECT 1 FROM feature_store WHERE instrument = $1 AND feature_set = $2 AND "
    "feature_set_version = $3::bigint AND feature = ANY($4::text[]) AND "
    "ts BETWEEN $5::bigint AND $6::bigint LIMIT 1";

// The distinct features of one key by a loose index scan: each step seeks the next name
// in the primary key instead of reading every row of the key
// (https://wiki.postgresql.org/wiki/Loose_indexscan).
constexpr std::string_view kFeatureNamesSql =
    "WITH RECURSIVE names(feature) AS ("
    " SELECT MIN(feature) FROM feature_store"
    "  WHERE instrument = $1 AND feature_set = $2 AND feature_set_version = $3::bigint"
    " UNION ALL"
    " SELECT (SELECT MIN(feature) FROM feature_store"
    "  WHERE instrument = $1 AND feature_set = $2 AND feature_set_version = $3::bigint"
    "  AND feature > names.feature)"
    " FROM names WHERE names.feature IS NOT NULL) "
    "SELECT feature FROM names WHERE feature IS NOT NULL";

// A snapshot for the names and every column, even while another session writes.
constexpr std::string_view kBeginSnapshotSql = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

constexpr char kValueColumn[] = "value";

// Flushes `buffer` to `sink` once it holds a chunk's worth (or always, when `last`).
Status Flush(const CopySink& sink, bool last, std::string* buffer) {
  if (buffer->empty() || (!last && buffer->size() < kCopyChunkBytes)) return Status::Ok();
  Status status = sink(*buffer);
  buffer->clear();
  return status;
}

// Streams "<prefix of the column> ts \t value \n" for `rows` of every column, column by
// column; prefixes[column] holds the fields before ts, each followed by a tab.
Status ProduceFeatureRows(const Frame& frame, std::span<const int64_t> rows,
                          const std::vector<std::string>& prefixes, const CopySink& sink) {
  std::string buffer;
  buffer.reserve(kCopyChunkBytes + kCopyChunkBytes / 8);
  const std::span<const int64_t> ts = frame.timestamps();
  for (size_t column = 0; column < frame.num_columns(); ++column) {
    const std::span<const double> values = frame.DoublesAt(column);
    for (int64_t row : rows) {
      buffer += prefixes[column];
      AppendCopyInt(ts[row], &buffer);
      buffer += '\t';
      AppendCopyDouble(values[row], &buffer);  // NaN as \N (NULL)
      buffer += '\n';
      VIGIL_RETURN_IF_ERROR(Flush(sink, /*last=*/false, &buffer));
    }
  }
  return Flush(sink, /*last=*/true, &buffer);
}

// Per column: its feature name, then (direct) the key and computed_at of kCopyDirectSql.
std::vector<std::string> RowPrefixes(const FeatureValues& values, bool direct) {
  std::string key;
  if (direct) {
    AppendCopyText(values.instrument, &key);
    key += '\t';
    AppendCopyText(values.feature_set, &key);
    key += '\t';
    AppendCopyInt(values.version, &key);
    key += '\t';
  }
  std::vector<std::string> prefixes;
  for (const ColumnSpec& column : values.frame->columns()) {
    std::string prefix = key;
    AppendCopyText(column.name, &prefix);
    prefix += '\t';
    if (direct) {
      AppendCopyInt(values.computed_at.nanos(), &prefix);
      prefix += '\t';
    }
    prefixes.push_back(std::move(prefix));
  }
  return prefixes;
}

// A text[] literal of the frame's feature names: each quoted, with " and \ escaped.
std::string FeatureArrayLiteral(const Frame& frame) {
  std::string array = "{";
  for (const ColumnSpec& column : frame.columns()) {
    if (array.size() > 1) array += ',';
    array += '"';
    for (char c : column.name) {
      if (c == '"' || c == '\\') array += '\\';
      array += c;
    }
    array += '"';
  }
  return array + "}";
}

// Parameters $1..$3 of the statements above: the key.
std::vector<std::string> KeyParams(const FeatureValues& values) {
  return {values.instrument, values.feature_set, std::to_string(values.version)};
}

// $1..$6 of kAnyStoredSql and kDeleteReplacedSql: the key, the frame's features and the
// time span of the rows to write (RowsToStore gives them in time order).
std::vector<std::string> SpanParams(const FeatureValues& values, std::span<const int64_t> rows) {
  const std::span<const int64_t> ts = values.frame->timestamps();
  std::vector<std::string> params = KeyParams(values);
  params.push_back(FeatureArrayLiteral(*values.frame));
  params.push_back(std::to_string(ts[rows.front()]));
  params.push_back(std::to_string(ts[rows.back()]));
  return params;
}

// $1..$4 of the INSERTs from the stage: the key and computed_at.
std::vector<std::string> InsertParams(const FeatureValues& values) {
  std::vector<std::string> params = KeyParams(values);
  params.push_back(std::to_string(values.computed_at.nanos()));
  return params;
}

// Whether any stored value of the key, for one of the frame's features, falls inside the
// span of the rows to write. If none does, the rows cannot collide with stored ones.
Result<bool> AnyFeatureValueStored(Connection& conn, const FeatureValues& values,
                                   std::span<const int64_t> rows, std::string_view context) {
  VIGIL_ASSIGN_OR_RETURN(Rows found, conn.Query(kAnyStoredSql, context, SpanParams(values, rows)));
  return found.count() > 0;
}

// The fast path for new values; false, with the transaction as it was, if one collided
// after all (a concurrent writer).
Result<bool> CopyDirect(Connection& conn, const FeatureValues& values,
                        std::span<const int64_t> rows, std::string_view context) {
  const std::vector<std::string> prefixes = RowPrefixes(values, /*direct=*/true);
  return conn.RunUnlessDuplicate(context, [&] {
    return conn
        .CopyIn(kCopyDirectSql, context,
                [&](const CopySink& sink) {
                  return ProduceFeatureRows(*values.frame, rows, prefixes, sink);
                })
        .status();
  });
}

// The general path: stage, then replace (or upsert when a concurrent writer interferes).
Status ReplaceViaStage(Connection& conn, const FeatureValues& values, std::span<const int64_t> rows,
                       std::string_view context) {
  const std::vector<std::string> prefixes = RowPrefixes(values, /*direct=*/false);
  VIGIL_RETURN_IF_ERROR(conn.Exec(kCreateStageSql, context));
  VIGIL_RETURN_IF_ERROR(conn.CopyIn(kCopyToStageSql, context,
                                    [&](const CopySink& sink) {
                                      return ProduceFeatureRows(*values.frame, rows, prefixes,
                                                                sink);
                                    })
                            .status());
  // Statistics let the planner choose between index probes (a few recomputed values) and
  // a hash join (a whole recomputed range) for the DELETE.
  VIGIL_RETURN_IF_ERROR(conn.Exec("ANALYZE vigil_stage_feature_values", context));
  auto replace = [&]() -> Status {
    VIGIL_RETURN_IF_ERROR(
        conn.Query(kDeleteReplacedSql, context, SpanParams(values, rows)).status());
    return conn.Query(kInsertFromStageSql, context, InsertParams(values)).status();
  };
  VIGIL_ASSIGN_OR_RETURN(bool replaced, conn.RunUnlessDuplicate(context, replace));
  if (replaced) return Status::Ok();
  return conn.Query(kUpsertFromStageSql, context, InsertParams(values)).status();
}

}  // namespace

Result<int64_t> PostgresStore::WriteFeatureValues(const FeatureValues& values) {
  const std::string context =
      Where() + ": writing feature values (" +
      FeatureKeyLabel(values.instrument, values.feature_set, values.version) + ")";
  // Checked before BEGIN, so bad input is an InvalidArgument that touches nothing.
  VIGIL_RETURN_IF_ERROR(CheckFeatureValues(values).WithContext(context));
  const std::vector<int64_t> rows = RowsToStore(*values.frame);
  const int64_t written = static_cast<int64_t>(rows.size() * values.frame->num_columns());
  if (written == 0) return 0;
  VIGIL_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(&conn_, context));
  VIGIL_ASSIGN_OR_RETURN(bool overlaps, AnyFeatureValueStored(conn_, values, rows, context));
  bool copied = false;
  if (!overlaps) {
    VIGIL_ASSIGN_OR_RETURN(copied, CopyDirect(conn_, values, rows, context));
  }
  if (!copied) VIGIL_RETURN_IF_ERROR(ReplaceViaStage(conn_, values, rows, context));
  VIGIL_RETURN_IF_ERROR(transaction.Commit(context));
  return written;
}

Result<Frame> PostgresStore::ReadFeatureValues(std::string_view instrument,
                                               std::string_view feature_set, int64_t version,
                                               std::span<const std::string> features,
                                               Timestamp from, Timestamp to) {
  const std::string context = Where() + ": reading feature values (" +
                              FeatureKeyLabel(instrument, feature_set, version) + ")";
  VIGIL_RETURN_IF_ERROR(CheckFeatureNames(features).WithContext(context));
  VIGIL_ASSIGN_OR_RETURN(Transaction transaction,
                         Transaction::Begin(&conn_, context, kBeginSnapshotSql));
  std::vector<std::string> names(features.begin(), features.end());
  if (names.empty()) {
    VIGIL_ASSIGN_OR_RETURN(names, StoredFeatureNames(instrument, feature_set, version, context));
    std::sort(names.begin(), names.end());  // byte order, whatever the collation
  }
  std::vector<Frame> series;
  series.reserve(names.size());
  if (from >= to) {
    for (size_t index = 0; index < names.size(); ++index) {
      series.emplace_back(std::vector<ColumnSpec>{{kValueColumn, ColumnType::kDouble}});
    }
  } else if (!names.empty()) {
    VIGIL_ASSIGN_OR_RETURN(std::string quoted_instrument, conn_.QuoteLiteral(instrument, context));
    VIGIL_ASSIGN_OR_RETURN(std::string quoted_set, conn_.QuoteLiteral(feature_set, context));
    const std::string key_sql = "instrument = " + quoted_instrument +
                                " AND feature_set = " + quoted_set +
                                " AND feature_set_version = " + std::to_string(version);
    for (const std::string& feature : names) {
      VIGIL_ASSIGN_OR_RETURN(Frame one, ReadFeatureSeries(key_sql, feature, from, to, context));
      series.push_back(std::move(one));
    }
  }
  VIGIL_RETURN_IF_ERROR(transaction.Commit(context));
  return WidenFeatureSeries(names, std::move(series));
}

Result<std::vector<std::string>> PostgresStore::StoredFeatureNames(std::string_view instrument,
                                                                   std::string_view feature_set,
                                                                   int64_t version,
                                                                   std::string_view context) {
  VIGIL_ASSIGN_OR_RETURN(Rows rows, conn_.Query(kFeatureNamesSql, context,
                                                {std::string(instrument), std::string(feature_set),
                                                 std::to_string(version)}));
  std::vector<std::string> names;
  names.reserve(rows.count());
  for (int row = 0; row < rows.count(); ++row) names.emplace_back(rows.Text(row, 0));
  return names;
}

Result<Frame> PostgresStore::ReadFeatureSeries(const std::string& key_sql,
                                               const std::string& feature, Timestamp from,
                                               Timestamp to, std::string_view context) {
  const std::string where = std::string(context) + ", feature '" + feature + "'";
  VIGIL_ASSIGN_OR_RETURN(std::string quoted_feature, conn_.QuoteLiteral(feature, where));
  // Ordered by the primary key's last column: the server walks the index, sorting nothing.
  const std::string sql = "COPY (SELECT ts, value FROM feature_store WHERE " + key_sql +
                          " AND feature = " + quoted_feature +
                          " AND ts >= " + std::to_string(from.nanos()) + " AND ts < " +
                          std::to_string(to.nanos()) + " ORDER BY ts) TO STDOUT (FORMAT binary)";
  Frame frame(std::vector<ColumnSpec>{{kValueColumn, ColumnType::kDouble}});
  BinaryCopyDecoder decoder(&frame);
  VIGIL_RETURN_IF_ERROR(conn_.CopyOut(sql, where, [&](std::string_view chunk) {
    return decoder.Consume(chunk).WithContext(where);
  }));
  VIGIL_RETURN_IF_ERROR(decoder.Finish().WithContext(where));
  VIGIL_RETURN_IF_ERROR(frame.CheckConsistent().WithContext(where));
  return frame;
}

}  // namespace vigil::store_internal
