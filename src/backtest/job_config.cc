// The backtest config file (job.h): typed, located reads of every section, with an error for
// any key it does not know, so a misspelt setting never silently runs with its default.
#include <cmath>

#include "pipeline/yaml_fields.h"
#include "vigil/backtest/job.h"
#include "vigil/core/text_file.h"

namespace vigil {
namespace {

using pipeline_internal::YamlSource;

// Assigns an optional read to `target` when present.
template <typename T, typename U>
Status Set(Result<std::optional<U>> read, T& target) {
  if (!read.ok()) return read.status();
  if (read->has_value()) target = static_cast<T>(**read);
  return Status::Ok();
}

// A map of scalars ({k: v}) as strategy params, their text kept as written.
Result<StrategyParams> ParamsMap(const YamlSource& source, const YAML::Node& node,
                                 const std::string& key) {
  StrategyParams params;
  if (!node[key]) return params;
  if (!node[key].IsMap()) return source.Error(node[key], key, "expected a map of k: v");
  for (const auto& entry : node[key]) {
    if (!entry.second.IsScalar())
      return source.Error(entry.second, key + "." + entry.first.as<std::string>(),
                          "expected a number or a word");
    params[entry.first.as<std::string>()] = entry.second.as<std::string>();
  }
  return params;
}

Status ReadData(const YamlSource& source, const YAML::Node& root, BacktestJobConfig& config) {
  const YAML::Node data = root["data"];
  if (!data) return source.Error(root, "data", "missing: candle files (inputs) or instruments");
  VIGIL_RETURN_IF_ERROR(source.CheckKeys(
      data, "data.",
      {"inputs", "kind", "venue", "symbol", "venues", "instruments", "timeframe", "funding"}));
  VIGIL_ASSIGN_OR_RETURN(config.inputs, source.StringList(data, "inputs", "data."));
  VIGIL_ASSIGN_OR_RETURN(config.instruments, source.StringList(data, "instruments", "data."));
  VIGIL_RETURN_IF_ERROR(Set(source.String(data, "venue", "data."), config.venue));
  VIGIL_RETURN_IF_ERROR(Set(source.String(data, "kind", "data."), config.kind));
  VIGIL_RETURN_IF_ERROR(Set(source.String(data, "symbol", "data."), config.symbol));
  if (config.kind != "candles" && config.kind != "trades" && config.kind != "book")
    return source.Error(data["kind"], "data.kind",
                        "'" + config.kind + "': candles, trades or book");
  VIGIL_ASSIGN_OR_RETURN(config.venues, source.StringList(data, "venues", "data."));
  if (!config.venues.empty() && config.venues.size() != config.inputs.size())
    return source.Error(data["venues"], "data.venues", "one venue per input file");
  VIGIL_RETURN_IF_ERROR(Set(source.String(data, "timeframe", "data."), config.timeframe));
  if (const YAML::Node funding = data["funding"]) {
    if (!funding.IsSequence())
      return source.Error(funding, "data.funding", "expected a list of {instrument, input}");
    for (const YAML::Node& entry : funding) {
      VIGIL_RETURN_IF_ERROR(
          source.CheckKeys(entry, "data.funding.", {"instrument", "input", "column"}));
      FundingInput input;
      VIGIL_RETURN_IF_ERROR(
          Set(source.String(entry, "instrument", "data.funding."), input.instrument));
      VIGIL_RETURN_IF_ERROR(Set(source.String(entry, "input", "data.funding."), input.path));
      VIGIL_RETURN_IF_ERROR(Set(source.String(entry, "column", "data.funding."), input.column));
      if (input.instrument.empty() || input.path.empty())
        return source.Error(entry, "data.funding", "each entry needs instrument and input");
      config.funding.push_back(std::move(input));
    }
  }
  return Status::Ok();
}

Status ReadVenues(const YamlSource& source, const YAML::Node& venues, BacktestOptions& options) {
  if (!venues.IsMap()) return source.Error(venues, "costs.venues", "expected a map of venues");
  for (const auto& entry : venues) {
    const std::string venue = entry.first.as<std::string>();
    const std::string prefix = "costs.venues." + venue + ".";
    VIGIL_RETURN_IF_ERROR(
        source.CheckKeys(entry.second, prefix, {"maker_bps", "taker_bps", "gas"}));
    FeeSchedule fees = options.fees;
    VIGIL_RETURN_IF_ERROR(Set(source.Double(entry.second, "maker_bps", prefix), fees.maker_bps));
    VIGIL_RETURN_IF_ERROR(Set(source.Double(entry.second, "taker_bps", prefix), fees.taker_bps));
    options.venue_fees[venue] = fees;
    double gas = 0.0;
    VIGIL_RETURN_IF_ERROR(Set(source.Double(entry.second, "gas", prefix), gas));
    if (gas != 0.0) options.gas_per_fill[venue] = gas;
  }
  return Status::Ok();
}

Status ReadCosts(const YamlSource& source, const YAML::Node& root, BacktestOptions& options) {
  const YAML::Node costs = root["costs"];
  if (!costs) return Status::Ok();
  VIGIL_RETURN_IF_ERROR(source.CheckKeys(
      costs, "costs.", {"fee_bps", "maker_bps", "taker_bps", "slippage", "latency", "venues"}));
  std::optional<double> fee;
  VIGIL_ASSIGN_OR_RETURN(fee, source.Double(costs, "fee_bps", "costs."));
  if (fee) options.fees = {*fee, *fee};
  VIGIL_RETURN_IF_ERROR(Set(source.Double(costs, "maker_bps", "costs."), options.fees.maker_bps));
  VIGIL_RETURN_IF_ERROR(Set(source.Double(costs, "taker_bps", "costs."), options.fees.taker_bps));
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> slippage,
                         source.String(costs, "slippage", "costs."));
  if (slippage) {
    Result<SlippageModel> parsed = SlippageModel::Parse(*slippage);
    if (!parsed.ok())
      return source.Error(costs["slippage"], "costs.slippage", parsed.status().message());
    options.slippage = *parsed;
  }
  VIGIL_RETURN_IF_ERROR(Set(source.Duration(costs, "latency", "costs."), options.latency_ns));
  if (costs["venues"]) VIGIL_RETURN_IF_ERROR(ReadVenues(source, costs["venues"], options));
  return Status::Ok();
}

Status ReadAccount(const YamlSource& source, const YAML::Node& root, BacktestOptions& options) {
  if (const YAML::Node account = root["account"]) {
    const std::string p = "account.";
    VIGIL_RETURN_IF_ERROR(
        source.CheckKeys(account, p,
                         {"initial_capital", "max_leverage", "allow_short", "maintenance_margin",
                          "liquidation_fee_bps", "risk_free_rate"}));
    VIGIL_RETURN_IF_ERROR(
        Set(source.Double(account, "initial_capital", p), options.initial_capital));
    VIGIL_RETURN_IF_ERROR(Set(source.Double(account, "max_leverage", p), options.max_leverage));
    VIGIL_RETURN_IF_ERROR(Set(source.Bool(account, "allow_short", p), options.allow_short));
    VIGIL_RETURN_IF_ERROR(
        Set(source.Double(account, "maintenance_margin", p), options.maintenance_margin));
    VIGIL_RETURN_IF_ERROR(
        Set(source.Double(account, "liquidation_fee_bps", p), options.liquidation_fee_bps));
    VIGIL_RETURN_IF_ERROR(Set(source.Double(account, "risk_free_rate", p), options.risk_free_rate));
  }
  if (const YAML::Node risk = root["risk"]) {
    const std::string p = "risk.";
    VIGIL_RETURN_IF_ERROR(source.CheckKeys(
        risk, p,
        {"max_drawdown", "daily_loss_limit", "max_gross_exposure", "max_position_fraction"}));
    RiskLimits& limits = options.risk;
    VIGIL_RETURN_IF_ERROR(Set(source.Double(risk, "max_drawdown", p), limits.max_drawdown));
    VIGIL_RETURN_IF_ERROR(Set(source.Double(risk, "daily_loss_limit", p), limits.daily_loss_limit));
    VIGIL_RETURN_IF_ERROR(
        Set(source.Double(risk, "max_gross_exposure", p), limits.max_gross_exposure));
    VIGIL_RETURN_IF_ERROR(
        Set(source.Double(risk, "max_position_fraction", p), limits.max_position_fraction));
  }
  return Status::Ok();
}

Status ReadModel(const YamlSource& source, const YAML::Node& root,
                 const std::filesystem::path& base_dir, BacktestJobConfig& config) {
  const YAML::Node model = root["model"];
  if (!model) return Status::Ok();
  const std::string p = "model.";
  VIGIL_RETURN_IF_ERROR(source.CheckKeys(model, p,
                                         {"train", "registered", "train_days", "step_days",
                                          "expanding", "ensemble", "min_train_rows", "cache"}));
  VIGIL_RETURN_IF_ERROR(Set(source.String(model, "train", p), config.train_config));
  if (!config.train_config.empty() && std::filesystem::path(config.train_config).is_relative())
    config.train_config = (base_dir / config.train_config).string();
  VIGIL_RETURN_IF_ERROR(Set(source.String(model, "registered", p), config.registered));
  WalkForwardBacktestOptions& walk = config.walk_forward;
  std::optional<double> days;
  VIGIL_ASSIGN_OR_RETURN(days, source.Double(model, "train_days", p));
  if (days) walk.train_ns = static_cast<int64_t>(std::llround(*days * kNanosPerDay));
  VIGIL_ASSIGN_OR_RETURN(days, source.Double(model, "step_days", p));
  if (days) walk.step_ns = static_cast<int64_t>(std::llround(*days * kNanosPerDay));
  VIGIL_RETURN_IF_ERROR(Set(source.Bool(model, "expanding", p), walk.expanding));
  VIGIL_RETURN_IF_ERROR(Set(source.Int(model, "ensemble", p), walk.ensemble));
  VIGIL_RETURN_IF_ERROR(Set(source.Int(model, "min_train_rows", p), walk.min_train_rows));
  std::string cache;
  VIGIL_RETURN_IF_ERROR(Set(source.String(model, "cache", p), cache));
  if (!cache.empty())
    walk.cache_dir = std::filesystem::path(cache).is_relative() ? base_dir / cache
                                                                : std::filesystem::path(cache);
  return Status::Ok();
}

Status ReadComparison(const YamlSource& source, const YAML::Node& root,
                      const std::filesystem::path& base_dir, BacktestJobConfig& config) {
  VIGIL_RETURN_IF_ERROR(Set(source.String(root, "baseline"), config.baseline));
  VIGIL_ASSIGN_OR_RETURN(config.baseline_params, ParamsMap(source, root, "baseline_params"));
  if (const YAML::Node bootstrap = root["bootstrap"]) {
    const std::string p = "bootstrap.";
    VIGIL_RETURN_IF_ERROR(
        source.CheckKeys(bootstrap, p, {"resamples", "confidence", "block", "seed"}));
    BootstrapOptions& options = config.bootstrap;
    VIGIL_RETURN_IF_ERROR(Set(source.Int(bootstrap, "resamples", p), options.resamples));
    VIGIL_RETURN_IF_ERROR(Set(source.Double(bootstrap, "confidence", p), options.confidence));
    VIGIL_RETURN_IF_ERROR(Set(source.Double(bootstrap, "block", p), options.mean_block_length));
    VIGIL_RETURN_IF_ERROR(Set(source.Int(bootstrap, "seed", p), options.seed));
  }
  VIGIL_RETURN_IF_ERROR(Set(source.String(root, "report"), config.report));
  if (!config.report.empty() && std::filesystem::path(config.report).is_relative())
    config.report = (base_dir / config.report).string();
  return Status::Ok();
}

}  // namespace

