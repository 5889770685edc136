// A tiny classifier kind for registry and CLI tests ("test_threshold"): P(class 1) =
// sigmoid(x0 - threshold). Its weight file carries optional padding so that a write takes
// long enough to be interrupted by a kill.
#pragma once

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vigil/core/text_file.h"
#include "vigil/models/model.h"

namespace vigil::testing_util {

class ThresholdModel final : public Classifier {
 public:
  explicit ThresholdModel(double padding_kb) : padding_kb_(padding_kb) {}

  std::string_view kind() const override { return "test_threshold"; }
  nlohmann::json config() const override { return {{"padding_kb", padding_kb_}}; }
  Status SaveWeights(const std::filesystem::path& dir) const override {
    const std::string padding(static_cast<size_t>(padding_kb_ * 1024), 'x');
    const nlohmann::json json = {
        {"threshold", threshold_}, {"features", features_}, {"padding", padding}};
    return WriteFileAtomically((dir / "threshold.json").string(), json.dump());
  }
  Status LoadWeights(const std::filesystem::path& dir) override {
    VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString((dir / "threshold.json").string()));
    const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
    if (json.is_discarded() || !json.contains("threshold")) {
      return DataError((dir / "threshold.json").string() + ": corrupt");
    }
    threshold_ = json["threshold"].get<double>();
    features_ = json["features"].get<std::vector<std::string>>();
    fitted_ = true;
    return Status::Ok();
  }
  nlohmann::json Describe() const override { return {{"threshold", threshold_}}; }
  bool fitted() const override { return fitted_; }
  const std::vector<std::string>& feature_names() const override { return features_; }
  Status Fit(const FeatureMatrix& x, std::span<const int>, std::span<const double>) override {
    threshold_ = x.rows > 0 ? x.at(0, 0) : 0;
    features_ = x.columns;
    fitted_ = true;
    return Status::Ok();
  }
  Result<ProbabilityMatrix> PredictProba(const FeatureMatrix& x) const override {
    ProbabilityMatrix p;
    for (int64_t r = 0; r < x.rows; ++r) {
      const double one = 1 / (1 + std::exp(threshold_ - x.at(r, 0)));
      p.values.push_back(1 - one);
      p.values.push_back(one);
    }
    return p;
  }
  int num_classes() const override { return 2; }

  void set_threshold(double t) {
    threshold_ = t;
    features_ = {"f0"};
    fitted_ = true;
  }

 private:
  double padding_kb_;
  double threshold_ = 0;
  std::vector<std::string> features_;
  bool fitted_ = false;
};

// Registers "test_threshold" with the model factory (once per process); returns the
// registration status (OK, or the first registration's error).
Status RegisterTestKind();

}  // namespace vigil::testing_util
