// Pieces of the market simulator shared by its source files (not API; see
// include/vigil/data/simulator.h for the contract).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/rng.h"
#include "vigil/data/records.h"
#include "vigil/data/simulator.h"

namespace vigil::sim_internal {

inline constexpr int64_t kMinutesPerDay = 1440;
inline constexpr double kMinutesPerYear = 525'600.0;

enum class IncidentType { kFlashCrash, kOracleDeviation, kVaultDrawdown, kVolumeSpike };
std::string_view IncidentTypeName(IncidentType type);

// An incident decided before any path is drawn, so each series can act on it.
struct PlannedIncident {
  IncidentType type = IncidentType::kFlashCrash;
  int instrument = -1;       // index into the instruments; -1 for the vault
  int64_t start_minute = 0;  // window [start_minute, start_minute + minutes)
  int64_t minutes = 0;
  int64_t down_minutes = 0;  // flash crash: length of the falling phase
  double size = 0.0;         // crash depth, oracle move, drawdown or volume factor
  double recovery = 0.0;     // flash crash: fraction of the fall recovered
  int direction = 1;         // oracle deviation: +1 the mark rises away, -1 it falls
};

// The incident active at a minute, for minutes visited in increasing order; the
// incidents must be sorted by start and must not overlap.
class IncidentCursor {
 public:
  explicit IncidentCursor(std::span<const PlannedIncident> incidents) : incidents_(incidents) {}
  const PlannedIncident* At(int64_t minute) {
    while (next_ < incidents_.size() &&
           incidents_[next_].start_minute + incidents_[next_].minutes <= minute) {
      ++next_;
    }
    if (next_ == incidents_.size() || incidents_[next_].start_minute > minute) return nullptr;
    return &incidents_[next_];
  }

 private:
  std::span<const PlannedIncident> incidents_;
  size_t next_ = 0;
};

// Static description of one perpetual.
struct InstrumentSpec {
  std::string symbol;
  double start_price = 0.0;
  double annual_vol = 0.0;          // before SimulationOptions::volatility_scale
  double quote_volume = 0.0;        // typical USD volume per minute
  double avg_trade_notional = 0.0;  // USD per trade, for the trade count
};

// Paths shared by every instrument: the regime and the market factor, one per minute.
struct MarketPaths {
  std::vector<uint8_t> turbulent;
  std::vector<double> factor;             // unit-variance Student-t
  double mean_variance_multiplier = 1.0;  // E[g(regime)] under the stationary law
};

// What one instrument's simulation produces; the per-minute vectors feed the vault
// and the protocol.
struct InstrumentResult {
  RecordBatch candles;
  RecordBatch funding;
  RecordBatch oracle;
  RecordBatch liquidations;
  std::vector<double> closes;         // rounded close of each minute
  std::vector<double> quote_volumes;  // USD volume of each minute
};

// The leveraged positions on one perpetual, each waiting for the price to reach its
// liquidation price. Positions open at each close (Poisson arrivals, log-normal sizes,
// exchange-style leverage, exponential lifetimes) and are liquidated when a minute's
// path crosses their price.
class PositionBook {
 public:
  // Margin left when a position is liquidated, as a fraction of its notional.
  static constexpr double kMaintenanceMargin = 0.005;

  struct Liquidation {
    int step;      // first point of the minute's path at or beyond the liquidation price
    int64_t side;  // kSideBuy for a long, kSideSell for a short
    double liq_price;
    double qty;
  };

  // Position sizes scale with `typical_quote_volume` (USD per minute).
  PositionBook(double typical_quote_volume, Rng rng)
      : typical_quote_volume_(typical_quote_volume), rng_(rng) {}

  // Opens the positions that arrive during `minute` at price `entry`.
  void Open(int64_t minute, double entry, bool turbulent);
  // Removes the positions still open at `minute` whose liquidation price `path` (the
  // minute's prices, path[0] = open) reached, and returns them in path order.
  const std::vector<Liquidation>& Cross(std::span<const double> path, int64_t minute);
  // Forgets positions closed by their owners by `minute`; until then they are dropped
  // only when the price reaches them.
  void DropClosed(int64_t minute);

 private:
  struct Position {
    double liq_price;
    double qty;
    int64_t close_minute;  // the owner closes it then, if not liquidated first
  };
  // Heap orders: the long nearest the price (highest liquidation price) on top, and the
  // short nearest the price (lowest) on top.
  static bool LongsBelow(const Position& a, const Position& b) { return a.liq_price < b.liq_price; }
  static bool ShortsAbove(const Position& a, const Position& b) {
    return a.liq_price > b.liq_price;
  }
  void PopCrossed(std::vector<Position>& heap, int64_t side, int64_t minute,
                  std::span<const double> path);
  double DrawLeverage();

  double typical_quote_volume_;
  Rng rng_;
  std::vector<Position> longs_;   // max-heap on liquidation price
  std::vector<Position> shorts_;  // min-heap on liquidation price
  std::vector<Liquidation> crossed_;
};

int64_t TotalMinutes(const SimulationOptions& options);
std::vector<InstrumentSpec> InstrumentSpecs(const SimulationOptions& options, const Rng& master);
MarketPaths SimulateMarketPaths(const SimulationOptions& options, const Rng& master);
// Incidents sorted by start, in non-overlapping slots spread over the period.
std::vector<PlannedIncident> PlanIncidents(const SimulationOptions& options, const Rng& master);

// `incidents` are those of this instrument.
InstrumentResult SimulateInstrument(const SimulationOptions& options, const InstrumentSpec& spec,
                                    const MarketPaths& market,
                                    std::span<const PlannedIncident> incidents, const Rng& master);

// The market-making vault; `incidents` are its drawdowns.
RecordBatch SimulateVault(const SimulationOptions& options, std::span<const InstrumentSpec> specs,
                          std::span<const InstrumentResult> instruments,
                          std::span<const PlannedIncident> incidents, const Rng& master);
// The lending protocol's hourly TVL, volume and token price.
RecordBatch SimulateProtocol(const SimulationOptions& options,
                             std::span<const InstrumentSpec> specs,
                             std::span<const InstrumentResult> instruments, const Rng& master);

// Decimal rounding, so values print as short decimals (venues quote in ticks and lots):
// RoundDecimals(x, 2) rounds to cents, RoundSignificant(x, 6) keeps 6 significant digits.
double RoundDecimals(double value, int decimals);
double RoundSignificant(double value, int digits);
// Tick size of an instrument starting at `price`, as a power of ten: six significant
// digits at the start price (BTC 42000 -> 0.1, DOGE 0.09 -> 1e-7).
int TickExponent(double price);
// Rounds a price to the tick 10^tick_exponent, never below one tick.
double RoundToTick(double price, int tick_exponent);

RecordBatch MakeBatch(const SimulationOptions& options, const std::string& symbol, DataKind kind,
                      const std::string& timeframe = "");

}  // namespace vigil::sim_internal
