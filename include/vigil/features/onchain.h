// On-chain and cross-instrument event kernels: oracle deviation from a reference price,
// vault (e.g. Hyperliquid HLP) equity and PnL, perpetual funding, DeFi protocol TVL, and
// the correlation and beta of two instruments' returns. Catalogue groups "oracle",
// "vault", "funding", "defi" and "cross" (catalogue.h) build these by name.
//
//   auto stats = vigil::MakeOracleDeviationStats(20, "binance:BTC/USDT");
//   // inputs: {oracle}, {candles of binance:BTC/USDT}
//   // outputs: oracle_dev_mean_20, oracle_dev_std_20, oracle_dev_absmax_20
//   auto corr = vigil::MakeCorrelation(30, "binance:BTC/USDT");   // corr_30_binance_BTC_USDT
//
// Conventions shared by every kernel here:
// - Per-update kernels (vault, funding, defi, oracle statistics) recompute their outputs
//   when an event of their input arrives; Emit(now) writes the values of the latest
//   update, so a row between updates sees the last known value.
// - "x[k]" is the value k updates earlier. Windows of n count updates, not time.
// - Outputs are NaN during warm-up and when undefined: a missing optional field, a zero
//   or negative denominator (a log of a non-positive value), a zero standard deviation as
//   a divisor (Sharpe, z-scores, correlation, beta; a flat window's sd itself is 0).
//   Values that are undefined at an update are skipped by rolling windows (the window
//   holds the last n defined values), and a statistic "of the latest value" (z-scores) is
//   NaN at an update whose own value is undefined.
// - Standard deviations are sample ones (divisor n - 1). Rolling statistics are updated
//   in O(1) amortised time (compensated sums and Welford updates with a periodic exact
//   recomputation) and match a two-pass computation to 1e-9 relative
//   (tests/features/onchain_test.cc).
//
// Preconditions: window lengths n >= 2 and lags k >= 1 (asserted; the catalogue validates
// user input first). Thread-safety: as every kernel (event_kernel.h): one per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "vigil/features/event_kernel.h"

namespace vigil {

// --- oracle: input 0 = oracle updates of the row's instrument ---
// `reference` empty: the reference price is the oracle row's own reference_price (NaN
// when the row has none). Otherwise it is the latest close of the candles of `reference`
// ("venue:symbol"), which becomes input 1. The deviation is d = price / reference - 1.

// oracle_dev: the latest oracle price against the latest reference as of `now`. With a
// reference stream, that reference may be newer than the oracle round: this is the
// staleness of the oracle that a consumer of it would see at `now`.
std::unique_ptr<EventKernel> MakeOracleDeviation(std::string reference = "");
// oracle_dev_mean_<n>, oracle_dev_std_<n>, oracle_dev_absmax_<n>: mean, sample standard
// deviation and largest |d| of d at the last n oracle updates (d taken at each update with
// the reference known then).
std::unique_ptr<EventKernel> MakeOracleDeviationStats(int n, std::string reference = "");
// oracle_dev_persist_<bps>bps: seconds from the first update of the current run of
// updates with |d| > threshold_bps / 1e4 until `now`; 0 when the latest |d| is at or below
// the threshold; NaN before the first update with a defined d, or when the latest d is
// undefined (which also ends a run). Precondition: threshold_bps >= 0.
std::unique_ptr<EventKernel> MakeOracleDeviationPersistence(int threshold_bps,
                                                            std::string reference = "");
// oracle_dev_velocity: (d_latest - d_previous) per hour between the two latest oracle
// updates; NaN when either d is undefined or both updates share a timestamp.
std::unique_ptr<EventKernel> MakeOracleDeviationVelocity(std::string reference = "");

// --- vault: input 0 = vault updates (equity, pnl, open_interest) ---
std::unique_ptr<EventKernel> MakeVaultReturn(int k);       // vault_ret_<k>: equity/equity[k] - 1
std::unique_ptr<EventKernel> MakeVaultPnlMomentum(int n);  // vault_pnl_mom_<n>: pnl - pnl[n]
// vault_drawdown: equity / (running maximum of equity since the first update) - 1;
// NaN while that maximum is not positive.
std::unique_ptr<EventKernel> MakeVaultDrawdown();
// vault_vol_<n>: sample sd of the last n log equity returns (between consecutive updates).
std::unique_ptr<EventKernel> MakeVaultVol(int n);
// vault_sharpe_<n>: mean / sample sd of the last n log equity returns (per update, not
// annualised).
std::unique_ptr<EventKernel> MakeVaultSharpe(int n);
// vault_pnl_z_<n>: (c - mean) / sd of the last n PnL changes c = pnl - pnl[1], the
// latest one included.
std::unique_ptr<EventKernel> MakeVaultPnlZ(int n);

// --- funding: input 0 = funding settlements (rate, mark_price, index_price) ---
std::unique_ptr<EventKernel> MakeFundingRate();  // funding_rate: the latest rate
// funding_z_<n>: (rate - mean) / sd of the last n rates, the latest one included.
std::unique_ptr<EventKernel> MakeFundingZ(int n);
std::unique_ptr<EventKernel> MakeFundingChange(int k);  // funding_change_<k>: rate - rate[k]
std::unique_ptr<EventKernel> MakeFundingBasis();        // funding_basis: mark / index - 1

// --- DeFi protocol: input 0 = protocol updates (tvl, volume, price, market_cap) ---
std::unique_ptr<EventKernel> MakeTvlChange(int k);  // tvl_change_<k>: tvl / tvl[k] - 1
// tvl_vol_<n>: sample sd of the last n log TVL changes (between consecutive updates).
std::unique_ptr<EventKernel> MakeTvlVol(int n);
// tvl_slope_<n>: ordinary least-squares slope of ln(tvl) against time in days over the
// last n updates with tvl > 0 (growth per day; NaN when they all share a timestamp).
std::unique_ptr<EventKernel> MakeTvlSlope(int n);
// tvl_drawdown_<n>: tvl / (maximum tvl of the last n updates) - 1 (NaN until n updates).
// Precondition: n >= 1.
std::unique_ptr<EventKernel> MakeTvlDrawdown(int n);
std::unique_ptr<EventKernel> MakeLiquidityRatio();  // liquidity_ratio: volume / tvl
std::unique_ptr<EventKernel> MakeMcapTvl();         // mcap_tvl: market_cap / tvl

// --- cross-instrument: input 0 = candles of the row's instrument, input 1 = candles of
// `with` ("venue:symbol") ---
// Returns are sampled at Emit: each Emit takes each leg's latest close and forms the log
// returns against the closes taken at the previous Emit, pushing the pair into a window of
// the last n pairs (nothing is pushed while a leg has no close yet). NaN until n pairs.
// corr_<n>_<W>: Pearson correlation of the pairs; W = InstrumentColumnSuffix(with).
std::unique_ptr<EventKernel> MakeCorrelation(int n, std::string with);
// beta_<n>_<W>: cov(r_self, r_with) / var(r_with) over the same window.
std::unique_ptr<EventKernel> MakeBeta(int n, std::string with);

// `instrument` with every character that is not an ASCII letter or digit replaced by '_',
// for column names: "binance:ETH/USDT" -> "binance_ETH_USDT".
std::string InstrumentColumnSuffix(std::string_view instrument);

}  // namespace vigil
