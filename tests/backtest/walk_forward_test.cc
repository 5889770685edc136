// Walk-forward retraining inside a backtest (walk_forward.h) and whole backtest jobs (job.h):
// the no-lookahead proof for ml_threshold and arbitrage with their models retrained every
// step, bit-identical reruns, --reuse, and the config file's errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "scripted.h"
#include "vigil/backtest/job.h"
#include "vigil/data/reader.h"
#include "vigil/pipeline/training_job.h"

namespace vigil {
namespace {

using backtest_test::RandomWalk;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vigil-wf-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A candle CSV the reader takes as instrument file:<BASE>/BTC, timeframe 5m.
std::string WriteCandles(const std::filesystem::path& dir, const std::string& base,
                         const BarSeries& bars) {
  std::filesystem::create_directories(dir);
  const std::string path = (dir / (base + "_BTC-5m.csv")).string();
  std::ofstream out(path);
  out << "date,open,high,low,close,volume\n";
  char line[256];
  for (size_t i = 0; i < bars.size(); ++i) {
    std::snprintf(line, sizeof(line), "%s,%.17g,%.17g,%.17g,%.17g,%.17g\n",
                  bars.open_time[i].ToIso().c_str(), bars.open[i], bars.high[i], bars.low[i],
                  bars.close[i], bars.volume[i]);
    out << line;
  }
  return path;
}

std::string WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

// The same bars up to `cut`, a different market after it.
BarSeries ChangedAfter(const BarSeries& bars, size_t cut, uint64_t seed) {
  BarSeries changed = bars;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> factor(0.8, 1.25);
  for (size_t i = cut + 1; i < bars.size(); ++i) {
    const double f = factor(rng);
    changed.open[i] *= f;
    changed.high[i] *= f * 1.01;
    changed.low[i] *= f * 0.99;
    changed.close[i] *= f;
    changed.volume[i] *= factor(rng);
  }
  return changed;
}

constexpr const char* kDirectionConfig = R"(name: wf_direction
task: classification
model: {kind: logistic, params: {C: 1.0, standardize: true}}
seed: 7
data: {instruments: [file:AAA/BTC]}
features: ta
label: {kind: direction, horizon: 30m, threshold: 0.0}
validation: {method: walk_forward, window: sliding, train: 1d, test: 12h}
)";

constexpr const char* kOpportunityConfig = R"(name: wf_arb
task: opportunity
model: {kind: logistic, params: {C: 1.0, standardize: true}}
seed: 7
data: {instruments: [cex:AAA/BTC]}
features: ta
label: {pair: dex:AAA/BTC, horizon: 15m, fee_bps: 1, slippage_bps: 1, gas_usd: 0, notional_usd: 10000}
validation: {train: 1d, test: 12h}
)";

BacktestJobConfig MlJob(const std::filesystem::path& dir, const std::string& candles) {
  BacktestJobConfig job;
  job.strategy = "ml_threshold";
  job.params = {{"enter", "0.5"}, {"exit", "0.5"}};
  job.inputs = {candles};
  job.train_config = WriteText(dir / "direction.yaml", kDirectionConfig);
  job.walk_forward.train_ns = kNanosPerDay;
  job.walk_forward.step_ns = kNanosPerDay / 2;
  job.walk_forward.ensemble = 2;
  job.options.fees = {5.0, 5.0};
  return job;
}

// The bar closes two runs agree on: the first index of a decision, signal or equity mark
// stamped at or before `until` that differs, or -1.
void ExpectSameUpTo(const BacktestJobResult& a, const BacktestJobResult& b, Timestamp until) {
  size_t decisions = 0;
  for (size_t i = 0; i < a.result.decisions.size() && a.result.decisions[i].time <= until; ++i) {
    ASSERT_LT(i, b.result.decisions.size());
    EXPECT_EQ(a.result.decisions[i].time, b.result.decisions[i].time);
    EXPECT_EQ(a.result.decisions[i].order.target_fraction,
              b.result.decisions[i].order.target_fraction);
    EXPECT_EQ(a.result.decisions[i].order.sizing, b.result.decisions[i].order.sizing);
    ++decisions;
  }
  EXPECT_GT(decisions, 0u) << "nothing decided before the cut: the check would be vacuous";
  for (size_t m = 0; m < a.result.mark_times.size() && a.result.mark_times[m] <= until; ++m)
    ASSERT_EQ(a.result.equity[m], b.result.equity[m]) << "mark " << m;
  ASSERT_EQ(a.signals.size(), b.signals.size());
  for (size_t s = 0; s < a.signals.size(); ++s) {
    const ModelSignals& x = a.signals[s];
    const ModelSignals& y = b.signals[s];
    for (size_t r = 0; r < x.size() && x.time[r].nanos() + 5 * kNanosPerMinute <= until.nanos();
         ++r) {
      ASSERT_LT(r, y.size());
      ASSERT_EQ(x.time[r], y.time[r]);
      ASSERT_EQ(x.value[r], y.value[r]) << "signal row " << r;
    }
  }
}