Status BacktestJobConfig::Validate() const {
  if (strategy.empty()) return InvalidArgument("strategy: missing");
  if (inputs.empty() == instruments.empty())
    return InvalidArgument("data: give either inputs (candle files) or instruments (the store)");
  if (kind != "candles" && kind != "trades" && kind != "book")
    return InvalidArgument("data.kind: '" + kind + "': candles, trades or book");
  if (NeedsSignals(strategy) && train_config.empty() == registered.empty())
    return InvalidArgument("model: " + strategy + " needs either model.train or model.registered");
  if (!NeedsSignals(strategy) && !(train_config.empty() && registered.empty()))
    return InvalidArgument("model: " + strategy + " trades on no model");
  if (strategy == "arbitrage" && inputs.size() + instruments.size() != 2)
    return InvalidArgument("data: arbitrage replays exactly two venues' candles");
  if (strategy == "arbitrage" && !options.allow_short)
    return InvalidArgument(
        "account.allow_short: arbitrage sells the rich venue short; set it true");
  if (!baseline.empty() && NeedsSignals(baseline))
    return InvalidArgument("baseline: must trade on no model (buy_hold or sma_cross)");
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(walk_forward.Validate().WithContext("model"));
  return bootstrap.Validate().WithContext("bootstrap");
}

