// Probability calibration for binary classifiers: Platt scaling and isotonic regression,
// fitted on held-out predictions (never on the rows the classifier was fitted on), and the
// `calibrated` model kind that wraps a classifier with one.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::ProbabilityCalibrator platt,
//       vigil::ProbabilityCalibrator::Fit(vigil::CalibrationMethod::kPlatt, oof_probs, oof_y));
//   double p = platt.Apply(raw_probability);
//
// Platt: p = 1 / (1 + exp(A f + B)) with f = logit(clip(raw, 1e-15, 1 - 1e-15)), A and B
// minimising the log loss against Platt's smoothed targets (n+ + 1) / (n+ + 2) and
// 1 / (n- + 2); identical to scikit-learn's _sigmoid_calibration(logit(raw), y).
// Isotonic: the non-decreasing step fit of y on raw (pool adjacent violators, weighted),
// predicted by linear interpolation between the fitted points and clipped outside them;
// identical to sklearn.isotonic.IsotonicRegression(out_of_bounds="clip", y_min=0,
// y_max=1).
//
// Kind "calibrated" (a Classifier, binary): config {"base": {"kind": K, "params": {...}},
// "method": "platt"|"isotonic", "folds": 3, "gap_rows": 0}. Fit splits the rows, in time
// order, into folds + 1 consecutive blocks; for k = 1..folds it fits the base on blocks
// [0, k) (less the last gap_rows rows before block k) and predicts block k; the calibrator
// is fitted on those pooled held-out predictions and the base is refitted on every row.
// PredictProba = calibrator(base). Fit fails (InvalidArgument naming the fold) when a fold
// has no training rows left before the gap or its base cannot be fitted (e.g. one class).
// "method": "none" skips the folds (identity calibrator). The training job builds one
// directly from a fitted base and a calibrator fitted on its walk-forward out-of-fold
// predictions (FromParts; config() then records method and base, folds/gap_rows keep
// their defaults and only matter for a refit). Its
// ExplainableModel side is the base's: SHAP explains the base's raw margin (calibration is
// a monotone map applied after it). Weights: <dir>/calibrated.json and the base's files in
// <dir>/base/.
//
// Thread-safety: const methods concurrent; Fit/LoadWeights exclusive.
#pragma once

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

enum class CalibrationMethod { kNone, kPlatt, kIsotonic };
std::string_view CalibrationMethodName(CalibrationMethod method);  // "none", "platt", "isotonic"
Result<CalibrationMethod> ParseCalibrationMethod(std::string_view text);

class ProbabilityCalibrator {
 public:
  // The identity map (kNone).
  ProbabilityCalibrator() = default;

  // Fails on mismatched sizes, probabilities outside [0, 1] or non-finite, labels not in
  // {0, 1}, or a single class ("calibration needs both classes in the held-out rows").
  static Result<ProbabilityCalibrator> Fit(CalibrationMethod method, std::span<const double> probs,
                                           std::span<const int> labels,
                                           std::span<const double> weights = {});

  CalibrationMethod method() const { return method_; }
  // NaN stays NaN; other values are clipped to [0, 1] first.
  double Apply(double probability) const;
  std::vector<double> Apply(std::span<const double> probabilities) const;
  // How many held-out rows stand behind the calibrated value at `probability`: isotonic,
  // the weight of the fitted block (run of equal fitted values) it falls in, the lighter of
  // the two blocks when it is interpolated between two; Platt, every held-out row (their
  // total weight); identity, 0. NaN gives 0.
  // Used as the evidence of a risk level's confidence (risk_levels.h).
  double Evidence(double probability) const;

  nlohmann::json ToJson() const;
  // DataError naming `source` on a malformed document.
  static Result<ProbabilityCalibrator> FromJson(const nlohmann::json& json,
                                                const std::string& source);

 private:
  CalibrationMethod method_ = CalibrationMethod::kNone;
  double a_ = 0.0;  // Platt
  double b_ = 0.0;
  std::vector<double> x_;       // isotonic thresholds (increasing)
  std::vector<double> y_;       // fitted values (non-decreasing)
  std::vector<double> weight_;  // held-out weight behind each threshold's block
  double total_weight_ = 0.0;
};

class CalibratedClassifier final : public Classifier, public ExplainableModel {
 public:
  static constexpr std::string_view kKind = "calibrated";
  static constexpr std::string_view kWeightsFile = "calibrated.json";
  static constexpr std::string_view kBaseDir = "base";

  struct Options {
    std::string base_kind = "logistic";                     // a binary classifier kind
    nlohmann::json base_params = nlohmann::json::object();  // its config
    CalibrationMethod method = CalibrationMethod::kIsotonic;
    int folds = 3;         // >= 1
    int64_t gap_rows = 0;  // >= 0: rows dropped between a fold's training rows and its block
    // Also builds the base once: an unknown kind, bad params or a kind that is not a
    // binary classifier fail here (InvalidArgument naming the key).
    Status Validate() const;
    // FromJson completes base_params with the base kind's defaults (its config()).
    static Result<Options> FromJson(const nlohmann::json& config);
    nlohmann::json ToJson() const;
  };

  // The held-out predictions Fit calibrates on: rows (ascending) and the uncalibrated
  // P(label 1) of a base that was fitted only on earlier rows (blocks [0, k) less gap_rows).
  struct HeldOutPredictions {
    std::vector<int64_t> rows;
    std::vector<double> probabilities;
  };

  explicit CalibratedClassifier(Options options);
  // A fitted base (binary classifier) and a calibrator fitted on its held-out predictions.
  static Result<std::unique_ptr<CalibratedClassifier>> FromParts(std::unique_ptr<Model> base,
                                                                 ProbabilityCalibrator calibrator);

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  nlohmann::json Describe() const override;  // {"method", calibrator, "base": base Describe}
  bool fitted() const override;
  const std::vector<std::string>& feature_names() const override;

  Status Fit(const FeatureMatrix& x, std::span<const int> labels,
             std::span<const double> weights = {}) override;
  Result<ProbabilityMatrix> PredictProba(const FeatureMatrix& x) const override;
  int num_classes() const override { return 2; }
  // Step one of Fit, exposed so that callers and tests can see what the calibrator is
  // fitted on. Needs rows >= folds + 1. Does not change the model.
  Result<HeldOutPredictions> PredictHeldOut(const FeatureMatrix& x, std::span<const int> labels,
                                            std::span<const double> weights = {}) const;

  // The base's explanation (FailedPrecondition when the base kind has none).
  Result<std::vector<double>> RawMargin(const FeatureMatrix& x) const override;
  Result<Attributions> Shap(const FeatureMatrix& x) const override;
  Result<FeatureImportance> Importance() const override;

  const ProbabilityCalibrator& calibrator() const { return calibrator_; }
  const Model* base() const { return base_.get(); }

 private:
  Options options_;
  std::unique_ptr<Model> base_;
  ProbabilityCalibrator calibrator_;
};

}  // namespace vigil
