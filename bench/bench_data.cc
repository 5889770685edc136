#include "bench_data.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "vigil/core/rng.h"

namespace vigil::bench {
namespace {

constexpr int64_t kStart = 1704067200LL * kNanosPerSecond;  // 2024-01-01T00:00:00Z

struct Bar {
  double open, high, low, close, volume;
};

template <typename Visit>
void WalkBars(int64_t rows, uint64_t seed, Visit visit) {
  Rng rng(seed);
  double price = 42000.0;
  for (int64_t row = 0; row < rows; ++row) {
    double open = price;
    double close = open * std::exp(0.001 * rng.Normal());
    double high = std::max(open, close) * (1.0 + 0.0005 * std::fabs(rng.Normal()));
    double low = std::min(open, close) * (1.0 - 0.0005 * std::fabs(rng.Normal()));
    visit(row, Bar{open, high, low, close, 10.0 + 5.0 * std::fabs(rng.Normal())});
    price = close;
  }
}

void AppendNumber(std::string* out, double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, end);
}

}  // namespace

std::string CandleCsv(int64_t rows, uint64_t seed) {
  std::string out = "date,open,high,low,close,volume\n";
  out.reserve(static_cast<size_t>(rows) * 110);
  WalkBars(rows, seed, [&out](int64_t row, const Bar& bar) {
    out += Timestamp(kStart + row * kNanosPerMinute).ToIso();
    for (double value : {bar.open, bar.high, bar.low, bar.close, bar.volume}) {
      out += ',';
      AppendNumber(&out, value);
    }
    out += '\n';
  });
  return out;
}

RecordBatch CandleBatch(int64_t rows, uint64_t seed) {
  RecordBatch batch;
  batch.series = SeriesKey{{"bench", "BTC/USDT"}, DataKind::kCandles, "1m"};
  batch.frame = MakeFrame(SchemaOf(DataKind::kCandles));
  batch.frame.Reserve(rows);
  batch.lines.reserve(static_cast<size_t>(rows));
  WalkBars(rows, seed, [&batch](int64_t row, const Bar& bar) {
    const double values[] = {bar.open, bar.high, bar.low, bar.close, bar.volume, NAN, NAN};
    batch.frame.AppendRow(kStart + row * kNanosPerMinute, values);
    batch.lines.push_back(row + 2);
  });
  return batch;
}

ClassificationData ClassificationProblem(int64_t rows, int features, uint64_t seed) {
  ClassificationData data;
  data.rows = rows;
  data.features = features;
  data.x.reserve(static_cast<size_t>(rows) * features);
  data.labels.reserve(static_cast<size_t>(rows));
  data.probability.reserve(static_cast<size_t>(rows));
  std::vector<double> weight(features);
  for (int feature = 0; feature < features; ++feature) {
    weight[feature] = (feature % 2 == 0 ? 0.8 : -0.8) / (1.0 + 0.25 * feature);
  }
  Rng rng(seed);
  for (int64_t row = 0; row < rows; ++row) {
    const double factor = rng.Normal();
    double logit = -2.0;
    for (int feature = 0; feature < features; ++feature) {
      const double value = (0.5 + 0.1 * feature) * (0.6 * factor + 0.8 * rng.Normal());
      data.x.push_back(value);
      logit += weight[feature] * value;
    }
    const double probability = 1.0 / (1.0 + std::exp(-logit));
    data.probability.push_back(probability);
    data.labels.push_back(rng.Bernoulli(probability) ? 1 : 0);
  }
  return data;
}

}  // namespace vigil::bench
