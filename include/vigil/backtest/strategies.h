// The built-in strategies, by name:
//   buy_hold    buys the first instrument with all cash at its first close (filled at the
//               next open) and holds it to the end; all=1: 1/n of equity in each of the n
//               instruments (the equal-weight basket)
//   sma_cross   params fast (default 10) and slow (default 30): at each close the target is
//               fully long (all equity) when the fast simple moving average of close is above
//               the slow one, else flat; no position before both averages exist
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::StrategyParams params,
//   vigil::ParseStrategyParams("fast=5,slow=20"));
//   VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<vigil::Strategy> s, vigil::MakeStrategy("sma_cross",
//   params));
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/backtest/signals.h"
#include "vigil/backtest/strategy.h"
#include "vigil/core/status.h"

namespace vigil {

using StrategyParams = std::map<std::string, std::string>;

// "k=v,k2=v2" (the CLI's --params); "" is no parameters. InvalidArgument naming a malformed
// or repeated entry.
Result<StrategyParams> ParseStrategyParams(std::string_view text);

// What model-driven strategies read besides the bars: signals matched to the replayed
// instruments by name. The strategy keeps a view: the signals must outlive it.
struct StrategyInputs {
  std::span<const ModelSignals> signals;
};

// Whether the strategy trades on model signals (ml_threshold, arbitrage).
bool NeedsSignals(std::string_view name);

// The strategy `name` with `params`; InvalidArgument for an unknown name (listing the known
// ones), an unknown parameter (listing the strategy's), a bad value, or a signal strategy
// given no signals.
Result<std::unique_ptr<Strategy>> MakeStrategy(std::string_view name, const StrategyParams& params,
                                               const StrategyInputs& inputs = {});

std::vector<std::string> StrategyNames();

}  // namespace vigil
