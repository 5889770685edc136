// Private to vigil_models: the isolation-forest machinery shared by the "isolation_forest"
// (axis-parallel cuts) and "extended_iforest" (hyperplane cuts) kinds: the flat fitted
// forest, tree growing with a pluggable split rule, scoring and isolation attribution.
// Header-only; the kinds' .cc files hold the options and the Model plumbing.
//
// Layout (Liu, Ting & Zhou 2008 trees, stored for speed): a tree is a flat array of 16-byte
// nodes, children allocated as an adjacent pair (right = left + 1) after their parent. A leaf
// is a node that loops to itself with threshold +inf, so with finite inputs (checked before
// scoring) every row takes exactly the tree's depth in identical branch-free steps
//   idx = node[idx].left + (projection(x, node[idx]) > node[idx].threshold)
// and reads h_t(x) from path_length[idx]. The projection is x[split] for axis-parallel cuts
// and sum_j coef_j x[feature_j] over the node's terms for hyperplane cuts.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "models/anomaly/parallel.h"
#include "models/builtin_kinds.h"
#include "vigil/core/rng.h"
#include "vigil/core/status.h"
#include "vigil/models/anomaly/calibration.h"
#include "vigil/models/anomaly/isolation_forest.h"
#include "vigil/models/model.h"

namespace vigil::models_internal {

// Parses the keys both kinds share (the caller checks for unknown keys); errors name `kind`.
// Defined in isolation_forest.cc.
Result<IsolationForestOptions> ParseIsolationForestOptions(std::string_view kind,
                                                           const nlohmann::json& config);

struct IsolationNode {
  double threshold;  // right iff projection > threshold; +inf at a leaf
  int32_t split;     // axis: the feature; hyperplane: the node's first term (0 at a leaf)
  int32_t left;      // tree-relative left child (right = left + 1); a leaf: itself
};
static_assert(sizeof(IsolationNode) == 16);

// A fitted forest; immutable once built, so fitted models share it across threads.
struct IsolationForestState {
  std::vector<std::string> feature_names;
  int64_t max_samples = 0;  // resolved rows per tree
  int max_depth = 0;        // ceil(log2(max_samples))
  // 0: axis-parallel cuts; k >= 1: hyperplanes with k (feature, coefficient) terms each. The
  // first k terms are zeros, read (harmlessly) by leaves.
  int terms_per_split = 0;
  std::vector<int64_t> tree_begin;  // trees + 1 offsets into nodes / path_length
  std::vector<int32_t> tree_depth;  // deepest leaf of each tree: its traversal steps
  std::vector<IsolationNode> nodes;
  std::vector<double> path_length;  // h at leaves (depth + c(rows)), 0 at internal nodes
  // Training-sample rows that reached each node (read only by the attribution, never by
  // the scoring steps, so the 16-byte nodes stay as they are).
  std::vector<int32_t> node_rows;
  std::vector<int32_t> term_features;
  std::vector<double> term_coefs;
  ScoreCalibration calibration;

  int64_t trees() const { return static_cast<int64_t>(tree_depth.size()); }
  // raw = 2^(-sum_t h_t / normalizer)
  double normalizer() const {
    return static_cast<double>(trees()) * IsolationAveragePathLength(max_samples);
  }
};

// ceil(log2(n)) for n >= 1: scikit-learn's max_depth for max_samples = n (n = 1 counts as 2).
inline int CeilLog2(int64_t n) {
  int depth = 0;
  while ((int64_t{1} << depth) < std::max<int64_t>(n, 2)) ++depth;
  return depth;
}

// --- growing trees ---

// The rows one tree grows on, column-major so a node's scan of one feature is contiguous.
struct TreeSample {
  int64_t count = 0;
  std::vector<double> values;  // values[col * count + i]
  double at(int32_t i, int col) const { return values[col * count + i]; }
};

struct GrownTree {
  std::vector<IsolationNode> nodes;
  std::vector<double> path_length;
  std::vector<int32_t> node_rows;
  std::vector<int32_t> term_features;  // tree-relative terms; node.split indexes them
  std::vector<double> term_coefs;
  int depth = 0;
};

struct ValueRange {
  double lo = 0.0;
  double hi = 0.0;
  bool constant() const { return !(hi > lo); }
};

inline ValueRange RangeOf(const TreeSample& sample, std::span<const int32_t> rows, int col) {
  const double* column = sample.values.data() + col * sample.count;
  ValueRange range{column[rows[0]], column[rows[0]]};
  for (int32_t row : rows) {
    range.lo = std::min(range.lo, column[row]);
    range.hi = std::max(range.hi, column[row]);
  }
  return range;
}

// scikit-learn's random splitter: a feature drawn uniformly among those not constant on the
// node (a constant draw is set aside and another drawn), threshold uniform in [min, max).
class AxisSplitRule {
 public:
  explicit AxisSplitRule(std::vector<int> features) : features_(std::move(features)) {}

