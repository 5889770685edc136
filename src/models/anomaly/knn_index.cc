#include "models/anomaly/knn_index.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <nanoflann.hpp>
#include <utility>

#include "models/anomaly/parallel.h"

namespace vigil::models_internal {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRowMap = Eigen::Map<const RowMatrix>;

// Brute-force blocks: a query block's distances to a point block fit in L2 cache
// (128 x 1024 doubles = 1 MB), and each GEMM is large enough to run at full speed.
constexpr int64_t kQueryBlock = 128;
constexpr int64_t kPointBlock = 1024;
// nanoflann's default leaf size.
constexpr size_t kLeafMaxSize = 10;

// The bounded max-heap of one query's best candidates, by (squared distance, index).
class CandidateHeap {
 public:
  explicit CandidateHeap(int k) : k_(k) { heap_.reserve(k); }

  double worst() const {
    return static_cast<int>(heap_.size()) < k_ ? std::numeric_limits<double>::infinity()
                                               : heap_.front().first;
  }
  void Offer(double squared_distance, int64_t index) {
    if (static_cast<int>(heap_.size()) < k_) {
      heap_.emplace_back(squared_distance, index);
      std::push_heap(heap_.begin(), heap_.end());
    } else if (std::make_pair(squared_distance, index) < heap_.front()) {
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.back() = {squared_distance, index};
      std::push_heap(heap_.begin(), heap_.end());
    }
  }
  const std::vector<std::pair<double, int64_t>>& items() const { return heap_; }

 private:
  int k_;
  std::vector<std::pair<double, int64_t>> heap_;
};

}  // namespace

// nanoflann's dataset adaptor over the row-major points.
struct KnnIndex::KdTree {
  struct Points {
    const double* data;
    size_t rows;
    size_t dims;
    size_t kdtree_get_point_count() const { return rows; }
    double kdtree_get_pt(size_t row, size_t dim) const { return data[row * dims + dim]; }
    template <class BoundingBox>
    bool kdtree_get_bbox(BoundingBox&) const {
      return false;
    }
  };
  using Tree = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, Points>,
                                                   Points, -1, size_t>;

  KdTree(const std::vector<double>& points, int64_t rows, int dims)
      : adaptor{points.data(), static_cast<size_t>(rows), static_cast<size_t>(dims)},
        tree(dims, adaptor, nanoflann::KDTreeSingleIndexAdaptorParams(kLeafMaxSize)) {}

  Points adaptor;
  Tree tree;
};

KnnIndex::KnnIndex(std::vector<double> points, int64_t rows, int dims)
    : points_(std::move(points)), rows_(rows), dims_(dims) {
  method_ = dims_ >= kBruteForceMinDims ? Method::kBruteForce : Method::kKdTree;
  tree_ = std::make_unique<KdTree>(points_, rows_, dims_);
  if (method_ == Method::kBruteForce) {
    squared_norms_.resize(rows_);
    Eigen::Map<Eigen::VectorXd>(squared_norms_.data(), rows_) =
        ConstRowMap(points_.data(), rows_, dims_).rowwise().squaredNorm();
  }
}

KnnIndex::~KnnIndex() = default;

double KnnIndex::Distance(std::span<const double> a, std::span<const double> b) {
  double sum = 0.0;
  for (size_t j = 0; j < a.size(); ++j) {
    const double diff = a[j] - b[j];
    sum += diff * diff;
  }
  return std::sqrt(sum);
}

NeighborLists KnnIndex::Knn(std::span<const double> queries, int64_t query_rows, int k,
                            int threads) const {
  return Search(queries, query_rows, k, /*exclude_self=*/false, threads);
}

NeighborLists KnnIndex::KnnOfIndexed(int k, int threads) const {
  return Search(points_, rows_, k, /*exclude_self=*/true, threads);
}

NeighborLists KnnIndex::Search(std::span<const double> queries, int64_t query_rows, int k,
                               bool exclude_self, int threads) const {
  NeighborLists out;
  out.k = k;
  out.indices.assign(static_cast<size_t>(query_rows) * k, 0);
  out.distances.assign(static_cast<size_t>(query_rows) * k, 0.0);
  ParallelFor(query_rows, threads, [&](int64_t begin, int64_t end) {
    if (method_ == Method::kBruteForce) {
      BruteForceSearch(queries, begin, end, k, exclude_self, out);
    } else {
      KdTreeSearch(queries, begin, end, k, exclude_self, out);
    }
  });
  return out;
}

