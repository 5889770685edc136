// The live loop: events -> per-instrument feature engines (live_runner_engines.cc) ->
// served models -> predictions and alert rules -> the background writer
// (live_runner_writer.cc), which stores both and hands alerts to the log and webhooks.
#include "vigil/serve/live_runner.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <thread>

#include "serve/live_runner_internal.h"
#include "vigil/core/logging.h"
#include "vigil/serve/scoring.h"

namespace vigil {
namespace {

constexpr double kSecondsPerNano = 1e-9;
// The lag statistics cover this many recent rows.
constexpr size_t kLagWindow = 4096;
constexpr std::chrono::seconds kWebhookDrain{5};

// What the API reads back with a stored classifier prediction (/v1/risk's confidence): the
// confidence of its risk level (risk_levels.h), which cannot be recomputed from the stored,
// calibrated probability alone. NaN is written as null.
std::string ConfidenceJson(double confidence) {
  return nlohmann::json{{"confidence", confidence}}.dump();
}

// One row per horizon, each labelled with its own risk level; the primary horizon's row
// (the one ScoredRows' headline probability comes from) also carries the confidence.
void AppendHorizonRows(const ServedModel& model, const ScoredRows& scored,
                       const PredictionRow& base, std::vector<PredictionRow>* out) {
  const double headline = scored.Probability(0);
  bool confidence_written = false;
  for (size_t h = 0; h < scored.horizon_names.size(); ++h) {
    PredictionRow row = base;
    row.horizon = scored.horizon_names[h];
    row.value = scored.horizons[h];
    row.score = 100.0 * row.value;
    row.label = std::string(RiskLevelName(RiskLevelOf(row.value, model.cutpoints)));
    if (!confidence_written && !scored.confidence.empty() &&
        std::bit_cast<uint64_t>(row.value) == std::bit_cast<uint64_t>(headline)) {
      row.explanation_json = ConfidenceJson(scored.confidence[0]);
      confidence_written = true;
    }
    out->push_back(std::move(row));
  }
}

void AppendPredictions(const ServedModel& model, const ScoredRows& scored, const std::string& inst,
                       Timestamp ts, Timestamp now, std::vector<PredictionRow>* out) {
  PredictionRow base;
  base.model_name = model.name;
  base.model_version = model.version;
  base.instrument = inst;
  base.ts = ts;
  base.created_at = now;
  if (!scored.horizon_names.empty()) return AppendHorizonRows(model, scored, base, out);
  if (scored.task == Task::kAnomaly) {
    base.value = scored.raw_scores[0];
    base.score = scored.scores[0];
    base.label = scored.flags[0] != 0 ? "anomaly" : "normal";
  } else if (scored.task == Task::kClassification) {
    base.value = scored.Probability(0);
    base.score = scored.Score(0);
    if (!scored.levels.empty()) base.label = std::string(RiskLevelName(scored.levels[0]));
    if (!scored.confidence.empty()) base.explanation_json = ConfidenceJson(scored.confidence[0]);
  } else if (!scored.values.empty()) {
    base.value = scored.values[0];
  }
  out->push_back(std::move(base));
}

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  const size_t k = std::min(values.size() - 1, static_cast<size_t>(q * (values.size() - 1) + 0.5));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

}  // namespace

LiveRunner::Impl::Impl(RunConfig run_config, LiveRunnerDependencies dependencies)
    : config(std::move(run_config)),
      deps(std::move(dependencies)),
      clock(deps.clock != nullptr ? deps.clock : &system_clock),
      alerts(config.rules),
      lag(deps.metrics->GetHistogram("vigil_scoring_lag_seconds",
                                     "From an event's arrival to its alert rules evaluated",
                                     LatencyBuckets())),
      events_metric(deps.metrics->GetCounter("vigil_live_events_total",
                                             "Events processed by the live runner")),
      start_generation(deps.models->generation()),
      last_refresh(clock->Now()),
      writer(*deps.store, config.predictions,
             [this](std::vector<AlertRow>& stored) { AlertsStored(stored); }) {}

void LiveRunner::Impl::ScoreModel(LiveEngine& engine, ModelBinding& binding, int64_t ts,
                                  std::vector<PredictionRow>* predictions) {
  const ServedModel& model = *binding.model;
  FeatureMatrix x;
  x.columns = model.features();
  x.rows = 1;
  bool complete = true;
  for (size_t column : binding.columns) {
    x.values.push_back(engine.row[column]);
    complete = complete && std::isfinite(x.values.back());
  }
  if (!complete && binding.needs_complete_rows) return Count(&LiveRunnerStats::rows_skipped, 1);
  Result<ScoredRows> scored = ScoreRows(model, x);
  if (!scored.ok()) {
    if (!complete && scored.status().code() == StatusCode::kInvalidArgument) {
      binding.needs_complete_rows = true;  // warm-up rows: the model cannot take NaN
    } else {
      VIGIL_LOG_ERROR("scoring {} v{} on {}: {}", model.name, model.version, engine.instrument,
                      scored.status().message());
    }
    return Count(&LiveRunnerStats::rows_skipped, 1);
  }
  Count(&LiveRunnerStats::rows_scored, 1);
  const Timestamp now = clock->Now();
  AppendPredictions(model, *scored, engine.instrument, Timestamp(ts), now, predictions);
  const ScoreObservation observation{engine.instrument, Timestamp(ts),   model.name,
                                     model.version,     &*scored,        0,
                                     &model.features(), x.values.data(), now};
  RaiseAlerts(alerts.Evaluate(observation));
}

void LiveRunner::Impl::Count(int64_t LiveRunnerStats::*counter, int64_t by) {
  std::lock_guard lock(stats_mutex);
  stats.*counter += by;
}

void LiveRunner::Impl::RaiseAlerts(std::vector<AlertRow> raised) {
  if (raised.empty()) return;
  for (const AlertRow& alert : raised) {
    deps.metrics->GetCounter("vigil_alerts_total", "Alerts raised by rule", {{"rule", alert.rule}})
        .Increment();
  }
  Count(&LiveRunnerStats::alerts_raised, static_cast<int64_t>(raised.size()));
  writer.AddAlerts(std::move(raised));
}

// On the writer's thread, once the alerts are in the store (with their ids) or failed to be.
void LiveRunner::Impl::AlertsStored(std::vector<AlertRow>& stored) const {
  for (const AlertRow& alert : stored) {
    // The message names the rule, model, value and time; the score is in it too.
    VIGIL_LOG_WARN("alert {} ({}) on {}: {}", alert.rule, alert.severity, alert.instrument,
                   alert.message);
    if (deps.webhooks != nullptr) deps.webhooks->Enqueue(alert);
  }
}

void LiveRunner::Impl::Score(LiveEngine& engine, int64_t ts, Timestamp arrived) {
  if (deps.on_row) deps.on_row(engine.instrument, engine.spec_hash, Timestamp(ts), engine.row);
  const auto group = groups.find(engine.spec_hash);
  if (group == groups.end()) return;  // no served model reads this set any more
  std::vector<PredictionRow> predictions;
  for (ModelBinding& binding : group->second.models) {
    ScoreModel(engine, binding, ts, &predictions);
  }
  if (!predictions.empty()) writer.AddPredictions(std::move(predictions));
  RecordLag(static_cast<double>(clock->Now() - arrived) * kSecondsPerNano);
}

void LiveRunner::Impl::RecordLag(double seconds) {
  seconds = std::max(0.0, seconds);
  lag.Observe(seconds);
  std::lock_guard lock(stats_mutex);
  lags.push_back(seconds);
  if (lags.size() > kLagWindow) lags.pop_front();
}

Status LiveRunner::Impl::Process(const SourceEvent& event) {
  // Promotions (here, by the API, or seen by a refresh) take effect between events.
  if (config.refresh_models.count() > 0 &&
      clock->Now() - last_refresh >= config.refresh_models.count() * int64_t{1'000'000}) {
    deps.models->RefreshAll();
    last_refresh = clock->Now();
  }
  if (deps.models->generation() != groups_generation) RebuildGroups();
  if (event.event.ts > current_ts) FeedAll();
  current_ts = std::max(current_ts, event.event.ts);
  const Timestamp arrived = event.arrived.nanos() != 0 ? event.arrived : clock->Now();
  EnsureEngines(event);
  const auto routed = routes.find({event.instrument, event.event.kind});
  if (routed != routes.end()) {
    for (const auto& [engine, stream] : routed->second) Route(*engine, stream, event, arrived);
  }
  events_metric.Increment();
  Count(&LiveRunnerStats::events, 1);
  if (deps.on_event) deps.on_event();
  return Status::Ok();
}

LiveRunner::LiveRunner(RunConfig config, LiveRunnerDependencies deps)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(deps))) {}

