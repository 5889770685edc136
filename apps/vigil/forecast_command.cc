// vigil forecast (--input FILE.csv [--column NAME] | --instrument I --field F [--timeframe TF]
//                 [--from T] [--to T] [--every D]) [--transform none|log|log_return|pct_return]
//                 --model arima|auto_arima|garch [model options] --horizon H [--level 80,95]
//                 [--evaluate [--origins N] [--refit-every K] [--min-train N]] [--json]
//
// Fits the model to the series and prints the fit and an H-step forecast (--json: the
// contract objects of forecast_output.h). --evaluate instead runs a rolling-origin evaluation
// of the model against the naive and drift baselines (rolling_origin.h). Exit 0 on success,
// 2 on any failure (bad options, unreadable or bad input, a fit that fails).
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli.h"
#include "forecast_output.h"
#include "vigil/models/forecast/auto_arima.h"

namespace vigil::cli {
namespace {

struct ForecastArgs {
  std::string input;
  std::string column;
  std::string instrument;
  std::string field;
  std::string timeframe;
  std::string from;
  std::string to;
  std::string every;
  std::string transform = "none";
  std::string model;
  std::string order = "1,0,0";
  std::string method = "css-ml";
  bool no_constant = false;
  std::string spec = "garch";
  std::string dist = "normal";
  std::string mean = "constant";
  int horizon = 0;
  std::string levels = "80,95";
  bool evaluate = false;
  int origins = 20;
  int refit_every = 1;
  int min_train = 20;
  // Which model options were given, so options of another model are refused.
  bool arima_options_given = false;
  bool order_or_method_given = false;
  bool garch_options_given = false;
  bool evaluation_options_given = false;
};

Result<ArimaOrder> ParseOrder(const std::string& text) {
  ArimaOrder order;
  char comma1 = 0, comma2 = 0;
  std::istringstream in(text);
  if (!(in >> order.p >> comma1 >> order.d >> comma2 >> order.q) || comma1 != ',' ||
      comma2 != ',' || !in.eof() || order.p < 0 || order.d < 0 || order.q < 0) {
    return InvalidArgument("--order: expected p,d,q (three non-negative integers), got '" + text +
                           "'");
  }
  return order;
}

// "80,95" or "0.8,0.95" -> {0.8, 0.95}.
Result<std::vector<double>> ParseLevels(const std::string& text) {
  std::vector<double> levels;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    double level = std::strtod(item.c_str(), &end);
    if (level >= 1.0) level /= 100.0;
    if (item.empty() || *end != '\0' || !(level > 0.0 && level < 1.0)) {
      return InvalidArgument("--level: '" + item + "' is not a level such as 80 or 0.95");
    }
    levels.push_back(level);
  }
  if (levels.empty()) return InvalidArgument("--level: name at least one level");
  return levels;
}

Result<ForecastSeries> LoadSeries(const GlobalOptions& globals, const ForecastArgs& args) {
  if (args.input.empty() == args.instrument.empty()) {
    return InvalidArgument("give exactly one of --input FILE.csv or --instrument I --field F");
  }
  VIGIL_ASSIGN_OR_RETURN(SeriesTransform transform, ParseSeriesTransform(args.transform));
  if (!args.input.empty()) {
    if (!args.field.empty() || !args.every.empty() || !args.from.empty() || !args.to.empty()) {
      return InvalidArgument("--field, --every, --from and --to apply to --instrument only");
    }
    VIGIL_ASSIGN_OR_RETURN(ForecastSeries series, ReadSeriesCsv(args.input, args.column));
    return ApplyTransform(series, transform);
  }
  if (args.field.empty()) return InvalidArgument("--instrument needs --field (e.g. close)");
  if (!args.column.empty()) return InvalidArgument("--column applies to --input only");
  StoreSeriesSpec spec;
  spec.instrument = args.instrument;
  spec.field = args.field;
  spec.timeframe = args.timeframe;
  spec.transform = transform;
  VIGIL_ASSIGN_OR_RETURN(spec.from, ParseTimeBound(args.from, Timestamp::Min()));
  VIGIL_ASSIGN_OR_RETURN(spec.to, ParseTimeBound(args.to, Timestamp::Max()));
  if (!args.every.empty()) {
    Result<int64_t> every = ParseDuration(args.every);
    if (!every.ok() || *every <= 0) {
      return InvalidArgument("--every: '" + args.every + "' is not a duration such as 1h");
    }
    spec.every_ns = *every;
  }
  VIGIL_RETURN_IF_ERROR(spec.Validate().WithContext("--instrument/--field"));
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenHomeStore(globals));
  return LoadStoreSeries(*store, spec);
}

