// ml_threshold: trades a model's signal (strategies.h). At the close of bar t it reads the
// signal of the feature row stamped at bar t's open (computed from bars closed by then):
//   flat:  value >= enter, and the gate passes for P = value -> long, sized by the policy;
//          else value <= short_enter (when given), and the gate passes for P = 1 - value ->
//          short, sized by the policy with P = 1 - value;
//   long:  value < exit -> close;   short: value > short_exit -> close.
// A missing or NaN signal (warm-up, a window that fitted nothing) opens nothing and closes
// nothing. Orders are kTargetFraction market orders; one is in flight per instrument at most.
#include <cmath>
#include <limits>

#include "strategies_internal.h"
#include "vigil/backtest/risk_controls.h"
#include "vigil/backtest/sizing.h"

namespace vigil::backtest_internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct MlThresholdParams {
  double enter = 0.6, exit = 0.5;
  double short_enter = std::numeric_limits<double>::quiet_NaN(), short_exit = 0.5;
  SizingOptions sizing;
  SignalGate gate;
};

class MlThreshold final : public Strategy {
 public:
  MlThreshold(MlThresholdParams params, std::span<const ModelSignals> signals)
      : params_(std::move(params)), signals_(signals) {}

  void OnBar(StrategyContext& context, size_t instrument) override {
    const MarketView& market = context.market();
    const double value = SignalAt(market, instrument);
    if (std::isnan(value) || context.has_pending(instrument)) return;
    const double held = context.position(instrument);
    if (held > 0.0 && value < params_.exit) context.Submit(OrderRequest::ClosePosition(instrument));
    if (held < 0.0 && value > params_.short_exit)
      context.Submit(OrderRequest::ClosePosition(instrument));
    if (held != 0.0) return;
    const double disagreement = DisagreementAt(instrument);
    const int64_t bar_ns = BarSpacing(market, instrument);
    if (value >= params_.enter && PassesGate(params_.gate, value, disagreement)) {
      const double f =
          TargetFraction(params_.sizing, {value, disagreement}, market.close(instrument), bar_ns);
      if (f > 0.0) context.Submit(OrderRequest::TargetFraction(instrument, f));
    } else if (value <= params_.short_enter &&
               PassesGate(params_.gate, 1.0 - value, disagreement)) {
      const double f = TargetFraction(params_.sizing, {1.0 - value, disagreement},
                                      market.close(instrument), bar_ns);
      if (f > 0.0) context.Submit(OrderRequest::TargetFraction(instrument, -f));
    }
  }

 private:
  // Per replayed instrument: its signals (or none) and the next row to look at.
  struct Cursor {
    const ModelSignals* signals = nullptr;
    size_t next = 0;
    size_t row = ModelSignals::npos;  // the row of the latest bar, npos when it has none
  };

  static int64_t BarSpacing(const MarketView& market, size_t instrument) {
    const std::span<const Timestamp> times = market.open_time(instrument);
    return times.size() < 2 ? 0 : times.back().nanos() - times[times.size() - 2].nanos();
  }

  Cursor& CursorOf(const MarketView& market, size_t instrument) {
    if (cursors_.size() < market.instruments()) {
      cursors_.resize(market.instruments());
      for (size_t i = 0; i < market.instruments(); ++i)
        for (const ModelSignals& signals : signals_)
          if (signals.instrument == market.instrument(i)) cursors_[i].signals = &signals;
    }
    return cursors_[instrument];
  }

  // The signal of the row stamped at the latest bar's open (rows are visited in time order,
  // so the cursor only moves forward).
  double SignalAt(const MarketView& market, size_t instrument) {
    Cursor& cursor = CursorOf(market, instrument);
    cursor.row = ModelSignals::npos;
    if (cursor.signals == nullptr) return std::numeric_limits<double>::quiet_NaN();
    const Timestamp opened = market.open_time(instrument).back();
    const std::vector<Timestamp>& times = cursor.signals->time;
    while (cursor.next < times.size() && times[cursor.next] < opened) ++cursor.next;
    if (cursor.next == times.size() || times[cursor.next] != opened)
      return std::numeric_limits<double>::quiet_NaN();
    cursor.row = cursor.next;
    return cursor.signals->value[cursor.row];
  }

