// The DeFi side of the simulated market: a market-making vault that takes the other side
// of traders on every perpetual (in the manner of Hyperliquid's HLP), and a lending
// protocol whose TVL follows the market.
#include <algorithm>
#include <array>
#include <cmath>

#include "data/simulator_internal.h"

namespace vigil::sim_internal {
namespace {

// Vault: it fills this share of each perpetual's volume and earns a spread on it that
// widens with volatility (a fraction of the 1-minute standard deviation). Traders' net flow leans
// toward the minute's move (informed flow), which the vault pays for: adverse selection against
// spread income, the market maker's trade-off in Glosten & Milgrom (1985). Inventory is hedged away
// over hours. Equity is sized to the market (minutes of total volume), so returns do
// not depend on the number of instruments.
constexpr double kEquityMinutesOfVolume = 20.0;
constexpr double kVaultVolumeShare = 0.1;
constexpr double kSpreadPerSigma = 0.2;
constexpr double kInformedFlow = 0.2;
constexpr double kNoiseFlow = 2.0;
constexpr double kInventoryUnwind = 1.0 / 240.0;
constexpr double kFlowVolumeCap = 2.0;  // times the instrument's typical minute volume
// A drawdown incident is a toxic position the vault absorbs (a large trader dumping a
// losing position on it): the loss accrues over the first 70% of the window, and the
// position, sized at this multiple of the loss, decays once the window ends.
constexpr double kToxicLossShare = 0.7;
constexpr double kToxicPositionPerLoss = 3.0;
constexpr double kToxicDecay = 0.98;

// Protocol: a lending market with stablecoin deposits and crypto collateral.
constexpr double kStableDeposits = 700e6;
constexpr double kCryptoCollateral = 500e6;
constexpr double kDepositFlowVol = 0.002;  // per hour, log
constexpr double kHourlyTurnover = 0.004;  // volume / TVL per hour
constexpr double kTurnoverNoise = 0.3;
constexpr double kTurnoverPerMove = 10.0;  // extra turnover per unit |hourly market return|
constexpr double kTokenPrice = 12.0;
constexpr double kTokenBeta = 1.3;
constexpr double kTokenIdioVol = 0.006;  // per hour, log
constexpr double kTokenSupply = 100e6;

// Close of minute `minute` - 1, i.e. the price at the start of `minute`.
double OpenAt(const InstrumentSpec& spec, const InstrumentResult& result, int64_t minute) {
  if (minute == 0) return RoundToTick(spec.start_price, TickExponent(spec.start_price));
  return result.closes[minute - 1];
}

class VaultSimulator {
 public:
  VaultSimulator(const SimulationOptions& options, std::span<const InstrumentSpec> specs,
                 std::span<const InstrumentResult> instruments,
                 std::span<const PlannedIncident> incidents, const Rng& master)
      : options_(options),
        specs_(specs),
        instruments_(instruments),
        incidents_(incidents),
        flow_rng_(master.Derive("vault/flow")),
        inventory_(specs.size(), 0.0),
        batch_(MakeBatch(options, "HLP", DataKind::kVault)) {
    for (const InstrumentSpec& spec : specs) {
      minute_sigma_.push_back(spec.annual_vol * options.volatility_scale /
                              std::sqrt(kMinutesPerYear));
      initial_equity_ += kEquityMinutesOfVolume * spec.quote_volume;
    }
    initial_equity_ = RoundDecimals(initial_equity_, -3);
    equity_ = incident_equity_ = initial_equity_;
  }

  RecordBatch Run() {
    const int64_t minutes = TotalMinutes(options_);
    for (int64_t minute = 0; minute < minutes; ++minute) {
      if (minute % options_.vault_interval_minutes == 0) Publish(minute);
      equity_ += TradingPnl(minute) - ToxicLoss(minute);
    }
    return std::move(batch_);
  }

 private:
  void Publish(int64_t minute) {
    double open_interest = toxic_position_;
    for (double position : inventory_) open_interest += std::abs(position);
    const std::array<double, 3> values = {RoundDecimals(equity_, 2),
                                          RoundDecimals(equity_ - initial_equity_, 2),
                                          RoundDecimals(open_interest, 2)};
    batch_.frame.AppendRow((options_.start + minute * kNanosPerMinute).nanos(), values);
  }