LiveRunner::~LiveRunner() = default;

Status LiveRunner::Process(const SourceEvent& event) { return impl_->Process(event); }

Status LiveRunner::Flush() {
  impl_->FeedAll();
  return impl_->writer.Flush();
}

LiveRunnerStats LiveRunner::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  LiveRunnerStats out = impl_->stats;
  out.predictions_written = impl_->writer.predictions_written();
  out.model_swaps =
      static_cast<int64_t>(impl_->deps.models->generation() - impl_->start_generation);
  const std::vector<double> lags(impl_->lags.begin(), impl_->lags.end());
  out.lag_median_seconds = Percentile(lags, 0.5);
  out.lag_p99_seconds = Percentile(lags, 0.99);
  return out;
}

std::string LiveRunner::Ready() const {
  if (impl_->deps.models->Names().empty()) return "no models loaded";
  if (Status ping = impl_->deps.store->Ping(); !ping.ok()) {
    return "store unreachable: " + ping.message();
  }
  return "";
}

Status LiveRunner::Run(MarketSource& source, const std::function<bool()>& should_stop) {
  std::unique_ptr<Scheduler> scheduler;
  std::thread scheduler_thread;
  std::atomic<bool> stop_scheduler{false};
  if (impl_->config.scheduler) {
    VIGIL_ASSIGN_OR_RETURN(scheduler, impl_->StartScheduler());
    scheduler_thread = std::thread([&] {
      scheduler->Run([&] { return stop_scheduler.load(); }, std::chrono::milliseconds(1000));
    });
  }
  VIGIL_LOG_INFO("live run over {}", source.Describe());
  Status status;
  SourceEvent event;
  while (status.ok() && !should_stop()) {
    Result<bool> more = source.Next(&event);
    if (!more.ok()) {
      status = more.status().WithContext("reading " + source.Describe());
      break;
    }
    if (!*more) break;
    status = Process(event);
  }
  Status flushed = Flush();
  if (impl_->deps.webhooks != nullptr && !impl_->deps.webhooks->Drain(kWebhookDrain)) {
    VIGIL_LOG_WARN("webhooks not drained within {} s; queued alerts dropped",
                   kWebhookDrain.count());
  }
  if (scheduler != nullptr) {
    stop_scheduler = true;
    scheduler_thread.join();
  }
  return status.ok() ? flushed : status;
}

Result<std::unique_ptr<Scheduler>> LiveRunner::Impl::StartScheduler() {
  if (!deps.run_training_job) {
    return FailedPrecondition(
        "a scheduler is configured but this process cannot run training jobs");
  }
  VIGIL_ASSIGN_OR_RETURN(SchedulerConfig schedule, LoadSchedulerConfig(*config.scheduler));
  JobRunner runner = [this](const ScheduledJob& job, const std::string& reason) {
    VIGIL_RETURN_IF_ERROR(deps.run_training_job(job.config, reason));
    // A promotion by the job is served from the next event on.
    for (const std::string& name : deps.models->RefreshAll()) {
      VIGIL_LOG_INFO("job {}: now serving a new version of {}", job.name, name);
    }
    return Status::Ok();
  };
  return std::make_unique<Scheduler>(std::move(schedule), *clock, std::move(runner));
}

}  // namespace vigil
