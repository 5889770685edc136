// Test helpers of the backtest engine's tests: hand-made bars and a strategy that runs a
// script at every close.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "vigil/backtest/engine.h"

namespace vigil::backtest_test {

struct Ohlc {
  double open, high, low, close;
};

// Hourly bars from the epoch, volume 1000 each.
inline BarSeries Bars(const std::vector<Ohlc>& rows, const std::string& instrument = "sim:A") {
  BarSeries bars;
  bars.instrument = instrument;
  bars.timeframe_ns = kNanosPerHour;
  for (size_t t = 0; t < rows.size(); ++t) {
    bars.open_time.emplace_back(static_cast<int64_t>(t) * kNanosPerHour);
    bars.open.push_back(rows[t].open);
    bars.high.push_back(rows[t].high);
    bars.low.push_back(rows[t].low);
    bars.close.push_back(rows[t].close);
    bars.volume.push_back(1000.0);
  }
  return bars;
}

// A geometric random walk of `n` bars (from 2024-01-01 unless told) with plausible highs,
// lows and volumes.
inline BarSeries RandomWalk(const std::string& instrument, size_t n, uint64_t seed,
                            int64_t timeframe = 5 * kNanosPerMinute,
                            int64_t start_seconds = 1'704'067'200, double sigma = 0.004) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> step(0.0, sigma);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  BarSeries bars;
  bars.instrument = instrument;
  bars.timeframe_ns = timeframe;
  double price = 100.0;
  for (size_t t = 0; t < n; ++t) {
    const double open = price;
    price *= std::exp(step(rng));
    bars.open_time.emplace_back(start_seconds * kNanosPerSecond +
                                static_cast<int64_t>(t) * timeframe);
    bars.open.push_back(open);
    bars.close.push_back(price);
    bars.high.push_back(std::max(open, price) * (1.0 + 0.002 * unit(rng)));
    bars.low.push_back(std::min(open, price) * (1.0 - 0.002 * unit(rng)));
    bars.volume.push_back(1000.0 + 500.0 * unit(rng));
  }
  return bars;
}

// Calls `act` at every close with the instrument and its number of closed bars.
class ScriptedStrategy final : public Strategy {
 public:
  using Script = std::function<void(StrategyContext&, size_t instrument, size_t closed)>;
  explicit ScriptedStrategy(Script act) : act_(std::move(act)) {}
  void OnBar(StrategyContext& context, size_t instrument) override {
    act_(context, instrument, context.market().closed(instrument));
  }

 private:
  Script act_;
};

}  // namespace vigil::backtest_test
