// The forecasting kinds of the model factory: "arima", "auto_arima", "garch", and the
// "naive" and "drift" baselines, each a traits struct over its engine plugged into
// TraitsForecaster (forecaster_kind.h), so `vigil train` with task: forecast can fit,
// register and reload them like any other model.
#include <cmath>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include "models/builtin_kinds.h"
#include "models/forecast/forecaster_kind.h"
#include "vigil/core/text_file.h"
#include "vigil/models/forecast/arima.h"
#include "vigil/models/forecast/auto_arima.h"
#include "vigil/models/forecast/baselines.h"
#include "vigil/models/forecast/garch.h"

namespace vigil {
namespace models_internal {

std::filesystem::path ForecastWeightsPath(const std::filesystem::path& dir, std::string_view kind) {
  return dir / (std::string(kind) + ".json");
}

Status SaveForecastWeights(const std::filesystem::path& dir, std::string_view kind,
                           const nlohmann::json& model) {
  const nlohmann::json doc = {{"format", "vigil." + std::string(kind)},
                              {"version", kForecastWeightsVersion},
                              {"model", model}};
  return WriteFileAtomically(ForecastWeightsPath(dir, kind).string(), doc.dump(2) + "\n");
}

Result<nlohmann::json> LoadForecastWeights(const std::filesystem::path& dir,
                                           std::string_view kind) {
  const std::string path = ForecastWeightsPath(dir, kind).string();
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  const std::string format = "vigil." + std::string(kind);
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
    if (!doc.is_object() || doc.value("format", "") != format) {
      return DataError(path + ": not a '" + format + "' document");
    }
    if (doc.value("version", 0) != kForecastWeightsVersion) {
      return DataError(path + ": unsupported version (expected " +
                       std::to_string(kForecastWeightsVersion) + ")");
    }
    if (!doc.contains("model") || !doc["model"].is_object()) {
      return DataError(path + ": key 'model' must be an object");
    }
    return std::move(doc["model"]);
  } catch (const std::exception& e) {
    return DataError(path + ": " + e.what());
  }
}

nlohmann::json JsonNumber(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace models_internal

namespace {

using models_internal::CheckConfigKeys;
using models_internal::ConfigBool;
using models_internal::ConfigError;
using models_internal::ConfigInt;
using models_internal::ConfigNumber;
using models_internal::ConfigString;
using models_internal::JsonNumber;

// The variance-forecast horizon and risk levels `garch`'s Describe() reports.
constexpr int kDescribeVarianceHorizon = 10;
const std::vector<double> kDescribeRiskLevels = {0.95, 0.99};

nlohmann::json NamedValues(const std::vector<std::string>& names,
                           const std::vector<double>& values) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < names.size() && i < values.size(); ++i)
    out[names[i]] = JsonNumber(values[i]);
  return out;
}

Result<ArimaOrder> ParseOrder(std::string_view kind, const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("order")) return ArimaOrder{};
  const nlohmann::json& order = config["order"];
  const auto is_count = [](const nlohmann::json& v) {
    return v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= 1000;
  };
  if (!order.is_array() || order.size() != 3 || !is_count(order[0]) || !is_count(order[1]) ||
      !is_count(order[2])) {
    return ConfigError(kind, "order", "must be [p, d, q], three non-negative integers");
  }
  return ArimaOrder{order[0].get<int>(), order[1].get<int>(), order[2].get<int>()};
}

Result<ArimaMethod> ParseMethod(std::string_view kind, const nlohmann::json& config) {
  VIGIL_ASSIGN_OR_RETURN(std::string name, ConfigString(kind, config, "method", "css-ml"));
  Result<ArimaMethod> method = ParseArimaMethod(name);
  if (!method.ok()) return ConfigError(kind, "method", method.status().message());
  return method;
}

ForecastPath ToPath(ArimaForecast forecast) {
  ForecastPath path;
  path.mean = std::move(forecast.mean);
  path.se = std::move(forecast.se);
  path.level = std::move(forecast.level);
  path.lower = std::move(forecast.lower);
  path.upper = std::move(forecast.upper);
  return path;
}

