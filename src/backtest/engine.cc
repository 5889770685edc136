// The engine's clock: bar closes of every instrument in time order, funding settlements,
// equity marks and the risk limits checked at each of them (execution.cc is the venue).
#include "vigil/backtest/engine.h"

#include <cmath>
#include <string>

#include "simulation.h"

namespace vigil {
namespace backtest_internal {

Simulation::Simulation(std::span<const BarSeries> markets, const BacktestOptions& options,
                       std::vector<InstrumentTerms> terms, BacktestResult& result)
    : markets_(markets),
      options_(options),
      terms_(std::move(terms)),
      result_(result),
      guard_(options.risk, options.initial_capital),
      closed_(markets.size(), 0),
      view_(markets, closed_),
      cash_(options.initial_capital),
      position_(markets.size(), 0.0),
      last_close_(markets.size(), 0.0),
      pending_(markets.size()),
      open_trades_(markets.size()),
      risk_active_(options.risk.active()) {
  size_t bars = 0;
  for (const BarSeries& series : markets) bars += series.size();
  result_.mark_times.reserve(bars);
  result_.equity.reserve(bars);
  result_.exposure.reserve(bars);
}

double Simulation::equity() const {
  double value = cash_;
  for (size_t i = 0; i < markets_.size(); ++i) value += position_[i] * last_close_[i];
  return value;
}

size_t Simulation::NextToClose() const {
  size_t best = std::string::npos;
  int64_t best_close = 0;
  for (size_t i = 0; i < markets_.size(); ++i) {
    if (closed_[i] >= markets_[i].size()) continue;
    const int64_t close = markets_[i].close_time(closed_[i]).nanos();
    if (best == std::string::npos || close < best_close) {
      best = i;
      best_close = close;
    }
  }
  return best;
}

void Simulation::Run(Strategy& strategy) {
  const bool margin = options_.margin_account();
  for (size_t first = NextToClose(); first != std::string::npos; first = NextToClose()) {
    now_ = markets_[first].close_time(closed_[first]);
    closing_.clear();
    for (size_t i = first; i < markets_.size(); ++i) {
      if (closed_[i] >= markets_[i].size() || markets_[i].close_time(closed_[i]) != now_) continue;
      FillPending(i, closed_[i]);
      if (margin) CheckLiquidation(i, closed_[i]);
      last_close_[i] = markets_[i].close[closed_[i]];
      ++closed_[i];
      closing_.push_back(i);
      ++result_.events;
    }
    SettleFunding();
    Mark();
    if (risk_active_ && guard_.OnMark(now_, result_.equity.back())) Flatten();
    for (size_t i : closing_) strategy.OnBar(*this, i);
  }
}

// Each funding time settles at the first close at or after it, on the position held then,
// valued at the instrument's latest close.
void Simulation::SettleFunding() {
  for (size_t i = 0; i < terms_.size(); ++i) {
    InstrumentTerms& terms = terms_[i];
    if (terms.funding == nullptr) continue;
    const FundingSeries& funding = *terms.funding;
    for (; terms.next_funding < funding.time.size() && funding.time[terms.next_funding] <= now_;
         ++terms.next_funding) {
      if (position_[i] == 0.0) continue;
      const double payment = position_[i] * last_close_[i] * funding.rate[terms.next_funding];
      cash_ -= payment;
      result_.funding_paid += payment;
      open_trades_[i].cash_flow -= payment;
    }
  }
}

void Simulation::Mark() {
  double value = 0.0, gross = 0.0;
  for (size_t i = 0; i < markets_.size(); ++i) {
    const double held = position_[i] * last_close_[i];
    value += held;
    gross += std::abs(held);
  }
  const double equity = cash_ + value;
  const double exposure = equity > 0.0 ? gross / equity : gross > 0.0 ? 1.0 : 0.0;
  // Ticks of one time (several trades in a millisecond) make one mark, the last.
  if (!result_.mark_times.empty() && result_.mark_times.back() == now_) {
    result_.equity.back() = equity;
    result_.exposure.back() = exposure;
    return;
  }
  result_.mark_times.push_back(now_);
  result_.equity.push_back(equity);
  result_.exposure.push_back(exposure);
}

void Simulation::Flatten() {
  for (size_t i = 0; i < markets_.size(); ++i) {
    CancelPending(i);
    if (position_[i] != 0.0) Submit(OrderRequest::ClosePosition(i));
  }
}

// The curve and trades are moved into the input for ComputePerformance and back after it
// (RunBacktest): a million marks are not copied.
PerformanceInput Simulation::Performance() const {
  PerformanceInput input;
  input.initial_capital = options_.initial_capital;
  input.traded_notional = traded_notional_;
  input.fees_paid = fees_paid_;
  input.slippage_paid = slippage_paid_;
  input.risk_free_rate = options_.risk_free_rate;
  return input;
}

}  // namespace backtest_internal

namespace {

std::string VenueOf(const std::string& instrument) {
  const size_t colon = instrument.find(':');
  return colon == std::string::npos ? std::string() : instrument.substr(0, colon);
}

Status ValidateFunding(const FundingSeries& funding, std::span<const BarSeries> markets) {
  bool replayed = false;
  for (const BarSeries& series : markets)
    replayed = replayed || series.instrument == funding.instrument;
  if (!replayed) return InvalidArgument("instrument '" + funding.instrument + "' is not replayed");
  if (funding.time.size() != funding.rate.size())
    return InvalidArgument("time and rate differ in length");
  for (size_t k = 0; k < funding.time.size(); ++k) {
    if (!std::isfinite(funding.rate[k]))
      return InvalidArgument("rate at " + funding.time[k].ToIso() + ": not finite");
    if (k > 0 && funding.time[k] <= funding.time[k - 1])
      return InvalidArgument("time " + funding.time[k].ToIso() + ": not after the one before");
  }
  return Status::Ok();
}

std::vector<backtest_internal::InstrumentTerms> TermsOf(std::span<const BarSeries> markets,
                                                        const BacktestOptions& options) {
  std::vector<backtest_internal::InstrumentTerms> terms(markets.size());
  for (size_t i = 0; i < markets.size(); ++i) {
    const std::string venue = VenueOf(markets[i].instrument);
    const auto fees = options.venue_fees.find(venue);
    terms[i].fees = fees == options.venue_fees.end() ? options.fees : fees->second;
    const auto gas = options.gas_per_fill.find(venue);
    terms[i].gas = gas == options.gas_per_fill.end() ? 0.0 : gas->second;
    for (const FundingSeries& funding : options.funding)
      if (funding.instrument == markets[i].instrument) terms[i].funding = &funding;
  }
  return terms;
}

}  // namespace

Status BacktestOptions::Validate() const {
  if (!std::isfinite(initial_capital) || !(initial_capital > 0.0))
    return InvalidArgument("initial_capital: must be a finite amount > 0");
  VIGIL_RETURN_IF_ERROR(fees.Validate().WithContext("fees"));
  for (const auto& [venue, schedule] : venue_fees)
    VIGIL_RETURN_IF_ERROR(schedule.Validate().WithContext("venue_fees." + venue));
  for (const auto& [venue, gas] : gas_per_fill)
    if (!std::isfinite(gas) || gas < 0.0)
      return InvalidArgument("gas_per_fill." + venue + ": must be a finite amount >= 0");
  VIGIL_RETURN_IF_ERROR(slippage.Validate().WithContext("slippage"));
  if (latency_ns < 0) return InvalidArgument("latency: must be >= 0");
  if (!std::isfinite(risk_free_rate) || risk_free_rate <= -1.0)
    return InvalidArgument("risk_free_rate: must be a finite annual rate > -1");
  if (!std::isfinite(max_leverage) || max_leverage < 1.0 || max_leverage > 1000.0)
    return InvalidArgument("max_leverage: must be in [1, 1000]");
  // A position opened at the leverage limit must not be liquidatable on the spot.
  if (!(maintenance_margin >= 0.0) || maintenance_margin * max_leverage >= 1.0)
    return InvalidArgument("maintenance_margin: must be >= 0 and below 1 / max_leverage");
  if (!std::isfinite(liquidation_fee_bps) || liquidation_fee_bps < 0.0)
    return InvalidArgument("liquidation_fee_bps: must be finite and >= 0");
  VIGIL_RETURN_IF_ERROR(risk.Validate().WithContext("risk"));
  return Status::Ok();
}

Result<BacktestResult> RunBacktest(std::span<const BarSeries> markets, Strategy& strategy,
                                   const BacktestOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  if (markets.empty()) return InvalidArgument("markets: nothing to replay");
  for (const BarSeries& series : markets) VIGIL_RETURN_IF_ERROR(series.Validate());
  for (const FundingSeries& funding : options.funding)
    VIGIL_RETURN_IF_ERROR(ValidateFunding(funding, markets).WithContext("funding"));
  BacktestResult result;
  backtest_internal::Simulation simulation(markets, options, TermsOf(markets, options), result);
  simulation.Run(strategy);
  result.final_cash = simulation.cash();
  for (size_t i = 0; i < markets.size(); ++i)
    result.final_positions.push_back(simulation.position(i));
  result.risk_trips = simulation.guard().trips();
  result.risk_state = std::string(RiskStateName(simulation.guard().state()));
  result.risk_reason = simulation.guard().reason();
  if (result.mark_times.size() < 2)
    return DataError("backtest: fewer than two bar closes to measure performance on");
  PerformanceInput input = simulation.Performance();
  input.times = std::move(result.mark_times);
  input.equity = std::move(result.equity);
  input.exposure = std::move(result.exposure);
  input.trades = std::move(result.trades);
  Result<PerformanceMetrics> metrics = ComputePerformance(input);
  result.mark_times = std::move(input.times);
  result.equity = std::move(input.equity);
  result.exposure = std::move(input.exposure);
  result.trades = std::move(input.trades);
  if (!metrics.ok()) return metrics.status();
  result.metrics = *metrics;
  return result;
}

}  // namespace vigil
