// The engine's simulated clock, venue and account (engine.h states the rules). engine.cc runs
// the clock: bar closes in time order, funding, equity marks and risk checks; execution.cc is
// the venue: order fills, margin checks, liquidations and the round-trip bookkeeping.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "vigil/backtest/engine.h"
#include "vigil/backtest/risk_controls.h"

namespace vigil::backtest_internal {

// Where an order executes on a bar (strategy.h, OrderType).
struct Execution {
  double reference = 0.0;  // the price before slippage
  Liquidity liquidity = Liquidity::kTaker;
  bool slips = true;        // a resting limit fills at its own price
  bool walks_book = false;  // a book snapshot's depth sets the price (no slippage model)
  size_t row = 0;           // the snapshot
};

std::optional<Execution> ExecutionOn(const OrderRequest& order, const BarSeries& market,
                                     size_t bar);

struct PendingOrder {
  OrderRequest order;
  int64_t arrival_ns = 0;  // decision time + latency
};

// The round trip an open position belongs to: its cash flows since it opened.
struct OpenTrade {
  Timestamp entry;
  double cash_flow = 0.0;  // what came in minus what went out: fees, gas and funding included
  double committed = 0.0;  // notional and fees of the fills that grew the position
};

// One instrument's terms on its venue.
struct InstrumentTerms {
  FeeSchedule fees;
  double gas = 0.0;
  const FundingSeries* funding = nullptr;
  size_t next_funding = 0;
};

class Simulation final : public StrategyContext {
 public:
  Simulation(std::span<const BarSeries> markets, const BacktestOptions& options,
             std::vector<InstrumentTerms> terms, BacktestResult& result);

  Timestamp now() const override { return now_; }
  const MarketView& market() const override { return view_; }
  double cash() const override { return cash_; }
  double equity() const override;
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
  PerformanceInput Performance() const;  // all but the curve and the trades
  const RiskGuard& guard() const { return guard_; }

 private:
  // engine.cc: the clock.
  size_t NextToClose() const;  // the instrument whose next bar closes first, or npos
  void SettleFunding();
  void Mark();
  void Flatten();  // a risk limit tripped

  // execution.cc: the venue.
  bool Acceptable(const OrderRequest& order) const;
  void FillPending(size_t instrument, size_t bar);
  void Execute(const OrderRequest& order, size_t instrument, size_t bar,
               const Execution& execution);
  void ExecuteAllCash(const OrderRequest& order, size_t instrument, size_t bar,
                      const Execution& execution);
  // The signed quantity a sized order trades at `price` (kQuantity, kClosePosition,
  // kTargetFraction).
  double Delta(const OrderRequest& order, size_t instrument, double price, double rate) const;
  // Whether the account may hold `new_position` of the instrument after paying `cash_after`.
  bool WithinLimits(size_t instrument, double new_position, double price, double cash_after) const;
  double MostAddable(size_t instrument, double held, int sign, double price, double rate) const;
  double FillPrice(const OrderRequest& order, OrderSide side, const Execution& execution,
                   double quantity, double volume) const;
  // The price at which the instrument's position is liquidated, if it can be.
  std::optional<double> LiquidationPrice(size_t instrument) const;
  void CheckLiquidation(size_t instrument, size_t bar);
  void Apply(Fill fill, double delta);
  void Book(size_t instrument, Timestamp time, double before, double after, double cash_flow,
            double committed);

  std::span<const BarSeries> markets_;
  const BacktestOptions& options_;
  std::vector<InstrumentTerms> terms_;
  BacktestResult& result_;
  RiskGuard guard_;
  std::vector<size_t> closed_;  // bars closed so far, per instrument
  MarketView view_;
  Timestamp now_;
  double cash_;
  std::vector<double> position_, last_close_;
  std::vector<std::vector<PendingOrder>> pending_;
  std::vector<OpenTrade> open_trades_;
  std::vector<size_t> closing_;  // the instruments closing at now_
  double traded_notional_ = 0.0, fees_paid_ = 0.0, slippage_paid_ = 0.0;
  bool risk_active_ = false;
};

}  // namespace vigil::backtest_internal
