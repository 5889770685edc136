#include "vigil/models/anomaly/calibration.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>

#include "models/builtin_kinds.h"

namespace vigil {
namespace {

constexpr double kTukeyFence = 1.5;

// Tukey's upper fence, or when the IQR is 0 the smallest value above Q3 (+inf: none).
double TukeyThreshold(const std::vector<double>& sorted) {
  const double q1 = InterpolatedQuantile(sorted, 0.25);
  const double q3 = InterpolatedQuantile(sorted, 0.75);
  if (q3 > q1) return q3 + kTukeyFence * (q3 - q1);
  auto above = std::upper_bound(sorted.begin(), sorted.end(), q3);
  return above == sorted.end() ? INFINITY : *above;
}

// The (1 - fraction) quantile; when a run of scores tied at it would flag more than twice
// the fraction (a detector with many identical scores), the next larger score instead, as
// scikit-learn flags only scores strictly beyond its offset (+inf: nothing above).
double FractionThreshold(const std::vector<double>& sorted, double fraction) {
  const double quantile = InterpolatedQuantile(sorted, 1.0 - fraction);
  const auto first_flagged = std::lower_bound(sorted.begin(), sorted.end(), quantile);
  const double flagged = static_cast<double>(sorted.end() - first_flagged);
  if (flagged <= std::max(1.0, 2.0 * fraction * static_cast<double>(sorted.size()))) {
    return quantile;
  }
  const auto above = std::upper_bound(sorted.begin(), sorted.end(), quantile);
  return above == sorted.end() ? INFINITY : *above;
}

// A positive raw-score spread for the knots when the median is not below the threshold.
double FallbackSpread(double lo, double median, double threshold) {
  if (threshold > median) return threshold - median;
  if (threshold > lo) return threshold - lo;
  return std::max(std::abs(threshold), 1.0);
}

double Interpolate(double x, double x0, double y0, double x1, double y1) {
  return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

}  // namespace

double InterpolatedQuantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const size_t lower = static_cast<size_t>(std::floor(position));
  if (lower + 1 >= values.size()) return values.back();
  return values[lower] + (position - lower) * (values[lower + 1] - values[lower]);
}

Status Contamination::Validate() const {
  if (automatic) return Status::Ok();
  if (!(fraction > 0 && fraction <= 0.5)) {
    return InvalidArgument("contamination must be \"auto\" or in (0, 0.5], got " +
                           std::to_string(fraction));
  }
  return Status::Ok();
}

Result<Contamination> Contamination::FromJson(std::string_view kind, const nlohmann::json& config,
                                              Contamination fallback) {
  if (!config.is_object() || !config.contains("contamination")) return fallback;
  const nlohmann::json& value = config.at("contamination");
  if (value.is_string()) {
    if (value.get<std::string>() == "auto") return Auto();
    return models_internal::ConfigError(
        kind, "contamination",
        "'" + value.get<std::string>() + "' (expected \"auto\" or a number in (0, 0.5])");
  }
  if (!value.is_number()) {
    return models_internal::ConfigError(kind, "contamination",
                                        "expected \"auto\" or a number in (0, 0.5]");
  }
  const Contamination out = Fraction(value.get<double>());
  if (!out.Validate().ok()) {
    return models_internal::ConfigError(kind, "contamination", "must be \"auto\" or in (0, 0.5]");
  }
  return out;
}

nlohmann::json Contamination::ToJson() const {
  return automatic ? nlohmann::json("auto") : nlohmann::json(fraction);
}

Result<ScoreCalibration> ScoreCalibration::Fit(std::span<const double> training_raw,
                                               const Contamination& contamination,
                                               std::optional<double> native_threshold) {
  VIGIL_RETURN_IF_ERROR(contamination.Validate());
  if (training_raw.size() < 2) {
    return InvalidArgument("score calibration: need at least 2 training scores");
  }
  std::vector<double> sorted(training_raw.begin(), training_raw.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (!std::isfinite(sorted[i])) {
      return InvalidArgument("score calibration: training score " + std::to_string(i) +
                             " is not finite");
    }
  }
  std::sort(sorted.begin(), sorted.end());
  ScoreCalibration out;
  if (!contamination.automatic) {
    out.threshold_ = FractionThreshold(sorted, contamination.fraction);
  } else if (native_threshold.has_value()) {
    out.threshold_ = *native_threshold;
  } else {
    out.threshold_ = TukeyThreshold(sorted);
  }
  if (!std::isfinite(out.threshold_)) out.threshold_ = sorted.back() + 1.0;  // flags nothing
  out.lo_ = sorted.front();
  out.median_ = InterpolatedQuantile(sorted, 0.5);
  const double spread = FallbackSpread(out.lo_, out.median_, out.threshold_);
  out.hi_ = std::max(sorted.back(), out.threshold_ + spread);
  if (!(out.lo_ < out.threshold_)) out.lo_ = out.threshold_ - spread;
  const auto first_flagged = std::lower_bound(sorted.begin(), sorted.end(), out.threshold_);
  out.contamination_ = static_cast<double>(sorted.end() - first_flagged) / sorted.size();
  return out;
}

double ScoreCalibration::Score(double raw) const {
  if (std::isnan(raw)) return 0.0;
  if (raw >= threshold_) {
    if (raw >= hi_) return kMaxScore;
    return Interpolate(raw, threshold_, kThresholdScore, hi_, kMaxScore);
  }
  if (raw <= lo_) return 0.0;
  double score = 0.0;
  if (median_ > lo_ && median_ < threshold_) {
    score = raw <= median_ ? Interpolate(raw, lo_, 0.0, median_, kMedianScore)
                           : Interpolate(raw, median_, kMedianScore, threshold_, kThresholdScore);
  } else {
    score = Interpolate(raw, lo_, 0.0, threshold_, kThresholdScore);
  }
  // Rounding must not lift an unflagged row to the threshold score.
  return std::min(score, std::nextafter(kThresholdScore, 0.0));
}

nlohmann::json ScoreCalibration::ToJson() const {
  return {{"lo", lo_},
          {"median", median_},
          {"threshold", threshold_},
          {"hi", hi_},
          {"contamination", contamination_}};
}

Result<ScoreCalibration> ScoreCalibration::FromJson(const nlohmann::json& doc) {
  ScoreCalibration out;
  try {
    out.lo_ = doc.at("lo").get<double>();
    out.median_ = doc.at("median").get<double>();
    out.threshold_ = doc.at("threshold").get<double>();
    out.hi_ = doc.at("hi").get<double>();
    out.contamination_ = doc.at("contamination").get<double>();
  } catch (const std::exception& e) {
    return DataError(std::string("score calibration: ") + e.what());
  }
  for (double v : {out.lo_, out.median_, out.threshold_, out.hi_, out.contamination_}) {
    if (!std::isfinite(v)) return DataError("score calibration: a value is not finite");
  }
  if (!(out.lo_ < out.threshold_ && out.threshold_ < out.hi_)) {
    return DataError("score calibration: need lo < threshold < hi");
  }
  if (!(out.contamination_ >= 0 && out.contamination_ <= 1)) {
    return DataError("score calibration: contamination outside [0, 1]");
  }
  return out;
}

void ApplyCalibration(const ScoreCalibration& calibration, int64_t cols, AnomalyScores& scores) {
  const size_t rows = scores.raw.size();
  scores.score.resize(rows);
  scores.flag.resize(rows);
  for (size_t row = 0; row < rows; ++row) {
    scores.score[row] = calibration.Score(scores.raw[row]);
    scores.flag[row] = calibration.Flag(scores.raw[row]);
  }
  scores.contributions.assign(rows * static_cast<size_t>(cols), 0.0);
}

void NormalizeShares(std::span<double> weights) {
  double total = 0.0;
  for (double& w : weights) {
    if (!(w > 0)) w = 0.0;
    total += w;
  }
  if (!(total > 0) || !std::isfinite(total)) {
    std::fill(weights.begin(), weights.end(), 0.0);
    return;
  }
  for (double& w : weights) w /= total;
}

}  // namespace vigil