  // The vault fills traders at the open; the minute's move then marks its inventory.
  double TradingPnl(int64_t minute) {
    double pnl = 0.0;
    for (size_t i = 0; i < specs_.size(); ++i) {
      const InstrumentResult& result = instruments_[i];
      const double growth = result.closes[minute] / OpenAt(specs_[i], result, minute);
      const double filled = kVaultVolumeShare * result.quote_volumes[minute];
      // Bursts of volume are mostly two-sided (bots, liquidation engines, wash trades),
      // so the net flow the vault warehouses is sized on capped volume.
      const double net_base = kVaultVolumeShare * std::min(result.quote_volumes[minute],
                                                           kFlowVolumeCap * specs_[i].quote_volume);
      const double lean = std::tanh(std::log(growth) / minute_sigma_[i]);
      const double trader_flow =
          net_base * (kInformedFlow * lean + kNoiseFlow * flow_rng_.Normal());
      inventory_[i] = inventory_[i] * (1.0 - kInventoryUnwind) - trader_flow;
      pnl += inventory_[i] * (growth - 1.0) + kSpreadPerSigma * minute_sigma_[i] * filled;
      inventory_[i] *= growth;
    }
    return pnl;
  }

  double ToxicLoss(int64_t minute) {
    const PlannedIncident* incident = incidents_.At(minute);
    const int64_t elapsed = incident == nullptr ? -1 : minute - incident->start_minute;
    if (elapsed == 0) {
      incident_equity_ = equity_;
      toxic_position_ = kToxicPositionPerLoss * incident->size * equity_;
    }
    const double losing_minutes =
        incident == nullptr ? 0.0 : std::max(1.0, kToxicLossShare * incident->minutes);
    if (elapsed < 0 || elapsed >= losing_minutes) {
      toxic_position_ *= kToxicDecay;
      return 0.0;
    }
    return incident->size * incident_equity_ / losing_minutes;
  }

  const SimulationOptions& options_;
  std::span<const InstrumentSpec> specs_;
  std::span<const InstrumentResult> instruments_;
  IncidentCursor incidents_;
  Rng flow_rng_;
  std::vector<double> minute_sigma_;
  std::vector<double> inventory_;  // USD exposure per perpetual, + long
  double initial_equity_ = 0.0;
  double equity_ = 0.0;
  double incident_equity_ = 0.0;
  double toxic_position_ = 0.0;
  RecordBatch batch_;
};

// Equal-weighted market level at the start of `minute`: exp(mean log(price / start)).
double MarketLevel(std::span<const InstrumentSpec> specs,
                   std::span<const InstrumentResult> instruments, int64_t minute) {
  double sum = 0.0;
  for (size_t i = 0; i < specs.size(); ++i) {
    sum += std::log(OpenAt(specs[i], instruments[i], minute) / OpenAt(specs[i], instruments[i], 0));
  }
  return std::exp(sum / static_cast<double>(specs.size()));
}

}  // namespace

RecordBatch SimulateVault(const SimulationOptions& options, std::span<const InstrumentSpec> specs,
                          std::span<const InstrumentResult> instruments,
                          std::span<const PlannedIncident> incidents, const Rng& master) {
  return VaultSimulator(options, specs, instruments, incidents, master).Run();
}

// TVL = stablecoin deposits (a slow random walk of deposits and withdrawals) + crypto
// collateral valued at the market level; turnover rises with the hour's market move; the
// governance token is a levered bet on the market plus its own noise.
RecordBatch SimulateProtocol(const SimulationOptions& options,
                             std::span<const InstrumentSpec> specs,
                             std::span<const InstrumentResult> instruments, const Rng& master) {
  Rng rng = master.Derive("protocol/LEND");
  RecordBatch batch = MakeBatch(options, "LEND", DataKind::kProtocol);
  double deposits_log = 0.0;
  double token_log = 0.0;
  double previous_level = 1.0;
  for (int64_t hour = 0; hour < int64_t{options.days} * 24; ++hour) {
    const double level = MarketLevel(specs, instruments, hour * 60);
    deposits_log += kDepositFlowVol * rng.Normal();
    token_log += kTokenIdioVol * rng.Normal();
    const double tvl = kStableDeposits * std::exp(deposits_log) + kCryptoCollateral * level;
    const double turnover =
        kHourlyTurnover *
        std::exp(kTurnoverNoise * rng.Normal() - 0.5 * kTurnoverNoise * kTurnoverNoise) *
        (1.0 + kTurnoverPerMove * std::abs(std::log(level / previous_level)));
    const double price = kTokenPrice * std::pow(level, kTokenBeta) * std::exp(token_log);
    const std::array<double, 4> values = {RoundDecimals(tvl, 2), RoundDecimals(tvl * turnover, 2),
                                          RoundSignificant(price, 6),
                                          RoundDecimals(price * kTokenSupply, 2)};
    batch.frame.AppendRow((options.start + hour * kNanosPerHour).nanos(), values);
    previous_level = level;
  }
  return batch;
}

}  // namespace vigil::sim_internal
