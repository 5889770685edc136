// Position sizing policies for the backtester: how much of its equity a strategy holds once it
// has decided to be in a trade. Pure and deterministic: a function of the options, what the
// model said and the closes seen so far, so a strategy can call it at every decision and the
// engine can replay it bit for bit.
//
//   vigil::SizingOptions sizing;
//   sizing.method = vigil::SizingMethod::kKelly;
//   sizing.kelly_multiplier = 0.5;  // half Kelly
//   VIGIL_RETURN_IF_ERROR(sizing.Validate());
//   const vigil::SizingSignal signal{/*probability=*/0.58, /*uncertainty=*/0.03};
//   const double fraction = vigil::TargetFraction(sizing, signal, market.close(i), bar_ns);
//   const double quantity = fraction * equity / market.close(i).back();  // 0: stay flat
//
// Definitions (p the probability that the trade wins, b the payoff ratio):
//   fixed_fraction     f = fraction
//   kelly              edge e = p (b + 1) - 1, the expected gain per unit staked on a bet
//                      that pays b per unit when it wins and loses the stake otherwise;
//                      Kelly fraction f* = e / b; the model's uncertainty about p makes the
//                      edge uncertain by sigma_e = (b + 1) x uncertainty, and the fraction is
//                      shrunk by e^2 / (e^2 + sigma_e^2):
//                        f = min(kelly_multiplier x f* x e^2 / (e^2 + sigma_e^2), kelly_cap)
//                      0 when e <= 0 (no edge: do not bet) or p is NaN or outside [0, 1]
//                      (sizing.cc derives the shrinkage)
//   volatility_target  f = target_volatility / sigma, sigma the sample standard deviation
//                      (n - 1) of the last volatility_window log returns ln(c_t / c_{t-1}) of
//                      close, annualised by sqrt(365.25 days / bar_ns); 0 when fewer than
//                      volatility_window returns exist, bar_ns <= 0, or sigma is 0 or not
//                      finite (a close <= 0, NaN): it cannot size without an estimate
// Every result is then clamped to [0, max_leverage]; it is never NaN.
//
// Thread-safety: values and pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "vigil/core/status.h"

namespace vigil {

enum class SizingMethod { kFixedFraction, kKelly, kVolatilityTarget };

// "fixed_fraction", "kelly", "volatility_target".
std::string_view SizingMethodName(SizingMethod method);
// The inverse of SizingMethodName; InvalidArgument quoting the text and listing the names.
Result<SizingMethod> ParseSizingMethod(std::string_view text);

struct SizingOptions {
  SizingMethod method = SizingMethod::kFixedFraction;
  double fraction = 1.0;           // fixed_fraction: of equity, in (0, max_leverage]
  double kelly_multiplier = 1.0;   // kelly: fractional Kelly (0.5 = half Kelly), in (0, 1]
  double kelly_cap = 1.0;          // kelly: the most it may hold, in (0, max_leverage]
  double payoff_ratio = 1.0;       // kelly: b, average win / average loss of a trade, > 0
  double target_volatility = 0.5;  // volatility_target: annualised, > 0
  int volatility_window = 20;      // volatility_target: returns in the estimate, >= 2
  double max_leverage = 1.0;       // every method is capped at this, > 0

  // Every field is checked, whatever the method, so a configuration is valid or not on its
  // own. InvalidArgument naming the first bad field; NaN and infinities are refused.
  Status Validate() const;
};

// What the model said at a decision.
struct SizingSignal {
  // P(the trade wins), in [0, 1]; kelly needs it, the other methods ignore it.
  double probability = std::numeric_limits<double>::quiet_NaN();
  // The standard deviation of that probability (ensemble spread, bootstrap...), >= 0. kelly
  // sizes 0 when it is NaN or negative: a broken uncertainty is not a reason to bet.
  double uncertainty = 0.0;
};

// The fraction of equity to hold, in [0, options.max_leverage] (0 = stay flat), by the
// definitions above. `closes` are the instrument's closes so far (closes.back() the latest),
// `bar_ns` their spacing; only volatility_target reads them. Precondition: options.Validate()
// is OK (an invalid configuration gives an unspecified fraction in that range).
double TargetFraction(const SizingOptions& options, const SizingSignal& signal,
                      std::span<const double> closes, int64_t bar_ns);

// The building blocks of TargetFraction, before the clamp to [0, max_leverage].
// The Kelly fraction kelly_multiplier x f* x shrinkage, capped at kelly_cap; 0 without an edge.
double KellyFraction(const SizingOptions& options, const SizingSignal& signal);
// The annualised realised volatility of the last `window` log returns of `closes`; NaN when
// it cannot be measured (fewer returns, bar_ns <= 0, a close <= 0 or not finite).
double RealisedVolatility(std::span<const double> closes, int window, int64_t bar_ns);

}  // namespace vigil
