// What every Vigil anomaly detector shares: the `contamination` setting, the map from a
// detector's raw score to the 0..100 score people read, and the per-feature share helpers.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::Contamination contamination,
//                          vigil::Contamination::FromJson("lof", config));  // "auto" or 0.02
//   VIGIL_ASSIGN_OR_RETURN(vigil::ScoreCalibration calibration,
//                          vigil::ScoreCalibration::Fit(training_raw, contamination,
//                                                       /*native_threshold=*/1.5));
//   double score = calibration.Score(raw);   // 0..100; >= 80 exactly when Flag(raw)
//
// The threshold (a raw score; a row is flagged iff raw >= threshold):
// - contamination = fraction f: the (1 - f) quantile of the training raw scores (linear
//   interpolation, numpy's default), so about f of the training rows are flagged; when
//   scores tied at that quantile would flag more than 2f of the rows, the next larger
//   training score (nothing flagged when there is none), as scikit-learn flags only scores
//   strictly beyond its offset;
// - contamination = "auto" and the kind has a native threshold (isolation forests: 0.5 as
//   in scikit-learn; lof: LOF 1.5 as in scikit-learn; ocsvm: the decision boundary 0;
//   dbscan: the eps reach that makes a point noise): that threshold;
// - contamination = "auto" otherwise: Tukey's upper fence on the training raw scores,
//   Q3 + 1.5 * IQR (a distribution-free outlier rule); when IQR = 0 the smallest training raw
//   above Q3 (nothing flagged when there is none). The fraction of training rows at or above
//   it is the estimated contamination, reported by `contamination()`.
// The 0..100 map is piecewise linear and non-decreasing through the knots
//   (lo, 0), (median, 50), (threshold, 80), (hi, 100)
// where lo = the minimum training raw, median = the training median, hi = max(maximum
// training raw, threshold + spread) with spread = threshold - median (or a positive fallback
// when the median is not below the threshold); below lo the score is 0, above hi it is 100.
// A knot that would break strict ordering is dropped (the median when it is not strictly
// between lo and the threshold; lo is moved to threshold - spread when it is not below the
// threshold). Unflagged rows score strictly below 80, flagged rows at least 80.
// Thread-safety: immutable after Fit; const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil {

struct Contamination {
  bool automatic = true;  // "auto"
  double fraction = 0.0;  // when !automatic: in (0, 0.5]

  static Contamination Auto() { return {}; }
  static Contamination Fraction(double f) { return {false, f}; }
  Status Validate() const;
  // Reads config["contamination"] (absent -> `fallback`): the string "auto" or a number in
  // (0, 0.5]. Errors name the kind and key like every model config error.
  static Result<Contamination> FromJson(std::string_view kind, const nlohmann::json& config,
                                        Contamination fallback = Auto());
  nlohmann::json ToJson() const;  // "auto" or the number
};

class ScoreCalibration {
 public:
  static constexpr double kMedianScore = 50.0;
  static constexpr double kThresholdScore = 80.0;
  static constexpr double kMaxScore = 100.0;

  // Fits on the training rows' raw scores (at least 2, all finite; InvalidArgument
  // otherwise). `native_threshold` is used only when contamination is "auto".
  static Result<ScoreCalibration> Fit(std::span<const double> training_raw,
                                      const Contamination& contamination,
                                      std::optional<double> native_threshold = std::nullopt);

  double Score(double raw) const;  // 0..100 (NaN raw -> 0)
  bool Flag(double raw) const { return raw >= threshold_; }
  double threshold() const { return threshold_; }
  // The fraction of training rows flagged (the estimate when contamination is "auto").
  double contamination() const { return contamination_; }

  // {"lo", "median", "threshold", "hi", "contamination"}; FromJson validates it (DataError
  // naming the problem) and restores Score bit for bit.
  nlohmann::json ToJson() const;
  static Result<ScoreCalibration> FromJson(const nlohmann::json& doc);

 private:
  double lo_ = 0.0;
  double median_ = 0.0;
  double threshold_ = 0.0;
  double hi_ = 1.0;
  double contamination_ = 0.0;
};

// Fills AnomalyScores-style vectors from raw scores: score and flag by `calibration`, and
// contributions (rows x cols) sized and zeroed; the caller fills flagged rows' shares.
void ApplyCalibration(const ScoreCalibration& calibration, int64_t cols, AnomalyScores& scores);

// Scales non-negative weights in place to shares summing to 1 (all zero stays all zero;
// negative or NaN entries are treated as 0).
void NormalizeShares(std::span<double> weights);

// Quantile of `values` with linear interpolation between order statistics (Hyndman & Fan
// type 7, numpy's default); q in [0, 1]; precondition: values not empty.
double InterpolatedQuantile(std::vector<double> values, double q);

}  // namespace vigil