Result<BacktestJobConfig> ParseBacktestConfig(std::string_view yaml_text,
                                              std::string_view source_name,
                                              const std::filesystem::path& base_dir) {
  const YamlSource source{std::string(source_name)};
  VIGIL_ASSIGN_OR_RETURN(YAML::Node root,
                         pipeline_internal::ParseYamlMap(std::string(yaml_text), source));
  VIGIL_RETURN_IF_ERROR(
      source.CheckKeys(root, "",
                       {"strategy", "params", "data", "costs", "account", "risk", "model",
                        "baseline", "baseline_params", "bootstrap", "report"}));
  BacktestJobConfig config;
  config.source = std::filesystem::path(source_name);
  VIGIL_RETURN_IF_ERROR(Set(source.String(root, "strategy"), config.strategy));
  if (config.strategy.empty()) return source.Error(root, "strategy", "missing");
  VIGIL_ASSIGN_OR_RETURN(config.params, ParamsMap(source, root, "params"));
  VIGIL_RETURN_IF_ERROR(ReadData(source, root, config));
  for (std::string& input : config.inputs)
    if (std::filesystem::path(input).is_relative()) input = (base_dir / input).string();
  for (FundingInput& funding : config.funding)
    if (std::filesystem::path(funding.path).is_relative())
      funding.path = (base_dir / funding.path).string();
  VIGIL_RETURN_IF_ERROR(ReadCosts(source, root, config.options));
  VIGIL_RETURN_IF_ERROR(ReadAccount(source, root, config.options));
  VIGIL_RETURN_IF_ERROR(ReadModel(source, root, base_dir, config));
  VIGIL_RETURN_IF_ERROR(ReadComparison(source, root, base_dir, config));
  Status valid = config.Validate();
  if (!valid.ok()) return InvalidArgument(std::string(source_name) + ": " + valid.message());
  return config;
}

Result<BacktestJobConfig> LoadBacktestConfig(const std::filesystem::path& path) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path.string()));
  return ParseBacktestConfig(text, path.string(), path.parent_path());
}

}  // namespace vigil
