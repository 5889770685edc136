#include "vigil/serve/batcher.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace vigil {
namespace {

constexpr int kMaxBatchRows = 65536;
constexpr std::chrono::microseconds kMaxWait = std::chrono::seconds(1);

// Batches are keyed by everything that changes the output of ScoreRows: the snapshot (so
// a promotion never mixes versions) and the explanation options.
using BatchKey = std::tuple<const ServedModel*, bool, int>;

BatchKey KeyOf(const ServedModel* model, const ScoreOptions& options) {
  return {model, options.explain, options.explain ? options.top_k : 0};
}

// Whether `x` can be appended to a batch of `model`: same width and, when named, the
// model's columns. Other requests are scored alone so their error stays their own.
bool Batchable(const ServedModel& model, const FeatureMatrix& x) {
  const size_t width = model.features().size();
  if (!x.columns.empty()) return x.columns == model.features() && x.Validate(true).ok();
  return width > 0 && x.values.size() == width * static_cast<size_t>(x.rows);
}

}  // namespace

Status BatchingOptions::Validate() const {
  if (max_batch_rows < 1 || max_batch_rows > kMaxBatchRows) {
    return InvalidArgument("max_batch_rows: must be in 1..65536, got " +
                           std::to_string(max_batch_rows));
  }
  if (max_wait.count() < 0 || max_wait > kMaxWait) {
    return InvalidArgument("max_wait: must be in 0..1s, got " + std::to_string(max_wait.count()) +
                           " us");
  }
  return Status::Ok();
}

struct MicroBatcher::Batch {
  std::shared_ptr<const ServedModel> model;
  ScoreOptions options;
  FeatureMatrix x;      // every member's rows, in joining order
  bool closed = false;  // no more members; scoring may start
  bool done = false;
  Result<ScoredRows> result = Internal("batch not scored");
  std::condition_variable done_cv;
};

struct MicroBatcher::Impl {
  std::mutex mutex;
  // Leaders wait on it for their batch to close (filled by a follower) or, with max_wait
  // 0, for the key's earlier batch to finish.
  std::condition_variable changed;
  std::map<BatchKey, std::shared_ptr<Batch>> open;  // GUARDED_BY(mutex)
  std::map<BatchKey, int> in_flight;                // closed, not yet scored; GUARDED_BY(mutex)
  std::atomic<uint64_t> batches{0};
  MetricsRegistry* metrics = nullptr;

  // With `mutex` held.
  void Close(Batch& batch, const BatchKey& key) {
    if (batch.closed) return;
    batch.closed = true;
    const auto found = open.find(key);
    if (found != open.end() && found->second.get() == &batch) open.erase(found);
    ++in_flight[key];
    changed.notify_all();
  }

  // Waits as the header says, closes the batch, scores it and wakes its members.
  void Lead(Batch& batch, const BatchKey& key, std::chrono::microseconds max_wait,
            std::unique_lock<std::mutex>& lock) {
    if (max_wait.count() == 0) {
      // Group commit: take whatever joins while the key's previous batch is being scored.
      changed.wait(lock, [&] { return batch.closed || in_flight[key] == 0; });
    } else {
      const auto deadline = std::chrono::steady_clock::now() + max_wait;
      changed.wait_until(lock, deadline, [&] { return batch.closed; });
    }
    Close(batch, key);
    lock.unlock();
    Result<ScoredRows> result = ScoreRows(*batch.model, batch.x, batch.options);
    Record(*batch.model, batch.x.rows);
    lock.lock();
    batch.result = std::move(result);
    batch.done = true;
    if (--in_flight[key] == 0) in_flight.erase(key);
    batch.done_cv.notify_all();
    changed.notify_all();
  }

  void Record(const ServedModel& model, int64_t rows) {
    batches.fetch_add(1, std::memory_order_relaxed);
    if (metrics == nullptr) return;
    const MetricLabels labels = {{"model", model.name}};
    metrics->GetHistogram("vigil_batch_rows", "Rows per scoring batch", SizeBuckets(), labels)
        .Observe(static_cast<double>(rows));
    metrics->GetCounter("vigil_batches_total", "Scoring batches", labels).Increment();
  }
};

MicroBatcher::MicroBatcher(BatchingOptions options, MetricsRegistry* metrics)
    : options_(options), impl_(std::make_unique<Impl>()) {
  // Out-of-range options are clamped rather than refused: a constructor cannot fail, and
  // configs are checked with Validate before they get here.
  options_.max_batch_rows = std::clamp(options_.max_batch_rows, 1, kMaxBatchRows);
  options_.max_wait = std::clamp(options_.max_wait, std::chrono::microseconds(0), kMaxWait);
  impl_->metrics = metrics;
}

MicroBatcher::~MicroBatcher() = default;

uint64_t MicroBatcher::batches() const { return impl_->batches.load(std::memory_order_relaxed); }

Result<ScoredRows> MicroBatcher::Score(std::shared_ptr<const ServedModel> model,
                                       const FeatureMatrix& x, const ScoreOptions& options) {
  if (model == nullptr) return InvalidArgument("model: no snapshot given");
  if (x.rows >= options_.max_batch_rows || !Batchable(*model, x)) {
    Result<ScoredRows> alone = ScoreRows(*model, x, options);
    impl_->Record(*model, x.rows);
    return alone;
  }
  const BatchKey key = KeyOf(model.get(), options);
  std::unique_lock<std::mutex> lock(impl_->mutex);
  std::shared_ptr<Batch> batch;
  const auto open = impl_->open.find(key);
  if (open != impl_->open.end()) {
    batch = open->second;
    if (batch->x.rows + x.rows > options_.max_batch_rows) {
      impl_->Close(*batch, key);  // full for this request: its leader may go now
      batch = nullptr;
    }
  }
  const bool leader = batch == nullptr;
  if (leader) {
    batch = std::make_shared<Batch>();
    batch->model = model;
    batch->options = options;
    batch->x.columns = model->features();
    impl_->open[key] = batch;
  }
  const int64_t offset = batch->x.rows;
  batch->x.values.insert(batch->x.values.end(), x.values.begin(), x.values.end());
  batch->x.rows += x.rows;
  if (batch->x.rows >= options_.max_batch_rows) impl_->Close(*batch, key);
  if (leader) {
    impl_->Lead(*batch, key, options_.max_wait, lock);
  } else {
    batch->done_cv.wait(lock, [&] { return batch->done; });
  }
  lock.unlock();
  if (!batch->result.ok()) return batch->result.status();
  return SliceRows(*batch->result, offset, offset + x.rows);
}

}  // namespace vigil
