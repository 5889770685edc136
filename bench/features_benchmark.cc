// Hot paths of feature computation: the per-update cost of streaming kernels (what live
// scoring pays per bar) and the batch path over a long history (what research pays).
// scripts/run-benchmarks.sh compares BM_TaSetOverCandles with R's TTR and pandas computing
// the same `ta` set on the same candles.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "bench_data.h"
#include "vigil/features/kernel.h"
#include "vigil/features/ta.h"

namespace vigil::bench {
namespace {

constexpr int64_t kMillion = 1'000'000;
// Bars per streaming pass: enough to amortise the benchmark loop, small enough (1.5 MB)
// that the measurement is the kernel, not main memory.
constexpr int64_t kStreamBars = 1 << 16;

std::vector<Bar> MakeBars(int64_t rows) {
  auto bars = BarsFromCandles(CandleBatch(rows).frame);
  return bars.ok() ? std::move(*bars) : std::vector<Bar>{};
}

// The `ta` feature set with TTR's default parameters, in its column order.
std::vector<std::unique_ptr<FeatureKernel>> TaKernels() {
  std::vector<std::unique_ptr<FeatureKernel>> kernels;
  kernels.push_back(MakeSma(20));
  kernels.push_back(MakeEma(20));
  kernels.push_back(MakeWma(20));
  kernels.push_back(MakeRsi(14));
  kernels.push_back(MakeMacd(12, 26, 9));
  kernels.push_back(MakeBollinger(20, 2));
  kernels.push_back(MakeTrueRange());
  kernels.push_back(MakeAtr(14));
  kernels.push_back(MakeAdx(14));
  kernels.push_back(MakeStochastic(14, 3, 3));
  kernels.push_back(MakeObv());
  kernels.push_back(MakeLogReturn(1));
  kernels.push_back(MakeRealizedVol(20));
  return kernels;
}

// One Update per bar through the virtual interface, as a live scorer calls it.
void StreamKernel(benchmark::State& state, std::unique_ptr<FeatureKernel> kernel) {
  const std::vector<Bar> bars = MakeBars(kStreamBars);
  if (bars.empty()) {
    state.SkipWithError("no bars");
    return;
  }
  std::vector<double> out(kernel->output_names().size());
  for (auto _ : state) {
    for (const Bar& bar : bars) kernel->Update(bar, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(bars.size()));
}

void BM_StreamSma(benchmark::State& state) { StreamKernel(state, MakeSma(20)); }
BENCHMARK(BM_StreamSma);

void BM_StreamEma(benchmark::State& state) { StreamKernel(state, MakeEma(20)); }
BENCHMARK(BM_StreamEma);

void BM_StreamLogReturn(benchmark::State& state) { StreamKernel(state, MakeLogReturn(1)); }
BENCHMARK(BM_StreamLogReturn);

// The whole `ta` set (20 columns) over range(0) candles, output Frame included.
void BM_TaSetOverCandles(benchmark::State& state) {
  const std::vector<Bar> bars = MakeBars(state.range(0));
  const std::vector<std::unique_ptr<FeatureKernel>> kernels = TaKernels();
  if (static_cast<int64_t>(bars.size()) != state.range(0)) {
    state.SkipWithError("no bars");
    return;
  }
  for (auto _ : state) {
    Frame features = ComputeOverBars(kernels, bars);
    if (features.rows() != state.range(0)) {
      state.SkipWithError("wrong row count");
      return;
    }
    benchmark::DoNotOptimize(features);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TaSetOverCandles)->Arg(kMillion)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vigil::bench

BENCHMARK_MAIN();
