// buy_hold: all cash into the first instrument at its first close (filled at the next open),
// held to the end. The baseline every strategy has to beat.
#include "strategies_internal.h"

namespace vigil::backtest_internal {
namespace {

class BuyHold final : public Strategy {
 public:
  void OnBar(StrategyContext& context, size_t instrument) override {
    if (bought_ || instrument != 0) return;
    bought_ = true;
    context.Submit(OrderRequest::BuyWithAllCash(instrument));
  }

 private:
  bool bought_ = false;
};

}  // namespace

Result<std::unique_ptr<Strategy>> MakeBuyHold(const StrategyParams& params) {
  VIGIL_RETURN_IF_ERROR(CheckKnownParams("buy_hold", params, {}));
  return std::unique_ptr<Strategy>(std::make_unique<BuyHold>());
}

}  // namespace vigil::backtest_internal
