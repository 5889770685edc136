// One simulated perpetual, minute by minute: its price path and candles, the liquidations
// of its leveraged positions, its funding settlements and its Chainlink-style oracle.
#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "data/simulator_internal.h"

namespace vigil::sim_internal {
namespace {

// Sub-steps per minute for the intra-minute path (high / low come from it).
constexpr int kSubSteps = 8;
// A crash is a burst of trading, not a smooth slide: variance rises while prices fall.
constexpr double kCrashVarianceMultiplier = 4.0;
// During an oracle incident the mark is pulled toward its target distance from the
// frozen answer at this rate per minute, so the deviation reaches its size reliably.
constexpr double kOracleSteer = 0.3;

// Volume: log-normal noise, more volume on large moves, in turbulent spells and when the
// US session overlaps Europe (intraday seasonality peaks around 15:00 UTC).
constexpr double kVolumeNoise = 0.35;
constexpr double kVolumePerSigma = 0.6;
constexpr double kTurbulentVolume = 1.8;
constexpr double kSeasonalAmplitude = 0.3;
constexpr int64_t kPeakMinuteOfDay = 15 * 60;
constexpr double kTradeCountNoise = 0.2;

// Funding follows Binance's perpetual formula: F = P + clamp(I - P, -0.05%, +0.05%), with P
// the average premium index of the period and I the 0.01% interest rate, capped at 0.75%.
constexpr int64_t kFundingInterval = 8 * kNanosPerHour;
constexpr double kInterestRate = 0.0001;
constexpr double kInterestClamp = 0.0005;
constexpr double kFundingCap = 0.0075;
// Premium of mark over index: AR(1) around a small positive mean (longs usually pay),
// pushed up by rallies; its stationary standard deviation is about 5 bp.
constexpr double kPremiumMean = 0.0001;
constexpr double kPremiumPersistence = 0.995;
constexpr double kPremiumPerReturn = 0.05;
constexpr double kPremiumNoise = 5e-5;
constexpr double kPremiumLimit = 0.03;

// Chainlink data feeds post a new round when the off-chain price deviates from the last
// answer by more than the deviation threshold, or when the heartbeat expires.
constexpr double kOracleDeviationThreshold = 0.005;
constexpr int64_t kOracleHeartbeat = kNanosPerHour;
constexpr double kOracleNoise = 3e-4;  // spread between node data sources and the mark
constexpr int kOracleDecimals = 8;

// Forced selling moves the next minute's price: log-return per minute-volume of net
// liquidated notional, capped. This is what turns a crash into a cascade.
constexpr double kLiquidationImpact = 0.002;
constexpr double kMaxImpact = 0.02;
constexpr int kPriceDigits = 6;

// Powers of ten up to 1e22 are exact doubles; a table avoids std::pow in the rounding
// of every value.
constexpr std::array<double, 23> kPowersOfTen = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

double Pow10(int exponent) {
  if (exponent >= 0 && exponent < static_cast<int>(kPowersOfTen.size())) {
    return kPowersOfTen[exponent];
  }
  return std::pow(10.0, exponent);
}

class InstrumentSimulator {
 public:
  InstrumentSimulator(const SimulationOptions& options, const InstrumentSpec& spec,
                      const MarketPaths& market, std::span<const PlannedIncident> incidents,
                      const Rng& master);
  InstrumentResult Run();

 private:
  Timestamp TimeOf(int64_t minute) const { return options_.start + minute * kNanosPerMinute; }
  bool IsFundingTime(int64_t minute) const;
  void PublishFunding(int64_t minute);
  void PublishOracle(int64_t minute, const PlannedIncident* incident);
  double IncidentDrift(int64_t minute, const PlannedIncident* incident) const;
  void StepPrice(int64_t minute, const PlannedIncident* incident);
  void BuildPath(double variance, double smooth_return, double jump, int jump_step);
  void Liquidate(int64_t minute);
  double MinuteQuoteVolume(int64_t minute, const PlannedIncident* incident);
  void EmitCandle(int64_t minute, const PlannedIncident* incident);
  void UpdatePremium();

