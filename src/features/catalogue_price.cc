// Catalogue entries of the "price" group: every candle kernel of ta.h and price.h, with
// TTR's default parameters, in listing order.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "catalogue_groups.h"
#include "vigil/features/price.h"
#include "vigil/features/ta.h"

namespace vigil::internal {
namespace {

// Upper bound of every period: far beyond any useful window, small enough that a window's
// buffer (8 bytes a bar) stays under a megabyte.
constexpr double kMaxPeriod = 100000;
// Upper bound of a Bollinger band multiplier (in standard deviations).
constexpr double kMaxBandWidth = 10;

ParamInfo IntParam(std::string name, int default_value, std::string description, double min = 1,
                   double max = kMaxPeriod) {
  ParamInfo param;
  param.name = std::move(name);
  param.type = ParamType::kInt;
  param.default_value = std::to_string(default_value);
  param.description = std::move(description);
  param.min = min;
  param.max = max;
  return param;
}

ParamInfo Bars(int default_value, double min = 1) {
  return IntParam("n", default_value, "window length in bars", min);
}

ParamInfo BandWidth() {
  return IntParam("k", 2, "band half-width in standard deviations", 1, kMaxBandWidth);
}

using BarKernelFactory = std::function<std::unique_ptr<FeatureKernel>(const ParamValues&)>;

FeatureInfo Entry(std::string name, std::string description, std::vector<ParamInfo> params,
                  BarKernelFactory make_bar_kernel) {
  FeatureInfo info;
  info.name = std::move(name);
  info.group = "price";
  info.kinds = {DataKind::kCandles};
  info.params = std::move(params);
  info.description = std::move(description);
  info.make = [make = std::move(make_bar_kernel)](
                  const ParamValues& values) -> Result<std::unique_ptr<EventKernel>> {
    return AdaptBarKernel(make(values));
  };
  return info;
}

// A feature with one window parameter `n`.
FeatureInfo Windowed(std::string name, std::string description, int default_n,
                     std::unique_ptr<FeatureKernel> (*make)(int), int min_n = 1) {
  return Entry(std::move(name), std::move(description), {Bars(default_n, min_n)},
               [make](const ParamValues& values) { return make(values.Int("n")); });
}

// A feature without parameters.
FeatureInfo Fixed(std::string name, std::string description,
                  std::unique_ptr<FeatureKernel> (*make)()) {
  return Entry(std::move(name), std::move(description), {},
               [make](const ParamValues&) { return make(); });
}

FeatureInfo Macd() {
  FeatureInfo info =
      Entry("macd", "MACD line, signal and histogram: EMA(fast) - EMA(slow) of the close",
            {IntParam("fast", 12, "fast EMA length in bars"),
             IntParam("slow", 26, "slow EMA length in bars"),
             IntParam("signal", 9, "signal EMA length in bars")},
            [](const ParamValues& values) {
              return MakeMacd(values.Int("fast"), values.Int("slow"), values.Int("signal"));
            });
  info.make = [make = std::move(info.make)](
                  const ParamValues& values) -> Result<std::unique_ptr<EventKernel>> {
    if (values.Int("fast") >= values.Int("slow")) {
      return InvalidArgument("feature 'macd': fast (" + std::to_string(values.Int("fast")) +
                             ") must be less than slow (" + std::to_string(values.Int("slow")) +
                             ")");
    }
    return make(values);
  };
  return info;
}

FeatureInfo Bollinger(std::string name, std::string description,
                      std::unique_ptr<FeatureKernel> (*make)(int, int)) {
  return Entry(
      std::move(name), std::move(description), {Bars(20), BandWidth()},
      [make](const ParamValues& values) { return make(values.Int("n"), values.Int("k")); });
}

FeatureInfo Stochastic() {
  return Entry("stoch", "stochastic oscillator fast %K, fast %D and slow %D in [0, 1]",
               {IntParam("fast_k", 14, "%K lookback in bars"),
                IntParam("fast_d", 3, "fast %D smoothing in bars"),
                IntParam("slow_d", 3, "slow %D smoothing in bars")},
               [](const ParamValues& values) {
                 return MakeStochastic(values.Int("fast_k"), values.Int("fast_d"),
                                       values.Int("slow_d"));
               });
}

FeatureInfo Lagged(std::string name, std::string description,
                   std::unique_ptr<FeatureKernel> (*make)(int)) {
  return Entry(std::move(name), std::move(description), {IntParam("k", 1, "lag in bars")},
               [make](const ParamValues& values) { return make(values.Int("k")); });
}

}  // namespace

void AppendPriceFeatures(std::vector<FeatureInfo>& out) {
  // Averages and oscillators on the close.
  out.push_back(Windowed("sma", "simple moving average of the close", 20, MakeSma));
  out.push_back(
      Windowed("ema", "exponential moving average of the close, SMA-seeded", 20, MakeEma));
  out.push_back(Windowed("wma", "linearly weighted moving average of the close", 20, MakeWma));
  out.push_back(Windowed("rsi", "Wilder's relative strength index, 0..100", 14, MakeRsi));
  out.push_back(Macd());
  out.push_back(Bollinger("bbands", "Bollinger bands (lower, mid, upper) and %B of the close",
                          MakeBollinger));
  out.push_back(
      Bollinger("bb_width", "Bollinger band width (upper - lower) / mid", MakeBollingerWidth));
  // Range, trend and volume.
  out.push_back(Fixed("tr", "Wilder's true range", MakeTrueRange));
  out.push_back(Windowed("atr", "average true range, Wilder smoothing", 14, MakeAtr));
  out.push_back(Windowed("adx", "Wilder's average directional index", 14, MakeAdx));
  out.push_back(
      Windowed("dmi", "Wilder's directional indicators +DI and -DI, 0..100", 14, MakeDmi));
  out.push_back(Stochastic());
  out.push_back(Fixed("obv", "on-balance volume", MakeObv));
  // Returns, volatility and the close within its window.
  out.push_back(Lagged("logret", "log return of the close over k bars", MakeLogReturn));
  out.push_back(Lagged("ret", "simple return of the close over k bars", MakeSimpleReturn));
  out.push_back(Windowed("rv", "realized volatility: sample sd of 1-bar log returns", 20,
                         MakeRealizedVol, 2));
  out.push_back(
      Windowed("rv_parkinson", "Parkinson high-low volatility per bar", 20, MakeParkinsonVol));
  out.push_back(Windowed("rv_gk", "Garman-Klass OHLC volatility per bar", 20, MakeGarmanKlassVol));
  out.push_back(Windowed("zscore", "z-score of the close against its window", 20, MakeZScore, 2));
  out.push_back(Windowed("min", "lowest close of the window", 20, MakeRollingMin));
  out.push_back(Windowed("max", "highest close of the window", 20, MakeRollingMax));
  out.push_back(Windowed("drawdown", "close / highest close of the window - 1", 20, MakeDrawdown));
  out.push_back(Windowed("sharpe", "mean / sd of 1-bar log returns (not annualised)", 20,
                         MakeRollingSharpe, 2));
  // Volume and momentum.
  out.push_back(Windowed("vwap", "volume-weighted average close of the window", 10, MakeVwap));
  out.push_back(Windowed("mfi", "money flow index, 0..100", 14, MakeMfi));
  out.push_back(Windowed("mom", "momentum: close - close n bars ago", 10, MakeMomentum));
  out.push_back(Windowed("vol_ma", "simple moving average of the volume", 20, MakeVolumeMa));
  out.push_back(Windowed("vol_ratio", "volume / its simple moving average", 20, MakeVolumeRatio));
  // Calendar.
  out.push_back(Fixed("time_of_day", "UTC time of day as sin/cos of a 24 h cycle", MakeTimeOfDay));
  out.push_back(
      Fixed("day_of_week", "UTC weekday (Monday = 0) as sin/cos of a 7-day cycle", MakeDayOfWeek));
}

}  // namespace vigil::internal
