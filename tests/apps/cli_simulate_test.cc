// `vigil simulate`: deterministic per seed, the documented files and events.csv header,
// and --ingest storing everything it generated without rejects.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "apps/cli_runner.h"

namespace vigil::cli_test {
namespace {

namespace fs = std::filesystem;

// The README: "writes candles.csv, funding.csv, oracle.csv, vault.csv, liquidations.csv,
// protocol.csv and events.csv (start,end,instrument,type)".
const std::set<std::string> kFiles = {"candles.csv",      "funding.csv",  "oracle.csv", "vault.csv",
                                      "liquidations.csv", "protocol.csv", "events.csv"};

// Small enough to run in well under a second: 2 instruments, 1 day of 1-minute bars.
std::vector<std::string> Simulate(const std::string& seed, const std::string& out) {
  return {"simulate", "--instruments", "2", "--days", "1", "--seed", seed, "--out", out};
}

std::set<std::string> FileNames(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

TEST(CliSimulateTest, SameSeedSameBytesOtherSeedOtherData) {
  CliSandbox sandbox("");
  for (const char* out : {"run_a", "run_b"}) {
    CliRun run = sandbox.Vigil(Simulate("7", out));
    ASSERT_EQ(run.exit_code, 0) << run;
  }
  CliRun other = sandbox.Vigil(Simulate("8", "run_c"));
  ASSERT_EQ(other.exit_code, 0) << other;

  ASSERT_EQ(FileNames(sandbox.dir() / "run_a"), kFiles);
  ASSERT_EQ(FileNames(sandbox.dir() / "run_b"), kFiles);
  ASSERT_EQ(FileNames(sandbox.dir() / "run_c"), kFiles);
  for (const std::string& name : kFiles) {
    const std::string a = ReadBytes(sandbox.dir() / "run_a" / name);
    EXPECT_FALSE(a.empty()) << name;
    EXPECT_EQ(a, ReadBytes(sandbox.dir() / "run_b" / name)) << name << " differs for one seed";
  }
  // Prices are a random walk from the seed, so another seed gives other bars.
  EXPECT_NE(ReadBytes(sandbox.dir() / "run_a" / "candles.csv"),
            ReadBytes(sandbox.dir() / "run_c" / "candles.csv"));
  // Simulating did not store anything (no --ingest).
  EXPECT_FALSE(fs::exists(sandbox.home() / "vigil.db"));
}

TEST(CliSimulateTest, EventsCsvHasTheDocumentedHeader) {
  CliSandbox sandbox("");
  CliRun run = sandbox.Vigil(Simulate("7", "sim"));
  ASSERT_EQ(run.exit_code, 0) << run;
  const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox.dir() / "sim/events.csv"));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "start,end,instrument,type");
  for (size_t row = 1; row < lines.size(); ++row) {
    EXPECT_EQ(std::count(lines[row].begin(), lines[row].end(), ','), 3) << lines[row];
  }
}

TEST(CliSimulateTest, IngestStoresTheSimulatedMarketWithoutRejects) {
  CliSandbox sandbox("");
  std::vector<std::string> args = {"--json"};
  const std::vector<std::string> simulate = Simulate("7", "sim");
  args.insert(args.end(), simulate.begin(), simulate.end());
  args.push_back("--ingest");
  CliRun run = sandbox.Vigil(args);
  ASSERT_EQ(run.exit_code, 0) << run;

  nlohmann::ordered_json report = ParseJson(run.out);
  std::vector<std::string> keys;
  for (const auto& [key, value] : report.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"out", "files", "events", "ingest"})) << run.out;
  EXPECT_EQ(report["out"], "sim");
  std::set<std::string> listed;
  for (const auto& file : report["files"]) {
    listed.insert(fs::path(file.get<std::string>()).filename());
  }
  EXPECT_EQ(listed, kFiles);
  const int64_t events = report["events"].get<int64_t>();
  EXPECT_EQ(events + 1,
            static_cast<int64_t>(SplitLines(ReadBytes(sandbox.dir() / "sim/events.csv")).size()));

  const nlohmann::ordered_json& ingest = report["ingest"];
  std::vector<std::string> ingest_keys;
  for (const auto& [key, value] : ingest.items()) ingest_keys.push_back(key);
  EXPECT_EQ(ingest_keys,
            (std::vector<std::string>{"rows_read", "rows_stored", "rows_rejected", "instruments"}));
  EXPECT_EQ(ingest["rows_rejected"], 0);
  EXPECT_EQ(ingest["rows_stored"], ingest["rows_read"]);
  EXPECT_GT(ingest["rows_stored"].get<int64_t>(), 0);

  CliRun summary_run = sandbox.Vigil({"--json", "data", "summary"});
  ASSERT_EQ(summary_run.exit_code, 0) << summary_run;
  std::set<std::string> stored_instruments;
  int64_t stored_rows = 0;
  for (const auto& entry : ParseJson(summary_run.out)) {
    stored_instruments.insert(entry["instrument"].get<std::string>());
    stored_rows += entry["rows"].get<int64_t>();
    EXPECT_EQ(entry["rejects"], 0) << entry;
  }
  EXPECT_EQ(stored_rows, ingest["rows_stored"].get<int64_t>());
  std::set<std::string> reported_instruments;
  for (const auto& name : ingest["instruments"]) reported_instruments.insert(name);
  EXPECT_EQ(stored_instruments, reported_instruments);
  // Every incident in events.csv is about an instrument that was stored.
  const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox.dir() / "sim/events.csv"));
  for (size_t row = 1; row < lines.size(); ++row) {
    const size_t third = lines[row].find(',', lines[row].find(',') + 1) + 1;
    const std::string instrument = lines[row].substr(third, lines[row].find(',', third) - third);
    EXPECT_TRUE(stored_instruments.count(instrument)) << lines[row];
  }
}

}  // namespace
}  // namespace vigil::cli_test
