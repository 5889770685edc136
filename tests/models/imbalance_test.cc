#include "vigil/models/imbalance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>

namespace vigil {
namespace {

// Seeded rows: class c is a Gaussian blob centred at (3c, -2c, c).
void MakeBlobs(const std::vector<int>& class_sizes, uint32_t seed, FeatureMatrix* x,
               std::vector<int>* labels) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  x->columns = {"a", "b", "c"};
  x->rows = 0;
  x->values.clear();
  labels->clear();
  // Interleave the classes so class rows are not contiguous.
  std::vector<int> order;
  for (size_t label = 0; label < class_sizes.size(); ++label) {
    order.insert(order.end(), class_sizes[label], static_cast<int>(label));
  }
  std::shuffle(order.begin(), order.end(), rng);
  for (int label : order) {
    x->values.insert(x->values.end(),
                     {3.0 * label + normal(rng), -2.0 * label + normal(rng), label + normal(rng)});
    labels->push_back(label);
    ++x->rows;
  }
}

std::map<int, int64_t> Counts(std::span<const int> labels) {
  std::map<int, int64_t> counts;
  for (int label : labels) ++counts[label];
  return counts;
}

double SquaredDistance(std::span<const double> a, std::span<const double> b) {
  double sum = 0;
  for (size_t j = 0; j < a.size(); ++j) sum += (a[j] - b[j]) * (a[j] - b[j]);
  return sum;
}

// Brute force: whether `point` lies on a segment from a row r of class `label` to one of
// r's k nearest other rows of that class (all rows tied with the k-th count as nearest),
// with r == only_base unless that is -1.
bool OnSmoteSegment(const FeatureMatrix& x, std::span<const int> labels, int label, int k,
                    std::span<const double> point, int64_t only_base = -1) {
  std::vector<int64_t> members;
  for (int64_t row = 0; row < x.rows; ++row) {
    if (labels[row] == label) members.push_back(row);
  }
  const int effective_k = std::min<int>(k, static_cast<int>(members.size()) - 1);
  for (int64_t r : members) {
    if (only_base >= 0 && r != only_base) continue;
    std::vector<double> distances;
    for (int64_t other : members) {
      if (other != r) distances.push_back(SquaredDistance(x.row(r), x.row(other)));
    }
    std::sort(distances.begin(), distances.end());
    const double kth = distances[effective_k - 1];
    for (int64_t n : members) {
      if (n == r || SquaredDistance(x.row(r), x.row(n)) > kth) continue;
      // point = x_r + u (x_n - x_r) for one u in [0, 1).
      double u = std::numeric_limits<double>::quiet_NaN();
      bool fits = true;
      for (size_t j = 0; j < x.cols() && fits; ++j) {
        const double span = x.at(n, j) - x.at(r, j);
        if (std::abs(span) < 1e-12) {
          fits = std::abs(point[j] - x.at(r, j)) < 1e-12;
          continue;
        }
        const double uj = (point[j] - x.at(r, j)) / span;
        if (std::isnan(u)) u = uj;
        fits = std::abs(uj - u) < 1e-9 && uj >= -1e-12 && uj < 1 + 1e-12;
      }
      if (fits) return true;
    }
  }
  return false;
}

void ExpectAllSyntheticOnSegments(const FeatureMatrix& x, std::span<const int> labels,
                                  const Resampled& out, int k) {
  for (int64_t row = x.rows; row < out.x.rows; ++row) {
    ASSERT_TRUE(OnSmoteSegment(x, labels, out.labels[row], k, out.x.row(row)))
        << "synthetic row " << row << " (class " << out.labels[row] << ")";
  }
}

void ExpectOriginalsFirst(const FeatureMatrix& x, std::span<const int> labels,
                          const Resampled& out) {
  ASSERT_GE(out.x.rows, x.rows);
  EXPECT_EQ(out.x.columns, x.columns);
  EXPECT_EQ(out.x.values.size(), static_cast<size_t>(out.x.rows) * x.cols());
  EXPECT_EQ(out.labels.size(), static_cast<size_t>(out.x.rows));
  EXPECT_TRUE(std::equal(x.values.begin(), x.values.end(), out.x.values.begin()));
  EXPECT_TRUE(std::equal(labels.begin(), labels.end(), out.labels.begin()));
  EXPECT_EQ(out.synthetic, out.x.rows - x.rows);
}

TEST(BalancedSampleWeightsTest, MatchesScikitLearnBalanced) {
  // compute_sample_weight("balanced", [0, 0, 0, 1, 2, 2]): n / (3 classes * count)
  // = 6 / 9, 6 / 3, 6 / 6.
  const std::vector<int> labels{0, 0, 0, 1, 2, 2};
  const std::vector<double> weights = BalancedSampleWeights(labels, 3);
  const std::vector<double> expected{6.0 / 9, 6.0 / 9, 6.0 / 9, 2.0, 1.0, 1.0};
  ASSERT_EQ(weights.size(), expected.size());
  for (size_t row = 0; row < expected.size(); ++row) EXPECT_DOUBLE_EQ(weights[row], expected[row]);
  EXPECT_DOUBLE_EQ(std::accumulate(weights.begin(), weights.end(), 0.0), 6.0);
}

TEST(BalancedSampleWeightsTest, BinaryRareEvent) {
  // compute_sample_weight("balanced", [0] * 8 + [1] * 2): 10 / 16 and 10 / 4.
  std::vector<int> labels(8, 0);
  labels.insert(labels.end(), {1, 1});
  const std::vector<double> weights = BalancedSampleWeights(labels, 2);
  for (int row = 0; row < 8; ++row) EXPECT_DOUBLE_EQ(weights[row], 0.625);
  EXPECT_DOUBLE_EQ(weights[8], 2.5);
  EXPECT_DOUBLE_EQ(weights[9], 2.5);
}

TEST(BalancedSampleWeightsTest, AbsentClassAsScikitLearn) {
  // sklearn counts the classes present (np.unique): [0, 0, 2] with 3 declared classes
  // gives 3 / (2 * 2) and 3 / (2 * 1).
  const std::vector<double> weights = BalancedSampleWeights(std::vector<int>{0, 0, 2}, 3);
  EXPECT_DOUBLE_EQ(weights[0], 0.75);
  EXPECT_DOUBLE_EQ(weights[1], 0.75);
  EXPECT_DOUBLE_EQ(weights[2], 1.5);
  // A label outside [0, num_classes) weighs nothing and is not counted.
  const std::vector<double> stray = BalancedSampleWeights(std::vector<int>{0, 1, 5}, 2);
  EXPECT_DOUBLE_EQ(stray[0], 1.0);
  EXPECT_DOUBLE_EQ(stray[1], 1.0);
  EXPECT_EQ(stray[2], 0.0);
  EXPECT_TRUE(BalancedSampleWeights({}, 2).empty());
}

TEST(ScalePosWeightTest, NegativesOverPositives) {
  EXPECT_DOUBLE_EQ(ScalePosWeight(std::vector<int>{0, 0, 0, 1, 0, 0, 1}), 2.5);
  EXPECT_EQ(ScalePosWeight(std::vector<int>{0, 0}), 1.0);
  EXPECT_EQ(ScalePosWeight(std::vector<int>{1, 1}), 1.0);
  EXPECT_EQ(ScalePosWeight({}), 1.0);
}

TEST(SmoteTest, BinaryReachesTheMajoritySize) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeBlobs({60, 9}, 1, &x, &labels);
  Result<Resampled> out = Smote(x, labels, {}, SmoteOptions{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectOriginalsFirst(x, labels, *out);
  EXPECT_EQ(out->synthetic, 51);
  EXPECT_EQ(Counts(out->labels), (std::map<int, int64_t>{{0, 60}, {1, 60}}));
  EXPECT_TRUE(out->weights.empty());
  for (int64_t row = x.rows; row < out->x.rows; ++row) EXPECT_EQ(out->labels[row], 1);
  ExpectAllSyntheticOnSegments(x, labels, *out, 5);
}

TEST(SmoteTest, SamplingRatioAndMulticlass) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeBlobs({100, 12, 40, 71}, 2, &x, &labels);
  SmoteOptions options;
  options.sampling_ratio = 0.5;
  options.k_neighbors = 3;
  Result<Resampled> out = Smote(x, labels, {}, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectOriginalsFirst(x, labels, *out);
  // Target floor(0.5 * 100) = 50: classes 1 and 2 rise to it; 3 is already above.
  EXPECT_EQ(Counts(out->labels), (std::map<int, int64_t>{{0, 100}, {1, 50}, {2, 50}, {3, 71}}));
  EXPECT_EQ(out->synthetic, 38 + 10);
  // Class by class, ascending.
  for (int64_t row = x.rows; row < out->x.rows; ++row) {
    EXPECT_EQ(out->labels[row], row < x.rows + 38 ? 1 : 2) << row;
  }
  ExpectAllSyntheticOnSegments(x, labels, *out, 3);

  options.sampling_ratio = 0.29;  // 0.29 * 100 is 28.999999999999996 in doubles
  out = Smote(x, labels, {}, options);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Counts(out->labels)[1], 29);
  EXPECT_EQ(Counts(out->labels)[2], 40);
}

TEST(SmoteTest, NeighboursAreTheNearestOnly) {
  // Two tight pairs far apart within the minority class: with k = 1 every synthetic row
  // must stay within its pair.
  FeatureMatrix x{{"u", "v"}, 10, {}};
  std::vector<int> labels;
  for (int row = 0; row < 6; ++row) {
    x.values.insert(x.values.end(), {static_cast<double>(row), -1.0});
    labels.push_back(0);
  }
  x.values.insert(x.values.end(), {0, 0, 0.1, 0, 100, 100, 100.1, 100});
  labels.insert(labels.end(), {1, 1, 1, 1});
  SmoteOptions options;
  options.k_neighbors = 1;
  options.seed = 3;
  Result<Resampled> out = Smote(x, labels, {}, options);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->synthetic, 2);
  for (int64_t row = x.rows; row < out->x.rows; ++row) {
    const double u = out->x.at(row, 0);
    const double v = out->x.at(row, 1);
    const bool near_origin = u >= 0 && u <= 0.1 && v == 0;
    const bool near_far = u >= 100 && u <= 100.1 && v == 100;
    EXPECT_TRUE(near_origin || near_far) << u << ", " << v;
  }
  ExpectAllSyntheticOnSegments(x, labels, *out, 1);
}

