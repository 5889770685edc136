// The built-in feature sets, as YAML parsed by the same code as user specs.
#include <array>
#include <string_view>

#include "vigil/features/spec.h"

namespace vigil {
namespace {

struct BuiltinSet {
  std::string_view name;
  std::string_view yaml;
};

// `ta`'s columns are a CLI contract: sma_20 ema_20 wma_20 rsi_14 macd(3) bb(4) tr atr_14
// adx_14 stoch(3) obv logret_1 rv_20, with R TTR's default parameters.
constexpr std::string_view kTa = R"(name: ta
description: classic indicators with R TTR's defaults
features:
  - feature: sma
  - feature: ema
  - feature: wma
  - feature: rsi
  - feature: macd
  - feature: bbands
  - feature: tr
  - feature: atr
  - feature: adx
  - feature: stoch
  - feature: obv
  - feature: logret
  - feature: rv
)";

constexpr std::string_view kMicro = R"(name: micro
description: order-book shape and trade flow, one row per book snapshot
driver: orderbook
features:
  - feature: spread
  - feature: mid
  - feature: microprice
  - feature: imbalance
    params: {levels: 1}
  - feature: imbalance
    params: {levels: 5}
  - feature: depth_pressure
  - feature: ofi
    params: {window: 10s}
  - feature: ofi
    params: {window: 1m}
  - feature: trade_intensity
    params: {window: 10s}
  - feature: trade_intensity
    params: {window: 1m}
  - feature: vpin
)";

constexpr std::string_view kLiquidation = R"(name: liquidation
description: forced-close flow by side, one row per liquidation
driver: liquidations
features:
  - feature: liq_count
    params: {window: 5m}
  - feature: liq_count
    params: {window: 1h}
  - feature: liq_notional
    params: {window: 5m}
  - feature: liq_notional
    params: {window: 1h}
  - feature: liq_cascade
  - feature: liq_long_share
)";

constexpr std::string_view kOracle = R"(name: oracle
description: oracle price against its reference price, one row per oracle update
driver: oracle
features:
  - feature: oracle_dev
  - feature: oracle_dev_stats
  - feature: oracle_dev_persist
  - feature: oracle_dev_velocity
)";

constexpr std::string_view kVault = R"(name: vault
description: vault equity and PnL dynamics, one row per vault update
driver: vault
features:
  - feature: vault_return
  - feature: vault_pnl_mom
  - feature: vault_drawdown
  - feature: vault_vol
  - feature: vault_sharpe
  - feature: vault_pnl_z
)";

constexpr std::string_view kFunding = R"(name: funding
description: perpetual funding level, surprise and basis, one row per settlement
driver: funding
features:
  - feature: funding_rate
  - feature: funding_z
  - feature: funding_change
  - feature: funding_basis
)";

constexpr std::string_view kDefi = R"(name: defi
description: protocol TVL dynamics and ratios, one row per protocol observation
driver: protocol
features:
  - feature: tvl_change
    params: {k: 1}
  - feature: tvl_change
    params: {k: 7}
  - feature: tvl_vol
  - feature: tvl_slope
  - feature: tvl_drawdown
  - feature: liquidity_ratio
  - feature: mcap_tvl
)";

// What the risk models use: price/volume state of each bar plus, as of the bar, the
// liquidation and funding state of the same instrument (NaN when those are not stored).
constexpr std::string_view kDefault = R"(name: default
description: the risk models' features, one row per candle
driver: candles
features:
  - feature: logret
    params: {k: 1}
  - feature: ret
    params: {k: 5}
  - feature: ret
    params: {k: 15}
  - feature: ret
    params: {k: 60}
  - feature: rv
    params: {n: 20}
  - feature: rv
    params: {n: 60}
  - feature: rv_parkinson
  - feature: rv_gk
  - feature: zscore
  - feature: drawdown
    params: {n: 60}
  - feature: sharpe
    params: {n: 60}
  - feature: rsi
  - feature: macd
  - feature: bbands
  - feature: bb_width
  - feature: atr
  - feature: adx
  - feature: mfi
  - feature: mom
    params: {n: 5}
  - feature: mom
    params: {n: 20}
  - feature: vol_ratio
  - feature: time_of_day
  - feature: day_of_week
  - feature: liq_count
    params: {window: 5m}
  - feature: liq_notional
    params: {window: 5m}
  - feature: liq_cascade
  - feature: funding_rate
  - feature: funding_z
)";

constexpr std::array<BuiltinSet, 8> kSets = {{{"ta", kTa},
                                              {"micro", kMicro},
                                              {"liquidation", kLiquidation},
                                              {"oracle", kOracle},
                                              {"vault", kVault},
                                              {"funding", kFunding},
                                              {"defi", kDefi},
                                              {"default", kDefault}}};

}  // namespace

std::vector<std::string> BuiltinFeatureSetNames() {
  std::vector<std::string> names;
  for (const BuiltinSet& set : kSets) names.emplace_back(set.name);
  return names;
}

Result<std::string> BuiltinFeatureSetYaml(std::string_view name) {
  for (const BuiltinSet& set : kSets) {
    if (set.name == name) return std::string(set.yaml);
  }
  std::string available;
  for (const BuiltinSet& set : kSets) {
    available += (available.empty() ? "" : ", ") + std::string(set.name);
  }
  return NotFound("no built-in feature set '" + std::string(name) + "' (available: " + available +
                  ")");
}

Result<FeatureSetSpec> BuiltinFeatureSet(std::string_view name) {
  VIGIL_ASSIGN_OR_RETURN(std::string yaml, BuiltinFeatureSetYaml(name));
  VIGIL_ASSIGN_OR_RETURN(FeatureSetSpec spec,
                         ParseFeatureSetSpec(yaml, "builtin:" + std::string(name)));
  spec.source = "builtin";
  return spec;
}

}  // namespace vigil
