// Private to vigil_models: the one place anomaly detectors split work across threads.
// Results never depend on the thread count: work items are independent and every random
// stream is derived from the item index, not from the thread.
#pragma once

#include <cstdint>
#include <functional>

namespace vigil::models_internal {

// The number of threads for an `n_jobs` setting: n >= 1 as given, -1 = all cores.
int ResolveJobs(int n_jobs);

// Calls body(begin, end) over contiguous chunks covering [0, n), on up to `threads` threads
// (the calling thread is one of them). Runs inline when threads <= 1 or n is small.
void ParallelFor(int64_t n, int threads, const std::function<void(int64_t, int64_t)>& body);

}  // namespace vigil::models_internal
