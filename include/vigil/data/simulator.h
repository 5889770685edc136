// The market simulator: synthetic crypto perpetual markets with ground-truth incidents.
//
// Simulate() builds N correlated perpetual futures at 1-minute resolution together with
// the data a DeFi monitor sees around them: funding every 8 hours, a Chainlink-style
// oracle per instrument, liquidations of a population of leveraged positions, a
// market-making vault ("<venue>:HLP") and a lending protocol's TVL ("<venue>:LEND"). It
// injects incidents (flash crashes, oracle deviations, vault drawdowns, volume spikes)
// and returns where they are, so detectors and labelers can be scored against truth.
//
//   vigil::SimulationOptions options;
//   options.instruments = 5;
//   options.days = 30;
//   VIGIL_ASSIGN_OR_RETURN(vigil::SimulatedMarket market, vigil::Simulate(options));
//   for (const vigil::SimulatedEvent& event : market.events) { ... }
//   std::vector<std::string> files;
//   VIGIL_RETURN_IF_ERROR(vigil::WriteSimulationCsv(market, "out/sim", &files));
//
// The model, in short (details and citations in src/data/simulator_*.cc):
//   - log returns r = sqrt(h * g(regime)) * z + jumps, where z = sqrt(rho) f + sqrt(1-rho) u
//     mixes a market factor f with an idiosyncratic shock u (one-factor model), both
//     unit-variance Student-t; h follows GARCH(1,1) (Bollerslev 1986); the regime is a
//     two-state (calm / turbulent) Markov chain shared by the market (Hamilton 1989);
//     jumps arrive as a Poisson process (Merton 1976);
//   - each minute is built from 8 sub-steps (a Brownian bridge to the minute's return),
//     so open = previous close and high / low come from the path;
//   - volume rises with |return|, in the turbulent regime and in US trading hours.
//
// Determinism: the output depends only on the options. Every random purpose (each
// instrument's prices, volumes, positions, oracle, ...) draws from its own stream
// derived from `seed` by name (vigil::Rng::Derive), so the same seed gives identical
// batches and events on the same standard library.
// Thread-safety: all functions are pure and may run concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/data/records.h"

