// Risk controls for the backtester, at two levels:
//   - signal gates, applied by a strategy before it enters a trade: a minimum confidence and a
//     maximum disagreement between the members of an ensemble;
//   - account limits, enforced by the engine through a RiskGuard: a drawdown circuit breaker
//     that halts the run, a daily loss limit that pauses it until the next UTC day, and caps
//     on gross exposure and on any one position, applied to every order.
//
//   // In a strategy:
//   VIGIL_ASSIGN_OR_RETURN(vigil::EnsembleView view, vigil::SummarizeEnsemble(member_probs));
//   if (!vigil::PassesGate(gate, view.mean, view.disagreement)) return;  // no entry
//
//   // In the engine:
//   vigil::RiskGuard guard(options.risk, options.initial_capital);
//   if (guard.OnMark(time, equity)) FlattenEverything();          // a control tripped
//   if (!guard.AllowsNewRisk()) { /* only orders that reduce positions */ }
//   quantity = guard.CapDelta(quantity, price, position_value, gross_value, equity);
//
// Definitions (E_t the equity at mark t, E_0 the initial capital):
//   drawdown      E_t / max(E_0, E_1..E_t) - 1
//   daily loss    E_t / R_d - 1, R_d the equity at the last mark before UTC day d (the
//                 previous day's last mark; E_0 on the first day)
//   gross value   sum over instruments of |position value| (quote currency)
// A control trips when its measure is at or beyond the limit; "at" is within 1e-12, so a
// drawdown equal to the limit on paper (8000 from a peak of 10000 against 20 %) trips despite
// binary rounding (8000 / 10000 - 1 = -0.19999999999999996).
//
// Thread-safety: SignalGate, RiskLimits and the free functions are values and pure
// functions. A RiskGuard is one run's mutable state: const calls are safe from several
// threads, OnMark needs exclusive access.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"

namespace vigil {

// Signal-level gates, applied by the strategy before it enters a trade.
struct SignalGate {
  double min_confidence = 0.0;  // enter only when the probability >= this, in [0, 1]
  // and the ensemble members' standard deviation <= this, >= 0 (+inf: no limit)
  double max_disagreement = std::numeric_limits<double>::infinity();

  Status Validate() const;  // InvalidArgument naming the field; NaN is refused
};

// An ensemble's members' probabilities, summarised.
struct EnsembleView {
  double mean = 0.0;          // the ensemble's probability
  double disagreement = 0.0;  // the members' sample standard deviation (n - 1); 0 for one
};

// InvalidArgument for an empty list or a value outside [0, 1] (NaN included), naming its index.
Result<EnsembleView> SummarizeEnsemble(std::span<const double> member_probabilities);

// probability >= gate.min_confidence and disagreement <= gate.max_disagreement; false when
// either is NaN.
bool PassesGate(const SignalGate& gate, double probability, double disagreement);

// Account-level limits, enforced by the engine at every equity mark and on every order.
struct RiskLimits {
  // Circuit breaker: when the drawdown <= -max_drawdown, flatten everything and open nothing
  // more for the rest of the run. In (0, 1]; 1 = off.
  double max_drawdown = 1.0;
  // When the daily loss <= -daily_loss_limit, flatten and open nothing until the next UTC
  // day. In (0, 1]; 1 = off.
  double daily_loss_limit = 1.0;
  // Gross value / equity after any fill, > 0 (+inf: no cap).
  double max_gross_exposure = std::numeric_limits<double>::infinity();
  // |one instrument's position value| / equity after any fill, > 0 (+inf: no cap).
  double max_position_fraction = std::numeric_limits<double>::infinity();

  Status Validate() const;  // InvalidArgument naming the field; NaN is refused
  bool active() const;      // any limit set (not at its "off" value)
};

enum class RiskState {
  kNormal,        // trading freely
  kPausedForDay,  // the daily loss limit tripped: flat until the next UTC day
  kHalted,        // the drawdown circuit breaker tripped: flat for the rest of the run
};

// "normal", "paused_for_day", "halted".
std::string_view RiskStateName(RiskState state);

// One run's account-level controls. Deterministic: the same marks give the same states.
class RiskGuard {
 public:
  // Preconditions: limits.Validate() is OK; initial_capital > 0 and finite.
  RiskGuard(const RiskLimits& limits, double initial_capital);

  // Called at every equity mark, in time order. Returns true when this mark trips a control
  // (the state changes to paused or halted), meaning the engine must flatten all positions;
  // false otherwise, including every mark once halted. A mark on a new UTC day (by the floor
  // of the nanoseconds since the epoch, so 00:00:00Z starts a day) first clears a daily pause,
  // never a halt. When both controls trip at one mark the run halts, counted as one trip. A
  // non-finite equity is ignored (no state change, not remembered).
  bool OnMark(Timestamp time, double equity);

  RiskState state() const { return state_; }
  bool AllowsNewRisk() const { return state_ == RiskState::kNormal; }
  // Why it tripped last, e.g. "max drawdown -20.3% breached the -20% limit at
  // 2024-01-03T04:05:00Z" or "daily loss -5.1% breached the -5% limit at ..."; empty before
  // any trip. Stays after a pause clears.
  const std::string& reason() const { return reason_; }
  int64_t trips() const { return trips_; }  // how many times it tripped

  // The largest quantity change with the sign of `desired_delta` and at most its size that
  // keeps the caps after the fill, where the instrument's position is worth `position_value`
  // (signed, quote currency, at `price`), all positions `gross_value` (>= |position_value|),
  // and the account `equity`:
  //   |new position value| <= max_position_fraction x equity and
  //   new gross value      <= max_gross_exposure x equity.
  // The part of the change that moves the position toward 0 is never cut (a delta that
  // crosses 0 keeps the whole reduction; only the new position on the other side is capped);
  // desired_delta itself is returned when nothing is cut; 0 when nothing can be added (caps
  // already reached or exceeded, equity <= 0). Values at `price`, fees not included: leave a
  // margin in the caps for them. Returns 0 when price <= 0 or an input is NaN. Does not look
  // at state(): the engine asks AllowsNewRisk() first.
  double CapDelta(double desired_delta, double price, double position_value, double gross_value,
                  double equity) const;

 private:
  // Sets the state and the reason, counts the trip, returns true.
  bool Trip(RiskState state, std::string_view measure, double value, double limit, Timestamp time);

  RiskLimits limits_;
  double peak_;           // the highest equity seen, the initial capital included
  double day_reference_;  // R_d: the equity the day's loss is measured from
  double last_equity_;    // the latest finite mark
  int64_t day_ = 0;       // the UTC day (days since the epoch) of the latest mark
  bool has_mark_ = false;
  RiskState state_ = RiskState::kNormal;
  std::string reason_;
  int64_t trips_ = 0;
};

}  // namespace vigil
