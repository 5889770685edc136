#include "vigil/features/feature_set.h"

#include "vigil/features/ta.h"

namespace vigil {
namespace {

// The `ta` contract: sma_20 ema_20 wma_20 rsi_14 macd(3) bb(4) tr atr_14 adx_14 stoch(3)
// obv logret_1 rv_20, with TTR's default parameters.
FeatureSet TaSet() {
  FeatureSet set;
  set.name = "ta";
  set.kernels.push_back(MakeSma(20));
  set.kernels.push_back(MakeEma(20));
  set.kernels.push_back(MakeWma(20));
  set.kernels.push_back(MakeRsi(14));
  set.kernels.push_back(MakeMacd(12, 26, 9));
  set.kernels.push_back(MakeBollinger(20, 2));
  set.kernels.push_back(MakeTrueRange());
  set.kernels.push_back(MakeAtr(14));
  set.kernels.push_back(MakeAdx(14));
  set.kernels.push_back(MakeStochastic(14, 3, 3));
  set.kernels.push_back(MakeObv());
  set.kernels.push_back(MakeLogReturn(1));
  set.kernels.push_back(MakeRealizedVol(20));
  return set;
}

}  // namespace

std::vector<std::string> FeatureSet::Columns() const {
  std::vector<std::string> columns;
  for (const auto& kernel : kernels) {
    columns.insert(columns.end(), kernel->output_names().begin(), kernel->output_names().end());
  }
  return columns;
}

std::vector<std::string> BuiltinFeatureSetNames() { return {"ta"}; }

Result<FeatureSet> BuiltinFeatureSet(std::string_view name) {
  if (name == "ta") return TaSet();
  std::string available;
  for (const std::string& known : BuiltinFeatureSetNames()) {
    available += (available.empty() ? "" : ", ") + known;
  }
  return NotFound("no built-in feature set '" + std::string(name) + "' (available: " + available +
                  ")");
}

}  // namespace vigil
