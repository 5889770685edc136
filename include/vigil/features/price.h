// Price and volume kernels beyond the classic `ta` set (ta.h): simple returns, range-based
// volatility estimators, rolling z-score, extremes and drawdown, Sharpe ratio, VWAP, money
// flow, momentum, volume averages, Bollinger width, the directional indicators and calendar
// encodings. Each follows R's TTR package (0.24.3) where TTR has the feature, checked on its
// `ttrc` data set to 1e-9 relative (tests/testdata/features/ttrc_price.csv, made by
// scripts/fixtures/ttr_price.R); warm-up values are NaN exactly where TTR's are NA.
//
//   std::unique_ptr<vigil::FeatureKernel> vwap = vigil::MakeVwap(10);   // outputs: vwap_10
//   std::vector<double> out(1);
//   for (const vigil::Bar& bar : bars) { vwap->Update(bar, out); ... out[0] ... }
//
// Shared contract of every function here:
// - Precondition: periods >= 1 (>= 2 where a sample standard deviation is taken), asserted;
//   the catalogue (catalogue.h) validates user input before calling these.
// - Updates are O(1) amortised. Rolling sums are compensated and recomputed exactly from
//   their window every n bars, so values do not drift over endless streams.
// - Bad input never crashes a kernel. A bar whose inputs a kernel needs are not finite (or,
//   where the kernel takes a logarithm of them, not positive) gets NaN outputs and is
//   skipped: it does not enter the kernel's window or state, so later values are as if the
//   bar had not occurred. (TTR has no such case: it stops on NA inside a series.)
// - Where TTR would divide zero by zero on a degenerate but valid window (flat prices, no
//   volume), the kernel returns the neutral value documented on the function instead, so
//   live streams of thin crypto markets keep producing finite values.
// - Thread-safety: as every FeatureKernel, one instance per thread (Clone()).
#pragma once

#include <memory>

#include "vigil/features/kernel.h"

namespace vigil {

// --- returns and momentum on the close ---

// ret_<k>: close / close k bars ago - 1, TTR's ROC(close, k, type = "discrete"). NaN for the
// first k bars.
std::unique_ptr<FeatureKernel> MakeSimpleReturn(int k);
// mom_<n>: close - close n bars ago, TTR's momentum(close, n). NaN for the first n bars.
std::unique_ptr<FeatureKernel> MakeMomentum(int n);

// --- volatility ---

// rv_parkinson_<n>: Parkinson (1980, J. Business 53(1)) range estimator per bar,
// sqrt(sum over the last n bars of ln(high / low)^2 / (4 n ln 2)), TTR's
// volatility(OHLC, n, calc = "parkinson", N = 1) (not annualised). NaN for the first n - 1
// bars. Needs positive high and low.
std::unique_ptr<FeatureKernel> MakeParkinsonVol(int n);
// rv_gk_<n>: Garman & Klass (1980, J. Business 53(1)) estimator per bar,
// sqrt(1/n * sum over the last n bars of 0.5 ln(high / low)^2 - (2 ln 2 - 1) ln(close / open)^2),
// TTR's volatility(OHLC, n, calc = "garman.klass", N = 1). NaN for the first n - 1 bars.
// Needs positive OHLC. The sum is non-negative for consistent bars (open and close within
// [low, high]); a window of inconsistent bars whose sum is negative gives NaN, as in TTR
// (telling that from rounding costs an O(n) recount on such bars only).
std::unique_ptr<FeatureKernel> MakeGarmanKlassVol(int n);
// sharpe_<n>: mean / sample standard deviation of the last n one-bar log returns
// (TTR: runMean(r, n) / runSD(r, n) with r = ROC(close, 1)), not annualised. Precondition
// n >= 2. NaN for the first n bars. A window without return variation gives 0 when the
// returns are zero (a flat price) and NaN otherwise (a constant non-zero return).
std::unique_ptr<FeatureKernel> MakeRollingSharpe(int n);

// --- position of the close in its window ---

// zscore_<n>: (close - SMA(close, n)) / sample sd of the last n closes, TTR's
// (close - SMA(close, n)) / runSD(close, n). Precondition n >= 2. NaN for the first n - 1
// bars. A flat window (sd below 1e-10 of the mean, i.e. zero up to rounding) gives 0.
std::unique_ptr<FeatureKernel> MakeZScore(int n);
// min_<n> / max_<n>: lowest / highest of the last n closes, TTR's runMin / runMax. NaN for
// the first n - 1 bars. Monotonic deque: O(1) amortised.
std::unique_ptr<FeatureKernel> MakeRollingMin(int n);
std::unique_ptr<FeatureKernel> MakeRollingMax(int n);
// drawdown_<n>: close / (highest of the last n closes) - 1, <= 0 for positive prices
// (TTR: close / runMax(close, n) - 1). NaN for the first n - 1 bars.
std::unique_ptr<FeatureKernel> MakeDrawdown(int n);
// bb_width_<n>_<k>: (upper - lower) / mid of MakeBollinger(n, k)'s bands (TTR's BBands on
// the close, population sd), i.e. 2 k sd / SMA. NaN for the first n - 1 bars. Precondition
// k >= 0.
std::unique_ptr<FeatureKernel> MakeBollingerWidth(int n, int k);

// --- volume ---

// vwap_<n>: volume-weighted average close of the last n bars, TTR's VWAP(close, volume, n)
// = runSum(close * volume, n) / runSum(volume, n). NaN for the first n - 1 bars. A window
// without volume gives the plain mean of its closes (the limit of equal volumes).
std::unique_ptr<FeatureKernel> MakeVwap(int n);
// mfi_<n>: Quong & Soudack's money flow index, TTR's MFI(HLC, volume, n), in [0, 100]: the
// typical price (high + low + close) / 3 times volume, summed over the last n bars where the
// typical price rose (positive flow) and fell (negative flow); 100 - 100 / (1 + pos / neg),
// 100 without negative flow, 50 without any flow. NaN for the first n bars.
std::unique_ptr<FeatureKernel> MakeMfi(int n);
// vol_ma_<n>: SMA of the volume (TTR's SMA(volume, n)). NaN for the first n - 1 bars.
std::unique_ptr<FeatureKernel> MakeVolumeMa(int n);
// vol_ratio_<n>: volume / vol_ma_<n>. NaN for the first n - 1 bars; 1 when the window has no
// volume at all (the bar is as quiet as its window).
std::unique_ptr<FeatureKernel> MakeVolumeRatio(int n);

// --- trend ---

// plus_di_<n>, minus_di_<n>: Wilder's (1978) directional indicators, TTR's ADX(HLC, n)
// columns DIp and DIn (100 * Wilder sum of +DM / -DM over the Wilder sum of the true
// range), in [0, 100]. NaN for the first n bars. A window without any range (TTR: 0 / 0)
// gives 0 for both: no direction.
std::unique_ptr<FeatureKernel> MakeDmi(int n);

// --- calendar (no warm-up; TTR has no equivalent) ---

// tod_sin, tod_cos: sin and cos of 2 pi * (UTC time of day of bar.ts) / 24 h, continuous
// across midnight.
std::unique_ptr<FeatureKernel> MakeTimeOfDay();
// dow_sin, dow_cos: sin and cos of 2 pi * weekday / 7, with the UTC weekday of bar.ts
// numbered 0 = Monday .. 6 = Sunday.
std::unique_ptr<FeatureKernel> MakeDayOfWeek();

}  // namespace vigil
