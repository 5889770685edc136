// vigil backtest --input CANDLES.csv --strategy NAME [--params k=v,...] [--fee-bps X]
//   [--slippage fixed:BPS|linear:K|sqrt:K] [--initial-capital C] [--latency D] [--json]
// Replays a candle file through a built-in strategy on the simulated venue and prints its
// performance (docs/backtesting.md). Bad candle rows fail the run, each named by file, line
// and field: a backtest over quietly dropped bars would not be the market that happened.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "vigil/backtest/engine.h"
#include "vigil/backtest/strategies.h"
#include "vigil/data/reader.h"

namespace vigil::cli {
namespace {

struct BacktestArgs {
  std::string input, strategy, params, slippage = "fixed:0", latency, venue = "file";
  double fee_bps = 5.0;
  double initial_capital = 10'000.0;
};

constexpr size_t kRejectsShown = 5;

Result<BarSeries> ReadCandles(const BacktestArgs& args) {
  ReadOptions options;
  options.kind = DataKind::kCandles;
  options.venue = args.venue;
  MarketFileReader reader(options);
  VIGIL_ASSIGN_OR_RETURN(ParsedFile parsed, reader.Read(args.input));
  if (!parsed.rejects.empty()) {
    std::string reasons;
    for (size_t i = 0; i < parsed.rejects.size() && i < kRejectsShown; ++i)
      reasons += "\n  " + parsed.rejects[i].ToString();
    return DataError(args.input + ": " + std::to_string(parsed.rejects.size()) +
                     " bad candle rows; the backtest needs every bar:" + reasons);
  }
  if (parsed.batches.size() != 1)
    return InvalidArgument(args.input + ": expected the candles of one instrument, found " +
                           std::to_string(parsed.batches.size()) + " series");
  return BarSeriesFromBatch(parsed.batches[0]);
}

Result<BacktestOptions> MakeOptions(const BacktestArgs& args) {
  BacktestOptions options;
  options.initial_capital = args.initial_capital;
  options.fees = {args.fee_bps, args.fee_bps};
  VIGIL_ASSIGN_OR_RETURN(options.slippage, SlippageModel::Parse(args.slippage));
  if (!args.latency.empty()) {
    Result<int64_t> latency = ParseDuration(args.latency);
    if (!latency.ok()) return InvalidArgument("--latency: " + latency.status().message());
    options.latency_ns = *latency;
  }
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

void PrintJsonSummary(const BacktestResult& result, double seconds) {
  const PerformanceMetrics& m = result.metrics;
  nlohmann::ordered_json out;
  out["total_return"] = JsonNumber(m.total_return);
  out["cagr"] = JsonNumber(m.cagr);
  out["volatility"] = JsonNumber(m.volatility);
  out["sharpe"] = JsonNumber(m.sharpe);
  out["sortino"] = JsonNumber(m.sortino);
  out["calmar"] = JsonNumber(m.calmar);
  out["max_drawdown"] = JsonNumber(m.max_drawdown);
  out["win_rate"] = JsonNumber(m.win_rate);
  out["profit_factor"] = JsonNumber(m.profit_factor);
  out["trades"] = m.trades;
  out["exposure"] = JsonNumber(m.exposure);
  out["turnover"] = JsonNumber(m.turnover);
  out["fees_paid"] = JsonNumber(m.fees_paid);
  out["events"] = result.events;
  out["events_per_second"] = JsonNumber(static_cast<double>(result.events) / seconds);
  PrintJson(out);
}

void PrintTable(const BacktestArgs& args, const BarSeries& bars, const BacktestResult& result,
                double seconds) {
  const PerformanceMetrics& m = result.metrics;
  std::printf("%s on %s: %zu bars, %s .. %s\n", args.strategy.c_str(), bars.instrument.c_str(),
              bars.size(), bars.open_time.front().ToIso().c_str(),
              bars.close_time(bars.size() - 1).ToIso().c_str());
  std::printf("  %-22s %14.6f\n  %-22s %14.6f\n  %-22s %14.6f\n", "total return", m.total_return,
              "CAGR", m.cagr, "volatility (annual)", m.volatility);
  std::printf("  %-22s %14.4f\n  %-22s %14.4f\n  %-22s %14.4f\n", "Sharpe", m.sharpe, "Sortino",
              m.sortino, "Calmar", m.calmar);
  std::printf("  %-22s %14.6f\n  %-22s %14.1f h\n", "max drawdown", m.max_drawdown,
              "max drawdown duration",
              static_cast<double>(m.max_drawdown_duration_ns) / kNanosPerHour);
  std::printf("  %-22s %14lld\n  %-22s %14.4f\n  %-22s %14.4f\n  %-22s %14.6f\n", "round trips",
              static_cast<long long>(m.trades), "win rate", m.win_rate, "profit factor",
              m.profit_factor, "average trade", m.average_trade);
  std::printf("  %-22s %14.4f\n  %-22s %14.4f\n  %-22s %14.4f\n  %-22s %14.4f\n", "exposure",
              m.exposure, "turnover", m.turnover, "fees paid", m.fees_paid, "slippage paid",
              m.slippage_paid);
  std::printf("  %-22s %14.4f\n  fills %zu, rejected orders %lld, %lld events in %.4f s\n",
              "final equity", result.equity.back(), result.fills.size(),
              static_cast<long long>(result.rejected_orders), static_cast<long long>(result.events),
              seconds);
}

Status RunBacktestCommand(const GlobalOptions& globals, const BacktestArgs& args) {
  VIGIL_ASSIGN_OR_RETURN(BacktestOptions options, MakeOptions(args));
  VIGIL_ASSIGN_OR_RETURN(StrategyParams params, ParseStrategyParams(args.params));
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Strategy> strategy, MakeStrategy(args.strategy, params));
  VIGIL_ASSIGN_OR_RETURN(BarSeries bars, ReadCandles(args));
  const auto start = std::chrono::steady_clock::now();
  VIGIL_ASSIGN_OR_RETURN(BacktestResult result,
                         RunBacktest(std::span<const BarSeries>(&bars, 1), *strategy, options));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (globals.json) {
    PrintJsonSummary(result, seconds);
  } else {
    PrintTable(args, bars, result, seconds);
  }
  return Status::Ok();
}

}  // namespace

void AddBacktestCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<BacktestArgs>();
  CLI::App* cmd = app.add_subcommand(
      "backtest", "Replay candles through a strategy on a simulated venue with fees and slippage");
  cmd->add_option("--input", args->input, "Candle file (CSV, freqtrade JSON, ...)")->required();
  cmd->add_option("--strategy", args->strategy, "buy_hold|sma_cross")->required();
  cmd->add_option("--params", args->params, "Strategy parameters k=v,... (sma_cross: fast, slow)");
  cmd->add_option("--fee-bps", args->fee_bps,
                  "Fee per fill in basis points of notional (default 5)");
  cmd->add_option(
      "--slippage", args->slippage,
      "fixed:BPS | linear:K (x participation of bar volume) | sqrt:K (default fixed:0)");
  cmd->add_option("--initial-capital", args->initial_capital, "Starting cash (default 10000)");
  cmd->add_option("--latency", args->latency,
                  "Decision to venue, e.g. 200ms (default 0: fills at the next bar's open)");
  cmd->add_option("--venue", args->venue,
                  "Venue of the --input instrument when the file does not say (default file)");
  cmd->callback([&globals, args, exit_code] {
    const Status status = RunBacktestCommand(globals, *args);
    *exit_code = status.ok() ? 0 : Fail(status);
  });
}

}  // namespace vigil::cli
