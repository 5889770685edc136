// Catalogue entries of the "micro" (order book, trades) and "liquidation" groups.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "catalogue_groups.h"
#include "vigil/features/micro.h"

namespace vigil::internal {
namespace {

using Kernel = Result<std::unique_ptr<EventKernel>>;

ParamInfo WindowParam(std::string default_text) {
  return {"window", ParamType::kDuration, std::move(default_text),
          "trailing time window (now - window, now], e.g. 30s, 5m, 1h"};
}

ParamInfo LevelsParam(std::string default_text) {
  return {"levels", ParamType::kInt, std::move(default_text), "book levels per side, best first", 1,
          1000};
}

FeatureInfo BookFeature(std::string name, std::vector<ParamInfo> params, std::string description,
                        std::function<Kernel(const ParamValues&)> make) {
  return {std::move(name),        "micro",        {DataKind::kOrderBook}, std::move(params),
          std::move(description), std::move(make)};
}

FeatureInfo LiquidationFeature(std::string name, std::vector<ParamInfo> params,
                               std::string description,
                               std::function<Kernel(const ParamValues&)> make) {
  return {std::move(name),   "liquidation",          {DataKind::kLiquidations},
          std::move(params), std::move(description), std::move(make)};
}

}  // namespace

void AppendMicroFeatures(std::vector<FeatureInfo>& out) {
  out.push_back(BookFeature("spread", {}, "best ask - best bid, and in basis points of the mid",
                            [](const ParamValues&) -> Kernel { return MakeSpread(); }));
  out.push_back(BookFeature("mid", {}, "mid price of the best bid and ask",
                            [](const ParamValues&) -> Kernel { return MakeMid(); }));
  out.push_back(BookFeature("microprice", {}, "best-level mid weighted by the opposite sizes",
                            [](const ParamValues&) -> Kernel { return MakeMicroprice(); }));
  out.push_back(BookFeature(
      "imbalance", {LevelsParam("5")}, "(bid size - ask size) / total over the top levels",
      [](const ParamValues& p) -> Kernel { return MakeBookImbalance(p.Int("levels")); }));
  out.push_back(BookFeature(
      "depth_pressure", {LevelsParam("10")},
      "notional imbalance over the top levels, level i weighted 1 / (1 + i)",
      [](const ParamValues& p) -> Kernel { return MakeDepthPressure(p.Int("levels")); }));
  out.push_back(BookFeature("ofi", {WindowParam("1m")},
                            "order-flow imbalance at the best level (Cont et al. 2014) over "
                            "the window",
                            [](const ParamValues& p) -> Kernel {
                              return MakeOrderFlowImbalance(p.DurationNs("window"));
                            }));
  out.push_back(
      {"trade_intensity",
       "micro",
       {DataKind::kTrades},
       {WindowParam("1m")},
       "trade count, volume and aggressor imbalance over the window",
       [](const ParamValues& p) -> Kernel { return MakeTradeIntensity(p.DurationNs("window")); }});
  out.push_back({"vpin",
                 "micro",
                 {DataKind::kTrades},
                 {{"buckets", ParamType::kInt, "50", "volume buckets averaged", 1, 10000},
                  {"bucket_volume", ParamType::kDouble, "0",
                   "base qty per bucket; 0 = half the qty of the first 100 trades", 0, 1e15}},
                 "volume-synchronised probability of informed trading (aggressor sides)",
                 [](const ParamValues& p) -> Kernel {
                   return MakeVpin(p.Int("buckets"), p.Double("bucket_volume"));
                 }});
}

void AppendLiquidationFeatures(std::vector<FeatureInfo>& out) {
  out.push_back(LiquidationFeature(
      "liq_count", {WindowParam("5m")}, "liquidations of longs, shorts and all in the window",
      [](const ParamValues& p) -> Kernel { return MakeLiquidationCount(p.DurationNs("window")); }));
  out.push_back(LiquidationFeature("liq_notional", {WindowParam("5m")},
                                   "liquidated notional of longs, shorts and all in the window",
                                   [](const ParamValues& p) -> Kernel {
                                     return MakeLiquidationNotional(p.DurationNs("window"));
                                   }));
  out.push_back(LiquidationFeature(
      "liq_cascade",
      {{"n", ParamType::kInt, "5", "liquidations that make a cascade", 1, 1e6}, WindowParam("1m")},
      "1 when at least n liquidations fall in the window, else 0",
      [](const ParamValues& p) -> Kernel {
        return MakeLiquidationCascade(p.Int("n"), p.DurationNs("window"));
      }));
  out.push_back(
      LiquidationFeature("liq_long_share", {WindowParam("1h")},
                         "long / (long + short) liquidated notional (unknown sides left out)",
                         [](const ParamValues& p) -> Kernel {
                           return MakeLiquidationLongShare(p.DurationNs("window"));
                         }));
}

}  // namespace vigil::internal
