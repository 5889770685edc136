// The live loop: events -> per-instrument feature engines -> served models -> predictions
// (background writer) and alert rules (alerts table, log, webhooks).
#include "vigil/serve/live_runner.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "vigil/core/logging.h"
#include "vigil/features/engine.h"
#include "vigil/pipeline/scheduler.h"
#include "vigil/serve/scoring.h"

namespace vigil {
namespace {

constexpr double kSecondsPerNano = 1e-9;
// The lag statistics cover this many recent rows.
constexpr size_t kLagWindow = 4096;
constexpr std::chrono::seconds kWebhookDrain{5};

// Predictions go to the store off the scoring path, in batches of flush_rows or every
// flush_interval, whichever comes first.
class PredictionWriter {
 public:
  PredictionWriter(StorePool& pool, PredictionSinkOptions options)
      : pool_(pool), options_(options), thread_([this] { Loop(); }) {}
  ~PredictionWriter() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void Add(std::vector<PredictionRow> rows) {
    std::lock_guard lock(mutex_);
    for (PredictionRow& row : rows) buffer_.push_back(std::move(row));
    if (static_cast<int64_t>(buffer_.size()) >= options_.flush_rows) wake_.notify_all();
  }
  // Blocks until everything added so far is written (or failed); the first error since the
  // last call.
  Status Flush() {
    std::unique_lock lock(mutex_);
    const uint64_t wanted = ++flush_requests_;
    wake_.notify_all();
    done_.wait(lock, [&] { return flushed_ >= wanted; });
    Status error = std::move(error_);
    error_ = Status::Ok();
    return error;
  }
  int64_t written() const { return written_.load(); }

 private:
  void Loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait_for(lock, options_.flush_interval, [&] {
        return stopping_ || flush_requests_ > flushed_ ||
               static_cast<int64_t>(buffer_.size()) >= options_.flush_rows;
      });
      const uint64_t requests = flush_requests_;
      std::vector<PredictionRow> batch;
      batch.swap(buffer_);
      lock.unlock();
      Status status = Write(batch);
      lock.lock();
      if (!status.ok() && error_.ok()) error_ = status;
      flushed_ = requests;
      done_.notify_all();
      if (stopping_ && buffer_.empty()) return;
    }
  }
  Status Write(const std::vector<PredictionRow>& batch) {
    if (batch.empty()) return Status::Ok();
    Result<StorePool::Lease> store = pool_.Acquire();
    if (!store.ok()) return store.status();
    Result<int64_t> written = (*store)->WritePredictions(batch);
    if (!written.ok()) {
      VIGIL_LOG_ERROR("writing {} predictions failed: {}", batch.size(),
                      written.status().message());
      return written.status();
    }
    written_ += *written;
    return Status::Ok();
  }

