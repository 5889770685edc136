#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include "strategies_internal.h"

namespace vigil {
namespace backtest_internal {
namespace {

std::string FormatBound(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char text[32];
  std::snprintf(text, sizeof(text), "%g", x);
  return text;
}

}  // namespace

Status CheckKnownParams(std::string_view strategy, const StrategyParams& params,
                        std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : params) {
    bool found = false;
    for (std::string_view k : known) found = found || k == name;
    if (found) continue;
    std::string list;
    for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return InvalidArgument(std::string(strategy) + ": unknown parameter '" + name + "' (" +
                           (list.empty() ? "it takes none" : "it takes " + list) + ")");
  }
  return Status::Ok();
}

Result<int> IntParam(const StrategyParams& params, const std::string& name, int fallback,
                     int minimum) {
  const auto it = params.find(name);
  if (it == params.end()) return fallback;
  const std::string& text = it->second;
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < minimum)
    return InvalidArgument("parameter " + name + "=" + text +
                           ": must be an integer >= " + std::to_string(minimum));
  return value;
}

Result<double> DoubleParam(const StrategyParams& params, const std::string& name, double fallback,
                           double minimum, double maximum) {
  const auto it = params.find(name);
  if (it == params.end()) return fallback;
  const std::string& text = it->second;
  double value = 0.0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !(value >= minimum) ||
      !(value <= maximum))
    return InvalidArgument("parameter " + name + "=" + text + ": must be a number in [" +
                           FormatBound(minimum) + ", " + FormatBound(maximum) + "]");
  return value;
}

}  // namespace backtest_internal

Result<StrategyParams> ParseStrategyParams(std::string_view text) {
  StrategyParams params;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view entry = text.substr(start, end - start);
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos || equals == 0 || equals + 1 == entry.size())
      return InvalidArgument("params: '" + std::string(entry) + "' is not k=v");
    const std::string key(entry.substr(0, equals));
    if (!params.emplace(key, std::string(entry.substr(equals + 1))).second)
      return InvalidArgument("params: '" + key + "' given twice");
    start = end + 1;
  }
  return params;
}

std::vector<std::string> StrategyNames() {
  return {"buy_hold", "sma_cross", "ml_threshold", "arbitrage"};
}

bool NeedsSignals(std::string_view name) { return name == "ml_threshold" || name == "arbitrage"; }

Result<std::unique_ptr<Strategy>> MakeStrategy(std::string_view name, const StrategyParams& params,
                                               const StrategyInputs& inputs) {
  Result<std::unique_ptr<Strategy>> strategy =
      name == "buy_hold"       ? backtest_internal::MakeBuyHold(params)
      : name == "sma_cross"    ? backtest_internal::MakeSmaCross(params)
      : name == "ml_threshold" ? backtest_internal::MakeMlThreshold(params, inputs)
      : name == "arbitrage"    ? backtest_internal::MakeArbitrage(params, inputs)
                               : Result<std::unique_ptr<Strategy>>(InvalidArgument(
                                     "unknown strategy '" + std::string(name) +
                                     "' (buy_hold, sma_cross, ml_threshold or arbitrage)"));
  if (!strategy.ok()) return strategy.status().WithContext("strategy");
  return strategy;
}

}  // namespace vigil