nlohmann::json DescribeArima(const ArimaFit& fit) {
  return {{"order", {fit.order.p, fit.order.d, fit.order.q}},
          {"method", ArimaMethodName(fit.method)},
          {"coefficients", NamedValues(fit.names, fit.coefficients)},
          {"se", NamedValues(fit.names, fit.standard_errors)},
          {"sigma2", JsonNumber(fit.sigma2)},
          {"loglik", JsonNumber(fit.loglik)},
          {"aic", JsonNumber(fit.aic)},
          {"aicc", JsonNumber(fit.aicc)},
          {"bic", JsonNumber(fit.bic)},
          {"nobs", fit.nobs},
          {"converged", fit.converged}};
}

struct ArimaTraits {
  static constexpr std::string_view kKind = "arima";
  using Options = ArimaOptions;
  using Engine = ArimaModel;

  static Result<Options> ParseConfig(const nlohmann::json& config) {
    VIGIL_RETURN_IF_ERROR(CheckConfigKeys(kKind, config, {"order", "method", "include_constant"}));
    Options options;
    VIGIL_ASSIGN_OR_RETURN(options.order, ParseOrder(kKind, config));
    VIGIL_ASSIGN_OR_RETURN(options.method, ParseMethod(kKind, config));
    VIGIL_ASSIGN_OR_RETURN(options.include_constant,
                           ConfigBool(kKind, config, "include_constant", true));
    VIGIL_RETURN_IF_ERROR(options.Validate().WithContext("model 'arima': config"));
    return options;
  }
  static nlohmann::json Config(const Options& options) {
    return {{"order", {options.order.p, options.order.d, options.order.q}},
            {"method", ArimaMethodName(options.method)},
            {"include_constant", options.include_constant}};
  }
  static Result<Engine> Fit(std::span<const double> y, const Options& options) {
    return ArimaModel::Fit(y, options);
  }
  static Result<ForecastPath> Forecast(const Engine& model, int horizon,
                                       std::span<const double> levels) {
    VIGIL_ASSIGN_OR_RETURN(ArimaForecast forecast, model.Forecast(horizon, levels));
    return ToPath(std::move(forecast));
  }
  static Status Append(Engine& model, std::span<const double> values) {
    return model.Append(values);
  }
  static nlohmann::json Describe(const Engine& model) { return DescribeArima(model.fit()); }
  static nlohmann::json ToJson(const Engine& model) { return model.ToJson(); }
  static Result<Engine> FromJson(const nlohmann::json& json, const Options& options) {
    VIGIL_ASSIGN_OR_RETURN(ArimaModel model, ArimaModel::FromJson(json));
    const ArimaOptions& stored = model.options();
    if (!(stored.order == options.order) || stored.method != options.method ||
        stored.include_constant != options.include_constant) {
      return DataError("the stored order/method/include_constant differ from the config");
    }
    return model;
  }
};

Result<InformationCriterion> ParseIc(std::string_view kind, const nlohmann::json& config) {
  VIGIL_ASSIGN_OR_RETURN(std::string name, ConfigString(kind, config, "ic", "aicc"));
  if (name == "aicc") return InformationCriterion::kAicc;
  if (name == "aic") return InformationCriterion::kAic;
  if (name == "bic") return InformationCriterion::kBic;
  return ConfigError(kind, "ic", "'" + name + "' (expected aicc, aic or bic)");
}

std::string_view IcName(InformationCriterion ic) {
  switch (ic) {
    case InformationCriterion::kAic:
      return "aic";
    case InformationCriterion::kBic:
      return "bic";
    case InformationCriterion::kAicc:
      break;
  }
  return "aicc";
}

struct AutoArimaTraits {
  static constexpr std::string_view kKind = "auto_arima";
  using Options = AutoArimaOptions;
  using Engine = AutoArimaResult;

