// Private to vigil_models: exact Euclidean nearest-neighbour queries over a fixed set of
// points, shared by the distance-based detectors (lof, dbscan).
//
//   KnnIndex index(points, rows, dims);                    // row-major, copied
//   NeighborLists train = index.KnnOfIndexed(20, threads);  // each point, itself excluded
//   NeighborLists live = index.Knn(queries, query_rows, 20, threads);
//
// Two search paths, chosen by dimension as scikit-learn's algorithm="auto" does for dense
// data (brute force when dims > 15): below that a nanoflann KD-tree, from there on a
// blocked brute force whose squared distances come from one GEMM per block
// (|q|^2 + |p|^2 - 2 q.p, Eigen). KD-trees lose their pruning power as the dimension
// grows, and at 20 dimensions the GEMM path is several times faster. Whichever path picks
// the neighbours, the distances returned are recomputed exactly, sqrt(sum_j (q_j - p_j)^2)
// summed in feature order, so both paths report the same numbers for the same neighbours.
// Radius queries always use the KD-tree (its comparison is on the squared distance, as
// scikit-learn's trees: d^2 <= r^2).
// Thread-safety: immutable after construction; queries may run concurrently, and each
// query call splits its rows over `threads` threads (results do not depend on it).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace vigil::models_internal {

// k neighbours per query row, nearest first (ties by index): rows x k, row-major.
struct NeighborLists {
  int k = 0;
  std::vector<int64_t> indices;
  std::vector<double> distances;

  std::span<const int64_t> indices_of(int64_t row) const {
    return std::span<const int64_t>(indices).subspan(row * k, k);
  }
  std::span<const double> distances_of(int64_t row) const {
    return std::span<const double>(distances).subspan(row * k, k);
  }
};

class KnnIndex {
 public:
  enum class Method { kKdTree, kBruteForce };
  // scikit-learn's threshold: brute force when the dimension exceeds 15.
  static constexpr int kBruteForceMinDims = 16;

  // Indexes `rows` points of `dims` coordinates (row-major, finite). Preconditions:
  // rows >= 1, dims >= 1, points.size() == rows * dims.
  KnnIndex(std::vector<double> points, int64_t rows, int dims);
  ~KnnIndex();
  KnnIndex(const KnnIndex&) = delete;
  KnnIndex& operator=(const KnnIndex&) = delete;

  int64_t rows() const { return rows_; }
  int dims() const { return dims_; }
  Method method() const { return method_; }
  const std::vector<double>& points() const { return points_; }

  // The k nearest indexed points of each query row (queries: query_rows x dims).
  // Precondition: 1 <= k <= rows().
  NeighborLists Knn(std::span<const double> queries, int64_t query_rows, int k, int threads) const;
  // The k nearest other indexed points of every indexed point (the point itself excluded,
  // by index). Precondition: 1 <= k <= rows() - 1.
  NeighborLists KnnOfIndexed(int k, int threads) const;
  // Indices of the indexed points within `radius` (d^2 <= radius^2, the query point itself
  // included when it is indexed) of each query row, ascending by index.
  std::vector<std::vector<int64_t>> WithinRadius(std::span<const double> queries,
                                                 int64_t query_rows, double radius,
                                                 int threads) const;

  // sqrt(sum_j (a_j - b_j)^2), summed in feature order.
  static double Distance(std::span<const double> a, std::span<const double> b);

 private:
  struct KdTree;

  NeighborLists Search(std::span<const double> queries, int64_t query_rows, int k,
                       bool exclude_self, int threads) const;
  void KdTreeSearch(std::span<const double> queries, int64_t begin, int64_t end, int k,
                    bool exclude_self, NeighborLists& out) const;
  void BruteForceSearch(std::span<const double> queries, int64_t begin, int64_t end, int k,
                        bool exclude_self, NeighborLists& out) const;
  // Recomputes the exact distances of row `row`'s candidates and orders them.
  void FinishRow(std::span<const double> query, int64_t row, NeighborLists& out) const;

  std::vector<double> points_;
  int64_t rows_ = 0;
  int dims_ = 0;
  Method method_ = Method::kKdTree;
  std::vector<double> squared_norms_;  // brute force: |p|^2 per point
  std::unique_ptr<KdTree> tree_;
};

}  // namespace vigil::models_internal