  const SimulationOptions& options_;
  const InstrumentSpec& spec_;
  const MarketPaths& market_;
  IncidentCursor incidents_;
  // One stream per purpose, so changing how one is used never shifts the others.
  Rng price_rng_, path_rng_, jump_rng_, volume_rng_, oracle_rng_, premium_rng_;
  PositionBook positions_;

  int tick_exponent_;
  double minute_sigma_;  // long-run standard deviation of a 1-minute return
  double omega_;         // GARCH intercept
  double variance_;      // GARCH conditional variance h_t (before the regime scale)
  double factor_weight_, idio_weight_, unit_t_scale_, jump_probability_;
  int64_t start_minute_of_day_;

  double log_price_;   // unrounded log price at the current time
  double prev_close_;  // last rounded close = the open of the next candle
  double minute_return_ = 0.0;
  std::array<double, kSubSteps + 1> path_{};
  double path_low_ = 0.0, path_high_ = 0.0;

  double premium_ = kPremiumMean, premium_sum_ = 0.0;
  int64_t premium_count_ = 0;
  double last_answer_ = 0.0, frozen_answer_ = 0.0;
  Timestamp last_update_;
  int64_t round_id_ = 0;

  double impact_ = 0.0, liquidated_notional_ = 0.0;
  int64_t event_id_ = 0;

