// The strategy interface of the backtest engine (engine.h). A strategy is called at every bar
// close, in time order, and sees only what has closed by then: the market view's spans end at
// the latest closed bar of each instrument, so a strategy cannot read the future. It trades by
// submitting orders, which reach the simulated venue after the configured latency and fill no
// earlier than the next bar's open.
//
//   class BuyTheDip final : public vigil::Strategy {
//     void OnBar(vigil::StrategyContext& context, size_t instrument) override {
//       const std::span<const double> close = context.market().close(instrument);
//       if (close.size() > 1 && close.back() < 0.95 * close[close.size() - 2] &&
//           context.position(instrument) == 0 && !context.has_pending(instrument))
//         context.Submit(vigil::OrderRequest::BuyWithAllCash(instrument));
//     }
//   };
//
// A new strategy is one file: a class like this and a line in strategies.cc's factory.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "vigil/backtest/bar_series.h"
#include "vigil/backtest/costs.h"
#include "vigil/core/timestamp.h"

namespace vigil {

// How an order's quantity is decided. kAllCash, kClosePosition and kTargetFraction resolve at
// the fill, against the fill price: a kAllCash buy spends the whole cash balance (quantity =
// cash / (price x (1 + fee rate))), kClosePosition trades the whole position back to zero (a
// sell for a long, a buy for a short), and kTargetFraction trades to a position worth
// target_fraction x equity (negative: short), equity valued at the fill price; the side is
// then the direction of the change and `side` is ignored.
enum class OrderSizing { kQuantity, kAllCash, kClosePosition, kTargetFraction };

// When an order executes, on the first bar that opens at or after its arrival or a later
// one (orders stay until they fill or are cancelled):
//   kMarket  at the bar's open, moved against it by the slippage, taker fee;
//   kLimit   a buy at limit_price or better: at the open when the open is at or below the
//            limit (marketable: slippage, capped at the limit, taker fee), else at the limit
//            when the bar's low reaches it (resting: no slippage, maker fee); sells mirror;
//   kStop    a buy triggered when the price reaches stop_price: at the open when the bar
//            opens at or above it (a gap), else at the stop when the high reaches it; then
//            moved by the slippage, taker fee; sells mirror (open or low at or below).
// A bar's low and high are taken to be reached; a limit at exactly the low fills.
enum class OrderType { kMarket, kLimit, kStop };

struct OrderRequest {
  size_t instrument = 0;
  OrderSide side = OrderSide::kBuy;
  OrderSizing sizing = OrderSizing::kQuantity;
  double quantity = 0.0;  // kQuantity: > 0, in base units
  OrderType type = OrderType::kMarket;
  double limit_price = 0.0;      // kLimit: > 0
  double stop_price = 0.0;       // kStop: > 0
  double target_fraction = 0.0;  // kTargetFraction: finite; |x| <= max_leverage (engine.h)

  static OrderRequest BuyWithAllCash(size_t instrument) {
    return {instrument, OrderSide::kBuy, OrderSizing::kAllCash, 0.0};
  }
  static OrderRequest ClosePosition(size_t instrument) {
    return {instrument, OrderSide::kSell, OrderSizing::kClosePosition, 0.0};
  }
  // A position worth `fraction` of equity: 1 fully long, 0 flat, -0.5 half-equity short.
  static OrderRequest TargetFraction(size_t instrument, double fraction) {
    OrderRequest order{instrument, OrderSide::kBuy, OrderSizing::kTargetFraction, 0.0};
    order.target_fraction = fraction;
    return order;
  }
  // This order as a limit or a stop order at `price`.
  OrderRequest AtLimit(double price) const {
    OrderRequest order = *this;
    order.type = OrderType::kLimit;
    order.limit_price = price;
    return order;
  }
  OrderRequest OnStop(double price) const {
    OrderRequest order = *this;
    order.type = OrderType::kStop;
    order.stop_price = price;
    return order;
  }
};

// The bars every instrument has closed by the decision time (spans end at the latest).
class MarketView {
 public:
  MarketView(std::span<const BarSeries> markets, std::span<const size_t> closed)
      : markets_(markets), closed_(closed) {}

  size_t instruments() const { return markets_.size(); }
  const std::string& instrument(size_t i) const { return markets_[i].instrument; }
  size_t closed(size_t i) const { return closed_[i]; }
  std::span<const double> open(size_t i) const { return Closed(markets_[i].open, i); }
  std::span<const double> high(size_t i) const { return Closed(markets_[i].high, i); }
  std::span<const double> low(size_t i) const { return Closed(markets_[i].low, i); }
  std::span<const double> close(size_t i) const { return Closed(markets_[i].close, i); }
  std::span<const double> volume(size_t i) const { return Closed(markets_[i].volume, i); }
  std::span<const Timestamp> open_time(size_t i) const {
    return std::span<const Timestamp>(markets_[i].open_time).first(closed_[i]);
  }

 private:
  std::span<const double> Closed(const std::vector<double>& column, size_t i) const {
    return std::span<const double>(column).first(closed_[i]);
  }
  std::span<const BarSeries> markets_;
  std::span<const size_t> closed_;
};

// What the engine hands a strategy at a decision: the market so far, the account, and the
// order entry. Valid only during the call.
class StrategyContext {
 public:
  virtual ~StrategyContext() = default;
  virtual Timestamp now() const = 0;  // the close time of the bar being decided on
  virtual const MarketView& market() const = 0;
  virtual double cash() const = 0;
  // Cash plus every position at its latest close.
  virtual double equity() const = 0;
  // Base units; negative for a short (only when the options allow shorts).
  virtual double position(size_t instrument) const = 0;
  virtual bool has_pending(size_t instrument) const = 0;  // an order not yet filled
  // Queues the order (decided now); an invalid one (unknown instrument, quantity <= 0 for
  // kQuantity, a limit or stop price <= 0) is rejected and counted.
  virtual void Submit(const OrderRequest& order) = 0;
  // Cancels the instrument's orders that have not filled.
  virtual void CancelPending(size_t instrument) = 0;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  // At the close of bar market().closed(instrument) - 1 of `instrument`.
  virtual void OnBar(StrategyContext& context, size_t instrument) = 0;
};

}  // namespace vigil
