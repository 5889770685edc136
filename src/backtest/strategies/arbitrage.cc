// arbitrage: one asset on two venues, instruments 0 (A) and 1 (B) (strategies.h). It decides
// once both venues have closed a bar opened at the same time, on the spread s = close_B /
// close_A - 1 and the opportunity model's score of instrument 0's row at that open time:
//   flat:  score >= threshold and |s| >= min_spread_bps -> buy the cheap venue and sell the
//          rich one short, each leg worth `fraction` of equity;
//   open:  |s| <= exit_spread_bps, the spread changed sign, or max_hold bars passed -> close
//          both legs.
// Both legs pay their venue's fees and gas and the slippage model (engine.h), so the run
// shows what the opportunity paid after costs. Selling the rich leg needs allow_short.
#include <cmath>
#include <limits>

#include "strategies_internal.h"

namespace vigil::backtest_internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct ArbitrageParams {
  double threshold = 0.5;
  double min_spread = 0.0, exit_spread = 0.0;  // fractions (the params are in bps)
  int max_hold = 60;
  double fraction = 0.5;
};

class Arbitrage final : public Strategy {
 public:
  Arbitrage(ArbitrageParams params, std::span<const ModelSignals> signals)
      : params_(params), all_signals_(signals) {}

  void OnBar(StrategyContext& context, size_t /*instrument*/) override {
    const MarketView& market = context.market();
    if (market.instruments() < 2 || market.closed(0) == 0 || market.closed(1) == 0) return;
    const Timestamp opened = market.open_time(0).back();
    if (market.open_time(1).back() != opened || opened == last_decided_) return;
    last_decided_ = opened;  // once per aligned pair of bars
    if (context.has_pending(0) || context.has_pending(1)) return;
    const double spread = market.close(1).back() / market.close(0).back() - 1.0;
    const bool open = context.position(0) != 0.0 || context.position(1) != 0.0;
    if (open) {
      ++held_bars_;
      const bool converged = std::abs(spread) <= params_.exit_spread ||
                             (spread > 0.0) != entry_rich_b_ || held_bars_ >= params_.max_hold;
      if (!converged) return;
      context.Submit(OrderRequest::ClosePosition(0));
      context.Submit(OrderRequest::ClosePosition(1));
      return;
    }
    const ModelSignals* signals = SignalsOf(market.instrument(0));
    if (signals == nullptr) return;
    const size_t row = signals->Find(opened);
    if (row == ModelSignals::npos || !(signals->value[row] >= params_.threshold) ||
        std::abs(spread) < params_.min_spread || spread == 0.0)
      return;
    entry_rich_b_ = spread > 0.0;
    held_bars_ = 0;
    const double f = params_.fraction;
    context.Submit(OrderRequest::TargetFraction(0, entry_rich_b_ ? f : -f));
    context.Submit(OrderRequest::TargetFraction(1, entry_rich_b_ ? -f : f));
  }

 private:
  // The score series of venue A (instrument 0), matched by name.
  const ModelSignals* SignalsOf(const std::string& instrument) const {
    for (const ModelSignals& signals : all_signals_)
      if (signals.instrument == instrument) return &signals;
    return nullptr;
  }

  ArbitrageParams params_;
  std::span<const ModelSignals> all_signals_;
  Timestamp last_decided_ = Timestamp::Min();
  bool entry_rich_b_ = false;
  int held_bars_ = 0;
};

}  // namespace

Result<std::unique_ptr<Strategy>> MakeArbitrage(const StrategyParams& params,
                                                const StrategyInputs& inputs) {
  VIGIL_RETURN_IF_ERROR(
      CheckKnownParams("arbitrage", params,
                       {"threshold", "min_spread_bps", "exit_spread_bps", "max_hold", "fraction"}));
  if (inputs.signals.empty())
    return InvalidArgument(
        "arbitrage: no opportunity-model signals (walk-forward training of an "
        "opportunity task or a registered model must come with it)");
  ArbitrageParams p;
  VIGIL_ASSIGN_OR_RETURN(p.threshold, DoubleParam(params, "threshold", 0.5, -kInf, kInf));
  VIGIL_ASSIGN_OR_RETURN(double min_bps, DoubleParam(params, "min_spread_bps", 0.0, 0.0, 1e4));
  VIGIL_ASSIGN_OR_RETURN(double exit_bps, DoubleParam(params, "exit_spread_bps", 0.0, 0.0,
                                                      min_bps > 0 ? min_bps : 1e4));
  p.min_spread = min_bps / 1e4;
  p.exit_spread = exit_bps / 1e4;
  VIGIL_ASSIGN_OR_RETURN(p.max_hold, IntParam(params, "max_hold", 60, 1));
  VIGIL_ASSIGN_OR_RETURN(p.fraction, DoubleParam(params, "fraction", 0.5, 1e-9, 1000.0));
  return std::unique_ptr<Strategy>(std::make_unique<Arbitrage>(p, inputs.signals));
}

}  // namespace vigil::backtest_internal
