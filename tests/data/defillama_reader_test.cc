// DeFiLlama /protocol JSON reader: the top-level tvl series as protocol TVL or vault
// equity.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "data/readers/format_readers.h"
#include "vigil/core/timestamp.h"

namespace vigil::data_internal {
namespace {

struct Outcome {
  Status status;
  ParsedFile file;
};

Outcome ParseText(std::string_view text, DataKind kind, std::string symbol = "") {
  ReadOptions options;
  options.kind = kind;
  options.symbol = std::move(symbol);
  BatchSink sink(options, "tvl/defillama_HLP.json");
  Outcome out;
  out.status = ReadDefiLlamaJson(text, &sink);
  if (out.status.ok()) out.file = sink.Finish("defillama");
  return out;
}

int64_t IsoNanos(const char* iso) { return Timestamp::ParseIso(iso)->nanos(); }

// Shaped like defillama_HLP.json: metadata, per-chain series (not read), the total.
constexpr const char* kHlp = R"({"id": "5507", "name": "Hyperliquid HLP",
  "chainTvls": {"Hyperliquid L1": {"tvl": [{"date": 1733011200, "totalLiquidityUSD": 1.0}]}},
  "tvl": [{"date": 1733011200, "totalLiquidityUSD": 158295217.03339},
          {"date": 1747051955, "totalLiquidityUSD": 263522404.96498}],
  "tokens": []})";

TEST(DefiLlamaReaderTest, ProtocolKindStoresTvl) {
  Outcome out = ParseText(kHlp, DataKind::kProtocol);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.file.batches.size(), 1u);
  const RecordBatch& batch = out.file.batches[0];
  // No "slug": derived from the name, lower case with '-' for spaces.
  EXPECT_EQ(batch.series.instrument.ToString(), "defillama:hyperliquid-hlp");
  ASSERT_EQ(batch.frame.rows(), 2);
  EXPECT_EQ(out.file.rows_read, 2);  // the chainTvls series is not read
  EXPECT_EQ(batch.frame.timestamps()[0], IsoNanos("2024-12-01T00:00:00Z"));
  EXPECT_EQ(batch.frame.timestamps()[1], IsoNanos("2025-05-12T12:12:35Z"));
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("tvl")[0], 158295217.03339);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("tvl")[1], 263522404.96498);
  EXPECT_TRUE(std::isnan(batch.frame.Doubles("price")[0]));
}

TEST(DefiLlamaReaderTest, VaultKindStoresEquity) {
  Outcome out = ParseText(kHlp, DataKind::kVault);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  const RecordBatch& batch = out.file.batches[0];
  EXPECT_EQ(batch.series.kind, DataKind::kVault);
  EXPECT_DOUBLE_EQ(batch.frame.Doubles("equity")[0], 158295217.03339);
  EXPECT_TRUE(std::isnan(batch.frame.Doubles("pnl")[0]));
}

TEST(DefiLlamaReaderTest, SlugFieldAndSymbolOptionWin) {
  const std::string with_slug =
      R"({"name": "Felix", "slug": "felix-cdp", "tvl": [{"date": 1744070400,
          "totalLiquidityUSD": 15412529.83502}]})";
  Outcome slug = ParseText(with_slug, DataKind::kProtocol);
  ASSERT_TRUE(slug.status.ok()) << slug.status.ToString();
  EXPECT_EQ(slug.file.batches[0].series.instrument.symbol, "felix-cdp");
  Outcome flag = ParseText(with_slug, DataKind::kProtocol, "FELIX");
  ASSERT_TRUE(flag.status.ok()) << flag.status.ToString();
  EXPECT_EQ(flag.file.batches[0].series.instrument.symbol, "FELIX");
}

TEST(DefiLlamaReaderTest, BadPointIsRejectedWithItsNumber) {
  const std::string text = R"({"name": "X", "tvl": [
    {"date": 1744070400, "totalLiquidityUSD": 1.5},
    {"date": "soon", "totalLiquidityUSD": 2.5},
    {"date": 1744243200},
    {"date": 1744329600, "totalLiquidityUSD": 3.5}]})";
  Outcome out = ParseText(text, DataKind::kProtocol);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.rows_read, 4);
  ASSERT_EQ(out.file.rejects.size(), 2u);
  EXPECT_EQ(out.file.rejects[0].line, 2);
  EXPECT_EQ(out.file.rejects[0].field, "date");
  EXPECT_EQ(out.file.rejects[1].line, 3);
  EXPECT_EQ(out.file.rejects[1].field, "totalLiquidityUSD");
  EXPECT_EQ(out.file.rows_valid(), 2);
}

TEST(DefiLlamaReaderTest, MalformedOrWrongKindFails) {
  EXPECT_EQ(ParseText(R"({"name": "X", "tvl": [)", DataKind::kProtocol).status.code(),
            StatusCode::kParseError);
  EXPECT_EQ(ParseText(R"({"name": "X"})", DataKind::kProtocol).status.code(),
            StatusCode::kParseError);
  EXPECT_EQ(ParseText(kHlp, DataKind::kCandles).status.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil::data_internal
