// Internal to vigil_data: an L2 order book rebuilt from snapshot and delta messages,
// emitted as top-N snapshot rows (one orderbook row per side and level).
//
//   OrderBookBuilder book;
//   book.ApplySnapshotLevel(kSideBuy, 100.0, 2.5);
//   book.ApplySnapshotLevel(kSideSell, 100.5, 1.0);
//   book.ApplyDelta(kSideSell, 100.5, 0.0);  // size 0 removes the level
//   book.EmitTopN(sink, batch, line, ts, 10);
//
// Prices are keyed by their double value: venues send them as fixed decimal strings, so
// the same level always parses to the same double. Sizes are absolute (L2), never
// increments. Thread-safety: none; one builder belongs to one reader.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "data/readers/format_readers.h"

namespace vigil::data_internal {

class OrderBookBuilder {
 public:
  using Bids = std::map<double, double, std::greater<double>>;  // best (highest) first
  using Asks = std::map<double, double, std::less<double>>;     // best (lowest) first

  // Empties both sides and forgets the update id (a new snapshot follows).
  void Clear();
  // Sets one level of a snapshot being loaded; size 0 is ignored (not a level).
  // `side` is kSideBuy (bid) or kSideSell (ask).
  void ApplySnapshotLevel(int64_t side, double price, double size);
  // Sets a level to an absolute size; size 0 deletes it.
  void ApplyDelta(int64_t side, double price, double size);

  // True once a snapshot has been loaded since construction / Clear().
  bool has_snapshot() const { return has_snapshot_; }
  void set_has_snapshot(bool value) { has_snapshot_ = value; }
  // The venue's last applied update id (kMissingInt when unknown); used to detect
  // stale or out-of-sequence messages.
  int64_t last_update_id() const { return last_update_id_; }
  void set_last_update_id(int64_t id) { last_update_id_ = id; }

  const Bids& bids() const { return bids_; }
  const Asks& asks() const { return asks_; }
  // Best bid >= best ask: the book is inconsistent (missed or misordered updates).
  bool IsCrossed() const;

  // Writes the best `depth` levels of each side into `batch` as rows stamped `ts`
  // (side +1 bids, -1 asks, level 0 = best), attributed to source `line`. A crossed
  // book is rejected instead (one RejectedRow naming both prices, with `raw` as its
  // raw text) and nothing is written. Returns the number of rows written.
  // Precondition: depth > 0; `sink` is not null.
  int64_t EmitTopN(BatchSink* sink, RecordBatch& batch, int64_t line, int64_t ts, int depth,
                   std::string_view raw = {}) const;

 private:
  Bids bids_;
  Asks asks_;
  bool has_snapshot_ = false;
  int64_t last_update_id_ = kMissingInt;
};

// The book kept for `instrument` ("venue:symbol") in `state`, created empty on first use.
// The reference stays valid as long as `state` does.
OrderBookBuilder& BookFor(ReaderState* state, const std::string& instrument);

}  // namespace vigil::data_internal
