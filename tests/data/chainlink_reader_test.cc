// Chainlink round CSV reader: scaling, uint80 round ids, invalid rounds, ordering.
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

constexpr const char* kBtcFile =
    "oracle/chainlink_BTC-USD_0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c.csv";

Outcome ParseText(std::string_view text, const std::string& source, int decimals = 8,
                  DataKind kind = DataKind::kOracle) {
  ReadOptions options;
  options.kind = kind;
  options.price_decimals = decimals;
  BatchSink sink(options, source);
  Outcome out;
  out.status = ReadChainlinkCsv(text, &sink);
  if (out.status.ok()) out.file = sink.Finish("chainlink");
  return out;
}

int64_t IsoNanos(const char* iso) { return Timestamp::ParseIso(iso)->nanos(); }

// The first two and the last two rows of the BTC/USD file, newest first as fetched.
constexpr const char* kBtcRows =
    ",round,answer,start,update,answeredInRound\n"
    "0,110680464442257320387,4306645100191,1706558135,1706558135,110680464442257320387\n"
    "1,110680464442257320386,4293991000000,1706554535,1706554535,110680464442257320386\n"
    "10690,110680464442257309697,2815711000000,1680734111,1680734111,110680464442257309697\n"
    "10691,110680464442257309696,0,0,0,110680464442257309696\n";

TEST(ChainlinkReaderTest, ScalesAnswersAndStoresOldestFirst) {
  Outcome out = ParseText(kBtcRows, kBtcFile);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.rows_read, 4);
  ASSERT_EQ(out.file.batches.size(), 1u);
  const RecordBatch& batch = out.file.batches[0];
  EXPECT_EQ(batch.series.instrument.ToString(), "chainlink:BTC/USD");
  ASSERT_EQ(batch.frame.rows(), 3);
  // Newest row: 4306645100191 / 10^8 = 43066.45100191 USD at 2024-01-29T19:55:35Z.
  EXPECT_EQ(batch.frame.timestamps()[2], IsoNanos("2024-01-29T19:55:35Z"));
  EXPECT_EQ(batch.frame.Doubles("price")[2], 43066.45100191);
  EXPECT_EQ(batch.lines[2], 2);
  // Oldest: 2815711000000 / 10^8 = 28157.11 at 2023-04-05T22:35:11Z (PROVENANCE.md).
  EXPECT_EQ(batch.frame.timestamps()[0], IsoNanos("2023-04-05T22:35:11Z"));
  EXPECT_EQ(batch.frame.Doubles("price")[0], 28157.11);
  EXPECT_EQ(batch.lines[0], 4);
  EXPECT_TRUE(std::isnan(batch.frame.Doubles("reference_price")[0]));
}

TEST(ChainlinkReaderTest, RoundIdIsTheAggregatorRound) {
  Outcome out = ParseText(kBtcRows, kBtcFile);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  // 110680464442257320387 = 6 * 2^64 + 10691 (2^64 = 18446744073709551616; phase 6).
  const auto rounds = out.file.batches[0].frame.Int64s("round_id");
  EXPECT_EQ(rounds[2], 10691);
  EXPECT_EQ(rounds[1], 10690);
  EXPECT_EQ(rounds[0], 1);
}

TEST(ChainlinkReaderTest, IncompleteFirstRoundOfAPhaseIsRejected) {
  Outcome out = ParseText(kBtcRows, kBtcFile);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.file.rejects.size(), 1u);
  const RejectedRow& reject = out.file.rejects[0];
  EXPECT_EQ(reject.line, 5);
  EXPECT_EQ(reject.field, "update");
  EXPECT_EQ(reject.instrument, "chainlink:BTC/USD");
  EXPECT_NE(reject.reason.find("update time 0"), std::string::npos);
}

TEST(ChainlinkReaderTest, ZeroAnswerWithATimeIsRejected) {
  const std::string text =
      ",round,answer,start,update,answeredInRound\n"
      "0,18446744073709572902,0,1706555999,1706555999,18446744073709572902\n";
  Outcome out = ParseText(text, "chainlink_ETH-BTC_0xAc.csv");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.file.rejects.size(), 1u);
  EXPECT_EQ(out.file.rejects[0].field, "answer");
  EXPECT_EQ(out.file.rows_valid(), 0);
}