namespace vigil {

// 2024-01-01T00:00:00Z.
inline constexpr Timestamp kDefaultSimulationStart = Timestamp::FromSeconds(1'704'067'200);

// Bounds are inclusive unless written otherwise; ValidateSimulationOptions checks them.
struct SimulationOptions {
  // Number of perpetuals, 1..50: BTC, ETH, SOL, ARB, DOGE, AVAX, LINK, XRP, OP, LTC
  // ("<venue>:BTC-PERP", ...), then "<venue>:SIM11-PERP", "<venue>:SIM12-PERP", ...
  int instruments = 3;
  // Length of the simulation, 1..3650 days; instruments * days must be <= 18'250
  // (50 instruments for a year, about 26 million candles).
  int days = 7;
  uint64_t seed = 42;
  // First candle's open time; must be a whole minute. Funding settles at 00:00, 08:00
  // and 16:00 UTC.
  Timestamp start = kDefaultSimulationStart;
  // Venue of every simulated series (see ValidateVenue).
  std::string venue = "sim";

  // --- Price dynamics ---
  // Multiplies each instrument's annualised volatility (BTC 55%, ETH 65%, ... 110%),
  // (0, 10].
  double volatility_scale = 1.0;
  // Correlation of the standardised shocks of any two instruments, [0, 0.99]. Realised
  // 1-minute return correlation comes out slightly lower (GARCH variances and jumps are
  // per instrument).
  double market_correlation = 0.6;
  // GARCH(1,1) per minute: h' = omega + alpha * h * z^2 + beta * h, with omega set so the
  // long-run variance matches the instrument's volatility. alpha, beta in [0, 1) and
  // alpha + beta < 1.
  double garch_alpha = 0.06;
  double garch_beta = 0.92;
  // Degrees of freedom of the Student-t shocks, [3, 1000] (lower = fatter tails).
  double shock_dof = 5.0;
  // Variance multiplier of the turbulent regime, [1, 25].
  double turbulent_variance = 4.0;
  // Mean length of calm and of turbulent spells, in hours, [0.1, 10000].
  double calm_hours = 24.0;
  double turbulent_hours = 3.0;
  // Poisson jumps per instrument per day, [0, 100]; a jump's log size is normal with a
  // standard deviation of jump_scale times the instrument's 1-minute volatility, [0, 100].
  double jumps_per_day = 1.0;
  double jump_scale = 5.0;

  // --- Incidents (each is recorded in SimulatedMarket::events) ---
  // Incidents of each type per 7 days, [0, 50]. A positive rate yields at least one
  // incident of that type; 0 disables the type. Incidents are spread over the period in
  // separate time slots (never overlapping), which needs at least 4 hours per incident.
  double flash_crashes_per_week = 1.0;
  double oracle_deviations_per_week = 1.0;
  double vault_drawdowns_per_week = 1.0;
  double volume_spikes_per_week = 2.0;

  // --- Other series ---
  // Spacing of vault rows in minutes: 1, 5, 15 or 60.
  int vault_interval_minutes = 5;
};

// OK, or InvalidArgument naming the first option out of bounds.
Status ValidateSimulationOptions(const SimulationOptions& options);

// One injected incident. The window is [start, end).
struct SimulatedEvent {
  Timestamp start;
  Timestamp end;
  std::string instrument;  // "venue:symbol"; the vault for vault_drawdown
  // "flash_crash", "oracle_deviation", "vault_drawdown" or "volume_spike".
  std::string type;
  // Size, measured on the produced data (except volume_spike):
  //   flash_crash       fall from the window's first open to its lowest low, as a fraction
  //                     (0.05 = -5%); a fall of 5-15% over 3-12 minutes is injected, to
  //                     which noise and the liquidation cascade it sets off add; then
  //                     30-70% of it is recovered;
  //   oracle_deviation  largest |oracle / mark - 1| over the oracle rows in the window: the
  //                     oracle's answer freezes while the mark moves 3-8% away (the feed
  //                     keeps posting rounds with the stale answer);
  //   vault_drawdown    peak-to-trough fall of the vault's equity inside the window, as a
  //                     fraction (4-10%), from a toxic position the vault absorbs;
  //   volume_spike      factor applied to volume and trade count (5-20), with no price move.
  double magnitude = 0.0;
};

struct SimulatedMarket {
  // Per instrument: candles (timeframe "1m"), funding, oracle, liquidations (when any);
  // then the vault (kind vault) and the protocol (kind protocol, hourly). Each batch is
  // sorted by time and passes ValidateBatch unchanged. lines[i] is row i's line number in
  // the CSV file WriteSimulationCsv writes for the batch's kind.
  std::vector<RecordBatch> batches;
  std::vector<SimulatedEvent> events;  // sorted by start
};

// Runs the simulation. Fails with InvalidArgument when the options are invalid.
// Memory is about 100 bytes per candle (instruments * days * 1440 candles).
Result<SimulatedMarket> Simulate(const SimulationOptions& options);

// Writes one CSV per kind present, in DataKind order (candles.csv, liquidations.csv,
// funding.csv, oracle.csv, vault.csv, protocol.csv), then events.csv into `dir`, creating
// it if needed. Rows follow the order of market.batches.
// Kind files have the header "ts,instrument,<the kind's fields in schema order>"; ts is
// ISO-8601 UTC with milliseconds, numbers are shortest round-trip, a missing value is an
// empty field. events.csv has the header "start,end,instrument,type". Each file is
// written atomically; `written_files` (may be null) receives the paths written, in order.
// Fails with IoError naming the path.
Status WriteSimulationCsv(const SimulatedMarket& market, const std::string& dir,
                          std::vector<std::string>* written_files);

}  // namespace vigil