TEST(SmoteTest, DeterministicPerSeed) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeBlobs({50, 10}, 4, &x, &labels);
  SmoteOptions options;
  options.seed = 42;
  Result<Resampled> first = Smote(x, labels, {}, options);
  Result<Resampled> again = Smote(x, labels, {}, options);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->x.values, again->x.values);
  options.seed = 43;
  Result<Resampled> other = Smote(x, labels, {}, options);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->x.rows, first->x.rows);
  EXPECT_NE(other->x.values, first->x.values);
  ExpectAllSyntheticOnSegments(x, labels, *other, 5);
}

TEST(SmoteTest, WeightsFollowTheirBaseRow) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeBlobs({30, 6}, 5, &x, &labels);
  std::vector<double> weights(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) weights[row] = 1.0 + row;  // distinct per row
  Result<Resampled> out = Smote(x, labels, weights, SmoteOptions{});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->weights.size(), static_cast<size_t>(out->x.rows));
  EXPECT_TRUE(std::equal(weights.begin(), weights.end(), out->weights.begin()));
  for (int64_t row = x.rows; row < out->x.rows; ++row) {
    // The weight names the row the synthetic row starts from: x_r + u (x_n - x_r).
    const int64_t weight_row = static_cast<int64_t>(out->weights[row]) - 1;
    ASSERT_GE(weight_row, 0);
    ASSERT_LT(weight_row, x.rows);
    EXPECT_EQ(labels[weight_row], 1);
    EXPECT_TRUE(OnSmoteSegment(x, labels, 1, 5, out->x.row(row), weight_row)) << row;
  }
}

