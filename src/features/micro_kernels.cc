// Order-book and trade kernels (micro.h).
#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rolling.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/micro.h"
#include "window.h"

namespace vigil {
namespace {

using features_internal::FieldOrNaN;
using features_internal::kNaN;
using features_internal::Quantity;
using features_internal::RollingWindow;
using features_internal::SideOf;
using features_internal::TimeWindowSums;

std::span<const KernelInput> BookInput() {
  static const KernelInput kInput[] = {{DataKind::kOrderBook, ""}};
  return kInput;
}

std::span<const KernelInput> TradeInput() {
  static const KernelInput kInput[] = {{DataKind::kTrades, ""}};
  return kInput;
}

const BookView& BookOf(const Event& event) {
  static const BookView kEmptyBook;
  return event.book != nullptr ? *event.book : kEmptyBook;
}

// Levels of one side usable by the kernels: price and size spans may disagree in length
// only in a malformed view, so read no further than the shorter.
size_t LevelCount(std::span<const double> prices, std::span<const double> sizes) {
  return std::min(prices.size(), sizes.size());
}

struct BestLevel {
  double price = kNaN;
  double size = kNaN;
  bool valid() const { return std::isfinite(price); }
};

BestLevel BestOf(std::span<const double> prices, std::span<const double> sizes) {
  if (LevelCount(prices, sizes) == 0) return {};
  return {prices[0], Quantity(sizes[0])};
}

// Sum over the top `levels` levels of size (weighted = false) or of notional weighted by
// 1 / (1 + level) (weighted = true).
double SideDepth(std::span<const double> prices, std::span<const double> sizes, int levels,
                 bool weighted) {
  const size_t used = std::min(LevelCount(prices, sizes), static_cast<size_t>(levels));
  double total = 0;
  for (size_t level = 0; level < used; ++level) {
    const double size = Quantity(sizes[level]);
    total += weighted ? prices[level] * size / (1.0 + static_cast<double>(level)) : size;
  }
  return total;
}

// Kernels whose outputs describe the latest snapshot alone: Observe computes them, Emit
// repeats them until the next snapshot.
class BookSnapshotKernel : public EventKernel {
 public:
  explicit BookSnapshotKernel(std::vector<std::string> names)
      : names_(std::move(names)), latest_(names_.size(), kNaN) {}
  std::span<const KernelInput> inputs() const override { return BookInput(); }
  const std::vector<std::string>& output_names() const override { return names_; }
  void Observe(int /*input*/, const Event& event) override { Describe(BookOf(event), latest_); }
  void Emit(int64_t /*now*/, std::span<double> out) override {
    std::copy(latest_.begin(), latest_.end(), out.begin());
  }
  void Reset() override { std::fill(latest_.begin(), latest_.end(), kNaN); }

 protected:
  virtual void Describe(const BookView& book, std::span<double> out) const = 0;

 private:
  std::vector<std::string> names_;
  std::vector<double> latest_;
};

class Spread final : public BookSnapshotKernel {
 public:
  Spread() : BookSnapshotKernel({"spread", "spread_bps"}) {}
  std::unique_ptr<EventKernel> Clone() const override { return std::make_unique<Spread>(); }

 private:
  void Describe(const BookView& book, std::span<double> out) const override {
    const double bid = BestOf(book.bid_price, book.bid_size).price;
    const double ask = BestOf(book.ask_price, book.ask_size).price;
    const double mid = (bid + ask) / 2;
    out[0] = ask - bid;
    out[1] = mid > 0 ? (ask - bid) / mid * 1e4 : kNaN;
  }
};

class Mid final : public BookSnapshotKernel {
 public:
  Mid() : BookSnapshotKernel({"mid"}) {}
  std::unique_ptr<EventKernel> Clone() const override { return std::make_unique<Mid>(); }

 private:
  void Describe(const BookView& book, std::span<double> out) const override {
    out[0] = (BestOf(book.bid_price, book.bid_size).price +
              BestOf(book.ask_price, book.ask_size).price) /
             2;
  }
};

class Microprice final : public BookSnapshotKernel {
 public:
  Microprice() : BookSnapshotKernel({"microprice"}) {}
  std::unique_ptr<EventKernel> Clone() const override { return std::make_unique<Microprice>(); }

