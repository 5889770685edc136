#include "vigil/backtest/engine.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

namespace vigil {
namespace {

// Where an order executes on a bar (strategy.h, OrderType).
struct Execution {
  double reference = 0.0;  // the price before slippage
  Liquidity liquidity = Liquidity::kTaker;
  bool slips = true;  // a resting limit fills at its own price
};

std::optional<Execution> ExecutionOn(const OrderRequest& order, const BarSeries& market,
                                     size_t bar) {
  const double open = market.open[bar];
  const bool buy = order.side == OrderSide::kBuy;
  switch (order.type) {
    case OrderType::kMarket:
      return Execution{open, Liquidity::kTaker, true};
    case OrderType::kLimit: {
      const double limit = order.limit_price;
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

struct PendingOrder {
  OrderRequest order;
  int64_t arrival_ns = 0;  // decision time + latency
};

// The round trip an open position belongs to: its cash flows since it opened.
struct OpenTrade {
  Timestamp entry;
  double cash_flow = 0.0;  // sells minus buys, fees included
  double committed = 0.0;  // what the buys cost
};

// The simulated clock, venue and account; also the context strategies see.
class Simulation final : public StrategyContext {
 public:
  Simulation(std::span<const BarSeries> markets, const BacktestOptions& options,
             BacktestResult& result)
      : markets_(markets),
        options_(options),
        result_(result),
        closed_(markets.size(), 0),
        view_(markets, closed_),
        cash_(options.initial_capital),
        position_(markets.size(), 0.0),
        last_close_(markets.size(), 0.0),
        pending_(markets.size()),
        open_trades_(markets.size()) {}

  Timestamp now() const override { return now_; }
  const MarketView& market() const override { return view_; }
  double cash() const override { return cash_; }
  // An unknown instrument holds nothing and has nothing pending (never an exception: a
  // strategy's mistake must not escape the engine).
  double position(size_t instrument) const override {
    return instrument < position_.size() ? position_[instrument] : 0.0;
  }
  bool has_pending(size_t instrument) const override {
    return instrument < pending_.size() && !pending_[instrument].empty();
  }
  void Submit(const OrderRequest& order) override;
  void CancelPending(size_t instrument) override {
    if (instrument < pending_.size()) pending_[instrument].clear();
  }

  void Run(Strategy& strategy);
  PerformanceInput Performance() const;

 private:
  // The instrument whose next bar closes first (ties: the lowest index), or npos at the end.
  size_t NextToClose() const;
  void FillPending(size_t instrument, size_t bar);
  void Execute(const OrderRequest& order, size_t instrument, size_t bar,
               const Execution& execution);
  // The fill price of `quantity` at `execution`: slippage when it slips, never past a limit.
  double FillPrice(const OrderRequest& order, const Execution& execution, double quantity,
                   double volume) const;
  void Record(const Fill& fill, double position_before, double cash_flow);
  void Mark();

  std::span<const BarSeries> markets_;
  const BacktestOptions& options_;
  BacktestResult& result_;
  std::vector<size_t> closed_;  // bars closed so far, per instrument
  MarketView view_;
  Timestamp now_;
  double cash_;
  std::vector<double> position_, last_close_;
  std::vector<std::vector<PendingOrder>> pending_;
  std::vector<OpenTrade> open_trades_;
  std::vector<size_t> closing_;  // the instruments closing at now_
  double traded_notional_ = 0.0, fees_paid_ = 0.0, slippage_paid_ = 0.0;
};

size_t Simulation::NextToClose() const {
  size_t best = std::string::npos;
  int64_t best_close = 0;
  for (size_t i = 0; i < markets_.size(); ++i) {
    if (closed_[i] >= markets_[i].size()) continue;
    const int64_t close = markets_[i].close_time(closed_[i]).nanos();
    if (best == std::string::npos || close < best_close) {
      best = i;
      best_close = close;
    }
  }
  return best;
}

void Simulation::Run(Strategy& strategy) {
  for (size_t first = NextToClose(); first != std::string::npos; first = NextToClose()) {
    now_ = markets_[first].close_time(closed_[first]);
    closing_.clear();
    for (size_t i = first; i < markets_.size(); ++i) {
      if (closed_[i] >= markets_[i].size() || markets_[i].close_time(closed_[i]) != now_) continue;
      FillPending(i, closed_[i]);
      last_close_[i] = markets_[i].close[closed_[i]];
      ++closed_[i];
      closing_.push_back(i);
      ++result_.events;
    }
    Mark();
    for (size_t i : closing_) strategy.OnBar(*this, i);
  }
}

void Simulation::Submit(const OrderRequest& order) {
  const bool priced = (order.type != OrderType::kLimit || order.limit_price > 0.0) &&
                      (order.type != OrderType::kStop || order.stop_price > 0.0);
  if (order.instrument >= markets_.size() || !priced ||
      (order.sizing == OrderSizing::kQuantity && !(order.quantity > 0.0))) {
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
  for (const PendingOrder& pending : queue) {
    // Still on its way (the next bar's open at the earliest), or not reached on this bar.
    const std::optional<Execution> execution =
        pending.arrival_ns > opens ? std::nullopt
                                   : ExecutionOn(pending.order, markets_[instrument], bar);
    if (!execution) {
      queue[kept++] = pending;
      continue;
    }
    Execute(pending.order, instrument, bar, *execution);
  }
  queue.resize(kept);
}

double Simulation::FillPrice(const OrderRequest& order, const Execution& execution, double quantity,
                             double volume) const {
  double price = execution.slips ? options_.slippage.FillPrice(order.side, execution.reference,
                                                               quantity, volume)
                                 : execution.reference;
  if (order.type == OrderType::kLimit)
    price = order.side == OrderSide::kBuy ? std::min(price, order.limit_price)
                                          : std::max(price, order.limit_price);
  return price;
}

void Simulation::Execute(const OrderRequest& order, size_t instrument, size_t bar,
                         const Execution& execution) {
  const BarSeries& market = markets_[instrument];
  const double reference = execution.reference, volume = market.volume[bar];
  const double rate = options_.fees.Rate(execution.liquidity);
  const double position_before = position_[instrument];
  Fill fill{market.open_time[bar], instrument, order.side, order.quantity, 0.0, reference, 0.0};
  double cash_flow = 0.0;
  if (order.side == OrderSide::kBuy) {
    if (order.sizing == OrderSizing::kAllCash) {
      // The fill price depends on the size under the volume models: size at the reference
      // first, then spend the cash at the price that size gets (a smaller size, so it is
      // affordable).
      const double sized_at_reference = cash_ / (reference * (1.0 + rate));
      fill.price = FillPrice(order, execution, sized_at_reference, volume);
      fill.quantity = cash_ / (fill.price * (1.0 + rate));
    } else {
      fill.price = FillPrice(order, execution, fill.quantity, volume);
    }
    const double notional = fill.quantity * fill.price;
    fill.fee = notional * rate;
    if (!std::isfinite(fill.price) || !(fill.quantity > 0.0) ||
        (order.sizing != OrderSizing::kAllCash && notional + fill.fee > cash_)) {
      ++result_.rejected_orders;
      return;
    }
    if (order.sizing == OrderSizing::kAllCash) {
      fill.fee = cash_ - notional;  // the whole balance: the notional and its fee
      cash_ = 0.0;
    } else {
      cash_ -= notional + fill.fee;
    }
    cash_flow = -(notional + fill.fee);
    position_[instrument] += fill.quantity;
  } else {
    if (order.sizing == OrderSizing::kClosePosition) fill.quantity = position_before;
    if (!(fill.quantity > 0.0) || fill.quantity > position_before) {
      ++result_.rejected_orders;
      return;
    }
    fill.price = FillPrice(order, execution, fill.quantity, volume);
    const double notional = fill.quantity * fill.price;
    fill.fee = notional * rate;
    cash_flow = notional * (1.0 - rate);
    cash_ += cash_flow;
    position_[instrument] =
        order.sizing == OrderSizing::kClosePosition ? 0.0 : position_before - fill.quantity;
  }
  Record(fill, position_before, cash_flow);
}

void Simulation::Record(const Fill& fill, double position_before, double cash_flow) {
  result_.fills.push_back(fill);
  traded_notional_ += fill.quantity * fill.price;
  fees_paid_ += fill.fee;
  slippage_paid_ += std::abs(fill.price - fill.reference_price) * fill.quantity;
  OpenTrade& trade = open_trades_[fill.instrument];
  if (position_before == 0.0) trade = {fill.time, 0.0, 0.0};
  trade.cash_flow += cash_flow;
  if (fill.side == OrderSide::kBuy) trade.committed -= cash_flow;
  if (position_[fill.instrument] == 0.0)
    result_.trades.push_back(
        {trade.entry, fill.time, trade.cash_flow, trade.cash_flow / trade.committed});
}

void Simulation::Mark() {
  double value = 0.0, gross = 0.0;
  for (size_t i = 0; i < markets_.size(); ++i) {
    const double held = position_[i] * last_close_[i];
    value += held;
    gross += std::abs(held);
  }
  const double equity = cash_ + value;
  result_.mark_times.push_back(now_);
  result_.equity.push_back(equity);
  result_.exposure.push_back(equity > 0.0 ? gross / equity : gross > 0.0 ? 1.0 : 0.0);
}

PerformanceInput Simulation::Performance() const {
  PerformanceInput input;
  input.initial_capital = options_.initial_capital;
  input.times = result_.mark_times;
  input.equity = result_.equity;
  input.exposure = result_.exposure;
  input.trades = result_.trades;
  input.traded_notional = traded_notional_;
  input.fees_paid = fees_paid_;
  input.slippage_paid = slippage_paid_;
  input.risk_free_rate = options_.risk_free_rate;
  return input;
}

}  // namespace

Status BacktestOptions::Validate() const {
  if (!std::isfinite(initial_capital) || !(initial_capital > 0.0))
    return InvalidArgument("initial_capital: must be a finite amount > 0");
  VIGIL_RETURN_IF_ERROR(fees.Validate().WithContext("fees"));
  VIGIL_RETURN_IF_ERROR(slippage.Validate().WithContext("slippage"));
  if (latency_ns < 0) return InvalidArgument("latency: must be >= 0");
  if (!std::isfinite(risk_free_rate) || risk_free_rate <= -1.0)
    return InvalidArgument("risk_free_rate: must be a finite annual rate > -1");
  return Status::Ok();
}

Result<BacktestResult> RunBacktest(std::span<const BarSeries> markets, Strategy& strategy,
                                   const BacktestOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  if (markets.empty()) return InvalidArgument("markets: nothing to replay");
  for (const BarSeries& series : markets) VIGIL_RETURN_IF_ERROR(series.Validate());
  BacktestResult result;
  Simulation simulation(markets, options, result);
  simulation.Run(strategy);
  result.final_cash = simulation.cash();
  for (size_t i = 0; i < markets.size(); ++i)
    result.final_positions.push_back(simulation.position(i));
  if (result.mark_times.size() < 2)
    return DataError("backtest: fewer than two bar closes to measure performance on");
  VIGIL_ASSIGN_OR_RETURN(result.metrics, ComputePerformance(simulation.Performance()));
  return result;
}

}  // namespace vigil
