// Kind "multi_horizon": one binary classifier per horizon (the liquidation model at 5, 15,
// 30 and 60 minutes), trained in one job, registered as one version and served together,
// so a query gets every horizon from the same model version.
//
//   std::vector<std::unique_ptr<vigil::Model>> per_horizon = ...;  // fitted, same features
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::MultiHorizonClassifier::FromModels(
//                                          {5 * kNanosPerMinute, 15 * kNanosPerMinute},
//                                          std::move(per_horizon)));
//   VIGIL_ASSIGN_OR_RETURN(std::vector<double> p, model->PredictHorizons(x));  // rows x H
//
// Config: {"horizons": ["5m", "15m", ...], "base": {"kind": K, "params": {...}},
// "primary": "15m"}. horizons: durations (core/timestamp.h ParseDuration), distinct and
// increasing, default ["5m", "15m", "30m", "1h"]; base: a binary classifier kind and its
// params, shared by every horizon (default logistic); primary: the horizon PredictProba
// answers (default the first). Config errors are InvalidArgument naming the key.
// Fit(x, labels) fits every horizon's base on the same labels (useful only in tests); a
// training job uses FitHorizons with one label vector per horizon. Explanations: one
// output per horizon (Attributions.outputs = H, RawMargin rows x H), available when every
// base explains itself. Importance: the mean over horizons of each method. Weights:
// <dir>/multi_horizon.json and each base's files in <dir>/h<duration>/ (e.g. h5m/);
// LoadWeights fails naming the file (DataError when corrupt) and leaves the model as it was.
//
// Thread-safety: const methods concurrent; Fit/LoadWeights exclusive.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil {

class MultiHorizonClassifier final : public Classifier, public ExplainableModel {
 public:
  static constexpr std::string_view kKind = "multi_horizon";

  struct Options {
    std::vector<int64_t> horizons_ns;  // distinct, increasing, > 0
    std::string base_kind = "logistic";
    nlohmann::json base_params = nlohmann::json::object();
    int64_t primary_ns = 0;  // 0 = the first horizon
    Status Validate() const;
    static Result<Options> FromJson(const nlohmann::json& config);
    nlohmann::json ToJson() const;
  };

  explicit MultiHorizonClassifier(Options options);
  // Fitted binary classifiers of one kind, one config and one feature list, one per
  // horizon (same order); InvalidArgument naming the horizon that differs. Primary: the
  // first horizon.
  static Result<std::unique_ptr<MultiHorizonClassifier>> FromModels(
      std::vector<int64_t> horizons_ns, std::vector<std::unique_ptr<Model>> models);

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  nlohmann::json Describe() const override;  // {"horizons": {"5m": base Describe, ...}}
  bool fitted() const override;
  const std::vector<std::string>& feature_names() const override;

  Status Fit(const FeatureMatrix& x, std::span<const int> labels,
             std::span<const double> weights = {}) override;
  Status FitHorizons(const FeatureMatrix& x, const std::vector<std::vector<int>>& labels,
                     std::span<const double> weights = {});
  Result<ProbabilityMatrix> PredictProba(const FeatureMatrix& x) const override;  // primary
  int num_classes() const override { return 2; }
  // P(event within horizon k) for each row: rows x H, row-major.
  Result<std::vector<double>> PredictHorizons(const FeatureMatrix& x) const;
  const std::vector<int64_t>& horizons_ns() const { return options_.horizons_ns; }
  const Model& horizon_model(size_t k) const { return *models_[k]; }

  Result<std::vector<double>> RawMargin(const FeatureMatrix& x) const override;
  Result<Attributions> Shap(const FeatureMatrix& x) const override;
  Result<FeatureImportance> Importance() const override;

 private:
  Options options_;
  std::vector<std::unique_ptr<Model>> models_;
};

}  // namespace vigil
