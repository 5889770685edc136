// The evaluation protocol of anomaly_evaluation.h: standardize, fit, score, measure.
#include "vigil/pipeline/anomaly_evaluation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <sstream>

#include "vigil/models/metrics.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Normal-consistent MAD and mean-absolute-deviation factors (as the zscore baseline).
constexpr double kMadToSd = 1.4826;
constexpr double kMeanAbsToSd = 1.2533;

double Median(std::vector<double> values) {
  if (values.empty()) return kNaN;
  const size_t half = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + half, values.end());
  const double upper = values[half];
  if (values.size() % 2 == 1) return upper;
  return 0.5 * (upper + *std::max_element(values.begin(), values.begin() + half));
}

struct ColumnScale {
  double center = 0.0;
  double spread = 1.0;
};

// Median and normal-consistent MAD per column of the training rows (falling back to the mean
// absolute deviation, then to 1 for a constant column).
std::vector<ColumnScale> FitRobustScale(const FeatureMatrix& train) {
  std::vector<ColumnScale> scales(train.cols());
  std::vector<double> column(train.rows);
  for (size_t col = 0; col < train.cols(); ++col) {
    for (int64_t row = 0; row < train.rows; ++row) column[row] = train.at(row, col);
    const double center = Median(column);
    std::vector<double> deviations(train.rows);
    double mean_abs = 0.0;
    for (int64_t row = 0; row < train.rows; ++row) {
      deviations[row] = std::abs(column[row] - center);
      mean_abs += deviations[row] / train.rows;
    }
    double spread = kMadToSd * Median(deviations);
    if (!(spread > 0)) spread = kMeanAbsToSd * mean_abs;
    if (!(spread > 0)) spread = 1.0;
    scales[col] = {center, spread};
  }
  return scales;
}

FeatureMatrix ApplyScale(const FeatureMatrix& x, const std::vector<ColumnScale>& scales) {
  FeatureMatrix out = x;
  for (int64_t row = 0; row < x.rows; ++row) {
    for (size_t col = 0; col < x.cols(); ++col) {
      out.values[row * x.cols() + col] = (x.at(row, col) - scales[col].center) / scales[col].spread;
    }
  }
  return out;
}

// An evenly strided subsample of at most max_rows rows (all rows when max_rows is 0).
FeatureMatrix Subsample(const FeatureMatrix& x, int64_t max_rows) {
  if (max_rows <= 0 || x.rows <= max_rows) return x;
  FeatureMatrix out;
  out.columns = x.columns;
  for (int64_t i = 0; i < max_rows; ++i) {
    const int64_t row = i * x.rows / max_rows;
    out.values.insert(out.values.end(), x.row(row).begin(), x.row(row).end());
    ++out.rows;
  }
  return out;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

Status CheckScores(const AnomalyScores& scores, int64_t rows) {
  if (static_cast<int64_t>(scores.raw.size()) != rows ||
      static_cast<int64_t>(scores.flag.size()) != rows) {
    return Internal("detector returned " + std::to_string(scores.raw.size()) + " scores for " +
                    std::to_string(rows) + " rows");
  }
  for (int64_t row = 0; row < rows; ++row) {
    if (!std::isfinite(scores.raw[row])) {
      return Internal("detector returned a non-finite raw score at test row " +
                      std::to_string(row));
    }
  }
  return Status::Ok();
}

Status Measure(const EvaluationDataset& dataset, const AnomalyScores& scores,
               DetectorResult& result) {
  const std::vector<int>& labels = dataset.test_labels;
  VIGIL_ASSIGN_OR_RETURN(result.roc_auc, RocAuc(labels, scores.raw));
  VIGIL_ASSIGN_OR_RETURN(result.pr_auc, AveragePrecision(labels, scores.raw));
  const int64_t positives = std::count(labels.begin(), labels.end(), 1);
  VIGIL_ASSIGN_OR_RETURN(result.precision_at_k, PrecisionAtK(labels, scores.raw, positives));
  const std::vector<int64_t> delays = DetectionDelays(dataset.test_events, scores.flag);
  std::vector<double> detected_delays;
  for (size_t i = 0; i < delays.size(); ++i) {
    auto& [detected, total] = result.detected_by_type[dataset.test_events[i].type];
    ++total;
    if (delays[i] < 0) continue;
    ++detected;
    detected_delays.push_back(static_cast<double>(delays[i]));
  }
  result.median_delay = Median(detected_delays);
  result.detected_fraction =
      delays.empty() ? kNaN : static_cast<double>(detected_delays.size()) / delays.size();
  return Status::Ok();
}

Status FitAndScore(const EvaluationDataset& dataset, const DetectorSpec& spec,
                   DetectorResult& result) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, CreateModel(spec.kind, spec.params));
  AnomalyDetector* detector = AsAnomalyDetector(model.get());
  if (detector == nullptr)
    return InvalidArgument("kind '" + spec.kind + "' is not an anomaly kind");
  const std::vector<ColumnScale> scales = FitRobustScale(dataset.train);
  const FeatureMatrix train = Subsample(ApplyScale(dataset.train, scales), spec.max_fit_rows);
  const FeatureMatrix test = ApplyScale(dataset.test, scales);
  result.fit_rows = train.rows;
  auto start = std::chrono::steady_clock::now();
  VIGIL_RETURN_IF_ERROR(detector->Fit(train));
  result.fit_seconds = Seconds(start);
  start = std::chrono::steady_clock::now();
  VIGIL_ASSIGN_OR_RETURN(AnomalyScores scores, detector->Score(test));
  result.score_seconds = Seconds(start);
  VIGIL_RETURN_IF_ERROR(CheckScores(scores, test.rows));
  return Measure(dataset, scores, result);
}

