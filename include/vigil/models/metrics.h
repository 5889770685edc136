// Evaluation metrics for Vigil models: ranking (ROC AUC, average precision, precision@k),
// thresholded classification, probabilistic scores (Brier, log loss, calibration table),
// and regression / forecast errors (MAE, RMSE, MAPE, MASE, interval coverage).
//
// Each metric mirrors the named scikit-learn function (checked against sklearn 1.2.1, the
// version Debian 12 ships; fixture: tests/testdata/models/sklearn_metrics.json), so a
// number in a Vigil report means what it means in a Python notebook.
//
//   std::vector<int> labels = ...;       // 1 = event (e.g. liquidation), 0 = none
//   std::vector<double> probs = ...;     // a classifier's P(label = 1)
//   VIGIL_ASSIGN_OR_RETURN(double auc, vigil::RocAuc(labels, probs));
//   VIGIL_ASSIGN_OR_RETURN(vigil::ThresholdMetrics at_half,
//                          vigil::PrecisionRecallF1At(labels, probs, 0.5));
//
// Conventions shared by every function:
// - Inputs are spans the caller owns; nothing is retained after the call returns.
// - Paired spans must have the same non-zero length. Binary labels are 0 or 1. Scores,
//   probabilities and values must be finite (no NaN or infinity); probabilities lie in
//   [0, 1]. `weights` is optional: empty means every sample weighs 1; otherwise one
//   finite, non-negative weight per sample with a positive total (sklearn also accepts
//   negative weights; Vigil rejects them).
// - A violated precondition returns InvalidArgument naming the argument and, where there
//   is one, the first offending index. Nothing throws.
// - Sums use compensated (Neumaier) summation, so results agree with sklearn's pairwise
//   sums to about 1e-13 relative on the fixture sizes.
// Thread-safety: all functions are pure; call them from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vigil/core/status.h"

