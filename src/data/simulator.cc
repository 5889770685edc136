// The simulator's driver: option checks, the instrument table, the shared market paths,
// the incident plan, and the assembly of batches and ground-truth events.
#include "vigil/data/simulator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>

#include "data/simulator_internal.h"

namespace vigil {
namespace sim_internal {
namespace {

constexpr int kMaxInstruments = 50;
constexpr int kMaxDays = 3650;
constexpr int64_t kMaxInstrumentDays = 18'250;
// Every incident gets its own slot: the longest window (3 h) plus 30 minutes either side.
constexpr int64_t kMinSlotMinutes = 240;
constexpr int64_t kSlotMarginMinutes = 30;

struct NamedPerpetual {
  const char* base;
  double price;         // early-2024 level, USD
  double annual_vol;    // typical realised volatility
  double quote_volume;  // USD per minute on a large venue
  double avg_trade;     // USD per trade
};

constexpr std::array<NamedPerpetual, 10> kNamedPerpetuals = {{
    {"BTC", 42'000.0, 0.55, 3.0e6, 6'000.0},
    {"ETH", 2'300.0, 0.65, 1.5e6, 4'000.0},
    {"SOL", 100.0, 0.95, 6.0e5, 1'500.0},
    {"ARB", 1.9, 1.05, 1.5e5, 800.0},
    {"DOGE", 0.09, 0.90, 2.5e5, 900.0},
    {"AVAX", 35.0, 0.95, 1.5e5, 900.0},
    {"LINK", 15.0, 0.85, 1.2e5, 800.0},
    {"XRP", 0.6, 0.75, 3.0e5, 1'000.0},
    {"OP", 3.5, 1.05, 1.0e5, 700.0},
    {"LTC", 72.0, 0.70, 1.0e5, 800.0},
}};

std::string FormatNumber(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

Status CheckRange(std::string_view name, double value, double lo, double hi) {
  if (std::isfinite(value) && value >= lo && value <= hi) return Status::Ok();
  return InvalidArgument("simulation option " + std::string(name) + " = " + FormatNumber(value) +
                         " is outside [" + FormatNumber(lo) + ", " + FormatNumber(hi) + "]");
}

int64_t IncidentCount(double per_week, int days) {
  if (per_week <= 0.0) return 0;
  return std::max<int64_t>(1, std::llround(per_week * days / 7.0));
}

int64_t TotalIncidents(const SimulationOptions& options) {
  return IncidentCount(options.flash_crashes_per_week, options.days) +
         IncidentCount(options.oracle_deviations_per_week, options.days) +
         IncidentCount(options.vault_drawdowns_per_week, options.days) +
         IncidentCount(options.volume_spikes_per_week, options.days);
}

Status ValidateSizes(const SimulationOptions& options) {
  VIGIL_RETURN_IF_ERROR(CheckRange("instruments", options.instruments, 1, kMaxInstruments));
  VIGIL_RETURN_IF_ERROR(CheckRange("days", options.days, 1, kMaxDays));
  if (int64_t{options.instruments} * options.days > kMaxInstrumentDays) {
    return InvalidArgument("simulation too large: instruments * days = " +
                           std::to_string(int64_t{options.instruments} * options.days) +
                           " exceeds " + std::to_string(kMaxInstrumentDays));
  }
  if (options.start.nanos() % kNanosPerMinute != 0) {
    return InvalidArgument("simulation option start = " + options.start.ToIso() +
                           " is not a whole minute");
  }
  VIGIL_RETURN_IF_ERROR(ValidateVenue(options.venue).WithContext("simulation option venue"));
  const int interval = options.vault_interval_minutes;
  if (interval != 1 && interval != 5 && interval != 15 && interval != 60) {
    return InvalidArgument("simulation option vault_interval_minutes = " +
                           std::to_string(interval) + " is not 1, 5, 15 or 60");
  }
  return Status::Ok();
}

Status ValidateDynamics(const SimulationOptions& options) {
  if (!(options.volatility_scale > 0.0)) {
    return InvalidArgument("simulation option volatility_scale must be > 0");
  }
  VIGIL_RETURN_IF_ERROR(CheckRange("volatility_scale", options.volatility_scale, 0.0, 10.0));
  VIGIL_RETURN_IF_ERROR(CheckRange("market_correlation", options.market_correlation, 0.0, 0.99));
  VIGIL_RETURN_IF_ERROR(CheckRange("garch_alpha", options.garch_alpha, 0.0, 0.999));
  VIGIL_RETURN_IF_ERROR(CheckRange("garch_beta", options.garch_beta, 0.0, 0.999));
  if (options.garch_alpha + options.garch_beta >= 1.0) {
    return InvalidArgument("simulation options garch_alpha + garch_beta must be < 1 (got " +
                           std::to_string(options.garch_alpha + options.garch_beta) + ")");
  }
  VIGIL_RETURN_IF_ERROR(CheckRange("shock_dof", options.shock_dof, 3.0, 1000.0));
  VIGIL_RETURN_IF_ERROR(CheckRange("turbulent_variance", options.turbulent_variance, 1.0, 25.0));
  VIGIL_RETURN_IF_ERROR(CheckRange("calm_hours", options.calm_hours, 0.1, 10'000.0));
  VIGIL_RETURN_IF_ERROR(CheckRange("turbulent_hours", options.turbulent_hours, 0.1, 10'000.0));
  VIGIL_RETURN_IF_ERROR(CheckRange("jumps_per_day", options.jumps_per_day, 0.0, 100.0));
  return CheckRange("jump_scale", options.jump_scale, 0.0, 100.0);
}

Status ValidateIncidents(const SimulationOptions& options) {
  VIGIL_RETURN_IF_ERROR(
      CheckRange("flash_crashes_per_week", options.flash_crashes_per_week, 0.0, 50.0));
  VIGIL_RETURN_IF_ERROR(
      CheckRange("oracle_deviations_per_week", options.oracle_deviations_per_week, 0.0, 50.0));
  VIGIL_RETURN_IF_ERROR(
      CheckRange("vault_drawdowns_per_week", options.vault_drawdowns_per_week, 0.0, 50.0));
  VIGIL_RETURN_IF_ERROR(
      CheckRange("volume_spikes_per_week", options.volume_spikes_per_week, 0.0, 50.0));
  const int64_t incidents = TotalIncidents(options);
  if (incidents * kMinSlotMinutes > TotalMinutes(options)) {
    return InvalidArgument("simulation options ask for " + std::to_string(incidents) +
                           " incidents in " + std::to_string(options.days) +
                           " days; each needs 4 hours: lower the *_per_week rates");
  }
  return Status::Ok();
}

// Draws the window and size of one incident; the slot decides where it goes.
PlannedIncident DrawIncident(IncidentType type, int instruments, Rng& rng) {
  PlannedIncident incident;
  incident.type = type;
  switch (type) {
    case IncidentType::kFlashCrash:
      incident.down_minutes = rng.UniformInt(3, 12);
      incident.minutes = incident.down_minutes + rng.UniformInt(15, 60);
      incident.size = rng.Uniform(0.05, 0.15);
      incident.recovery = rng.Uniform(0.3, 0.7);
      break;
    case IncidentType::kOracleDeviation:
      incident.minutes = rng.UniformInt(30, 90);
      incident.size = rng.Uniform(0.03, 0.08);
      incident.direction = rng.Bernoulli(0.5) ? 1 : -1;
      break;
    case IncidentType::kVaultDrawdown:
      incident.minutes = rng.UniformInt(60, 180);
      incident.size = rng.Uniform(0.04, 0.10);
      break;
    case IncidentType::kVolumeSpike:
      incident.minutes = rng.UniformInt(15, 60);
      incident.size = rng.Uniform(5.0, 20.0);
      break;
  }
  if (type != IncidentType::kVaultDrawdown) {
    incident.instrument = static_cast<int>(rng.UniformInt(0, instruments - 1));
  }
  return incident;
}

}  // namespace

std::string_view IncidentTypeName(IncidentType type) {
  switch (type) {
    case IncidentType::kFlashCrash:
      return "flash_crash";
    case IncidentType::kOracleDeviation:
      return "oracle_deviation";
    case IncidentType::kVaultDrawdown:
      return "vault_drawdown";
    case IncidentType::kVolumeSpike:
      return "volume_spike";
  }
  return "unknown";
}

int64_t TotalMinutes(const SimulationOptions& options) {
  return int64_t{options.days} * kMinutesPerDay;
}

std::vector<InstrumentSpec> InstrumentSpecs(const SimulationOptions& options, const Rng& master) {
  std::vector<InstrumentSpec> specs;
  for (int index = 0; index < options.instruments; ++index) {
    if (index < static_cast<int>(kNamedPerpetuals.size())) {
      const NamedPerpetual& named = kNamedPerpetuals[index];
      specs.push_back({std::string(named.base) + "-PERP", named.price, named.annual_vol,
                       named.quote_volume, named.avg_trade});
      continue;
    }
    // Unnamed instruments: small caps with their own stream, so adding one never
    // changes another.
    std::string symbol = "SIM" + std::to_string(index + 1) + "-PERP";
    Rng rng = master.Derive("spec/" + symbol);
    const double price = std::pow(10.0, rng.Uniform(-1.5, 2.5));
    const double vol = rng.Uniform(0.7, 1.3);
    const double quote_volume = std::pow(10.0, rng.Uniform(4.3, 5.3));
    specs.push_back({symbol, price, vol, quote_volume, 500.0});
  }
  return specs;
}

// Hamilton (1989) two-state Markov switching: the market flips between calm and
// turbulent spells of geometric length; one chain for all instruments, since crypto
// turbulence is market-wide. The factor is the common shock of the one-factor model.
MarketPaths SimulateMarketPaths(const SimulationOptions& options, const Rng& master) {
  const int64_t minutes = TotalMinutes(options);
  const double to_turbulent = 1.0 / (options.calm_hours * 60.0);
  const double to_calm = 1.0 / (options.turbulent_hours * 60.0);
  const double turbulent_share = to_turbulent / (to_turbulent + to_calm);
  MarketPaths paths;
  paths.mean_variance_multiplier =
      (1.0 - turbulent_share) + turbulent_share * options.turbulent_variance;
  paths.turbulent.resize(minutes);
  paths.factor.resize(minutes);
  Rng regime = master.Derive("market/regime");
  bool turbulent = regime.Bernoulli(turbulent_share);
  for (int64_t minute = 0; minute < minutes; ++minute) {
    paths.turbulent[minute] = turbulent ? 1 : 0;
    turbulent = turbulent ? !regime.Bernoulli(to_calm) : regime.Bernoulli(to_turbulent);
  }
  Rng factor = master.Derive("market/factor");
  const double unit = std::sqrt((options.shock_dof - 2.0) / options.shock_dof);
  for (double& value : paths.factor) value = unit * factor.StudentT(options.shock_dof);
  return paths;
}

std::vector<PlannedIncident> PlanIncidents(const SimulationOptions& options, const Rng& master) {
  std::vector<IncidentType> types;
  auto add = [&](IncidentType type, double per_week) {
    types.insert(types.end(), IncidentCount(per_week, options.days), type);
  };
  add(IncidentType::kFlashCrash, options.flash_crashes_per_week);
  add(IncidentType::kOracleDeviation, options.oracle_deviations_per_week);
  add(IncidentType::kVaultDrawdown, options.vault_drawdowns_per_week);
  add(IncidentType::kVolumeSpike, options.volume_spikes_per_week);
  if (types.empty()) return {};
  Rng rng = master.Derive("incidents");
  // Fisher-Yates with the Rng's own draws, so the order is the same on every platform
  // that gives the same uniform integers.
  for (size_t i = types.size() - 1; i > 0; --i) {
    std::swap(types[i], types[rng.UniformInt(0, static_cast<int64_t>(i))]);
  }
  const int64_t slot = TotalMinutes(options) / static_cast<int64_t>(types.size());
  std::vector<PlannedIncident> incidents;
  for (size_t index = 0; index < types.size(); ++index) {
    PlannedIncident incident = DrawIncident(types[index], options.instruments, rng);
    const int64_t first = static_cast<int64_t>(index) * slot + kSlotMarginMinutes;
    const int64_t last =
        (static_cast<int64_t>(index) + 1) * slot - kSlotMarginMinutes - incident.minutes;
    incident.start_minute = rng.UniformInt(first, std::max(first, last));
    incidents.push_back(incident);
  }
  return incidents;
}

RecordBatch MakeBatch(const SimulationOptions& options, const std::string& symbol, DataKind kind,
                      const std::string& timeframe) {
  RecordBatch batch;
  batch.series = SeriesKey{Instrument{options.venue, symbol}, kind, timeframe};
  batch.frame = MakeFrame(SchemaOf(kind));
  return batch;
}

namespace {

double FlashCrashDepth(const RecordBatch& candles, const PlannedIncident& incident) {
  std::span<const double> open = candles.frame.Doubles("open");
  std::span<const double> low = candles.frame.Doubles("low");
  const int64_t begin = incident.start_minute;
  const int64_t end = begin + incident.minutes;
  const double lowest = *std::min_element(low.begin() + begin, low.begin() + end);
  return (open[begin] - lowest) / open[begin];
}

double MaxOracleDeviation(const RecordBatch& oracle, Timestamp from, Timestamp to) {
  FrameView window = oracle.frame.Slice(from, to);
  std::span<const double> price = window.Doubles("price");
  std::span<const double> reference = window.Doubles("reference_price");
  double worst = 0.0;
  for (size_t row = 0; row < price.size(); ++row) {
    worst = std::max(worst, std::abs(price[row] / reference[row] - 1.0));
  }
  return worst;
}

double PeakToTrough(const RecordBatch& vault, Timestamp from, Timestamp to) {
  std::span<const double> equity = vault.frame.Slice(from, to).Doubles("equity");
  double peak = 0.0;
  double worst = 0.0;
  for (double value : equity) {
    peak = std::max(peak, value);
    worst = std::max(worst, (peak - value) / peak);
  }
  return worst;
}

std::vector<SimulatedEvent> DescribeEvents(const SimulationOptions& options,
                                           std::span<const InstrumentSpec> specs,
                                           std::span<const PlannedIncident> incidents,
                                           std::span<const InstrumentResult> results,
                                           const RecordBatch& vault) {
  std::vector<SimulatedEvent> events;
  for (const PlannedIncident& incident : incidents) {
    SimulatedEvent event;
    event.start = options.start + incident.start_minute * kNanosPerMinute;
    event.end = event.start + incident.minutes * kNanosPerMinute;
    event.type = std::string(IncidentTypeName(incident.type));
    const bool on_vault = incident.type == IncidentType::kVaultDrawdown;
    event.instrument =
        on_vault ? vault.series.instrument.ToString()
                 : Instrument{options.venue, specs[incident.instrument].symbol}.ToString();
    switch (incident.type) {
      case IncidentType::kFlashCrash:
        event.magnitude = FlashCrashDepth(results[incident.instrument].candles, incident);
        break;
      case IncidentType::kOracleDeviation:
        event.magnitude =
            MaxOracleDeviation(results[incident.instrument].oracle, event.start, event.end);
        break;
      case IncidentType::kVaultDrawdown:
        event.magnitude = PeakToTrough(vault, event.start, event.end);
        break;
      case IncidentType::kVolumeSpike:
        event.magnitude = incident.size;
        break;
    }
    events.push_back(std::move(event));
  }
  return events;
}

// Row i of a batch is line (2 + rows of the kind's earlier batches + i) of its CSV file:
// WriteSimulationCsv writes batches in this order after one header line.
void NumberLines(std::vector<RecordBatch>& batches) {
  std::map<DataKind, int64_t> next_line;
  for (RecordBatch& batch : batches) {
    auto [it, inserted] = next_line.try_emplace(batch.series.kind, 2);
    batch.lines.resize(batch.frame.rows());
    for (int64_t& line : batch.lines) line = it->second++;
  }
}

void AddBatch(RecordBatch&& batch, std::vector<RecordBatch>& batches) {
  if (!batch.frame.empty()) batches.push_back(std::move(batch));
}

}  // namespace
}  // namespace sim_internal

Status ValidateSimulationOptions(const SimulationOptions& options) {
  VIGIL_RETURN_IF_ERROR(sim_internal::ValidateSizes(options));
  VIGIL_RETURN_IF_ERROR(sim_internal::ValidateDynamics(options));
  return sim_internal::ValidateIncidents(options);
}

Result<SimulatedMarket> Simulate(const SimulationOptions& options) {
  using namespace sim_internal;
  VIGIL_RETURN_IF_ERROR(ValidateSimulationOptions(options));
  const Rng master(options.seed);
  const std::vector<InstrumentSpec> specs = InstrumentSpecs(options, master);
  const MarketPaths market = SimulateMarketPaths(options, master);
  const std::vector<PlannedIncident> incidents = PlanIncidents(options, master);

  std::vector<InstrumentResult> results;
  results.reserve(specs.size());
  std::vector<PlannedIncident> vault_incidents;
  for (const PlannedIncident& incident : incidents) {
    if (incident.type == IncidentType::kVaultDrawdown) vault_incidents.push_back(incident);
  }
  for (size_t index = 0; index < specs.size(); ++index) {
    std::vector<PlannedIncident> own;
    for (const PlannedIncident& incident : incidents) {
      if (incident.instrument == static_cast<int>(index)) own.push_back(incident);
    }
    results.push_back(SimulateInstrument(options, specs[index], market, own, master));
  }
  RecordBatch vault = SimulateVault(options, specs, results, vault_incidents, master);
  RecordBatch protocol = SimulateProtocol(options, specs, results, master);

  SimulatedMarket out;
  out.events = DescribeEvents(options, specs, incidents, results, vault);
  for (InstrumentResult& result : results) {
    AddBatch(std::move(result.candles), out.batches);
    AddBatch(std::move(result.funding), out.batches);
    AddBatch(std::move(result.oracle), out.batches);
    AddBatch(std::move(result.liquidations), out.batches);
  }
  AddBatch(std::move(vault), out.batches);
  AddBatch(std::move(protocol), out.batches);
  NumberLines(out.batches);
  return out;
}

}  // namespace vigil
