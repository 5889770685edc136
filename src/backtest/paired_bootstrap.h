// The paired stationary bootstrap behind CompareSharpe (compare.cc): resamples of both
// return series drawn with the same blocks, and the Sharpe difference of each. Internal to
// the backtest module; split from compare.cc to keep the comparison readable.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "vigil/core/rng.h"

namespace vigil::backtest_internal {

// What the Sharpe ratio of a series and of its resamples needs.
struct SharpeScale {
  double mean = 0.0;  // of the returns
  double deviation = 0.0;
  double risk_free = 0.0;  // per period
  double annual = 0.0;     // sqrt(periods per year)
  double periods = 0.0;    // n
};

// The SplitMix64 generator (Steele, Lea & Flood 2014): rng.h's SplitMix64 adds the golden
// gamma and mixes, so mixing a state that advances by the gamma is the generator itself. One
// 64-bit word per block (32 bits for its start, 32 for its length), or per two periods at
// L = 1: 2000 resamples of 100k periods take 10^8 words, and mt19937_64 (5 ns a word here)
// would spend half a second on them alone.
class SplitMixStream {
 public:
  explicit SplitMixStream(uint64_t state) : state_(state) {}

  uint64_t Next() {
    const uint64_t word = SplitMix64(state_);
    state_ += kGoldenGamma;
    return word;
  }

 private:
  static constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;
  uint64_t state_;
};

inline uint32_t High32(uint64_t word) { return static_cast<uint32_t>(word >> 32); }
inline uint32_t Low32(uint64_t word) { return static_cast<uint32_t>(word); }

// Uniform on [0, bound), bound >= 1, without bias, from the 32 random bits `bits` and more from
// `stream` when they are rejected: Lemire (2019), "Fast random integer generation in an
// interval" (a multiply, and a division only on the rare rejection path).
inline uint32_t UniformBelow(uint32_t bits, uint32_t bound, SplitMixStream& stream) {
  uint64_t product = uint64_t{bits} * bound;
  if (Low32(product) < bound) {
    const uint32_t threshold = (uint32_t{0} - bound) % bound;  // 2^32 mod bound
    while (Low32(product) < threshold) product = uint64_t{High32(stream.Next())} * bound;
  }
  return High32(product);
}

// Geometric lengths, P(length > k) = q^k with q = 1 - 1/L, by inversion of one 32-bit draw:
// the length is 1 + the number of thresholds floor(q^k 2^32), k = 1..kSteps, above the draw
// (a binary search written as a loop, which compilers turn into conditional moves: the count
// is random, so branches on it would be mispredicted; unrolled by hand it ran 50 % slower);
// past the last threshold, memorylessness lets a fresh draw go on from there.
// No draw per period, as continuation coins would take, and no logarithm per block (5 ns here)
// for the short blocks most return series get.
class GeometricLengths {
 public:
  explicit GeometricLengths(double mean) {
    const double q = 1.0 - 1.0 / mean;
    continues_ = q > 0.0;
    double tail = 1.0;
    for (uint32_t& threshold : thresholds_) {
      tail *= q;
      threshold = static_cast<uint32_t>(std::min(std::ldexp(tail, 32), kMaxThreshold));
    }
  }

  // A length in [1, cap], from the 32 random bits `bits` and more from `stream` when needed.
  uint32_t Draw(uint32_t bits, uint32_t cap, SplitMixStream& stream) const {
    if (!continues_) return 1;
    uint64_t length = 1;
    for (;;) {
      const uint32_t passed = ThresholdsAbove(bits);
      length += passed;
      if (passed < kSteps || length >= cap)
        return static_cast<uint32_t>(std::min<uint64_t>(length, cap));
      bits = Low32(stream.Next());
    }
  }

 private:
  static constexpr uint32_t kSteps = 15;                 // a binary search of 4 halvings
  static constexpr double kMaxThreshold = 4294967295.0;  // 2^32 - 1: a block always may end

  // The thresholds decrease, so those above `bits` are a prefix; its length, in [0, 15].
  uint32_t ThresholdsAbove(uint32_t bits) const {
    uint32_t count = 0;
    for (uint32_t half = 8; half > 0; half /= 2)
      count += bits < thresholds_[count + half - 1] ? half : 0;
    return count;
  }

