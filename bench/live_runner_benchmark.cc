// The scoring lag of `vigil run` (issue 7 target: from a bar's arrival to its alert, under
// 1 ms median at 1,000 instruments), and the in-process scoring path of `vigil serve`.
//
// Set-up, once, untimed: a temporary home whose SQLite store holds a simulated week of three
// perpetuals; the demo's production models trained on it from their own configs
// (examples/serving: crash_risk, an XGBoost crash classifier with Platt calibration and risk
// levels, and price_iforest, a 200-tree isolation forest, both on the market_risk feature
// set) and promoted by their training jobs; a LiveRunner over them with two threshold rules
// (classifier probability, forest score), predictions and alerts written to SQLite by the
// runner's store writer, and 1,000 instruments of synthetic 1-minute random-walk candles and
// liquidations, warmed up for two hours of bars so every feature is defined.
// Cases (bars fed round-robin across the instruments, one minute per round):
//   BM_LiveRunnerLag/burst:0 (paced)  each bar arrives just before it is processed (bars
//                           spread out): the lag is the work per bar (features, both models,
//                           predictions queued, rules, alerts logged and queued)
//   BM_LiveRunnerLag/burst:1 (burst)  all 1,000 bars of a minute arrive at once (the candle
//                           close) and queue: a bar's lag includes the bars processed before it
// Counters: lag_median_us / lag_p99_us from LiveRunner::stats() (its most recent 4,096
// scored bars), bars/s (items_per_second), alerts raised, liquidations fed, scores_per_bar
// (2 when both models scored every bar). BM_MicroBatcherScoreOneRow: one row through the
// micro-batcher (the POST /v1/predict path without HTTP and JSON), 1 and 4 threads.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vigil/core/clock.h"
#include "vigil/core/rng.h"
#include "vigil/data/simulator.h"
#include "vigil/pipeline/training_config.h"
#include "vigil/pipeline/training_job.h"
#include "vigil/registry/registry.h"
#include "vigil/serve/batcher.h"
#include "vigil/serve/live_models.h"
#include "vigil/serve/live_runner.h"
#include "vigil/serve/metrics.h"
#include "vigil/serve/store_pool.h"
#include "vigil/store/store.h"