// The walk-forward windows and ml_threshold's decisions at or before t survive any change to
// the data after t, with the model retrained every half day on what was known then.
TEST(WalkForwardNoLookaheadTest, MlThresholdWithRetrainingIgnoresEveryLaterBar) {
  TempDir dir;
  const BarSeries bars = RandomWalk("file:AAA/BTC", 1400, 5);
  const BacktestJobConfig job = MlJob(dir.path(), WriteCandles(dir.path() / "a", "AAA", bars));
  Result<BacktestJobResult> original = RunBacktestJob(job, {});
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  const std::vector<WalkForwardWindow>& windows = original->walk_forward->windows;
  ASSERT_GE(windows.size(), 4u);
  // Cuts two bars into windows 1 and 3, where a training set that was not purged would read
  // labels from after the cut, and one between windows.
  std::vector<size_t> cuts = {1000};
  for (size_t k : {1u, 3u})
    for (size_t i = 0; i < bars.size(); ++i)
      if (bars.close_time(i).nanos() == windows[k].trade_from.nanos() + 10 * kNanosPerMinute)
        cuts.push_back(i);
  ASSERT_EQ(cuts.size(), 3u);
  for (size_t cut : cuts) {
    SCOPED_TRACE("cut after bar " + std::to_string(cut));
    BacktestJobConfig altered_job = job;
    altered_job.inputs = {WriteCandles(dir.path() / ("b" + std::to_string(cut)), "AAA",
                                       ChangedAfter(bars, cut, cut))};
    Result<BacktestJobResult> altered = RunBacktestJob(altered_job, {});
    ASSERT_TRUE(altered.ok()) << altered.status().ToString();
    ExpectSameUpTo(*original, *altered, bars.close_time(cut));
    // ... while what comes after the cut does change (the check is not vacuous).
    EXPECT_NE(original->result.equity.back(), altered->result.equity.back());
  }
}

TEST(WalkForwardNoLookaheadTest, ArbitrageWithRetrainingIgnoresEveryLaterBar) {
  TempDir dir;
  const BarSeries a = RandomWalk("cex:AAA/BTC", 1200, 8);
  BarSeries b = a;  // the same asset on another venue: a noisy, mean-reverting premium
  std::mt19937_64 rng(9);
  std::normal_distribution<double> premium(0.0, 0.003);
  for (size_t i = 0; i < b.size(); ++i) {
    const double p = 1.0 + premium(rng);
    b.open[i] *= p;
    b.close[i] *= p;
    b.high[i] = std::max({b.high[i] * p, b.open[i], b.close[i]});
    b.low[i] = std::min({b.low[i] * p, b.open[i], b.close[i]});
  }
  BacktestJobConfig job;
  job.strategy = "arbitrage";
  job.params = {{"threshold", "0.3"}, {"min_spread_bps", "20"}, {"exit_spread_bps", "5"}};
  job.inputs = {WriteCandles(dir.path() / "a", "AAA", a), WriteCandles(dir.path() / "b", "AAA", b)};
  job.venues = {"cex", "dex"};
  job.options.allow_short = true;
  job.options.fees = {1.0, 1.0};
  job.train_config = WriteText(dir.path() / "arb.yaml", kOpportunityConfig);
  job.walk_forward.train_ns = kNanosPerDay;
  job.walk_forward.step_ns = kNanosPerDay / 2;
  Result<BacktestJobResult> original = RunBacktestJob(job, {});
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  const size_t cut = 800;
  BacktestJobConfig altered_job = job;
  altered_job.inputs = {WriteCandles(dir.path() / "c", "AAA", ChangedAfter(a, cut, 1)),
                        WriteCandles(dir.path() / "d", "AAA", ChangedAfter(b, cut, 2))};
  Result<BacktestJobResult> altered = RunBacktestJob(altered_job, {});
  ASSERT_TRUE(altered.ok()) << altered.status().ToString();
  ExpectSameUpTo(*original, *altered, a.close_time(cut));
}

