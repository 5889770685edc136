// Shared by the built-in strategies (one file each) and their factory (strategies.cc).
#pragma once

#include <initializer_list>
#include <memory>
#include <string_view>

#include "vigil/backtest/strategies.h"

namespace vigil::backtest_internal {

// InvalidArgument naming the first parameter `strategy` does not take, and those it does.
Status CheckKnownParams(std::string_view strategy, const StrategyParams& params,
                        std::initializer_list<std::string_view> known);
// An integer parameter >= `minimum`, or `fallback` when absent.
Result<int> IntParam(const StrategyParams& params, const std::string& name, int fallback,
                     int minimum);

// A number parameter within [minimum, maximum], or `fallback` when absent.
Result<double> DoubleParam(const StrategyParams& params, const std::string& name, double fallback,
                           double minimum, double maximum);

Result<std::unique_ptr<Strategy>> MakeBuyHold(const StrategyParams& params);
Result<std::unique_ptr<Strategy>> MakeSmaCross(const StrategyParams& params);
Result<std::unique_ptr<Strategy>> MakeMlThreshold(const StrategyParams& params,
                                                  const StrategyInputs& inputs);
Result<std::unique_ptr<Strategy>> MakeArbitrage(const StrategyParams& params,
                                                const StrategyInputs& inputs);

}  // namespace vigil::backtest_internal
