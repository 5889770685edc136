// RunBacktestJob (job.h): the data, the model's signals, the run, the baseline and the
// comparison, in that order.
#include "vigil/backtest/job.h"

#include <chrono>
#include <cstdlib>
#include <optional>
#include <system_error>

#include "vigil/data/reader.h"
#include "vigil/features/feature_store.h"
#include "vigil/pipeline/training_config.h"

namespace vigil {
namespace {

constexpr size_t kRejectsShown = 5;

// A file's rows, failing on any bad row: a backtest over quietly dropped rows would not be
// the market that happened.
Result<ParsedFile> ReadWhole(const std::string& path, const ReadOptions& options,
                             const char* what) {
  MarketFileReader reader(options);
  VIGIL_ASSIGN_OR_RETURN(ParsedFile parsed, reader.Read(path));
  if (!parsed.rejects.empty()) {
    std::string reasons;
    for (size_t i = 0; i < parsed.rejects.size() && i < kRejectsShown; ++i)
      reasons += "\n  " + parsed.rejects[i].ToString();
    return DataError(path + ": " + std::to_string(parsed.rejects.size()) + " bad " + what +
                     " rows; the backtest needs every one:" + reasons);
  }
  if (parsed.batches.size() != 1)
    return InvalidArgument(path + ": expected the " + what + " of one instrument, found " +
                           std::to_string(parsed.batches.size()) + " series");
  return parsed;
}

Result<FundingSeries> ReadFunding(const FundingInput& input) {
  ReadOptions options;
  options.kind = DataKind::kFunding;
  options.venue = "file";
  if (input.column != "rate") options.column_map["rate"] = input.column;
  VIGIL_ASSIGN_OR_RETURN(ParsedFile parsed, ReadWhole(input.path, options, "funding"));
  const Frame& frame = parsed.batches[0].frame;
  FundingSeries funding;
  funding.instrument = input.instrument;
  for (int64_t ts : frame.timestamps()) funding.time.emplace_back(ts);
  const std::span<const double> rate = frame.Doubles("rate");
  funding.rate.assign(rate.begin(), rate.end());
  return funding;
}

// Bars of a stored instrument (its smallest timeframe, or `timeframe`).
Result<BarSeries> StoredBars(Store& store, const std::string& instrument,
                             const std::string& timeframe) {
  const StreamKey candles{"", DataKind::kCandles};
  VIGIL_ASSIGN_OR_RETURN(LoadedStreams loaded,
                         LoadStreams(store, instrument, std::span<const StreamKey>(&candles, 1),
                                     timeframe, Timestamp::Max()));
  BarSeries bars;
  bars.instrument = instrument;
  bars.timeframe_ns = loaded.candle_step_ns;
  for (const Event& event : loaded.streams[0].events()) {
    bars.open_time.emplace_back(event.ts);
    bars.open.push_back(event.Field("open"));
    bars.high.push_back(event.Field("high"));
    bars.low.push_back(event.Field("low"));
    bars.close.push_back(event.Field("close"));
    bars.volume.push_back(event.Field("volume"));
  }
  if (bars.size() == 0) return NotFound(instrument + ": no candles stored");
  VIGIL_RETURN_IF_ERROR(bars.Validate());
  return bars;
}

// A stored instrument's funding rates (perpetuals), or none.
Result<std::optional<FundingSeries>> StoredFunding(Store& store, const std::string& instrument) {
  const StreamKey key{"", DataKind::kFunding};
  VIGIL_ASSIGN_OR_RETURN(
      LoadedStreams loaded,
      LoadStreams(store, instrument, std::span<const StreamKey>(&key, 1), "", Timestamp::Max()));
  const std::span<const Event> events = loaded.streams[0].events();
  if (events.empty()) return std::optional<FundingSeries>();
  FundingSeries funding;
  funding.instrument = instrument;
  for (const Event& event : events) {
    funding.time.emplace_back(event.ts);
    funding.rate.push_back(event.Field("rate"));
  }
  return std::optional<FundingSeries>(std::move(funding));
}

// The replayed data, and the candle files' batches (to store them for training).
struct LoadedData {
  std::vector<BarSeries> bars;
  std::vector<RecordBatch> batches;
  std::vector<FundingSeries> stored_funding;  // of store instruments that have rates stored
};

Result<LoadedData> LoadData(const BacktestJobConfig& config, Store* store) {
  LoadedData data;
  for (size_t i = 0; i < config.inputs.size(); ++i) {
    const std::string& path = config.inputs[i];
    ReadOptions options;
    options.kind = config.kind == "trades" ? DataKind::kTrades
                   : config.kind == "book" ? DataKind::kOrderBook
                                           : DataKind::kCandles;
    options.venue = config.venues.empty() ? config.venue : config.venues[i];
    options.symbol = config.symbol;
    VIGIL_ASSIGN_OR_RETURN(ParsedFile parsed, ReadWhole(path, options, config.kind.c_str()));
    Result<BarSeries> bars = options.kind == DataKind::kCandles
                                 ? BarSeriesFromBatch(parsed.batches[0])
                                 : TickSeriesFromBatch(parsed.batches[0]);
    if (!bars.ok()) return bars.status().WithContext(path);
    data.bars.push_back(std::move(*bars));
    data.batches.push_back(std::move(parsed.batches[0]));
  }
  for (const std::string& instrument : config.instruments) {
    if (store == nullptr) return FailedPrecondition("data.instruments: no store to read from");
    VIGIL_ASSIGN_OR_RETURN(BarSeries bars, StoredBars(*store, instrument, config.timeframe));
    data.bars.push_back(std::move(bars));
    VIGIL_ASSIGN_OR_RETURN(std::optional<FundingSeries> funding, StoredFunding(*store, instrument));
    if (funding) data.stored_funding.push_back(std::move(*funding));
  }
  return data;
}

// A scratch SQLite store holding the candle files, for the training code to read.
class ScratchStore {
 public:
  ~ScratchStore() {
    store_.reset();
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  Result<Store*> Open(const std::filesystem::path& parent, std::span<const RecordBatch> batches) {
    std::filesystem::path base = parent.empty() ? std::filesystem::temp_directory_path() : parent;
    std::string pattern = (base / "vigil-backtest-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      return IoError(base.string() + ": cannot create a scratch directory");
    dir_ = pattern;
    VIGIL_ASSIGN_OR_RETURN(store_, OpenStore("sqlite:" + (dir_ / "backtest.db").string()));
    const WriteUnit unit{"backtest inputs", batches, {}};
    VIGIL_RETURN_IF_ERROR(store_->Write(unit).status());
    return store_.get();
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

// The instruments the model scores: every replayed one, or venue A of an arbitrage (with B
// as the opportunity label's pair).
std::vector<std::string> ScoredInstruments(const BacktestJobConfig& config,
                                           const std::vector<BarSeries>& bars) {
  if (config.strategy == "arbitrage") return {bars.front().instrument};
  std::vector<std::string> names;
  for (const BarSeries& series : bars) names.push_back(series.instrument);
  return names;
}

Status ComputeSignals(const BacktestJobConfig& config, const BacktestEnvironment& environment,
                      const LoadedData& data, BacktestJobResult& out) {
  ScratchStore scratch;
  Store* store = environment.store;
  if (!config.inputs.empty()) {
    VIGIL_ASSIGN_OR_RETURN(store, scratch.Open(environment.scratch_dir, data.batches));
  }
  if (store == nullptr) return FailedPrecondition("model: no store to compute features from");
  const std::vector<std::string> scored = ScoredInstruments(config, data.bars);
  if (!config.registered.empty()) {
    if (environment.registry == nullptr)
      return FailedPrecondition("model.registered: no model registry");
    VIGIL_ASSIGN_OR_RETURN(RegisteredSignals registered,
                           ScoreRegisteredModel(*environment.registry, config.registered, *store,
                                                scored, config.timeframe));
    out.signals = std::move(registered.signals);
    out.model_note = registered.overlap_note;
    return Status::Ok();
  }
  VIGIL_ASSIGN_OR_RETURN(TrainingConfig training, LoadTrainingConfig(config.train_config));
  if (!config.inputs.empty()) {
    training.instruments = scored;
    training.timeframe.clear();
    if (config.strategy == "arbitrage") training.pair_instrument = data.bars[1].instrument;
  }
  Result<WalkForwardRun> run = RunWalkForward(training, *store, config.walk_forward);
  if (!run.ok()) return run.status().WithContext("model (" + config.train_config + ")");
  out.signals = run->signals;
  out.walk_forward = std::move(*run);
  return Status::Ok();
}

Result<BacktestResult> Replay(const std::vector<BarSeries>& bars, const std::string& name,
                              const StrategyParams& params, const StrategyInputs& inputs,
                              const BacktestOptions& options, double* seconds) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Strategy> strategy, MakeStrategy(name, params, inputs));
  const auto start = std::chrono::steady_clock::now();
  Result<BacktestResult> result = RunBacktest(bars, *strategy, options);
  if (seconds != nullptr)
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

// The strategies' parameters, checked before any data is read or model trained.
Status CheckStrategies(const BacktestJobConfig& config) {
  const ModelSignals placeholder;
  const StrategyInputs inputs{std::span<const ModelSignals>(&placeholder, 1)};
  VIGIL_RETURN_IF_ERROR(MakeStrategy(config.strategy, config.params, inputs).status());
  if (config.baseline.empty()) return Status::Ok();
  return MakeStrategy(config.baseline, config.baseline_params).status().WithContext("baseline");
}

}  // namespace

Result<BacktestJobResult> RunBacktestJob(const BacktestJobConfig& config,
                                         const BacktestEnvironment& environment) {
  VIGIL_RETURN_IF_ERROR(config.Validate());
  VIGIL_RETURN_IF_ERROR(CheckStrategies(config));
  VIGIL_ASSIGN_OR_RETURN(LoadedData data, LoadData(config, environment.store));
  BacktestOptions options = config.options;
  // Rates stored with a perpetual settle unless a funding file is given for it.
  for (FundingSeries& stored : data.stored_funding) {
    bool given = false;
    for (const FundingInput& input : config.funding)
      given = given || input.instrument == stored.instrument;
    if (!given) options.funding.push_back(std::move(stored));
  }
  for (const FundingInput& input : config.funding) {
    Result<FundingSeries> funding = ReadFunding(input);
    if (!funding.ok()) return funding.status().WithContext("data.funding");
    if (funding->instrument.empty()) funding->instrument = data.bars.front().instrument;
    options.funding.push_back(std::move(*funding));
  }
  BacktestJobResult out;
  if (NeedsSignals(config.strategy)) {
    VIGIL_RETURN_IF_ERROR(ComputeSignals(config, environment, data, out));
  }
  out.bars = std::move(data.bars);
  VIGIL_ASSIGN_OR_RETURN(out.result, Replay(out.bars, config.strategy, config.params, {out.signals},
                                            options, &out.seconds));
  if (!config.baseline.empty()) {
    Result<BacktestResult> baseline =
        Replay(out.bars, config.baseline, config.baseline_params, {}, options, nullptr);
    if (!baseline.ok()) return baseline.status().WithContext("baseline");
    VIGIL_ASSIGN_OR_RETURN(out.comparison,
                           CompareSharpe(out.result, *baseline, options.initial_capital,
                                         options.risk_free_rate, config.bootstrap));
    out.baseline = std::move(*baseline);
  }
  return out;
}

}  // namespace vigil