TEST(WalkForwardTest, RerunsAreBitIdenticalAndReuseSkipsTraining) {
  TempDir dir;
  const BarSeries bars = RandomWalk("file:AAA/BTC", 1000, 6);
  BacktestJobConfig job = MlJob(dir.path(), WriteCandles(dir.path() / "a", "AAA", bars));
  job.walk_forward.cache_dir = dir.path() / "cache";
  Result<BacktestJobResult> first = RunBacktestJob(job, {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Result<BacktestJobResult> second = RunBacktestJob(job, {});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->result.equity, second->result.equity);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "cache" / "models" / "window_0" / "model.json"));

  job.walk_forward.reuse = true;
  job.params["enter"] = "0.52";  // a strategy parameter may change without retraining
  Result<BacktestJobResult> reused = RunBacktestJob(job, {});
  ASSERT_TRUE(reused.ok()) << reused.status().ToString();
  EXPECT_TRUE(reused->walk_forward->reused);
  ASSERT_EQ(reused->signals.size(), first->signals.size());
  EXPECT_EQ(reused->signals[0].value, first->signals[0].value);
  EXPECT_EQ(reused->signals[0].time, first->signals[0].time);

  job.walk_forward.step_ns = kNanosPerDay;  // a training setting may not
  Result<BacktestJobResult> stale = RunBacktestJob(job, {});
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.status().message().find("walk_forward.step_ns"), std::string::npos);
}

