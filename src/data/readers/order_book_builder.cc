#include "data/readers/order_book_builder.h"

#include <charconv>
#include <memory>
#include <string>

namespace vigil::data_internal {
namespace {

// Appends the best `depth` levels of one side, best first.
template <typename Levels>
int64_t EmitSide(const Levels& levels, int64_t side, int depth, BatchSink* sink, RecordBatch& batch,
                 int64_t line, int64_t ts) {
  int64_t level = 0;
  for (const auto& [price, size] : levels) {
    if (level >= depth) break;
    const double doubles[] = {price, size};
    const int64_t ints[] = {side, level};
    sink->AddRow(batch, line, ts, doubles, ints);
    ++level;
  }
  return level;
}

// Shortest text that reads back as the same double, so the message shows the venue's
// own price string (20377.1, not 20377.099999999999).
std::string PriceText(double price) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), price);
  return std::string(buffer, result.ptr);
}

}  // namespace

OrderBookBuilder& BookFor(ReaderState* state, const std::string& instrument) {
  std::unique_ptr<OrderBookBuilder>& book = state->books[instrument];
  if (!book) book = std::make_unique<OrderBookBuilder>();
  return *book;
}

void OrderBookBuilder::Clear() {
  bids_.clear();
  asks_.clear();
  has_snapshot_ = false;
  last_update_id_ = kMissingInt;
}

void OrderBookBuilder::ApplySnapshotLevel(int64_t side, double price, double size) {
  if (size == 0) return;
  if (side == kSideBuy) {
    bids_[price] = size;
  } else {
    asks_[price] = size;
  }
}

void OrderBookBuilder::ApplyDelta(int64_t side, double price, double size) {
  if (size == 0) {
    if (side == kSideBuy) {
      bids_.erase(price);
    } else {
      asks_.erase(price);
    }
    return;
  }
  ApplySnapshotLevel(side, price, size);
}

bool OrderBookBuilder::IsCrossed() const {
  return !bids_.empty() && !asks_.empty() && bids_.begin()->first >= asks_.begin()->first;
}

int64_t OrderBookBuilder::EmitTopN(BatchSink* sink, RecordBatch& batch, int64_t line, int64_t ts,
                                   int depth, std::string_view raw) const {
  if (IsCrossed()) {
    sink->Reject(line, batch.series.instrument.ToString(), "price",
                 "crossed book after this update: best bid " + PriceText(bids_.begin()->first) +
                     " >= best ask " + PriceText(asks_.begin()->first) + "; snapshot not stored",
                 raw);
    return 0;
  }
  return EmitSide(bids_, kSideBuy, depth, sink, batch, line, ts) +
         EmitSide(asks_, kSideSell, depth, sink, batch, line, ts);
}

}  // namespace vigil::data_internal
