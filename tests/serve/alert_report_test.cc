#include "vigil/serve/alert_report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace vigil {
namespace {

constexpr int64_t kMinute = 60 * int64_t{1'000'000'000};

Timestamp At(int64_t minutes) { return Timestamp(minutes * kMinute); }

AlertRow Alert(std::string instrument, int64_t minute, std::string rule = "r") {
  AlertRow alert;
  alert.rule = std::move(rule);
  alert.instrument = std::move(instrument);
  alert.ts = At(minute);
  alert.severity = "warning";
  alert.message = "m";
  return alert;
}

SimulatedEvent Incident(std::string instrument, int64_t start, int64_t end, std::string type) {
  return SimulatedEvent{At(start), At(end), std::move(instrument), std::move(type), 0.05};
}

TEST(AlertReportTest, MatchesByInstrumentAndWindowWithGrace) {
  const std::vector<SimulatedEvent> incidents = {Incident("sim:BTC", 100, 110, "flash_crash"),
                                                 Incident("sim:ETH", 200, 205, "oracle_deviation")};
  const std::vector<AlertRow> alerts = {
      Alert("sim:BTC", 99),            // before the start: false
      Alert("sim:BTC", 104, "late"),   // caught, delay 4m
      Alert("sim:BTC", 102, "early"),  // caught, delay 2m (the first)
      Alert("sim:ETH", 104),           // other instrument's window: false
      Alert("sim:BTC", 139),           // end + 29m < end + grace 30m: caught
      Alert("sim:BTC", 140),           // end + 30m: outside (half-open)
  };
  const AlertReport report = MatchAlerts(alerts, incidents, {.grace_ns = 30 * kMinute});
  ASSERT_EQ(report.incidents.size(), 2u);
  EXPECT_EQ(report.incidents[0].alerts, 3);
  ASSERT_TRUE(report.incidents[0].first_alert.has_value());
  EXPECT_EQ(report.incidents[0].first_alert->rule, "early");
  EXPECT_EQ(*report.incidents[0].delay_ns, 2 * kMinute);
  EXPECT_EQ(report.incidents[1].alerts, 0);
  EXPECT_FALSE(report.incidents[1].delay_ns.has_value());
  EXPECT_EQ(report.alerts, 6);
  EXPECT_EQ(report.false_alerts, 3);
  EXPECT_EQ(report.caught(), 1);
  EXPECT_DOUBLE_EQ(report.recall(), 0.5);
  const std::string text = AlertReportText(report);
  EXPECT_NE(text.find("caught 1 of 2 incidents; 6 alerts, 3 outside any incident window"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("early"), std::string::npos);
}

TEST(AlertReportTest, NoIncidentsGivesNanRecall) {
  const AlertReport report = MatchAlerts({}, {});
  EXPECT_TRUE(std::isnan(report.recall()));
  EXPECT_EQ(report.caught(), 0);
}

class IncidentsCsvTest : public ::testing::Test {
 protected:
  std::filesystem::path Write(const std::string& text) {
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() /
        ("vigil_incidents_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".csv");
    std::ofstream(path) << text;
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto& path : paths_) std::filesystem::remove(path);
  }
  std::vector<std::filesystem::path> paths_;
};

TEST_F(IncidentsCsvTest, ReadsWhatTheSimulatorWrites) {
  const auto path = Write(
      "start,end,instrument,type\n"
      "2024-01-01T01:00:00.000Z,2024-01-01T01:10:00.000Z,sim:BTC-PERP,flash_crash\n"
      "2024-01-02T00:00:00.000Z,2024-01-02T00:30:00.000Z,sim:HLP,vault_drawdown\r\n");
  Result<std::vector<SimulatedEvent>> incidents = ReadIncidentsCsv(path);
  ASSERT_TRUE(incidents.ok()) << incidents.status().ToString();
  ASSERT_EQ(incidents->size(), 2u);
  EXPECT_EQ((*incidents)[0].instrument, "sim:BTC-PERP");
  EXPECT_EQ((*incidents)[0].end.nanos() - (*incidents)[0].start.nanos(), 10 * kMinute);
  EXPECT_EQ((*incidents)[1].type, "vault_drawdown");
}

TEST_F(IncidentsCsvTest, ErrorsNameTheLineAndField) {
  const auto path = Write(
      "start,end,instrument,type\n"
      "2024-01-01T01:00:00.000Z,2024-01-01T01:10:00.000Z,sim:BTC-PERP,flash_crash\n"
      "2024-01-01T01:00:00.000Z,yesterday,sim:BTC-PERP,flash_crash\n");
  Result<std::vector<SimulatedEvent>> incidents = ReadIncidentsCsv(path);
  ASSERT_FALSE(incidents.ok());
  EXPECT_NE(incidents.status().message().find(path.string() + ":3: field 'end'"), std::string::npos)
      << incidents.status().ToString();
  EXPECT_FALSE(ReadIncidentsCsv(Write("a,b\n")).ok());
}

}  // namespace
}  // namespace vigil