  std::array<uint32_t, kSteps> thresholds_{};
  bool continues_ = false;
};

// Sums over periods of the centred returns of both series and of their squares.
struct MomentSums {
  double strategy = 0.0;
  double strategy_squares = 0.0;
  double baseline = 0.0;
  double baseline_squares = 0.0;
};

struct Block {
  uint32_t start;
  uint32_t length;
};

// Tells whether a resample holds a single value of one series. It is exact (every drawn period
// compared with the first), where a variance computed from sums would leave rounding noise
// instead of 0; and it stops looking at the first block that differs, so costs nearly nothing.
class ConstantResampleCheck {
 public:
  explicit ConstantResampleCheck(std::span<const double> values)
      : values_(values), equal_run_(values.size()) {
    // equal_run_[i]: how many periods from i on (circularly, at most n) equal values[i]. Two
    // passes backwards settle the runs that wrap around the end.
    const size_t n = values.size();
    uint32_t run = 0;
    for (size_t pass = 0; pass < 2; ++pass) {
      for (size_t i = n; i-- > 0;) {
        run = values[i] == values[(i + 1) % n] ? std::min<uint32_t>(run + 1, n) : 1;
        equal_run_[i] = run;
      }
    }
  }

  void Start(uint32_t first_period) {
    value_ = values_[first_period];
    constant_ = true;
  }
  void Add(uint32_t start, uint32_t length) {
    if (constant_) constant_ = values_[start] == value_ && equal_run_[start] >= length;
  }
  bool constant() const { return constant_; }

 private:
  std::span<const double> values_;
  std::vector<uint32_t> equal_run_;
  double value_ = 0.0;
  bool constant_ = true;
};

struct PairedValue {
  double strategy;
  double baseline;
};

// Draws paired stationary-bootstrap resamples and returns the Sharpe difference of each. The
// sums of a block come from prefix sums, so a resample costs O(n / L) draws and table reads
// (plus a comparison per period); nothing is allocated per resample. L = 1 (the iid bootstrap,
// what the automatic rule gives serially uncorrelated data) has a path of its own, twice as
// fast: there the draws and the reads are the whole cost.
class PairedResampler {
 public:
  PairedResampler(std::span<const double> strategy, std::span<const double> baseline,
                  const SharpeScale& strategy_scale, const SharpeScale& baseline_scale,
                  double block_length, uint64_t seed)
      : periods_(static_cast<uint32_t>(strategy.size())),
        single_periods_(block_length == 1.0),
        strategy_scale_(strategy_scale),
        baseline_scale_(baseline_scale),
        lengths_(block_length),
        stream_(Rng(seed).Derive("sharpe_difference").seed()),
        strategy_check_(strategy),
        baseline_check_(baseline) {
    std::vector<PairedValue> centred(strategy.size());
    for (size_t t = 0; t < strategy.size(); ++t)
      centred[t] = {strategy[t] - strategy_scale.mean, baseline[t] - baseline_scale.mean};
    if (single_periods_) {
      centred_ = std::move(centred);
      return;
    }
    prefix_.resize(strategy.size() + 1);
    for (size_t t = 0; t < strategy.size(); ++t) {
      const double x = centred[t].strategy, y = centred[t].baseline;
      const MomentSums& before = prefix_[t];
      prefix_[t + 1] = {before.strategy + x, before.strategy_squares + x * x, before.baseline + y,
                        before.baseline_squares + y * y};
    }
    batch_.resize(kBatchBlocks);
  }

  // The Sharpe difference of a new resample; NaN when a series is constant in it.
  double NextDifference() {
    const MomentSums sums = single_periods_ ? SumSinglePeriods() : SumBlocks();
    if (strategy_check_.constant() || baseline_check_.constant())
      return std::numeric_limits<double>::quiet_NaN();
    return ResampledSharpe(sums.strategy, sums.strategy_squares, strategy_scale_) -
           ResampledSharpe(sums.baseline, sums.baseline_squares, baseline_scale_);
  }

 private:
  // Blocks are drawn a batch at a time before their sums are read, so the table reads of a
  // batch do not wait on the draws and overlap in the memory system (the table of 100k periods
  // is larger than the L2 cache).
  static constexpr size_t kBatchBlocks = 256;