  double DisagreementAt(size_t instrument) const {
    const Cursor& cursor = cursors_[instrument];
    return cursor.row == ModelSignals::npos ? 0.0 : cursor.signals->disagreement[cursor.row];
  }

  MlThresholdParams params_;
  std::span<const ModelSignals> signals_;
  std::vector<Cursor> cursors_;
};

Result<SizingOptions> SizingParams(const StrategyParams& params) {
  SizingOptions sizing;
  if (const auto it = params.find("sizing"); it != params.end()) {
    VIGIL_ASSIGN_OR_RETURN(sizing.method, ParseSizingMethod(it->second));
  }
  VIGIL_ASSIGN_OR_RETURN(sizing.max_leverage, DoubleParam(params, "leverage", 1.0, 1e-9, 1000.0));
  VIGIL_ASSIGN_OR_RETURN(sizing.fraction, DoubleParam(params, "fraction", 1.0, 1e-9, 1000.0));
  VIGIL_ASSIGN_OR_RETURN(sizing.kelly_multiplier,
                         DoubleParam(params, "kelly_multiplier", 1.0, 1e-9, 1.0));
  VIGIL_ASSIGN_OR_RETURN(sizing.kelly_cap, DoubleParam(params, "kelly_cap", 1.0, 1e-9, 1000.0));
  VIGIL_ASSIGN_OR_RETURN(sizing.payoff_ratio, DoubleParam(params, "payoff", 1.0, 1e-9, kInf));
  VIGIL_ASSIGN_OR_RETURN(sizing.target_volatility,
                         DoubleParam(params, "target_vol", 0.5, 1e-9, kInf));
  VIGIL_ASSIGN_OR_RETURN(sizing.volatility_window, IntParam(params, "vol_window", 20, 2));
  VIGIL_RETURN_IF_ERROR(sizing.Validate());
  return sizing;
}

}  // namespace

Result<std::unique_ptr<Strategy>> MakeMlThreshold(const StrategyParams& params,
                                                  const StrategyInputs& inputs) {
  VIGIL_RETURN_IF_ERROR(
      CheckKnownParams("ml_threshold", params,
                       {"enter", "exit", "short_enter", "short_exit", "sizing", "fraction",
                        "leverage", "kelly_multiplier", "kelly_cap", "payoff", "target_vol",
                        "vol_window", "min_confidence", "max_disagreement"}));
  if (inputs.signals.empty())
    return InvalidArgument(
        "ml_threshold: no model signals (walk-forward training or a registered "
        "model must come with it)");
  MlThresholdParams p;
  VIGIL_ASSIGN_OR_RETURN(p.enter, DoubleParam(params, "enter", 0.6, -kInf, kInf));
  VIGIL_ASSIGN_OR_RETURN(p.exit, DoubleParam(params, "exit", 0.5, -kInf, p.enter));
  VIGIL_ASSIGN_OR_RETURN(p.short_enter,
                         DoubleParam(params, "short_enter", std::nan(""), -kInf, p.enter));
  if (params.count("short_enter") == 0 && params.count("short_exit") != 0)
    return InvalidArgument("ml_threshold: short_exit needs short_enter");
  VIGIL_ASSIGN_OR_RETURN(p.short_exit, DoubleParam(params, "short_exit", 0.5, p.short_enter, kInf));
  VIGIL_ASSIGN_OR_RETURN(p.sizing, SizingParams(params));
  VIGIL_ASSIGN_OR_RETURN(p.gate.min_confidence,
                         DoubleParam(params, "min_confidence", 0.0, 0.0, 1.0));
  VIGIL_ASSIGN_OR_RETURN(p.gate.max_disagreement,
                         DoubleParam(params, "max_disagreement", kInf, 0.0, kInf));
  return std::unique_ptr<Strategy>(std::make_unique<MlThreshold>(std::move(p), inputs.signals));
}

}  // namespace vigil::backtest_internal
