// `vigil forecast` output: the --json contract objects and the human tables.
#include "forecast_output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli.h"

namespace vigil::cli {
namespace {

nlohmann::ordered_json Numbers(const std::vector<double>& values) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (double value : values) out.push_back(JsonNumber(value));
  return out;
}

nlohmann::ordered_json Named(const std::vector<std::string>& names,
                             const std::vector<double>& values) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (size_t i = 0; i < names.size(); ++i) {
    out[names[i]] = JsonNumber(i < values.size() ? values[i] : std::nan(""));
  }
  return out;
}

// "80" for 0.8, "97.5" for 0.975.
std::string Percent(double level) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", level * 100.0);
  return text;
}

// The step of a stamped series (its median spacing), for the forecast table's times.
int64_t SeriesStep(const ForecastSeries& series) {
  std::vector<int64_t> steps;
  for (size_t i = 1; i < series.times.size(); ++i) {
    steps.push_back(series.times[i] - series.times[i - 1]);
  }
  if (steps.empty()) return 0;
  std::nth_element(steps.begin(), steps.begin() + steps.size() / 2, steps.end());
  return steps[steps.size() / 2];
}

// "  h  time" headers and cells: the time column only for stamped series.
std::string StepLabel(const ForecastSeries& series, int h) {
  char text[64];
  std::snprintf(text, sizeof(text), "%4d", h);
  const int64_t step = SeriesStep(series);
  if (step <= 0) return text;
  return std::string(text) + "  " + (series.times.back() + step * h).ToIso();
}

std::string StepHeader(const ForecastSeries& series) {
  if (SeriesStep(series) <= 0) return "   h";
  return "   h  time" + std::string(20, ' ');  // an ISO time is 24 characters
}

void PrintCoefficients(const std::vector<std::string>& names, const std::vector<double>& values,
                       const std::vector<double>& se, const std::vector<double>* robust) {
  std::printf("  %-12s %14s %12s%s\n", "coefficient", "estimate", "s.e.",
              robust != nullptr ? "  robust s.e." : "");
  for (size_t i = 0; i < names.size(); ++i) {
    std::printf("  %-12s %14.6g %12.4g", names[i].c_str(), values[i], se[i]);
    if (robust != nullptr) std::printf(" %13.4g", (*robust)[i]);
    std::printf("\n");
  }
}

std::string ArimaTitle(const ArimaRun& run) {
  const ArimaFit& fit = run.fitted.fit();
  std::string title = "ARIMA(" + std::to_string(fit.order.p) + "," + std::to_string(fit.order.d) +
                      "," + std::to_string(fit.order.q) + ")";
  const bool drift = std::find(fit.names.begin(), fit.names.end(), "drift") != fit.names.end();
  const bool mean = std::find(fit.names.begin(), fit.names.end(), "intercept") != fit.names.end();
  title += drift ? " with drift" : mean ? " with intercept" : "";
  title += ", method " + std::string(ArimaMethodName(fit.method));
  if (run.model == "auto_arima") {
    title += " (auto_arima, " + std::to_string(run.models_tried) + " models tried)";
  }
  return title;
}

void PrintArimaTable(const ArimaForecast& forecast, const ForecastSeries& series) {
  std::printf("%s %14s %12s", StepHeader(series).c_str(), "forecast", "s.e.");
  for (double level : forecast.level) {
    std::printf(" %12s %12s", ("lo" + Percent(level)).c_str(), ("hi" + Percent(level)).c_str());
  }
  std::printf("\n");
  for (size_t h = 0; h < forecast.mean.size(); ++h) {
    std::printf("%s %14.6g %12.4g", StepLabel(series, static_cast<int>(h) + 1).c_str(),
                forecast.mean[h], forecast.se[h]);
    for (size_t i = 0; i < forecast.level.size(); ++i) {
      std::printf(" %12.6g %12.6g", forecast.lower[i][h], forecast.upper[i][h]);
    }
    std::printf("\n");
  }
}

void PrintAccuracyRow(const std::string& name, const ForecastAccuracy& accuracy) {
  std::printf("  %-14s %9lld %12.6g %12.6g %10.4g %8.4g", name.c_str(),
              static_cast<long long>(accuracy.forecasts), accuracy.mae, accuracy.rmse,
              accuracy.mape, accuracy.mase);
  for (double coverage : accuracy.coverage) std::printf(" %8.3f", coverage);
  std::printf("\n");
}

}  // namespace

nlohmann::ordered_json ArimaJson(const ArimaRun& run) {
  const ArimaFit& fit = run.fitted.fit();
  nlohmann::ordered_json out;
  out["model"] = run.model;
  out["order"] = {fit.order.p, fit.order.d, fit.order.q};
  out["coefficients"] = Named(fit.names, fit.coefficients);
  out["sigma2"] = JsonNumber(fit.sigma2);
  out["loglik"] = JsonNumber(fit.loglik);
  out["aic"] = JsonNumber(fit.aic);
  out["aicc"] = JsonNumber(fit.aicc);
  out["bic"] = JsonNumber(fit.bic);
  out["forecast"] = Numbers(run.forecast.mean);
  out["se"] = Numbers(run.forecast.se);
  out["fit_seconds"] = run.fit_seconds;
  return out;
}

