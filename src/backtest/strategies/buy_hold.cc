// buy_hold: all cash into the first instrument at its first close (filled at the next open),
// held to the end. The baseline every strategy has to beat. With `all=1` it is the
// equal-weight basket instead: 1/n of equity into each of the n instruments at its first
// close (the baseline of a strategy that trades several).
#include "strategies_internal.h"

namespace vigil::backtest_internal {
namespace {

class BuyHold final : public Strategy {
 public:
  explicit BuyHold(bool all) : all_(all) {}

  void OnBar(StrategyContext& context, size_t instrument) override {
    if (!all_) {
      if (bought_.empty() && instrument == 0) {
        bought_.push_back(true);
        context.Submit(OrderRequest::BuyWithAllCash(instrument));
      }
      return;
    }
    const size_t n = context.market().instruments();
    if (bought_.size() < n) bought_.resize(n, false);
    if (bought_[instrument]) return;
    bought_[instrument] = true;
    context.Submit(OrderRequest::TargetFraction(instrument, 1.0 / static_cast<double>(n)));
  }

 private:
  bool all_;
  std::vector<bool> bought_;
};

}  // namespace

Result<std::unique_ptr<Strategy>> MakeBuyHold(const StrategyParams& params) {
  VIGIL_RETURN_IF_ERROR(CheckKnownParams("buy_hold", params, {"all"}));
  VIGIL_ASSIGN_OR_RETURN(const int all, IntParam(params, "all", 0, 0));
  if (all > 1) return InvalidArgument("parameter all=" + params.at("all") + ": 0 or 1");
  return std::unique_ptr<Strategy>(std::make_unique<BuyHold>(all == 1));
}

}  // namespace vigil::backtest_internal
