// `vigil ingest` and what `vigil data summary` / `data rejects` then show, on hand-made
// files (tests/testdata/cli, described in its README.md) and the Binance order-book pair.
// Built into cli_test (SQLite) and cli_pg_test (PostgreSQL): the output must not depend
// on the backend, so both compare with the same goldens.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "apps/cli_runner.h"

namespace vigil::cli_test {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitNothingStored = 2;
constexpr int kExitSomeRejected = 3;

std::vector<std::string> IngestCandles(const std::string& symbol, const std::string& file) {
  return {"--json", "ingest", "--kind", "candles", "--venue", "testex", "--symbol", symbol, file};
}

// The bad-rows file is ingested with an explicit timeframe: with 4 valid rows the most
// common spacing alone would be a weak basis for it.
std::vector<std::string> IngestBadCandles(const std::string& file) {
  return {"--json",   "ingest",  "--kind",      "candles", "--venue", "testex",
          "--symbol", "BAD/USD", "--timeframe", "1h",      file};
}

std::string SummaryJson(const CliSandbox& sandbox) {
  CliRun run = sandbox.Vigil({"--json", "data", "summary"});
  EXPECT_EQ(run.exit_code, 0) << run;
  return run.out;
}

std::string RejectsJson(const CliSandbox& sandbox) {
  CliRun run = sandbox.Vigil({"--json", "data", "rejects", "--limit", "1000"});
  EXPECT_EQ(run.exit_code, 0) << run;
  return run.out;
}

// `data rejects --json` without the wall-clock `recorded_at` (checked to be present),
// sorted by (source, line, field) so the comparison does not depend on insertion order.
nlohmann::ordered_json StableRejects(const std::string& text) {
  nlohmann::ordered_json rejects = ParseJson(text);
  if (!rejects.is_array()) {
    ADD_FAILURE() << "rejects are not a list: " << text;
    return nlohmann::ordered_json::array();
  }
  for (auto& reject : rejects) {
    EXPECT_TRUE(reject.contains("recorded_at") && reject["recorded_at"].is_string()) << reject;
    reject.erase("recorded_at");
  }
  std::sort(rejects.begin(), rejects.end(), [](const auto& a, const auto& b) {
    return std::tie(a["source"], a["line"], a["field"]) <
           std::tie(b["source"], b["line"], b["field"]);
  });
  return rejects;
}

// The summary entry of one series; fails the test (and returns null) when absent.
nlohmann::ordered_json FindSeries(const std::string& summary_json, const std::string& instrument,
                                  const std::string& kind) {
  for (const auto& entry : ParseJson(summary_json)) {
    if (entry["instrument"] == instrument && entry["kind"] == kind) return entry;
  }
  ADD_FAILURE() << "no " << instrument << " " << kind << " in the summary: " << summary_json;
  return nullptr;
}

TEST(CliIngestTest, CleanCandleFileMatchesTheGoldens) {
  CliSandbox sandbox;
  const std::string file = sandbox.CopyInput("good_candles.csv");
  CliRun ingest = sandbox.Vigil(IngestCandles("ABC/USD", file));
  EXPECT_EQ(ingest.exit_code, kExitOk) << ingest;
  EXPECT_EQ(ingest.out, ReadGolden("ingest_good_candles.json"));
  EXPECT_EQ(ingest.err.find("rejected"), std::string::npos) << ingest;

  EXPECT_EQ(SummaryJson(sandbox), ReadGolden("summary_good_candles.json"));
  CliRun table = sandbox.Vigil({"data", "summary"});
  EXPECT_EQ(table.exit_code, 0) << table;
  EXPECT_EQ(table.out, ReadGolden("summary_good_candles.txt"));
  EXPECT_EQ(RejectsJson(sandbox), "[]\n");
}

TEST(CliIngestTest, BadRowsAreRejectedByFileLineAndFieldAndTheRestStored) {
  CliSandbox sandbox;
  const std::string file = sandbox.CopyInput("bad_candles.csv");
  CliRun ingest = sandbox.Vigil(IngestBadCandles(file));
  EXPECT_EQ(ingest.exit_code, kExitSomeRejected) << ingest;
  EXPECT_EQ(ingest.out, ReadGolden("ingest_bad_candles.json"));

  // One stderr line per bad row naming file:line, the field and the reason (the golden
  // lists them; tests/testdata/cli/README.md says why each row is bad); none for the
  // good lines.
  const nlohmann::ordered_json golden = ParseJson(ReadGolden("rejects_bad_candles.json"));
  ASSERT_EQ(golden.size(), 5u);
  const std::vector<std::string> err_lines = SplitLines(ingest.err);
  for (const auto& reject : golden) {
    const std::string where = file + ":" + std::to_string(reject["line"].get<int>()) + ":";
    const std::string field = "'" + reject["field"].get<std::string>() + "'";
    const std::string reason = reject["reason"].get<std::string>();
    const bool named = std::any_of(err_lines.begin(), err_lines.end(), [&](const auto& line) {
      return line.find(where) != std::string::npos && line.find(field) != std::string::npos &&
             line.find(reason) != std::string::npos;
    });
    EXPECT_TRUE(named) << where << " " << field << " " << reason << "\n" << ingest;
  }
  for (int good_line : {2, 5, 9, 10}) {
    const std::string where = file + ":" + std::to_string(good_line) + ":";
    EXPECT_EQ(ingest.err.find(where), std::string::npos) << where << "\n" << ingest;
  }

  EXPECT_EQ(StableRejects(RejectsJson(sandbox)), golden);
  // The text listing: one "file:line: field 'F': reason" line per reject; --limit caps it.
  CliRun text = sandbox.Vigil({"data", "rejects"});
  EXPECT_EQ(text.exit_code, 0) << text;
  std::vector<std::string> listed = SplitLines(text.out);
  std::sort(listed.begin(), listed.end());
  std::vector<std::string> expected;
  for (const auto& reject : golden) {
    expected.push_back(file + ":" + std::to_string(reject["line"].get<int>()) + ": field '" +
                       reject["field"].get<std::string>() +
                       "': " + reject["reason"].get<std::string>());
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(listed, expected);
  CliRun limited = sandbox.Vigil({"data", "rejects", "--limit", "2"});
  EXPECT_EQ(SplitLines(limited.out).size(), 2u) << limited;

  // The 4 valid rows (lines 2, 5, 9, 10: 00:00, 03:00, 06:00, 07:00) are stored; at 1h
  // that leaves 01:00, 02:00, 04:00 and 05:00 missing.
  nlohmann::ordered_json series = FindSeries(SummaryJson(sandbox), "testex:BAD/USD", "candles");
  EXPECT_EQ(series["timeframe"], "1h");
  EXPECT_EQ(series["first"], "2024-03-01T00:00:00.000Z");
  EXPECT_EQ(series["last"], "2024-03-01T07:00:00.000Z");
  EXPECT_EQ(series["rows"], 4);
  EXPECT_EQ(series["gaps"], 4);
  EXPECT_EQ(series["rejects"], 5);
}

TEST(CliIngestTest, UnreadableFilesStoreNothingAndLeaveTheDatabaseUnchanged) {
  CliSandbox sandbox;
  const std::string good = sandbox.CopyInput("good_candles.csv");
  const std::string bad = sandbox.CopyInput("bad_candles.csv");
  const std::string garbage = sandbox.CopyInput("garbage.bin");
  const std::string prose = sandbox.CopyInput("not_market_data.txt");
  ASSERT_EQ(sandbox.Vigil(IngestCandles("ABC/USD", good)).exit_code, kExitOk);
  ASSERT_EQ(sandbox.Vigil(IngestBadCandles(bad)).exit_code, kExitSomeRejected);
  const std::string summary_before = SummaryJson(sandbox);
  const std::string rejects_before = RejectsJson(sandbox);
  ASSERT_NE(rejects_before, "[]\n");

  const std::string nothing =
      R"({"rows_read":0,"rows_stored":0,"rows_rejected":0,"instruments":[]})"
      "\n";
  struct Unusable {
    std::string file;
    std::string symbol;
    std::vector<std::string> extra;
  };
  const std::vector<Unusable> cases = {
      {garbage, "GAR/USD", {}},
      {garbage, "GAR/USD", {"--format", "csv"}},
      {"missing.csv", "GAR/USD", {}},
      {prose, "GAR/USD", {}},
      // Into the series that already holds rows: it must keep them as they are.
      {garbage, "ABC/USD", {}},
  };
  for (const Unusable& unusable : cases) {
    std::vector<std::string> args = IngestCandles(unusable.symbol, unusable.file);
    args.insert(args.end() - 1, unusable.extra.begin(), unusable.extra.end());
    CliRun run = sandbox.Vigil(args);
    EXPECT_EQ(run.exit_code, kExitNothingStored) << unusable.file << "\n" << run;
    EXPECT_EQ(run.out, nothing) << unusable.file;
    EXPECT_NE(run.err.find(unusable.file), std::string::npos) << unusable.file << "\n" << run;
    EXPECT_EQ(SummaryJson(sandbox), summary_before) << unusable.file;
    EXPECT_EQ(RejectsJson(sandbox), rejects_before) << unusable.file;
  }
}

// Each file of a call is its own transaction (include/vigil/store/ingest.h): an unusable
// file stores nothing and makes the exit code 2, while a good file beside it is stored.
TEST(CliIngestTest, UnusableFileAmongGoodOnesExitsTwoAndStoresOnlyTheGoodOne) {
  CliSandbox sandbox;
  const std::string garbage = sandbox.CopyInput("garbage.bin");
  const std::string good = sandbox.CopyInput("good_candles.csv");
  std::vector<std::string> both = IngestCandles("ABC/USD", garbage);
  both.push_back(good);
  CliRun run = sandbox.Vigil(both);
  EXPECT_EQ(run.exit_code, kExitNothingStored) << run;
  EXPECT_NE(run.err.find(garbage), std::string::npos) << run;
  EXPECT_EQ(run.out, ReadGolden("ingest_good_candles.json"));
  EXPECT_EQ(SummaryJson(sandbox), ReadGolden("summary_good_candles.json"));
}

TEST(CliIngestTest, TruncatedLastLineIsRejectedAsTruncated) {
  CliSandbox sandbox;
  const std::string file = sandbox.CopyInput("truncated_candles.csv");
  CliRun ingest = sandbox.Vigil(IngestCandles("TRU/USD", file));
  EXPECT_EQ(ingest.exit_code, kExitSomeRejected) << ingest;
  // 4 data lines, the 4th (file line 5) cut after "101.5,10": 3 stored, 1 rejected.
  EXPECT_EQ(ingest.out,
            R"({"rows_read":4,"rows_stored":3,"rows_rejected":1,"instruments":["testex:TRU/USD"]})"
            "\n");
  bool named = false;
  for (const std::string& line : SplitLines(ingest.err)) {
    named = named || (line.find(file + ":5:") != std::string::npos &&
                      line.find("truncated") != std::string::npos);
  }
  EXPECT_TRUE(named) << ingest;

  nlohmann::ordered_json rejects = StableRejects(RejectsJson(sandbox));
  ASSERT_EQ(rejects.size(), 1u) << rejects;
  EXPECT_EQ(rejects[0]["source"], file);
  EXPECT_EQ(rejects[0]["line"], 5);
  EXPECT_NE(rejects[0]["reason"].get<std::string>().find("truncated"), std::string::npos);

  nlohmann::ordered_json series = FindSeries(SummaryJson(sandbox), "testex:TRU/USD", "candles");
  EXPECT_EQ(series["rows"], 3);
  EXPECT_EQ(series["last"], "2024-03-01T02:00:00.000Z");
  EXPECT_EQ(series["rejects"], 1);
}

TEST(CliIngestTest, ReingestingAFileAddsNoDuplicates) {
  CliSandbox sandbox;
  const std::string good = sandbox.CopyInput("good_candles.csv");
  const std::string bad = sandbox.CopyInput("bad_candles.csv");
  CliRun good_first = sandbox.Vigil(IngestCandles("ABC/USD", good));
  CliRun bad_first = sandbox.Vigil(IngestBadCandles(bad));
  ASSERT_EQ(good_first.exit_code, kExitOk) << good_first;
  ASSERT_EQ(bad_first.exit_code, kExitSomeRejected) << bad_first;
  const std::string summary_once = SummaryJson(sandbox);
  const nlohmann::ordered_json rejects_once = StableRejects(RejectsJson(sandbox));
  ASSERT_EQ(rejects_once.size(), 5u) << rejects_once;

  for (int again = 0; again < 2; ++again) {
    CliRun good_again = sandbox.Vigil(IngestCandles("ABC/USD", good));
    CliRun bad_again = sandbox.Vigil(IngestBadCandles(bad));
    EXPECT_EQ(good_again.exit_code, good_first.exit_code) << good_again;
    EXPECT_EQ(good_again.out, good_first.out);
    EXPECT_EQ(bad_again.exit_code, bad_first.exit_code) << bad_again;
    EXPECT_EQ(bad_again.out, bad_first.out);
    EXPECT_EQ(SummaryJson(sandbox), summary_once) << "after re-ingest " << again + 1;
    EXPECT_EQ(StableRejects(RejectsJson(sandbox)), rejects_once) << "after re-ingest " << again + 1;
  }
}

// The snapshot file alone holds 100 bid levels (top 10 kept); the update file's 100 rows
// then build one book with 10 bids + 10 asks at its time (tests/data/real_data_test.cc).
// Both timestamps were converted by hand from the files' millisecond column:
// 1667346579146 -> 2022-11-01T23:49:39.146Z, 1667347199939 -> 2022-11-01T23:59:59.939Z.
TEST(CliIngestTest, BinanceDepthSnapshotAndUpdateInOneCall) {
  CliSandbox sandbox;
  CliRun ingest = sandbox.Vigil({"--json", "ingest", "--kind", "orderbook",
                                 SharedDataPath("orderbook/binance_btcusdt-depth-snap.csv"),
                                 SharedDataPath("orderbook/binance_btcusdt-depth-update.csv")});
  EXPECT_EQ(ingest.exit_code, kExitOk) << ingest;
  EXPECT_EQ(
      ingest.out,
      R"({"rows_read":200,"rows_stored":30,"rows_rejected":0,"instruments":["binance:BTCUSDT"]})"
      "\n");
  nlohmann::ordered_json book = FindSeries(SummaryJson(sandbox), "binance:BTCUSDT", "orderbook");
  EXPECT_EQ(book["rows"], 30);
  EXPECT_EQ(book["first"], "2022-11-01T23:49:39.146Z");
  EXPECT_EQ(book["last"], "2022-11-01T23:59:59.939Z");
  EXPECT_EQ(book["rejects"], 0);
}

// The control for the test above: without its snapshot the update file builds nothing.
TEST(CliIngestTest, BinanceDepthUpdateAloneStoresNoBook) {
  CliSandbox sandbox;
  CliRun ingest = sandbox.Vigil({"--json", "ingest", "--kind", "orderbook",
                                 SharedDataPath("orderbook/binance_btcusdt-depth-update.csv")});
  EXPECT_NE(ingest.exit_code, kExitOk) << ingest;
  nlohmann::ordered_json report = ParseJson(ingest.out);
  EXPECT_EQ(report["rows_read"], 100);
  EXPECT_EQ(report["rows_stored"], 0);
  EXPECT_EQ(report["rows_rejected"], 100);
}

}  // namespace
}  // namespace vigil::cli_test
