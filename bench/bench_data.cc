#include "bench_data.h"

#include <algorithm>
#include <charconv>
#include <cmath>

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

}  // namespace vigil::bench
