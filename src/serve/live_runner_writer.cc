// The live runner's background writer of predictions and alerts (live_runner_internal.h).
#include <chrono>

#include "serve/live_runner_internal.h"
#include "vigil/core/logging.h"

namespace vigil::live_runner_internal {

StoreWriter::StoreWriter(StorePool& pool, PredictionSinkOptions options,
                         AlertsStored on_alerts_stored)
    : pool_(pool),
      options_(options),
      on_alerts_stored_(std::move(on_alerts_stored)),
      thread_([this] { Loop(); }) {}

StoreWriter::~StoreWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void StoreWriter::AddPredictions(std::vector<PredictionRow> rows) {
  std::lock_guard lock(mutex_);
  for (PredictionRow& row : rows) predictions_.push_back(std::move(row));
  if (static_cast<int64_t>(predictions_.size()) >= options_.flush_rows) wake_.notify_all();
}

void StoreWriter::AddAlerts(std::vector<AlertRow> alerts) {
  std::lock_guard lock(mutex_);
  for (AlertRow& alert : alerts) alerts_.push_back(std::move(alert));
  wake_.notify_all();
}

Status StoreWriter::Flush() {
  std::unique_lock lock(mutex_);
  const uint64_t wanted = ++flush_requests_;
  wake_.notify_all();
  done_.wait(lock, [&] { return flushed_ >= wanted; });
  Status error = std::move(error_);
  error_ = Status::Ok();
  return error;
}

void StoreWriter::Loop() {
  using SteadyClock = std::chrono::steady_clock;
  std::unique_lock lock(mutex_);
  SteadyClock::time_point predictions_due_at = SteadyClock::now() + options_.flush_interval;
  while (true) {
    wake_.wait_until(lock, predictions_due_at, [&] {
      return stopping_ || flush_requests_ > flushed_ || !alerts_.empty() ||
             static_cast<int64_t>(predictions_.size()) >= options_.flush_rows;
    });
    const uint64_t requests = flush_requests_;
    std::vector<AlertRow> alerts;
    alerts.swap(alerts_);
    // Alerts are written at once; the predictions wait for their batch or their interval.
    std::vector<PredictionRow> predictions;
    if (stopping_ || requests > flushed_ || SteadyClock::now() >= predictions_due_at ||
        static_cast<int64_t>(predictions_.size()) >= options_.flush_rows) {
      predictions.swap(predictions_);
      predictions_due_at = SteadyClock::now() + options_.flush_interval;
    }
    lock.unlock();
    Status status = WriteAlerts(alerts);
    Status written = WritePredictions(predictions);
    if (status.ok()) status = written;
    lock.lock();
    if (!status.ok() && error_.ok()) error_ = status;
    flushed_ = requests;
    done_.notify_all();
    if (stopping_ && predictions_.empty() && alerts_.empty()) return;
  }
}

Status StoreWriter::WriteAlerts(std::vector<AlertRow>& alerts) {
  if (alerts.empty()) return Status::Ok();
  Result<StorePool::Lease> store = pool_.Acquire();
  Result<std::vector<int64_t>> ids =
      store.ok() ? (*store)->WriteAlerts(alerts) : Result<std::vector<int64_t>>(store.status());
  if (!ids.ok()) {
    VIGIL_LOG_ERROR("writing {} alerts failed: {}", alerts.size(), ids.status().message());
  }
  for (size_t i = 0; ids.ok() && i < alerts.size() && i < ids->size(); ++i) {
    alerts[i].alert_id = (*ids)[i];
  }
  if (on_alerts_stored_) on_alerts_stored_(alerts);
  return ids.status();
}

Status StoreWriter::WritePredictions(const std::vector<PredictionRow>& batch) {
  if (batch.empty()) return Status::Ok();
  Result<StorePool::Lease> store = pool_.Acquire();
  if (!store.ok()) return store.status();
  Result<int64_t> written = (*store)->WritePredictions(batch);
  if (!written.ok()) {
    VIGIL_LOG_ERROR("writing {} predictions failed: {}", batch.size(), written.status().message());
    return written.status();
  }
  predictions_written_ += *written;
  return Status::Ok();
}

}  // namespace vigil::live_runner_internal
