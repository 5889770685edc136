// Test-only classifier kinds for the wrapper kinds' tests (probability_calibration_test.cc,
// multi_horizon_test.cc):
// - "test_row_memorizer": column 0 holds the row's index. Fit remembers the indices it saw;
//   PredictProba says 1 for a row it saw (a leak) and otherwise encodes the largest index
//   it saw, so a held-out prediction reveals exactly which rows its model was fitted on.
// - "test_centroid": a small explainable linear classifier (margin = b + sum_j w_j (x_j -
//   mean_j), w_j = shrink * (class-1 mean - class-0 mean), b = logit of the weighted base
//   rate) with exact linear SHAP values, saved to centroid.json.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "vigil/core/text_file.h"
#include "vigil/models/model.h"

namespace vigil::testing_util {

class RowMemorizer final : public Classifier {
 public:
  static constexpr double kLeak = 1.0;
  // PredictProba for an unseen row: (largest seen index + 1) * kScale.
  static constexpr double kScale = 1e-6;

  std::string_view kind() const override { return "test_row_memorizer"; }
  nlohmann::json config() const override { return nlohmann::json::object(); }
  Status SaveWeights(const std::filesystem::path&) const override {
    return Unimplemented("test_row_memorizer is not saved");
  }
  Status LoadWeights(const std::filesystem::path&) override {
    return Unimplemented("test_row_memorizer is not saved");
  }
  nlohmann::json Describe() const override { return {{"seen", seen_.size()}}; }
  bool fitted() const override { return !seen_.empty(); }
  const std::vector<std::string>& feature_names() const override { return features_; }
  Status Fit(const FeatureMatrix& x, std::span<const int> labels,
             std::span<const double>) override {
    if (static_cast<int64_t>(labels.size()) != x.rows || x.rows == 0) {
      return InvalidArgument("test_row_memorizer: bad rows");
    }
    seen_.clear();
    for (int64_t row = 0; row < x.rows; ++row) seen_.insert(static_cast<int64_t>(x.at(row, 0)));
    features_ = x.columns;
    return Status::Ok();
  }
  Result<ProbabilityMatrix> PredictProba(const FeatureMatrix& x) const override {
    ProbabilityMatrix p;
    const double unseen = (static_cast<double>(*seen_.rbegin()) + 1) * kScale;
    for (int64_t row = 0; row < x.rows; ++row) {
      const double one = seen_.count(static_cast<int64_t>(x.at(row, 0))) ? kLeak : unseen;
      p.values.push_back(1 - one);
      p.values.push_back(one);
    }
    return p;
  }
  int num_classes() const override { return 2; }

  // The largest training index behind an unseen-row prediction.
  static int64_t LargestSeen(double probability) { return std::llround(probability / kScale) - 1; }

 private:
  std::set<int64_t> seen_;
  std::vector<std::string> features_;
};

class CentroidExplainer final : public Classifier, public ExplainableModel {
 public:
  static constexpr const char* kFile = "centroid.json";
  explicit CentroidExplainer(double shrink) : shrink_(shrink) {}

  std::string_view kind() const override { return "test_centroid"; }
  nlohmann::json config() const override { return {{"shrink", shrink_}}; }
  Status SaveWeights(const std::filesystem::path& dir) const override {
    const nlohmann::json doc = {
        {"features", features_}, {"w", w_}, {"mean", mean_}, {"bias", bias_}};
    return WriteFileAtomically((dir / kFile).string(), doc.dump());
  }
  Status LoadWeights(const std::filesystem::path& dir) override {
    const std::string path = (dir / kFile).string();
    VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
    const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("w")) {
      return DataError(path + ": corrupt");
    }
    features_ = doc["features"].get<std::vector<std::string>>();
    w_ = doc["w"].get<std::vector<double>>();
    mean_ = doc["mean"].get<std::vector<double>>();
    bias_ = doc["bias"].get<double>();
    return Status::Ok();
  }
  nlohmann::json Describe() const override { return {{"w", w_}, {"bias", bias_}}; }
  bool fitted() const override { return !w_.empty(); }
  const std::vector<std::string>& feature_names() const override { return features_; }