 private:
  void Describe(const BookView& book, std::span<double> out) const override {
    const BestLevel bid = BestOf(book.bid_price, book.bid_size);
    const BestLevel ask = BestOf(book.ask_price, book.ask_size);
    const double total = bid.size + ask.size;
    out[0] = total > 0 ? (bid.price * ask.size + ask.price * bid.size) / total : kNaN;
  }
};

// imbalance_<levels> (sizes) and depth_pressure_<levels> (weighted notionals).
class DepthImbalance final : public BookSnapshotKernel {
 public:
  DepthImbalance(int levels, bool weighted)
      : BookSnapshotKernel(
            {(weighted ? "depth_pressure_" : "imbalance_") + std::to_string(levels)}),
        levels_(levels),
        weighted_(weighted) {}
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<DepthImbalance>(levels_, weighted_);
  }

 private:
  void Describe(const BookView& book, std::span<double> out) const override {
    const double bids = SideDepth(book.bid_price, book.bid_size, levels_, weighted_);
    const double asks = SideDepth(book.ask_price, book.ask_size, levels_, weighted_);
    const double total = bids + asks;
    out[0] = total > 0 ? (bids - asks) / total : kNaN;
  }

  int levels_;
  bool weighted_;
};

// Cont, Kukanov and Stoikov (2014), eq. 10: the net order flow at the best quotes between
// two snapshots. A bid price rise counts the whole new bid queue as arrivals, a fall the
// whole old queue as cancellations; an unchanged price counts the queue's change. Asks
// mirror it with the opposite sign.
double OrderFlowEvent(const BestLevel& bid, const BestLevel& ask, const BestLevel& prev_bid,
                      const BestLevel& prev_ask) {
  double flow = 0;
  if (bid.price >= prev_bid.price) flow += bid.size;
  if (bid.price <= prev_bid.price) flow -= prev_bid.size;
  if (ask.price <= prev_ask.price) flow -= ask.size;
  if (ask.price >= prev_ask.price) flow += prev_ask.size;
  return flow;
}

class OrderFlowImbalance final : public EventKernel {
 public:
  explicit OrderFlowImbalance(int64_t window_ns)
      : window_(window_ns), names_{"ofi_" + FormatDuration(window_ns)} {}
  std::span<const KernelInput> inputs() const override { return BookInput(); }
  const std::vector<std::string>& output_names() const override { return names_; }

  void Observe(int /*input*/, const Event& event) override {
    const BookView& book = BookOf(event);
    const BestLevel bid = BestOf(book.bid_price, book.bid_size);
    const BestLevel ask = BestOf(book.ask_price, book.ask_size);
    if (!bid.valid() || !ask.valid()) {
      has_previous_ = false;
      return;
    }
    if (has_previous_) {
      window_.Push(event.ts, {OrderFlowEvent(bid, ask, previous_bid_, previous_ask_)});
      has_flow_ = true;
    }
    previous_bid_ = bid;
    previous_ask_ = ask;
    has_previous_ = true;
    window_.Evict(event.ts);  // bounds memory when rows are emitted rarely
  }

  void Emit(int64_t now, std::span<double> out) override {
    window_.Evict(now);
    out[0] = has_flow_ ? window_.sum(0) : kNaN;
  }

  void Reset() override {
    window_.Reset();
    has_previous_ = has_flow_ = false;
  }

  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<OrderFlowImbalance>(window_.span_ns());
  }

 private:
  TimeWindowSums<1> window_;
  std::vector<std::string> names_;
  BestLevel previous_bid_;
  BestLevel previous_ask_;
  bool has_previous_ = false;
  bool has_flow_ = false;
};

class TradeIntensity final : public EventKernel {
 public:
  explicit TradeIntensity(int64_t window_ns) : window_(window_ns) {
    const std::string suffix = "_" + FormatDuration(window_ns);
    names_ = {"trade_count" + suffix, "trade_volume" + suffix, "trade_imbalance" + suffix};
  }
  std::span<const KernelInput> inputs() const override { return TradeInput(); }
  const std::vector<std::string>& output_names() const override { return names_; }

  void Observe(int /*input*/, const Event& event) override {
    const double qty = Quantity(FieldOrNaN(event, fields::kTradeQty));
    const double side = SideOf(FieldOrNaN(event, fields::kTradeSide));
    window_.Push(event.ts, {qty, side * qty});
    window_.Evict(event.ts);
  }

  void Emit(int64_t now, std::span<double> out) override {
    window_.Evict(now);
    const double volume = window_.sum(0);
    out[0] = static_cast<double>(window_.count());
    out[1] = volume;
    out[2] = volume > 0 ? window_.sum(1) / volume : kNaN;
  }

  void Reset() override { window_.Reset(); }
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<TradeIntensity>(window_.span_ns());
  }

 private:
  TimeWindowSums<2> window_;  // qty, signed qty
  std::vector<std::string> names_;
};

