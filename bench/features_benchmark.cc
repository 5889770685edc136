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
#include "vigil/core/rng.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/engine.h"
#include "vigil/features/event.h"
#include "vigil/features/event_kernel.h"
#include "vigil/features/kernel.h"
#include "vigil/features/micro.h"
#include "vigil/features/onchain.h"
#include "vigil/features/price.h"
#include "vigil/features/spec.h"
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

// One price.h kernel streamed over range(0) candles (1M: a long history, larger than the
// caches, so the window buffers and the deque see realistic memory traffic).
void KernelOverCandles(benchmark::State& state, std::unique_ptr<FeatureKernel> kernel) {
  const std::vector<Bar> bars = MakeBars(state.range(0));
  if (static_cast<int64_t>(bars.size()) != state.range(0)) {
    state.SkipWithError("no bars");
    return;
  }
  std::vector<double> out(kernel->output_names().size());
  double checksum = 0;
  for (auto _ : state) {
    kernel->Reset();
    for (const Bar& bar : bars) {
      kernel->Update(bar, out);
      checksum += out[0];
    }
    benchmark::DoNotOptimize(checksum);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_RollingMinOverCandles(benchmark::State& state) {
  KernelOverCandles(state, MakeRollingMin(20));
}
BENCHMARK(BM_RollingMinOverCandles)->Arg(kMillion)->Unit(benchmark::kMillisecond);

void BM_RollingMaxOverCandles(benchmark::State& state) {
  KernelOverCandles(state, MakeRollingMax(20));
}
BENCHMARK(BM_RollingMaxOverCandles)->Arg(kMillion)->Unit(benchmark::kMillisecond);

void BM_ZScoreOverCandles(benchmark::State& state) { KernelOverCandles(state, MakeZScore(20)); }
BENCHMARK(BM_ZScoreOverCandles)->Arg(kMillion)->Unit(benchmark::kMillisecond);

void BM_VwapOverCandles(benchmark::State& state) { KernelOverCandles(state, MakeVwap(10)); }
BENCHMARK(BM_VwapOverCandles)->Arg(kMillion)->Unit(benchmark::kMillisecond);

void BM_MfiOverCandles(benchmark::State& state) { KernelOverCandles(state, MakeMfi(14)); }
BENCHMARK(BM_MfiOverCandles)->Arg(kMillion)->Unit(benchmark::kMillisecond);

// A built-in set over range(0) candles through the engine's batch path (what `vigil
// features compute` runs), output Frame included; range(1) threads (ComputeOptions).
void SetOverCandles(benchmark::State& state, const char* set_name) {
  const std::vector<Bar> bars = MakeBars(state.range(0));
  const EventStream candles = EventStream::FromBars(bars);
  auto spec = BuiltinFeatureSet(set_name);
  auto engine = spec.ok() ? FeatureEngine::Create(*spec, {.base_step_ns = kNanosPerMinute})
                          : Result<FeatureEngine>(spec.status());
  if (static_cast<int64_t>(bars.size()) != state.range(0) || !engine.ok()) {
    state.SkipWithError("no bars or no engine");
    return;
  }
  // The streams besides the candles (liquidations, funding for `default`) stay empty.
  std::vector<const EventStream*> streams(engine->streams().size(), nullptr);
  streams[0] = &candles;
  const ComputeOptions options{.threads = static_cast<int>(state.range(1))};
  for (auto _ : state) {
    engine->Reset();
    auto features = ComputeFeatures(*engine, streams, options);
    if (!features.ok() || features->rows() != state.range(0)) {
      state.SkipWithError("compute failed");
      return;
    }
    benchmark::DoNotOptimize(*features);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// The `ta` set (20 columns); scripts/run-benchmarks.sh compares the one-thread case with R's
// TTR and pandas on the same candles.
void BM_TaSetOverCandles(benchmark::State& state) { SetOverCandles(state, "ta"); }
BENCHMARK(BM_TaSetOverCandles)
    ->Args({kMillion, 1})
    ->Args({kMillion, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The `default` set (39 columns) the risk models use.
void BM_DefaultSetOverCandles(benchmark::State& state) { SetOverCandles(state, "default"); }
BENCHMARK(BM_DefaultSetOverCandles)
    ->Args({kMillion, 1})
    ->Args({kMillion, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Live scoring: one Push (every kernel observes and emits) per candle for the `ta` set.
void BM_TaSetStreamingPush(benchmark::State& state) {
  const std::vector<Bar> bars = MakeBars(state.range(0));
  const EventStream candles = EventStream::FromBars(bars);
  auto spec = BuiltinFeatureSet("ta");
  auto engine = spec.ok() ? FeatureEngine::Create(*spec, {}) : Result<FeatureEngine>(spec.status());
  if (bars.empty() || !engine.ok()) {
    state.SkipWithError("no bars or no engine");
    return;
  }
  std::vector<double> row(engine->columns().size());
  for (auto _ : state) {
    for (const Event& event : candles.events()) engine->Push(0, event, row);
    benchmark::DoNotOptimize(row.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(bars.size()));
}
BENCHMARK(BM_TaSetStreamingPush)->Arg(kStreamBars)->Arg(kMillion);

// --- order-book and trade kernels (micro.h): one Observe + Emit per event ---

constexpr int kBookLevels = 10;

// A 10-level book snapshotted every 100 ms: the mid random-walks by whole ticks and sizes
// are exponential, so best prices and queues change as in a real feed.
EventStream SimulatedBooks(int64_t snapshots) {
  Rng rng(7);
  Frame frame = MakeFrame(SchemaOf(DataKind::kOrderBook));
  frame.Reserve(snapshots * 2 * kBookLevels);
  double mid_ticks = 100000;
  for (int64_t i = 0; i < snapshots; ++i) {
    mid_ticks += static_cast<double>(rng.UniformInt(-1, 1));
    for (int64_t side : {kSideBuy, kSideSell}) {
      for (int64_t level = 0; level < kBookLevels; ++level) {
        const double price = (mid_ticks + static_cast<double>(side * -(level + 1))) * 0.1;
        const double doubles[] = {price, rng.Exponential(1.0)};
        const int64_t ints[] = {side, level};
        frame.AppendRow(i * 100 * kNanosPerMilli, doubles, ints);
      }
    }
  }
  auto stream = EventStream::FromFrame(DataKind::kOrderBook, frame);
  return stream.ok() ? std::move(*stream) : EventStream();
}

// A trade every 10 ms with exponential sizes and random aggressor sides.
EventStream SimulatedTrades(int64_t trades) {
  Rng rng(11);
  Frame frame = MakeFrame(SchemaOf(DataKind::kTrades));
  frame.Reserve(trades);
  double price = 10000;
  for (int64_t i = 0; i < trades; ++i) {
    price += rng.Normal(0, 0.5);
    const double doubles[] = {price, rng.Exponential(1.0)};
    const int64_t ints[] = {rng.Bernoulli(0.5) ? kSideBuy : kSideSell, i};
    frame.AppendRow(i * 10 * kNanosPerMilli, doubles, ints);
  }
  auto stream = EventStream::FromFrame(DataKind::kTrades, frame);
  return stream.ok() ? std::move(*stream) : EventStream();
}

// What the engine does per event of a kernel's only input: Observe, then Emit at its time.
void StreamEvents(benchmark::State& state, std::unique_ptr<EventKernel> kernel,
                  const EventStream& events) {
  if (events.size() == 0) {
    state.SkipWithError("no events");
    return;
  }
  std::vector<double> out(kernel->output_names().size());
  for (auto _ : state) {
    kernel->Reset();  // each pass replays the same times from the start
    for (const Event& e : events.events()) {
      kernel->Observe(0, e);
      kernel->Emit(e.ts, out);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events.size()));
}

constexpr int64_t kStreamEvents = 1 << 16;

const EventStream& BenchBooks() {
  static const EventStream books = SimulatedBooks(kStreamEvents);
  return books;
}

const EventStream& BenchTrades() {
  static const EventStream trades = SimulatedTrades(kStreamEvents);
  return trades;
}

void BM_BookSpread(benchmark::State& state) { StreamEvents(state, MakeSpread(), BenchBooks()); }
BENCHMARK(BM_BookSpread);

void BM_BookImbalance5(benchmark::State& state) {
  StreamEvents(state, MakeBookImbalance(5), BenchBooks());
}
BENCHMARK(BM_BookImbalance5);

void BM_BookOfi1m(benchmark::State& state) {
  StreamEvents(state, MakeOrderFlowImbalance(kNanosPerMinute), BenchBooks());
}
BENCHMARK(BM_BookOfi1m);

void BM_TradeIntensity1m(benchmark::State& state) {
  StreamEvents(state, MakeTradeIntensity(kNanosPerMinute), BenchTrades());
}
BENCHMARK(BM_TradeIntensity1m);

void BM_TradeVpin50(benchmark::State& state) {
  StreamEvents(state, MakeVpin(50, 0), BenchTrades());
}
BENCHMARK(BM_TradeVpin50);

// --- oracle, funding and cross-instrument kernels (onchain.h): one Observe + Emit per update ---

// Oracle rounds every 30 s: the price random-walks and the row's reference price sits a
// few basis points away, so the deviation moves every round.
EventStream SimulatedOracle(int64_t rounds) {
  Rng rng(13);
  Frame frame = MakeFrame(SchemaOf(DataKind::kOracle));
  frame.Reserve(rounds);
  double price = 40000;
  for (int64_t i = 0; i < rounds; ++i) {
    price *= 1 + rng.Normal(0, 1e-3);
    const double doubles[] = {price, price * (1 + rng.Normal(0, 5e-4))};
    const int64_t ints[] = {i};
    frame.AppendRow(i * 30 * kNanosPerSecond, doubles, ints);
  }
  auto stream = EventStream::FromFrame(DataKind::kOracle, frame);
  return stream.ok() ? std::move(*stream) : EventStream();
}

// Funding settlements every 8 h with normally distributed rates around 0.01%.
EventStream SimulatedFunding(int64_t settlements) {
  Rng rng(17);
  Frame frame = MakeFrame(SchemaOf(DataKind::kFunding));
  frame.Reserve(settlements);
  for (int64_t i = 0; i < settlements; ++i) {
    const double mark = 100 + rng.Normal(0, 1);
    const double doubles[] = {rng.Normal(1e-4, 5e-5), mark, mark * (1 + rng.Normal(0, 1e-4))};
    frame.AppendRow(i * 8 * kNanosPerHour, doubles);
  }
  auto stream = EventStream::FromFrame(DataKind::kFunding, frame);
  return stream.ok() ? std::move(*stream) : EventStream();
}

void BM_OracleDevStats20(benchmark::State& state) {
  static const EventStream oracle = SimulatedOracle(kStreamEvents);
  StreamEvents(state, MakeOracleDeviationStats(20), oracle);
}
BENCHMARK(BM_OracleDevStats20);

void BM_FundingZ21(benchmark::State& state) {
  static const EventStream funding = SimulatedFunding(kStreamEvents);
  StreamEvents(state, MakeFundingZ(21), funding);
}
BENCHMARK(BM_FundingZ21);

// Two instruments' 1m candles (independent random walks) at the same times: per row, the
// other leg's candle, our candle, then Emit, as the engine orders equal times.
void BM_Corr30(benchmark::State& state) {
  static const EventStream ours = EventStream::FromBars(MakeBars(kStreamEvents));
  static const EventStream theirs = [] {
    auto bars = BarsFromCandles(CandleBatch(kStreamEvents, 2).frame);
    return EventStream::FromBars(bars.ok() ? *bars : std::vector<Bar>{});
  }();
  if (ours.size() == 0 || ours.size() != theirs.size()) {
    state.SkipWithError("no bars");
    return;
  }
  std::unique_ptr<EventKernel> kernel = MakeCorrelation(30, "bench:ETH/USDT");
  std::vector<double> out(1);
  for (auto _ : state) {
    kernel->Reset();
    for (size_t i = 0; i < ours.size(); ++i) {
      kernel->Observe(1, theirs.events()[i]);
      kernel->Observe(0, ours.events()[i]);
      kernel->Emit(ours.events()[i].ts, out);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(ours.size()));
}
BENCHMARK(BM_Corr30);

}  // namespace
}  // namespace vigil::bench

BENCHMARK_MAIN();