namespace vigil::bench {
namespace {

namespace fs = std::filesystem;

constexpr int kInstruments = 1000;
constexpr int kWarmupMinutes = 120;  // market_risk's longest window is 60 bars
constexpr int64_t kMinute = 60'000'000'000;
constexpr const char* kCrashModel = "crash_risk";
constexpr const char* kAnomalyModel = "price_iforest";

// Fails the process with a message: set-up errors leave nothing to measure.
template <typename T>
T Check(Result<T> result, const char* what) {
  if (!result.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, result.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*result);
}
void Check(const Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

// The temporary home: store with a simulated week, the two production models trained and
// promoted, and the LiveModels serving them. Removed on destruction.
class ServingHome {
 public:
  ServingHome()
      : dir_(fs::temp_directory_path() / ("vigil-bench-live-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_url_ = "sqlite:" + (dir_ / "vigil.db").string();
    SimulateIntoStore();
    registry_ =
        std::make_unique<ModelRegistry>(Check(ModelRegistry::Open(dir_ / "models"), "registry"));
    Train(kCrashModel);
    Train(kAnomalyModel);
    LiveModelsOptions options;
    options.feature_set_files["market_risk"] = ExampleFile("market_risk.yaml");
    models_ = std::make_unique<LiveModels>(*registry_, FallbackConfig{}, options);
    Check(models_->Add(kCrashModel), kCrashModel);
    Check(models_->Add(kAnomalyModel), kAnomalyModel);
  }
  ~ServingHome() {
    models_.reset();
    registry_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  ServingHome(const ServingHome&) = delete;
  ServingHome& operator=(const ServingHome&) = delete;

  LiveModels& models() { return *models_; }
  const std::string& store_url() const { return store_url_; }

 private:
  static fs::path ExampleFile(const std::string& name) {
    return fs::path(VIGIL_EXAMPLES_DIR) / name;
  }
  void SimulateIntoStore() {
    SimulationOptions options;  // three perpetuals, seven days: what the configs train on
    SimulatedMarket market = Check(Simulate(options), "simulate");
    std::unique_ptr<Store> store = Check(OpenStore(store_url_), "open store");
    WriteUnit unit;
    unit.source = "simulation";
    unit.batches = std::move(market.batches);
    Check(store->Write(unit).status(), "store simulation");
  }
  void Train(const std::string& name) {
    TrainingConfig config = Check(LoadTrainingConfig(ExampleFile(name + ".yaml")), "config");
    std::unique_ptr<Store> store = Check(OpenStore(store_url_), "open store");
    TrainingResult result = Check(RunTrainingJob(config, *store, *registry_, {}), "training job");
    if (!result.promoted) Check(FailedPrecondition(name + " was not promoted"), "promote");
  }

  fs::path dir_;
  std::string store_url_;
  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<LiveModels> models_;
};

// Built on first use and destroyed by main() before it returns: XGBoost's own globals are
// gone by the time static destructors run, and freeing a booster then crashes.
std::unique_ptr<ServingHome> home;

ServingHome& Home() {
  if (home == nullptr) home = std::make_unique<ServingHome>();
  return *home;
}

// 1-minute random-walk candles for many instruments: per instrument a GARCH(1,1)-like
// variance, Student-t shocks and rare -3 % jumps, so the models see calm and wild bars; and
// liquidations, a few per hour in calm markets and a burst of longs after a large drop (the
// market_risk set's liquidation flow is undefined until a liquidation stream has spoken).
class SyntheticMarket {
 public:
  explicit SyntheticMarket(int instruments) : rng_(7), state_(instruments) {
    for (int i = 0; i < instruments; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "syn:I%04d-PERP", i);
      state_[i].instrument = name;
      state_[i].close = 100.0 * std::exp(rng_.Uniform(-2.0, 4.0));
    }
  }
  int size() const { return static_cast<int>(state_.size()); }

  // The next bar of instrument `i`, opening at `ts`, into *event (its values stay valid
  // until the next call for `i`).
  void NextBar(int i, int64_t ts, SourceEvent* event) {
    Instrument& s = state_[i];
    constexpr double kLongRunVariance = 1e-6, kAlpha = 0.06, kBeta = 0.92, kDof = 5.0;
    const double shock = rng_.StudentT(kDof) * std::sqrt((kDof - 2) / kDof);  // unit variance
    s.ret = std::sqrt(s.variance) * shock;
    if (rng_.Bernoulli(kJumpPerBar)) s.ret -= 0.03;
    s.variance =
        kLongRunVariance * (1 - kAlpha - kBeta) + kAlpha * s.ret * s.ret + kBeta * s.variance;
    const double open = s.close;
    const double close = open * std::exp(s.ret);
    const double wick = std::sqrt(s.variance) * std::abs(rng_.Normal()) * 0.5;
    s.values = {open, std::max(open, close) * std::exp(wick),
                std::min(open, close) * std::exp(-wick), close,
                50.0 * std::exp(rng_.Normal(0.0, 0.5)) * (1.0 + 200.0 * std::abs(s.ret))};
    s.close = close;
    Fill(s, DataKind::kCandles, "1m", ts, event);
  }

  // Whether instrument `i` has a liquidation at `ts` (after its latest bar); if so, into
  // *event.
  bool NextLiquidation(int i, int64_t ts, SourceEvent* event) {
    Instrument& s = state_[i];
    const bool crash = s.ret < -0.01;
    if (!rng_.Bernoulli(crash ? 0.9 : 0.05)) return false;
    const double side = crash || rng_.Bernoulli(0.5) ? 1.0 : -1.0;
    const double qty = std::exp(rng_.Normal(0.0, 1.0)) * (crash ? 20.0 : 1.0);
    s.values = {side, s.close, qty, qty * s.close, 0.0, 0.0};
    Fill(s, DataKind::kLiquidations, "", ts, event);
    return true;
  }

 private:
  static constexpr double kJumpPerBar = 5e-4;
  struct Instrument {
    std::string instrument;
    double close = 100.0;
    double ret = 0.0;
    double variance = 1e-6;
    std::vector<double> values;
  };
  static void Fill(const Instrument& s, DataKind kind, const char* timeframe, int64_t ts,
                   SourceEvent* event) {
    event->instrument = s.instrument;
    event->timeframe = timeframe;
    event->event = Event{kind, ts, s.values, nullptr};
  }
  Rng rng_;
  std::vector<Instrument> state_;
};

// One LiveRunner over the home's models and 1,000 synthetic instruments, warmed up.
class LiveFixture {
 public:
  LiveFixture()
      : pool_(Check(StorePool::Open(Home().store_url(), 2), "store pool")),
        market_(kInstruments),
        runner_(Config(), LiveRunnerDependencies{&Home().models(), &pool_, &metrics_}) {
    for (int64_t bar = 0; bar < int64_t{kWarmupMinutes} * kInstruments; ++bar) FeedNext(false);
    Check(runner_.Flush(), "flush after warm-up");
  }

  // The next bar in round-robin order (one minute per round; after a round, that minute's
  // liquidations, stamped half a minute later). `burst`: a round's bars all arrive when its
  // first does (the candle close), else each just before it is processed.
  void FeedNext(bool burst) {
    const int64_t open_time = kStart + minute_ * kMinute;
    if (next_ == 0) round_arrived_ = clock_.Now();
    market_.NextBar(next_, open_time, &event_);
    Process(burst ? round_arrived_ : clock_.Now());
    if (++next_ < market_.size()) return;
    for (int i = 0; i < market_.size(); ++i) {
      if (market_.NextLiquidation(i, open_time + kMinute / 2, &event_)) {
        Process(clock_.Now());
        ++liquidations_;
      }
    }
    next_ = 0;
    ++minute_;
  }
  LiveRunner& runner() { return runner_; }
  int64_t liquidations() const { return liquidations_; }

 private:
  static constexpr int64_t kStart = kDefaultSimulationStart.nanos() + 30 * 1440 * kMinute;
  static RunConfig Config() {
    RunConfig config;
    // Thresholds near the 99.9th percentile of each model's scores on these synthetic bars
    // (calm next to the simulated training week: the crash probability stays under 0.09,
    // the forest's score under 82), with the default 15-minute cool-down per instrument:
    // about one bar in a thousand raises an alert.
    AlertRule crash{.name = "crash_probability", .model = kCrashModel, .output = "probability"};
    crash.above = 0.075;
    crash.severity = "high";
    AlertRule anomaly{.name = "price_anomaly", .model = kAnomalyModel, .output = "score"};
    anomaly.above = 78.0;
    config.rules = {crash, anomaly};
    config.refresh_models = std::chrono::milliseconds(5000);
    config.predictions.flush_rows = 5000;
    config.predictions.flush_interval = std::chrono::milliseconds(500);
    return config;
  }
  void Process(Timestamp arrived) {
    event_.arrived = arrived;
    Check(runner_.Process(event_), "process");
  }

  SystemClock clock_;
  MetricsRegistry metrics_;
  StorePool pool_;
  SyntheticMarket market_;
  LiveRunner runner_;
  SourceEvent event_;
  int64_t minute_ = 0;
  int next_ = 0;
  int64_t liquidations_ = 0;
  Timestamp round_arrived_{0};
};

std::unique_ptr<LiveFixture> fixture;  // as `home`

void BM_LiveRunnerLag(benchmark::State& state) {
  const bool burst = state.range(0) == 1;
  if (fixture == nullptr) fixture = std::make_unique<LiveFixture>();
  const LiveRunnerStats before = fixture->runner().stats();
  const int64_t liquidations_before = fixture->liquidations();
  for (auto _ : state) fixture->FeedNext(burst);
  const LiveRunnerStats after = fixture->runner().stats();
  state.SetItemsProcessed(state.iterations());  // bars
  state.counters["liquidations"] =
      static_cast<double>(fixture->liquidations() - liquidations_before);
  // Both models score every bar once warmed up: a check on the set-up.
  state.counters["scores_per_bar"] = static_cast<double>(after.rows_scored - before.rows_scored) /
                                     static_cast<double>(state.iterations());
  state.counters["lag_median_us"] = after.lag_median_seconds * 1e6;
  state.counters["lag_p99_us"] = after.lag_p99_seconds * 1e6;
  state.counters["alerts"] = static_cast<double>(after.alerts_raised - before.alerts_raised);
  state.counters["instruments"] = kInstruments;
  state.SetLabel(burst ? "burst" : "paced");
}
// Whole rounds (20 minutes of 1,000 bars), so each case ends where the next starts a round
// and the 4,096-bar lag window holds only this case's bars.
BENCHMARK(BM_LiveRunnerLag)
    ->ArgName("burst")
    ->Arg(0)
    ->Arg(1)
    ->Iterations(20 * kInstruments)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// One row of the crash model through the micro-batcher (defaults: 64 rows, no wait).
void BM_MicroBatcherScoreOneRow(benchmark::State& state) {
  static MicroBatcher batcher(BatchingOptions{}, nullptr);
  std::shared_ptr<const ServedModel> model = Home().models().Get(kCrashModel);
  FeatureMatrix x;
  x.columns = model->features();
  x.rows = 1;
  Rng rng(static_cast<uint64_t>(state.thread_index()) + 1);
  for (size_t col = 0; col < x.cols(); ++col) x.values.push_back(rng.Normal(0.0, 0.01));
  for (auto _ : state) {
    Result<ScoredRows> scored = batcher.Score(model, x);
    if (!scored.ok()) {
      state.SkipWithError(scored.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(scored->probabilities.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MicroBatcherScoreOneRow)->Threads(1)->Threads(4)->UseRealTime();

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  vigil::bench::fixture.reset();
  vigil::bench::home.reset();
  return 0;
}
