// Market-microstructure kernels: order-book shape, order flow, trade activity and
// liquidations. Each is an EventKernel with one input (the instrument's order book,
// trades or liquidations); output names encode the parameters, windows written with
// FormatDuration (ofi_1m, trade_count_30s, liq_cascade_5_1m).
//
//   auto ofi = vigil::MakeOrderFlowImbalance(60 * vigil::kNanosPerSecond);  // ofi_1m
//   for (const vigil::Event& e : book.events()) ofi->Observe(0, e);
//   ofi->Emit(now, out);
//
// Conventions shared by every kernel here:
// - Time windows cover (now - window, now] and are evicted by `now` in Emit, so a quiet
//   stream decays: counts and sums of an empty window are 0 (also before the first event;
//   the feature engine reports NaN until an input has delivered one, see engine.h), ratios
//   of an empty window are NaN.
// - Book features describe the latest observed snapshot and are NaN before the first one;
//   a side with no levels makes best-level features NaN. Crossed books are reported as
//   they are (negative spread), never corrected.
// - Odd input never crashes a kernel: NaN, infinite or negative quantities count as 0; a
//   side is read by its sign, and 0 or NaN is unknown (counted in totals, not in buy/sell
//   or long/short).
// Preconditions (asserted; catalogue.h validates user input first): levels, buckets and
// n >= 1, windows > 0, bucket_volume finite and >= 0.
// Thread-safety: kernels hold mutable state; use one per thread (Clone()).
#pragma once

#include <cstdint>
#include <memory>

#include "vigil/features/event_kernel.h"

namespace vigil {

// --- order book (input: kOrderBook snapshots) ---

// spread = best ask - best bid; spread_bps = spread / mid * 1e4 (NaN unless mid > 0).
std::unique_ptr<EventKernel> MakeSpread();
// mid = (best bid + best ask) / 2.
std::unique_ptr<EventKernel> MakeMid();
// microprice = (bid * ask_size + ask * bid_size) / (bid_size + ask_size) at the best
// level: the mid tilted toward the side with less resting size (Stoikov 2018, "The
// micro-price", Quantitative Finance 18(12), its first-order weighted mid). NaN when both
// best sizes are 0.
std::unique_ptr<EventKernel> MakeMicroprice();
// imbalance_<levels> = (B - A) / (B + A) where B and A sum the sizes of the top `levels`
// levels of the bid and ask side (fewer when the side is shorter). In [-1, 1]; a one-sided
// book gives +-1; NaN when B + A == 0.
std::unique_ptr<EventKernel> MakeBookImbalance(int levels);
// depth_pressure_<levels>: the imbalance of notional (price * size) over the top `levels`
// levels, level i (0 = best) weighted by 1 / (1 + i), so liquidity near the touch counts
// more than deep liquidity: (Bw - Aw) / (Bw + Aw), Bw = sum_i bid_price_i * bid_size_i /
// (1 + i). In [-1, 1]; NaN when Bw + Aw == 0.
std::unique_ptr<EventKernel> MakeDepthPressure(int levels);
// ofi_<window>: order-flow imbalance at the best level (Cont, Kukanov and Stoikov 2014,
// "The price impact of order book events", J. Financial Econometrics 12(1), eq. 10),
// summed over the snapshots stamped in (now - window, now]:
//   e_n = 1{Pb_n >= Pb_n-1} qb_n - 1{Pb_n <= Pb_n-1} qb_n-1
//       - 1{Pa_n <= Pa_n-1} qa_n + 1{Pa_n >= Pa_n-1} qa_n-1
// A snapshot whose best bid or ask is missing (empty side, NaN) contributes nothing and
// the next one has no predecessor. NaN until the first e_n; 0 for a window without any.
std::unique_ptr<EventKernel> MakeOrderFlowImbalance(int64_t window_ns);

// --- trades (input: kTrades) ---

// Over (now - window, now]: trade_count_<w> (trades), trade_volume_<w> (sum of qty),
// trade_imbalance_<w> = (buy qty - sell qty) / total qty with the aggressor side (side-0
// trades count in the total only; NaN when the total is 0).
std::unique_ptr<EventKernel> MakeTradeIntensity(int64_t window_ns);
// vpin_<buckets>: volume-synchronised probability of informed trading (Easley, Lopez de
// Prado and O'Hara 2012, "Flow toxicity and liquidity in a high-frequency world", Review
// of Financial Studies 25(5), eq. 7), classifying volume by the trade's aggressor side
// instead of bulk classification. Trades fill consecutive buckets of volume V, a trade
// split across bucket boundaries; VPIN = sum over the last `buckets` complete buckets of
// |buy - sell| / (buckets * V). Side-0 volume fills buckets but is neither buy nor sell.
// NaN until `buckets` buckets are complete. The value changes only when a bucket
// completes (a volume clock: it does not decay with time).
// bucket_volume > 0 fixes V. bucket_volume == 0 calibrates it point in time: V = half the
// total qty of the first kVpinCalibrationTrades trades with qty > 0 (about 50 trades per
// bucket), fixed from then on; those trades are bucketed once V is known.
inline constexpr int kVpinCalibrationTrades = 100;
std::unique_ptr<EventKernel> MakeVpin(int buckets, double bucket_volume);

// --- liquidations (input: kLiquidations; side +1 long, -1 short position liquidated) ---
// Windows are (now - window, now]; the notional is the `notional` field, or price * qty
// when that is missing; NaN or negative notionals count as 0.

// liq_count_long_<w>, liq_count_short_<w>, liq_count_<w> (all sides).
std::unique_ptr<EventKernel> MakeLiquidationCount(int64_t window_ns);
// liq_notional_long_<w>, liq_notional_short_<w>, liq_notional_<w> (all sides).
std::unique_ptr<EventKernel> MakeLiquidationNotional(int64_t window_ns);
// liq_cascade_<n>_<w>: 1 when the window holds at least n liquidations, else 0.
std::unique_ptr<EventKernel> MakeLiquidationCascade(int n, int64_t window_ns);
// liq_long_share_<w>: long notional / (long + short notional) in the window; liquidations
// of unknown side are left out (NaN when no sided notional is in the window).
std::unique_ptr<EventKernel> MakeLiquidationLongShare(int64_t window_ns);

}  // namespace vigil