// Easley, Lopez de Prado and O'Hara (2012), eq. 7, with the buy/sell split of each bucket
// taken from the trades' aggressor sides.
class Vpin final : public EventKernel {
 public:
  Vpin(int buckets, double bucket_volume)
      : buckets_(buckets),
        configured_volume_(bucket_volume),
        recent_(buckets, RollingWindow::kSumOnly),
        names_{"vpin_" + std::to_string(buckets)} {
    Reset();
  }
  std::span<const KernelInput> inputs() const override { return TradeInput(); }
  const std::vector<std::string>& output_names() const override { return names_; }

  void Observe(int /*input*/, const Event& event) override {
    const double qty = Quantity(FieldOrNaN(event, fields::kTradeQty));
    if (qty == 0) return;  // fills nothing and must not count toward calibration
    const double side = SideOf(FieldOrNaN(event, fields::kTradeSide));
    if (bucket_volume_ > 0) {
      Fill(qty, side);
      return;
    }
    calibration_.push_back({qty, side});
    calibration_volume_ += qty;
    if (calibration_.size() < static_cast<size_t>(kVpinCalibrationTrades)) return;
    // Half the calibration volume: buckets of about 50 average trades, so the default 50
    // buckets span a few thousand trades, the same order as the paper's daily volume / 50.
    bucket_volume_ = calibration_volume_ / 2;
    remaining_ = bucket_volume_;
    for (const auto& [calibration_qty, calibration_side] : calibration_) {
      Fill(calibration_qty, calibration_side);
    }
    calibration_ = {};
  }

  void Emit(int64_t /*now*/, std::span<double> out) override {
    out[0] = recent_.full() ? recent_.sum() / (buckets_ * bucket_volume_) : kNaN;
  }

  void Reset() override {
    bucket_volume_ = configured_volume_;
    remaining_ = bucket_volume_;
    imbalance_ = 0;
    recent_.Reset();
    calibration_ = {};
    calibration_volume_ = 0;
  }

  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<Vpin>(buckets_, configured_volume_);
  }

 private:
  // Adds a trade of `qty` > 0 to the open bucket, completing as many buckets as it fills.
  void Fill(double qty, double side) {
    if (qty < remaining_) {
      remaining_ -= qty;
      imbalance_ += side * qty;
      return;
    }
    imbalance_ += side * remaining_;
    qty -= remaining_;
    recent_.Push(std::fabs(imbalance_));
    // A trade larger than a bucket fills whole buckets of one side; only the last
    // `buckets_` of them can matter, which bounds the work of a huge trade.
    const double leftover = std::fmod(qty, bucket_volume_);
    const double whole = std::round((qty - leftover) / bucket_volume_);
    const double one_sided = side != 0 ? bucket_volume_ : 0;
    const int pushes = whole >= buckets_ ? buckets_ : static_cast<int>(whole);
    for (int bucket = 0; bucket < pushes; ++bucket) recent_.Push(one_sided);
    remaining_ = bucket_volume_ - leftover;
    imbalance_ = side * leftover;
  }

  int buckets_;
  double configured_volume_;
  double bucket_volume_ = 0;  // V; 0 while calibrating
  double remaining_ = 0;      // volume the open bucket still takes
  double imbalance_ = 0;      // buy - sell volume of the open bucket
  RollingWindow recent_;      // |buy - sell| of the last buckets_ complete buckets
  std::vector<std::pair<double, double>> calibration_;  // (qty, side) until V is known
  double calibration_volume_ = 0;
  std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<EventKernel> MakeSpread() { return std::make_unique<Spread>(); }

std::unique_ptr<EventKernel> MakeMid() { return std::make_unique<Mid>(); }

std::unique_ptr<EventKernel> MakeMicroprice() { return std::make_unique<Microprice>(); }

std::unique_ptr<EventKernel> MakeBookImbalance(int levels) {
  assert(levels >= 1);
  return std::make_unique<DepthImbalance>(levels, /*weighted=*/false);
}

std::unique_ptr<EventKernel> MakeDepthPressure(int levels) {
  assert(levels >= 1);
  return std::make_unique<DepthImbalance>(levels, /*weighted=*/true);
}

std::unique_ptr<EventKernel> MakeOrderFlowImbalance(int64_t window_ns) {
  assert(window_ns > 0);
  return std::make_unique<OrderFlowImbalance>(window_ns);
}

std::unique_ptr<EventKernel> MakeTradeIntensity(int64_t window_ns) {
  assert(window_ns > 0);
  return std::make_unique<TradeIntensity>(window_ns);
}

std::unique_ptr<EventKernel> MakeVpin(int buckets, double bucket_volume) {
  assert(buckets >= 1 && std::isfinite(bucket_volume) && bucket_volume >= 0);
  return std::make_unique<Vpin>(buckets, bucket_volume);
}

}  // namespace vigil
