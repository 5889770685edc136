#include "vigil/serve/alert_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string_view>

#include "vigil/core/text_file.h"
#include "vigil/core/timestamp.h"

namespace vigil {
namespace {

std::vector<std::string_view> SplitCsvLine(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

Result<Timestamp> TimeField(std::string_view text, const std::string& where, const char* field) {
  Result<Timestamp> ts = Timestamp::ParseIso(text);
  if (!ts.ok()) {
    return Status(
        StatusCode::kParseError,
        where + ": field '" + field + "': not an ISO-8601 time: '" + std::string(text) + "'");
  }
  return ts;
}

Result<SimulatedEvent> ParseIncident(std::string_view line, const std::string& where) {
  const std::vector<std::string_view> fields = SplitCsvLine(line);
  if (fields.size() < 4) {
    return Status(StatusCode::kParseError, where + ": expected start,end,instrument,type; got " +
                                               std::to_string(fields.size()) + " fields");
  }
  SimulatedEvent event;
  VIGIL_ASSIGN_OR_RETURN(event.start, TimeField(fields[0], where, "start"));
  VIGIL_ASSIGN_OR_RETURN(event.end, TimeField(fields[1], where, "end"));
  if (event.end < event.start) {
    return Status(StatusCode::kDataError, where + ": field 'end': before start");
  }
  event.instrument = std::string(fields[2]);
  event.type = std::string(fields[3]);
  if (event.instrument.empty() || event.type.empty()) {
    return Status(StatusCode::kDataError,
                  where + ": field '" +
                      std::string(event.instrument.empty() ? "instrument" : "type") + "': empty");
  }
  return event;
}

bool Catches(const AlertRow& alert, const SimulatedEvent& incident, int64_t grace_ns) {
  return alert.instrument == incident.instrument && alert.ts >= incident.start &&
         alert.ts.nanos() < incident.end.nanos() + grace_ns;
}

std::string DelayText(const IncidentMatch& match) {
  if (!match.delay_ns) return "-";
  if (*match.delay_ns == 0) return "0s";  // FormatDuration(0) would read "0ns"
  return FormatDuration(*match.delay_ns);
}

}  // namespace

int64_t AlertReport::caught() const {
  return std::count_if(incidents.begin(), incidents.end(),
                       [](const IncidentMatch& m) { return m.alerts > 0; });
}

double AlertReport::recall() const {
  if (incidents.empty()) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(caught()) / static_cast<double>(incidents.size());
}

Result<std::vector<SimulatedEvent>> ReadIncidentsCsv(const std::filesystem::path& path) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path.string()));
  LineCursor cursor(text);
  std::string_view line;
  if (!cursor.Next(&line) || line.substr(0, 10) != "start,end,") {
    return Status(StatusCode::kParseError,
                  path.string() + ":1: expected the header start,end,instrument,type");
  }
  std::vector<SimulatedEvent> incidents;
  while (cursor.Next(&line)) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::string where = path.string() + ":" + std::to_string(cursor.line_number());
    VIGIL_ASSIGN_OR_RETURN(SimulatedEvent event, ParseIncident(line, where));
    incidents.push_back(std::move(event));
  }
  return incidents;
}

AlertReport MatchAlerts(std::span<const AlertRow> alerts, std::span<const SimulatedEvent> incidents,
                        const AlertMatchOptions& options) {
  AlertReport report;
  report.alerts = static_cast<int64_t>(alerts.size());
  for (const SimulatedEvent& incident : incidents) report.incidents.push_back({incident});
  for (const AlertRow& alert : alerts) {
    bool caught_any = false;
    for (IncidentMatch& match : report.incidents) {
      if (!Catches(alert, match.incident, options.grace_ns)) continue;
      caught_any = true;
      ++match.alerts;
      if (!match.first_alert || alert.ts < match.first_alert->ts) {
        match.first_alert = alert;
        match.delay_ns = alert.ts.nanos() - match.incident.start.nanos();
      }
    }
    if (!caught_any) ++report.false_alerts;
  }
  return report;
}

std::string AlertReportText(const AlertReport& report) {
  std::string out =
      "incident            instrument      start                     alerts  first rule"
      "                 delay\n";
  char line[256];
  for (const IncidentMatch& match : report.incidents) {
    const std::string rule = match.first_alert ? match.first_alert->rule : "-";
    std::snprintf(line, sizeof(line), "%-19s %-15s %-25s %6lld  %-26s %s\n",
                  match.incident.type.c_str(), match.incident.instrument.c_str(),
                  match.incident.start.ToIso().c_str(), static_cast<long long>(match.alerts),
                  rule.c_str(), DelayText(match).c_str());
    out += line;
  }
  std::snprintf(line, sizeof(line),
                "caught %lld of %zu incidents; %lld alerts, %lld outside any "
                "incident window\n",
                static_cast<long long>(report.caught()), report.incidents.size(),
                static_cast<long long>(report.alerts), static_cast<long long>(report.false_alerts));
  out += line;
  return out;
}

}  // namespace vigil