TEST(SmoteTest, ClassSmallerThanKUsesAllItsRows) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeBlobs({40, 3}, 6, &x, &labels);  // 3 rows < k + 1 = 6
  Result<Resampled> out = Smote(x, labels, {}, SmoteOptions{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Counts(out->labels)[1], 40);
  ExpectAllSyntheticOnSegments(x, labels, *out, 2);
  // Two rows: every synthetic row lies between them.
  MakeBlobs({20, 2}, 7, &x, &labels);
  out = Smote(x, labels, {}, SmoteOptions{});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->synthetic, 18);
  ExpectAllSyntheticOnSegments(x, labels, *out, 1);
}

TEST(SmoteTest, BalancedInputIsUnchanged) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeBlobs({10, 10}, 8, &x, &labels);
  Result<Resampled> out = Smote(x, labels, {}, SmoteOptions{});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->synthetic, 0);
  EXPECT_EQ(out->x.values, x.values);
}

TEST(SmoteTest, Errors) {
  FeatureMatrix x;
  std::vector<int> labels;
  MakeBlobs({10, 4}, 9, &x, &labels);
  auto code = [&](const FeatureMatrix& features, std::span<const int> y, std::span<const double> w,
                  SmoteOptions options) { return Smote(features, y, w, options).status().code(); };
  EXPECT_EQ(code(x, labels, {}, SmoteOptions{.k_neighbors = 0}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(x, labels, {}, SmoteOptions{.sampling_ratio = 0}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(x, labels, {}, SmoteOptions{.sampling_ratio = 1.5}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(x, labels, {}, SmoteOptions{.sampling_ratio = std::nan("")}),
            StatusCode::kInvalidArgument);

  FeatureMatrix with_nan = x;
  with_nan.values[7] = std::nan("");
  Status nan_status = Smote(with_nan, labels, {}, SmoteOptions{}).status();
  EXPECT_EQ(nan_status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nan_status.message().find("row 2"), std::string::npos) << nan_status.ToString();
  EXPECT_NE(nan_status.message().find("'b'"), std::string::npos) << nan_status.ToString();

  std::vector<int> negative = labels;
  negative[3] = -1;
  EXPECT_EQ(code(x, negative, {}, {}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(x, std::span<const int>(labels).first(5), {}, {}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code(x, labels, std::vector<double>(3, 1.0), {}), StatusCode::kInvalidArgument);
  std::vector<double> bad_weights(x.rows, 1.0);
  bad_weights[0] = -1;
  EXPECT_EQ(code(x, labels, bad_weights, {}), StatusCode::kInvalidArgument);

  // One row of a class that must grow: nothing to interpolate towards.
  std::vector<int> lonely(x.rows, 0);
  lonely[5] = 1;
  Status one_row = Smote(x, lonely, {}, SmoteOptions{}).status();
  EXPECT_EQ(one_row.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(one_row.message().find("class 1 has 1 row"), std::string::npos) << one_row.ToString();

  EXPECT_EQ(code(FeatureMatrix{{}, 2, {}}, std::vector<int>{0, 1}, {}, {}),
            StatusCode::kInvalidArgument);
}

TEST(SmoteTest, AbsentAndSingleRowClasses) {
  // Absent classes in the middle stay absent; a one-row class that needs no rows is fine.
  FeatureMatrix x{{"a"}, 5, {0, 1, 2, 3, 10}};
  const std::vector<int> labels{0, 0, 2, 2, 0};
  SmoteOptions options;
  options.sampling_ratio = 0.25;  // target floor(0.25 * 4) = 1: the single row suffices
  std::vector<int> with_single{0, 0, 0, 2, 0};
  Result<Resampled> out = Smote(x, with_single, {}, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->synthetic, 0);
  out = Smote(x, labels, {}, SmoteOptions{});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Counts(out->labels), (std::map<int, int64_t>{{0, 3}, {2, 3}}));
  EXPECT_GE(out->x.at(5, 0), 2.0);
  EXPECT_LT(out->x.at(5, 0), 3.0);
}

}  // namespace
}  // namespace vigil
