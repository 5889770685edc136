// Classic technical-analysis kernels. Definitions, warm-up and smoothing follow R's TTR
// package exactly (checked against TTR on its `ttrc` data set to 1e-9 relative; see
// tests/testdata/features/README.md). Output names encode the parameters, e.g. sma_20,
// macd_12_26_9. Precondition: every period >= 1 (asserted); feature-set parsing validates
// user input before calling these. Outputs are NaN while a kernel warms up.
#pragma once

#include <memory>

#include "vigil/features/kernel.h"

namespace vigil {

// --- averages and oscillators on the close ---
std::unique_ptr<FeatureKernel> MakeSma(int n);  // sma_<n>
std::unique_ptr<FeatureKernel> MakeEma(int n);  // ema_<n>: ratio 2/(n+1), seeded with SMA(n)
std::unique_ptr<FeatureKernel> MakeWma(int n);  // wma_<n>: weights 1..n
std::unique_ptr<FeatureKernel> MakeRsi(int n);  // rsi_<n>: Wilder smoothing, 0..100
// macd_<f>_<s>_<g>, macd_signal_<f>_<s>_<g>, macd_hist_<f>_<s>_<g> (percent = FALSE)
std::unique_ptr<FeatureKernel> MakeMacd(int fast, int slow, int signal);
// bb_lower_<n>_<k>, bb_mid_<n>_<k>, bb_upper_<n>_<k>, bb_pctb_<n>_<k> on the close,
// population standard deviation
std::unique_ptr<FeatureKernel> MakeBollinger(int n, int k);

// --- range, trend and volume ---
std::unique_ptr<FeatureKernel> MakeTrueRange();  // tr (NaN on the first bar, as TTR)
std::unique_ptr<FeatureKernel> MakeAtr(int n);   // atr_<n>: Wilder smoothing of tr
std::unique_ptr<FeatureKernel> MakeAdx(int n);   // adx_<n>
// stoch_fastk_<k>_<d>_<s>, stoch_fastd_<k>_<d>_<s>, stoch_slowd_<k>_<d>_<s> in [0, 1]
std::unique_ptr<FeatureKernel> MakeStochastic(int fast_k, int fast_d, int slow_d);
std::unique_ptr<FeatureKernel> MakeObv();               // obv, starting at the first volume
std::unique_ptr<FeatureKernel> MakeLogReturn(int k);    // logret_<k>
std::unique_ptr<FeatureKernel> MakeRealizedVol(int n);  // rv_<n>: sample sd of logret_1

}  // namespace vigil
