// Evaluation metrics; see include/vigil/models/metrics.h for the contract and the
// scikit-learn function each one mirrors. Where sklearn's exact floating-point steps
// decide a result (log-loss renormalisation, calibration bin edges and sums) they are
// reproduced step by step; elsewhere sums are compensated so they agree with sklearn's
// pairwise sums to well under 1e-12 relative.
#include "vigil/models/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>

namespace vigil {
namespace {

// sklearn 1.2 log_loss(eps="auto") and mean_absolute_percentage_error both use the float64
// machine epsilon.
constexpr double kEps = std::numeric_limits<double>::epsilon();

// Neumaier's variant of Kahan summation: the running error term also survives addends
// larger than the running sum.
class CompensatedSum {
 public:
  void Add(double x) {
    const double t = sum_ + x;
    if (std::abs(sum_) >= std::abs(x)) {
      compensation_ += (sum_ - t) + x;
    } else {
      compensation_ += (x - t) + sum_;
    }
    sum_ = t;
  }
  double Total() const { return sum_ + compensation_; }

 private:
  double sum_ = 0;
  double compensation_ = 0;
};

Status Bad(std::string_view metric, const std::string& what) {
  return InvalidArgument(std::string(metric) + ": " + what);
}

Status CheckSameSize(std::string_view metric, std::string_view a_name, size_t a_size,
                     std::string_view b_name, size_t b_size) {
  if (a_size == 0) return Bad(metric, std::string(a_name) + " is empty");
  if (a_size != b_size) {
    return Bad(metric, std::string(a_name) + " has " + std::to_string(a_size) + " elements but " +
                           std::string(b_name) + " has " + std::to_string(b_size));
  }
  return Status::Ok();
}

Status CheckFinite(std::string_view metric, std::string_view name, std::span<const double> values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return Bad(metric, std::string(name) + "[" + std::to_string(i) + "] is " +
                             (std::isnan(values[i]) ? "NaN" : "infinite"));
    }
  }
  return Status::Ok();
}

Status CheckProbabilities(std::string_view metric, std::string_view name,
                          std::span<const double> values) {
  VIGIL_RETURN_IF_ERROR(CheckFinite(metric, name, values));
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0.0 || values[i] > 1.0) {
      return Bad(metric, std::string(name) + "[" + std::to_string(i) +
                             "] = " + std::to_string(values[i]) + " is outside [0, 1]");
    }
  }
  return Status::Ok();
}

Status CheckLabelRange(std::string_view metric, std::span<const int> labels, int num_classes) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      return Bad(metric,
                 "labels[" + std::to_string(i) + "] = " + std::to_string(labels[i]) +
                     (num_classes == 2 ? " is not 0 or 1"
                                       : " is outside [0, " + std::to_string(num_classes) + ")"));
    }
  }
  return Status::Ok();
}

// Empty weights mean "all ones"; otherwise one finite, non-negative weight per sample with
// a positive total.
Status CheckWeights(std::string_view metric, std::span<const double> weights, size_t n) {
  if (weights.empty()) return Status::Ok();
  if (weights.size() != n) {
    return Bad(metric, "weights has " + std::to_string(weights.size()) +
                           " elements but there are " + std::to_string(n) + " samples");
  }
  VIGIL_RETURN_IF_ERROR(CheckFinite(metric, "weights", weights));
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (weights[i] < 0.0) {
      return Bad(metric, "weights[" + std::to_string(i) + "] is negative");
    }
    total += weights[i];
  }
  if (!(total > 0.0)) return Bad(metric, "weights sum to zero");
  return Status::Ok();
}

// Labels 0/1 paired with finite scores (any reals) or probabilities (in [0, 1]).
Status CheckBinary(std::string_view metric, std::span<const int> labels,
                   std::span<const double> values, std::string_view values_name, bool probabilities,
                   std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(CheckSameSize(metric, "labels", labels.size(), values_name, values.size()));
  VIGIL_RETURN_IF_ERROR(CheckLabelRange(metric, labels, 2));
  VIGIL_RETURN_IF_ERROR(probabilities ? CheckProbabilities(metric, values_name, values)
                                      : CheckFinite(metric, values_name, values));
  return CheckWeights(metric, weights, labels.size());
}

Status CheckRegression(std::string_view metric, std::span<const double> actual,
                       std::span<const double> forecast, std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(
      CheckSameSize(metric, "actual", actual.size(), "forecast", forecast.size()));
  VIGIL_RETURN_IF_ERROR(CheckFinite(metric, "actual", actual));
  VIGIL_RETURN_IF_ERROR(CheckFinite(metric, "forecast", forecast));
  return CheckWeights(metric, weights, actual.size());
}

