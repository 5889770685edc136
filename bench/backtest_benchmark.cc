// The backtest engine's hot path: sma_cross (fast 10, slow 30) over 1,000,000 simulated
// one-minute candles on one core, 10 bps fees and 5 bps fixed slippage; items/s = bar events
// per second (the target: >= 5 M/s). The candles are a seeded geometric random walk,
// built once outside the timing. Best of 3 repetitions, as the reference script's repeats.
//
// The same candles for `vigil backtest` and the pandas / Python reference
// (scripts/bench/backtest_reference.py):
//   backtest_benchmark --write_reference_inputs=DIR
// writes DIR/BTC_USDT-1m.csv (every price in its shortest round-trip form, so a reader gets
// the very same doubles back) and DIR/vigil.json (this binary's answer on them, with the
// options of the timed case, for the run script's checks).
#include <benchmark/benchmark.h>

#include <charconv>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "reference_run.h"
#include "vigil/backtest/engine.h"
#include "vigil/backtest/strategies.h"
#include "vigil/core/text_file.h"

namespace {

constexpr double kFeeBps = 10.0;
constexpr double kSlippageBps = 5.0;

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

vigil::BacktestOptions TimedOptions() {
  vigil::BacktestOptions options;
  options.fees = {kFeeBps, kFeeBps};
  options.slippage = {vigil::SlippageKind::kFixed, kSlippageBps};
  return options;
}

vigil::Result<vigil::BacktestResult> RunSmaCross(const vigil::BarSeries& bars) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<vigil::Strategy> strategy,
                         vigil::MakeStrategy("sma_cross", {{"fast", "10"}, {"slow", "30"}}));
  return vigil::RunBacktest(std::span<const vigil::BarSeries>(&bars, 1), *strategy, TimedOptions());
}

void BM_SmaCross1M(benchmark::State& state) {
  const vigil::BarSeries& bars = MillionCandles();
  int64_t events = 0;
  for (auto _ : state) {
    auto result = RunSmaCross(bars);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    events += result->events;
    benchmark::DoNotOptimize(result->metrics.total_return);
  }
  state.SetItemsProcessed(events);
}
BENCHMARK(BM_SmaCross1M)->Name("backtest_sma_cross_1m_candles")->Apply(vigil::bench::BestOfThree);

// freqtrade-style "date,open,high,low,close,volume", the format `vigil ingest` and
// `vigil backtest --input` read.
std::string CandleCsv(const vigil::BarSeries& bars) {
  std::string out = "date,open,high,low,close,volume\n";
  out.reserve(bars.size() * 110);
  char number[32];
  for (size_t bar = 0; bar < bars.size(); ++bar) {
    out += bars.open_time[bar].ToIso();
    for (double value :
         {bars.open[bar], bars.high[bar], bars.low[bar], bars.close[bar], bars.volume[bar]}) {
      const auto [end, ec] = std::to_chars(number, number + sizeof(number), value);
      out += ',';
      out.append(number, end);
    }
    out += '\n';
  }
  return out;
}

vigil::Status WriteReferenceInputs(const std::string& dir) {
  std::filesystem::create_directories(dir);
  const vigil::BarSeries& bars = MillionCandles();
  VIGIL_RETURN_IF_ERROR(vigil::WriteFileAtomically(dir + "/BTC_USDT-1m.csv", CandleCsv(bars)));
  VIGIL_ASSIGN_OR_RETURN(vigil::BacktestResult result, RunSmaCross(bars));
  nlohmann::ordered_json answer;
  answer["strategy"] = "sma_cross";
  answer["fast"] = 10;
  answer["slow"] = 30;
  answer["fee_bps"] = kFeeBps;
  answer["slippage_bps"] = kSlippageBps;
  answer["initial_capital"] = TimedOptions().initial_capital;
  answer["bars"] = bars.size();
  answer["fills"] = result.fills.size();
  answer["trades"] = result.metrics.trades;
  answer["total_return"] = result.metrics.total_return;
  return vigil::bench::WriteJson(dir + "/vigil.json", answer);
}

}  // namespace

int main(int argc, char** argv) {
  return vigil::bench::BenchmarkMain(argc, argv, "backtest_benchmark", WriteReferenceInputs);
}