std::string Fixed(double value, int digits) {
  if (std::isnan(value)) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

// A failure message fit for one table cell.
std::string CellText(std::string text) {
  std::replace(text.begin(), text.end(), '|', '/');
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

}  // namespace

std::vector<int64_t> DetectionDelays(std::span<const LabelledEvent> events,
                                     const std::vector<bool>& flags) {
  std::vector<int64_t> delays;
  delays.reserve(events.size());
  for (const LabelledEvent& event : events) {
    int64_t delay = -1;
    for (int64_t row = event.start; row < event.end; ++row) {
      if (flags[row]) {
        delay = row - event.start;
        break;
      }
    }
    delays.push_back(delay);
  }
  return delays;
}

DetectorResult EvaluateDetector(const EvaluationDataset& dataset, const DetectorSpec& spec) {
  DetectorResult result;
  result.kind = spec.kind;
  result.params = spec.params;
  Status status;
  // The detectors are the library's, but a bug in one must not end a whole evaluation run.
  try {
    status = FitAndScore(dataset, spec, result);
  } catch (const std::exception& error) {
    status = Internal(std::string("exception: ") + error.what());
  }
  result.ok = status.ok();
  if (!status.ok()) result.error = status.ToString();
  return result;
}

std::vector<std::string> AnomalyKinds() {
  std::vector<std::string> kinds;
  for (const auto& [kind, task] : ModelKinds()) {
    if (task == Task::kAnomaly) kinds.push_back(kind);
  }
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

std::string ResultsTable(const EvaluationDataset& dataset,
                         std::span<const DetectorResult> results) {
  const int64_t positives = std::count(dataset.test_labels.begin(), dataset.test_labels.end(), 1);
  std::ostringstream out;
  out << "#### " << dataset.name << "\n\n"
      << "Train " << dataset.train.rows << " rows (" << dataset.train_events << " events), test "
      << dataset.test.rows << " rows, " << positives << " positive bars, "
      << dataset.test_events.size() << " events; k = " << positives << ".\n\n"
      << "| detector | ROC-AUC | PR-AUC | precision@k | median delay (bars) | detected | fit s "
         "| score s |\n"
      << "|---|---|---|---|---|---|---|---|\n";
  for (const DetectorResult& r : results) {
    if (!r.ok) {
      out << "| " << r.kind << " | not evaluated: " << CellText(r.error) << " | | | | | | |\n";
      continue;
    }
    out << "| " << r.kind << " | " << Fixed(r.roc_auc, 3) << " | " << Fixed(r.pr_auc, 3) << " | "
        << Fixed(r.precision_at_k, 3) << " | " << Fixed(r.median_delay, 1) << " | "
        << Fixed(r.detected_fraction, 2) << " | " << Fixed(r.fit_seconds, 3) << " | "
        << Fixed(r.score_seconds, 3) << " |\n";
  }
  // Events detected per type: which incidents each detector catches.
  std::map<std::string, int> totals;
  for (const LabelledEvent& event : dataset.test_events) ++totals[event.type];
  out << "\nEvents detected (flagged at least once inside the window), by type:\n\n| detector |";
  for (const auto& [type, total] : totals) out << " " << type << " (" << total << ") |";
  out << "\n|---|";
  for (size_t i = 0; i < totals.size(); ++i) out << "---|";
  out << "\n";
  for (const DetectorResult& r : results) {
    if (!r.ok) continue;
    out << "| " << r.kind << " |";
    for (const auto& [type, total] : totals) {
      auto found = r.detected_by_type.find(type);
      out << " " << (found == r.detected_by_type.end() ? 0 : found->second.first) << " |";
    }
    out << "\n";
  }
  out << "\n";
  return out.str();
}

}  // namespace vigil