namespace vigil {

// ---------------------------------------------------------------------------------------
// Ranking metrics (scores may be any finite reals; only their order matters).

// Area under the ROC curve, by the trapezoid rule over the distinct score thresholds, so a
// run of tied scores contributes one diagonal segment (half credit for tied pairs).
// Mirrors sklearn.metrics.roc_auc_score(labels, scores, sample_weight=weights). Samples with
// zero weight are ignored, as in sklearn. O(n log n).
// Returns InvalidArgument unless both classes carry positive weight.
Result<double> RocAuc(std::span<const int> labels, std::span<const double> scores,
                      std::span<const double> weights = {});

// Average precision (area under the precision-recall curve as a step function, no
// interpolation): sum over distinct thresholds of (R_n - R_{n-1}) * P_n.
// Mirrors sklearn.metrics.average_precision_score(labels, scores, sample_weight=weights).
// Returns InvalidArgument if no positive carries weight (sklearn warns and returns 0).
Result<double> AveragePrecision(std::span<const int> labels, std::span<const double> scores,
                                std::span<const double> weights = {});

// Fraction of positives among the k samples with the highest scores. Ties are broken by
// original position (stable descending sort: among equal scores the earlier sample ranks
// higher), so the result is deterministic. No sklearn counterpart; the fixture computes it
// as labels[np.argsort(-scores, kind="stable")[:k]].mean().
// Precondition: 1 <= k <= labels.size().
Result<double> PrecisionAtK(std::span<const int> labels, std::span<const double> scores, int64_t k);

// ---------------------------------------------------------------------------------------
// Thresholded classification.

struct ThresholdMetrics {
  double precision = 0;  // tp / (tp + fp), 0 when nothing is predicted positive
  double recall = 0;     // tp / (tp + fn), 0 when there are no positives
  double f1 = 0;         // 2 * precision * recall / (precision + recall), 0 when both are 0
  int64_t tp = 0;
  int64_t fp = 0;
  int64_t fn = 0;
  int64_t tn = 0;
};

// Predicts positive where probs[i] >= threshold and compares with labels. Mirrors
// sklearn.metrics.precision_score / recall_score / f1_score with zero_division=0 on those
// predictions (f1 uses sklearn's 2PR / (P + R) form). `threshold` may be any finite value;
// `probs` must lie in [0, 1].
Result<ThresholdMetrics> PrecisionRecallF1At(std::span<const int> labels,
                                             std::span<const double> probs, double threshold);

// ---------------------------------------------------------------------------------------
// Probabilistic scores.

// Weighted mean of (label - prob)^2. Mirrors sklearn.metrics.brier_score_loss.
Result<double> BrierScore(std::span<const int> labels, std::span<const double> probs,
                          std::span<const double> weights = {});

// Binary cross-entropy, natural log. Mirrors sklearn.metrics.log_loss(labels, probs,
// sample_weight=weights, labels=[0, 1]) as of sklearn 1.2 (eps="auto"): each probability
// is clipped to [eps, 1 - eps] with eps = 2^-52 (float64 machine epsilon), the pair
// (1 - p, p) is renormalised by its sum, and the weighted mean of -log(p_label) is
// returned. A single-class label vector is accepted (sklearn needs labels=[0, 1] for that).
Result<double> LogLoss(std::span<const int> labels, std::span<const double> probs,
                       std::span<const double> weights = {});

// Multiclass cross-entropy over a row-major probability matrix `probs` (rows x num_classes,
// rows = labels.size()), labels in [0, num_classes). Mirrors sklearn.metrics.log_loss(
// labels, probs, sample_weight=weights, labels=range(num_classes)) as of sklearn 1.2: every
// entry is clipped to [eps, 1 - eps] (eps = 2^-52), each row is renormalised by its sum,
// and the weighted mean of -log(p[row, label]) is returned. Entries must lie in [0, 1];
// rows need not sum exactly to 1 (they are renormalised). Precondition: num_classes >= 2.
Result<double> MulticlassLogLoss(std::span<const int> labels, std::span<const double> probs,
                                 int num_classes, std::span<const double> weights = {});

enum class CalibrationStrategy {
  kUniform,   // edges linspace(0, 1, n_bins + 1)
  kQuantile,  // edges = numpy percentiles (linear method) of probs at linspace(0, 100, n + 1)
};

struct CalibrationBin {
  double lower = 0;              // the bin's left edge
  double upper = 0;              // the bin's right edge
  double mean_predicted = 0;     // mean of probs in the bin (sklearn's prob_pred)
  double fraction_positive = 0;  // fraction of labels == 1 in the bin (sklearn's prob_true)
  int64_t count = 0;             // samples in the bin (> 0)
};

// Reliability table. A sample goes to the bin whose interior edges satisfy
// lower < prob <= upper (numpy searchsorted, side="left", over the interior edges), so
// the first bin also holds prob == its lower edge and a prob equal to an interior edge
// falls in the lower bin. Empty bins are dropped (quantile edges may repeat on tied
// probabilities), so the table has at most n_bins rows, ordered by edge.
// Mirrors sklearn.calibration.calibration_curve(labels, probs, n_bins=n_bins,
// strategy="uniform" | "quantile"): mean_predicted and fraction_positive equal its
// prob_pred and prob_true. Precondition: n_bins >= 1.
Result<std::vector<CalibrationBin>> CalibrationTable(
    std::span<const int> labels, std::span<const double> probs, int n_bins = 10,
    CalibrationStrategy strategy = CalibrationStrategy::kUniform);

// ---------------------------------------------------------------------------------------
// Regression and forecast errors (actual and forecast: same length, finite).

// Weighted mean |actual - forecast|. Mirrors sklearn.metrics.mean_absolute_error.
Result<double> Mae(std::span<const double> actual, std::span<const double> forecast,
                   std::span<const double> weights = {});

// sqrt of the weighted mean (actual - forecast)^2. Mirrors
// sklearn.metrics.mean_squared_error(..., squared=False).
Result<double> Rmse(std::span<const double> actual, std::span<const double> forecast,
                    std::span<const double> weights = {});

// Weighted mean of |actual - forecast| / max(|actual|, eps), eps = 2^-52, as a fraction
// (0.05 means 5%, not 5). Mirrors sklearn.metrics.mean_absolute_percentage_error; like
// sklearn, an actual of 0 yields a huge but finite term rather than an error.
Result<double> Mape(std::span<const double> actual, std::span<const double> forecast,
                    std::span<const double> weights = {});

// Mean absolute scaled error (Hyndman & Koehler 2006, "Another look at measures of
// forecast accuracy", eq. for MASE): MAE(actual, forecast) divided by the in-sample MAE of
// the seasonal naive forecast on `training`, mean over t in [m, n) of
// |training[t] - training[t - m]|. m = 1 is the plain naive (random walk) forecast.
// Preconditions: m >= 1, training.size() > m, and the naive in-sample MAE is positive
// (a constant training series has no scale: InvalidArgument).
Result<double> Mase(std::span<const double> actual, std::span<const double> forecast,
                    std::span<const double> training, int m = 1);

// Fraction of i with lower[i] <= actual[i] <= upper[i] (bounds inclusive). Precondition:
// lower[i] <= upper[i] for every i.
Result<double> IntervalCoverage(std::span<const double> actual, std::span<const double> lower,
                                std::span<const double> upper);

}  // namespace vigil