  bool Draw(const TreeSample& sample, std::span<const int32_t> rows, Rng& rng, GrownTree&,
            IsolationNode& node) {
    std::vector<int>& candidates = features_;
    for (size_t remaining = candidates.size(); remaining > 0; --remaining) {
      const size_t pick = static_cast<size_t>(rng.UniformInt(0, remaining - 1));
      const ValueRange range = RangeOf(sample, rows, candidates[pick]);
      if (!range.constant()) {
        node.split = candidates[pick];
        node.threshold = range.lo + (range.hi - range.lo) * rng.Uniform();
        // As scikit-learn: a draw rounded up to the maximum would send every row left.
        if (node.threshold >= range.hi) node.threshold = range.lo;
        return true;
      }
      std::swap(candidates[pick], candidates[remaining - 1]);
    }
    return false;
  }

  double Project(const TreeSample& sample, const GrownTree&, const IsolationNode& node,
                 int32_t row) const {
    return sample.at(row, node.split);
  }

 private:
  std::vector<int> features_;  // reordered freely: the draw is uniform whatever the order
};

// The projection x . n over a node's terms, written once so growing and scoring agree
// bit for bit. Four partial sums break the floating-point add chain (a 40-term dot product
// would otherwise wait on 40 dependent additions per tree step).
template <typename ValueOf>
double ProjectTerms(const int32_t* features, const double* coefs, int terms, ValueOf value_of) {
  std::array<double, 4> partial{};
  int term = 0;
  for (; term + 4 <= terms; term += 4) {
    for (int k = 0; k < 4; ++k) partial[k] += coefs[term + k] * value_of(features[term + k]);
  }
  for (; term < terms; ++term) partial[0] += coefs[term] * value_of(features[term]);
  return (partial[0] + partial[1]) + (partial[2] + partial[3]);
}

// Hariri et al. 2019, Algorithm 2: normal n ~ N(0, I) on `terms` randomly chosen features
// (the rest zero), intercept p uniform in the node's bounding box, threshold p . n.
class HyperplaneSplitRule {
 public:
  HyperplaneSplitRule(std::vector<int> features, int terms)
      : features_(std::move(features)), terms_(terms), ranges_(features_.size()) {}

  bool Draw(const TreeSample& sample, std::span<const int32_t> rows, Rng& rng, GrownTree& tree,
            IsolationNode& node) {
    bool any_varies = false;
    for (size_t f = 0; f < features_.size(); ++f) {
      ranges_[f] = RangeOf(sample, rows, features_[f]);
      any_varies = any_varies || !ranges_[f].constant();
    }
    if (!any_varies) return false;
    std::vector<size_t> order(features_.size());
    std::iota(order.begin(), order.end(), size_t{0});
    bool separates = false;
    while (!separates) {  // ends: some draw includes a varying feature with probability > 0
      for (int term = 0; term < terms_; ++term) {
        const size_t pick = static_cast<size_t>(rng.UniformInt(term, order.size() - 1));
        std::swap(order[term], order[pick]);
        separates = separates || !ranges_[order[term]].constant();
      }
    }
    node.split = static_cast<int32_t>(tree.term_features.size());
    double threshold = 0.0;
    for (int term = 0; term < terms_; ++term) {
      const ValueRange& range = ranges_[order[term]];
      const double coef = rng.Normal();
      const double intercept = range.lo + (range.hi - range.lo) * rng.Uniform();
      threshold += coef * intercept;
      tree.term_features.push_back(features_[order[term]]);
      tree.term_coefs.push_back(coef);
    }
    node.threshold = threshold;
    return true;
  }