double WeightAt(std::span<const double> weights, size_t i) {
  return weights.empty() ? 1.0 : weights[i];
}

// np.average(term(i), weights=weights): sum(w * term) / sum(w).
template <typename Term>
double WeightedMean(size_t n, std::span<const double> weights, Term term) {
  CompensatedSum numerator;
  CompensatedSum denominator;
  for (size_t i = 0; i < n; ++i) {
    const double w = WeightAt(weights, i);
    numerator.Add(w * term(i));
    denominator.Add(w);
  }
  return numerator.Total() / denominator.Total();
}

// One point of the binary classification curve per distinct score, from the highest
// score down: cumulative positive and negative weight at or above that score
// (sklearn.metrics._ranking._binary_clf_curve).
struct CurvePoint {
  double tps = 0;
  double fps = 0;
};

std::vector<CurvePoint> BinaryCurve(std::span<const int> labels, std::span<const double> scores,
                                    std::span<const double> weights) {
  std::vector<size_t> order;
  order.reserve(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    // sklearn drops zero-weight samples so they cannot create thresholds.
    if (WeightAt(weights, i) != 0.0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  std::vector<CurvePoint> curve;
  CompensatedSum tps;
  CompensatedSum fps;
  for (size_t pos = 0; pos < order.size(); ++pos) {
    const size_t i = order[pos];
    (labels[i] == 1 ? tps : fps).Add(WeightAt(weights, i));
    const bool last_of_run = pos + 1 == order.size() || scores[order[pos + 1]] != scores[i];
    if (last_of_run) curve.push_back({tps.Total(), fps.Total()});
  }
  return curve;
}

double PercentileLinear(std::span<const double> sorted, double q) {
  // numpy.percentile(method="linear") as numpy 1.24 evaluates it, so bin edges (and which
  // bin a probability equal to an edge falls in) match sklearn bit for bit.
  const double fraction = q / 100.0;
  const size_t n = sorted.size();
  const double virtual_index = static_cast<double>(n - 1) * fraction;
  if (virtual_index >= static_cast<double>(n - 1)) return sorted[n - 1];
  const double previous = std::floor(virtual_index);
  const double gamma = virtual_index - previous;
  const double a = sorted[static_cast<size_t>(previous)];
  const double b = sorted[static_cast<size_t>(previous) + 1];
  const double diff = b - a;
  return gamma >= 0.5 ? b - diff * (1.0 - gamma) : a + diff * gamma;
}

std::vector<double> CalibrationEdges(std::span<const double> probs, int n_bins,
                                     CalibrationStrategy strategy) {
  // numpy.linspace(0, 1, n_bins + 1): i * step, with the last edge set to exactly 1.
  const double step = 1.0 / n_bins;
  std::vector<double> edges(n_bins + 1);
  for (int i = 0; i < n_bins; ++i) edges[i] = i * step + 0.0;
  edges[n_bins] = 1.0;
  if (strategy == CalibrationStrategy::kUniform) return edges;
  std::vector<double> sorted(probs.begin(), probs.end());
  std::sort(sorted.begin(), sorted.end());
  for (double& edge : edges) edge = PercentileLinear(sorted, edge * 100.0);
  return edges;
}

}  // namespace

Result<double> RocAuc(std::span<const int> labels, std::span<const double> scores,
                      std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(CheckBinary("RocAuc", labels, scores, "scores", false, weights));
  const std::vector<CurvePoint> curve = BinaryCurve(labels, scores, weights);
  const CurvePoint total = curve.back();
  if (total.tps <= 0.0 || total.fps <= 0.0) {
    return Bad("RocAuc", "labels contain a single class; ROC AUC needs both 0 and 1");
  }
  // Trapezoid rule over the distinct thresholds (sklearn roc_curve + auc), in unnormalised
  // units so unweighted areas are exact integer/2 sums until the final division.
  CompensatedSum area;
  CurvePoint previous;
  for (const CurvePoint& point : curve) {
    area.Add((point.fps - previous.fps) * (point.tps + previous.tps) * 0.5);
    previous = point;
  }
  return area.Total() / (total.tps * total.fps);
}

Result<double> AveragePrecision(std::span<const int> labels, std::span<const double> scores,
                                std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(CheckBinary("AveragePrecision", labels, scores, "scores", false, weights));
  const std::vector<CurvePoint> curve = BinaryCurve(labels, scores, weights);
  const double positives = curve.back().tps;
  if (positives <= 0.0) {
    return Bad("AveragePrecision", "labels contain no positive (1) with positive weight");
  }
  CompensatedSum ap;
  double previous_recall = 0.0;
  for (const CurvePoint& point : curve) {
    const double recall = point.tps / positives;
    ap.Add((recall - previous_recall) * (point.tps / (point.tps + point.fps)));
    previous_recall = recall;
  }
  return ap.Total();
}

Result<double> PrecisionAtK(std::span<const int> labels, std::span<const double> scores,
                            int64_t k) {
  VIGIL_RETURN_IF_ERROR(CheckBinary("PrecisionAtK", labels, scores, "scores", false, {}));
  if (k < 1 || k > static_cast<int64_t>(labels.size())) {
    return Bad("PrecisionAtK", "k = " + std::to_string(k) + " is outside [1, " +
                                   std::to_string(labels.size()) + "]");
  }
  std::vector<size_t> order(labels.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // (score descending, index ascending) is a strict total order, so a partial sort gives
  // the same top k as a stable full sort.
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](size_t a, size_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
  });
  int64_t hits = 0;
  for (int64_t rank = 0; rank < k; ++rank) hits += labels[order[rank]];
  return static_cast<double>(hits) / static_cast<double>(k);
}

