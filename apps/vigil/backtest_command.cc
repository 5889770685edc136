// vigil backtest (--config FILE.yaml | --input CANDLES.csv --strategy NAME [--params k=v,...])
//   [--fee-bps X] [--slippage fixed:BPS|linear:K|sqrt:K] [--initial-capital C] [--report FILE.html]
//   [--json] [--latency D] [--venue V] [--symbol S] [--kind candles|trades|book] [--train
//   TRAIN.yaml | --model NAME@ALIAS] [--train-days N]
//   [--step-days N] [--cache DIR] [--reuse] [--baseline NAME] [--leverage L] [--allow-short]
//   [--risk k=v,...] [--gas G] [--funding FILE [--funding-column C]]
// Replays candles through a strategy on the simulated venue and prints its performance
// (docs/backtesting.md). The flags given override the config file's settings. Bad candle
// rows fail the run, each named by file, line and field.
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.h"
#include "vigil/backtest/job.h"
#include "vigil/backtest/report.h"

namespace vigil::cli {
namespace {

struct BacktestArgs {
  std::string config, strategy, params, slippage, latency, report, kind, symbol;
  std::vector<std::string> inputs, venues;  // --input and --venue, repeatable
  std::string train, model, cache, baseline, risk, funding, funding_column = "rate";
  double fee_bps = 0.0, initial_capital = 0.0, train_days = 0.0, step_days = 0.0;
  double leverage = 1.0, gas = 0.0;
  bool reuse = false, allow_short = false;
  const CLI::App* command = nullptr;
  bool given(const char* flag) const { return command->count(flag) > 0; }
};

// --risk max_drawdown=0.2,daily_loss_limit=0.05,max_gross_exposure=1,max_position_fraction=1
Status ApplyRiskFlag(const std::string& text, RiskLimits& limits) {
  VIGIL_ASSIGN_OR_RETURN(StrategyParams entries, ParseStrategyParams(text));
  for (const auto& [key, value] : entries) {
    double* target = key == "max_drawdown"            ? &limits.max_drawdown
                     : key == "daily_loss_limit"      ? &limits.daily_loss_limit
                     : key == "max_gross_exposure"    ? &limits.max_gross_exposure
                     : key == "max_position_fraction" ? &limits.max_position_fraction
                                                      : nullptr;
    if (target == nullptr)
      return InvalidArgument("--risk: unknown limit '" + key +
                             "' (max_drawdown, daily_loss_limit, max_gross_exposure, "
                             "max_position_fraction)");
    try {
      size_t used = 0;
      *target = std::stod(value, &used);
      if (used != value.size()) throw std::invalid_argument(value);
    } catch (const std::exception&) {
      return InvalidArgument("--risk: " + key + "=" + value + ": not a number");
    }
  }
  return limits.Validate().WithContext("--risk");
}

// The flags that set the account, its risk limits and its costs beyond fees and slippage.
Status ApplyAccountFlags(const BacktestArgs& args, BacktestJobConfig& job) {
  if (args.given("--leverage")) job.options.max_leverage = args.leverage;
  if (args.given("--allow-short")) job.options.allow_short = args.allow_short;
  if (args.given("--risk")) VIGIL_RETURN_IF_ERROR(ApplyRiskFlag(args.risk, job.options.risk));
  if (args.given("--gas") || args.given("--funding")) {
    if (job.inputs.size() != 1)
      return InvalidArgument("--gas/--funding: apply to one --input; use the config for more");
  }
  if (args.given("--gas"))
    job.options.gas_per_fill[job.venues.empty() ? job.venue : job.venues[0]] = args.gas;
  if (args.given("--funding")) job.funding.push_back({"", args.funding, args.funding_column});
  return Status::Ok();
}

// The job from the config file or the flags, the flags given overriding the file.
Result<BacktestJobConfig> MakeJob(const BacktestArgs& args) {
  BacktestJobConfig job;
  if (!args.config.empty()) {
    if (args.given("--input") || args.given("--strategy") || args.given("--params"))
      return InvalidArgument("--config: give either --config or --input/--strategy/--params");
    VIGIL_ASSIGN_OR_RETURN(job, LoadBacktestConfig(args.config));
  } else {
    if (args.inputs.empty() || args.strategy.empty())
      return InvalidArgument("backtest: give --config FILE.yaml, or --input and --strategy");
    job.inputs = args.inputs;
    job.strategy = args.strategy;
    VIGIL_ASSIGN_OR_RETURN(job.params, ParseStrategyParams(args.params));
    job.options.fees = {5.0, 5.0};
  }
  if (args.given("--fee-bps")) job.options.fees = {args.fee_bps, args.fee_bps};
  if (args.given("--slippage")) {
    VIGIL_ASSIGN_OR_RETURN(job.options.slippage, SlippageModel::Parse(args.slippage));
  }
  if (args.given("--initial-capital")) job.options.initial_capital = args.initial_capital;
  if (args.given("--latency")) {
    Result<int64_t> latency = ParseDuration(args.latency);
    if (!latency.ok()) return InvalidArgument("--latency: " + latency.status().message());
    job.options.latency_ns = *latency;
  }
  if (args.venues.size() == 1) {
    job.venue = args.venues[0];
  } else if (!args.venues.empty()) {
    if (args.venues.size() != job.inputs.size())
      return InvalidArgument("--venue: give one, or one per --input");
    job.venues = args.venues;
  }
  if (args.given("--kind")) job.kind = args.kind;
  if (args.given("--symbol")) job.symbol = args.symbol;
  if (args.given("--report")) job.report = args.report;
  if (args.given("--train")) job.train_config = args.train;
  if (args.given("--model")) job.registered = args.model;
  if (args.given("--train-days"))
    job.walk_forward.train_ns = std::llround(args.train_days * kNanosPerDay);
  if (args.given("--step-days"))
    job.walk_forward.step_ns = std::llround(args.step_days * kNanosPerDay);
  if (args.given("--cache")) job.walk_forward.cache_dir = args.cache;
  if (args.reuse) job.walk_forward.reuse = true;
  if (args.given("--baseline")) job.baseline = args.baseline;
  VIGIL_RETURN_IF_ERROR(ApplyAccountFlags(args, job));
  VIGIL_RETURN_IF_ERROR(job.Validate());
  return job;
}

void PrintJsonSummary(const BacktestJobResult& job) {
  nlohmann::ordered_json out = MetricsJson(job.result.metrics);
  out["events"] = job.result.events;
  out["events_per_second"] = JsonNumber(static_cast<double>(job.result.events) / job.seconds);
  PrintJson(out);
}

void PrintRow(const char* name, double value, const char* format = "%14.6f") {
  std::printf("  %-22s ", name);
  std::printf(format, value);
  std::printf("\n");
}

void PrintMetrics(const PerformanceMetrics& m) {
  PrintRow("total return", m.total_return);
  PrintRow("CAGR", m.cagr);
  PrintRow("volatility (annual)", m.volatility);
  PrintRow("Sharpe", m.sharpe, "%14.4f");
  PrintRow("Sortino", m.sortino, "%14.4f");
  PrintRow("Calmar", m.calmar, "%14.4f");
  PrintRow("max drawdown", m.max_drawdown);
  PrintRow("max drawdown duration", static_cast<double>(m.max_drawdown_duration_ns) / kNanosPerHour,
           "%14.1f h");
  PrintRow("round trips", static_cast<double>(m.trades), "%14.0f");
  PrintRow("win rate", m.win_rate, "%14.4f");
  PrintRow("profit factor", m.profit_factor, "%14.4f");
  PrintRow("average trade", m.average_trade);
  PrintRow("exposure", m.exposure, "%14.4f");
  PrintRow("turnover", m.turnover, "%14.4f");
  PrintRow("fees paid", m.fees_paid, "%14.4f");
  PrintRow("slippage paid", m.slippage_paid, "%14.4f");
}

void PrintTable(const BacktestJobConfig& config, const BacktestJobResult& job) {
  const BacktestResult& result = job.result;
  const BarSeries& first = job.bars.front();
  std::printf("%s on %s%s: %zu bars, %s .. %s\n", config.strategy.c_str(), first.instrument.c_str(),
              job.bars.size() > 1 ? " (and others)" : "", first.size(),
              first.open_time.front().ToIso().c_str(),
              first.close_time(first.size() - 1).ToIso().c_str());
  if (job.walk_forward) {
    int fitted = 0;
    for (const WalkForwardWindow& window : job.walk_forward->windows) fitted += window.fitted;
    std::printf("  model: %s, %zu walk-forward windows (%d fitted)%s, %.2f s fitting\n",
                job.walk_forward->model_kind.c_str(), job.walk_forward->windows.size(), fitted,
                job.walk_forward->reused ? ", reused from the cache" : "",
                job.walk_forward->fit_seconds);
  }
  if (!job.model_note.empty()) std::printf("  note: %s\n", job.model_note.c_str());
  PrintMetrics(result.metrics);
  PrintRow("funding paid", result.funding_paid, "%14.4f");
  PrintRow("gas paid", result.gas_paid, "%14.4f");
  PrintRow("final equity", result.equity.back(), "%14.4f");
  std::printf("  fills %zu, rejected orders %lld, liquidations %lld, risk %s%s%s\n",
              result.fills.size(), static_cast<long long>(result.rejected_orders),
              static_cast<long long>(result.liquidations), result.risk_state.c_str(),
              result.risk_reason.empty() ? "" : ": ", result.risk_reason.c_str());
  std::printf("  %lld events in %.4f s\n", static_cast<long long>(result.events), job.seconds);
  if (job.comparison) {
    const SharpeComparison& c = *job.comparison;
    std::printf("  vs %s: Sharpe %.4f vs %.4f, difference %.4f, %.0f%% CI [%.4f, %.4f], p = %.4f\n",
                config.baseline.c_str(), c.sharpe_strategy, c.sharpe_baseline, c.difference,
                100.0 * c.confidence, c.lower, c.upper, c.p_value);
  }
}

Status WriteJobReport(const BacktestJobConfig& config, const BacktestJobResult& job) {
  ReportInput input;
  input.title = config.strategy + " on " + job.bars.front().instrument;
  input.result = &job.result;
  input.initial_capital = config.options.initial_capital;
  input.prices = &job.bars.front();
  if (job.baseline) {
    input.baseline = &*job.baseline;
    input.baseline_name = config.baseline;
  }
  input.settings = {
      {"strategy", config.strategy},
      {"fees (maker/taker bps)", std::to_string(config.options.fees.maker_bps) + " / " +
                                     std::to_string(config.options.fees.taker_bps)},
      {"slippage", config.options.slippage.ToString()}};
  for (const auto& [key, value] : config.params) input.settings.emplace_back("param " + key, value);
  if (job.comparison) input.extra["comparison"] = ToJson(*job.comparison);
  std::filesystem::path json_path = config.report;
  json_path.replace_extension(".json");
  return WriteReport(input, config.report, json_path);
}

Status RunBacktestCommand(const GlobalOptions& globals, const BacktestArgs& args) {
  VIGIL_ASSIGN_OR_RETURN(BacktestJobConfig config, MakeJob(args));
  std::unique_ptr<Store> store;
  std::optional<ModelRegistry> registry;
  BacktestEnvironment environment;
  if (!config.instruments.empty()) {
    VIGIL_ASSIGN_OR_RETURN(store, OpenHomeStore(globals));
    environment.store = store.get();
  }
  if (!config.registered.empty()) {
    VIGIL_ASSIGN_OR_RETURN(registry, OpenHomeRegistry(globals));
    environment.registry = &*registry;
  }
  VIGIL_ASSIGN_OR_RETURN(BacktestJobResult job, RunBacktestJob(config, environment));
  if (!config.report.empty()) VIGIL_RETURN_IF_ERROR(WriteJobReport(config, job));
  if (globals.json) {
    PrintJsonSummary(job);
  } else {
    PrintTable(config, job);
  }
  return Status::Ok();
}

}  // namespace

void AddBacktestCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<BacktestArgs>();
  CLI::App* cmd = app.add_subcommand(
      "backtest", "Replay candles through a strategy on a simulated venue with fees and slippage");
  args->command = cmd;
  cmd->add_option("--config", args->config, "Backtest config YAML (docs/backtesting.md)");
  cmd->add_option("--input", args->inputs,
                  "Candle file (CSV, freqtrade JSON, ...); repeat for more instruments or venues");
  cmd->add_option("--strategy", args->strategy, "buy_hold|sma_cross|ml_threshold|arbitrage");
  cmd->add_option("--params", args->params, "Strategy parameters k=v,... (docs/backtesting.md)");
  cmd->add_option("--fee-bps", args->fee_bps,
                  "Fee per fill in basis points of notional (default 5)");
  cmd->add_option(
      "--slippage", args->slippage,
      "fixed:BPS | linear:K (x participation of bar volume) | sqrt:K (default fixed:0)");
  cmd->add_option("--initial-capital", args->initial_capital, "Starting cash (default 10000)");
  cmd->add_option("--report", args->report, "Write the HTML report here (and .json next to it)");
  cmd->add_option("--latency", args->latency,
                  "Decision to venue, e.g. 200ms (default 0: fills at the next bar's open)");
  cmd->add_option("--venue", args->venues,
                  "Venue of the --input instruments when the files do not say (default file); "
                  "one, or one per --input");
  cmd->add_option("--kind", args->kind,
                  "What --input holds: candles (default), trades or book (replayed tick by tick)");
  cmd->add_option("--symbol", args->symbol,
                  "Symbol of the --input instrument when the file does not say");
  cmd->add_option("--train", args->train,
                  "ml_threshold/arbitrage: a training config to retrain walk-forward");
  cmd->add_option("--model", args->model, "ml_threshold/arbitrage: a registered model NAME@ALIAS");
  cmd->add_option("--train-days", args->train_days, "Walk-forward training window (default 30)");
  cmd->add_option("--step-days", args->step_days, "Walk-forward trading step (default 7)");
  cmd->add_option("--cache", args->cache, "Save the walk-forward models and signals here");
  cmd->add_flag("--reuse", args->reuse, "Reuse the signals saved in --cache instead of retraining");
  cmd->add_option("--leverage", args->leverage,
                  "Most gross position value / equity (default 1: unlevered); > 1 is a margin "
                  "account with liquidations");
  cmd->add_flag("--allow-short", args->allow_short, "Allow short positions (a margin account)");
  cmd->add_option("--risk", args->risk,
                  "Risk limits k=v,...: max_drawdown, daily_loss_limit, max_gross_exposure, "
                  "max_position_fraction");
  cmd->add_option("--gas", args->gas, "Gas per fill of the --input venue (quote currency)");
  cmd->add_option("--funding", args->funding, "Funding-rate file of the --input perpetual");
  cmd->add_option("--funding-column", args->funding_column,
                  "Its rate column (default rate; open for freqtrade's rate candles)");
  cmd->add_option("--baseline", args->baseline,
                  "Also run this strategy (buy_hold, sma_cross) and compare Sharpe ratios");
  cmd->callback([&globals, args, exit_code] {
    const Status status = RunBacktestCommand(globals, *args);
    *exit_code = status.ok() ? 0 : Fail(status);
  });
}

}  // namespace vigil::cli
