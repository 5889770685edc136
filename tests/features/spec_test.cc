// Feature-set specs (spec.h) and the catalogue's parameter resolution (catalogue.h):
// parsing, every error message's place, the spec hash, column naming and the built-in
// sets.
#include "vigil/features/spec.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "vigil/features/catalogue.h"

namespace vigil {
namespace {

FeatureSetSpec Parse(const std::string& yaml) {
  auto spec = ParseFeatureSetSpec(yaml, "t.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString() << "\n" << yaml;
  return spec.ok() ? *spec : FeatureSetSpec{};
}

uint64_t HashOf(const std::string& yaml) { return Parse(yaml).SpecHash(); }

// Parsing `yaml` fails with InvalidArgument "t.yaml:<line>: <key>: <...problem...>".
void ExpectSpecError(const std::string& yaml, int line, const std::string& key,
                     const std::string& problem) {
  SCOPED_TRACE(yaml);
  auto spec = ParseFeatureSetSpec(yaml, "t.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = spec.status().message();
  const std::string prefix = "t.yaml:" + std::to_string(line) + ": " + key + ": ";
  EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
  EXPECT_NE(message.find(problem), std::string::npos) << message;
}

// --- parsing ---

constexpr char kFull[] = R"(name: mine
description: anything
driver: candles
features:
  - feature: sma
    params: {n: 5}
    timeframes: [60m, 5m]
    instruments: [self, binance:ETH/USDT]
    shifts: [1, 2]
  - feature: bbands
  - feature: liq_count
)";

TEST(SpecParseTest, ResolvesDefaultsTimeframesInstrumentsAndShifts) {
  const FeatureSetSpec spec = Parse(kFull);
  EXPECT_EQ(spec.name, "mine");
  EXPECT_EQ(spec.source, "t.yaml");
  EXPECT_EQ(spec.driver, DataKind::kCandles);
  ASSERT_EQ(spec.entries.size(), 3u);
  const FeatureEntry& sma = spec.entries[0];
  EXPECT_EQ(sma.feature, "sma");
  EXPECT_EQ(sma.params, (std::map<std::string, std::string>{{"n", "5"}}));
  EXPECT_EQ(sma.timeframes, (std::vector<std::string>{"1h", "5m"}));
  EXPECT_EQ(sma.instruments, (std::vector<std::string>{"", "binance:ETH/USDT"}));
  EXPECT_EQ(sma.shifts, (std::vector<int>{1, 2}));
  EXPECT_EQ(sma.outputs, (std::vector<std::string>{"sma_5"}));
  EXPECT_EQ(sma.line, 5);
  const FeatureEntry& bbands = spec.entries[1];
  EXPECT_EQ(bbands.params, (std::map<std::string, std::string>{{"k", "2"}, {"n", "20"}}));
  EXPECT_TRUE(bbands.timeframes.empty());
  EXPECT_EQ(bbands.instruments, (std::vector<std::string>{""}));
  EXPECT_TRUE(bbands.shifts.empty());
  EXPECT_EQ(bbands.outputs, (std::vector<std::string>{"bb_lower_20_2", "bb_mid_20_2",
                                                      "bb_upper_20_2", "bb_pctb_20_2"}));
  EXPECT_EQ(bbands.line, 10);
  const FeatureEntry& liq = spec.entries[2];
  EXPECT_EQ(liq.params, (std::map<std::string, std::string>{{"window", "5m"}}));
  EXPECT_EQ(liq.outputs,
            (std::vector<std::string>{"liq_count_long_5m", "liq_count_short_5m", "liq_count_5m"}));
}

TEST(SpecParseTest, DriverDefaultsToTheFirstFeaturesFirstKind) {
  EXPECT_EQ(Parse("name: s\nfeatures: [{feature: liq_count}, {feature: sma}]\n").driver,
            DataKind::kLiquidations);
  EXPECT_EQ(Parse("name: s\nfeatures: [{feature: sma}, {feature: liq_count}]\n").driver,
            DataKind::kCandles);
  EXPECT_EQ(Parse("name: s\ndriver: book\nfeatures: [{feature: spread}]\n").driver,
            DataKind::kOrderBook);
}

TEST(SpecParseTest, ScalarsStandForOneElementLists) {
  const FeatureSetSpec spec =
      Parse("name: s\nfeatures:\n  - feature: sma\n    timeframes: 15m\n    shifts: 3\n");
  ASSERT_EQ(spec.entries.size(), 1u);
  EXPECT_EQ(spec.entries[0].timeframes, (std::vector<std::string>{"15m"}));
  EXPECT_EQ(spec.entries[0].shifts, (std::vector<int>{3}));
}

// --- errors: "<source>:<line>: <key>: <problem>" ---

TEST(SpecErrorTest, UnknownTopLevelKey) {
  ExpectSpecError("name: s\nfeature:\n  - feature: sma\n", 2, "feature",
                  "unknown key (expected description, driver, features, name)");
}

TEST(SpecErrorTest, UnknownEntryKey) {
  ExpectSpecError("name: s\nfeatures:\n  - feature: sma\n    param: {n: 3}\n", 4,
                  "features[0].param", "unknown key");
}

TEST(SpecErrorTest, EntryNotAMapOrWithoutAFeatureName) {
  ExpectSpecError("name: s\nfeatures:\n  - sma\n", 3, "features[0]", "expected a map");
  ExpectSpecError("name: s\nfeatures:\n  - feature: sma\n  - params: {n: 2}\n", 4,
                  "features[1].feature", "missing feature name");
}

TEST(SpecErrorTest, UnknownFeature) {
  ExpectSpecError("name: s\nfeatures:\n  - feature: sma\n  - feature: smaa\n", 4,
                  "features[1].feature", "unknown feature 'smaa'");
}

TEST(SpecErrorTest, BadParameterValueTypeRangeOrName) {
  const auto with_params = [](const std::string& params) {
    return "name: s\nfeatures:\n  - feature: sma\n    params: " + params + "\n";
  };
  ExpectSpecError(with_params("{n: abc}"), 3, "features[0].params",
                  "feature 'sma': parameter 'n': expected an integer, got 'abc'");
  ExpectSpecError(with_params("{n: 2.5}"), 3, "features[0].params",
                  "parameter 'n': expected an integer, got '2.5'");
  ExpectSpecError(with_params("{n: 0}"), 3, "features[0].params",
                  "parameter 'n': expected an integer in [1, 100000], got '0'");
  ExpectSpecError(with_params("{m: 3}"), 3, "features[0].params",
                  "unknown parameter 'm' (expected n)");
  ExpectSpecError(with_params("{n: [1, 2]}"), 4, "features[0].params.n", "expected a single value");
  ExpectSpecError(with_params("[1, 2]"), 4, "features[0].params", "expected a map");
  ExpectSpecError("name: s\nfeatures:\n  - feature: ofi\n    params: {window: 5x}\n", 3,
                  "features[0].params", "parameter 'window': expected a duration");
  ExpectSpecError("name: s\nfeatures:\n  - feature: corr\n", 3, "features[0].params",
                  "parameter 'with' is required");
  // A constraint between parameters, checked when the kernel is built.
  ExpectSpecError("name: s\nfeatures:\n  - feature: macd\n    params: {fast: 30}\n", 3,
                  "features[0]", "fast (30) must be less than slow (26)");
}

TEST(SpecErrorTest, BadTimeframes) {
  ExpectSpecError("name: s\nfeatures:\n  - feature: sma\n    timeframes: [5m, 5x]\n", 4,
                  "features[0].timeframes", "'5x' is not a timeframe");
  ExpectSpecError("name: s\nfeatures:\n  - feature: sma\n    timeframes: [0m]\n", 4,
                  "features[0].timeframes", "'0m' is not a timeframe");
  ExpectSpecError("name: s\nfeatures:\n  - feature: sma\n    timeframes: {a: 1}\n", 4,
                  "features[0].timeframes", "expected a list");
}

TEST(SpecErrorTest, TimeframesOnAFeatureThatDoesNotReadOwnCandles) {
  ExpectSpecError(
      "name: s\nfeatures:\n  - feature: sma\n  - feature: liq_count\n    timeframes: [5m]\n", 5,
      "features[1].timeframes", "only features of an instrument's own candles take timeframes");
  // corr reads another instrument's candles too.
  ExpectSpecError(
      "name: s\nfeatures:\n  - feature: corr\n    params: {with: 'binance:ETH/USDT'}\n"
      "    timeframes: [1h]\n",
      5, "features[0].timeframes", "take timeframes");
}

TEST(SpecErrorTest, BadInstruments) {
  ExpectSpecError("name: s\nfeatures:\n  - feature: sma\n    instruments: [self, BTCUSDT]\n", 4,
                  "features[0].instruments", "");
  ExpectSpecError("name: s\nfeatures:\n  - feature: sma\n    instruments: ['Binance:BTC']\n", 4,
                  "features[0].instruments", "");
}

TEST(SpecErrorTest, BadShifts) {
  for (const char* shift : {"0", "-1", "1.5", "x", "1e3"}) {
    ExpectSpecError(
        std::string("name: s\nfeatures:\n  - feature: sma\n    shifts: [") + shift + "]\n", 4,
        "features[0].shifts", std::string("expected whole numbers >= 1, got '") + shift + "'");
  }
}

TEST(SpecErrorTest, DuplicateColumns) {
  ExpectSpecError("name: s\nfeatures:\n  - feature: sma\n  - feature: sma\n    params: {n: 20}\n",
                  3, "features", "column 'sma_20' is produced twice");
  // Through a shift: sma_5 lagged once collides with nothing, twice over the same entry does.
  ExpectSpecError("name: s\nfeatures:\n  - feature: sma\n    shifts: [1, 1]\n", 3, "features",
                  "column 'sma_20_lag1' is produced twice");
  ExpectSpecError("name: s\nfeatures:\n  - feature: sma\n    timeframes: [1h, 60m]\n", 3,
                  "features", "column 'sma_20_1h' is produced twice");
}

TEST(SpecErrorTest, EmptyOrMissingFeatures) {
  ExpectSpecError("name: s\nfeatures: []\n", 2, "features", "expected a non-empty list");
  ExpectSpecError("name: s\ndescription: nothing\n", 1, "features", "expected a non-empty list");
  ExpectSpecError("name: s\nfeatures: {feature: sma}\n", 2, "features",
                  "expected a non-empty list");
}

TEST(SpecErrorTest, MissingName) {
  ExpectSpecError("features:\n  - feature: sma\n", 1, "name", "a feature set needs a name");
  ExpectSpecError("name: ''\nfeatures:\n  - feature: sma\n", 1, "name", "needs a name");
}

TEST(SpecErrorTest, BadDriver) {
  ExpectSpecError("name: s\ndriver: sideways\nfeatures:\n  - feature: sma\n", 2, "driver", "");
}

TEST(SpecErrorTest, YamlSyntaxErrorNamesTheLine) {
  auto spec =
      ParseFeatureSetSpec("name: s\nfeatures:\n  - feature: sma\n    params: {n: 3\n", "t.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::regex_search(spec.status().message(), std::regex("^t\\.yaml:[1-9][0-9]*: .+")))
      << spec.status().message();
  auto tabs = ParseFeatureSetSpec("name: s\nfeatures:\n\t- feature: sma\n", "t.yaml");
  ASSERT_FALSE(tabs.ok());
  EXPECT_TRUE(std::regex_search(tabs.status().message(), std::regex("^t\\.yaml:[1-9][0-9]*: .+")))
      << tabs.status().message();
}

TEST(SpecErrorTest, NotAMapAtAll) {
  for (const char* text : {"", "just text\n", "- feature: sma\n"}) {
    auto spec = ParseFeatureSetSpec(text, "t.yaml");
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_EQ(spec.status().message().rfind("t.yaml", 0), 0u) << spec.status().message();
  }
}

// --- the spec hash ---

constexpr char kBase[] = R"(name: a
features:
  - feature: sma
  - feature: rsi
    params: {n: 14}
  - feature: ofi
)";

TEST(SpecHashTest, StableAcrossFormattingCommentsNameAndExplicitDefaults) {
  const uint64_t base = HashOf(kBase);
  // Flow style, comments, another name and description, defaults spelled out (in other
  // forms: "20.0" is the integer 20, "60s" is 1m), self and the driver made explicit.
  EXPECT_EQ(HashOf(R"(# the same set, written differently
name: completely_different   # the name is not part of the definition
description: whatever
driver: candles
features: [{feature: sma, params: {n: 20.0}, instruments: [self]},
           {feature: rsi},   # n defaults to 14
           {feature: ofi, params: {window: 60s}}]
)"),
            base);
  EXPECT_EQ(Parse(kBase).CanonicalText(),
            Parse("name: b\nfeatures: [{feature: sma}, {feature: rsi}, {feature: ofi}]\n")
                .CanonicalText());
}

TEST(SpecHashTest, ChangesWithEveryPartOfTheDefinition) {
  const uint64_t base = HashOf(kBase);
  const auto variant = [](const std::string& first_entry) {
    return "name: a\nfeatures:\n" + first_entry +
           "  - feature: rsi\n    params: {n: 14}\n  - feature: ofi\n";
  };
  EXPECT_EQ(HashOf(variant("  - feature: sma\n")), base);
  const std::set<uint64_t> hashes = {
      base,
      HashOf(variant("  - feature: sma\n    params: {n: 21}\n")),
      HashOf(variant("  - feature: sma\n    timeframes: [5m]\n")),
      HashOf(variant("  - feature: sma\n    timeframes: [1h]\n")),
      HashOf(variant("  - feature: sma\n    shifts: [1]\n")),
      HashOf(variant("  - feature: sma\n    shifts: [2]\n")),
      HashOf(variant("  - feature: sma\n    instruments: [self, binance:ETH/USDT]\n")),
      HashOf(variant("  - feature: ema\n")),
      HashOf("name: a\ndriver: orderbook\nfeatures:\n  - feature: sma\n  - feature: rsi\n"
             "  - feature: ofi\n"),
      // Order matters: it is the column order.
      HashOf("name: a\nfeatures:\n  - feature: rsi\n  - feature: sma\n  - feature: ofi\n"),
  };
  EXPECT_EQ(hashes.size(), 10u);
}

TEST(SpecHashTest, CanonicalTextCarriesTheDefinitionVersion) {
  const std::string text = Parse(kBase).CanonicalText();
  EXPECT_EQ(text.rfind("vigil-feature-set/" + std::to_string(kFeatureDefinitionVersion) + "\n", 0),
            0u)
      << text;
  EXPECT_NE(text.find("driver=candles"), std::string::npos) << text;
  EXPECT_NE(text.find("feature=sma;params=n=20;"), std::string::npos) << text;
}

TEST(SpecHashTest, HexIsSixteenLowerCaseDigitsOfTheHash) {
  for (const std::string& name : BuiltinFeatureSetNames()) {
    auto spec = BuiltinFeatureSet(name);
    ASSERT_TRUE(spec.ok()) << name;
    const std::string hex = spec->SpecHashHex();
    EXPECT_TRUE(std::regex_match(hex, std::regex("[0-9a-f]{16}"))) << hex;
    EXPECT_EQ(std::stoull(hex, nullptr, 16), spec->SpecHash());
  }
}

TEST(SpecHashTest, TaSetHashIsGolden) {
  // Stored features are keyed by this hash. If this fails, a definition (catalogue
  // defaults, canonical text, the ta set) changed: bump kFeatureDefinitionVersion when
  // kernels compute differently, then update the golden value.
  auto ta = BuiltinFeatureSet("ta");
  ASSERT_TRUE(ta.ok()) << ta.status().ToString();
  EXPECT_EQ(ta->SpecHashHex(), "15e44e0254ee965f") << ta->CanonicalText();
}

// --- columns ---

TEST(SpecColumnsTest, NamingRuleIsOutputTimeframeLagInstrument) {
  const FeatureSetSpec spec = Parse(R"(name: s
features:
  - feature: sma
    params: {n: 5}
    timeframes: [5m, 1h]
    instruments: [self, binance:ETH/USDT]
    shifts: [1, 3]
  - feature: macd
    shifts: [2]
  - feature: liq_count
    instruments: [hyperliquid:BTC]
)");
  const std::vector<std::string> want = {
      "sma_5_5m",
      "sma_5_5m_lag1",
      "sma_5_5m_lag3",
      "sma_5_1h",
      "sma_5_1h_lag1",
      "sma_5_1h_lag3",
      "sma_5_5m@binance:ETH/USDT",
      "sma_5_5m_lag1@binance:ETH/USDT",
      "sma_5_5m_lag3@binance:ETH/USDT",
      "sma_5_1h@binance:ETH/USDT",
      "sma_5_1h_lag1@binance:ETH/USDT",
      "sma_5_1h_lag3@binance:ETH/USDT",
      "macd_12_26_9",
      "macd_signal_12_26_9",
      "macd_hist_12_26_9",
      "macd_12_26_9_lag2",
      "macd_signal_12_26_9_lag2",
      "macd_hist_12_26_9_lag2",
      "liq_count_long_5m@hyperliquid:BTC",
      "liq_count_short_5m@hyperliquid:BTC",
      "liq_count_5m@hyperliquid:BTC",
  };
  EXPECT_EQ(spec.Columns(), want);
}

// --- built-in sets ---

TEST(SpecBuiltinTest, NamesAreTheDocumentedSets) {
  EXPECT_EQ(BuiltinFeatureSetNames(),
            (std::vector<std::string>{"ta", "micro", "liquidation", "oracle", "vault", "funding",
                                      "defi", "default"}));
}

TEST(SpecBuiltinTest, EverySetParsesWithUniqueColumnsAndItsDriver) {
  const std::map<std::string, DataKind> drivers = {{"ta", DataKind::kCandles},
                                                   {"micro", DataKind::kOrderBook},
                                                   {"liquidation", DataKind::kLiquidations},
                                                   {"oracle", DataKind::kOracle},
                                                   {"vault", DataKind::kVault},
                                                   {"funding", DataKind::kFunding},
                                                   {"defi", DataKind::kProtocol},
                                                   {"default", DataKind::kCandles}};
  for (const std::string& name : BuiltinFeatureSetNames()) {
    SCOPED_TRACE(name);
    auto spec = BuiltinFeatureSet(name);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    EXPECT_EQ(spec->name, name);
    EXPECT_EQ(spec->source, "builtin");
    EXPECT_EQ(spec->driver, drivers.at(name));
    const std::vector<std::string> columns = spec->Columns();
    EXPECT_FALSE(columns.empty());
    EXPECT_EQ(std::set<std::string>(columns.begin(), columns.end()).size(), columns.size());
    // The YAML text parses to the same definition.
    auto yaml = BuiltinFeatureSetYaml(name);
    ASSERT_TRUE(yaml.ok());
    EXPECT_EQ(Parse(*yaml).SpecHash(), spec->SpecHash());
  }
  // Different sets compute different things.
  std::set<uint64_t> hashes;
  for (const std::string& name : BuiltinFeatureSetNames())
    hashes.insert(BuiltinFeatureSet(name)->SpecHash());
  EXPECT_EQ(hashes.size(), BuiltinFeatureSetNames().size());
}

TEST(SpecBuiltinTest, TaColumnsAreTheContract) {
  auto ta = BuiltinFeatureSet("ta");
  ASSERT_TRUE(ta.ok()) << ta.status().ToString();
  const std::vector<std::string> contract = {"sma_20",
                                             "ema_20",
                                             "wma_20",
                                             "rsi_14",
                                             "macd_12_26_9",
                                             "macd_signal_12_26_9",
                                             "macd_hist_12_26_9",
                                             "bb_lower_20_2",
                                             "bb_mid_20_2",
                                             "bb_upper_20_2",
                                             "bb_pctb_20_2",
                                             "tr",
                                             "atr_14",
                                             "adx_14",
                                             "stoch_fastk_14_3_3",
                                             "stoch_fastd_14_3_3",
                                             "stoch_slowd_14_3_3",
                                             "obv",
                                             "logret_1",
                                             "rv_20"};
  EXPECT_EQ(ta->Columns(), contract);
}

TEST(SpecBuiltinTest, UnknownSetListsTheAvailableOnes) {
  auto missing = BuiltinFeatureSet("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
  EXPECT_NE(missing.status().message().find(
                "available: ta, micro, liquidation, oracle, vault, funding, defi, default"),
            std::string::npos)
      << missing.status().message();
  EXPECT_FALSE(BuiltinFeatureSetYaml("nope").ok());
}

// --- files ---

TEST(SpecFileTest, LoadsAFileAndNamesItInErrors) {
  const std::string path = ::testing::TempDir() + "/vigil_spec_test.yaml";
  {
    std::ofstream out(path);
    out << kFull;
  }
  auto spec = LoadFeatureSetSpec(path);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->source, path);
  EXPECT_EQ(spec->SpecHash(), Parse(kFull).SpecHash());
  {
    std::ofstream out(path);
    out << "name: s\nfeatures:\n  - feature: nope\n";
  }
  auto bad = LoadFeatureSetSpec(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(path + ":3: features[0].feature: ", 0), 0u)
      << bad.status().message();
  std::remove(path.c_str());
}

TEST(SpecFileTest, MissingFileFailsNamingThePath) {
  const std::string path = ::testing::TempDir() + "/vigil_no_such_spec.yaml";
  auto spec = LoadFeatureSetSpec(path);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find(path), std::string::npos) << spec.status().message();
}

// --- catalogue parameter resolution ---

const FeatureInfo& Feature(std::string_view name) {
  const FeatureInfo* info = FindFeature(name);
  EXPECT_NE(info, nullptr) << name;
  static const FeatureInfo kNone;
  return info != nullptr ? *info : kNone;
}

std::string ResolveError(std::string_view feature,
                         const std::map<std::string, std::string>& given) {
  auto values = Feature(feature).Resolve(given);
  EXPECT_FALSE(values.ok()) << feature;
  return values.ok() ? "" : values.status().message();
}

TEST(SpecCatalogueTest, ResolveNamesTheExpectedParametersOfAnUnknownOne) {
  EXPECT_EQ(ResolveError("macd", {{"fsat", "3"}}),
            "feature 'macd': unknown parameter 'fsat' (expected fast, slow, signal)");
  EXPECT_EQ(ResolveError("tr", {{"n", "3"}}),
            "feature 'tr': unknown parameter 'n' (it takes none)");
}

TEST(SpecCatalogueTest, ResolveChecksRequiredTypesAndRanges) {
  EXPECT_EQ(ResolveError("corr", {}), "feature 'corr': parameter 'with' is required");
  EXPECT_NE(ResolveError("sma", {{"n", "2.5"}}).find("expected an integer"), std::string::npos);
  EXPECT_NE(ResolveError("sma", {{"n", "1e400"}}).find("expected an integer"), std::string::npos);
  EXPECT_NE(ResolveError("vpin", {{"bucket_volume", "x"}}).find("expected a number"),
            std::string::npos);
  EXPECT_NE(ResolveError("vpin", {{"bucket_volume", "-1"}}).find("in [0, "), std::string::npos);
  EXPECT_NE(ResolveError("corr", {{"with", "nocolon"}}).find("parameter 'with'"),
            std::string::npos);
  // An int parameter accepts a whole number written as a double; a double takes fractions.
  auto sma = Feature("sma").Resolve({{"n", "20.0"}});
  ASSERT_TRUE(sma.ok());
  EXPECT_EQ(sma->Int("n"), 20);
  EXPECT_EQ(sma->canonical(), std::vector<std::string>{"n=20"});
  auto vpin = Feature("vpin").Resolve({{"bucket_volume", "2.50"}});
  ASSERT_TRUE(vpin.ok());
  EXPECT_EQ(vpin->Double("bucket_volume"), 2.5);
  EXPECT_EQ(vpin->canonical(), (std::vector<std::string>{"buckets=50", "bucket_volume=2.5"}));
}

TEST(SpecCatalogueTest, DurationsAndInstrumentsResolveToCanonicalForms) {
  auto ofi = Feature("ofi").Resolve({{"window", "60s"}});
  ASSERT_TRUE(ofi.ok());
  EXPECT_EQ(ofi->DurationNs("window"), 60'000'000'000);
  EXPECT_EQ(ofi->canonical(), std::vector<std::string>{"window=1m"});
  EXPECT_EQ(Feature("ofi").Resolve({{"window", "120m"}})->canonical(),
            std::vector<std::string>{"window=2h"});
  EXPECT_NE(ResolveError("ofi", {{"window", "0s"}}).find("expected a duration"), std::string::npos);
  EXPECT_NE(ResolveError("ofi", {{"window", "-5m"}}).find("expected a duration"),
            std::string::npos);
  auto corr = Feature("corr").Resolve({{"with", "binance:ETH/USDT"}});
  ASSERT_TRUE(corr.ok());
  EXPECT_EQ(corr->Text("with"), "binance:ETH/USDT");
  EXPECT_EQ(corr->canonical(), (std::vector<std::string>{"n=30", "with=binance:ETH/USDT"}));
  // An optional instrument may stay empty.
  auto oracle = Feature("oracle_dev").Resolve({});
  ASSERT_TRUE(oracle.ok());
  EXPECT_EQ(oracle->Text("reference"), "");
}

TEST(SpecCatalogueTest, EveryEntryIsWellFormedAndBuildsFromItsDefaults) {
  const std::set<std::string> groups = {"price", "micro",   "liquidation", "oracle",
                                        "vault", "funding", "defi",        "cross"};
  std::set<std::string> names;
  ASSERT_FALSE(FeatureCatalogue().empty());
  for (const FeatureInfo& info : FeatureCatalogue()) {
    SCOPED_TRACE(info.name);
    EXPECT_TRUE(names.insert(info.name).second) << "listed twice";
    EXPECT_EQ(groups.count(info.group), 1u) << info.group;
    EXPECT_FALSE(info.description.empty());
    ASSERT_FALSE(info.kinds.empty());
    EXPECT_EQ(FindFeature(info.name), &info);
    std::map<std::string, std::string> given;
    for (const ParamInfo& param : info.params) {
      EXPECT_FALSE(param.description.empty()) << param.name;
      if (param.required) given[param.name] = "binance:ETH/USDT";
    }
    auto values = info.Resolve(given);
    ASSERT_TRUE(values.ok()) << values.status().ToString();
    EXPECT_EQ(values->canonical().size(), info.params.size());
    auto kernel = info.make(*values);
    ASSERT_TRUE(kernel.ok()) << kernel.status().ToString();
    const auto& outputs = (*kernel)->output_names();
    EXPECT_FALSE(outputs.empty());
    EXPECT_EQ(std::set<std::string>(outputs.begin(), outputs.end()).size(), outputs.size());
    ASSERT_FALSE((*kernel)->inputs().empty());
    EXPECT_EQ((*kernel)->inputs()[0].kind, info.kinds[0]);
    EXPECT_TRUE((*kernel)->inputs()[0].instrument.empty());
  }
  EXPECT_EQ(FindFeature("no_such_feature"), nullptr);
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

Result<FeatureSetSpec> ParseSource(const std::string& entry_lines) {
  return ParseFeatureSetSpec("name: s\nfeatures:\n  - feature: zscore\n" + entry_lines, "s.yaml");
}

TEST(SpecSourceTest, SourceNamesAKindAndANumericField) {
  auto rate = ParseSource("    source: funding.rate\n");
  ASSERT_TRUE(rate.ok()) << rate.status().ToString();
  EXPECT_EQ(rate->entries[0].source, "funding.rate");
  EXPECT_EQ(rate->Columns(), (std::vector<std::string>{"zscore_20_rate"}));
  EXPECT_EQ(rate->driver, DataKind::kFunding);
  // The kind alone takes its first numeric field; candles.close is the default.
  auto kind_only = ParseSource("    source: funding\n");
  ASSERT_TRUE(kind_only.ok());
  EXPECT_EQ(kind_only->SpecHash(), rate->SpecHash());
  auto close = ParseSource("    source: candles.close\n");
  auto plain = ParseSource("");
  ASSERT_TRUE(close.ok() && plain.ok());
  EXPECT_EQ(close->SpecHash(), plain->SpecHash());
  EXPECT_EQ(close->Columns(), (std::vector<std::string>{"zscore_20"}));
  EXPECT_NE(rate->SpecHash(), plain->SpecHash());
  auto tvl = ParseSource("    source: protocol.tvl\n");
  ASSERT_TRUE(tvl.ok());
  EXPECT_EQ(tvl->Columns(), (std::vector<std::string>{"zscore_20_tvl"}));
}

TEST(SpecSourceTest, BadSourcesAreNamedWithTheirLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"    source: funding.nope\n", "s.yaml:4: features[0].source: 'nope' is not a numeric field"},
      {"    source: bogus\n", "s.yaml:4: features[0].source:"},
      {"    source: funding.rate\n    timeframes: [1h]\n", "features[0].timeframes"},
  };
  for (const auto& [lines, message] : cases) {
    auto spec = ParseSource(lines);
    ASSERT_FALSE(spec.ok()) << lines;
    EXPECT_NE(spec.status().message().find(message), std::string::npos) << spec.status().message();
  }
  auto micro = ParseFeatureSetSpec(
      "name: s\nfeatures:\n  - feature: spread\n    source: trades.price\n", "s.yaml");
  ASSERT_FALSE(micro.ok());
  EXPECT_NE(micro.status().message().find("only price/volume features take a source"),
            std::string::npos)
      << micro.status().message();
}

}  // namespace
}  // namespace vigil
