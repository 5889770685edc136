// Hot paths of ingest: parsing + validating candle CSV, writing candles to a store, and
// reading them back into a Frame; and the store's other bulk path, writing and reading
// computed feature values. Stores: SQLite in a temp dir always; PostgreSQL when
// VIGIL_BENCH_PG_URL names a server (scripts/run-benchmarks.sh starts one).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include "bench_data.h"
#include "vigil/data/reader.h"
#include "vigil/store/store.h"

namespace vigil::bench {
namespace {

constexpr int64_t kMillion = 1'000'000;

void BM_ParseValidateCandleCsv(benchmark::State& state) {
  const std::string csv = CandleCsv(state.range(0));
  ReadOptions options;
  options.kind = DataKind::kCandles;
  options.venue = "bench";
  options.symbol = "BTC/USDT";
  options.timeframe = "1m";
  options.format = FileFormat::kCsv;
  for (auto _ : state) {
    MarketFileReader reader(options);
    auto parsed = reader.Parse(csv, "bench.csv");
    if (!parsed.ok() || parsed->rows_valid() != state.range(0)) {
      state.SkipWithError("parse failed");
      return;
    }
    benchmark::DoNotOptimize(parsed->batches.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(csv.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseValidateCandleCsv)->Arg(kMillion)->Unit(benchmark::kMillisecond);

// A fresh store per iteration so every write inserts all rows.
std::string StoreUrl(const std::string& backend, int iteration) {
  if (backend == "postgresql") {
    const char* url = std::getenv("VIGIL_BENCH_PG_URL");
    return url == nullptr ? "" : url;
  }
  auto dir = std::filesystem::temp_directory_path() / "vigil-bench";
  std::filesystem::create_directories(dir);
  auto path = dir / ("store-" + std::to_string(iteration) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return "sqlite:" + path.string();
}

std::unique_ptr<Store> OpenFresh(const std::string& backend, int iteration) {
  std::string url = StoreUrl(backend, iteration);
  if (url.empty()) return nullptr;
  auto store = OpenStore(url);
  if (!store.ok()) return nullptr;
  if (backend == "postgresql") (void)(*store)->Execute("TRUNCATE candles, series, feature_store");
  return std::move(*store);
}

void WriteCandles(benchmark::State& state, const std::string& backend) {
  RecordBatch batch = CandleBatch(state.range(0));
  int iteration = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto store = OpenFresh(backend, iteration++);
    state.ResumeTiming();
    if (store == nullptr) {
      state.SkipWithError("store unavailable (PostgreSQL needs VIGIL_BENCH_PG_URL)");
      return;
    }
    auto stats = store->Write(WriteUnit{"bench.csv", std::span(&batch, 1), {}});
    if (!stats.ok() || stats->rows_inserted != state.range(0)) {
      state.SkipWithError("write failed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void QueryCandles(benchmark::State& state, const std::string& backend) {
  RecordBatch batch = CandleBatch(state.range(0));
  auto store = OpenFresh(backend, 0);
  if (store == nullptr || !store->Write(WriteUnit{"bench.csv", std::span(&batch, 1), {}}).ok()) {
    state.SkipWithError("store unavailable or write failed");
    return;
  }
  for (auto _ : state) {
    auto frame = store->Query(batch.series, Timestamp::Min(), Timestamp::Max());
    if (!frame.ok() || frame->rows() != state.range(0)) {
      state.SkipWithError("query failed");
      return;
    }
    benchmark::DoNotOptimize(frame->timestamps().data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// Feature values as the feature engine writes them: kFeatureColumns columns of 1m bars,
// `values` values in all, every 50th undefined (NaN, stored as NULL).
constexpr int64_t kFeatureColumns = 10;
constexpr int64_t kNaNEvery = 50;

Frame FeatureFrame(int64_t values) {
  std::vector<ColumnSpec> columns;
  for (int64_t feature = 0; feature < kFeatureColumns; ++feature) {
    columns.push_back({"feature_" + std::to_string(feature), ColumnType::kDouble});
  }
  Frame frame(std::move(columns));
  const int64_t rows = values / kFeatureColumns;
  frame.Reserve(rows);
  std::vector<double> row_values(kFeatureColumns);
  for (int64_t row = 0; row < rows; ++row) {
    for (int64_t feature = 0; feature < kFeatureColumns; ++feature) {
      row_values[feature] = (row * kFeatureColumns + feature) % kNaNEvery == 0
                                ? std::numeric_limits<double>::quiet_NaN()
                                : std::sin(0.001 * row) * (feature + 1);
    }
    frame.AppendRow(row * kNanosPerMinute, row_values);
  }
  return frame;
}

FeatureValues BenchFeatureValues(const Frame* frame) {
  return FeatureValues{"bench:BTC/USDT", "bench_set", 1, frame, Timestamp(0)};
}

void WriteFeatureValues(benchmark::State& state, const std::string& backend) {
  const Frame frame = FeatureFrame(state.range(0));
  int iteration = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto store = OpenFresh(backend, iteration++);
    state.ResumeTiming();
    if (store == nullptr) {
      state.SkipWithError("store unavailable (PostgreSQL needs VIGIL_BENCH_PG_URL)");
      return;
    }
    auto written = store->WriteFeatureValues(BenchFeatureValues(&frame));
    if (!written.ok() || *written != state.range(0)) {
      state.SkipWithError("feature write failed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// Every stored feature (names listed by the store) over the whole range, in wide form.
void ReadFeatureValues(benchmark::State& state, const std::string& backend) {
  const Frame frame = FeatureFrame(state.range(0));
  auto store = OpenFresh(backend, 0);
  if (store == nullptr || !store->WriteFeatureValues(BenchFeatureValues(&frame)).ok()) {
    state.SkipWithError("store unavailable or feature write failed");
    return;
  }
  const FeatureValues key = BenchFeatureValues(&frame);
  for (auto _ : state) {
    auto read = store->ReadFeatureValues(key.instrument, key.feature_set, key.version, {},
                                         Timestamp::Min(), Timestamp::Max());
    if (!read.ok() || read->rows() != frame.rows() ||
        read->num_columns() != static_cast<size_t>(kFeatureColumns)) {
      state.SkipWithError("feature read failed");
      return;
    }
    benchmark::DoNotOptimize(read->timestamps().data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

constexpr int64_t kFeatureValues = 100'000;

// Wall-clock rates: PostgreSQL's work happens in the server process, invisible to this
// process's CPU time.
BENCHMARK_CAPTURE(WriteCandles, sqlite, std::string("sqlite"))
    ->Arg(kMillion)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();
BENCHMARK_CAPTURE(WriteCandles, postgresql, std::string("postgresql"))
    ->Arg(kMillion)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();
BENCHMARK_CAPTURE(QueryCandles, sqlite, std::string("sqlite"))
    ->Arg(kMillion)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(QueryCandles, postgresql, std::string("postgresql"))
    ->Arg(kMillion)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(WriteFeatureValues, sqlite, std::string("sqlite"))
    ->Arg(kFeatureValues)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5)
    ->UseRealTime();
BENCHMARK_CAPTURE(WriteFeatureValues, postgresql, std::string("postgresql"))
    ->Arg(kFeatureValues)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5)
    ->UseRealTime();
BENCHMARK_CAPTURE(ReadFeatureValues, sqlite, std::string("sqlite"))
    ->Arg(kFeatureValues)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(ReadFeatureValues, postgresql, std::string("postgresql"))
    ->Arg(kFeatureValues)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace vigil::bench

BENCHMARK_MAIN();