  static Result<Options> ParseConfig(const nlohmann::json& config) {
    VIGIL_RETURN_IF_ERROR(CheckConfigKeys(
        kKind, config,
        {"max_p", "max_q", "max_order", "max_d", "start_p", "start_q", "d", "stepwise",
         "approximation", "allow_drift", "allow_mean", "kpss_alpha", "ic", "max_models"}));
    Options o;
    VIGIL_ASSIGN_OR_RETURN(o.max_p, ConfigInt(kKind, config, "max_p", o.max_p));
    VIGIL_ASSIGN_OR_RETURN(o.max_q, ConfigInt(kKind, config, "max_q", o.max_q));
    VIGIL_ASSIGN_OR_RETURN(o.max_order, ConfigInt(kKind, config, "max_order", o.max_order));
    VIGIL_ASSIGN_OR_RETURN(o.max_d, ConfigInt(kKind, config, "max_d", o.max_d));
    VIGIL_ASSIGN_OR_RETURN(o.start_p, ConfigInt(kKind, config, "start_p", o.start_p));
    VIGIL_ASSIGN_OR_RETURN(o.start_q, ConfigInt(kKind, config, "start_q", o.start_q));
    VIGIL_ASSIGN_OR_RETURN(o.d, ConfigInt(kKind, config, "d", o.d));
    VIGIL_ASSIGN_OR_RETURN(o.stepwise, ConfigBool(kKind, config, "stepwise", o.stepwise));
    VIGIL_ASSIGN_OR_RETURN(o.approximation,
                           ConfigInt(kKind, config, "approximation", o.approximation));
    VIGIL_ASSIGN_OR_RETURN(o.allow_drift, ConfigBool(kKind, config, "allow_drift", o.allow_drift));
    VIGIL_ASSIGN_OR_RETURN(o.allow_mean, ConfigBool(kKind, config, "allow_mean", o.allow_mean));
    VIGIL_ASSIGN_OR_RETURN(o.kpss_alpha, ConfigNumber(kKind, config, "kpss_alpha", o.kpss_alpha));
    VIGIL_ASSIGN_OR_RETURN(o.ic, ParseIc(kKind, config));
    VIGIL_ASSIGN_OR_RETURN(o.max_models, ConfigInt(kKind, config, "max_models", o.max_models));
    if (o.approximation < -1 || o.approximation > 1) {
      return ConfigError(kKind, "approximation", "must be -1 (auto), 0 (never) or 1 (always)");
    }
    VIGIL_RETURN_IF_ERROR(o.Validate().WithContext("model 'auto_arima': config"));
    return o;
  }
  static nlohmann::json Config(const Options& o) {
    return {{"max_p", o.max_p},
            {"max_q", o.max_q},
            {"max_order", o.max_order},
            {"max_d", o.max_d},
            {"start_p", o.start_p},
            {"start_q", o.start_q},
            {"d", o.d},
            {"stepwise", o.stepwise},
            {"approximation", o.approximation},
            {"allow_drift", o.allow_drift},
            {"allow_mean", o.allow_mean},
            {"kpss_alpha", o.kpss_alpha},
            {"ic", IcName(o.ic)},
            {"max_models", o.max_models}};
  }
  static Result<Engine> Fit(std::span<const double> y, const Options& options) {
    return AutoArima(y, options);
  }
  static Result<ForecastPath> Forecast(const Engine& chosen, int horizon,
                                       std::span<const double> levels) {
    return ArimaTraits::Forecast(chosen.model, horizon, levels);
  }
  static Status Append(Engine& chosen, std::span<const double> values) {
    return chosen.model.Append(values);
  }
  static nlohmann::json Describe(const Engine& chosen) {
    nlohmann::json out = DescribeArima(chosen.model.fit());
    out["selection"] = {{"constant", chosen.constant},
                        {"ic", JsonNumber(chosen.ic)},
                        {"models_tried", chosen.models_tried}};
    return out;
  }
  static nlohmann::json ToJson(const Engine& chosen) {
    return {{"arima", chosen.model.ToJson()},
            {"constant", chosen.constant},
            {"ic", JsonNumber(chosen.ic)},
            {"models_tried", chosen.models_tried}};
  }
  static Result<Engine> FromJson(const nlohmann::json& json, const Options&) {
    if (!json.contains("arima")) return DataError("key 'arima' is missing");
    Engine chosen;
    VIGIL_ASSIGN_OR_RETURN(chosen.model, ArimaModel::FromJson(json["arima"]));
    try {
      chosen.order = chosen.model.options().order;
      chosen.constant = json.at("constant").get<bool>();
      chosen.ic = json.at("ic").is_null() ? std::numeric_limits<double>::quiet_NaN()
                                          : json.at("ic").get<double>();
      chosen.models_tried = json.at("models_tried").get<int>();
    } catch (const std::exception& e) {
      return DataError(e.what());
    }
    return chosen;
  }
};

