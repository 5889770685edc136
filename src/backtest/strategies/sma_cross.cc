// sma_cross: long while the fast simple moving average of close is above the slow one, flat
// otherwise (the exact definition; strategies.h). The averages are running sums over
// the closed bars, so a decision costs O(1) and reads nothing after the current close.
#include "strategies_internal.h"

namespace vigil::backtest_internal {
namespace {

class SmaCross final : public Strategy {
 public:
  SmaCross(int fast, int slow) : fast_(fast), slow_(slow) {}

  void OnBar(StrategyContext& context, size_t instrument) override {
    const std::span<const double> close = context.market().close(instrument);
    const size_t n = close.size();
    if (states_.size() <= instrument) states_.resize(instrument + 1);
    State& state = states_[instrument];
    state.fast_sum += close[n - 1];
    state.slow_sum += close[n - 1];
    if (n > static_cast<size_t>(fast_)) state.fast_sum -= close[n - 1 - fast_];
    if (n > static_cast<size_t>(slow_)) state.slow_sum -= close[n - 1 - slow_];
    if (n < static_cast<size_t>(std::max(fast_, slow_))) return;  // an average is missing
    if (context.has_pending(instrument)) return;
    const bool long_target = state.fast_sum / fast_ > state.slow_sum / slow_;
    const bool holding = context.position(instrument) > 0.0;
    if (long_target && !holding) context.Submit(OrderRequest::BuyWithAllCash(instrument));
    if (!long_target && holding) context.Submit(OrderRequest::ClosePosition(instrument));
  }

 private:
  struct State {
    double fast_sum = 0.0, slow_sum = 0.0;
  };
  int fast_, slow_;
  std::vector<State> states_;
};

}  // namespace

Result<std::unique_ptr<Strategy>> MakeSmaCross(const StrategyParams& params) {
  VIGIL_RETURN_IF_ERROR(CheckKnownParams("sma_cross", params, {"fast", "slow"}));
  VIGIL_ASSIGN_OR_RETURN(int fast, IntParam(params, "fast", 10, 1));
  VIGIL_ASSIGN_OR_RETURN(int slow, IntParam(params, "slow", 30, 1));
  return std::unique_ptr<Strategy>(std::make_unique<SmaCross>(fast, slow));
}

}  // namespace vigil::backtest_internal
