// The live loop of `vigil run`: events -> streaming features -> production models ->
// predictions + alert rules -> alerts table, log and webhooks.
//
//   vigil::LiveRunner runner(options, deps);
//   VIGIL_RETURN_IF_ERROR(runner.Run(*source, [] { return stop_requested.load(); }));
//
// For each event: every feature engine that reads the event's stream observes it (engines
// are per (instrument, feature set), created on the instrument's first event and fed in the
// engine's batch order, so live values equal `vigil features compute` bit for bit); a driver
// event yields a row, which every served model on that feature set scores (rows with
// undefined features during warm-up are skipped for models that need complete rows). Each
// score is written to `predictions` and the alert rules run on it.
// Stored predictions (PredictionRow):
//   classifier     value = probability, score = 100 x value, label = risk level,
//                  explanation_json = {"confidence": c} (the level's confidence, risk_levels.h;
//                  null when NaN), which /v1/risk answers for a stored prediction
//   multi-horizon  one row per horizon: value = that horizon's probability, label = its own
//                  risk level; the primary horizon's row also carries {"confidence": c}
//   anomaly        value = raw score, score = 0-100 score, label = "anomaly" | "normal"
//   regression     value = the prediction
// Writing: the store is written only by a background writer, so a slow or unreachable
// store never blocks scoring. Predictions are batched (flush_rows / flush_interval);
// alerts are written as soon as they are raised, then logged and handed to the webhooks
// (with their alert_id; never blocking scoring either).
// Models: each event scores with the snapshot LiveModels holds at that moment; promotions
// (by the scheduler in this process, the API, or another process, seen every
// refresh_models) swap between events, never inside one.
// Retraining: with a scheduler config, its jobs run on scheduler threads through the same
// training job as `vigil train`; a finished run refreshes the served models.
// Equal timestamps: events stamped alike reach an engine in its batch order (its non-driver
// streams first, then the driver). A row therefore waits until the engine can have no more
// events at its time: at once for the usual engines (one stream, or a candle stream last in
// the source's order, source.h), else until the first later event or Flush().
// Engines are created on the first event of their instrument; cross-instrument events that
// arrived before it are not replayed into it.
// Shutdown: when should_stop() returns true (checked between events) or the source ends,
// Run flushes predictions and alerts, drains webhooks (up to 5 s) and returns.
// Thread-safety: Run on one thread; stats() and Ready() from any.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "vigil/core/clock.h"
#include "vigil/core/status.h"
#include "vigil/serve/alert_rules.h"
#include "vigil/serve/live_models.h"
#include "vigil/serve/metrics.h"
#include "vigil/serve/serve_config.h"
#include "vigil/serve/source.h"
#include "vigil/serve/store_pool.h"
#include "vigil/serve/webhook.h"

namespace vigil {

struct LiveRunnerDependencies {
  LiveModels* models = nullptr;           // required; the models to score with
  StorePool* store = nullptr;             // required
  MetricsRegistry* metrics = nullptr;     // required
  WebhookDispatcher* webhooks = nullptr;  // optional
  const Clock* clock = nullptr;           // nullptr = a SystemClock
  // Optional: called after each event was processed (the API's NotifyDataChanged), on the
  // runner's thread; the next event waits for it.
  std::function<void()> on_event;
  // Optional: runs a scheduled training job (config path, reason); a finished run refreshes
  // the models. Without it a scheduler config is refused.
  std::function<Status(const std::filesystem::path&, const std::string&)> run_training_job;
  // Optional (tests, diagnostics): every feature row computed, on the runner's thread:
  // (instrument, feature set spec hash, row time, values in the set's column order).
  std::function<void(const std::string&, uint64_t, Timestamp, std::span<const double>)> on_row;
};

struct LiveRunnerStats {
  int64_t events = 0;
  int64_t rows_scored = 0;          // (row, model) pairs scored
  int64_t predictions_written = 0;  // stored (a failed write is not counted)
  int64_t alerts_raised = 0;
  int64_t model_swaps = 0;
  int64_t rows_skipped = 0;         // (row, model) pairs not scored: undefined features
  double lag_median_seconds = 0.0;  // arrival -> scored and rules evaluated, recent events
  double lag_p99_seconds = 0.0;
};

class LiveRunner {
 public:
  LiveRunner(RunConfig config, LiveRunnerDependencies deps);
  ~LiveRunner();
  LiveRunner(const LiveRunner&) = delete;
  LiveRunner& operator=(const LiveRunner&) = delete;

  Status Run(MarketSource& source, const std::function<bool()>& should_stop);
  // One event (tests, benchmarks); Run calls this per event.
  Status Process(const SourceEvent& event);
  // Emits rows still waiting for events at their time (call when no more events at the
  // current time will come), then waits until every prediction and alert so far is written
  // (blocks while the store is unreachable). Returns the first store error met since the
  // last Flush (scoring goes on after a store error; it is logged).
  Status Flush();

  LiveRunnerStats stats() const;
  // "" when ready (models loaded, store reachable), else why not.
  std::string Ready() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
