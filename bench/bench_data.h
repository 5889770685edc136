// Deterministic synthetic inputs for benchmarks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/data/records.h"

namespace vigil::bench {

// A freqtrade-style candle CSV ("date,open,high,low,close,volume", ISO times, 1m bars)
// with `rows` rows of a random walk.
std::string CandleCsv(int64_t rows, uint64_t seed = 1);

// The same bars as a RecordBatch for instrument bench:BTC/USDT 1m.
RecordBatch CandleBatch(int64_t rows, uint64_t seed = 1);

// A synthetic binary classification problem shaped like event prediction (about one
// positive in six), for the models benchmarks. Row i, feature j (j = 0..features-1):
//   x_ij = (0.5 + 0.1 j) * (0.6 f_i + 0.8 e_ij),  f_i, e_ij ~ N(0, 1)
// (a common factor f_i correlates the features at 0.36), and
//   P(label_i = 1) = sigmoid(-2 + sum_j w_j x_ij),  w_j = (-1)^j * 0.8 / (1 + 0.25 j).
// Rows are drawn one after another from one Rng(seed) stream, so the first k rows of a
// larger problem are the k-row problem.
struct ClassificationData {
  int64_t rows = 0;
  int features = 0;
  std::vector<double> x;            // rows x features, row-major
  std::vector<int> labels;          // 0 or 1
  std::vector<double> probability;  // the true P(label = 1) of each row
};
ClassificationData ClassificationProblem(int64_t rows, int features = 20, uint64_t seed = 7);

}  // namespace vigil::bench
