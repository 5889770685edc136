// Kind "ocsvm": the one-class support vector machine (Schölkopf, Platt, Shawe-Taylor, Smola &
// Williamson, "Estimating the Support of a High-Dimensional Distribution", Neural
// Computation 2001), trained by libsvm (Chang & Lin) with scikit-learn's OneClassSVM
// semantics and defaults: the same solver, so decision values agree with scikit-learn's.
//
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::CreateModel("ocsvm", {{"nu", 0.05}}));
//   auto* detector = vigil::AsAnomalyDetector(model.get());
//   VIGIL_RETURN_IF_ERROR(detector->Fit(train));
//   VIGIL_ASSIGN_OR_RETURN(vigil::AnomalyScores scores, detector->Score(live));
//
// Decision function: f(x) = sum_i alpha_i K(sv_i, x) - rho (scikit-learn's
// decision_function: positive inside the learned support, negative outside).
// Raw score = -f(x), so higher is more anomalous.
// Kernels: rbf exp(-gamma |x - y|^2), linear x.y, poly (gamma x.y + coef0)^degree,
// sigmoid tanh(gamma x.y + coef0).
// Threshold: contamination "auto" -> the decision boundary: flagged iff f(x) < 0, i.e.
// raw > 0 (scikit-learn's predict() == -1); a fraction f -> the (1 - f) quantile of the
// training raw scores. Score 80 at the threshold.
// Contributions: leave-one-feature-out. share_j = max(0, raw(x) - raw(x with x_j replaced by
// the training median of feature j)), normalised to sum to 1: how much of the row's
// anomaly goes away when that one feature is made typical. One extra decision-function
// evaluation per feature, made cheap by updating the row's squared distances (rbf) or dot
// products (other kernels) to every support vector in the one changed coordinate; rows
// that no single feature explains get all-zero shares.
// Evaluation: libsvm trains; decision values are then computed densely with Eigen, a block
// of rows at a time (one matrix product against the support vectors, then the kernel),
// equal to libsvm's svm_predict_values up to rounding (9.6e-11 from scikit-learn's on the
// 20k x 20 benchmark rows). FitScore reuses the training decision values Fit computes for
// the calibration.
//
// Configuration (all optional; defaults are scikit-learn's):
//   "kernel"         "rbf" (default), "linear", "poly" or "sigmoid"
//   "nu"             upper bound on the training error fraction, (0, 1] (default 0.5)
//   "gamma"          "scale" (default: 1 / (n_features * variance of all training values),
//                    1 when that variance is 0), "auto" (1 / n_features) or a number > 0
//   "degree"         poly degree, >= 1 (default 3)
//   "coef0"          poly / sigmoid offset (default 0.0)
//   "tol"            libsvm's stopping tolerance, > 0 (default 1e-3)
//   "shrinking"      libsvm's shrinking heuristic (default true)
//   "cache_size"     kernel cache in MB, > 0 (default 200)
//   "standardize"    z-score features with the training mean / population sd first
//                    (default false, as scikit-learn)
//   "contamination"  "auto" (default) or a fraction in (0, 0.5]
// Inputs: finite values only; Fit needs >= 2 rows. libsvm's parameter check failures are
// InvalidArgument carrying libsvm's message; libsvm's console output is silenced.
// Weight files: <dir>/ocsvm.model (libsvm's svm_save_model format, readable by libsvm's
// tools) and <dir>/ocsvm.json (scaling, gamma, medians, calibration, and the support vectors
// at full precision: libsvm writes their coordinates with 8 significant digits, so they
// are restored from ocsvm.json, after checking that both files agree, to give scores bit
// for bit equal to the saved model's).
// Thread-safety: as for every Model (const methods concurrent, Fit/LoadWeights exclusive).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/anomaly/calibration.h"
#include "vigil/models/model.h"

namespace vigil {

namespace models_internal {
class SvmModel;
class DenseDecision;
}  // namespace models_internal

struct OneClassSvmOptions {
  enum class Kernel { kRbf, kLinear, kPoly, kSigmoid };
  enum class GammaRule { kScale, kAuto, kValue };

  Kernel kernel = Kernel::kRbf;
  double nu = 0.5;  // (0, 1]
  GammaRule gamma_rule = GammaRule::kScale;
  double gamma = 0.0;  // when gamma_rule == kValue: > 0
  int degree = 3;      // >= 1
  double coef0 = 0.0;
  double tol = 1e-3;  // > 0
  bool shrinking = true;
  double cache_size = 200.0;  // MB, > 0
  bool standardize = false;
  Contamination contamination = Contamination::Auto();

  Status Validate() const;
  static Result<OneClassSvmOptions> FromJson(const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key, defaults included
};

class OneClassSvm final : public AnomalyDetector {
 public:
  static constexpr std::string_view kKind = "ocsvm";
  static constexpr std::string_view kModelFile = "ocsvm.model";
  static constexpr std::string_view kWeightsFile = "ocsvm.json";
  static constexpr double kNativeThreshold = 0.0;  // raw = -decision; flagged iff decision < 0

  explicit OneClassSvm(OneClassSvmOptions options = {});
  ~OneClassSvm() override;
  OneClassSvm(OneClassSvm&&) noexcept;
  OneClassSvm& operator=(OneClassSvm&&) noexcept;

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  // {"support_vectors", "gamma", "rho", "threshold", "contamination", ...}.
  nlohmann::json Describe() const override;
  bool fitted() const override { return fitted_; }
  const std::vector<std::string>& feature_names() const override { return feature_names_; }

  Status Fit(const FeatureMatrix& x) override;
  Result<AnomalyScores> Score(const FeatureMatrix& x) const override;
  Result<std::vector<double>> Contributions(const FeatureMatrix& x) const override;
  // Fit, then the training rows' scores from the decision values Fit computed anyway.
  Result<AnomalyScores> FitScore(const FeatureMatrix& x) override;

  // scikit-learn's decision_function for each row (positive = inside the support).
  Result<std::vector<double>> DecisionFunction(const FeatureMatrix& x) const;
  double gamma() const { return gamma_; }  // the gamma in use (after "scale" / "auto")
  int support_vectors() const;
  const ScoreCalibration& calibration() const { return calibration_; }

 private:
  Result<std::vector<double>> Prepare(const FeatureMatrix& x) const;
  // Fit, also giving the prepared training rows and their raw scores.
  Status FitPrepared(const FeatureMatrix& x, std::vector<double>& points, std::vector<double>& raw);
  void BuildDenseDecision();  // from svm_ once its support vectors are final
  // Raw scores (-decision) of prepared rows.
  std::vector<double> RawScores(const std::vector<double>& points, int64_t rows) const;
  // Leave-one-feature-out shares of the given prepared rows, written to their rows of
  // `shares` (row-major, one value per feature).
  void LeaveOneOutShares(const std::vector<double>& points, std::span<const int64_t> rows,
                         std::span<double> shares) const;
  void FillFlaggedShares(const std::vector<double>& points, AnomalyScores& scores) const;

  OneClassSvmOptions options_;
  bool fitted_ = false;
  std::vector<std::string> feature_names_;
  std::vector<double> scaling_mean_;   // empty unless standardize
  std::vector<double> scaling_scale_;  // empty unless standardize
  std::vector<double> medians_;        // training medians (scaled), for contributions
  double gamma_ = 0.0;
  std::unique_ptr<models_internal::SvmModel> svm_;
  std::unique_ptr<models_internal::DenseDecision> dense_;  // svm_'s decision function
  ScoreCalibration calibration_;
};

}  // namespace vigil