void KnnIndex::KdTreeSearch(std::span<const double> queries, int64_t begin, int64_t end, int k,
                            bool exclude_self, NeighborLists& out) const {
  const size_t wanted = static_cast<size_t>(k) + (exclude_self ? 1 : 0);
  std::vector<size_t> found(wanted);
  std::vector<double> squared(wanted);
  for (int64_t row = begin; row < end; ++row) {
    const double* query = queries.data() + row * dims_;
    const size_t count = tree_->tree.knnSearch(query, wanted, found.data(), squared.data());
    size_t kept = 0;
    for (size_t i = 0; i < count && kept < static_cast<size_t>(k); ++i) {
      if (exclude_self && found[i] == static_cast<size_t>(row)) continue;
      out.indices[row * k + kept++] = static_cast<int64_t>(found[i]);
    }
    FinishRow(queries.subspan(row * dims_, dims_), row, out);
  }
}

void KnnIndex::BruteForceSearch(std::span<const double> queries, int64_t begin, int64_t end, int k,
                                bool exclude_self, NeighborLists& out) const {
  const ConstRowMap all_points(points_.data(), rows_, dims_);
  RowMatrix products;
  for (int64_t block_begin = begin; block_begin < end; block_begin += kQueryBlock) {
    const int64_t block_rows = std::min(kQueryBlock, end - block_begin);
    const ConstRowMap block(queries.data() + block_begin * dims_, block_rows, dims_);
    const Eigen::VectorXd block_norms = block.rowwise().squaredNorm();
    std::vector<CandidateHeap> heaps(block_rows, CandidateHeap(k));
    for (int64_t point_begin = 0; point_begin < rows_; point_begin += kPointBlock) {
      const int64_t point_rows = std::min(kPointBlock, rows_ - point_begin);
      products.noalias() = block * all_points.middleRows(point_begin, point_rows).transpose();
      for (int64_t q = 0; q < block_rows; ++q) {
        const int64_t self = exclude_self ? block_begin + q : -1;
        CandidateHeap& heap = heaps[q];
        double worst = heap.worst();
        const double* row_products = products.data() + q * point_rows;
        for (int64_t p = 0; p < point_rows; ++p) {
          const int64_t index = point_begin + p;
          // Rounding can make the expansion slightly negative for coincident points.
          const double squared =
              std::max(0.0, block_norms[q] + squared_norms_[index] - 2.0 * row_products[p]);
          if (squared > worst || index == self) continue;
          heap.Offer(squared, index);
          worst = heap.worst();
        }
      }
    }
    for (int64_t q = 0; q < block_rows; ++q) {
      const int64_t row = block_begin + q;
      const auto& items = heaps[q].items();
      for (int i = 0; i < k; ++i) out.indices[row * k + i] = items[i].second;
      FinishRow(queries.subspan(row * dims_, dims_), row, out);
    }
  }
}

void KnnIndex::FinishRow(std::span<const double> query, int64_t row, NeighborLists& out) const {
  const int k = out.k;
  std::vector<std::pair<double, int64_t>> ranked(k);
  for (int i = 0; i < k; ++i) {
    const int64_t index = out.indices[row * k + i];
    ranked[i] = {Distance(query, std::span<const double>(points_).subspan(index * dims_, dims_)),
                 index};
  }
  std::sort(ranked.begin(), ranked.end());
  for (int i = 0; i < k; ++i) {
    out.distances[row * k + i] = ranked[i].first;
    out.indices[row * k + i] = ranked[i].second;
  }
}

std::vector<std::vector<int64_t>> KnnIndex::WithinRadius(std::span<const double> queries,
                                                         int64_t query_rows, double radius,
                                                         int threads) const {
  std::vector<std::vector<int64_t>> out(query_rows);
  // nanoflann keeps d^2 < r^2; the next double up makes it d^2 <= r^2, as scikit-learn.
  const double squared_radius =
      std::nextafter(radius * radius, std::numeric_limits<double>::infinity());
  nanoflann::SearchParams params;
  params.sorted = false;
  ParallelFor(query_rows, threads, [&](int64_t begin, int64_t end) {
    std::vector<std::pair<size_t, double>> matches;
    for (int64_t row = begin; row < end; ++row) {
      tree_->tree.radiusSearch(queries.data() + row * dims_, squared_radius, matches, params);
      std::vector<int64_t>& indices = out[row];
      indices.reserve(matches.size());
      for (const auto& match : matches) indices.push_back(static_cast<int64_t>(match.first));
      std::sort(indices.begin(), indices.end());
    }
  });
  return out;
}

}  // namespace vigil::models_internal
