#include "vigil/features/event.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ColumnValue(const Frame& frame, size_t column, int64_t row) {
  if (frame.columns()[column].type == ColumnType::kDouble) return frame.DoublesAt(column)[row];
  const int64_t value = frame.Int64sAt(column)[row];
  return value == kMissingInt ? kNaN : static_cast<double>(value);
}

// Column index of every schema field in `frame` (-1 when absent).
std::vector<int> FieldColumns(const KindSchema& schema, const Frame& frame) {
  std::vector<int> columns;
  for (const FieldSpec& field : schema.fields) columns.push_back(frame.ColumnIndex(field.name));
  return columns;
}

Status CheckSorted(const Frame& frame, DataKind kind) {
  if (frame.IsSorted()) return Status::Ok();
  return InvalidArgument(std::string(KindName(kind)) + " events must be sorted by time");
}

}  // namespace

double Event::Field(std::string_view name) const {
  const int index = FieldIndex(SchemaOf(kind), name);
  if (index < 0 || static_cast<size_t>(index) >= values.size()) return kNaN;
  return values[index];
}

EventStream EventStream::FromBars(std::span<const Bar> bars) {
  EventStream stream;
  stream.kind_ = DataKind::kCandles;
  const size_t width = SchemaOf(DataKind::kCandles).fields.size();
  stream.values_.assign(bars.size() * width, kNaN);
  for (size_t i = 0; i < bars.size(); ++i) {
    double* row = stream.values_.data() + i * width;
    row[fields::kOpen] = bars[i].open;
    row[fields::kHigh] = bars[i].high;
    row[fields::kLow] = bars[i].low;
    row[fields::kClose] = bars[i].close;
    row[fields::kVolume] = bars[i].volume;
  }
  stream.events_.reserve(bars.size());
  for (size_t i = 0; i < bars.size(); ++i) {
    stream.events_.push_back(
        Event{DataKind::kCandles, bars[i].ts,
              std::span<const double>(stream.values_).subspan(i * width, width), nullptr});
  }
  return stream;
}

namespace {

struct Level {
  double price;
  double size;
  int64_t level;
};

// Rows [begin, end) of one order-book timestamp, split by side and ordered by level.
void CollectSides(const Frame& frame, const std::vector<int>& cols, int64_t begin, int64_t end,
                  std::vector<Level>& bids, std::vector<Level>& asks) {
  bids.clear();
  asks.clear();
  for (int64_t row = begin; row < end; ++row) {
    const double side = ColumnValue(frame, cols[0], row);
    const double level = ColumnValue(frame, cols[1], row);
    const Level entry{ColumnValue(frame, cols[2], row), ColumnValue(frame, cols[3], row),
                      std::isfinite(level) ? static_cast<int64_t>(level) : 0};
    if (side > 0) bids.push_back(entry);
    if (side < 0) asks.push_back(entry);
  }
  auto by_level = [](const Level& a, const Level& b) { return a.level < b.level; };
  std::stable_sort(bids.begin(), bids.end(), by_level);
  std::stable_sort(asks.begin(), asks.end(), by_level);
}

}  // namespace

Result<EventStream> EventStream::FromFrame(DataKind kind, const Frame& frame) {
  VIGIL_RETURN_IF_ERROR(CheckSorted(frame, kind));
  const KindSchema& schema = SchemaOf(kind);
  const std::vector<int> cols = FieldColumns(schema, frame);
  for (size_t f = 0; f < schema.fields.size(); ++f) {
    if (cols[f] < 0 && schema.fields[f].required) {
      return InvalidArgument(std::string(schema.name) + " frame has no column '" +
                             std::string(schema.fields[f].name) + "'");
    }
  }
  EventStream stream;
  stream.kind_ = kind;
  const auto ts = frame.timestamps();
  const int64_t rows = frame.rows();
  if (kind != DataKind::kOrderBook) {
    const size_t width = schema.fields.size();
    stream.values_.assign(static_cast<size_t>(rows) * width, kNaN);
    for (int64_t row = 0; row < rows; ++row) {
      for (size_t f = 0; f < width; ++f) {
        if (cols[f] >= 0) stream.values_[row * width + f] = ColumnValue(frame, cols[f], row);
      }
    }
    stream.events_.reserve(rows);
    for (int64_t row = 0; row < rows; ++row) {
      stream.events_.push_back(
          Event{kind, ts[row], std::span<const double>(stream.values_).subspan(row * width, width),
                nullptr});
    }
    return stream;
  }
  // Order books: one snapshot per timestamp, laid out as bid prices, bid sizes, ask
  // prices, ask sizes. Offsets are recorded first and spans bound once values_ is final.
  struct Layout {
    int64_t ts;
    size_t offset, bids, asks;
  };
  std::vector<Layout> layouts;
  std::vector<Level> bids, asks;
  for (int64_t begin = 0; begin < rows;) {
    int64_t end = begin;
    while (end < rows && ts[end] == ts[begin]) ++end;
    CollectSides(frame, cols, begin, end, bids, asks);
    layouts.push_back({ts[begin], stream.values_.size(), bids.size(), asks.size()});
    for (const Level& l : bids) stream.values_.push_back(l.price);
    for (const Level& l : bids) stream.values_.push_back(l.size);
    for (const Level& l : asks) stream.values_.push_back(l.price);
    for (const Level& l : asks) stream.values_.push_back(l.size);
    begin = end;
  }
  const std::span<const double> all(stream.values_);
  stream.books_.reserve(layouts.size());
  for (const Layout& l : layouts) {
    size_t at = l.offset;
    BookView view;
    view.bid_price = all.subspan(at, l.bids);
    view.bid_size = all.subspan(at += l.bids, l.bids);
    view.ask_price = all.subspan(at += l.bids, l.asks);
    view.ask_size = all.subspan(at += l.asks, l.asks);
    stream.books_.push_back(view);
  }
  stream.events_.reserve(layouts.size());
  for (size_t i = 0; i < layouts.size(); ++i) {
    stream.events_.push_back(Event{kind, layouts[i].ts, {}, &stream.books_[i]});
  }
  return stream;
}

EventStream EventStream::Prefix(size_t n) const {
  n = std::min(n, events_.size());
  EventStream out;
  out.kind_ = kind_;
  if (n == 0) return out;
  // Copy the storage up to the end of the n-th event, then rebind the views.
  const double* base = values_.data();
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    const Event& e = events_[i];
    if (e.book != nullptr) {
      const BookView& b = *e.book;
      used = static_cast<size_t>(b.ask_size.data() - base) + b.ask_size.size();
    } else {
      used = static_cast<size_t>(e.values.data() - base) + e.values.size();
    }
  }
  out.values_.assign(values_.begin(), values_.begin() + static_cast<std::ptrdiff_t>(used));
  const double* new_base = out.values_.data();
  auto rebase = [&](std::span<const double> s) {
    return std::span<const double>(new_base + (s.data() - base), s.size());
  };
  if (kind_ == DataKind::kOrderBook) {
    out.books_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const BookView& b = *events_[i].book;
      out.books_.push_back(BookView{rebase(b.bid_price), rebase(b.bid_size), rebase(b.ask_price),
                                    rebase(b.ask_size)});
    }
  }
  out.events_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Event e = events_[i];
    if (e.book != nullptr) {
      e.book = &out.books_[i];
    } else {
      e.values = rebase(e.values);
    }
    out.events_.push_back(e);
  }
  return out;
}

}  // namespace vigil