  double Project(const TreeSample& sample, const GrownTree& tree, const IsolationNode& node,
                 int32_t row) const {
    return ProjectTerms(tree.term_features.data() + node.split, tree.term_coefs.data() + node.split,
                        terms_, [&](int32_t col) { return sample.at(row, col); });
  }

 private:
  std::vector<int> features_;
  int terms_;
  std::vector<ValueRange> ranges_;
};

// Grows one tree depth-first; `rule` draws each node's cut (false: every feature constant).
template <typename SplitRule>
GrownTree GrowTree(const TreeSample& sample, int max_depth, SplitRule& rule, Rng& rng) {
  struct Pending {
    int32_t node;
    int32_t begin;
    int32_t end;
    int depth;
  };
  GrownTree tree;
  std::vector<int32_t> rows(sample.count);
  std::iota(rows.begin(), rows.end(), 0);
  tree.nodes.push_back({});
  tree.path_length.push_back(0.0);
  tree.node_rows.push_back(0);
  std::vector<Pending> pending = {{0, 0, static_cast<int32_t>(sample.count), 0}};
  while (!pending.empty()) {
    const Pending at = pending.back();
    pending.pop_back();
    const std::span<int32_t> node_rows(rows.data() + at.begin, at.end - at.begin);
    IsolationNode node{};
    tree.node_rows[at.node] = static_cast<int32_t>(node_rows.size());
    if (at.depth >= max_depth || node_rows.size() < 2 ||
        !rule.Draw(sample, node_rows, rng, tree, node)) {
      tree.nodes[at.node] = {std::numeric_limits<double>::infinity(), 0, at.node};
      tree.path_length[at.node] =
          at.depth + IsolationAveragePathLength(static_cast<int64_t>(node_rows.size()));
      tree.depth = std::max(tree.depth, at.depth);
      continue;
    }
    node.left = static_cast<int32_t>(tree.nodes.size());
    tree.nodes[at.node] = node;
    const auto right_begin = std::partition(node_rows.begin(), node_rows.end(), [&](int32_t row) {
      return !(rule.Project(sample, tree, node, row) > node.threshold);
    });
    const int32_t middle = at.begin + static_cast<int32_t>(right_begin - node_rows.begin());
    tree.nodes.resize(tree.nodes.size() + 2);
    tree.path_length.resize(tree.path_length.size() + 2, 0.0);
    tree.node_rows.resize(tree.node_rows.size() + 2, 0);
    pending.push_back({node.left + 1, middle, at.end, at.depth + 1});
    pending.push_back({node.left, at.begin, middle, at.depth + 1});
  }
  return tree;
}

// `count` distinct indices of [0, n) (Floyd's algorithm when few, a partial shuffle when
// many), or `count` draws with replacement when `bootstrap`.
inline std::vector<int64_t> DrawRows(int64_t n, int64_t count, bool bootstrap, Rng& rng) {
  std::vector<int64_t> picked;
  picked.reserve(count);
  if (bootstrap) {
    for (int64_t i = 0; i < count; ++i) picked.push_back(rng.UniformInt(0, n - 1));
  } else if (count * 4 <= n) {
    std::unordered_set<int64_t> seen;
    seen.reserve(count * 2);
    for (int64_t j = n - count; j < n; ++j) {
      const int64_t t = rng.UniformInt(0, j);
      picked.push_back(seen.insert(t).second ? t : j);
      if (picked.back() == j) seen.insert(j);
    }
  } else {
    std::vector<int64_t> all(n);
    std::iota(all.begin(), all.end(), int64_t{0});
    for (int64_t i = 0; i < count && count < n; ++i) {
      std::swap(all[i], all[rng.UniformInt(i, n - 1)]);
    }
    picked.assign(all.begin(), all.begin() + count);
  }
  return picked;
}

// `count` distinct features of [0, d), ascending (all of them when count == d).
inline std::vector<int> DrawFeatures(int d, int count, Rng& rng) {
  std::vector<int> all(d);
  std::iota(all.begin(), all.end(), 0);
  if (count >= d) return all;
  for (int i = 0; i < count; ++i) std::swap(all[i], all[rng.UniformInt(i, d - 1)]);
  all.resize(count);
  std::sort(all.begin(), all.end());
  return all;
}

inline TreeSample GatherSample(const FeatureMatrix& x, const std::vector<int64_t>& rows) {
  TreeSample sample;
  sample.count = static_cast<int64_t>(rows.size());
  sample.values.resize(sample.count * x.cols());
  for (int64_t i = 0; i < sample.count; ++i) {
    const double* row = x.values.data() + rows[i] * x.cols();
    for (size_t col = 0; col < x.cols(); ++col) sample.values[col * sample.count + i] = row[col];
  }
  return sample;
}

// What one fit grows: the resolved sizes and the split kind.
struct ForestPlan {
  int trees = 0;
  int64_t max_samples = 0;
  int max_depth = 0;
  int features_per_tree = 0;
  int terms_per_split = 0;  // 0: axis-parallel
  bool bootstrap = false;
  uint64_t seed = 0;
  int threads = 1;
};

// Resolves max_samples and max_features against x (InvalidArgument naming the key when
// max_features exceeds the features).
inline Result<ForestPlan> PlanForest(std::string_view kind, const IsolationForestOptions& options,
                                     const FeatureMatrix& x) {
  ForestPlan plan;
  plan.trees = options.n_estimators;
  const int64_t wanted =
      options.max_samples_auto ? int64_t{256} : options.max_samples.Resolve(x.rows);
  plan.max_samples = std::max<int64_t>(2, std::min(wanted, x.rows));
  plan.max_depth = CeilLog2(plan.max_samples);
  const int64_t features = options.max_features.Resolve(static_cast<int64_t>(x.cols()));
  if (features > static_cast<int64_t>(x.cols())) {
    return ConfigError(
        kind, "max_features",
        std::to_string(features) + " exceeds the " + std::to_string(x.cols()) + " features");
  }
  plan.features_per_tree = static_cast<int>(features);
  plan.bootstrap = options.bootstrap;
  plan.seed = static_cast<uint64_t>(options.seed);
  plan.threads = ResolveJobs(options.n_jobs);
  return plan;
}

// Tree t's random stream: depends only on the seed and t, never on the thread growing it.
inline Rng TreeRng(uint64_t seed, int tree) {
  return Rng(seed).Derive("isolation_tree/" + std::to_string(tree));
}

inline GrownTree GrowOneTree(const FeatureMatrix& x, const ForestPlan& plan, int tree_index) {
  Rng rng = TreeRng(plan.seed, tree_index);
  const std::vector<int64_t> rows = DrawRows(x.rows, plan.max_samples, plan.bootstrap, rng);
  std::vector<int> features = DrawFeatures(static_cast<int>(x.cols()), plan.features_per_tree, rng);
  const TreeSample sample = GatherSample(x, rows);
  if (plan.terms_per_split == 0) {
    AxisSplitRule rule(std::move(features));
    return GrowTree(sample, plan.max_depth, rule, rng);
  }
  HyperplaneSplitRule rule(std::move(features), plan.terms_per_split);
  return GrowTree(sample, plan.max_depth, rule, rng);
}

// Appends a grown tree to the flat forest, rebasing its terms past the leaf term block.
inline void AppendTree(GrownTree& tree, IsolationForestState& forest) {
  const int32_t term_base = static_cast<int32_t>(forest.term_features.size());
  if (forest.terms_per_split > 0) {
    for (IsolationNode& node : tree.nodes) {
      if (node.left != static_cast<int32_t>(&node - tree.nodes.data())) node.split += term_base;
    }
  }
  forest.nodes.insert(forest.nodes.end(), tree.nodes.begin(), tree.nodes.end());
  forest.path_length.insert(forest.path_length.end(), tree.path_length.begin(),
                            tree.path_length.end());
  forest.node_rows.insert(forest.node_rows.end(), tree.node_rows.begin(), tree.node_rows.end());
  forest.term_features.insert(forest.term_features.end(), tree.term_features.begin(),
                              tree.term_features.end());
  forest.term_coefs.insert(forest.term_coefs.end(), tree.term_coefs.begin(), tree.term_coefs.end());
  forest.tree_depth.push_back(tree.depth);
  forest.tree_begin.push_back(static_cast<int64_t>(forest.nodes.size()));
}

inline Result<std::unique_ptr<IsolationForestState>> GrowForest(std::string_view kind,
                                                                const ForestPlan& plan,
                                                                const FeatureMatrix& x) {
  std::vector<GrownTree> grown(plan.trees);
  ParallelFor(plan.trees, plan.threads, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) grown[t] = GrowOneTree(x, plan, static_cast<int>(t));
  });
  auto forest = std::make_unique<IsolationForestState>();
  forest->feature_names = x.columns;
  forest->max_samples = plan.max_samples;
  forest->max_depth = plan.max_depth;
  forest->terms_per_split = plan.terms_per_split;
  forest->term_features.assign(plan.terms_per_split, 0);
  forest->term_coefs.assign(plan.terms_per_split, 0.0);
  forest->tree_begin.push_back(0);
  int64_t terms = static_cast<int64_t>(forest->term_features.size());
  for (GrownTree& tree : grown) terms += static_cast<int64_t>(tree.term_features.size());
  if (terms > std::numeric_limits<int32_t>::max()) {
    return InvalidArgument("model '" + std::string(kind) +
                           "': too many hyperplane terms; lower max_samples or extension_level");
  }
  for (GrownTree& tree : grown) AppendTree(tree, *forest);
  return forest;
}

