#include "vigil/backtest/compare.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "vigil/backtest/metrics.h"
#include "vigil/core/rng.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMinResamples = 100;
constexpr int64_t kMinPeriods = 3;
// Periods are drawn as 32-bit indices (UniformBelow).
constexpr int64_t kMaxPeriods = std::numeric_limits<uint32_t>::max();

// ---------------------------------------------------------------------------------------------
// Inputs

Status CheckReturns(std::span<const double> returns, std::string_view field) {
  const auto periods = static_cast<int64_t>(returns.size());
  if (periods < kMinPeriods)
    return InvalidArgument(std::string(field) + ": need at least 3 periods, got " +
                           std::to_string(periods));
  if (periods > kMaxPeriods)
    return InvalidArgument(std::string(field) + ": more than 2^32 - 1 periods");
  for (size_t t = 0; t < returns.size(); ++t) {
    if (!std::isfinite(returns[t]))
      return InvalidArgument(std::string(field) + ": not finite at period " + std::to_string(t));
  }
  return Status::Ok();
}

Status CheckInputs(std::span<const double> strategy, std::span<const double> baseline,
                   double periods_per_year, double risk_free_per_period) {
  VIGIL_RETURN_IF_ERROR(CheckReturns(strategy, "strategy_returns"));
  if (baseline.size() != strategy.size())
    return InvalidArgument("baseline_returns: " + std::to_string(baseline.size()) +
                           " periods, strategy_returns has " + std::to_string(strategy.size()) +
                           "; the series must be marked at the same times");
  VIGIL_RETURN_IF_ERROR(CheckReturns(baseline, "baseline_returns"));
  if (!std::isfinite(periods_per_year) || periods_per_year <= 0.0)
    return InvalidArgument("periods_per_year: must be finite and > 0");
  if (!std::isfinite(risk_free_per_period) || risk_free_per_period <= -1.0)
    return InvalidArgument("risk_free_per_period: must be finite and > -1");
  return Status::Ok();
}

// A Sharpe ratio needs dispersion; checked on the values themselves, since a mean computed in
// floating point leaves tiny nonzero deviations around a constant series.
Status CheckDispersion(std::span<const double> returns, std::string_view field) {
  const auto [low, high] = std::minmax_element(returns.begin(), returns.end());
  if (*low == *high)
    return FailedPrecondition(std::string(field) +
                              ": every return is equal; its Sharpe ratio is undefined");
  return Status::Ok();
}

