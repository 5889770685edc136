#include "vigil/backtest/risk_controls.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace vigil {
namespace {

// A measure this close to its limit counts as at it (risk_controls.h: 8000 from a peak of
// 10000 is a 20 % drawdown on paper but -0.19999999999999996 in binary).
constexpr double kAtLimitTolerance = 1e-12;

std::string ShortestText(double value) {
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return error == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

// A limit of 1 (100 %) is the documented "off": losing everything is not a control.
bool Breaches(double measure, double limit) {
  return limit < 1.0 && measure <= -limit + kAtLimitTolerance;
}

int64_t UtcDay(Timestamp time) {
  const int64_t nanos = time.nanos();
  return nanos / kNanosPerDay - (nanos % kNanosPerDay < 0 ? 1 : 0);
}

// "2024-01-03T04:05:00Z": whole-second marks (every candle close) without the ".000".
std::string MarkTimeText(Timestamp time) {
  std::string text = time.ToIso();
  constexpr std::string_view kNoMillis = ".000Z";
  if (text.ends_with(kNoMillis))
    text.replace(text.size() - kNoMillis.size(), kNoMillis.size(), "Z");
  return text;
}

std::string PercentText(const char* format, double fraction) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), format, fraction * 100.0);
  return buffer;
}

Status CheckLossLimit(double value, const char* field) {
  if (!(value > 0.0 && value <= 1.0))
    return InvalidArgument(std::string(field) + ": must be in (0, 1] (1 = off), got " +
                           ShortestText(value));
  return Status::Ok();
}

Status CheckCap(double value, const char* field) {
  if (!(value > 0.0))
    return InvalidArgument(std::string(field) + ": must be > 0 (inf = no cap), got " +
                           ShortestText(value));
  return Status::Ok();
}

}  // namespace

Status SignalGate::Validate() const {
  if (!(min_confidence >= 0.0 && min_confidence <= 1.0))
    return InvalidArgument("min_confidence: must be a probability in [0, 1], got " +
                           ShortestText(min_confidence));
  if (!(max_disagreement >= 0.0))
    return InvalidArgument("max_disagreement: must be >= 0 (inf = no limit), got " +
                           ShortestText(max_disagreement));
  return Status::Ok();
}

Result<EnsembleView> SummarizeEnsemble(std::span<const double> member_probabilities) {
  if (member_probabilities.empty())
    return InvalidArgument("member_probabilities: empty, an ensemble needs a member");
  double sum = 0.0;
  for (size_t member = 0; member < member_probabilities.size(); ++member) {
    const double p = member_probabilities[member];
    if (!(p >= 0.0 && p <= 1.0))
      return InvalidArgument("member_probabilities[" + std::to_string(member) +
                             "]: " + ShortestText(p) + " is not a probability in [0, 1]");
    sum += p;
  }
  const double n = static_cast<double>(member_probabilities.size());
  EnsembleView view;
  view.mean = sum / n;
  if (member_probabilities.size() == 1) return view;
  double squares = 0.0;
  for (const double p : member_probabilities) squares += (p - view.mean) * (p - view.mean);
  view.disagreement = std::sqrt(squares / (n - 1.0));
  return view;
}

bool PassesGate(const SignalGate& gate, double probability, double disagreement) {
  // Comparisons with NaN are false, so a NaN on either side fails the gate.
  return probability >= gate.min_confidence && disagreement <= gate.max_disagreement;
}

Status RiskLimits::Validate() const {
  VIGIL_RETURN_IF_ERROR(CheckLossLimit(max_drawdown, "max_drawdown"));
  VIGIL_RETURN_IF_ERROR(CheckLossLimit(daily_loss_limit, "daily_loss_limit"));
  VIGIL_RETURN_IF_ERROR(CheckCap(max_gross_exposure, "max_gross_exposure"));
  return CheckCap(max_position_fraction, "max_position_fraction");
}

bool RiskLimits::active() const {
  return max_drawdown < 1.0 || daily_loss_limit < 1.0 || std::isfinite(max_gross_exposure) ||
         std::isfinite(max_position_fraction);
}

std::string_view RiskStateName(RiskState state) {
  switch (state) {
    case RiskState::kNormal:
      return "normal";
    case RiskState::kPausedForDay:
      return "paused_for_day";
    case RiskState::kHalted:
      return "halted";
  }
  return "normal";
}

RiskGuard::RiskGuard(const RiskLimits& limits, double initial_capital)
    : limits_(limits),
      peak_(initial_capital),
      day_reference_(initial_capital),
      last_equity_(initial_capital) {}

bool RiskGuard::OnMark(Timestamp time, double equity) {
  if (!std::isfinite(equity)) return false;
  const int64_t day = UtcDay(time);
  if (!has_mark_) {
    // The first day's loss is measured from the initial capital (day_reference_ as built).
    has_mark_ = true;
    day_ = day;
  } else if (day > day_) {
    day_ = day;
    day_reference_ = last_equity_;
    if (state_ == RiskState::kPausedForDay) state_ = RiskState::kNormal;
  }
  last_equity_ = equity;
  peak_ = std::max(peak_, equity);
  if (state_ == RiskState::kHalted) return false;
  const double drawdown = equity / peak_ - 1.0;
  if (Breaches(drawdown, limits_.max_drawdown))
    return Trip(RiskState::kHalted, "max drawdown", drawdown, limits_.max_drawdown, time);
  // A paused account is flat, so it cannot lose more today; no second trip the same day.
  if (state_ == RiskState::kNormal && day_reference_ > 0.0) {
    const double daily_loss = equity / day_reference_ - 1.0;
    if (Breaches(daily_loss, limits_.daily_loss_limit))
      return Trip(RiskState::kPausedForDay, "daily loss", daily_loss, limits_.daily_loss_limit,
                  time);
  }
  return false;
}

bool RiskGuard::Trip(RiskState state, std::string_view measure, double value, double limit,
                     Timestamp time) {
  state_ = state;
  ++trips_;
  reason_ = std::string(measure) + " " + PercentText("%.1f%%", value) + " breached the " +
            PercentText("%.6g%%", -limit) + " limit at " + MarkTimeText(time);
  return true;
}

double RiskGuard::CapDelta(double desired_delta, double price, double position_value,
                           double gross_value, double equity) const {
  if (!(price > 0.0) || std::isnan(desired_delta) || std::isnan(position_value) ||
      std::isnan(gross_value) || std::isnan(equity) || desired_delta == 0.0)
    return 0.0;
  const double direction = desired_delta > 0.0 ? 1.0 : -1.0;
  const double change = std::abs(desired_delta) * price;
  // The part of the change that brings an opposite position back toward 0 is free.
  const bool opposes = position_value * direction < 0.0;
  const double reduction = opposes ? std::min(change, std::abs(position_value)) : 0.0;
  const double addition = change - reduction;
  if (addition <= 0.0) return desired_delta;
  // Any addition starts from 0 when the change crossed an opposite position.
  const double position_after_reduction = opposes ? 0.0 : std::abs(position_value);
  const double gross_after_reduction = gross_value - reduction;
  double room = 0.0;
  if (equity > 0.0 && std::isfinite(equity)) {
    room = std::min(limits_.max_position_fraction * equity - position_after_reduction,
                    limits_.max_gross_exposure * equity - gross_after_reduction);
  }
  if (addition <= room) return desired_delta;
  return direction * (reduction + std::max(room, 0.0)) / price;
}

}  // namespace vigil
