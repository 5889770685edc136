// Trading costs on the simulated venue: fees in basis points of traded notional (maker and
// taker rates, per venue) and slippage, how far a fill's price moves against its order.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::SlippageModel slippage, vigil::SlippageModel::Parse("sqrt:0.1"));
//   const double price = slippage.FillPrice(vigil::OrderSide::kBuy, bar.open, quantity,
//   bar.volume); const double fee = fees.Fee(price * quantity, vigil::Liquidity::kTaker);
//
// All types are values; their methods are const and safe to call from several threads.
#pragma once

#include <string>
#include <string_view>

#include "vigil/core/status.h"

namespace vigil {

enum class OrderSide { kBuy, kSell };
// Taker: the order takes liquidity (market orders, triggered stops, marketable limits).
// Maker: a resting limit order that was filled by someone else.
enum class Liquidity { kMaker, kTaker };

struct FeeSchedule {
  // Basis points of notional. A negative maker rate is a rebate (down to -100 bps).
  double maker_bps = 2.0;
  double taker_bps = 5.0;

  Status Validate() const;  // finite, within [-100, 1000]; InvalidArgument naming the field
  double Rate(Liquidity liquidity) const;  // as a fraction (5 bps -> 0.0005)
  // Fee on a fill of `notional` (>= 0) in quote currency; negative for a maker rebate.
  double Fee(double notional, Liquidity liquidity) const;
};

enum class SlippageKind {
  kFixed,   // a constant fraction: parameter in basis points
  kLinear,  // K x participation, participation = quantity / bar volume
  kSqrt,    // K x sqrt(participation): the square-root impact law (Torre 1997; Almgren et
            // al. 2005), K standing for Y x sigma of the bar
};

// Slippage of a fill, from its order's size and the volume of the bar it fills in.
struct SlippageModel {
  SlippageKind kind = SlippageKind::kFixed;
  double parameter = 0.0;  // bps for kFixed, K (a fraction) for kLinear and kSqrt; >= 0

  // "fixed:BPS", "linear:K" or "sqrt:K" (the CLI's --slippage); InvalidArgument naming the
  // accepted forms otherwise.
  static Result<SlippageModel> Parse(std::string_view text);
  std::string ToString() const;  // the same form Parse reads
  Status Validate() const;

  // The fraction of the reference price by which a fill of `quantity` (> 0) moves against
  // its order. For kLinear and kSqrt the bar's volume must be > 0: with none (or a
  // non-finite one) there is nothing to trade against and the result is +infinity.
  double Fraction(double quantity, double bar_volume) const;
  // The reference price moved against the order: up for a buy, down for a sell (never
  // below 0).
  double FillPrice(OrderSide side, double reference_price, double quantity,
                   double bar_volume) const;
};

}  // namespace vigil
