#include "models/anomaly/parallel.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace vigil::models_internal {

int ResolveJobs(int n_jobs) {
  if (n_jobs >= 1) return n_jobs;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void ParallelFor(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  const int64_t workers = std::min<int64_t>(std::max(threads, 1), n);
  if (workers <= 1) {
    body(0, n);
    return;
  }
  const int64_t chunk = (n + workers - 1) / workers;
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (int64_t w = 1; w < workers; ++w) {
    const int64_t begin = w * chunk;
    const int64_t end = std::min(n, begin + chunk);
    if (begin < end) pool.emplace_back(body, begin, end);
  }
  body(0, std::min(n, chunk));
  for (std::thread& t : pool) t.join();
}

}  // namespace vigil::models_internal