TEST(ChainlinkReaderTest, NumberedHeaderAndEighteenDecimals) {
  // ETH/BTC uses the ",0,1,2,3,4" header; stETH/ETH answers have 18 decimals.
  const std::string text =
      ",0,1,2,3,4\n"
      "0,18446744073709552519,999692734093987600,1706484887,1706484887,18446744073709552519\n";
  Outcome out = ParseText(text, "chainlink_stETH-ETH_0x86.csv", 18);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.file.batches.size(), 1u);
  const Frame& frame = out.file.batches[0].frame;
  EXPECT_EQ(out.file.batches[0].series.instrument.symbol, "stETH/ETH");
  EXPECT_EQ(frame.Doubles("price")[0], 0.9996927340939876);
  // 18446744073709552519 - 2^64 = 903 (phase 1).
  EXPECT_EQ(frame.Int64s("round_id")[0], 903);
  EXPECT_EQ(frame.timestamps()[0], IsoNanos("2024-01-28T23:34:47Z"));
}

TEST(ChainlinkReaderTest, MalformedRowsAreRejectedNotFatal) {
  const std::string text =
      ",round,answer,start,update,answeredInRound\n"
      "0,12x,100,1706484887,1706484887,1\n"
      "1,1208925819614629174706176,100,1706484887,1706484887,1\n"  // 2^80: not a uint80
      "2,5,-100,1706484887,1706484887,5\n"
      "3,6,100\n"
      "4,7,250000000,1706484887,1706484887,7\n";
  Outcome out = ParseText(text, "chainlink_X-Y_0x1.csv");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.rows_read, 5);
  ASSERT_EQ(out.file.rejects.size(), 4u);
  EXPECT_EQ(out.file.rejects[0].field, "round");
  EXPECT_EQ(out.file.rejects[1].field, "round");
  EXPECT_EQ(out.file.rejects[2].field, "answer");
  EXPECT_EQ(out.file.rejects[3].line, 5);
  ASSERT_EQ(out.file.rows_valid(), 1);
  EXPECT_EQ(out.file.batches[0].frame.Doubles("price")[0], 2.5);
}

TEST(ChainlinkReaderTest, SameSecondRoundsAreBothKept) {
  // Lines 895-896 of the BTC/USD file: rounds 9798 and 9797 (phase 6) both updated at
  // 1704834779. The oracle key includes round_id, so both rounds are stored, ordered by
  // round within the second (the later round is the answer that stood at its end).
  const std::string text =
      ",round,answer,start,update,answeredInRound\n"
      "892,110680464442257319495,4787038000000,1704834935,1704834935,110680464442257319495\n"
      "893,110680464442257319494,4762817000000,1704834779,1704834779,110680464442257319494\n"
      "894,110680464442257319493,4724442019000,1704834779,1704834779,110680464442257319493\n";
  Outcome out = ParseText(text, kBtcFile);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.file.rows_valid(), 3);
  EXPECT_TRUE(out.file.rejects.empty());
  const RecordBatch& batch = out.file.batches[0];
  // ...319493 - 6 * 2^64 = 9797 and ...319494 -> 9798.
  EXPECT_EQ(batch.frame.Int64s("round_id")[0], 9797);
  EXPECT_EQ(batch.frame.Doubles("price")[0], 47244.42019);
  EXPECT_EQ(batch.lines[0], 4);
  EXPECT_EQ(batch.frame.Int64s("round_id")[1], 9798);
  EXPECT_EQ(batch.frame.Doubles("price")[1], 47628.17);
  EXPECT_EQ(batch.lines[1], 3);
}

TEST(ChainlinkReaderTest, WrongKindAndHeaderAreRefused) {
  EXPECT_EQ(ParseText(kBtcRows, kBtcFile, 8, DataKind::kCandles).status.code(),
            StatusCode::kInvalidArgument);
  Outcome header = ParseText("time,price\n1,2\n", kBtcFile);
  EXPECT_EQ(header.status.code(), StatusCode::kParseError);
  EXPECT_NE(header.status.message().find("line 1"), std::string::npos);
}

}  // namespace
}  // namespace vigil::data_internal