Result<ThresholdMetrics> PrecisionRecallF1At(std::span<const int> labels,
                                             std::span<const double> probs, double threshold) {
  VIGIL_RETURN_IF_ERROR(CheckBinary("PrecisionRecallF1At", labels, probs, "probs", true, {}));
  if (!std::isfinite(threshold)) return Bad("PrecisionRecallF1At", "threshold is not finite");
  ThresholdMetrics m;
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool predicted = probs[i] >= threshold;
    if (labels[i] == 1) {
      ++(predicted ? m.tp : m.fn);
    } else {
      ++(predicted ? m.fp : m.tn);
    }
  }
  // zero_division=0, and sklearn's F-beta form (1 + b^2) P R / (b^2 P + R) with b = 1.
  const auto ratio = [](int64_t num, int64_t den) {
    return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
  };
  m.precision = ratio(m.tp, m.tp + m.fp);
  m.recall = ratio(m.tp, m.tp + m.fn);
  const double denominator = m.precision + m.recall;
  m.f1 = denominator == 0.0 ? 0.0 : 2.0 * m.precision * m.recall / denominator;
  return m;
}

Result<double> BrierScore(std::span<const int> labels, std::span<const double> probs,
                          std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(CheckBinary("BrierScore", labels, probs, "probs", true, weights));
  return WeightedMean(labels.size(), weights, [&](size_t i) {
    const double error = labels[i] - probs[i];
    return error * error;
  });
}

Result<double> LogLoss(std::span<const int> labels, std::span<const double> probs,
                       std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(CheckBinary("LogLoss", labels, probs, "probs", true, weights));
  return WeightedMean(labels.size(), weights, [&](size_t i) {
    // sklearn 1.2 clips p, expands it to the row (1 - p, p) and renormalises the row; the
    // row sum can differ from 1 by an ulp, and dividing keeps the result bit-compatible.
    const double p = std::clamp(probs[i], kEps, 1.0 - kEps);
    const double q = 1.0 - p;
    return -std::log((labels[i] == 1 ? p : q) / (q + p));
  });
}

Result<double> MulticlassLogLoss(std::span<const int> labels, std::span<const double> probs,
                                 int num_classes, std::span<const double> weights) {
  constexpr std::string_view kMetric = "MulticlassLogLoss";
  if (num_classes < 2) {
    return Bad(kMetric, "num_classes = " + std::to_string(num_classes) + " is below 2");
  }
  if (labels.empty()) return Bad(kMetric, "labels is empty");
  const size_t k = static_cast<size_t>(num_classes);
  if (probs.size() != labels.size() * k) {
    return Bad(kMetric, "probs has " + std::to_string(probs.size()) + " elements, expected " +
                            std::to_string(labels.size()) + " rows x " +
                            std::to_string(num_classes) + " classes");
  }
  VIGIL_RETURN_IF_ERROR(CheckLabelRange(kMetric, labels, num_classes));
  VIGIL_RETURN_IF_ERROR(CheckProbabilities(kMetric, "probs", probs));
  VIGIL_RETURN_IF_ERROR(CheckWeights(kMetric, weights, labels.size()));
  return WeightedMean(labels.size(), weights, [&](size_t row) {
    const std::span<const double> p = probs.subspan(row * k, k);
    // Row sum in index order, as numpy sums a short row.
    double row_sum = 0.0;
    for (double value : p) row_sum += std::clamp(value, kEps, 1.0 - kEps);
    return -std::log(std::clamp(p[labels[row]], kEps, 1.0 - kEps) / row_sum);
  });
}