TEST(WalkForwardTest, AWindowTrainsOnlyOnLabelsKnownBeforeItTrades) {
  TempDir dir;
  const BarSeries bars = RandomWalk("file:AAA/BTC", 900, 7);
  BacktestJobConfig job = MlJob(dir.path(), WriteCandles(dir.path() / "a", "AAA", bars));
  job.walk_forward.ensemble = 1;
  Result<BacktestJobResult> run = RunBacktestJob(job, {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const std::vector<WalkForwardWindow>& windows = run->walk_forward->windows;
  ASSERT_GE(windows.size(), 2u);
  for (const WalkForwardWindow& window : windows) {
    EXPECT_EQ(window.trade_from.nanos() - window.train_from.nanos(), kNanosPerDay);
    // A day of 5m rows starting in the window, less the 30m label horizon (6 rows) and the
    // row closing at trade_from itself, is at most 288 - 6.
    EXPECT_LE(window.train_rows, 288 - 6);
  }
  // Every signal row closes within its window's trading span.
  const ModelSignals& signals = run->signals[0];
  for (size_t r = 0; r < signals.size(); ++r) {
    if (signals.window[r] < 0) continue;
    const WalkForwardWindow& window = windows[signals.window[r]];
    const int64_t close = signals.time[r].nanos() + 5 * kNanosPerMinute;
    EXPECT_GE(close, window.trade_from.nanos());
    EXPECT_LT(close, window.trade_to.nanos());
  }
}

// A registered model scores the stored bars with its own feature set; the note says the
// backtest overlaps its training data.
TEST(RegisteredModelTest, ScoresStoredInstrumentsAndFlagsInSampleSignals) {
  TempDir dir;
  const BarSeries bars = RandomWalk("file:AAA/BTC", 900, 12);
  ReadOptions options;
  options.venue = "file";
  MarketFileReader reader(options);
  Result<ParsedFile> parsed = reader.Read(WriteCandles(dir.path() / "a", "AAA", bars));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  Result<std::unique_ptr<Store>> store = OpenStore("sqlite:" + (dir.path() / "s.db").string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE((*store)->Write({"a", parsed->batches, {}}).ok());
  Result<ModelRegistry> registry = ModelRegistry::Open(dir.path() / "models");
  ASSERT_TRUE(registry.ok());
  Result<TrainingConfig> training =
      ParseTrainingConfig(kDirectionConfig, "direction.yaml", dir.path());
  ASSERT_TRUE(training.ok()) << training.status().ToString();
  Result<TrainingResult> trained = RunTrainingJob(*training, **store, *registry, {});
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();

  BacktestJobConfig job;
  job.strategy = "ml_threshold";
  job.params = {{"enter", "0.5"}};
  job.instruments = {"file:AAA/BTC"};
  job.registered = "wf_direction@production";
  Result<BacktestJobResult> run = RunBacktestJob(job, {store->get(), &*registry, {}});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->signals.size(), 1u);
  EXPECT_GT(run->signals[0].size(), 700u);
  EXPECT_FALSE(run->result.decisions.empty());
  EXPECT_NE(run->model_note.find("in-sample"), std::string::npos) << run->model_note;
  EXPECT_EQ(run->bars[0].size(), bars.size());
}

// A perpetual replayed from the store settles the funding rates stored with it.
TEST(StoredDataTest, StoreInstrumentsSettleTheirStoredFunding) {
  TempDir dir;
  const BarSeries bars = RandomWalk("file:AAA/BTC", 300, 13);
  const std::filesystem::path rates = dir.path() / "rates.csv";
  std::ofstream(rates) << "date,rate\n"
                       << bars.close_time(99).ToIso() << ",0.001\n"
                       << bars.close_time(199).ToIso() << ",-0.002\n";
  Result<std::unique_ptr<Store>> store = OpenStore("sqlite:" + (dir.path() / "s.db").string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ReadOptions options;
  options.venue = "file";
  Result<ParsedFile> candles =
      MarketFileReader(options).Read(WriteCandles(dir.path() / "a", "AAA", bars));
  options.kind = DataKind::kFunding;
  options.symbol = "AAA/BTC";
  Result<ParsedFile> funding = MarketFileReader(options).Read(rates.string());
  ASSERT_TRUE(candles.ok() && funding.ok()) << funding.status().ToString();
  ASSERT_TRUE((*store)->Write({"a", candles->batches, {}}).ok());
  ASSERT_TRUE((*store)->Write({"r", funding->batches, {}}).ok());

  BacktestJobConfig job;
  job.strategy = "buy_hold";
  job.instruments = {"file:AAA/BTC"};
  job.options.fees = {0.0, 0.0};
  Result<BacktestJobResult> run = RunBacktestJob(job, {store->get(), nullptr, {}});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const double quantity = run->result.fills.at(0).quantity;
  EXPECT_NEAR(run->result.funding_paid,
              quantity * (bars.close[99] * 0.001 - bars.close[199] * 0.002), 1e-9);
}

TEST(BacktestJobTest, BadStrategyParametersFailBeforeAnyDataIsRead) {
  BacktestJobConfig job;
  job.strategy = "ml_threshold";
  job.params = {{"enter", "0.6"}, {"exitt", "0.5"}};
  job.inputs = {"/nonexistent/AAA_BTC-5m.csv"};
  job.train_config = "/nonexistent/train.yaml";
  Result<BacktestJobResult> run = RunBacktestJob(job, {});
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("unknown parameter 'exitt'"), std::string::npos)
      << run.status().message();
  job.params = {};
  job.baseline = "buy_hold";
  job.baseline_params = {{"all", "2"}};
  run = RunBacktestJob(job, {});
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("baseline"), std::string::npos) << run.status().message();
}

TEST(BacktestConfigTest, ParsesEverySectionAndNamesTheBadKey) {
  const std::string text = R"(strategy: ml_threshold
params: {enter: 0.55, exit: 0.5, sizing: kelly}
data: {inputs: [a.csv]}
costs: {fee_bps: 10, slippage: "sqrt:0.1", latency: 200ms, venues: {dex: {taker_bps: 30, gas: 2}}}
account: {initial_capital: 5000, max_leverage: 3, allow_short: true}
risk: {max_drawdown: 0.25, daily_loss_limit: 0.05, max_gross_exposure: 2}
model: {train: t.yaml, train_days: 10, step_days: 2.5, ensemble: 3, cache: wf}
baseline: buy_hold
bootstrap: {resamples: 500, seed: 3}
report: out.html
)";
  Result<BacktestJobConfig> config = ParseBacktestConfig(text, "bt.yaml", "/base");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->inputs, std::vector<std::string>{"/base/a.csv"});
  EXPECT_EQ(config->params.at("sizing"), "kelly");
  EXPECT_EQ(config->options.fees.taker_bps, 10.0);
  EXPECT_EQ(config->options.venue_fees.at("dex").taker_bps, 30.0);
  EXPECT_EQ(config->options.gas_per_fill.at("dex"), 2.0);
  EXPECT_EQ(config->options.slippage.ToString(), "sqrt:0.1");
  EXPECT_EQ(config->options.latency_ns, 200 * kNanosPerMilli);
  EXPECT_EQ(config->options.max_leverage, 3.0);
  EXPECT_EQ(config->options.risk.daily_loss_limit, 0.05);
  EXPECT_EQ(config->walk_forward.step_ns, 5 * kNanosPerDay / 2);
  EXPECT_EQ(config->walk_forward.cache_dir, std::filesystem::path("/base/wf"));
  EXPECT_EQ(config->train_config, "/base/t.yaml");
  EXPECT_EQ(config->bootstrap.resamples, 500);
  EXPECT_EQ(config->report, "/base/out.html");

  const std::string misspelt =
      "strategy: sma_cross\ndata: {inputs: [a.csv]}\ncosts: {fees_bps: 10}\n";
  config = ParseBacktestConfig(misspelt, "bt.yaml", "/base");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("bt.yaml:3: costs.fees_bps"), std::string::npos)
      << config.status().message();
  config = ParseBacktestConfig("strategy: ml_threshold\ndata: {inputs: [a.csv]}\n", "bt.yaml", "/");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("model.train or model.registered"), std::string::npos);
  config = ParseBacktestConfig(
      "strategy: arbitrage\ndata: {inputs: [a.csv, b.csv]}\nmodel: {train: t.yaml}\n", "bt.yaml",
      "/");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("allow_short"), std::string::npos);
}

}  // namespace
}  // namespace vigil
