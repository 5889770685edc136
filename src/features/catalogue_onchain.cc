// Catalogue entries of the oracle, vault, funding, DeFi and cross-instrument groups; the
// kernels are in onchain_kernels.cc and cross_kernels.cc (contracts in onchain.h).
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "catalogue_groups.h"
#include "vigil/features/onchain.h"

namespace vigil::internal {
namespace {

using KernelResult = Result<std::unique_ptr<EventKernel>>;

ParamInfo Count(std::string name, std::string default_value, std::string description, double min) {
  ParamInfo param;
  param.name = std::move(name);
  param.type = ParamType::kInt;
  param.default_value = std::move(default_value);
  param.description = std::move(description);
  param.min = min;
  param.max = 1e6;
  return param;
}

ParamInfo Window(std::string default_value) {
  return Count("n", std::move(default_value), "window length in updates", 2);
}

ParamInfo Lag(std::string name = "k") { return Count(std::move(name), "1", "lag in updates", 1); }

ParamInfo Reference() {
  ParamInfo param;
  param.name = "reference";
  param.type = ParamType::kInstrument;
  param.description =
      "instrument whose latest candle close is the reference price (default: the oracle "
      "row's reference_price)";
  return param;
}

ParamInfo With() {
  ParamInfo param;
  param.name = "with";
  param.type = ParamType::kInstrument;
  param.description = "the other instrument (venue:symbol), whose candles are the second input";
  param.required = true;
  return param;
}

FeatureInfo Entry(std::string name, std::string group, DataKind kind, std::vector<ParamInfo> params,
                  std::string description, std::function<KernelResult(const ParamValues&)> make) {
  return FeatureInfo{std::move(name),   std::move(group),       {kind},
                     std::move(params), std::move(description), std::move(make)};
}

void AppendOracle(std::vector<FeatureInfo>& out) {
  out.push_back(Entry("oracle_dev", "oracle", DataKind::kOracle, {Reference()},
                      "oracle price / reference price - 1, as of the row",
                      [](const ParamValues& v) -> KernelResult {
                        return MakeOracleDeviation(v.Text("reference"));
                      }));
  out.push_back(Entry("oracle_dev_stats", "oracle", DataKind::kOracle, {Window("20"), Reference()},
                      "mean, sample sd and largest |deviation| over the last n oracle updates",
                      [](const ParamValues& v) -> KernelResult {
                        return MakeOracleDeviationStats(v.Int("n"), v.Text("reference"));
                      }));
  ParamInfo threshold = Count("threshold_bps", "50", "deviation threshold in basis points", 0);
  threshold.max = 1e4;
  out.push_back(Entry("oracle_dev_persist", "oracle", DataKind::kOracle, {threshold, Reference()},
                      "seconds the |deviation| has stayed above the threshold at every update",
                      [](const ParamValues& v) -> KernelResult {
                        return MakeOracleDeviationPersistence(v.Int("threshold_bps"),
                                                              v.Text("reference"));
                      }));
  out.push_back(Entry("oracle_dev_velocity", "oracle", DataKind::kOracle, {Reference()},
                      "change of the deviation per hour between the two latest oracle updates",
                      [](const ParamValues& v) -> KernelResult {
                        return MakeOracleDeviationVelocity(v.Text("reference"));
                      }));
}

void AppendVault(std::vector<FeatureInfo>& out) {
  out.push_back(
      Entry("vault_return", "vault", DataKind::kVault, {Lag()}, "equity / equity k updates ago - 1",
            [](const ParamValues& v) -> KernelResult { return MakeVaultReturn(v.Int("k")); }));
  out.push_back(
      Entry("vault_pnl_mom", "vault", DataKind::kVault, {Count("n", "24", "lag in updates", 1)},
            "pnl - pnl n updates ago",
            [](const ParamValues& v) -> KernelResult { return MakeVaultPnlMomentum(v.Int("n")); }));
  out.push_back(Entry("vault_drawdown", "vault", DataKind::kVault, {},
                      "equity / running maximum equity - 1",
                      [](const ParamValues&) -> KernelResult { return MakeVaultDrawdown(); }));
  out.push_back(
      Entry("vault_vol", "vault", DataKind::kVault, {Window("24")},
            "sample sd of the last n log equity returns",
            [](const ParamValues& v) -> KernelResult { return MakeVaultVol(v.Int("n")); }));
  out.push_back(
      Entry("vault_sharpe", "vault", DataKind::kVault, {Window("24")},
            "mean / sample sd of the last n log equity returns (per update)",
            [](const ParamValues& v) -> KernelResult { return MakeVaultSharpe(v.Int("n")); }));
  out.push_back(
      Entry("vault_pnl_z", "vault", DataKind::kVault, {Window("24")},
            "z-score of the latest pnl change against the last n changes",
            [](const ParamValues& v) -> KernelResult { return MakeVaultPnlZ(v.Int("n")); }));
}

void AppendFunding(std::vector<FeatureInfo>& out) {
  out.push_back(Entry("funding_rate", "funding", DataKind::kFunding, {}, "the latest funding rate",
                      [](const ParamValues&) -> KernelResult { return MakeFundingRate(); }));
  out.push_back(
      Entry("funding_z", "funding", DataKind::kFunding, {Window("21")},
            "z-score of the latest funding rate against the last n rates",
            [](const ParamValues& v) -> KernelResult { return MakeFundingZ(v.Int("n")); }));
  out.push_back(
      Entry("funding_change", "funding", DataKind::kFunding, {Lag()}, "rate - rate k updates ago",
            [](const ParamValues& v) -> KernelResult { return MakeFundingChange(v.Int("k")); }));
  out.push_back(Entry("funding_basis", "funding", DataKind::kFunding, {},
                      "mark price / index price - 1",
                      [](const ParamValues&) -> KernelResult { return MakeFundingBasis(); }));
}

void AppendDefi(std::vector<FeatureInfo>& out) {
  out.push_back(
      Entry("tvl_change", "defi", DataKind::kProtocol, {Lag()}, "tvl / tvl k updates ago - 1",
            [](const ParamValues& v) -> KernelResult { return MakeTvlChange(v.Int("k")); }));
  out.push_back(Entry("tvl_vol", "defi", DataKind::kProtocol, {Window("30")},
                      "sample sd of the last n log tvl changes",
                      [](const ParamValues& v) -> KernelResult { return MakeTvlVol(v.Int("n")); }));
  out.push_back(
      Entry("tvl_slope", "defi", DataKind::kProtocol, {Window("30")},
            "OLS slope of ln(tvl) against time in days over the last n updates",
            [](const ParamValues& v) -> KernelResult { return MakeTvlSlope(v.Int("n")); }));
  out.push_back(
      Entry("tvl_drawdown", "defi", DataKind::kProtocol,
            {Count("n", "90", "window length in updates", 1)},
            "tvl / maximum tvl of the last n updates - 1",
            [](const ParamValues& v) -> KernelResult { return MakeTvlDrawdown(v.Int("n")); }));
  out.push_back(Entry("liquidity_ratio", "defi", DataKind::kProtocol, {}, "volume / tvl",
                      [](const ParamValues&) -> KernelResult { return MakeLiquidityRatio(); }));
  out.push_back(Entry("mcap_tvl", "defi", DataKind::kProtocol, {}, "market cap / tvl",
                      [](const ParamValues&) -> KernelResult { return MakeMcapTvl(); }));
}

}  // namespace

void AppendOnchainFeatures(std::vector<FeatureInfo>& out) {
  AppendOracle(out);
  AppendVault(out);
  AppendFunding(out);
  AppendDefi(out);
}

void AppendCrossFeatures(std::vector<FeatureInfo>& out) {
  out.push_back(Entry("corr", "cross", DataKind::kCandles, {Window("30"), With()},
                      "rolling correlation of 1-row log returns with another instrument",
                      [](const ParamValues& v) -> KernelResult {
                        return MakeCorrelation(v.Int("n"), v.Text("with"));
                      }));
  out.push_back(Entry(
      "beta", "cross", DataKind::kCandles, {Window("30"), With()},
      "rolling beta of 1-row log returns on another instrument's",
      [](const ParamValues& v) -> KernelResult { return MakeBeta(v.Int("n"), v.Text("with")); }));
}

}  // namespace vigil::internal