  InstrumentResult result_;
};

InstrumentSimulator::InstrumentSimulator(const SimulationOptions& options,
                                         const InstrumentSpec& spec, const MarketPaths& market,
                                         std::span<const PlannedIncident> incidents,
                                         const Rng& master)
    : options_(options),
      spec_(spec),
      market_(market),
      incidents_(incidents),
      price_rng_(master.Derive("price/" + spec.symbol)),
      path_rng_(master.Derive("path/" + spec.symbol)),
      jump_rng_(master.Derive("jumps/" + spec.symbol)),
      volume_rng_(master.Derive("volume/" + spec.symbol)),
      oracle_rng_(master.Derive("oracle/" + spec.symbol)),
      premium_rng_(master.Derive("premium/" + spec.symbol)),
      positions_(spec.quote_volume, master.Derive("positions/" + spec.symbol)),
      tick_exponent_(TickExponent(spec.start_price)) {
  const double vol = spec.annual_vol * options.volatility_scale;
  minute_sigma_ = vol / std::sqrt(kMinutesPerYear);
  // The regime multiplies the GARCH variance, so GARCH targets the variance that makes
  // the regime-averaged variance match the instrument's volatility.
  const double long_run = minute_sigma_ * minute_sigma_ / market.mean_variance_multiplier;
  omega_ = long_run * (1.0 - options.garch_alpha - options.garch_beta);
  variance_ = long_run;
  factor_weight_ = std::sqrt(options.market_correlation);
  idio_weight_ = std::sqrt(1.0 - options.market_correlation);
  unit_t_scale_ = std::sqrt((options.shock_dof - 2.0) / options.shock_dof);
  jump_probability_ = options.jumps_per_day / static_cast<double>(kMinutesPerDay);
  const int64_t day_nanos = ((options.start.nanos() % kNanosPerDay) + kNanosPerDay) % kNanosPerDay;
  start_minute_of_day_ = day_nanos / kNanosPerMinute;
  prev_close_ = RoundToTick(spec.start_price, tick_exponent_);
  log_price_ = std::log(prev_close_);

  result_.candles = MakeBatch(options, spec.symbol, DataKind::kCandles, "1m");
  result_.funding = MakeBatch(options, spec.symbol, DataKind::kFunding);
  result_.oracle = MakeBatch(options, spec.symbol, DataKind::kOracle);
  result_.liquidations = MakeBatch(options, spec.symbol, DataKind::kLiquidations);
  const int64_t minutes = TotalMinutes(options);
  result_.candles.frame.Reserve(minutes);
  result_.closes.reserve(minutes);
  result_.quote_volumes.reserve(minutes);
}

InstrumentResult InstrumentSimulator::Run() {
  const int64_t minutes = TotalMinutes(options_);
  for (int64_t minute = 0; minute < minutes; ++minute) {
    const PlannedIncident* incident = incidents_.At(minute);
    if (IsFundingTime(minute)) PublishFunding(minute);
    PublishOracle(minute, incident);
    StepPrice(minute, incident);
    Liquidate(minute);
    EmitCandle(minute, incident);
    UpdatePremium();
    positions_.Open(minute, std::exp(log_price_), market_.turbulent[minute] != 0);
    if ((minute + 1) % kMinutesPerDay == 0) positions_.DropClosed(minute);
  }
  return std::move(result_);
}

bool InstrumentSimulator::IsFundingTime(int64_t minute) const {
  const int64_t nanos = TimeOf(minute).nanos();
  return ((nanos % kFundingInterval) + kFundingInterval) % kFundingInterval == 0;
}

void InstrumentSimulator::PublishFunding(int64_t minute) {
  const double premium = premium_count_ > 0 ? premium_sum_ / premium_count_ : premium_;
  double rate = premium + std::clamp(kInterestRate - premium, -kInterestClamp, kInterestClamp);
  rate = RoundDecimals(std::clamp(rate, -kFundingCap, kFundingCap), 8);
  const double index = RoundToTick(prev_close_ / (1.0 + premium_), tick_exponent_);
  const std::array<double, 3> values = {rate, prev_close_, index};
  result_.funding.frame.AppendRow(TimeOf(minute).nanos(), values);
  premium_sum_ = 0.0;
  premium_count_ = 0;
}

// During an oracle incident the feed keeps posting rounds (the nodes see the deviation)
// but the aggregated answer stays at its last value: a stale data source.
void InstrumentSimulator::PublishOracle(int64_t minute, const PlannedIncident* incident) {
  const bool frozen = incident != nullptr && incident->type == IncidentType::kOracleDeviation;
  if (frozen && minute == incident->start_minute) frozen_answer_ = last_answer_;
  const double observed =
      RoundDecimals(prev_close_ * std::exp(kOracleNoise * oracle_rng_.Normal()), kOracleDecimals);
  const Timestamp now = TimeOf(minute);
  const bool due = round_id_ == 0 ||
                   std::abs(observed / last_answer_ - 1.0) > kOracleDeviationThreshold ||
                   now - last_update_ >= kOracleHeartbeat;
  if (!due) return;
  last_answer_ = frozen ? frozen_answer_ : observed;
  last_update_ = now;
  const std::array<double, 2> values = {last_answer_, prev_close_};
  const std::array<int64_t, 1> round = {++round_id_};
  result_.oracle.frame.AppendRow(now.nanos(), values, round);
}

double InstrumentSimulator::IncidentDrift(int64_t minute, const PlannedIncident* incident) const {
  if (incident == nullptr) return 0.0;
  const int64_t elapsed = minute - incident->start_minute;
  if (incident->type == IncidentType::kFlashCrash) {
    const double fall = std::log1p(-incident->size);
    if (elapsed < incident->down_minutes) return fall / incident->down_minutes;
    return -incident->recovery * fall / (incident->minutes - incident->down_minutes);
  }
  if (incident->type == IncidentType::kOracleDeviation) {
    const double ramp = std::min(1.0, 2.0 * (elapsed + 1) / incident->minutes);
    const double target = incident->direction * std::log1p(incident->size) * ramp;
    return kOracleSteer * (target - (log_price_ - std::log(frozen_answer_)));
  }
  return 0.0;
}

// r = sqrt(h * g) * z + drift + jump, with z = sqrt(rho) f + sqrt(1 - rho) u (one-factor
// model; f the market's shock, u this instrument's, both unit-variance Student-t) and h
// from GARCH(1,1), Bollerslev (1986): h' = omega + alpha * h * z^2 + beta * h. Jumps are a
// Poisson process with normal sizes, Merton (1976).
void InstrumentSimulator::StepPrice(int64_t minute, const PlannedIncident* incident) {
  const bool crashing = incident != nullptr && incident->type == IncidentType::kFlashCrash &&
                        minute - incident->start_minute < incident->down_minutes;
  const double regime = market_.turbulent[minute] ? options_.turbulent_variance : 1.0;
  const double variance = variance_ * regime * (crashing ? kCrashVarianceMultiplier : 1.0);
  const double own_shock = unit_t_scale_ * price_rng_.StudentT(options_.shock_dof);
  const double z = factor_weight_ * market_.factor[minute] + idio_weight_ * own_shock;
  variance_ = omega_ + options_.garch_alpha * variance_ * z * z + options_.garch_beta * variance_;
  double jump = 0.0;
  int jump_step = 0;
  if (jump_rng_.Bernoulli(jump_probability_)) {
    jump = jump_rng_.Normal(0.0, options_.jump_scale * minute_sigma_);
    jump_step = static_cast<int>(jump_rng_.UniformInt(0, kSubSteps - 1));
  }
  const double smooth = std::sqrt(variance) * z + IncidentDrift(minute, incident) + impact_;
  impact_ = 0.0;
  BuildPath(variance, smooth, jump, jump_step);
}

// Brownian bridge: shifting Gaussian increments by their mean shortfall conditions the
// walk on ending at `smooth_return`; the jump then lands at one sub-step.
void InstrumentSimulator::BuildPath(double variance, double smooth_return, double jump,
                                    int jump_step) {
  std::array<double, kSubSteps> steps;
  const double step_sd = std::sqrt(variance / kSubSteps);
  double sum = 0.0;
  for (double& step : steps) {
    step = path_rng_.Normal(0.0, step_sd);
    sum += step;
  }
  const double shift = (smooth_return - sum) / kSubSteps;
  steps[jump_step] += jump;
  path_[0] = std::exp(log_price_);
  path_low_ = path_high_ = path_[0];
  double offset = 0.0;
  for (int step = 0; step < kSubSteps; ++step) {
    offset += steps[step] + shift;
    path_[step + 1] = std::exp(log_price_ + offset);
    path_low_ = std::min(path_low_, path_[step + 1]);
    path_high_ = std::max(path_high_, path_[step + 1]);
  }
  minute_return_ = offset;
  log_price_ += offset;
}

void InstrumentSimulator::Liquidate(int64_t minute) {
  const double low = RoundToTick(path_low_, tick_exponent_);
  const double high = RoundToTick(path_high_, tick_exponent_);
  double net_sold = 0.0;
  liquidated_notional_ = 0.0;
  for (const PositionBook::Liquidation& liquidation : positions_.Cross(path_, minute)) {
    const double price = std::clamp(RoundToTick(liquidation.liq_price, tick_exponent_), low, high);
    const double qty = RoundSignificant(liquidation.qty, kPriceDigits);
    const double notional = RoundDecimals(qty * price, 2);
    const double margin_left = RoundDecimals(notional * PositionBook::kMaintenanceMargin, 2);
    const std::array<double, 4> values = {price, qty, notional, margin_left};
    const std::array<int64_t, 2> ints = {liquidation.side, ++event_id_};
    // Mid-point of the sub-step in which the price crossed.
    const int64_t offset = (2 * liquidation.step - 1) * kNanosPerMinute / (2 * kSubSteps);
    result_.liquidations.frame.AppendRow(TimeOf(minute).nanos() + offset, values, ints);
    net_sold += liquidation.side == kSideBuy ? notional : -notional;
    liquidated_notional_ += notional;
  }
  impact_ =
      std::clamp(-kLiquidationImpact * net_sold / spec_.quote_volume, -kMaxImpact, kMaxImpact);
}

double InstrumentSimulator::MinuteQuoteVolume(int64_t minute, const PlannedIncident* incident) {
  const int64_t minute_of_day = (start_minute_of_day_ + minute) % kMinutesPerDay;
  const double season = 1.0 + kSeasonalAmplitude * std::cos(2.0 * std::numbers::pi *
                                                            (minute_of_day - kPeakMinuteOfDay) /
                                                            static_cast<double>(kMinutesPerDay));
  const double regime = market_.turbulent[minute] ? kTurbulentVolume : 1.0;
  const double activity = 1.0 + kVolumePerSigma * std::abs(minute_return_) / minute_sigma_;
  const double noise =
      std::exp(kVolumeNoise * volume_rng_.Normal() - 0.5 * kVolumeNoise * kVolumeNoise);
  const bool spiking = incident != nullptr && incident->type == IncidentType::kVolumeSpike;
  const double spike = spiking ? incident->size : 1.0;
  return spec_.quote_volume * season * regime * activity * noise * spike + liquidated_notional_;
}

void InstrumentSimulator::EmitCandle(int64_t minute, const PlannedIncident* incident) {
  const double open = prev_close_;
  const double close = RoundToTick(path_[kSubSteps], tick_exponent_);
  const double high = std::max({RoundToTick(path_high_, tick_exponent_), open, close});
  const double low = std::min({RoundToTick(path_low_, tick_exponent_), open, close});
  const double quote_volume = RoundDecimals(MinuteQuoteVolume(minute, incident), 2);
  const double typical = (open + high + low + close) / 4.0;
  const double trade_noise = std::exp(kTradeCountNoise * volume_rng_.Normal());
  const double trades =
      std::max(1.0, std::round(quote_volume / spec_.avg_trade_notional * trade_noise));
  const std::array<double, 7> values = {
      open,   high,        low, close, RoundSignificant(quote_volume / typical, kPriceDigits),
      trades, quote_volume};
  result_.candles.frame.AppendRow(TimeOf(minute).nanos(), values);
  result_.closes.push_back(close);
  result_.quote_volumes.push_back(quote_volume);
  prev_close_ = close;
}

void InstrumentSimulator::UpdatePremium() {
  premium_ = kPremiumMean + kPremiumPersistence * (premium_ - kPremiumMean) +
             kPremiumPerReturn * minute_return_ + kPremiumNoise * premium_rng_.Normal();
  premium_ = std::clamp(premium_, -kPremiumLimit, kPremiumLimit);
  premium_sum_ += premium_;
  ++premium_count_;
}

}  // namespace

double RoundDecimals(double value, int decimals) {
  // Dividing an integer by an exact power of ten gives the double nearest the decimal,
  // which prints back as that short decimal.
  if (decimals >= 0) {
    const double scale = Pow10(decimals);
    return std::round(value * scale) / scale;
  }
  const double scale = Pow10(-decimals);
  return std::round(value / scale) * scale;
}

double RoundSignificant(double value, int digits) {
  if (value == 0.0 || !std::isfinite(value)) return value;
  const int exponent = static_cast<int>(std::floor(std::log10(std::abs(value))));
  return RoundDecimals(value, digits - 1 - exponent);
}

int TickExponent(double price) {
  return static_cast<int>(std::floor(std::log10(price))) - (kPriceDigits - 1);
}

double RoundToTick(double price, int tick_exponent) {
  return std::max(RoundDecimals(price, -tick_exponent), Pow10(tick_exponent));
}

InstrumentResult SimulateInstrument(const SimulationOptions& options, const InstrumentSpec& spec,
                                    const MarketPaths& market,
                                    std::span<const PlannedIncident> incidents, const Rng& master) {
  return InstrumentSimulator(options, spec, market, incidents, master).Run();
}

}  // namespace vigil::sim_internal
