// Frame: a columnar, time-indexed table. One int64 timestamp column (ns, UTC) plus
// named columns of double or int64 values, each stored contiguously.
//
//   vigil::Frame frame({{"close", vigil::ColumnType::kDouble}, {"trade_id",
//   vigil::ColumnType::kInt64}}); frame.AppendRow(ts, {101.5}, {42}); std::span<const double> close
//   = frame.Doubles("close");   // zero-copy view vigil::FrameView day = frame.Slice(from, to); //
//   rows with from <= ts < to
//
// Missing double values are NaN. Slice() and the FrameView it returns assume timestamps
// are non-decreasing (IsSorted()); they point into the Frame, so the Frame must outlive
// them and must not be appended to while they are in use.
// Thread-safety: const methods may be called concurrently; mutation needs exclusive access.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"

namespace vigil {

enum class ColumnType { kDouble, kInt64 };

struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::kDouble;
};

class FrameView;

class Frame {
 public:
  Frame() = default;
  // Column names must be unique and must not be "ts" (asserted).
  explicit Frame(std::vector<ColumnSpec> columns);

  int64_t rows() const { return static_cast<int64_t>(ts_.size()); }
  bool empty() const { return ts_.empty(); }
  size_t num_columns() const { return specs_.size(); }
  const std::vector<ColumnSpec>& columns() const { return specs_; }
  // Index of a column by name, or -1.
  int ColumnIndex(std::string_view name) const;
  bool HasColumn(std::string_view name) const { return ColumnIndex(name) >= 0; }

  std::span<const int64_t> timestamps() const { return ts_; }
  Timestamp time(int64_t row) const { return Timestamp(ts_[row]); }
  // Zero-copy views. An unknown name or a type mismatch returns an empty span;
  // use DoubleColumn()/Int64Column() to get an error instead.
  std::span<const double> Doubles(std::string_view name) const;
  std::span<const int64_t> Int64s(std::string_view name) const;
  Result<std::span<const double>> DoubleColumn(std::string_view name) const;
  Result<std::span<const int64_t>> Int64Column(std::string_view name) const;
  // By column index (precondition: index valid and of that type).
  std::span<const double> DoublesAt(size_t column) const { return doubles_[slot_[column]]; }
  std::span<const int64_t> Int64sAt(size_t column) const { return ints_[slot_[column]]; }

  // Appends one row. `doubles` holds the double columns' values in column order,
  // `ints` the int64 columns' values (precondition: sizes match the schema).
  void AppendRow(int64_t ts, std::span<const double> doubles, std::span<const int64_t> ints = {});
  // Appends every row of `other`; its columns must match this frame's by name and type.
  Status Append(const Frame& other);
  void Reserve(int64_t rows);
  void Clear();

  // Mutable access for bulk loaders; all columns must end with equal length
  // (CheckConsistent()).
  std::vector<int64_t>& mutable_timestamps() { return ts_; }
  std::vector<double>& MutableDoublesAt(size_t column) { return doubles_[slot_[column]]; }
  std::vector<int64_t>& MutableInt64sAt(size_t column) { return ints_[slot_[column]]; }
  Status CheckConsistent() const;

  bool IsSorted() const;
  // Keeps the rows whose mask entry is true (mask.size() == rows()).
  void Filter(const std::vector<bool>& keep);
  // Reorders rows to `order` (a permutation or a subset of row indices).
  void TakeRows(std::span<const int64_t> order);
  // Stable sort by timestamp.
  void SortByTime();

  // Rows with from <= ts < to (binary search; precondition IsSorted()).
  FrameView Slice(Timestamp from, Timestamp to) const;
  FrameView View() const;
  // An owning copy of rows [begin, end).
  Frame CopyRows(int64_t begin, int64_t end) const;

 private:
  std::vector<ColumnSpec> specs_;
  std::vector<size_t> slot_;  // column index -> index into doubles_ or ints_
  std::vector<int64_t> ts_;
  std::vector<std::vector<double>> doubles_;
  std::vector<std::vector<int64_t>> ints_;
};

// A zero-copy window [begin, end) of a Frame's rows.
class FrameView {
 public:
  FrameView(const Frame* frame, int64_t begin, int64_t end)
      : frame_(frame), begin_(begin), end_(end) {}
  int64_t rows() const { return end_ - begin_; }
  int64_t begin_row() const { return begin_; }
  std::span<const int64_t> timestamps() const {
    return frame_->timestamps().subspan(begin_, rows());
  }
  std::span<const double> Doubles(std::string_view name) const;
  std::span<const int64_t> Int64s(std::string_view name) const;
  const Frame& frame() const { return *frame_; }
  Frame ToFrame() const { return frame_->CopyRows(begin_, end_); }

 private:
  const Frame* frame_;
  int64_t begin_;
  int64_t end_;
};

}  // namespace vigil