Status CheckModelOptions(const ForecastArgs& args) {
  if (args.model != "arima" && args.model != "auto_arima" && args.model != "garch") {
    return InvalidArgument("--model: expected arima, auto_arima or garch, got '" + args.model +
                           "'");
  }
  if (args.horizon < 1) return InvalidArgument("--horizon: must be >= 1");
  if (args.model == "garch" && args.arima_options_given) {
    return InvalidArgument("--order, --method and --no-constant apply to arima and auto_arima");
  }
  if (args.model != "garch" && args.garch_options_given) {
    return InvalidArgument("--spec, --dist and --mean apply to garch");
  }
  if (args.model == "auto_arima" && args.order_or_method_given) {
    return InvalidArgument(
        "auto_arima chooses the order and fits by css-ml; --order and --method apply to arima");
  }
  if (!args.evaluate && args.evaluation_options_given) {
    return InvalidArgument("--origins, --refit-every and --min-train need --evaluate");
  }
  return Status::Ok();
}

Result<ArimaOptions> ArimaOptionsOf(const ForecastArgs& args) {
  ArimaOptions options;
  VIGIL_ASSIGN_OR_RETURN(options.order, ParseOrder(args.order));
  Result<ArimaMethod> method = ParseArimaMethod(args.method);
  if (!method.ok()) return method.status().WithContext("--method");
  options.method = *method;
  options.include_constant = !args.no_constant;
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

Result<GarchOptions> GarchOptionsOf(const ForecastArgs& args) {
  GarchOptions options;
  VIGIL_ASSIGN_OR_RETURN(options.spec, ParseGarchSpec(args.spec));
  VIGIL_ASSIGN_OR_RETURN(options.distribution, ParseGarchDistribution(args.dist));
  VIGIL_ASSIGN_OR_RETURN(options.mean, ParseGarchMean(args.mean));
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

// The model kind's configuration (forecast_kinds.cc), for the rolling-origin evaluation.
Result<nlohmann::json> KindConfig(const ForecastArgs& args) {
  if (args.model == "arima") {
    VIGIL_ASSIGN_OR_RETURN(ArimaOptions o, ArimaOptionsOf(args));
    return nlohmann::json{{"order", {o.order.p, o.order.d, o.order.q}},
                          {"method", ArimaMethodName(o.method)},
                          {"include_constant", o.include_constant}};
  }
  if (args.model == "auto_arima") {
    return nlohmann::json{{"allow_drift", !args.no_constant}, {"allow_mean", !args.no_constant}};
  }
  VIGIL_RETURN_IF_ERROR(GarchOptionsOf(args).status());
  return nlohmann::json{{"spec", args.spec}, {"dist", args.dist}, {"mean", args.mean}};
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Result<ArimaRun> RunArima(const ForecastArgs& args, const ForecastSeries& series,
                          std::span<const double> levels) {
  ArimaRun run;
  run.model = args.model;
  const auto start = std::chrono::steady_clock::now();
  if (args.model == "arima") {
    VIGIL_ASSIGN_OR_RETURN(ArimaOptions options, ArimaOptionsOf(args));
    VIGIL_ASSIGN_OR_RETURN(run.fitted, ArimaModel::Fit(series.values, options));
  } else {
    AutoArimaOptions options;
    options.allow_drift = options.allow_mean = !args.no_constant;
    VIGIL_ASSIGN_OR_RETURN(AutoArimaResult chosen, AutoArima(series.values, options));
    run.fitted = std::move(chosen.model);
    run.models_tried = chosen.models_tried;
  }
  run.fit_seconds = SecondsSince(start);
  VIGIL_ASSIGN_OR_RETURN(run.forecast, run.fitted.Forecast(args.horizon, levels));
  return run;
}

Result<GarchRun> RunGarch(const ForecastArgs& args, const ForecastSeries& series) {
  GarchRun run;
  VIGIL_ASSIGN_OR_RETURN(GarchOptions options, GarchOptionsOf(args));
  const auto start = std::chrono::steady_clock::now();
  VIGIL_ASSIGN_OR_RETURN(run.fitted, GarchModel::Fit(series.values, options));
  run.fit_seconds = SecondsSince(start);
  VIGIL_ASSIGN_OR_RETURN(run.variance, run.fitted.VarianceForecast(args.horizon));
  VIGIL_ASSIGN_OR_RETURN(run.mean, run.fitted.MeanForecast(args.horizon));
  const std::vector<double> risk_levels = {0.95, 0.99};
  VIGIL_ASSIGN_OR_RETURN(run.risk, run.fitted.Risk(args.horizon, risk_levels));
  return run;
}

Result<RollingOriginResult> RunEvaluation(const ForecastArgs& args, const ForecastSeries& series,
                                          const std::vector<double>& levels) {
  VIGIL_ASSIGN_OR_RETURN(nlohmann::json config, KindConfig(args));
  const std::vector<ForecastMethod> methods = {
      ForecastMethodOfKind(args.model, args.model, config),
      ForecastMethodOfKind("naive", "naive", nlohmann::json::object()),
      ForecastMethodOfKind("drift", "drift", nlohmann::json::object())};
  RollingOriginOptions options;
  options.horizon = args.horizon;
  options.origins = args.origins;
  options.refit_every = args.refit_every;
  options.min_train = args.min_train;
  options.levels = levels;
  options.threads = 0;
  options.skip_failures = true;  // a failed fit at one origin is counted, not fatal
  options.keep_forecasts = false;
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return EvaluateRollingOrigin(series.values, methods, options);
}

Status RunForecast(const GlobalOptions& globals, const ForecastArgs& args) {
  VIGIL_RETURN_IF_ERROR(CheckModelOptions(args));
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> levels, ParseLevels(args.levels));
  VIGIL_ASSIGN_OR_RETURN(ForecastSeries series, LoadSeries(globals, args));
  if (series.skipped > 0) {
    std::cerr << "vigil: " << series.source << ": " << series.skipped
              << " stored row(s) without a value left out\n";
  }
  if (args.evaluate) {
    VIGIL_ASSIGN_OR_RETURN(RollingOriginResult result, RunEvaluation(args, series, levels));
    globals.json ? PrintJson(EvaluationJson(series, result)) : PrintEvaluation(series, result);
    return Status::Ok();
  }
  if (args.model == "garch") {
    Result<GarchRun> run = RunGarch(args, series);
    if (!run.ok()) return run.status().WithContext(series.source);
    globals.json ? PrintJson(GarchJson(*run)) : PrintGarch(*run, series);
    return Status::Ok();
  }
  Result<ArimaRun> run = RunArima(args, series, levels);
  if (!run.ok()) return run.status().WithContext(series.source);
  globals.json ? PrintJson(ArimaJson(*run)) : PrintArima(*run, series);
  return Status::Ok();
}

void AddSeriesOptions(CLI::App* cmd, ForecastArgs& args) {
  auto* input = cmd->add_option("--input", args.input,
                                "CSV with a header: one numeric column (or --column) and an "
                                "optional timestamp column");
  auto* instrument = cmd->add_option("--instrument", args.instrument,
                                     "Stored instrument venue:symbol (with --field)");
  input->excludes(instrument);
  cmd->add_option("--column", args.column, "The --input column to forecast");
  cmd->add_option("--field", args.field,
                  "open|high|low|close|volume (candles), or score:<model>[@horizon] / "
                  "value:<model>[@horizon] from the predictions table");
  cmd->add_option("--timeframe", args.timeframe, "Candle timeframe (default: smallest stored)");
  cmd->add_option("--from", args.from, "First time read (inclusive; ISO-8601 or epoch)");
  cmd->add_option("--to", args.to, "End of the data read (exclusive)");
  cmd->add_option("--every", args.every,
                  "Resample to this step: the last value before each step's end, stamped at "
                  "the end (e.g. 1h)");
  cmd->add_option("--transform", args.transform,
                  "none|log|log_return|pct_return, applied before fitting (default none)");
}

void AddModelOptions(CLI::App* cmd, ForecastArgs& args) {
  cmd->add_option("--model", args.model, "arima|auto_arima|garch")->required();
  auto* order = cmd->add_option("--order", args.order, "ARIMA order p,d,q (default 1,0,0)");
  auto* method = cmd->add_option("--method", args.method, "ml|css-ml|css (default css-ml)");
  auto* no_constant =
      cmd->add_flag("--no-constant", args.no_constant, "No intercept (d = 0) or drift (d = 1)");
  auto* spec = cmd->add_option("--spec", args.spec, "garch|gjr|egarch (default garch)");
  auto* dist = cmd->add_option("--dist", args.dist, "normal|t (default normal)");
  auto* mean = cmd->add_option("--mean", args.mean, "zero|constant|ar1 (default constant)");
  cmd->add_option("--horizon", args.horizon, "Steps to forecast (>= 1)")->required();
  cmd->add_option("--level", args.levels, "Interval levels in percent (default 80,95)");
  cmd->add_flag("--evaluate", args.evaluate,
                "Rolling-origin evaluation against the naive and drift baselines");
  auto* origins = cmd->add_option("--origins", args.origins, "Evaluation origins (default 20)");
  auto* refit = cmd->add_option("--refit-every", args.refit_every,
                                "Refit at every K-th origin, update online between (default 1)");
  auto* min_train =
      cmd->add_option("--min-train", args.min_train, "Shortest training series (default 20)");
  cmd->parse_complete_callback(
      [&args, order, method, no_constant, spec, dist, mean, origins, refit, min_train] {
        args.order_or_method_given = order->count() + method->count() > 0;
        args.arima_options_given = args.order_or_method_given || no_constant->count() > 0;
        args.garch_options_given = spec->count() + dist->count() + mean->count() > 0;
        args.evaluation_options_given = origins->count() + refit->count() + min_train->count() > 0;
      });
}

}  // namespace

void AddForecastCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<ForecastArgs>();
  CLI::App* cmd = app.add_subcommand(
      "forecast", "Fit arima, auto_arima or garch to a series and forecast it (or --evaluate)");
  AddSeriesOptions(cmd, *args);
  AddModelOptions(cmd, *args);
  cmd->callback([&globals, args, exit_code] {
    const Status status = RunForecast(globals, *args);
    *exit_code = status.ok() ? 0 : Fail(status);
  });
}

}  // namespace vigil::cli
