// Private to vigil_models: the Forecaster adapter shared by the forecasting kinds
// (forecast_kinds.cc). A kind is a traits struct over its engine (ArimaModel, GarchModel,
// ...); the adapter does the bookkeeping every kind needs the same way: fitted state, the
// {"y"} feature list, error context, and the weights file
//   <dir>/<kind>.json = {"format": "vigil.<kind>", "version": 1, "model": <engine JSON>}
// whose every failure is DataError (IoError when unreadable) naming the file.
//
// Traits provide:
//   static constexpr std::string_view kKind;
//   using Options; using Engine;
//   static Result<Options> ParseConfig(const nlohmann::json& config);
//   static nlohmann::json Config(const Options& options);
//   static Result<Engine> Fit(std::span<const double> y, const Options& options);
//   static Result<ForecastPath> Forecast(const Engine&, int horizon, std::span<const double>);
//   static Status Append(Engine&, std::span<const double> values);
//   static nlohmann::json Describe(const Engine&);        // merged into Describe()
//   static nlohmann::json ToJson(const Engine&);
//   static Result<Engine> FromJson(const nlohmann::json& model, const Options& options);
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/builtin_kinds.h"
#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil::models_internal {

constexpr int kForecastWeightsVersion = 1;

// Writes {"format": "vigil.<kind>", "version": 1, "model": model} to <dir>/<kind>.json.
Status SaveForecastWeights(const std::filesystem::path& dir, std::string_view kind,
                           const nlohmann::json& model);
// Reads <dir>/<kind>.json, checks format and version, and returns its "model" object.
Result<nlohmann::json> LoadForecastWeights(const std::filesystem::path& dir, std::string_view kind);
// The weights file of `kind` in `dir`.
std::filesystem::path ForecastWeightsPath(const std::filesystem::path& dir, std::string_view kind);
// A JSON number, or null for NaN and infinities (JSON has no NaN; null also compares equal
// to itself, so Describe() of a reloaded model equals the original's).
nlohmann::json JsonNumber(double value);

template <typename Traits>
class TraitsForecaster final : public Forecaster {
 public:
  using Options = typename Traits::Options;
  using Engine = typename Traits::Engine;

  explicit TraitsForecaster(Options options) : options_(std::move(options)) {}

  std::string_view kind() const override { return Traits::kKind; }
  nlohmann::json config() const override { return Traits::Config(options_); }
  bool fitted() const override { return engine_ != nullptr; }
  const std::vector<std::string>& feature_names() const override { return feature_names_; }

  Status Fit(std::span<const double> series) override {
    Result<Engine> engine = Traits::Fit(series, options_);
    if (!engine.ok()) return engine.status().WithContext(Context());
    Install(std::move(*engine));
    return Status::Ok();
  }

  Result<ForecastPath> Forecast(int horizon, std::span<const double> levels) const override {
    if (!fitted()) return FailedPrecondition(Context() + ": not fitted");
    Result<ForecastPath> path = Traits::Forecast(*engine_, horizon, levels);
    if (!path.ok()) return path.status().WithContext(Context());
    return path;
  }

  Status Append(std::span<const double> values) override {
    if (!fitted()) return FailedPrecondition(Context() + ": not fitted");
    return Traits::Append(*engine_, values).WithContext(Context());
  }

  nlohmann::json Describe() const override {
    nlohmann::json out = {{"kind", Traits::kKind}, {"fitted", fitted()}};
    if (fitted()) out.update(Traits::Describe(*engine_));
    return out;
  }

  Status SaveWeights(const std::filesystem::path& dir) const override {
    if (!fitted()) return FailedPrecondition(Context() + ": not fitted, nothing to save");
    return SaveForecastWeights(dir, Traits::kKind, Traits::ToJson(*engine_));
  }

  Status LoadWeights(const std::filesystem::path& dir) override {
    VIGIL_ASSIGN_OR_RETURN(nlohmann::json model, LoadForecastWeights(dir, Traits::kKind));
    Result<Engine> engine = Traits::FromJson(model, options_);
    if (!engine.ok()) {
      return DataError(ForecastWeightsPath(dir, Traits::kKind).string() + ": " +
                       engine.status().message());
    }
    Install(std::move(*engine));
    return Status::Ok();
  }

 private:
  std::string Context() const { return "model '" + std::string(Traits::kKind) + "'"; }
  void Install(Engine engine) {
    engine_ = std::make_unique<Engine>(std::move(engine));
    feature_names_ = {"y"};
  }

  Options options_;
  std::unique_ptr<Engine> engine_;  // null until fitted or loaded
  std::vector<std::string> feature_names_;
};

// The registration of a traits kind: config parsed (and validated) by Traits::ParseConfig.
template <typename Traits>
KindRegistration TraitsKindRegistration() {
  return {std::string(Traits::kKind), Task::kForecast,
          [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
            VIGIL_ASSIGN_OR_RETURN(typename Traits::Options options, Traits::ParseConfig(config));
            return std::unique_ptr<Model>(
                std::make_unique<TraitsForecaster<Traits>>(std::move(options)));
          }};
}

}  // namespace vigil::models_internal
