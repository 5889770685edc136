#include "vigil/backtest/costs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace vigil {
namespace {

constexpr double kBasisPoint = 1e-4;
constexpr double kMinFeeBps = -100.0;  // a maker rebate larger than 1 % is a typo
constexpr double kMaxFeeBps = 1000.0;  // so is a fee above 10 %

Status CheckFeeRate(double bps, const char* field) {
  if (!std::isfinite(bps) || bps < kMinFeeBps || bps > kMaxFeeBps)
    return InvalidArgument(std::string(field) +
                           ": must be a number of basis points in [-100, 1000]");
  return Status::Ok();
}

std::string_view KindName(SlippageKind kind) {
  switch (kind) {
    case SlippageKind::kFixed:
      return "fixed";
    case SlippageKind::kLinear:
      return "linear";
    case SlippageKind::kSqrt:
      return "sqrt";
  }
  return "fixed";
}

Result<double> ParseNumber(std::string_view text) {
  double value = 0.0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty())
    return InvalidArgument("'" + std::string(text) + "' is not a number");
  return value;
}

}  // namespace

Status FeeSchedule::Validate() const {
  VIGIL_RETURN_IF_ERROR(CheckFeeRate(maker_bps, "maker_bps"));
  return CheckFeeRate(taker_bps, "taker_bps");
}

double FeeSchedule::Rate(Liquidity liquidity) const {
  return (liquidity == Liquidity::kMaker ? maker_bps : taker_bps) * kBasisPoint;
}

double FeeSchedule::Fee(double notional, Liquidity liquidity) const {
  return notional * Rate(liquidity);
}

Result<SlippageModel> SlippageModel::Parse(std::string_view text) {
  const std::string forms = " (fixed:BPS, linear:K or sqrt:K)";
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos)
    return InvalidArgument("slippage '" + std::string(text) + "': expected KIND:VALUE" + forms);
  const std::string_view kind = text.substr(0, colon);
  SlippageModel model;
  if (kind == "fixed") {
    model.kind = SlippageKind::kFixed;
  } else if (kind == "linear") {
    model.kind = SlippageKind::kLinear;
  } else if (kind == "sqrt") {
    model.kind = SlippageKind::kSqrt;
  } else {
    return InvalidArgument("slippage '" + std::string(text) + "': unknown kind '" +
                           std::string(kind) + "'" + forms);
  }
  Result<double> value = ParseNumber(text.substr(colon + 1));
  if (!value.ok())
    return InvalidArgument("slippage '" + std::string(text) + "': " + value.status().message());
  model.parameter = *value;
  VIGIL_RETURN_IF_ERROR(model.Validate().WithContext("slippage '" + std::string(text) + "'"));
  return model;
}

std::string SlippageModel::ToString() const {
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), parameter);
  return std::string(KindName(kind)) + ":" +
         (error == std::errc() ? std::string(buffer, end) : std::to_string(parameter));
}

Status SlippageModel::Validate() const {
  if (!std::isfinite(parameter) || parameter < 0.0)
    return InvalidArgument("parameter: must be a finite number >= 0");
  if (kind == SlippageKind::kFixed && parameter >= 1e4)
    return InvalidArgument("parameter: fixed slippage must be below 10000 bps");
  return Status::Ok();
}

double SlippageModel::Fraction(double quantity, double bar_volume) const {
  if (kind == SlippageKind::kFixed) return parameter * kBasisPoint;
  if (!(bar_volume > 0.0) || !std::isfinite(bar_volume))
    return std::numeric_limits<double>::infinity();
  const double participation = std::abs(quantity) / bar_volume;
  return kind == SlippageKind::kLinear ? parameter * participation
                                       : parameter * std::sqrt(participation);
}

double SlippageModel::FillPrice(OrderSide side, double reference_price, double quantity,
                                double bar_volume) const {
  const double fraction = Fraction(quantity, bar_volume);
  if (side == OrderSide::kBuy) return reference_price * (1.0 + fraction);
  return std::max(0.0, reference_price * (1.0 - fraction));
}

}  // namespace vigil
