// Private to live_runner*.cc: the runner's state (LiveRunner::Impl) and the pieces it is
// made of, split by phase:
//   live_runner_engines.cc  feature engines per (instrument, feature set) and the order in
//                           which they see events of one timestamp
//   live_runner.cc          scoring rows, alert rules, the event loop and the scheduler
//   live_runner_writer.cc   the background writer of predictions and alerts
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "vigil/features/engine.h"
#include "vigil/pipeline/scheduler.h"
#include "vigil/serve/live_runner.h"

namespace vigil {
namespace live_runner_internal {

// Predictions and alerts go to the store off the scoring path, so a slow or unreachable
// store never holds up scoring. Alerts are written as soon as they arrive (then handed to
// `on_alerts_stored` with their ids, for the log and the webhooks); predictions in batches
// of flush_rows or every flush_interval, whichever comes first.
class StoreWriter {
 public:
  // Called on the writer's thread after a write of alerts, whether or not it succeeded
  // (alert_id is set only when it did).
  using AlertsStored = std::function<void(std::vector<AlertRow>& alerts)>;

  StoreWriter(StorePool& pool, PredictionSinkOptions options, AlertsStored on_alerts_stored);
  ~StoreWriter();  // writes what is buffered, then stops
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  void AddPredictions(std::vector<PredictionRow> rows);
  void AddAlerts(std::vector<AlertRow> alerts);
  // Blocks until everything added so far is written (or failed); the first error since the
  // last call.
  Status Flush();
  int64_t predictions_written() const { return predictions_written_.load(); }

 private:
  void Loop();
  Status WritePredictions(const std::vector<PredictionRow>& batch);
  Status WriteAlerts(std::vector<AlertRow>& alerts);

  StorePool& pool_;
  const PredictionSinkOptions options_;
  const AlertsStored on_alerts_stored_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<PredictionRow> predictions_;  // GUARDED_BY(mutex_)
  std::vector<AlertRow> alerts_;            // GUARDED_BY(mutex_)
  uint64_t flush_requests_ = 0;             // GUARDED_BY(mutex_)
  uint64_t flushed_ = 0;                    // GUARDED_BY(mutex_)
  bool stopping_ = false;                   // GUARDED_BY(mutex_)
  Status error_;                            // GUARDED_BY(mutex_)
  std::atomic<int64_t> predictions_written_{0};
  std::thread thread_;  // last: starts after the members above exist
};

// An event copied out of the source's buffers, waiting for the rest of its timestamp.
struct HeldEvent {
  int stream = 0;
  DataKind kind = DataKind::kCandles;
  int64_t ts = 0;
  Timestamp arrived;
  std::vector<double> values;
  bool has_book = false;
  std::vector<double> bid_price, bid_size, ask_price, ask_size;
};

// One feature engine of one instrument, with the events of its current timestamp.
struct LiveEngine {
  explicit LiveEngine(FeatureEngine built) : engine(std::move(built)) {}
  std::string instrument;
  uint64_t spec_hash = 0;
  FeatureEngine engine;
  std::string timeframe;  // the candle timeframe it reads; "" until its first candle
  std::vector<HeldEvent> held;
  // Its stream that comes last in the source's order at a timestamp, when that is a candle
  // stream (one event per timestamp): its event completes the timestamp.
  int completing_stream = -1;
  std::vector<double> row;
};

// Scoring one model on rows of one feature set: where its features sit in the row.
struct ModelBinding {
  std::shared_ptr<const ServedModel> model;
  std::vector<size_t> columns;
  bool needs_complete_rows = false;  // learned from its first refusal of a NaN row
};

// The served models that read one feature set.
struct FeatureSetGroup {
  FeatureSetSpec spec;
  std::vector<ModelBinding> models;
};

}  // namespace live_runner_internal

struct LiveRunner::Impl {
  using LiveEngine = live_runner_internal::LiveEngine;
  using ModelBinding = live_runner_internal::ModelBinding;
  using FeatureSetGroup = live_runner_internal::FeatureSetGroup;

  Impl(RunConfig run_config, LiveRunnerDependencies dependencies);

  Status Process(const SourceEvent& event);
  // live_runner_engines.cc
  void RebuildGroups();
  void EnsureEngines(const SourceEvent& event);
  Status CreateEngine(const std::string& instrument, const FeatureSetGroup& group,
                      const SourceEvent& event);
  void Route(LiveEngine& engine, int stream, const SourceEvent& event, Timestamp arrived);
  void Feed(LiveEngine& engine);
  void FeedAll();
  // live_runner.cc
  void Score(LiveEngine& engine, int64_t ts, Timestamp arrived);
  void ScoreModel(LiveEngine& engine, ModelBinding& binding, int64_t ts,
                  std::vector<PredictionRow>* predictions);
  void RaiseAlerts(std::vector<AlertRow> raised);
  void AlertsStored(std::vector<AlertRow>& alerts) const;
  void Count(int64_t LiveRunnerStats::*counter, int64_t by);
  Result<std::unique_ptr<Scheduler>> StartScheduler();
  void RecordLag(double seconds);

  RunConfig config;
  LiveRunnerDependencies deps;
  SystemClock system_clock;
  const Clock* clock;
  AlertEngine alerts;
  Histogram& lag;
  Counter& events_metric;
  const uint64_t start_generation;
  Timestamp last_refresh;

  uint64_t groups_generation = ~uint64_t{0};
  std::map<uint64_t, FeatureSetGroup> groups;  // by spec hash
  std::map<std::pair<std::string, uint64_t>, std::unique_ptr<LiveEngine>> engines;
  std::map<std::pair<std::string, DataKind>, std::vector<std::pair<LiveEngine*, int>>> routes;
  std::vector<LiveEngine*> with_held;  // engines holding events of the current timestamp
  int64_t current_ts = INT64_MIN;

  mutable std::mutex stats_mutex;
  LiveRunnerStats stats;    // GUARDED_BY(stats_mutex); lag fields filled in by stats()
  std::deque<double> lags;  // GUARDED_BY(stats_mutex)

  // Last: its thread calls AlertsStored, which reads the members above, so it is
  // destroyed (and its thread joined) first.
  live_runner_internal::StoreWriter writer;
};

}  // namespace vigil
