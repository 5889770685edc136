// Class-imbalance remedies for classifiers: class weights and SMOTE. Liquidation and crash
// labels are rare (often under 1% of rows), so an unweighted fit learns "never".
//
// Both act on a training fold only: the training job applies them to the rows a fold
// model is fitted on, after the split, so no synthetic or reweighted row ever reaches a
// test fold.
//
//   std::vector<double> w = vigil::BalancedSampleWeights(labels, /*num_classes=*/2);
//   vigil::SmoteOptions smote;  // k = 5, minority classes raised to the majority's size
//   VIGIL_ASSIGN_OR_RETURN(vigil::Resampled balanced, vigil::Smote(x, labels, {}, smote));
//
// SMOTE (Chawla et al. 2002, as imbalanced-learn's SMOTE): for each class c smaller than
// sampling_ratio x the largest class, n_c' - n_c synthetic rows are made; each picks a
// minority row r (rows taken in turn, uniformly at random), one of its k nearest
// neighbours n within class c (Euclidean, nanoflann KD-tree; r itself excluded) uniformly
// at random, and u ~ U[0, 1): x = x_r + u (x_n - x_r). Synthetic rows carry the weight of
// their row r (1 when weights are empty). Original rows come first, in their order.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil {

// n / (num_classes * count of the row's class) per row (scikit-learn's "balanced"); a class
// with no rows gets no weight (no row carries it). Labels must lie in [0, num_classes).
std::vector<double> BalancedSampleWeights(std::span<const int> labels, int num_classes);

// count(label 0) / count(label 1) (XGBoost's recommended scale_pos_weight); 1 when either
// class is absent.
double ScalePosWeight(std::span<const int> labels);

struct SmoteOptions {
  int k_neighbors = 5;          // >= 1
  double sampling_ratio = 1.0;  // (0, 1]: target size of a minority class / the largest class
  uint64_t seed = 0;
  Status Validate() const;  // InvalidArgument naming the field
};

struct Resampled {
  FeatureMatrix x;
  std::vector<int> labels;
  std::vector<double> weights;  // empty when the input weights were empty
  int64_t synthetic = 0;        // rows added
};

// Fails on non-finite features, labels < 0, mismatched sizes, or a minority class with
// fewer than 2 rows (no neighbour to interpolate towards: "class 1 has 1 row; SMOTE needs
// at least 2"). A class with fewer than k + 1 rows uses all its other rows as neighbours.
Result<Resampled> Smote(const FeatureMatrix& x, std::span<const int> labels,
                        std::span<const double> weights, const SmoteOptions& options);

}  // namespace vigil
