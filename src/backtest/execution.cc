// The simulated venue: when and at what price orders fill, the account's limits (cash,
// leverage, shorting, risk caps), forced liquidations and the round trips they make up.
#include <algorithm>
#include <cmath>

#include "simulation.h"

namespace vigil::backtest_internal {
namespace {

// Relative slack for comparisons of amounts computed along different paths (a target sized
// to exactly the leverage limit must not be rejected for its last bit).
constexpr double kSlack = 1e-9;

int Sign(double x) { return (x > 0.0) - (x < 0.0); }

// A limit order never fills beyond its limit. (A book walk past the limit is priced at the
// limit rather than partially filled: the engine has no partial fills.)
double CappedAtLimit(const OrderRequest& order, OrderSide side, double price) {
  if (order.type != OrderType::kLimit) return price;
  return side == OrderSide::kBuy ? std::min(price, order.limit_price)
                                 : std::max(price, order.limit_price);
}

}  // namespace

namespace {

// A book snapshot: orders execute against the touch (buys at the ask, sells at the bid).
std::optional<Execution> ExecutionOnBook(const OrderRequest& order, const BarSeries& market,
                                         size_t row) {
  const bool buy = order.side == OrderSide::kBuy;
  const double touch = buy ? market.ask[row] : market.bid[row];
  const bool reached = order.type == OrderType::kMarket ||
                       (order.type == OrderType::kLimit &&
                        (buy ? touch <= order.limit_price : touch >= order.limit_price)) ||
                       (order.type == OrderType::kStop &&
                        (buy ? touch >= order.stop_price : touch <= order.stop_price));
  if (!reached) return std::nullopt;
  return Execution{touch, Liquidity::kTaker, false, true, row};
}

}  // namespace

std::optional<Execution> ExecutionOn(const OrderRequest& order, const BarSeries& market,
                                     size_t bar) {
  if (market.has_book()) return ExecutionOnBook(order, market, bar);
  const double open = market.open[bar];
  const bool buy = order.side == OrderSide::kBuy;
  switch (order.type) {
    case OrderType::kMarket:
      return Execution{open, Liquidity::kTaker, true};
    case OrderType::kLimit: {
      const double limit = order.limit_price;
      // A trade printing at or through a resting limit fills it at its own price.
      if (market.ticks())
        return (buy ? open <= limit : open >= limit)
                   ? std::optional<Execution>(Execution{limit, Liquidity::kMaker, false})
                   : std::nullopt;
      if (buy ? open <= limit : open >= limit) return Execution{open, Liquidity::kTaker, true};
      if (buy ? market.low[bar] <= limit : market.high[bar] >= limit)
        return Execution{limit, Liquidity::kMaker, false};
      return std::nullopt;
    }
    case OrderType::kStop: {
      const double stop = order.stop_price;
      if (buy ? open >= stop : open <= stop) return Execution{open, Liquidity::kTaker, true};
      if (buy ? market.high[bar] >= stop : market.low[bar] <= stop)
        return Execution{stop, Liquidity::kTaker, true};
      return std::nullopt;
    }
  }
  return std::nullopt;
}

bool Simulation::Acceptable(const OrderRequest& order) const {
  const bool priced = (order.type != OrderType::kLimit || order.limit_price > 0.0) &&
                      (order.type != OrderType::kStop || order.stop_price > 0.0);
  if (order.instrument >= markets_.size() || !priced) return false;
  switch (order.sizing) {
    case OrderSizing::kQuantity:
      return order.quantity > 0.0 && std::isfinite(order.quantity);
    case OrderSizing::kAllCash:
      return order.side == OrderSide::kBuy;
    case OrderSizing::kClosePosition:
      return true;
    case OrderSizing::kTargetFraction: {
      const double f = order.target_fraction;
      return std::isfinite(f) && std::abs(f) <= options_.max_leverage * (1.0 + kSlack) &&
             (f >= 0.0 || options_.allow_short);
    }
  }
  return false;
}

void Simulation::Submit(const OrderRequest& order) {
  if (!Acceptable(order)) {
    ++result_.rejected_orders;
    return;
  }
  result_.decisions.push_back({now_, order});
  pending_[order.instrument].push_back({order, now_.nanos() + options_.latency_ns});
}

void Simulation::FillPending(size_t instrument, size_t bar) {
  std::vector<PendingOrder>& queue = pending_[instrument];
  if (queue.empty()) return;
  const int64_t opens = markets_[instrument].open_time[bar].nanos();
  size_t kept = 0;
  for (size_t i = 0; i < queue.size(); ++i) {
    const PendingOrder pending = queue[i];
    // Still on its way (the next bar's open at the earliest), or not reached on this bar.
    const std::optional<Execution> execution =
        pending.arrival_ns > opens ? std::nullopt
                                   : ExecutionOn(pending.order, markets_[instrument], bar);
    if (!execution) {
      queue[kept++] = pending;
      continue;
    }
    if (pending.order.sizing == OrderSizing::kAllCash) {
      ExecuteAllCash(pending.order, instrument, bar, *execution);
    } else {
      Execute(pending.order, instrument, bar, *execution);
    }
  }
  queue.resize(kept);
}

double Simulation::FillPrice(const OrderRequest& order, OrderSide side, const Execution& execution,
                             double quantity, double volume) const {
  if (execution.walks_book)
    return CappedAtLimit(order, side,
                         BookFillPrice(markets_[order.instrument], execution.row,
                                       side == OrderSide::kBuy, quantity));
  return CappedAtLimit(
      order, side,
      execution.slips ? options_.slippage.FillPrice(side, execution.reference, quantity, volume)
                      : execution.reference);
}

double Simulation::Delta(const OrderRequest& order, size_t instrument, double price,
                         double rate) const {
  const double held = position_[instrument];
  switch (order.sizing) {
    case OrderSizing::kQuantity:
      return order.side == OrderSide::kBuy ? order.quantity : -order.quantity;
    case OrderSizing::kClosePosition:
      return -held;
    case OrderSizing::kTargetFraction: {
      // After the fill the position is worth f x the equity left after its fee:
      // (q + d) P = f (E - |d| P rate)  =>  d = (f E - q P) / (P (1 + sign(d) f rate)).
      const double f = order.target_fraction;
      const double equity_at_price = equity() + held * (price - last_close_[instrument]);
      const double gap = f * equity_at_price - held * price;
      return gap / (price * (1.0 + Sign(gap) * f * rate));
    }
    case OrderSizing::kAllCash:
      break;
  }
  return 0.0;
}

bool Simulation::WithinLimits(size_t instrument, double new_position, double price,
                              double cash_after) const {
  if (new_position < 0.0 && !options_.allow_short) return false;
  double value = cash_after, gross = 0.0;
  for (size_t j = 0; j < markets_.size(); ++j) {
    const double held = j == instrument ? new_position * price : position_[j] * last_close_[j];
    value += held;
    gross += std::abs(held);
  }
  if (!options_.margin_account()) return cash_after >= -kSlack * std::max(1.0, value);
  return value > 0.0 && gross <= options_.max_leverage * value * (1.0 + kSlack);
}

// The largest quantity a fill in direction `sign` may trade so that, after it, the gross
// position value stays within max_leverage x equity (cash >= 0 for an unlevered account):
//   gross_others + |q + d s| P <= L (E - d P rate - gas), solved for d.
double Simulation::MostAddable(size_t instrument, double held, int sign, double price,
                               double rate) const {
  const double leverage = options_.margin_account() ? options_.max_leverage : 1.0;
  double gross_others = 0.0;
  for (size_t j = 0; j < markets_.size(); ++j)
    if (j != instrument) gross_others += std::abs(position_[j] * last_close_[j]);
  const double equity_at_price = equity() + held * (price - last_close_[instrument]);
  const double held_value = std::abs(held) * price * (Sign(held) == sign ? -1.0 : 1.0);
  const double room =
      leverage * (equity_at_price - terms_[instrument].gas) - gross_others + held_value;
  return room / (price * (1.0 + leverage * rate));
}

void Simulation::Execute(const OrderRequest& order, size_t instrument, size_t bar,
                         const Execution& execution) {
  const BarSeries& market = markets_[instrument];
  const double rate = terms_[instrument].fees.Rate(execution.liquidity);
  const double held = position_[instrument];
  // Size at the reference price, then again at the price that size gets (the volume
  // slippage models depend on it).
  double delta = Delta(order, instrument, execution.reference, rate);
  if (delta == 0.0 || !std::isfinite(delta)) return;  // already there: nothing to trade
  OrderSide side = delta > 0.0 ? OrderSide::kBuy : OrderSide::kSell;
  double price = FillPrice(order, side, execution, std::abs(delta), market.volume[bar]);
  if (order.sizing == OrderSizing::kTargetFraction) {
    delta = Delta(order, instrument, price, rate);
    side = delta > 0.0 ? OrderSide::kBuy : OrderSide::kSell;
  }
  const bool adds_risk =
      std::abs(held + delta) > std::abs(held) || Sign(held + delta) == -Sign(held);
  if (adds_risk && risk_active_) {
    if (!guard_.AllowsNewRisk()) {
      ++result_.rejected_orders;
      return;
    }
    double gross = 0.0;
    for (size_t j = 0; j < markets_.size(); ++j) gross += std::abs(position_[j] * last_close_[j]);
    delta = guard_.CapDelta(delta, price, held * last_close_[instrument], gross, equity());
  }
  if (adds_risk && order.sizing == OrderSizing::kTargetFraction) {
    const double most = MostAddable(instrument, held, Sign(delta), price, rate);
    if (std::abs(delta) > most) delta = Sign(delta) * std::max(most, 0.0);
  }
  const double quantity = std::abs(delta);
  const double notional = quantity * price;
  const double fee = notional * rate, gas = terms_[instrument].gas;
  const double cash_after = cash_ - delta * price - fee - gas;
  if (!std::isfinite(price) || !(quantity > 0.0) ||
      !WithinLimits(instrument, held + delta, price, cash_after)) {
    ++result_.rejected_orders;
    return;
  }
  Fill fill{market.open_time[bar], instrument, side, quantity, price, execution.reference, fee};
  fill.gas = gas;
  Apply(fill, delta);
}

// The sma_cross contract: the whole cash balance buys at the fill price, the fee
// being what is left of the balance after the notional (so cash ends at exactly zero).
void Simulation::ExecuteAllCash(const OrderRequest& order, size_t instrument, size_t bar,
                                const Execution& execution) {
  const BarSeries& market = markets_[instrument];
  const double rate = terms_[instrument].fees.Rate(execution.liquidity);
  const double gas = terms_[instrument].gas;
  const double budget = cash_ - gas;
  const double sized_at_reference = budget / (execution.reference * (1.0 + rate));
  const double price =
      FillPrice(order, OrderSide::kBuy, execution, sized_at_reference, market.volume[bar]);
  const double quantity = budget / (price * (1.0 + rate));
  if (!std::isfinite(price) || !(quantity > 0.0) || (risk_active_ && !guard_.AllowsNewRisk())) {
    ++result_.rejected_orders;
    return;
  }
  Fill fill{
      market.open_time[bar],    instrument, OrderSide::kBuy, quantity, price, execution.reference,
      budget - quantity * price};
  fill.gas = gas;
  Apply(fill, quantity);
  cash_ = 0.0;  // exactly: the notional, its fee and the gas were the whole balance
}

void Simulation::Apply(Fill fill, double delta) {
  const size_t i = fill.instrument;
  const double held = position_[i];
  const double cash_flow = -delta * fill.price - fill.fee - fill.gas;
  cash_ += cash_flow;
  position_[i] = held + delta;
  if (std::abs(position_[i]) <= kSlack * 1e-3 * std::abs(held)) position_[i] = 0.0;
  result_.fills.push_back(fill);
  result_.gas_paid += fill.gas;
  traded_notional_ += fill.quantity * fill.price;
  fees_paid_ += fill.fee;
  slippage_paid_ += std::abs(fill.price - fill.reference_price) * fill.quantity;
  const double after = position_[i];
  const double committed = fill.quantity * fill.price + fill.fee + fill.gas;
  // A fill that crosses zero closes one round trip and opens another: split it by quantity.
  if (held != 0.0 && Sign(after) == -Sign(held)) {
    const double closing = std::abs(held) / std::abs(delta);
    Book(i, fill.time, held, 0.0, cash_flow * closing, 0.0);
    Book(i, fill.time, 0.0, after, cash_flow * (1.0 - closing), committed * (1.0 - closing));
    return;
  }
  Book(i, fill.time, held, after, cash_flow, std::abs(after) > std::abs(held) ? committed : 0.0);
}

// Books a part of a fill that takes the position from `before` to `after` without crossing
// zero; `committed` is the capital it puts into the position.
void Simulation::Book(size_t instrument, Timestamp time, double before, double after,
                      double cash_flow, double committed) {
  OpenTrade& trade = open_trades_[instrument];
  if (before == 0.0) trade = {time, 0.0, 0.0};
  trade.cash_flow += cash_flow;
  trade.committed += committed;
  if (after == 0.0)
    result_.trades.push_back(
        {trade.entry, time, trade.cash_flow, trade.cash_flow / trade.committed});
}

std::optional<double> Simulation::LiquidationPrice(size_t instrument) const {
  const double q = position_[instrument], m = options_.maintenance_margin;
  if (q == 0.0) return std::nullopt;
  double rest = cash_, rest_margin = 0.0;
  for (size_t j = 0; j < markets_.size(); ++j) {
    if (j == instrument) continue;
    rest += position_[j] * last_close_[j];
    rest_margin += m * std::abs(position_[j] * last_close_[j]);
  }
  // Equity at price P, rest + q P, meets the maintenance margin, rest_margin + m |q| P.
  const double price = (rest_margin - rest) / (q - m * std::abs(q));
  if (!(price > 0.0) || !std::isfinite(price)) return std::nullopt;
  return price;
}

void Simulation::CheckLiquidation(size_t instrument, size_t bar) {
  const std::optional<double> liquidation = LiquidationPrice(instrument);
  if (!liquidation) return;
  const BarSeries& market = markets_[instrument];
  const double held = position_[instrument], open = market.open[bar];
  const bool is_long = held > 0.0;
  if (is_long ? market.low[bar] > *liquidation : market.high[bar] < *liquidation) return;
  const double price = is_long ? std::min(open, *liquidation) : std::max(open, *liquidation);
  const double rate =
      terms_[instrument].fees.Rate(Liquidity::kTaker) + options_.liquidation_fee_bps / 1e4;
  Fill fill{market.open_time[bar],
            instrument,
            is_long ? OrderSide::kSell : OrderSide::kBuy,
            std::abs(held),
            price,
            price,
            std::abs(held) * price * rate};
  fill.liquidation = true;
  CancelPending(instrument);
  ++result_.liquidations;
  Apply(fill, -held);
}

}  // namespace vigil::backtest_internal
