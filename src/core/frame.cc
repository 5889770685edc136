#include "vigil/core/frame.h"

#include <algorithm>
#include <cassert>
#include <numeric>

namespace vigil {

Frame::Frame(std::vector<ColumnSpec> columns) : specs_(std::move(columns)) {
  slot_.reserve(specs_.size());
  for (const ColumnSpec& spec : specs_) {
    assert(spec.name != "ts");
    if (spec.type == ColumnType::kDouble) {
      slot_.push_back(doubles_.size());
      doubles_.emplace_back();
    } else {
      slot_.push_back(ints_.size());
      ints_.emplace_back();
    }
  }
}

int Frame::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::span<const double> Frame::Doubles(std::string_view name) const {
  int idx = ColumnIndex(name);
  if (idx < 0 || specs_[idx].type != ColumnType::kDouble) return {};
  return doubles_[slot_[idx]];
}

std::span<const int64_t> Frame::Int64s(std::string_view name) const {
  int idx = ColumnIndex(name);
  if (idx < 0 || specs_[idx].type != ColumnType::kInt64) return {};
  return ints_[slot_[idx]];
}

Result<std::span<const double>> Frame::DoubleColumn(std::string_view name) const {
  int idx = ColumnIndex(name);
  if (idx < 0) return NotFound("no column '" + std::string(name) + "'");
  if (specs_[idx].type != ColumnType::kDouble) {
    return InvalidArgument("column '" + std::string(name) + "' is int64, not double");
  }
  return std::span<const double>(doubles_[slot_[idx]]);
}

Result<std::span<const int64_t>> Frame::Int64Column(std::string_view name) const {
  int idx = ColumnIndex(name);
  if (idx < 0) return NotFound("no column '" + std::string(name) + "'");
  if (specs_[idx].type != ColumnType::kInt64) {
    return InvalidArgument("column '" + std::string(name) + "' is double, not int64");
  }
  return std::span<const int64_t>(ints_[slot_[idx]]);
}

void Frame::AppendRow(int64_t ts, std::span<const double> doubles, std::span<const int64_t> ints) {
  assert(doubles.size() == doubles_.size() && ints.size() == ints_.size());
  ts_.push_back(ts);
  for (size_t i = 0; i < doubles_.size(); ++i) doubles_[i].push_back(doubles[i]);
  for (size_t i = 0; i < ints_.size(); ++i) ints_[i].push_back(ints[i]);
}

Status Frame::Append(const Frame& other) {
  if (other.specs_.size() != specs_.size()) {
    return InvalidArgument("Frame::Append: column count differs");
  }
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (other.specs_[i].name != specs_[i].name || other.specs_[i].type != specs_[i].type) {
      return InvalidArgument("Frame::Append: column " + std::to_string(i) + " is '" +
                             other.specs_[i].name + "', expected '" + specs_[i].name + "'");
    }
  }
  ts_.insert(ts_.end(), other.ts_.begin(), other.ts_.end());
  for (size_t i = 0; i < doubles_.size(); ++i) {
    doubles_[i].insert(doubles_[i].end(), other.doubles_[i].begin(), other.doubles_[i].end());
  }
  for (size_t i = 0; i < ints_.size(); ++i) {
    ints_[i].insert(ints_[i].end(), other.ints_[i].begin(), other.ints_[i].end());
  }
  return Status::Ok();
}

void Frame::Reserve(int64_t rows) {
  ts_.reserve(rows);
  for (auto& column : doubles_) column.reserve(rows);
  for (auto& column : ints_) column.reserve(rows);
}

void Frame::Clear() {
  ts_.clear();
  for (auto& column : doubles_) column.clear();
  for (auto& column : ints_) column.clear();
}

Status Frame::CheckConsistent() const {
  for (size_t i = 0; i < specs_.size(); ++i) {
    size_t size =
        specs_[i].type == ColumnType::kDouble ? doubles_[slot_[i]].size() : ints_[slot_[i]].size();
    if (size != ts_.size()) {
      return Internal("column '" + specs_[i].name + "' has " + std::to_string(size) +
                      " rows, timestamps have " + std::to_string(ts_.size()));
    }
  }
  return Status::Ok();
}

bool Frame::IsSorted() const { return std::is_sorted(ts_.begin(), ts_.end()); }

namespace {
template <typename T>
void FilterVector(std::vector<T>* values, const std::vector<bool>& keep) {
  size_t out = 0;
  for (size_t row = 0; row < values->size(); ++row) {
    if (keep[row]) (*values)[out++] = (*values)[row];
  }
  values->resize(out);
}

template <typename T>
void TakeVector(std::vector<T>* values, std::span<const int64_t> order) {
  std::vector<T> taken;
  taken.reserve(order.size());
  for (int64_t row : order) taken.push_back((*values)[row]);
  values->swap(taken);
}
}  // namespace

void Frame::Filter(const std::vector<bool>& keep) {
  assert(keep.size() == ts_.size());
  FilterVector(&ts_, keep);
  for (auto& column : doubles_) FilterVector(&column, keep);
  for (auto& column : ints_) FilterVector(&column, keep);
}

void Frame::TakeRows(std::span<const int64_t> order) {
  TakeVector(&ts_, order);
  for (auto& column : doubles_) TakeVector(&column, order);
  for (auto& column : ints_) TakeVector(&column, order);
}

void Frame::SortByTime() {
  if (IsSorted()) return;
  std::vector<int64_t> order(ts_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [this](int64_t a, int64_t b) { return ts_[a] < ts_[b]; });
  TakeRows(order);
}

FrameView Frame::Slice(Timestamp from, Timestamp to) const {
  auto begin = std::lower_bound(ts_.begin(), ts_.end(), from.nanos());
  auto end = std::lower_bound(begin, ts_.end(), to.nanos());
  return FrameView(this, begin - ts_.begin(), end - ts_.begin());
}

FrameView Frame::View() const { return FrameView(this, 0, rows()); }

Frame Frame::CopyRows(int64_t begin, int64_t end) const {
  Frame out(specs_);
  out.ts_.assign(ts_.begin() + begin, ts_.begin() + end);
  for (size_t i = 0; i < doubles_.size(); ++i) {
    out.doubles_[i].assign(doubles_[i].begin() + begin, doubles_[i].begin() + end);
  }
  for (size_t i = 0; i < ints_.size(); ++i) {
    out.ints_[i].assign(ints_[i].begin() + begin, ints_[i].begin() + end);
  }
  return out;
}

std::span<const double> FrameView::Doubles(std::string_view name) const {
  auto all = frame_->Doubles(name);
  return all.empty() ? all : all.subspan(begin_, rows());
}

std::span<const int64_t> FrameView::Int64s(std::string_view name) const {
  auto all = frame_->Int64s(name);
  return all.empty() ? all : all.subspan(begin_, rows());
}

}  // namespace vigil