nlohmann::ordered_json GarchJson(const GarchRun& run) {
  const GarchFit& fit = run.fitted.fit();
  nlohmann::ordered_json out;
  out["model"] = "garch";
  out["coefficients"] = Named(fit.names, fit.coefficients);
  out["se"] = Named(fit.names, fit.standard_errors);
  out["loglik"] = JsonNumber(fit.loglik);
  out["variance_forecast"] = Numbers(run.variance);
  nlohmann::ordered_json var = nlohmann::ordered_json::object();
  nlohmann::ordered_json es = nlohmann::ordered_json::object();
  for (size_t i = 0; i < run.risk.level.size(); ++i) {
    var[Percent(run.risk.level[i])] = JsonNumber(run.risk.var[i]);
    es[Percent(run.risk.level[i])] = JsonNumber(run.risk.es[i]);
  }
  out["var"] = var;
  out["es"] = es;
  out["fit_seconds"] = run.fit_seconds;
  return out;
}

nlohmann::ordered_json EvaluationJson(const ForecastSeries& series,
                                      const RollingOriginResult& result) {
  nlohmann::ordered_json out;
  out["series"] = series.source;
  out["n"] = series.size();
  out["horizon"] = result.options.horizon;
  out["evaluation"] = result.ToJson();
  return out;
}

void PrintArima(const ArimaRun& run, const ForecastSeries& series) {
  const ArimaFit& fit = run.fitted.fit();
  std::printf("%s on %s: %lld observations (%lld used)\n", ArimaTitle(run).c_str(),
              series.source.c_str(), static_cast<long long>(series.size()),
              static_cast<long long>(fit.nobs));
  PrintCoefficients(fit.names, fit.coefficients, fit.standard_errors, nullptr);
  std::printf("  sigma2 %.6g  loglik %.6g  aic %.6g  aicc %.6g  bic %.6g\n", fit.sigma2, fit.loglik,
              fit.aic, fit.aicc, fit.bic);
  std::printf("  fitted in %.4f s%s\n", run.fit_seconds,
              fit.converged ? "" : " (the optimiser did not report convergence)");
  PrintArimaTable(run.forecast, series);
}

void PrintGarch(const GarchRun& run, const ForecastSeries& series) {
  const GarchFit& fit = run.fitted.fit();
  const GarchOptions& options = fit.options;
  const char* title = options.spec == GarchSpec::kGarch ? "GARCH"
                      : options.spec == GarchSpec::kGjr ? "GJR-GARCH"
                                                        : "EGARCH";
  std::printf("%s(1,1), %s innovations, %s mean on %s: %lld observations\n", title,
              std::string(GarchDistributionName(options.distribution)).c_str(),
              std::string(GarchMeanName(options.mean)).c_str(), series.source.c_str(),
              static_cast<long long>(fit.nobs));
  PrintCoefficients(fit.names, fit.coefficients, fit.standard_errors, &fit.robust_standard_errors);
  std::printf("  loglik %.6g  aic %.6g  bic %.6g  unconditional variance %.6g\n", fit.loglik,
              fit.aic, fit.bic, fit.unconditional_variance);
  std::printf("  fitted in %.4f s%s\n", run.fit_seconds,
              fit.converged ? "" : " (the optimiser did not report convergence)");
  std::printf("%s %14s %14s %14s\n", StepHeader(series).c_str(), "mean", "variance", "volatility");
  for (size_t h = 0; h < run.variance.size(); ++h) {
    std::printf("%s %14.6g %14.6g %14.6g\n", StepLabel(series, static_cast<int>(h) + 1).c_str(),
                run.mean[h], run.variance[h], std::sqrt(run.variance[h]));
  }
  for (size_t i = 0; i < run.risk.level.size(); ++i) {
    std::printf("  %s%% over %d step(s): VaR %.6g  ES %.6g\n", Percent(run.risk.level[i]).c_str(),
                run.risk.horizon, run.risk.var[i], run.risk.es[i]);
  }
}

void PrintEvaluation(const ForecastSeries& series, const RollingOriginResult& result) {
  const RollingOriginOptions& options = result.options;
  std::printf(
      "rolling-origin evaluation on %s: %zu origins (%lld..%lld), horizon %d, refit "
      "every %d\n",
      series.source.c_str(), result.origins.size(),
      static_cast<long long>(result.origins.empty() ? 0 : result.origins.front()),
      static_cast<long long>(result.origins.empty() ? 0 : result.origins.back()), options.horizon,
      options.refit_every);
  std::printf("  %-14s %9s %12s %12s %10s %8s", "method", "forecasts", "MAE", "RMSE", "MAPE%",
              "MASE");
  for (double level : options.levels) std::printf(" %8s", ("cov" + Percent(level)).c_str());
  std::printf("\n");
  for (const MethodEvaluation& method : result.methods) {
    PrintAccuracyRow(method.name, method.overall);
    if (method.failed_origins > 0) {
      std::printf("  %-14s %lld origin(s) failed, first: %s\n", "",
                  static_cast<long long>(method.failed_origins), method.first_failure.c_str());
    }
  }
}

}  // namespace vigil::cli