// --- scoring ---

// Rows scored together, tree by tree: a block of 64 rows x 40 features (20 KB) and one tree
// stay in L1 together.
inline constexpr int64_t kBlockRows = 64;
// Rows advanced together per step: independent chains hide the load latency of each step.
inline constexpr int kLanes = 8;

template <typename Projection>
void AddTreePathLengths(const IsolationNode* nodes, const double* path_length, int depth,
                        const double* x, size_t cols, int64_t rows, double* sums,
                        Projection project) {
  int64_t row = 0;
  for (; row + kLanes <= rows; row += kLanes) {
    std::array<int32_t, kLanes> idx{};
    std::array<const double*, kLanes> lane_rows;
    for (int lane = 0; lane < kLanes; ++lane) lane_rows[lane] = x + (row + lane) * cols;
    for (int step = 0; step < depth; ++step) {
#pragma GCC unroll 8
      for (int lane = 0; lane < kLanes; ++lane) {
        const IsolationNode& node = nodes[idx[lane]];
        idx[lane] = node.left + (project(node, lane_rows[lane]) > node.threshold);
      }
    }
    for (int lane = 0; lane < kLanes; ++lane) sums[row + lane] += path_length[idx[lane]];
  }
  for (; row < rows; ++row) {
    int32_t idx = 0;
    for (int step = 0; step < depth; ++step) {
      const IsolationNode& node = nodes[idx];
      idx = node.left + (project(node, x + row * cols) > node.threshold);
    }
    sums[row] += path_length[idx];
  }
}

