#include "vigil/models/imbalance.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "models/anomaly/knn_index.h"
#include "vigil/core/rng.h"

namespace vigil {
namespace {

// floor(ratio * largest) would turn 0.29 * 100 = 28.999999999999996 into 28; a margin far
// below one row but far above rounding keeps exact products exact.
constexpr double kTargetRoundingSlack = 1e-9;

Status CheckSmoteInputs(const FeatureMatrix& x, std::span<const int> labels,
                        std::span<const double> weights) {
  if (x.cols() == 0) return InvalidArgument("smote: no feature columns");
  if (x.values.size() != static_cast<size_t>(x.rows) * x.cols()) {
    return InvalidArgument("smote: feature matrix has " + std::to_string(x.values.size()) +
                           " values for " + std::to_string(x.rows) + " rows x " +
                           std::to_string(x.cols()) + " columns");
  }
  if (static_cast<int64_t>(labels.size()) != x.rows) {
    return InvalidArgument("smote: " + std::to_string(labels.size()) + " labels for " +
                           std::to_string(x.rows) + " rows");
  }
  if (!weights.empty() && static_cast<int64_t>(weights.size()) != x.rows) {
    return InvalidArgument("smote: " + std::to_string(weights.size()) + " weights for " +
                           std::to_string(x.rows) + " rows");
  }
  for (int64_t row = 0; row < x.rows; ++row) {
    if (labels[row] < 0) {
      return InvalidArgument("smote: row " + std::to_string(row) + ": label " +
                             std::to_string(labels[row]) + " is negative");
    }
    if (!weights.empty() && !(std::isfinite(weights[row]) && weights[row] >= 0)) {
      return InvalidArgument("smote: row " + std::to_string(row) +
                             ": weight must be finite and >= 0");
    }
    for (size_t col = 0; col < x.cols(); ++col) {
      if (!std::isfinite(x.at(row, col))) {
        return InvalidArgument("smote: row " + std::to_string(row) + ", column '" + x.columns[col] +
                               "': value is not finite");
      }
    }
  }
  return Status::Ok();
}

// Row indices of each class 0 .. max label.
std::vector<std::vector<int64_t>> RowsByClass(std::span<const int> labels) {
  const int max_label = labels.empty() ? -1 : *std::max_element(labels.begin(), labels.end());
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(max_label + 1));
  for (size_t row = 0; row < labels.size(); ++row) rows[labels[row]].push_back(row);
  return rows;
}

// Appends `count` synthetic rows of class `label` (whose rows are `members`) to `out`.
void OversampleClass(const FeatureMatrix& x, std::span<const double> weights, int label,
                     const std::vector<int64_t>& members, int64_t count,
                     const SmoteOptions& options, Resampled& out) {
  const int dims = static_cast<int>(x.cols());
  const int64_t size = static_cast<int64_t>(members.size());
  std::vector<double> points;
  points.reserve(members.size() * x.cols());
  for (int64_t member : members) {
    const std::span<const double> values = x.row(member);
    points.insert(points.end(), values.begin(), values.end());
  }
  const int k = static_cast<int>(std::min<int64_t>(options.k_neighbors, size - 1));
  const models_internal::KnnIndex index(std::move(points), size, dims);
  const models_internal::NeighborLists neighbours = index.KnnOfIndexed(k, /*threads=*/1);

  Rng rng = Rng(options.seed).Derive("smote/class/" + std::to_string(label));
  for (int64_t made = 0; made < count; ++made) {
    const int64_t base = rng.UniformInt(0, size - 1);
    const int64_t neighbour = neighbours.indices_of(base)[rng.UniformInt(0, k - 1)];
    const double step = rng.Uniform();
    const std::span<const double> from = x.row(members[base]);
    const std::span<const double> to = x.row(members[neighbour]);
    for (int col = 0; col < dims; ++col) {
      out.x.values.push_back(from[col] + step * (to[col] - from[col]));
    }
    out.labels.push_back(label);
    if (!weights.empty()) out.weights.push_back(weights[members[base]]);
  }
  out.x.rows += count;
  out.synthetic += count;
}

}  // namespace

std::vector<double> BalancedSampleWeights(std::span<const int> labels, int num_classes) {
  std::vector<double> counts(static_cast<size_t>(std::max(num_classes, 0)), 0.0);
  double total = 0;
  for (int label : labels) {
    if (label < 0 || label >= num_classes) continue;
    counts[label] += 1;
    total += 1;
  }
  const double present = static_cast<double>(
      std::count_if(counts.begin(), counts.end(), [](double c) { return c > 0; }));
  std::vector<double> weights(labels.size(), 0.0);
  for (size_t row = 0; row < labels.size(); ++row) {
    const int label = labels[row];
    if (label < 0 || label >= num_classes) continue;
    weights[row] = total / (present * counts[label]);
  }
  return weights;
}

double ScalePosWeight(std::span<const int> labels) {
  const auto negatives = std::count(labels.begin(), labels.end(), 0);
  const auto positives = std::count(labels.begin(), labels.end(), 1);
  if (negatives == 0 || positives == 0) return 1.0;
  return static_cast<double>(negatives) / static_cast<double>(positives);
}

Status SmoteOptions::Validate() const {
  if (k_neighbors < 1) {
    return InvalidArgument("smote: k_neighbors must be >= 1, got " + std::to_string(k_neighbors));
  }
  if (!(sampling_ratio > 0 && sampling_ratio <= 1)) {
    return InvalidArgument("smote: sampling_ratio must lie in (0, 1], got " +
                           std::to_string(sampling_ratio));
  }
  return Status::Ok();
}

Result<Resampled> Smote(const FeatureMatrix& x, std::span<const int> labels,
                        std::span<const double> weights, const SmoteOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(CheckSmoteInputs(x, labels, weights));
  const std::vector<std::vector<int64_t>> members = RowsByClass(labels);
  size_t largest = 0;
  for (const auto& rows : members) largest = std::max(largest, rows.size());
  const auto target = static_cast<int64_t>(
      std::floor(options.sampling_ratio * static_cast<double>(largest) + kTargetRoundingSlack));
  for (size_t label = 0; label < members.size(); ++label) {
    const auto size = static_cast<int64_t>(members[label].size());
    if (size == 1 && target > 1) {
      return InvalidArgument("smote: class " + std::to_string(label) +
                             " has 1 row; SMOTE needs at least 2");
    }
  }

  Resampled out;
  out.x = x;
  out.labels.assign(labels.begin(), labels.end());
  out.weights.assign(weights.begin(), weights.end());
  for (size_t label = 0; label < members.size(); ++label) {
    const auto size = static_cast<int64_t>(members[label].size());
    if (size == 0 || size >= target) continue;
    OversampleClass(x, weights, static_cast<int>(label), members[label], target - size, options,
                    out);
  }
  return out;
}

}  // namespace vigil
