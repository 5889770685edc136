// How well alerts caught known incidents: the simulator's injected incidents (ground truth,
// `events.csv`) matched against the alerts a live run raised.
//
//   VIGIL_ASSIGN_OR_RETURN(std::vector<vigil::SimulatedEvent> incidents,
//                          vigil::ReadIncidentsCsv("vigil-data/sim/events.csv"));
//   vigil::AlertReport report = vigil::MatchAlerts(alerts, incidents, {.grace_ns = 30 * kMinute});
//   std::cout << vigil::AlertReportText(report);
//
// Matching: an alert catches an incident when it is on the incident's instrument and its ts
// lies in [start, end + grace). The vault's incidents are on the vault itself ("sim:HLP"),
// so only alerts on the vault catch them. An alert catching no incident is a false alert
// (for a simulated market with labelled incidents: scores can be honestly high outside an
// injected window, e.g. in a natural crash, so this is an upper bound on false alerts).
// Delay: first catching alert's ts - incident start (>= 0).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/data/simulator.h"
#include "vigil/store/store.h"

namespace vigil {

struct AlertMatchOptions {
  int64_t grace_ns = 30 * 60 * int64_t{1'000'000'000};  // after the incident's end, >= 0
};

struct IncidentMatch {
  SimulatedEvent incident;
  int64_t alerts = 0;                   // alerts catching it
  std::optional<AlertRow> first_alert;  // the earliest of them
  std::optional<int64_t> delay_ns;      // first_alert->ts - incident.start
};

struct AlertReport {
  std::vector<IncidentMatch> incidents;  // in the incidents' order
  int64_t alerts = 0;                    // every alert considered
  int64_t false_alerts = 0;              // alerts catching no incident
  int64_t caught() const;                // incidents with at least one alert
  double recall() const;                 // caught / incidents (NaN without incidents)
};

// Reads events.csv ("start,end,instrument,type[,magnitude]"); errors name the file, line
// and field.
Result<std::vector<SimulatedEvent>> ReadIncidentsCsv(const std::filesystem::path& path);

AlertReport MatchAlerts(std::span<const AlertRow> alerts, std::span<const SimulatedEvent> incidents,
                        const AlertMatchOptions& options = {});

// A table: one line per incident (type, instrument, window, alerts, first rule, delay), then
// "caught K of N incidents; A alerts, F outside any incident window".
std::string AlertReportText(const AlertReport& report);

}  // namespace vigil