double Mean(std::span<const double> values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

// The sample deviation (n - 1) around `mean`, two-pass like metrics.cc.
double Deviation(std::span<const double> values, double mean) {
  double squares = 0.0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

// What the Sharpe ratio of a series and of its resamples needs.
struct SharpeScale {
  double mean = 0.0;  // of the returns
  double deviation = 0.0;
  double risk_free = 0.0;  // per period
  double annual = 0.0;     // sqrt(periods per year)
  double periods = 0.0;    // n
};

SharpeScale ScaleOf(std::span<const double> returns, double periods_per_year, double risk_free) {
  SharpeScale scale;
  scale.mean = Mean(returns);
  scale.deviation = Deviation(returns, scale.mean);
  scale.risk_free = risk_free;
  scale.annual = std::sqrt(periods_per_year);
  scale.periods = static_cast<double>(returns.size());
  return scale;
}

double Sharpe(const SharpeScale& scale) {
  return (scale.mean - scale.risk_free) / scale.deviation * scale.annual;
}

// The influence of each period on the per-period Sharpe ratio (see compare.h): the
// difference of two Sharpe ratios is, to first order, the mean of the differences of these.
std::vector<double> SharpeInfluence(std::span<const double> returns, const SharpeScale& scale) {
  const double sharpe = (scale.mean - scale.risk_free) / scale.deviation;
  const double variance = scale.deviation * scale.deviation;
  std::vector<double> influence(returns.size());
  for (size_t t = 0; t < returns.size(); ++t) {
    const double centred = returns[t] - scale.mean;
    influence[t] =
        centred / scale.deviation - sharpe / (2.0 * variance) * (centred * centred - variance);
  }
  return influence;
}

// ---------------------------------------------------------------------------------------------
// The paired stationary bootstrap

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

uint32_t High32(uint64_t word) { return static_cast<uint32_t>(word >> 32); }
uint32_t Low32(uint64_t word) { return static_cast<uint32_t>(word); }

// Uniform on [0, bound), bound >= 1, without bias, from the 32 random bits `bits` and more from
// `stream` when they are rejected: Lemire (2019), "Fast random integer generation in an
// interval" (a multiply, and a division only on the rare rejection path).
uint32_t UniformBelow(uint32_t bits, uint32_t bound, SplitMixStream& stream) {
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
    if (strategy_check_.constant() || baseline_check_.constant()) return kNaN;
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
    if (!(variance > 0.0)) return kNaN;
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

// ---------------------------------------------------------------------------------------------
// The bootstrap distribution's summary

// Hyndman & Fan (1996) definition 7 on sorted values: h = (B - 1) p, interpolated.
double Quantile(const std::vector<double>& sorted, double probability) {
  const double h = static_cast<double>(sorted.size() - 1) * probability;
  const auto below = static_cast<size_t>(std::floor(h));
  if (below + 1 >= sorted.size()) return sorted.back();
  return sorted[below] + (h - static_cast<double>(below)) * (sorted[below + 1] - sorted[below]);
}

void Summarise(std::vector<double>& differences, double confidence, SharpeComparison& c) {
  const double count = static_cast<double>(differences.size());
  const double mean = Mean(differences);
  c.standard_error = Deviation(differences, mean);
  const double observed = std::abs(c.difference);
  const auto extreme = std::count_if(differences.begin(), differences.end(), [&](double d) {
    return std::abs(d - c.difference) >= observed;
  });
  c.p_value = (1.0 + static_cast<double>(extreme)) / (count + 1.0);
  std::sort(differences.begin(), differences.end());
  c.lower = Quantile(differences, (1.0 - confidence) / 2.0);
  c.upper = Quantile(differences, (1.0 + confidence) / 2.0);
  c.confidence = confidence;
  c.resamples = static_cast<int>(differences.size());
}

// ---------------------------------------------------------------------------------------------
// Backtest results and JSON

Status CheckEquity(const std::vector<double>& equity, size_t marks, std::string_view field) {
  if (equity.size() != marks)
    return InvalidArgument(std::string(field) + ": " + std::to_string(equity.size()) +
                           " values for " + std::to_string(marks) + " mark times");
  for (size_t t = 0; t < equity.size(); ++t) {
    if (!std::isfinite(equity[t]) || equity[t] <= 0.0)
      return InvalidArgument(std::string(field) + ": not finite and > 0 at mark " +
                             std::to_string(t) + "; returns are undefined after a wipe-out");
  }
  return Status::Ok();
}

Status CheckSameRun(const BacktestResult& strategy, const BacktestResult& baseline) {
  const size_t marks = strategy.mark_times.size();
  if (baseline.mark_times.size() != marks)
    return InvalidArgument("baseline.mark_times: " + std::to_string(baseline.mark_times.size()) +
                           " marks, strategy.mark_times has " + std::to_string(marks) +
                           "; compare backtests of the same data");
  for (size_t t = 0; t < marks; ++t) {
    if (baseline.mark_times[t] != strategy.mark_times[t])
      return InvalidArgument("baseline.mark_times: differs from strategy.mark_times at mark " +
                             std::to_string(t) + "; compare backtests of the same data");
  }
  VIGIL_RETURN_IF_ERROR(CheckEquity(strategy.equity, marks, "strategy.equity"));
  return CheckEquity(baseline.equity, marks, "baseline.equity");
}

}  // namespace

Status BootstrapOptions::Validate() const {
  if (resamples < kMinResamples) return InvalidArgument("resamples: must be >= 100");
  if (!(confidence > 0.0 && confidence < 1.0))
    return InvalidArgument("confidence: must be in (0, 1)");
  if (!std::isfinite(mean_block_length) || (mean_block_length != 0.0 && mean_block_length < 1.0))
    return InvalidArgument("mean_block_length: must be 0 (automatic) or a finite number >= 1");
  return Status::Ok();
}

std::vector<double> PeriodReturns(std::span<const double> equity, double initial_capital) {
  std::vector<double> returns(equity.size());
  double previous = initial_capital;
  for (size_t t = 0; t < equity.size(); ++t) {
    returns[t] = equity[t] / previous - 1.0;
    previous = equity[t];
  }
  return returns;
}

Result<SharpeComparison> CompareSharpe(std::span<const double> strategy_returns,
                                       std::span<const double> baseline_returns,
                                       double periods_per_year, double risk_free_per_period,
                                       const BootstrapOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(
      CheckInputs(strategy_returns, baseline_returns, periods_per_year, risk_free_per_period));
  VIGIL_RETURN_IF_ERROR(CheckDispersion(strategy_returns, "strategy_returns"));
  VIGIL_RETURN_IF_ERROR(CheckDispersion(baseline_returns, "baseline_returns"));

  const SharpeScale strategy = ScaleOf(strategy_returns, periods_per_year, risk_free_per_period);
  const SharpeScale baseline = ScaleOf(baseline_returns, periods_per_year, risk_free_per_period);
  SharpeComparison c;
  c.sharpe_strategy = Sharpe(strategy);
  c.sharpe_baseline = Sharpe(baseline);
  c.difference = c.sharpe_strategy - c.sharpe_baseline;
  c.periods = static_cast<int64_t>(strategy_returns.size());
  c.block_length = options.mean_block_length;
  if (c.block_length == 0.0) {
    std::vector<double> influence = SharpeInfluence(strategy_returns, strategy);
    const std::vector<double> baseline_influence = SharpeInfluence(baseline_returns, baseline);
    for (size_t t = 0; t < influence.size(); ++t) influence[t] -= baseline_influence[t];
    c.block_length = StationaryBootstrapBlockLength(influence);
  }

  PairedResampler resampler(strategy_returns, baseline_returns, strategy, baseline, c.block_length,
                            options.seed);
  std::vector<double> differences;
  differences.reserve(static_cast<size_t>(options.resamples));
  for (int b = 0; b < options.resamples; ++b) {
    const double difference = resampler.NextDifference();
    if (std::isfinite(difference)) differences.push_back(difference);
  }
  if (differences.size() < static_cast<size_t>(kMinResamples))
    return FailedPrecondition("only " + std::to_string(differences.size()) + " of " +
                              std::to_string(options.resamples) +
                              " resamples have dispersion in both series; need 100");
  Summarise(differences, options.confidence, c);
  return c;
}

Result<SharpeComparison> CompareSharpe(const BacktestResult& strategy,
                                       const BacktestResult& baseline, double initial_capital,
                                       double risk_free_rate_annual,
                                       const BootstrapOptions& options) {
  VIGIL_RETURN_IF_ERROR(CheckSameRun(strategy, baseline));
  if (!std::isfinite(initial_capital) || initial_capital <= 0.0)
    return InvalidArgument("initial_capital: must be finite and > 0");
  if (!std::isfinite(risk_free_rate_annual) || risk_free_rate_annual <= -1.0)
    return InvalidArgument("risk_free_rate_annual: must be finite and > -1");
  const double periods_per_year = strategy.metrics.periods_per_year;
  if (!std::isfinite(periods_per_year) || periods_per_year <= 0.0)
    return InvalidArgument(
        "strategy.metrics.periods_per_year: must be finite and > 0 (RunBacktest sets it)");
  const double risk_free = std::pow(1.0 + risk_free_rate_annual, 1.0 / periods_per_year) - 1.0;
  return CompareSharpe(PeriodReturns(strategy.equity, initial_capital),
                       PeriodReturns(baseline.equity, initial_capital), periods_per_year, risk_free,
                       options);
}

nlohmann::json ToJson(const SharpeComparison& c) {
  return {{"sharpe_strategy", JsonFinite(c.sharpe_strategy)},
          {"sharpe_baseline", JsonFinite(c.sharpe_baseline)},
          {"difference", JsonFinite(c.difference)},
          {"lower", JsonFinite(c.lower)},
          {"upper", JsonFinite(c.upper)},
          {"confidence", JsonFinite(c.confidence)},
          {"p_value", JsonFinite(c.p_value)},
          {"standard_error", JsonFinite(c.standard_error)},
          {"block_length", JsonFinite(c.block_length)},
          {"resamples", c.resamples},
          {"periods", c.periods}};
}

}  // namespace vigil