// sums[r] = sum_t h_t(row r), trees in order (so the result is the same however rows are
// split across threads); x is `rows` rows of `cols` values.
template <typename Projection>
void PathLengthSums(const IsolationForestState& forest, const double* x, size_t cols, int64_t rows,
                    double* sums, Projection project) {
  for (int64_t block = 0; block < rows; block += kBlockRows) {
    const int64_t count = std::min(kBlockRows, rows - block);
    std::fill(sums + block, sums + block + count, 0.0);
    for (int64_t t = 0; t < forest.trees(); ++t) {
      const int64_t base = forest.tree_begin[t];
      AddTreePathLengths(forest.nodes.data() + base, forest.path_length.data() + base,
                         forest.tree_depth[t], x + block * cols, cols, count, sums + block,
                         project);
    }
  }
}

inline void RawScoresOfRows(const IsolationForestState& forest, const double* x, size_t cols,
                            int64_t rows, double* raw) {
  if (forest.terms_per_split == 0) {
    PathLengthSums(forest, x, cols, rows, raw,
                   [](const IsolationNode& node, const double* row) { return row[node.split]; });
  } else {
    const int32_t* features = forest.term_features.data();
    const double* coefs = forest.term_coefs.data();
    const int terms = forest.terms_per_split;
    PathLengthSums(forest, x, cols, rows, raw, [=](const IsolationNode& node, const double* row) {
      return ProjectTerms(features + node.split, coefs + node.split, terms,
                          [row](int32_t col) { return row[col]; });
    });
  }
  const double normalizer = forest.normalizer();
  for (int64_t row = 0; row < rows; ++row) raw[row] = std::exp2(-raw[row] / normalizer);
}

