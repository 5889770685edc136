// Placeholder: replaced by the helper that owns this file.
#include <benchmark/benchmark.h>
BENCHMARK_MAIN();