  Status Fit(const FeatureMatrix& x, std::span<const int> labels,
             std::span<const double> weights) override {
    const size_t cols = x.cols();
    std::vector<double> sum[2] = {std::vector<double>(cols), std::vector<double>(cols)};
    double total[2] = {0, 0};
    for (int64_t row = 0; row < x.rows; ++row) {
      const double weight = weights.empty() ? 1.0 : weights[row];
      total[labels[row]] += weight;
      for (size_t j = 0; j < cols; ++j) sum[labels[row]][j] += weight * x.at(row, j);
    }
    if (!(total[0] > 0 && total[1] > 0)) return InvalidArgument("test_centroid: one class");
    features_ = x.columns;
    w_.assign(cols, 0.0);
    mean_.assign(cols, 0.0);
    for (size_t j = 0; j < cols; ++j) {
      w_[j] = shrink_ * (sum[1][j] / total[1] - sum[0][j] / total[0]);
      mean_[j] = (sum[0][j] + sum[1][j]) / (total[0] + total[1]);
    }
    bias_ = std::log(total[1] / total[0]);
    return Status::Ok();
  }
  Result<ProbabilityMatrix> PredictProba(const FeatureMatrix& x) const override {
    VIGIL_ASSIGN_OR_RETURN(std::vector<double> margin, RawMargin(x));
    ProbabilityMatrix p;
    for (double z : margin) {
      const double one = 1.0 / (1.0 + std::exp(-z));
      p.values.push_back(1 - one);
      p.values.push_back(one);
    }
    return p;
  }
  int num_classes() const override { return 2; }

  Result<std::vector<double>> RawMargin(const FeatureMatrix& x) const override {
    if (x.cols() != w_.size()) return InvalidArgument("test_centroid: column count");
    std::vector<double> margin;
    for (int64_t row = 0; row < x.rows; ++row) {
      double z = bias_;
      for (size_t j = 0; j < w_.size(); ++j) z += w_[j] * (x.at(row, j) - mean_[j]);
      margin.push_back(z);
    }
    return margin;
  }
  Result<Attributions> Shap(const FeatureMatrix& x) const override {
    if (x.cols() != w_.size()) return InvalidArgument("test_centroid: column count");
    Attributions out;
    out.features = features_;
    out.rows = x.rows;
    for (int64_t row = 0; row < x.rows; ++row) {
      for (size_t j = 0; j < w_.size(); ++j)
        out.values.push_back(w_[j] * (x.at(row, j) - mean_[j]));
      out.values.push_back(bias_);
    }
    return out;
  }
  Result<FeatureImportance> Importance() const override {
    FeatureImportance out;
    out.features = features_;
    std::vector<double> magnitude;
    for (double w : w_) magnitude.push_back(std::abs(w));
    out.by_method["coefficient"] = magnitude;
    out.by_method["shrink"] = std::vector<double>(w_.size(), shrink_);
    return out;
  }

 private:
  double shrink_ = 1.0;
  std::vector<std::string> features_;
  std::vector<double> w_;
  std::vector<double> mean_;
  double bias_ = 0.0;
};

// Registers both kinds once per process.
inline void RegisterCalibrationTestKinds() {
  static const bool registered = [] {
    RegisterModelKind("test_row_memorizer", Task::kClassification,
                      [](const nlohmann::json&) -> Result<std::unique_ptr<Model>> {
                        return std::unique_ptr<Model>(std::make_unique<RowMemorizer>());
                      })
        .IgnoreError();
    RegisterModelKind("test_centroid", Task::kClassification,
                      [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
                        const double shrink =
                            config.is_object() ? config.value("shrink", 1.0) : 1.0;
                        return std::unique_ptr<Model>(std::make_unique<CentroidExplainer>(shrink));
                      })
        .IgnoreError();
    return true;
  }();
  (void)registered;
}

}  // namespace vigil::testing_util
