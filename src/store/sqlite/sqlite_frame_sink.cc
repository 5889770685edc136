#include "store/sqlite/sqlite_frame_sink.h"

#include <algorithm>
#include <limits>
#include <new>
#include <numeric>
#include <span>

namespace vigil::sqlite_internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One key field of a kind, viewed in the frame.
struct KeyColumn {
  std::span<const double> doubles;  // set for double keys
  std::span<const int64_t> ints;    // set for int64 keys
};

std::vector<KeyColumn> KeyColumns(const KindSchema& schema, const Frame& frame) {
  std::vector<KeyColumn> keys;
  for (std::string_view name : schema.key_fields) {
    const int column = frame.ColumnIndex(name);
    if (column < 0) continue;
    KeyColumn key;
    if (frame.columns()[column].type == ColumnType::kDouble) {
      key.doubles = frame.DoublesAt(column);
    } else {
      key.ints = frame.Int64sAt(column);
    }
    keys.push_back(key);
  }
  return keys;
}

}  // namespace

Status FrameSink::Register(sqlite3* db) {
  // DIRECTONLY: callable from top-level SQL only, never from a trigger or view that a
  // foreign database file could bring along.
  int rc =
      sqlite3_create_function_v2(db, kFrameRowsFunction, -1, SQLITE_UTF8 | SQLITE_DIRECTONLY, this,
                                 nullptr, &FrameSink::StepRow, &FrameSink::Finish, nullptr);
  if (rc != SQLITE_OK) {
    return DatabaseError(std::string("registering ") + kFrameRowsFunction + ": " +
                         sqlite3_errmsg(db));
  }
  return Status::Ok();
}

void FrameSink::Begin(Frame* frame) {
  frame_ = frame;
  error_.clear();
  doubles_.assign(frame->num_columns(), nullptr);
  ints_.assign(frame->num_columns(), nullptr);
  for (size_t column = 0; column < frame->num_columns(); ++column) {
    if (frame->columns()[column].type == ColumnType::kDouble) {
      doubles_[column] = &frame->MutableDoublesAt(column);
    } else {
      ints_[column] = &frame->MutableInt64sAt(column);
    }
  }
}

Status FrameSink::End() {
  frame_ = nullptr;
  if (!error_.empty()) return Internal(error_);
  return Status::Ok();
}

void FrameSink::StepRow(sqlite3_context* context, int argc, sqlite3_value** argv) {
  auto* sink = static_cast<FrameSink*>(sqlite3_user_data(context));
  if (sink->frame_ == nullptr || argc != static_cast<int>(sink->frame_->num_columns()) + 1) {
    sink->error_ = std::string(kFrameRowsFunction) + " called with " + std::to_string(argc) +
                   " arguments and no matching frame";
    sqlite3_result_error(context, sink->error_.c_str(), -1);
    return;
  }
  // Exceptions must not unwind through SQLite's C frames.
  try {
    sink->Append(argc, argv);
  } catch (const std::bad_alloc&) {
    sink->error_ = "out of memory reading rows into a frame";
    sqlite3_result_error_nomem(context);
  }
}

void FrameSink::Finish(sqlite3_context* context) { sqlite3_result_null(context); }

void FrameSink::Append(int argc, sqlite3_value** argv) {
  frame_->mutable_timestamps().push_back(sqlite3_value_int64(argv[0]));
  for (int arg = 1; arg < argc; ++arg) {
    sqlite3_value* value = argv[arg];
    const bool null = sqlite3_value_type(value) == SQLITE_NULL;
    const size_t column = static_cast<size_t>(arg) - 1;
    if (doubles_[column] != nullptr) {
      doubles_[column]->push_back(null ? kNaN : sqlite3_value_double(value));
    } else {
      ints_[column]->push_back(null ? kMissingInt : sqlite3_value_int64(value));
    }
  }
}

std::string FrameRowsSql(const KindSchema& schema) {
  std::string sql = std::string("SELECT ") + kFrameRowsFunction + "(ts";
  for (const FieldSpec& field : schema.fields) sql += ", " + std::string(field.name);
  return sql + ") FROM " + std::string(schema.name) + " WHERE " + kSeriesRangeSql;
}

void EnsureKeyOrder(const KindSchema& schema, Frame* frame) {
  const std::span<const int64_t> ts = frame->timestamps();
  const std::vector<KeyColumn> keys = KeyColumns(schema, *frame);
  auto less = [&](int64_t a, int64_t b) {
    if (ts[a] != ts[b]) return ts[a] < ts[b];
    for (const KeyColumn& key : keys) {
      if (!key.ints.empty() && key.ints[a] != key.ints[b]) return key.ints[a] < key.ints[b];
      if (!key.doubles.empty() && key.doubles[a] != key.doubles[b]) {
        return key.doubles[a] < key.doubles[b];
      }
    }
    return false;
  };
  bool sorted = true;
  for (int64_t row = 1; row < frame->rows() && sorted; ++row) sorted = !less(row, row - 1);
  if (sorted) return;
  std::vector<int64_t> order(frame->rows());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), less);
  frame->TakeRows(order);
}

}  // namespace vigil::sqlite_internal
