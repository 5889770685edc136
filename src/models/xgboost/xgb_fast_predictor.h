// Private to vigil_models: Vigil's own predictor for the tree ensembles of
// vigil/models/xgboost.h. XGBoost's C API has no faster prediction path than its CPU
// predictor (about 177k rows/s per core for 200 trees of depth 6, and a fixed cost per call
// that dominates one-row latency), so the trees are compiled by hand into flat arrays and
// walked branch-free; every number equals XGBoost's bit for bit.
//
//   VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<FastPredictor> fast, FastPredictor::Compile(doc));
//   std::vector<double> out(rows * fast->outputs());
//   fast->Predict(x.data(), rows, /*margin=*/false, /*threads=*/2, out.data());
//
// Semantics (XGBoost 1.7's CPU predictor, src/predictor/cpu_predictor.cc):
//   - features are cast to float32; a split sends a row left iff `value < split_condition`,
//     a missing value (NaN) to the node's default child;
//   - margins are float32 sums, tree by tree in model order, starting from the base margin
//     (base_score through the objective's ProbToMargin: -logf(1/p - 1) for binary:logistic);
//     tree t adds to output tree_info[t] (multiclass); forest trees are summed as stored;
//   - outputs: sigmoid 1 / (exp(min(-m, 88.7)) + 1 + 1e-16) for binary:logistic, XGBoost's
//     softmax (float max, double sum of float exps) for multi:softprob, the margin for the
//     regression objectives.
// Layout: every tree is stored as a complete binary tree of the ensemble's largest depth D:
// 2^D - 1 splits (a float threshold and the offset of the feature's value, in two arrays)
// and 2^D float leaves. A leaf shallower than D is padded: the splits under it are dummies and
// every leaf under it holds its value. Rows are converted in blocks of kBlockRows to float32,
// feature by feature, twice: once with missing values as -inf, once as +inf (Vigil rejects infinite
// inputs, so only missing values become infinite). A split whose missing values go left
// reads the -inf copy, one whose missing values go right the +inf copy, so each row takes
// exactly D identical branch-free steps
//   node = 2 * node + 1 + (block[offset[node] + row] >= threshold[node]).
//
// Not compiled (Compile returns Unimplemented with the reason; the caller falls back to
// XGBoost's predictor): boosters other than gbtree, objectives other than binary:logistic,
// multi:softprob, reg:squarederror and reg:pseudohubererror, multi-target or vector-leaf
// trees, categorical splits, trees deeper than kMaxDepth (lossguide trees without a depth
// limit) and layouts larger than kMaxLayoutBytes.
//
// Thread-safety: immutable once compiled; Predict may run concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil::xgboost_internal {

enum class OutputTransform { kIdentity, kSigmoid, kSoftmax };

class FastPredictor {
 public:
  // Deeper trees would make the padded layout (2^D nodes per tree) wasteful.
  static constexpr int kMaxDepth = 12;
  static constexpr int64_t kMaxLayoutBytes = int64_t{256} << 20;
  // Rows converted and walked together, tree by tree: a block (2 x 64 rows x features
  // floats; 15 KB for 30 features) and one tree (760 bytes at depth 6) stay in L1.
  static constexpr int64_t kBlockRows = 64;

  // Compiles XGBoost's model document (the schema of XGBoostSaveModelToBuffer's JSON, read
  // from its UBJSON encoding so that floats arrive as their float32 bits). Unimplemented with
  // the reason for a model outside the compiled subset; DataError for a malformed document.
  static Result<std::unique_ptr<FastPredictor>> Compile(const nlohmann::json& model);

  int outputs() const { return outputs_; }
  size_t num_features() const { return num_features_; }
  int64_t trees() const { return static_cast<int64_t>(tree_outputs_.size()); }
  int depth() const { return depth_; }
  float base_margin() const { return base_margin_; }
  OutputTransform transform() const { return transform_; }
  // The finite split thresholds on `feature` (for probing), sorted, without duplicates.
  std::vector<float> Thresholds(size_t feature) const;

  // out[row * outputs() + k] for the rows x num_features() row-major values in x (NaN =
  // missing): the transformed outputs, or the raw margins when `margin`. Batches of at
  // least kRowsPerThread rows per thread use up to `threads` threads; every row's result is
  // the same whatever the thread count.
  void Predict(const double* x, int64_t rows, bool margin, int threads, double* out) const;

  static constexpr int64_t kRowsPerThread = 256;

 private:
  FastPredictor() = default;
  void PredictRows(const double* x, int64_t rows, bool margin, double* out) const;
  void ConvertBlock(const double* x, int64_t rows, float* block) const;
  void AddTreesToBlock(const float* block, int64_t rows, float* margins) const;
  void AddTreesToRow(const float* block_row, float* margins) const;
  void WriteOutputs(float* margins, int64_t rows, bool margin, double* out) const;
  const float* thresholds_of(int64_t tree) const {
    return thresholds_.data() + tree * splits_per_tree_;
  }
  const uint32_t* offsets_of(int64_t tree) const {
    return offsets_.data() + tree * splits_per_tree_;
  }
  const float* leaves_of(int64_t tree) const { return leaves_.data() + tree * leaves_per_tree_; }

  int outputs_ = 1;
  size_t num_features_ = 0;
  int depth_ = 0;
  int64_t splits_per_tree_ = 0;  // 2^depth - 1
  int64_t leaves_per_tree_ = 1;  // 2^depth
  float base_margin_ = 0.0f;
  OutputTransform transform_ = OutputTransform::kIdentity;
  std::vector<float> thresholds_;
  // Where row 0's value of the split feature sits in a converted block:
  // ((missing goes right ? num_features : 0) + feature) * kBlockRows.
  std::vector<uint32_t> offsets_;
  std::vector<float> leaves_;
  std::vector<int32_t> tree_outputs_;  // tree_info: the output each tree adds to
};

// Rows that exercise the compiled semantics against XGBoost's: per feature, missing values,
// each split threshold exactly, its float neighbours, and doubles that round to it.
// Deterministic in `seed`.
FeatureMatrix ProbeRows(const FastPredictor& fast, const std::vector<std::string>& columns,
                        int64_t rows, uint64_t seed);

// XGBoost's own rows x outputs predictions (margins when `margin`).
using ReferencePredictor =
    std::function<Result<std::vector<double>>(const FeatureMatrix& x, bool margin)>;

// Ok when `fast` reproduces `reference` bit for bit on x, values and margins; otherwise
// Internal naming the first differing row and output.
Status CheckAgreement(const FastPredictor& fast, const FeatureMatrix& x,
                      const ReferencePredictor& reference);

}  // namespace vigil::xgboost_internal