Result<GarchOptions> ParseGarchConfig(std::string_view kind, const nlohmann::json& config) {
  VIGIL_RETURN_IF_ERROR(
      CheckConfigKeys(kind, config, {"spec", "dist", "mean", "variance_targeting"}));
  GarchOptions o;
  VIGIL_ASSIGN_OR_RETURN(std::string spec, ConfigString(kind, config, "spec", "garch"));
  VIGIL_ASSIGN_OR_RETURN(std::string dist, ConfigString(kind, config, "dist", "normal"));
  VIGIL_ASSIGN_OR_RETURN(std::string mean, ConfigString(kind, config, "mean", "constant"));
  Result<GarchSpec> parsed_spec = ParseGarchSpec(spec);
  if (!parsed_spec.ok()) return ConfigError(kind, "spec", parsed_spec.status().message());
  Result<GarchDistribution> parsed_dist = ParseGarchDistribution(dist);
  if (!parsed_dist.ok()) return ConfigError(kind, "dist", parsed_dist.status().message());
  Result<GarchMean> parsed_mean = ParseGarchMean(mean);
  if (!parsed_mean.ok()) return ConfigError(kind, "mean", parsed_mean.status().message());
  o.spec = *parsed_spec;
  o.distribution = *parsed_dist;
  o.mean = *parsed_mean;
  VIGIL_ASSIGN_OR_RETURN(o.variance_targeting,
                         ConfigBool(kind, config, "variance_targeting", false));
  VIGIL_RETURN_IF_ERROR(o.Validate().WithContext("model 'garch': config"));
  return o;
}

// z_L with P(-z_L <= z <= z_L) = L for the fitted innovation distribution. For Student-t,
// from the exact one-step VaR at (1 + L) / 2: VaR = -(m_1 + sqrt(h_1) q_{(1-L)/2}(z)), and
// the standardized t is symmetric (fGarch's predict uses the same quantiles, qstd).
Result<std::vector<double>> InnovationMultipliers(const GarchModel& model,
                                                  std::span<const double> levels, double mean1,
                                                  double variance1) {
  std::vector<double> z;
  for (double level : levels) {
    if (!(level > 0 && level < 1)) {
      return InvalidArgument("interval level " + std::to_string(level) + " is not in (0, 1)");
    }
    z.push_back(NormalIntervalMultiplier(level));
  }
  if (model.fit().options.distribution == GarchDistribution::kNormal) return z;
  std::vector<double> tails;
  for (double level : levels) tails.push_back((1 + level) / 2);
  VIGIL_ASSIGN_OR_RETURN(GarchRisk risk, model.Risk(1, tails));
  for (size_t i = 0; i < z.size(); ++i) z[i] = (risk.var[i] + mean1) / std::sqrt(variance1);
  return z;
}

struct GarchTraits {
  static constexpr std::string_view kKind = "garch";
  using Options = GarchOptions;
  using Engine = GarchModel;

