// The backtest engine's hot path: sma_cross (fast 10, slow 30) over 1,000,000 simulated
// one-minute candles on one core, with fees and fixed slippage; items/s = bar events per
// second (the target: >= 5 M/s). The candles are a seeded geometric random walk,
// built once outside the timing.
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <random>

#include "vigil/backtest/engine.h"
#include "vigil/backtest/strategies.h"

namespace {

const vigil::BarSeries& MillionCandles() {
  static const vigil::BarSeries bars = [] {
    constexpr size_t kBars = 1'000'000;
    std::mt19937_64 rng(42);
    std::normal_distribution<double> step(0.0, 0.001);
    vigil::BarSeries series;
    series.instrument = "sim:BTC-PERP";
    series.timeframe_ns = vigil::kNanosPerMinute;
    double price = 40'000.0;
    for (size_t t = 0; t < kBars; ++t) {
      const double open = price;
      price *= std::exp(step(rng));
      series.open_time.emplace_back(1'704'067'200 * vigil::kNanosPerSecond +
                                    static_cast<int64_t>(t) * vigil::kNanosPerMinute);
      series.open.push_back(open);
      series.close.push_back(price);
      series.high.push_back(std::max(open, price) * 1.0005);
      series.low.push_back(std::min(open, price) * 0.9995);
      series.volume.push_back(10.0);
    }
    return series;
  }();
  return bars;
}

void BM_SmaCross1M(benchmark::State& state) {
  const vigil::BarSeries& bars = MillionCandles();
  vigil::BacktestOptions options;
  options.fees = {5.0, 5.0};
  options.slippage = {vigil::SlippageKind::kFixed, 2.0};
  int64_t events = 0;
  for (auto _ : state) {
    auto strategy = vigil::MakeStrategy("sma_cross", {{"fast", "10"}, {"slow", "30"}});
    auto result =
        vigil::RunBacktest(std::span<const vigil::BarSeries>(&bars, 1), **strategy, options);
    if (!result.ok()) state.SkipWithError(result.status().ToString().c_str());
    events += result->events;
    benchmark::DoNotOptimize(result->metrics.total_return);
  }
  state.SetItemsProcessed(events);
}
BENCHMARK(BM_SmaCross1M)
    ->Name("backtest_sma_cross_1m_candles")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
