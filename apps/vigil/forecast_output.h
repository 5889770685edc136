// What `vigil forecast` prints: the --json contract objects and the human summaries
// (forecast_output.cc). The command (forecast_command.cc) fits and passes the results here.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vigil/models/forecast/arima.h"
#include "vigil/models/forecast/garch.h"
#include "vigil/models/forecast/rolling_origin.h"
#include "vigil/pipeline/forecast_series.h"

namespace vigil::cli {

// An ARIMA fit (arima or auto_arima) and its forecast.
struct ArimaRun {
  std::string model;  // "arima" or "auto_arima"
  ArimaModel fitted;
  ArimaForecast forecast;  // with intervals at the --level levels
  double fit_seconds = 0;
  int models_tried = 0;  // auto_arima only
};

// A GARCH fit, its variance and mean forecasts and the horizon's VaR / ES at 95% and 99%.
struct GarchRun {
  GarchModel fitted;
  std::vector<double> variance;
  std::vector<double> mean;
  GarchRisk risk;
  double fit_seconds = 0;
};

// {"model","order","coefficients","sigma2","loglik","aic","aicc","bic","forecast","se",
//  "fit_seconds"}; NaN values are null.
nlohmann::ordered_json ArimaJson(const ArimaRun& run);
// {"model","coefficients","se","loglik","variance_forecast","var","es","fit_seconds"}.
nlohmann::ordered_json GarchJson(const GarchRun& run);
// {"series","n","horizon","evaluation": RollingOriginResult::ToJson()}.
nlohmann::ordered_json EvaluationJson(const ForecastSeries& series,
                                      const RollingOriginResult& result);

// The fit summary and the forecast table (with a time column when the series is stamped).
void PrintArima(const ArimaRun& run, const ForecastSeries& series);
void PrintGarch(const GarchRun& run, const ForecastSeries& series);
// One row per method: MAE, RMSE, MAPE, MASE and coverage per level.
void PrintEvaluation(const ForecastSeries& series, const RollingOriginResult& result);

}  // namespace vigil::cli