  MomentSums SumBlocks() {
    MomentSums sums;
    uint32_t filled = 0;
    bool first_batch = true;
    while (filled < periods_) {
      const size_t count = DrawBatch(periods_ - filled, filled);
      if (first_batch) StartChecks(batch_[0].start);
      first_batch = false;
      for (size_t i = 0; i < count; ++i) AddBlock(batch_[i], sums);
    }
    return sums;
  }

  // Each 64-bit word gives two periods, read from the centred values: half the bytes of the
  // prefix table, so that 100k periods stay in the L2 cache.
  MomentSums SumSinglePeriods() {
    MomentSums sums;
    const uint32_t first = UniformBelow(High32(stream_.Next()), periods_, stream_);
    StartChecks(first);
    AddPeriod(first, sums);
    for (uint32_t filled = 1; filled < periods_; filled += 2) {
      const uint64_t word = stream_.Next();
      AddPeriod(UniformBelow(High32(word), periods_, stream_), sums);
      if (filled + 1 < periods_) AddPeriod(UniformBelow(Low32(word), periods_, stream_), sums);
    }
    return sums;
  }

  void StartChecks(uint32_t first_period) {
    strategy_check_.Start(first_period);
    baseline_check_.Start(first_period);
  }

  // Draws up to kBatchBlocks blocks covering at most `remaining` periods; adds the periods
  // covered to `filled` and returns the number of blocks.
  size_t DrawBatch(uint32_t remaining, uint32_t& filled) {
    size_t count = 0;
    while (count < kBatchBlocks && remaining > 0) {
      const uint64_t word = stream_.Next();
      Block block;
      block.start = UniformBelow(High32(word), periods_, stream_);
      // Capped here rather than inside Draw, so that drawing the next length need not wait
      // for this one: `remaining` is the only value carried from block to block.
      block.length = std::min(lengths_.Draw(Low32(word), periods_, stream_), remaining);
      batch_[count++] = block;
      remaining -= block.length;
      filled += block.length;
    }
    return count;
  }

  void AddPeriod(uint32_t period, MomentSums& sums) {
    const PairedValue& value = centred_[period];
    sums.strategy += value.strategy;
    sums.strategy_squares += value.strategy * value.strategy;
    sums.baseline += value.baseline;
    sums.baseline_squares += value.baseline * value.baseline;
    strategy_check_.Add(period, 1);
    baseline_check_.Add(period, 1);
  }

  // Circular: a block running past the last period continues at the first (it is at most n
  // long, so it wraps at most once).
  void AddBlock(const Block& block, MomentSums& sums) {
    strategy_check_.Add(block.start, block.length);
    baseline_check_.Add(block.start, block.length);
    const MomentSums& from = prefix_[block.start];
    const uint64_t end = uint64_t{block.start} + block.length;
    if (end <= periods_) {
      Accumulate(prefix_[end], from, sums);
      return;
    }
    Accumulate(prefix_[periods_], from, sums);
    Accumulate(prefix_[end - periods_], prefix_[0], sums);
  }

  static void Accumulate(const MomentSums& to, const MomentSums& from, MomentSums& sums) {
    sums.strategy += to.strategy - from.strategy;
    sums.strategy_squares += to.strategy_squares - from.strategy_squares;
    sums.baseline += to.baseline - from.baseline;
    sums.baseline_squares += to.baseline_squares - from.baseline_squares;
  }

  // From the sums of the resample's centred returns: the shift of its mean from the sample's
  // and its deviation (n - 1).
  static double ResampledSharpe(double sum, double squares, const SharpeScale& scale) {
    const double shift = sum / scale.periods;
    const double variance = (squares - sum * shift) / (scale.periods - 1.0);
    if (!(variance > 0.0)) return std::numeric_limits<double>::quiet_NaN();
    return (scale.mean + shift - scale.risk_free) / std::sqrt(variance) * scale.annual;
  }

  uint32_t periods_;
  bool single_periods_;
  SharpeScale strategy_scale_;
  SharpeScale baseline_scale_;
  GeometricLengths lengths_;
  SplitMixStream stream_;
  ConstantResampleCheck strategy_check_;
  ConstantResampleCheck baseline_check_;
  std::vector<PairedValue> centred_;  // L = 1
  std::vector<MomentSums> prefix_;    // L > 1; prefix_[t]: sums over periods before t
  std::vector<Block> batch_;          // L > 1
};

}  // namespace vigil::backtest_internal
