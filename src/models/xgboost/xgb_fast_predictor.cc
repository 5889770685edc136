// Vigil's compiled tree-ensemble predictor (see xgb_fast_predictor.h for the semantics and
// the layout): compiling XGBoost's model document, the branch-free walk, and the checks
// against XGBoost's own predictor.
#include "models/xgboost/xgb_fast_predictor.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <limits>
#include <memory>
#include <string_view>
#include <utility>

#include "models/anomaly/parallel.h"
#include "vigil/core/rng.h"

namespace vigil::xgboost_internal {
namespace {

using nlohmann::json;

constexpr int64_t kBlockRows = FastPredictor::kBlockRows;
// Independent walks advanced together: rows of a block through one tree, or trees for one
// row. Each step is a dependent load, so interleaving eight hides its latency.
constexpr int kLanes = 16;
// A padding split below a leaf reads feature 0 (offset 0) and goes left (its subtree's
// leaves all hold the same value, so the direction does not matter anyway).
constexpr float kPaddingThreshold = std::numeric_limits<float>::infinity();

// XGBoost: left iff value < threshold, a missing value to the default child; with missing
// values read as -inf (default left) or +inf (default right), one comparison does both.
inline uint32_t GoesRight(float value, float threshold) {
  return static_cast<uint32_t>(value >= threshold);
}

// XGBoost 1.7's common::Sigmoid (src/common/math.h), in float.
inline float Sigmoid(float margin) {
  constexpr float kEps = 1e-16f;
  const float x = std::min(-margin, 88.7f);
  const float denominator = std::exp(x) + 1.0f + kEps;
  return 1.0f / denominator;
}

// XGBoost 1.7's common::Softmax (src/common/math.h): float maximum and exps, double sum.
void Softmax(float* values, int count) {
  float largest = values[0];
  for (int k = 1; k < count; ++k) largest = std::fmax(values[k], largest);
  double sum = 0.0;
  for (int k = 0; k < count; ++k) {
    values[k] = std::exp(values[k] - largest);
    sum += values[k];
  }
  for (int k = 0; k < count; ++k) values[k] /= static_cast<float>(sum);
}

// --- compiling ---

// One tree of the model document, as XGBoost's RegTree arrays.
struct DocumentTree {
  std::vector<int64_t> left, right, feature;
  std::vector<float> value;  // split_conditions: the threshold, or the leaf value at leaves
  std::vector<bool> default_left;
  int depth = 0;