// Threads for `rows` rows: no thread gets fewer than a few blocks (spawning costs more).
inline int ScoringThreads(int threads, int64_t rows) {
  constexpr int64_t kMinRowsPerThread = 16 * kBlockRows;
  return static_cast<int>(std::clamp<int64_t>(rows / kMinRowsPerThread, 1, threads));
}

// Raw scores of every row of x (precondition: columns checked, values finite).
inline std::vector<double> RawScores(const IsolationForestState& forest, const FeatureMatrix& x,
                                     int threads) {
  std::vector<double> raw(x.rows);
  const auto score_range = [&](int64_t begin, int64_t end) {
    RawScoresOfRows(forest, x.values.data() + begin * x.cols(), x.cols(), end - begin,
                    raw.data() + begin);
  };
  const int workers = ScoringThreads(threads, x.rows);
  if (workers <= 1) {
    score_range(0, x.rows);
  } else {
    ParallelFor(x.rows, workers, score_range);
  }
  return raw;
}

// The isolation evidence of one cut for a row: the bits of the node's training sample it
// removes, log2((rows at the node + 1) / (rows on the row's side + 1)). Summed along a path
// this telescopes to log2((max_samples + 1) / (leaf rows + 1)), so each cut's credit is its
// part of the whole isolation; a cut leaving the row with 1 of 256 rows weighs 7 bits, an
// even cut 1 bit.
inline double IsolationBits(int32_t node_rows, int32_t side_rows) {
  return std::log2((node_rows + 1.0) / (side_rows + 1.0));
}

// The leaf the row reaches in the tree at `nodes`, appending the internal nodes it passes.
inline int32_t TracePath(const IsolationForestState& forest, const IsolationNode* nodes,
                         std::span<const double> row, std::vector<int32_t>& path) {
  path.clear();
  int32_t idx = 0;
  while (nodes[idx].left != idx) {
    path.push_back(idx);
    const IsolationNode& node = nodes[idx];
    double projection = 0.0;
    if (forest.terms_per_split == 0) {
      projection = row[node.split];
    } else {
      projection = ProjectTerms(forest.term_features.data() + node.split,
                                forest.term_coefs.data() + node.split, forest.terms_per_split,
                                [&](int32_t col) { return row[col]; });
    }
    idx = node.left + (projection > node.threshold);
  }
  return idx;
}

// Credits `credit` to the features of the cut at `node`: all of it to an axis cut's
// feature, split over a hyperplane's features by n_f^2 / |n|^2 (the squared cosine of the
// normal's angle with axis f: the cut's share along f; these add up to 1).
inline void CreditCut(const IsolationForestState& forest, const IsolationNode& node, double credit,
                      std::span<double> shares) {
  if (forest.terms_per_split == 0) {
    shares[node.split] += credit;
    return;
  }
  const int32_t* features = forest.term_features.data() + node.split;
  const double* coefs = forest.term_coefs.data() + node.split;
  double norm = 0.0;
  for (int term = 0; term < forest.terms_per_split; ++term) norm += coefs[term] * coefs[term];
  if (!(norm > 0)) return;
  for (int term = 0; term < forest.terms_per_split; ++term) {
    shares[features[term]] += credit * coefs[term] * coefs[term] / norm;
  }
}

