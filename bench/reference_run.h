// What the benchmarks compared with a Python reference share: how they repeat, how they
// hand their inputs and answers to the reference script, and their main().
//
//   BENCHMARK(BM_Fit)->Apply(vigil::bench::BestOfThree);
//   int main(int argc, char** argv) {
//     return vigil::bench::BenchmarkMain(argc, argv, "models_benchmark", WriteReferenceInputs);
//   }
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"

namespace vigil::bench {

// Three repetitions, reported as their minimum (each repetition is the mean over its
// iterations), wall clock, as the reference scripts' best-of-3 `timeit`-style repeats.
inline double MinOf(const std::vector<double>& values) {
  return *std::min_element(values.begin(), values.end());
}
inline void BestOfThree(benchmark::internal::Benchmark* bench) {
  bench->Repetitions(3)
      ->ComputeStatistics("min", MinOf)
      ->ReportAggregatesOnly(true)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

// Raw native-endian values, for numpy.fromfile.
template <typename T>
Status WriteBinary(const std::filesystem::path& path, const std::vector<T>& values) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(T)));
  out.close();
  return out ? Status::Ok() : IoError(path.string() + ": write failed");
}

inline Status WriteJson(const std::filesystem::path& path, const nlohmann::json& json) {
  std::ofstream out(path, std::ios::trunc);
  out << json.dump(2) << "\n";
  out.close();
  return out ? Status::Ok() : IoError(path.string() + ": write failed");
}

// Runs the registered benchmarks, or with --write_reference_inputs=DIR only writes what the
// reference script reads (through `write_reference_inputs`) and exits.
inline int BenchmarkMain(
    int argc, char** argv, std::string_view program,
    const std::function<Status(const std::string& dir)>& write_reference_inputs) {
  benchmark::Initialize(&argc, argv);
  constexpr std::string_view kFlag = "--write_reference_inputs=";
  for (int arg = 1; arg < argc; ++arg) {
    const std::string_view text = argv[arg];
    if (text.rfind(kFlag, 0) != 0) continue;
    const Status status = write_reference_inputs(std::string(text.substr(kFlag.size())));
    if (!status.ok()) {
      std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
                   status.ToString().c_str());
    }
    return status.ok() ? 0 : 1;
  }
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace vigil::bench