  bool is_leaf(int64_t node) const { return left[node] == -1; }
};

Status Unsupported(const std::string& what) {
  return Unimplemented("not compiled by Vigil's predictor: " + what);
}

// A number stored as a JSON string by XGBoost ("5E-1"), parsed as float32 as XGBoost does.
float FloatParam(const json& params, const char* key) {
  return std::strtof(params.at(key).get<std::string>().c_str(), nullptr);
}
int64_t IntParam(const json& params, const char* key, int64_t fallback) {
  if (!params.contains(key)) return fallback;
  return std::strtoll(params.at(key).get<std::string>().c_str(), nullptr, 10);
}

std::vector<bool> Flags(const json& values) {
  std::vector<bool> out;
  out.reserve(values.size());
  for (const json& value : values)
    out.push_back(value.is_boolean() ? value.get<bool>() : value != 0);
  return out;
}

// The deepest leaf (0 for a tree that is one leaf); DataError for a child out of range or a
// cycle, which a well-formed document never has.
Result<int> TreeDepth(const DocumentTree& tree, int64_t tree_index) {
  const int64_t nodes = static_cast<int64_t>(tree.left.size());
  std::vector<std::pair<int64_t, int>> stack = {{0, 0}};
  int depth = 0;
  int64_t visited = 0;
  while (!stack.empty()) {
    const auto [node, level] = stack.back();
    stack.pop_back();
    if (node < 0 || node >= nodes || ++visited > nodes) {
      return DataError("tree " + std::to_string(tree_index) + ": malformed node links");
    }
    depth = std::max(depth, level);
    if (tree.is_leaf(node)) continue;
    stack.emplace_back(tree.left[node], level + 1);
    stack.emplace_back(tree.right[node], level + 1);
  }
  return depth;
}

Result<DocumentTree> ReadTree(const json& doc, int64_t tree_index, int64_t num_features) {
  DocumentTree tree;
  const json& param = doc.at("tree_param");
  if (IntParam(param, "size_leaf_vector", 0) > 1) return Unsupported("vector-leaf trees");
  for (int split_type : doc.at("split_type").get<std::vector<int>>()) {
    if (split_type != 0) return Unsupported("categorical splits");
  }
  tree.left = doc.at("left_children").get<std::vector<int64_t>>();
  tree.right = doc.at("right_children").get<std::vector<int64_t>>();
  tree.feature = doc.at("split_indices").get<std::vector<int64_t>>();
  tree.value = doc.at("split_conditions").get<std::vector<float>>();
  tree.default_left = Flags(doc.at("default_left"));
  const size_t nodes = tree.left.size();
  if (nodes == 0 || tree.right.size() != nodes || tree.feature.size() != nodes ||
      tree.value.size() != nodes || tree.default_left.size() != nodes) {
    return DataError("tree " + std::to_string(tree_index) + ": node arrays of different sizes");
  }
  for (size_t node = 0; node < nodes; ++node) {
    if (!tree.is_leaf(node) && (tree.feature[node] < 0 || tree.feature[node] >= num_features)) {
      return DataError("tree " + std::to_string(tree_index) + ": split on feature " +
                       std::to_string(tree.feature[node]) + " of " + std::to_string(num_features));
    }
  }
  VIGIL_ASSIGN_OR_RETURN(tree.depth, TreeDepth(tree, tree_index));
  return tree;
}

// Writes `node` of `tree` at complete-tree position `position` (level `level` of `depth`),
// padding leaves shallower than `depth`.
struct TreeLayout {
  float* thresholds;
  uint32_t* offsets;
  float* leaves;
};

void Place(const DocumentTree& tree, int64_t node, int64_t position, int level, int depth,
           int64_t num_features, const TreeLayout& out) {
  const int64_t internal = (int64_t{1} << depth) - 1;
  if (level == depth) {
    out.leaves[position - internal] = tree.value[node];
    return;
  }
  const bool leaf = tree.is_leaf(node);
  if (leaf) {
    out.thresholds[position] = kPaddingThreshold;
    out.offsets[position] = 0;
  } else {
    const int64_t copy = tree.default_left[node] ? 0 : num_features;  // the +inf copy
    out.thresholds[position] = tree.value[node];
    out.offsets[position] = static_cast<uint32_t>((copy + tree.feature[node]) * kBlockRows);
  }
  Place(tree, leaf ? node : tree.left[node], 2 * position + 1, level + 1, depth, num_features, out);
  Place(tree, leaf ? node : tree.right[node], 2 * position + 2, level + 1, depth, num_features,
        out);
}

Result<OutputTransform> TransformOf(const std::string& objective) {
  if (objective == "binary:logistic") return OutputTransform::kSigmoid;
  if (objective == "multi:softprob") return OutputTransform::kSoftmax;
  if (objective == "reg:squarederror" || objective == "reg:pseudohubererror") {
    return OutputTransform::kIdentity;
  }
  return Unsupported("objective " + objective);
}

}  // namespace

Result<std::unique_ptr<FastPredictor>> FastPredictor::Compile(const json& model) {
  try {
    const json& learner = model.at("learner");
    const json& booster = learner.at("gradient_booster");
    const std::string booster_name = booster.at("name").get<std::string>();
    if (booster_name != "gbtree") return Unsupported("booster " + booster_name);
    const json& params = learner.at("learner_model_param");
    if (IntParam(params, "num_target", 1) != 1) return Unsupported("multi-target models");
    std::unique_ptr<FastPredictor> fast(new FastPredictor());
    VIGIL_ASSIGN_OR_RETURN(fast->transform_,
                           TransformOf(learner.at("objective").at("name").get<std::string>()));
    const int64_t num_class = IntParam(params, "num_class", 0);
    const int64_t num_features = IntParam(params, "num_feature", 0);
    // Offsets into a converted block must fit 32 bits.
    constexpr int64_t kMaxFeatures = (int64_t{1} << 31) / kBlockRows;
    if (num_features < 1 || num_features >= kMaxFeatures || num_class < 0 || num_class > 1 << 20) {
      return DataError("learner_model_param: num_feature or num_class out of range");
    }
    fast->num_features_ = static_cast<size_t>(num_features);
    fast->outputs_ = num_class > 1 ? static_cast<int>(num_class) : 1;
    if ((fast->transform_ == OutputTransform::kSoftmax) != (fast->outputs_ > 1)) {
      return Unsupported("num_class " + std::to_string(num_class) + " with this objective");
    }
    // LearnerModelParam's base margin: ObjFunction::ProbToMargin(base_score), in float.
    const float base_score = FloatParam(params, "base_score");
    fast->base_margin_ = fast->transform_ == OutputTransform::kSigmoid
                             ? -std::log(1.0f / base_score - 1.0f)
                             : base_score;

    const json& trees_doc = booster.at("model").at("trees");
    const std::vector<int64_t> tree_info =
        booster.at("model").at("tree_info").get<std::vector<int64_t>>();
    if (tree_info.size() != trees_doc.size()) return DataError("tree_info and trees differ");
    std::vector<DocumentTree> trees;
    for (size_t t = 0; t < trees_doc.size(); ++t) {
      if (tree_info[t] < 0 || tree_info[t] >= fast->outputs_) {
        return DataError("tree " + std::to_string(t) + ": output " + std::to_string(tree_info[t]));
      }
      VIGIL_ASSIGN_OR_RETURN(DocumentTree tree, ReadTree(trees_doc[t], t, num_features));
      fast->depth_ = std::max(fast->depth_, tree.depth);
      if (fast->depth_ > kMaxDepth) {
        return Unsupported("tree " + std::to_string(t) + " of depth " + std::to_string(tree.depth) +
                           " (at most " + std::to_string(kMaxDepth) + ")");
      }
      fast->tree_outputs_.push_back(static_cast<int32_t>(tree_info[t]));
      trees.push_back(std::move(tree));
    }
    fast->leaves_per_tree_ = int64_t{1} << fast->depth_;
    fast->splits_per_tree_ = fast->leaves_per_tree_ - 1;
    const int64_t bytes = static_cast<int64_t>(trees.size()) *
                          (fast->splits_per_tree_ * 8 + fast->leaves_per_tree_ * 4);
    if (bytes > kMaxLayoutBytes) {
      return Unsupported("a layout of " + std::to_string(bytes >> 20) + " MiB");
    }
    fast->thresholds_.resize(trees.size() * fast->splits_per_tree_);
    fast->offsets_.resize(trees.size() * fast->splits_per_tree_);
    fast->leaves_.resize(trees.size() * fast->leaves_per_tree_);
    for (size_t t = 0; t < trees.size(); ++t) {
      const TreeLayout layout = {fast->thresholds_.data() + t * fast->splits_per_tree_,
                                 fast->offsets_.data() + t * fast->splits_per_tree_,
                                 fast->leaves_.data() + t * fast->leaves_per_tree_};
      Place(trees[t], 0, 0, 0, fast->depth_, num_features, layout);
    }
    return fast;
  } catch (const std::exception& error) {
    // A missing or mistyped field of the document (nlohmann's exceptions stop here).
    return DataError(std::string("XGBoost model document: ") + error.what());
  }
}

std::vector<float> FastPredictor::Thresholds(size_t feature) const {
  std::vector<float> out;
  for (size_t split = 0; split < thresholds_.size(); ++split) {
    const size_t split_feature = offsets_[split] / kBlockRows % num_features_;
    if (split_feature == feature && std::isfinite(thresholds_[split])) {
      out.push_back(thresholds_[split]);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// --- predicting ---

void FastPredictor::Predict(const double* x, int64_t rows, bool margin, int threads,
                            double* out) const {
  const int64_t workers = std::clamp<int64_t>(rows / kRowsPerThread, 1, std::max(threads, 1));
  const size_t cols = num_features_;
  const int outputs = outputs_;
  models_internal::ParallelFor(rows, static_cast<int>(workers), [&](int64_t begin, int64_t end) {
    PredictRows(x + begin * cols, end - begin, margin, out + begin * outputs);
  });
}

void FastPredictor::PredictRows(const double* x, int64_t rows, bool margin, double* out) const {
  const size_t cols = num_features_;
  // Uninitialised: ConvertBlock writes every entry a split of these rows can read.
  const auto block = std::make_unique_for_overwrite<float[]>(2 * cols * kBlockRows);
  std::vector<float> margins(std::min(rows, kBlockRows) * outputs_);
  for (int64_t first = 0; first < rows; first += kBlockRows) {
    const int64_t count = std::min(kBlockRows, rows - first);
    ConvertBlock(x + first * cols, count, block.get());
    std::fill(margins.begin(), margins.begin() + count * outputs_, base_margin_);
    const int64_t laned = count - count % kLanes;
    AddTreesToBlock(block.get(), laned, margins.data());
    for (int64_t row = laned; row < count; ++row) {
      AddTreesToRow(block.get() + row, margins.data() + row * outputs_);
    }
    WriteOutputs(margins.data(), count, margin, out + first * outputs_);
  }
}

// Feature-major float32 copies of `rows` rows (XGBoost too reads float64 inputs as float32
// before comparing): block[f * kBlockRows + row] with missing values as -inf, and the same
// at offset num_features * kBlockRows with missing values as +inf.
void FastPredictor::ConvertBlock(const double* x, int64_t rows, float* block) const {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const size_t cols = num_features_;
  float* missing_right = block + cols * kBlockRows;
  for (int64_t row = 0; row < rows; ++row) {
    const double* values = x + row * cols;
    for (size_t col = 0; col < cols; ++col) {
      const float value = static_cast<float>(values[col]);
      const bool missing = std::isnan(value);
      block[col * kBlockRows + row] = missing ? -kInf : value;
      missing_right[col * kBlockRows + row] = missing ? kInf : value;
    }
  }
}

// Tree by tree over the first `rows` rows of a block (a multiple of kLanes); each row still
// adds its trees in model order.
void FastPredictor::AddTreesToBlock(const float* block, int64_t rows, float* margins) const {
  for (int64_t tree = 0; tree < trees(); ++tree) {
    const float* thresholds = thresholds_of(tree);
    const uint32_t* offsets = offsets_of(tree);
    const float* leaves = leaves_of(tree) - splits_per_tree_;  // indexed by node position
    const int output = tree_outputs_[tree];
    for (int64_t row = 0; row < rows; row += kLanes) {
      std::array<uint32_t, kLanes> node{};
      const float* row_values = block + row;
      for (int step = 0; step < depth_; ++step) {
#pragma GCC unroll 16
        for (int lane = 0; lane < kLanes; ++lane) {
          // The lane as the constant displacement of the address.
          const float value = (row_values + size_t{offsets[node[lane]]})[lane];
          node[lane] = 2 * node[lane] + 1 + GoesRight(value, thresholds[node[lane]]);
        }
      }
      for (int lane = 0; lane < kLanes; ++lane) {
        margins[(row + lane) * outputs_ + output] += leaves[node[lane]];
      }
    }
  }
}

// One row of a block, kLanes trees at a time (the one-row latency path); leaves are added in
// tree order.
void FastPredictor::AddTreesToRow(const float* block_row, float* margins) const {
  int64_t tree = 0;
  for (; tree + kLanes <= trees(); tree += kLanes) {
    std::array<uint32_t, kLanes> node{};
    const float* thresholds = thresholds_of(tree);
    const uint32_t* offsets = offsets_of(tree);
    for (int step = 0; step < depth_; ++step) {
#pragma GCC unroll 16
      for (int lane = 0; lane < kLanes; ++lane) {
        const int64_t split = lane * splits_per_tree_ + node[lane];
        node[lane] = 2 * node[lane] + 1 + GoesRight(block_row[offsets[split]], thresholds[split]);
      }
    }
    for (int lane = 0; lane < kLanes; ++lane) {
      margins[tree_outputs_[tree + lane]] += leaves_of(tree + lane)[node[lane] - splits_per_tree_];
    }
  }
  for (; tree < trees(); ++tree) {
    const float* thresholds = thresholds_of(tree);
    const uint32_t* offsets = offsets_of(tree);
    uint32_t node = 0;
    for (int step = 0; step < depth_; ++step) {
      node = 2 * node + 1 + GoesRight(block_row[offsets[node]], thresholds[node]);
    }
    margins[tree_outputs_[tree]] += leaves_of(tree)[node - splits_per_tree_];
  }
}

void FastPredictor::WriteOutputs(float* margins, int64_t rows, bool margin, double* out) const {
  const int64_t values = rows * outputs_;
  if (!margin && transform_ == OutputTransform::kSigmoid) {
    for (int64_t i = 0; i < values; ++i) margins[i] = Sigmoid(margins[i]);
  } else if (!margin && transform_ == OutputTransform::kSoftmax) {
    for (int64_t row = 0; row < rows; ++row) Softmax(margins + row * outputs_, outputs_);
  }
  std::copy(margins, margins + values, out);
}

// --- checking against XGBoost ---

FeatureMatrix ProbeRows(const FastPredictor& fast, const std::vector<std::string>& columns,
                        int64_t rows, uint64_t seed) {
  constexpr double kMissingShare = 0.15;
  FeatureMatrix x;
  x.columns = columns;
  x.rows = rows;
  x.values.resize(rows * columns.size());
  Rng rng(seed);
  for (size_t col = 0; col < columns.size(); ++col) {
    const std::vector<float> thresholds = fast.Thresholds(col);
    for (int64_t row = 0; row < rows; ++row) {
      double& value = x.values[row * columns.size() + col];
      if (rng.Bernoulli(kMissingShare)) {
        value = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      if (thresholds.empty()) {
        value = rng.Normal();
        continue;
      }
      const float t = thresholds[rng.UniformInt(0, static_cast<int64_t>(thresholds.size()) - 1)];
      const float below = std::nextafter(t, -std::numeric_limits<float>::infinity());
      const float above = std::nextafter(t, std::numeric_limits<float>::infinity());
      // A quarter of the way from t to its lower neighbour: a double that rounds to t.
      const double rounds_to_t = t - 0.25 * (static_cast<double>(t) - below);
      const std::array<double, 4> choices = {t, below, above, rounds_to_t};
      value = choices[rng.UniformInt(0, 3)];
    }
  }
  return x;
}

Status CheckAgreement(const FastPredictor& fast, const FeatureMatrix& x,
                      const ReferencePredictor& reference) {
  for (const bool margin : {false, true}) {
    VIGIL_ASSIGN_OR_RETURN(const std::vector<double> expected, reference(x, margin));
    std::vector<double> ours(x.rows * fast.outputs());
    fast.Predict(x.values.data(), x.rows, margin, /*threads=*/1, ours.data());
    if (expected.size() != ours.size()) {
      return Internal("compiled predictor: " + std::to_string(ours.size()) + " outputs, XGBoost " +
                      std::to_string(expected.size()));
    }
    for (size_t i = 0; i < ours.size(); ++i) {
      // Bitwise: both are float32 values widened to double (NaN never occurs).
      if (ours[i] == expected[i]) continue;
      return Internal("compiled predictor differs from XGBoost's at row " +
                      std::to_string(i / fast.outputs()) + ", output " +
                      std::to_string(i % fast.outputs()) + (margin ? " (margin)" : "") + ": " +
                      std::to_string(ours[i]) + " vs " + std::to_string(expected[i]));
    }
  }
  return Status::Ok();
}

}  // namespace vigil::xgboost_internal