  static Result<Options> ParseConfig(const nlohmann::json& config) {
    return ParseGarchConfig(kKind, config);
  }
  static nlohmann::json Config(const Options& o) {
    return {{"spec", GarchSpecName(o.spec)},
            {"dist", GarchDistributionName(o.distribution)},
            {"mean", GarchMeanName(o.mean)},
            {"variance_targeting", o.variance_targeting}};
  }
  static Result<Engine> Fit(std::span<const double> y, const Options& options) {
    return GarchModel::Fit(y, options);
  }
  // The return forecast's error variance adds the AR(1) mean's propagation of future
  // shocks: Var(r_{T+k}) = sum_j ar1^(2j) E[h_{T+k-j}], j = 0..k-1 (fGarch's conditional
  // meanError).
  static Result<ForecastPath> Forecast(const Engine& model, int horizon,
                                       std::span<const double> levels) {
    ForecastPath path;
    VIGIL_ASSIGN_OR_RETURN(path.mean, model.MeanForecast(horizon));
    VIGIL_ASSIGN_OR_RETURN(std::vector<double> variance, model.VarianceForecast(horizon));
    const double ar1 =
        model.fit().options.mean == GarchMean::kAr1 ? model.fit().Coefficient("ar1") : 0.0;
    for (size_t k = 0; k < variance.size(); ++k) {
      double sum = 0, weight = 1;
      for (size_t j = 0; j <= k; ++j, weight *= ar1 * ar1) sum += weight * variance[k - j];
      path.se.push_back(std::sqrt(sum));
    }
    VIGIL_ASSIGN_OR_RETURN(std::vector<double> z,
                           InnovationMultipliers(model, levels, path.mean[0], variance[0]));
    path.level.assign(levels.begin(), levels.end());
    for (double multiplier : z) {
      path.lower.emplace_back();
      path.upper.emplace_back();
      for (size_t k = 0; k < path.mean.size(); ++k) {
        path.lower.back().push_back(path.mean[k] - multiplier * path.se[k]);
        path.upper.back().push_back(path.mean[k] + multiplier * path.se[k]);
      }
    }
    return path;
  }
  static Status Append(Engine& model, std::span<const double> values) {
    return model.Append(values);
  }
  static nlohmann::json Describe(const Engine& model) {
    const GarchFit& fit = model.fit();
    nlohmann::json out = {{"spec", GarchSpecName(fit.options.spec)},
                          {"dist", GarchDistributionName(fit.options.distribution)},
                          {"mean", GarchMeanName(fit.options.mean)},
                          {"coefficients", NamedValues(fit.names, fit.coefficients)},
                          {"se", NamedValues(fit.names, fit.standard_errors)},
                          {"robust_se", NamedValues(fit.names, fit.robust_standard_errors)},
                          {"loglik", JsonNumber(fit.loglik)},
                          {"aic", JsonNumber(fit.aic)},
                          {"bic", JsonNumber(fit.bic)},
                          {"nobs", fit.nobs},
                          {"converged", fit.converged},
                          {"unconditional_variance", JsonNumber(fit.unconditional_variance)}};
    Result<std::vector<double>> variance = model.VarianceForecast(kDescribeVarianceHorizon);
    if (variance.ok()) out["variance_forecast"] = *variance;
    Result<GarchRisk> risk = model.Risk(1, kDescribeRiskLevels);
    if (risk.ok()) {
      out["risk_horizon"] = 1;
      out["var"] = {{"95", JsonNumber(risk->var[0])}, {"99", JsonNumber(risk->var[1])}};
      out["es"] = {{"95", JsonNumber(risk->es[0])}, {"99", JsonNumber(risk->es[1])}};
    }
    return out;
  }
  static nlohmann::json ToJson(const Engine& model) { return model.ToJson(); }
  static Result<Engine> FromJson(const nlohmann::json& json, const Options& options) {
    VIGIL_ASSIGN_OR_RETURN(GarchModel model, GarchModel::FromJson(json));
    const GarchOptions& stored = model.fit().options;
    if (stored.spec != options.spec || stored.distribution != options.distribution ||
        stored.mean != options.mean || stored.variance_targeting != options.variance_targeting) {
      return DataError("the stored spec/dist/mean/variance_targeting differ from the config");
    }
    return model;
  }
};

}  // namespace

namespace models_internal {
KindRegistration ArimaKind() { return TraitsKindRegistration<ArimaTraits>(); }
KindRegistration AutoArimaKind() { return TraitsKindRegistration<AutoArimaTraits>(); }
KindRegistration GarchKind() { return TraitsKindRegistration<GarchTraits>(); }
}  // namespace models_internal

}  // namespace vigil
