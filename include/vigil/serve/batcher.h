// Micro-batching: concurrent scoring requests for one model snapshot coalesce into one
// ScoreRows call, so per-call overhead is paid once per batch instead of once per request.
//
//   vigil::MicroBatcher batcher(options, &metrics);
//   VIGIL_ASSIGN_OR_RETURN(vigil::ScoredRows mine, batcher.Score(snapshot, x, score_options));
//
// Leader/follower, with no thread of its own: a request that finds no batch open for its
// (snapshot, explain) key opens one and leads it; it waits until the batch holds
// max_batch_rows rows or max_wait has passed since it opened (max_wait 0: no wait, the
// batch takes whatever joined while the previous batch of that key was being scored), then
// closes it, scores all rows in one ScoreRows call, and hands each follower its own rows
// (SliceRows). A request larger than max_batch_rows is scored alone. Batches never mix
// snapshots, so a promotion during a batch cannot mix versions. A scoring error fails every
// request of that batch with the same Status.
// Requests that cannot join a batch (a width or column mismatch) are scored alone, so
// their error stays their own. Options out of range are clamped (check them with Validate).
// Metrics (when given): vigil_batch_rows (histogram, label model), vigil_batches_total.
// Thread-safety: Score may be called from any number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "vigil/core/status.h"
#include "vigil/serve/live_models.h"
#include "vigil/serve/metrics.h"
#include "vigil/serve/scoring.h"

namespace vigil {

struct BatchingOptions {
  int max_batch_rows = 64;                // 1..65536; 1 disables batching
  std::chrono::microseconds max_wait{0};  // 0..1 s
  Status Validate() const;                // InvalidArgument naming the field
};

class MicroBatcher {
 public:
  MicroBatcher(BatchingOptions options, MetricsRegistry* metrics);
  ~MicroBatcher();
  MicroBatcher(const MicroBatcher&) = delete;
  MicroBatcher& operator=(const MicroBatcher&) = delete;

  Result<ScoredRows> Score(std::shared_ptr<const ServedModel> model, const FeatureMatrix& x,
                           const ScoreOptions& options = {});

  const BatchingOptions& options() const { return options_; }
  // Batches scored so far (a request scored alone counts as one); for tests and benchmarks.
  uint64_t batches() const;

 private:
  struct Batch;
  struct Impl;
  BatchingOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
