// Feature-set specs: which features to compute, declared in YAML, identified by a hash.
//
//   name: my_set
//   driver: candles        # optional: the kind whose events produce output rows
//                          # (default: the first feature's first input kind)
//   features:
//     - feature: sma                       # a catalogue name (catalogue.h)
//       params: {n: 20}                    # optional; defaults from the catalogue
//       timeframes: [5m, 1h]               # optional: candles resampled with bar-close
//                                          # semantics; columns get "_5m", "_1h"
//       instruments: [self, binance:ETH/USDT]  # optional (default [self]): computed on
//                                          # each listed instrument; `self` is the row's
//                                          # own, others are joined as of each row and
//                                          # their columns get "@binance:ETH/USDT"
//       shifts: [1, 5]                     # optional: lagged copies "<col>_lag1", ...
//     - feature: zscore
//       source: funding.rate               # optional, price/volume features only: run on
//                                          # one numeric field of any kind (its open =
//                                          # high = low = close); columns get "_rate"
//
// Column names: <output>[_<source field>][_<timeframe>][_lag<k>][@<instrument>], in spec order; for
// each entry: for each instrument, for each timeframe: the outputs, then for each shift the lagged
// outputs.
//
// The spec hash is a 64-bit prefix of SHA-256 over a canonical text of the resolved spec
// (feature names, every parameter including defaults, timeframes, instruments, shifts,
// driver, and the engine's definition version), so two specs that compute the same
// columns the same way share a hash whatever their YAML formatting or set name. Stored
// features are keyed by it (feature_store.feature_set_version).
//
// Thread-safety: pure functions; a spec is a value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/data/market_data.h"
#include "vigil/features/event_kernel.h"

namespace vigil {

// Bumped whenever a kernel's definition changes, so old stored features stop matching.
inline constexpr int kFeatureDefinitionVersion = 1;

struct FeatureEntry {
  std::string feature;                        // catalogue name
  std::map<std::string, std::string> params;  // resolved: every declared param, as text
  std::vector<std::string> timeframes;        // canonical ("5m", "1h"); empty = as is
  std::vector<std::string> outputs;           // the kernel's own output names
  std::vector<std::string> instruments;       // "" = the row's own; never empty
  std::vector<int> shifts;                    // each >= 1
  // "kind.field" for a price/volume feature run on another series (see above); "" = the
  // feature's own inputs (candles' close for price features).
  std::string source;
  int line = 0;  // YAML line, for messages
};

// The kernel of one entry before timeframes and shifts: the catalogue kernel, on its
// `source` field when one is given. Fails (InvalidArgument) on unknown features,
// parameters or sources.
Result<std::unique_ptr<EventKernel>> MakeEntryKernel(const FeatureEntry& entry);

struct FeatureSetSpec {
  std::string name;
  std::string source;  // file path or "builtin"
  DataKind driver = DataKind::kCandles;
  std::vector<FeatureEntry> entries;

  // Canonical text hashed by SpecHash (stable across releases for the same definitions).
  std::string CanonicalText() const;
  uint64_t SpecHash() const;
  std::string SpecHashHex() const;  // 16 lower-case hex digits
  // Every output column, in order (see the naming rule above).
  std::vector<std::string> Columns() const;
};

// Parses and validates a spec: unknown keys, unknown features, bad parameters, bad
// timeframes / instruments / shifts and duplicate column names fail with
// InvalidArgument "<source>:<line>: <key>: <problem>".
Result<FeatureSetSpec> ParseFeatureSetSpec(std::string_view yaml_text, std::string_view source);
Result<FeatureSetSpec> LoadFeatureSetSpec(const std::string& path);

// Built-in sets: ta, micro, liquidation, oracle, vault, funding, defi, default. They are
// YAML texts compiled into Vigil and parsed by ParseFeatureSetSpec like any other.
Result<FeatureSetSpec> BuiltinFeatureSet(std::string_view name);
std::vector<std::string> BuiltinFeatureSetNames();
// The YAML text of a built-in set (for `vigil features show`-style docs and tests).
Result<std::string> BuiltinFeatureSetYaml(std::string_view name);

}  // namespace vigil
