// A whole backtest as `vigil backtest` runs it: the config (a YAML file, or the command line's
// flags), the data (candle files, or instruments of the store), the model behind a signal
// strategy (retrained walk-forward inside the backtest, or a registered version), the run,
// an optional baseline on the same data and costs with the bootstrap interval of the Sharpe
// difference, and the report. docs/backtesting.md is the user's reference.
//
//   strategy: ml_threshold
//   params: {enter: 0.55, exit: 0.5, sizing: kelly, kelly_cap: 0.5, max_disagreement: 0.1}
//   data:
//     inputs: [../shared/data/candles/ETH_BTC-5m.csv]   # or instruments: [...] from the store
//     kind: candles                # or trades / book: replayed tick by tick (bar_series.h)
//     venue: file                  # venue of the files' instruments when they do not say
//     venues: [cex, dex]           # or one per input (an arbitrage's two venues)
//     funding: [{instrument: file:XRP/USDT, input: funding.csv, column: rate}]
//                                  # (store instruments settle their stored rates by default)
//   costs:
//     fee_bps: 10                  # or maker_bps / taker_bps
//     slippage: fixed:5
//     latency: 0s
//     venues: {dex: {maker_bps: 30, taker_bps: 30, gas: 5}}
//   account: {initial_capital: 10000, max_leverage: 1, allow_short: false,
//             maintenance_margin: 0.005, liquidation_fee_bps: 50}
//   risk: {max_drawdown: 0.3, daily_loss_limit: 0.1, max_gross_exposure: 1,
//          max_position_fraction: 1}
//   model:                         # ml_threshold and arbitrage
//     train: direction.yaml        # a `vigil train` config; its data.instruments are replaced
//                                  # by the replayed ones when the data comes from files
//     train_days: 30
//     step_days: 7
//     ensemble: 1
//     cache: wf-cache              # saved models and signals, for --reuse
//     # registered: eth_direction@production   (instead of train)
//   baseline: buy_hold             # optional; with `baseline_params`
//   bootstrap: {resamples: 2000, confidence: 0.95, block: 0, seed: 7}
//   report: report.html            # also writes report.json next to it
//
// Errors name the place: "<file>:<line>: <key>: <problem>".
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/backtest/compare.h"
#include "vigil/backtest/engine.h"
#include "vigil/backtest/strategies.h"
#include "vigil/backtest/walk_forward.h"
#include "vigil/core/status.h"
#include "vigil/registry/registry.h"
#include "vigil/store/store.h"

namespace vigil {

struct FundingInput {
  std::string instrument;       // a replayed instrument
  std::string path;             // a funding-rate file (data/reader.h kFunding)
  std::string column = "rate";  // the file's rate column ("open" in freqtrade's rate candles)
};

struct BacktestJobConfig {
  std::string strategy;
  StrategyParams params;
  // The data: candle files (one instrument each), or instruments of the store.
  std::vector<std::string> inputs;
  std::string kind = "candles";  // of the input files: candles, trades or book (ticks)
  std::string venue = "file";
  std::string symbol;               // of the input files when neither their content nor name says
  std::vector<std::string> venues;  // per input, overriding `venue` (two venues of an arbitrage)
  std::vector<std::string> instruments;
  std::string timeframe;  // store instruments: "" = the smallest stored
  std::vector<FundingInput> funding;
  BacktestOptions options;
  // The model of a signal strategy.
  std::string train_config;  // path of a training config, or ""
  std::string registered;    // "name@alias", or ""
  WalkForwardBacktestOptions walk_forward;
  // The comparison.
  std::string baseline;
  StrategyParams baseline_params;
  BootstrapOptions bootstrap;
  std::string report;  // HTML path, or ""

  std::filesystem::path source;  // the YAML file ("" from flags)
  Status Validate() const;       // cross-field checks, InvalidArgument naming the key
};

Result<BacktestJobConfig> ParseBacktestConfig(std::string_view yaml_text, std::string_view source,
                                              const std::filesystem::path& base_dir);
Result<BacktestJobConfig> LoadBacktestConfig(const std::filesystem::path& path);

// What a job needs from outside: the store (for store instruments; also where file data is
// loaded for walk-forward training when no scratch store is given) and the registry (for a
// registered model). Either may be null when the config does not need it.
struct BacktestEnvironment {
  Store* store = nullptr;
  const ModelRegistry* registry = nullptr;
  std::filesystem::path scratch_dir;  // for the scratch store of file data ("" = a temp dir)
};

struct BacktestJobResult {
  std::vector<BarSeries> bars;
  std::vector<ModelSignals> signals;  // the strategy's signals (signal strategies)
  std::optional<WalkForwardRun> walk_forward;
  std::string model_note;  // e.g. a registered model trained on the backtest's period
  BacktestResult result;
  double seconds = 0.0;  // the replay alone
  std::optional<BacktestResult> baseline;
  std::optional<SharpeComparison> comparison;
};

Result<BacktestJobResult> RunBacktestJob(const BacktestJobConfig& config,
                                         const BacktestEnvironment& environment);

}  // namespace vigil