  StorePool& pool_;
  const PredictionSinkOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<PredictionRow> buffer_;  // GUARDED_BY(mutex_)
  uint64_t flush_requests_ = 0;        // GUARDED_BY(mutex_)
  uint64_t flushed_ = 0;               // GUARDED_BY(mutex_)
  bool stopping_ = false;              // GUARDED_BY(mutex_)
  Status error_;                       // GUARDED_BY(mutex_)
  std::atomic<int64_t> written_{0};
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

HeldEvent Hold(const SourceEvent& source, int stream, Timestamp arrived) {
  const Event& e = source.event;
  HeldEvent held{stream, e.kind, e.ts, arrived, {e.values.begin(), e.values.end()}};
  if (e.book != nullptr) {
    held.has_book = true;
    held.bid_price.assign(e.book->bid_price.begin(), e.book->bid_price.end());
    held.bid_size.assign(e.book->bid_size.begin(), e.book->bid_size.end());
    held.ask_price.assign(e.book->ask_price.begin(), e.book->ask_price.end());
    held.ask_size.assign(e.book->ask_size.begin(), e.book->ask_size.end());
  }
  return held;
}

// The source's order at equal timestamps (source.h): non-candle kinds first in DataKind
// order, then candles, each series in instrument order.
std::tuple<bool, int, std::string> SourceRank(DataKind kind, const std::string& instrument) {
  return {kind == DataKind::kCandles, static_cast<int>(kind), instrument};
}

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

struct FeatureSetGroup {
  FeatureSetSpec spec;
  std::vector<ModelBinding> models;
};

void AppendPredictions(const ServedModel& model, const ScoredRows& scored, const std::string& inst,
                       Timestamp ts, Timestamp now, std::vector<PredictionRow>* out) {
  PredictionRow base;
  base.model_name = model.name;
  base.model_version = model.version;
  base.instrument = inst;
  base.ts = ts;
  base.created_at = now;
  if (!scored.levels.empty()) base.label = std::string(RiskLevelName(scored.levels[0]));
  if (!scored.horizon_names.empty()) {
    for (size_t h = 0; h < scored.horizon_names.size(); ++h) {
      PredictionRow row = base;
      row.horizon = scored.horizon_names[h];
      row.value = scored.horizons[h];
      row.score = 100.0 * row.value;
      out->push_back(std::move(row));
    }
    return;
  }
  if (scored.task == Task::kAnomaly) {
    base.value = scored.raw_scores[0];
    base.score = scored.scores[0];
    base.label = scored.flags[0] != 0 ? "anomaly" : "normal";
  } else if (scored.task == Task::kClassification) {
    base.value = scored.Probability(0);
    base.score = scored.Score(0);
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

struct LiveRunner::Impl {
  Impl(RunConfig run_config, LiveRunnerDependencies dependencies)
      : config(std::move(run_config)),
        deps(std::move(dependencies)),
        clock(deps.clock != nullptr ? deps.clock : &system_clock),
        alerts(config.rules),
        writer(*deps.store, config.predictions),
        lag(deps.metrics->GetHistogram("vigil_scoring_lag_seconds",
                                       "From an event's arrival to its alert rules evaluated",
                                       LatencyBuckets())),
        events_metric(deps.metrics->GetCounter("vigil_live_events_total",
                                               "Events processed by the live runner")),
        start_generation(deps.models->generation()),
        last_refresh(clock->Now()) {}

  Status Process(const SourceEvent& event);
  void EnsureEngines(const SourceEvent& event);
  Status CreateEngine(const std::string& instrument, const FeatureSetGroup& group,
                      const SourceEvent& event);
  void Route(LiveEngine& engine, int stream, const SourceEvent& event, Timestamp arrived);
  void Feed(LiveEngine& engine);
  void FeedAll();
  void Score(LiveEngine& engine, int64_t ts, Timestamp arrived);
  void ScoreModel(LiveEngine& engine, ModelBinding& binding, int64_t ts,
                  std::vector<PredictionRow>* predictions);
  void RaiseAlerts(std::vector<AlertRow> raised);
  void Count(int64_t LiveRunnerStats::*counter, int64_t by);
  Result<std::unique_ptr<Scheduler>> StartScheduler();
  void RebuildGroups();
  void RecordLag(double seconds);
  Status FirstError();

  RunConfig config;
  LiveRunnerDependencies deps;
  SystemClock system_clock;
  const Clock* clock;
  AlertEngine alerts;
  PredictionWriter writer;
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
  Status store_error;

  mutable std::mutex stats_mutex;
  LiveRunnerStats stats;    // GUARDED_BY(stats_mutex); lag fields filled in by stats()
  std::deque<double> lags;  // GUARDED_BY(stats_mutex)
};

void LiveRunner::Impl::RebuildGroups() {
  groups.clear();
  for (const std::string& name : deps.models->Names()) {
    std::shared_ptr<const ServedModel> model = deps.models->Get(name);
    if (model == nullptr || !model->feature_set) continue;  // served for request rows only
    const uint64_t hash = model->feature_set->SpecHash();
    FeatureSetGroup& group = groups[hash];
    if (group.models.empty()) group.spec = *model->feature_set;
    const std::vector<std::string> columns = group.spec.Columns();
    ModelBinding binding{model, {}, false};
    for (const std::string& feature : model->features()) {
      const auto found = std::find(columns.begin(), columns.end(), feature);
      if (found == columns.end()) break;
      binding.columns.push_back(static_cast<size_t>(found - columns.begin()));
    }
    if (binding.columns.size() != model->features().size()) {
      VIGIL_LOG_ERROR("model {} v{}: features missing from feature set {}; not scored live", name,
                      model->version, group.spec.name);
      continue;
    }
    group.models.push_back(std::move(binding));
  }
  groups_generation = deps.models->generation();
}

Status LiveRunner::Impl::CreateEngine(const std::string& instrument, const FeatureSetGroup& group,
                                      const SourceEvent& event) {
  EngineOptions options;
  const bool candle = event.event.kind == DataKind::kCandles && !event.timeframe.empty();
  if (candle) {
    VIGIL_ASSIGN_OR_RETURN(options.base_step_ns, ParseDuration(event.timeframe));
  }
  VIGIL_ASSIGN_OR_RETURN(FeatureEngine engine, FeatureEngine::Create(group.spec, options));
  auto live = std::make_unique<LiveEngine>(std::move(engine));
  live->instrument = instrument;
  live->spec_hash = group.spec.SpecHash();
  live->timeframe = candle ? event.timeframe : "";
  live->row.assign(live->engine.columns().size(), 0.0);
  const std::vector<StreamKey>& streams = live->engine.streams();
  std::tuple<bool, int, std::string> last{false, -1, ""};
  for (size_t s = 0; s < streams.size(); ++s) {
    const std::string on = streams[s].instrument.empty() ? instrument : streams[s].instrument;
    routes[{on, streams[s].kind}].emplace_back(live.get(), static_cast<int>(s));
    const auto rank = SourceRank(streams[s].kind, on);
    if (s == 0 || rank > last) {
      last = rank;
      live->completing_stream = streams[s].kind == DataKind::kCandles ? static_cast<int>(s) : -1;
    }
  }
  engines[{instrument, live->spec_hash}] = std::move(live);
  return Status::Ok();
}

void LiveRunner::Impl::EnsureEngines(const SourceEvent& event) {
  for (const auto& [hash, group] : groups) {
    if (group.models.empty() || engines.count({event.instrument, hash}) > 0) continue;
    // A failed creation (e.g. a set with timeframes seen first through a non-candle event)
    // is retried on the instrument's next event.
    if (Status created = CreateEngine(event.instrument, group, event); !created.ok()) {
      VIGIL_LOG_DEBUG("feature set {} on {}: {}", group.spec.name, event.instrument,
                      created.message());
    }
  }
}

void LiveRunner::Impl::Route(LiveEngine& engine, int stream, const SourceEvent& event,
                             Timestamp arrived) {
  if (event.event.kind == DataKind::kCandles) {
    if (engine.timeframe.empty()) engine.timeframe = event.timeframe;
    if (event.timeframe != engine.timeframe) return;  // another timeframe of the series
  }
  const bool alone = engine.engine.streams().size() == 1;
  if (alone) {  // nothing to order it against: straight in
    if (engine.engine.Push(stream, event.event, engine.row)) Score(engine, event.event.ts, arrived);
    return;
  }
  if (engine.held.empty()) with_held.push_back(&engine);
  engine.held.push_back(Hold(event, stream, arrived));
  if (stream == engine.completing_stream) Feed(engine);
}

// Feeds the held events in the batch order: non-driver streams by index, then the driver.
void LiveRunner::Impl::Feed(LiveEngine& engine) {
  std::stable_sort(
      engine.held.begin(), engine.held.end(), [](const HeldEvent& a, const HeldEvent& b) {
        return (a.stream == 0 ? INT32_MAX : a.stream) < (b.stream == 0 ? INT32_MAX : b.stream);
      });
  for (const HeldEvent& held : engine.held) {
    const BookView book{held.bid_price, held.bid_size, held.ask_price, held.ask_size};
    const Event event{held.kind, held.ts, held.values, held.has_book ? &book : nullptr};
    if (engine.engine.Push(held.stream, event, engine.row)) Score(engine, held.ts, held.arrived);
  }
  engine.held.clear();
}

void LiveRunner::Impl::FeedAll() {
  for (LiveEngine* engine : with_held) {
    if (!engine->held.empty()) Feed(*engine);
  }
  with_held.clear();
}

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
  Result<StorePool::Lease> store = deps.store->Acquire();
  Result<std::vector<int64_t>> ids =
      store.ok() ? (*store)->WriteAlerts(raised) : Result<std::vector<int64_t>>(store.status());
  if (!ids.ok()) {
    VIGIL_LOG_ERROR("writing {} alerts failed: {}", raised.size(), ids.status().message());
    if (store_error.ok()) store_error = ids.status();
  }
  for (size_t i = 0; i < raised.size(); ++i) {
    AlertRow& alert = raised[i];
    if (ids.ok() && i < ids->size()) alert.alert_id = (*ids)[i];
    // The message names the rule, model, value and time; the score is in it too.
    VIGIL_LOG_WARN("alert {} ({}) on {}: {}", alert.rule, alert.severity, alert.instrument,
                   alert.message);
    deps.metrics->GetCounter("vigil_alerts_total", "Alerts raised by rule", {{"rule", alert.rule}})
        .Increment();
    if (deps.webhooks != nullptr) deps.webhooks->Enqueue(alert);
  }
  Count(&LiveRunnerStats::alerts_raised, static_cast<int64_t>(raised.size()));
}

void LiveRunner::Impl::Score(LiveEngine& engine, int64_t ts, Timestamp arrived) {
  if (deps.on_row) deps.on_row(engine.instrument, engine.spec_hash, Timestamp(ts), engine.row);
  const auto group = groups.find(engine.spec_hash);
  if (group == groups.end()) return;  // no served model reads this set any more
  std::vector<PredictionRow> predictions;
  for (ModelBinding& binding : group->second.models) {
    ScoreModel(engine, binding, ts, &predictions);
  }
  if (!predictions.empty()) writer.Add(std::move(predictions));
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

Status LiveRunner::Impl::FirstError() {
  Status error = std::move(store_error);
  store_error = Status::Ok();
  return error;
}

LiveRunner::LiveRunner(RunConfig config, LiveRunnerDependencies deps)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(deps))) {}

LiveRunner::~LiveRunner() = default;

Status LiveRunner::Process(const SourceEvent& event) { return impl_->Process(event); }

Status LiveRunner::Flush() {
  impl_->FeedAll();
  Status written = impl_->writer.Flush();
  Status alerts = impl_->FirstError();
  return alerts.ok() ? written : alerts;
}

LiveRunnerStats LiveRunner::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  LiveRunnerStats out = impl_->stats;
  out.predictions_written = impl_->writer.written();
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
