// Private to vigil_models: the built-in kinds and the configuration-parsing helpers they
// share. The factory in model.cc registers the built-in kinds on its first use (static
// self-registration is unreliable in static libraries: the linker drops unreferenced
// object files).
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil::models_internal {

struct KindRegistration {
  std::string kind;
  Task task;
  ModelFactory factory;
};

// Implemented beside each baseline.
KindRegistration LogisticRegressionKind();  // logistic_regression.cc
KindRegistration RidgeRegressionKind();     // ridge_regression.cc
KindRegistration RobustZscoreKind();        // robust_zscore.cc
// The anomaly family (src/models/anomaly/, one file each).
KindRegistration IsolationForestKind();
KindRegistration ExtendedIsolationForestKind();
KindRegistration LocalOutlierFactorKind();
KindRegistration OneClassSvmKind();
KindRegistration DbscanKind();
KindRegistration EcodKind();
KindRegistration EnsembleKind();
// Supervised risk models (src/models/xgboost/xgboost_kinds.cc and beside each class).
KindRegistration XGBoostKind();                // "xgboost" (classification)
KindRegistration XGBoostRegressorKind();       // "xgboost_regressor"
KindRegistration RandomForestKind();           // "random_forest" (XGBoost's forest mode)
KindRegistration RandomForestRegressorKind();  // "random_forest_regressor"
KindRegistration CalibratedKind();             // calibrated_classifier.cc
KindRegistration MultiHorizonKind();           // multi_horizon.cc
// Forecasting (src/models/forecast/forecast_kinds.cc).
KindRegistration ArimaKind();          // "arima"
KindRegistration AutoArimaKind();      // "auto_arima"
KindRegistration GarchKind();          // "garch"
KindRegistration NaiveForecastKind();  // "naive" (random walk)
KindRegistration DriftForecastKind();  // "drift" (random walk with drift)

// Configuration parsing shared by the kinds. Every failure is InvalidArgument naming the
// kind and the key ("model 'logistic': config key 'C': must be > 0").

// `config` must be null (all defaults) or an object whose keys are all in `known`.
Status CheckConfigKeys(std::string_view kind, const nlohmann::json& config,
                       std::initializer_list<std::string_view> known);
// The value at `key` (or `fallback` when absent), type-checked.
Result<double> ConfigNumber(std::string_view kind, const nlohmann::json& config,
                            std::string_view key, double fallback);
Result<int> ConfigInt(std::string_view kind, const nlohmann::json& config, std::string_view key,
                      int fallback);
Result<bool> ConfigBool(std::string_view kind, const nlohmann::json& config, std::string_view key,
                        bool fallback);
Result<std::string> ConfigString(std::string_view kind, const nlohmann::json& config,
                                 std::string_view key, std::string fallback);
// InvalidArgument "model '<kind>': config key '<key>': <what>".
Status ConfigError(std::string_view kind, std::string_view key, std::string_view what);

// Checks that `x` has the fitted columns, in order (InvalidArgument naming the first
// difference).
Status CheckColumns(std::string_view kind, const std::vector<std::string>& fitted,
                    const FeatureMatrix& x);

}  // namespace vigil::models_internal
