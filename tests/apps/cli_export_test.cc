// `vigil data export`: the rows of a time window, checked row by row against the source
// file, and export -> ingest into a fresh store -> export reproducing the CSV byte for
// byte. Built into cli_test (SQLite) and cli_pg_test (PostgreSQL).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "apps/cli_runner.h"

namespace vigil::cli_test {
namespace {

// ETH_BTC-5m.csv (PROVENANCE.md: 5,760 bars 2018-01-10 04:55 to 2018-01-30 04:50, no
// missing bars). The window [2018-01-15, 2018-01-16) lies inside it, so it holds one
// full day of 5-minute bars: 24 * 12 = 288 rows, 00:00 to 23:55.
constexpr char kSource[] = "candles/ETH_BTC-5m.csv";
constexpr char kInstrument[] = "bittrex:ETH/BTC";
constexpr char kFrom[] = "2018-01-15";
constexpr char kTo[] = "2018-01-16";
constexpr char kDayPrefix[] = "2018-01-15T";
constexpr size_t kDayRows = 24 * 12;

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> cells;
  size_t start = 0;
  for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1) {
    cells.push_back(line.substr(start, comma - start));
  }
  cells.push_back(line.substr(start));
  return cells;
}

double ToDouble(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

CliRun Export(const CliSandbox& sandbox, const std::string& out) {
  return sandbox.Vigil({"--json", "data", "export", "--kind", "candles", "--instrument",
                        kInstrument, "--from", kFrom, "--to", kTo, "--out", out});
}

// The exported rows equal the source file's rows of that day: same timestamps, and
// numbers that read back to the same doubles (export writes shortest round-trip form,
// the source has long forms such as 0.09423000000000001).
void ExpectRowsMatchSource(const std::string& exported) {
  std::vector<std::string> source_rows;
  for (const std::string& line : SplitLines(ReadBytes(SharedDataPath(kSource)))) {
    if (line.starts_with(kDayPrefix)) source_rows.push_back(line);
  }
  ASSERT_EQ(source_rows.size(), kDayRows);
  const std::vector<std::string> lines = SplitLines(exported);
  ASSERT_EQ(lines.size(), kDayRows + 1) << exported.substr(0, 500);
  EXPECT_EQ(lines[0], "ts,instrument,open,high,low,close,volume,trades,quote_volume");
  for (size_t row = 0; row < kDayRows; ++row) {
    const std::vector<std::string> want = SplitCsv(source_rows[row]);  // date,o,h,l,c,v
    const std::vector<std::string> got = SplitCsv(lines[row + 1]);
    ASSERT_EQ(want.size(), 6u) << source_rows[row];
    ASSERT_EQ(got.size(), 9u) << lines[row + 1];
    EXPECT_EQ(got[0], want[0]) << "row " << row;
    EXPECT_EQ(got[1], kInstrument) << "row " << row;
    for (size_t field = 1; field < want.size(); ++field) {
      EXPECT_EQ(ToDouble(got[field + 1]), ToDouble(want[field]))
          << "row " << row << " field " << field << ": " << lines[row + 1];
    }
    EXPECT_EQ(got[7], "") << "no trade count in the source";
    EXPECT_EQ(got[8], "") << "no quote volume in the source";
  }
}

TEST(CliExportTest, WindowRoundTripsThroughAFreshStoreByteForByte) {
  CliSandbox first;
  CliRun ingest = first.Vigil(
      {"--json", "ingest", "--kind", "candles", "--venue", "bittrex", SharedDataPath(kSource)});
  ASSERT_EQ(ingest.exit_code, 0) << ingest;
  ASSERT_EQ(ParseJson(ingest.out)["rows_stored"], 5760);

  CliRun exported = Export(first, "eth_btc.csv");
  ASSERT_EQ(exported.exit_code, 0) << exported;
  nlohmann::ordered_json report = ParseJson(exported.out);
  EXPECT_EQ(report["rows"], kDayRows);
  EXPECT_EQ(report["out"], "eth_btc.csv");
  const std::string first_csv = ReadBytes(first.dir() / "eth_btc.csv");
  ExpectRowsMatchSource(first_csv);

  // The export names its instrument in a column, so no --venue is needed to read it back.
  CliSandbox second;
  CliRun reingest = second.Vigil(
      {"--json", "ingest", "--kind", "candles", (first.dir() / "eth_btc.csv").string()});
  EXPECT_EQ(reingest.exit_code, 0) << reingest;
  EXPECT_EQ(
      reingest.out,
      R"({"rows_read":288,"rows_stored":288,"rows_rejected":0,"instruments":["bittrex:ETH/BTC"]})"
      "\n");
  CliRun summary = second.Vigil({"--json", "data", "summary"});
  nlohmann::ordered_json series = ParseJson(summary.out);
  ASSERT_EQ(series.size(), 1u) << summary;
  EXPECT_EQ(series[0]["timeframe"], "5m");
  EXPECT_EQ(series[0]["first"], "2018-01-15T00:00:00.000Z");
  EXPECT_EQ(series[0]["last"], "2018-01-15T23:55:00.000Z");
  EXPECT_EQ(series[0]["gaps"], 0);

  CliRun again = Export(second, "eth_btc_again.csv");
  ASSERT_EQ(again.exit_code, 0) << again;
  EXPECT_EQ(ReadBytes(second.dir() / "eth_btc_again.csv"), first_csv);
}

TEST(CliExportTest, UnknownSeriesFailsWithoutWritingAFile) {
  CliSandbox sandbox;
  CliRun run = Export(sandbox, "nothing.csv");
  EXPECT_EQ(run.exit_code, 2) << run;
  EXPECT_NE(run.err.find(kInstrument), std::string::npos) << run;
  EXPECT_FALSE(std::filesystem::exists(sandbox.dir() / "nothing.csv"));
}

}  // namespace
}  // namespace vigil::cli_test
