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
// SMOTE (Chawla, Bowyer, Hall & Kegelmeyer 2002, "SMOTE: Synthetic Minority Over-sampling
// Technique", JAIR 16; sampled as imbalanced-learn's SMOTE._make_samples): every class c
// with n_c rows below its target n_c' = floor(sampling_ratio x n_largest) gets n_c' - n_c
// synthetic rows. Each picks a row r of class c uniformly at random (with replacement),
// one of r's k nearest neighbours n within class c (Euclidean, exact: nanoflann KD-tree,
// r itself excluded, ties by row order) uniformly at random, and u ~ U[0, 1):
// x = x_r + u (x_n - x_r). Synthetic rows carry the weight of their row r. Original rows
// come first, in their order, unchanged; then the synthetic rows, class by class in
// ascending label order. Each class draws from its own stream derived from (seed, label),
// so the rows made for one class do not depend on the other classes.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil {

// n / (classes present * count of the row's class) per row: exactly scikit-learn's
// compute_sample_weight("balanced", labels), whose class count is that of np.unique(labels)
// (so the weights always sum to n). Labels must lie in [0, num_classes); a row whose label
// does not gets weight 0 and is left out of n and the counts.
std::vector<double> BalancedSampleWeights(std::span<const int> labels, int num_classes);

// count(label 0) / count(label 1) (XGBoost's recommended scale_pos_weight); 1 when either
// class is absent. Other labels are ignored.
double ScalePosWeight(std::span<const int> labels);

struct SmoteOptions {
  int k_neighbors = 5;          // >= 1
  double sampling_ratio = 1.0;  // (0, 1]: target size of a minority class / the largest class
                                // (rounded down; a class already at its target is kept)
  uint64_t seed = 0;
  Status Validate() const;  // InvalidArgument naming the field
};

struct Resampled {
  FeatureMatrix x;
  std::vector<int> labels;
  std::vector<double> weights;  // empty when the input weights were empty
  int64_t synthetic = 0;        // rows added
};

// Fails with InvalidArgument on bad options, non-finite features (naming row and column),
// no feature columns, labels < 0 or weights < 0 / non-finite (naming the row), mismatched
// sizes, or a class to oversample with fewer than 2 rows (no neighbour to interpolate
// towards: "class 1 has 1 row; SMOTE needs at least 2"). A class with fewer than k + 1 rows
// uses all its other rows as neighbours. Classes are 0 .. max label; absent ones stay absent.
Result<Resampled> Smote(const FeatureMatrix& x, std::span<const int> labels,
                        std::span<const double> weights, const SmoteOptions& options);

}  // namespace vigil