Result<std::vector<CalibrationBin>> CalibrationTable(std::span<const int> labels,
                                                     std::span<const double> probs, int n_bins,
                                                     CalibrationStrategy strategy) {
  VIGIL_RETURN_IF_ERROR(CheckBinary("CalibrationTable", labels, probs, "probs", true, {}));
  if (n_bins < 1) {
    return Bad("CalibrationTable", "n_bins = " + std::to_string(n_bins) + " is below 1");
  }
  const std::vector<double> edges = CalibrationEdges(probs, n_bins, strategy);
  // Plain running sums in sample order: that is what numpy.bincount does, and it keeps
  // mean_predicted bit-identical to sklearn's prob_pred.
  std::vector<double> prob_sum(n_bins, 0.0);
  std::vector<int64_t> positives(n_bins, 0);
  std::vector<int64_t> counts(n_bins, 0);
  const auto interior_begin = edges.begin() + 1;
  const auto interior_end = edges.end() - 1;
  for (size_t i = 0; i < probs.size(); ++i) {
    const size_t bin = std::lower_bound(interior_begin, interior_end, probs[i]) - interior_begin;
    prob_sum[bin] += probs[i];
    positives[bin] += labels[i];
    ++counts[bin];
  }
  std::vector<CalibrationBin> table;
  for (int bin = 0; bin < n_bins; ++bin) {
    if (counts[bin] == 0) continue;
    const auto count = static_cast<double>(counts[bin]);
    table.push_back({edges[bin], edges[bin + 1], prob_sum[bin] / count,
                     static_cast<double>(positives[bin]) / count, counts[bin]});
  }
  return table;
}

Result<double> Mae(std::span<const double> actual, std::span<const double> forecast,
                   std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(CheckRegression("Mae", actual, forecast, weights));
  return WeightedMean(actual.size(), weights,
                      [&](size_t i) { return std::abs(actual[i] - forecast[i]); });
}

Result<double> Rmse(std::span<const double> actual, std::span<const double> forecast,
                    std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(CheckRegression("Rmse", actual, forecast, weights));
  return std::sqrt(WeightedMean(actual.size(), weights, [&](size_t i) {
    const double error = actual[i] - forecast[i];
    return error * error;
  }));
}

Result<double> Mape(std::span<const double> actual, std::span<const double> forecast,
                    std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(CheckRegression("Mape", actual, forecast, weights));
  return WeightedMean(actual.size(), weights, [&](size_t i) {
    return std::abs(forecast[i] - actual[i]) / std::max(std::abs(actual[i]), kEps);
  });
}

Result<double> Mase(std::span<const double> actual, std::span<const double> forecast,
                    std::span<const double> training, int m) {
  VIGIL_RETURN_IF_ERROR(CheckRegression("Mase", actual, forecast, {}));
  VIGIL_RETURN_IF_ERROR(CheckFinite("Mase", "training", training));
  if (m < 1) return Bad("Mase", "seasonality m = " + std::to_string(m) + " is below 1");
  const size_t lag = static_cast<size_t>(m);
  if (training.size() <= lag) {
    return Bad("Mase",
               "training has " + std::to_string(training.size()) +
                   " values; the seasonal naive forecast needs more than m = " + std::to_string(m));
  }
  // Hyndman & Koehler (2006): scale by the in-sample MAE of the seasonal naive forecast.
  CompensatedSum naive_error;
  for (size_t t = lag; t < training.size(); ++t) {
    naive_error.Add(std::abs(training[t] - training[t - lag]));
  }
  const double scale = naive_error.Total() / static_cast<double>(training.size() - lag);
  if (!(scale > 0.0)) {
    return Bad("Mase", "training series is constant at lag m; the naive in-sample MAE is 0");
  }
  VIGIL_ASSIGN_OR_RETURN(const double mae, Mae(actual, forecast));
  return mae / scale;
}

Result<double> IntervalCoverage(std::span<const double> actual, std::span<const double> lower,
                                std::span<const double> upper) {
  constexpr std::string_view kMetric = "IntervalCoverage";
  VIGIL_RETURN_IF_ERROR(CheckSameSize(kMetric, "actual", actual.size(), "lower", lower.size()));
  VIGIL_RETURN_IF_ERROR(CheckSameSize(kMetric, "actual", actual.size(), "upper", upper.size()));
  VIGIL_RETURN_IF_ERROR(CheckFinite(kMetric, "actual", actual));
  VIGIL_RETURN_IF_ERROR(CheckFinite(kMetric, "lower", lower));
  VIGIL_RETURN_IF_ERROR(CheckFinite(kMetric, "upper", upper));
  int64_t inside = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (lower[i] > upper[i]) {
      return Bad(kMetric,
                 "lower[" + std::to_string(i) + "] is above upper[" + std::to_string(i) + "]");
    }
    inside += (lower[i] <= actual[i] && actual[i] <= upper[i]) ? 1 : 0;
  }
  return static_cast<double>(inside) / static_cast<double>(actual.size());
}

}  // namespace vigil