// Isolation attribution of one row into `shares` (size cols), after DIFFI (Carletti, Terzi
// & Susto 2020): every cut on the row's path in tree t credits its feature(s) with
// IsolationBits(cut) / h_t(x), so cuts that split the row off from most of the node's
// samples, on short paths, dominate; scaled to shares (NormalizeShares).
inline void PathShares(const IsolationForestState& forest, std::span<const double> row,
                       std::span<double> shares) {
  std::fill(shares.begin(), shares.end(), 0.0);
  std::vector<int32_t> path;
  for (int64_t t = 0; t < forest.trees(); ++t) {
    const int64_t base = forest.tree_begin[t];
    const IsolationNode* nodes = forest.nodes.data() + base;
    const int32_t* rows = forest.node_rows.data() + base;
    const int32_t leaf = TracePath(forest, nodes, row, path);
    const double h = forest.path_length[base + leaf];
    if (path.empty() || !(h > 0)) continue;
    for (size_t step = 0; step < path.size(); ++step) {
      const int32_t next = step + 1 < path.size() ? path[step + 1] : leaf;
      const double bits = IsolationBits(rows[path[step]], rows[next]);
      CreditCut(forest, nodes[path[step]], bits / h, shares);
    }
  }
  NormalizeShares(shares);
}

// --- the Model plumbing both kinds share ---

inline Status CheckScoringInput(std::string_view kind, const IsolationForestState* forest,
                                const FeatureMatrix& x) {
  if (forest == nullptr) return FailedPrecondition("model '" + std::string(kind) + "': not fitted");
  VIGIL_RETURN_IF_ERROR(CheckColumns(kind, forest->feature_names, x));
  return x.Validate(/*allow_nan=*/false).WithContext("model '" + std::string(kind) + "'");
}

// Scores, flags and (flagged rows') contributions from already computed raw scores.
inline AnomalyScores ScoresFromRaw(const IsolationForestState& forest, const FeatureMatrix& x,
                                   std::vector<double> raw) {
  AnomalyScores out;
  out.raw = std::move(raw);
  ApplyCalibration(forest.calibration, static_cast<int64_t>(x.cols()), out);
  for (int64_t row = 0; row < x.rows; ++row) {
    if (!out.flag[row]) continue;
    PathShares(forest, x.row(row),
               std::span<double>(out.contributions.data() + row * x.cols(), x.cols()));
  }
  return out;
}

inline Result<AnomalyScores> ScoreForest(std::string_view kind, const IsolationForestState* forest,
                                         int n_jobs, const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(CheckScoringInput(kind, forest, x));
  return ScoresFromRaw(*forest, x, RawScores(*forest, x, ResolveJobs(n_jobs)));
}

inline Result<std::vector<double>> ForestContributions(std::string_view kind,
                                                       const IsolationForestState* forest,
                                                       int n_jobs, const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(CheckScoringInput(kind, forest, x));
  std::vector<double> out(static_cast<size_t>(x.rows) * x.cols());
  ParallelFor(x.rows, ScoringThreads(ResolveJobs(n_jobs), x.rows), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      PathShares(*forest, x.row(row), std::span<double>(out.data() + row * x.cols(), x.cols()));
    }
  });
  return out;
}

// A fitted forest and its training rows' raw scores.
struct FittedForest {
  std::shared_ptr<const IsolationForestState> forest;
  std::vector<double> training_raw;
};

// Grows the forest per `plan` (terms_per_split set by the caller), scores the training rows
// and fits the calibration (native threshold for contamination "auto").
inline Result<FittedForest> FitForest(std::string_view kind, const IsolationForestOptions& options,
                                      const ForestPlan& plan, const FeatureMatrix& x,
                                      double native_threshold) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<IsolationForestState> forest, GrowForest(kind, plan, x));
  FittedForest fitted;
  fitted.training_raw = RawScores(*forest, x, plan.threads);
  VIGIL_ASSIGN_OR_RETURN(
      forest->calibration,
      ScoreCalibration::Fit(fitted.training_raw, options.contamination, native_threshold));
  fitted.forest = std::move(forest);
  return fitted;
}

// Input checks every Fit makes.
inline Status CheckTrainingInput(std::string_view kind, const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(
      x.Validate(/*allow_nan=*/false).WithContext("model '" + std::string(kind) + "'"));
  if (x.rows < 2)
    return InvalidArgument("model '" + std::string(kind) + "': need at least 2 rows to fit");
  if (x.cols() == 0)
    return InvalidArgument("model '" + std::string(kind) + "': no feature columns");
  return Status::Ok();
}

}  // namespace vigil::models_internal
