// Observations of any market-data kind, as feature kernels see them.
//
// An Event is a view: one row of a kind's Frame (its fields in market_data.h order, as
// doubles), or, for order books, one whole snapshot (all levels sharing a timestamp).
// EventStream owns the storage behind a sequence of events built from a Frame.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::EventStream trades,
//                          vigil::EventStream::FromFrame(vigil::DataKind::kTrades, frame));
//   for (const vigil::Event& e : trades.events()) kernel->Observe(0, e);
//
// Conventions: int64 fields are converted to double (kMissingInt becomes NaN); missing
// doubles stay NaN. Thread-safety: an EventStream is immutable after construction and may
// be read from several threads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vigil/core/frame.h"
#include "vigil/core/status.h"
#include "vigil/data/market_data.h"
#include "vigil/features/kernel.h"

namespace vigil {

// One order-book snapshot, best level first on each side. Prices and sizes of a side
// have the same length; a side may be empty (one-sided book).
struct BookView {
  std::span<const double> bid_price;  // descending
  std::span<const double> bid_size;
  std::span<const double> ask_price;  // ascending
  std::span<const double> ask_size;
};

struct Event {
  DataKind kind = DataKind::kCandles;
  int64_t ts = 0;
  // The kind's fields (SchemaOf(kind).fields) in order, as doubles. Empty for order
  // books: use `book`.
  std::span<const double> values;
  const BookView* book = nullptr;  // order-book snapshots only

  // values[FieldIndex(SchemaOf(kind), name)]; NaN when the kind has no such field.
  double Field(std::string_view name) const;
};

// Index constants for the fields kernels read most (must match market_data.cc).
namespace fields {
inline constexpr int kOpen = 0, kHigh = 1, kLow = 2, kClose = 3, kVolume = 4;  // candles
inline constexpr int kTradePrice = 0, kTradeQty = 1, kTradeSide = 2;           // trades
inline constexpr int kLiqSide = 0, kLiqPrice = 1, kLiqQty = 2, kLiqNotional = 3;
inline constexpr int kFundingRate = 0, kFundingMark = 1, kFundingIndex = 2;
inline constexpr int kOraclePrice = 0, kOracleReference = 1;
inline constexpr int kVaultEquity = 0, kVaultPnl = 1, kVaultOpenInterest = 2;
inline constexpr int kProtocolTvl = 0, kProtocolVolume = 1, kProtocolPrice = 2,
                     kProtocolMarketCap = 3;
}  // namespace fields

// A Bar from a candles event (precondition: e.kind == kCandles). Inline: it sits on the
// per-candle hot path of every bar kernel.
inline Bar BarFromEvent(const Event& e) {
  return Bar{e.ts,
             e.values[fields::kOpen],
             e.values[fields::kHigh],
             e.values[fields::kLow],
             e.values[fields::kClose],
             e.values[fields::kVolume]};
}

class EventStream {
 public:
  EventStream() = default;
  EventStream(EventStream&&) noexcept = default;
  EventStream& operator=(EventStream&&) noexcept = default;
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Builds events from a Frame of `kind` (columns as MakeFrame(SchemaOf(kind)); extra
  // columns are ignored). Rows must be sorted by time (InvalidArgument otherwise). Order
  // books: rows sharing a timestamp form one snapshot; levels are ordered by `level`.
  static Result<EventStream> FromFrame(DataKind kind, const Frame& frame);
  // Candle events from bars (volume as given; trades and quote_volume NaN).
  static EventStream FromBars(std::span<const Bar> bars);

  DataKind kind() const { return kind_; }
  std::span<const Event> events() const { return events_; }
  size_t size() const { return events_.size(); }
  // The first n events as a new stream (for truncation tests).
  EventStream Prefix(size_t n) const;

 private:
  // Moving a vector keeps its buffer, so the spans and pointers in events_ stay valid
  // when an EventStream is moved.
  DataKind kind_ = DataKind::kCandles;
  std::vector<double> values_;   // row-major field values, or book levels
  std::vector<BookView> books_;  // one per order-book event
  std::vector<Event> events_;
};

}  // namespace vigil
