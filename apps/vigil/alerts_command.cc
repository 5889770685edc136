// vigil alerts list [--since T] [--instrument I] [--limit N]
// vigil alerts report --incidents FILE [--grace DURATION] [--since T]
//
// `list` prints the stored alerts (the alerts table, written by `vigil run`) as CSV
// (ts,instrument,rule,severity,score,model,message), or one JSON object per alert with
// --json. `report` matches them against labelled incidents (the simulator's events.csv;
// serve/alert_report.h) and prints which incidents were caught, by which rule and how
// late, and how many alerts fell outside every incident window; --json prints the same as
// an object. Exit 0 on success, 2 on bad options, an unreadable incidents file or a store
// failure.
#include <iostream>
#include <memory>

#include "cli.h"
#include "detect_io.h"
#include "vigil/serve/alert_report.h"
#include "vigil/serve/webhook.h"

namespace vigil::cli {
namespace {

struct AlertsArgs {
  std::string since;
  std::string instrument;
  int64_t limit = 0;
  std::string incidents;
  std::string grace = "30m";
};

Result<std::vector<AlertRow>> StoredAlerts(const GlobalOptions& globals, const AlertsArgs& args) {
  AlertQuery query;
  VIGIL_ASSIGN_OR_RETURN(query.since, ParseTimeBound(args.since, Timestamp::Min()));
  query.instrument = args.instrument;
  query.limit = args.limit;
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenHomeStore(globals));
  return store->QueryAlerts(query);
}

void PrintAlertsCsv(const std::vector<AlertRow>& alerts) {
  std::cout << "ts,instrument,rule,severity,score,model,message\n";
  for (const AlertRow& alert : alerts) {
    std::cout << alert.ts.ToIso() << ',' << alert.instrument << ',' << alert.rule << ','
              << alert.severity << ',' << NumberText(alert.score) << ','
              << QuotedCsvField(alert.model_name) << ',' << QuotedCsvField(alert.message) << '\n';
  }
}

int RunList(const GlobalOptions& globals, const AlertsArgs& args) {
  Result<std::vector<AlertRow>> alerts = StoredAlerts(globals, args);
  if (!alerts.ok()) return Fail(alerts.status());
  if (!globals.json) {
    PrintAlertsCsv(*alerts);
    return 0;
  }
  for (const AlertRow& alert : *alerts) std::cout << AlertJson(alert).dump() << '\n';
  return 0;
}

nlohmann::ordered_json ReportJson(const AlertReport& report) {
  nlohmann::ordered_json incidents = nlohmann::ordered_json::array();
  for (const IncidentMatch& match : report.incidents) {
    nlohmann::ordered_json row = {{"type", match.incident.type},
                                  {"instrument", match.incident.instrument},
                                  {"start", match.incident.start.ToIso()},
                                  {"end", match.incident.end.ToIso()},
                                  {"alerts", match.alerts}};
    row["first_rule"] = match.first_alert ? nlohmann::ordered_json(match.first_alert->rule)
                                          : nlohmann::ordered_json(nullptr);
    row["delay_seconds"] = match.delay_ns ? nlohmann::ordered_json(*match.delay_ns / 1e9)
                                          : nlohmann::ordered_json(nullptr);
    incidents.push_back(std::move(row));
  }
  return {{"incidents", incidents},
          {"caught", report.caught()},
          {"alerts", report.alerts},
          {"false_alerts", report.false_alerts}};
}

int RunReport(const GlobalOptions& globals, const AlertsArgs& args) {
  Result<int64_t> grace = ParseDuration(args.grace);
  if (!grace.ok() || *grace < 0) {
    return Fail(InvalidArgument("--grace: not a duration: '" + args.grace + "'"));
  }
  Result<std::vector<SimulatedEvent>> incidents = ReadIncidentsCsv(args.incidents);
  if (!incidents.ok()) return Fail(incidents.status());
  Result<std::vector<AlertRow>> alerts = StoredAlerts(globals, args);
  if (!alerts.ok()) return Fail(alerts.status());
  const AlertReport report = MatchAlerts(*alerts, *incidents, {.grace_ns = *grace});
  if (globals.json) {
    PrintJson(ReportJson(report));
  } else {
    std::cout << AlertReportText(report);
  }
  return 0;
}

void AddFilterOptions(CLI::App* command, AlertsArgs& args) {
  command->add_option("--since", args.since, "Alerts at or after this time (ISO-8601 or epoch)");
  command->add_option("--instrument", args.instrument, "Only this instrument (venue:symbol)");
  command->fallthrough();
}

}  // namespace

void AddAlertsCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  CLI::App* alerts = app.add_subcommand("alerts", "Alerts raised by vigil run");
  alerts->require_subcommand(1);
  alerts->fallthrough();
  auto args = std::make_shared<AlertsArgs>();
  CLI::App* list = alerts->add_subcommand("list", "Print stored alerts");
  AddFilterOptions(list, *args);
  list->add_option("--limit", args->limit, "At most the newest N alerts (0 = all)")
      ->check(CLI::NonNegativeNumber);
  list->callback([&globals, args, exit_code] { *exit_code = RunList(globals, *args); });
  CLI::App* report =
      alerts->add_subcommand("report", "Match stored alerts against labelled incidents");
  AddFilterOptions(report, *args);
  report->add_option("--incidents", args->incidents, "Incidents CSV (the simulator's events.csv)")
      ->required();
  report->add_option("--grace", args->grace, "How long after an incident's end an alert counts")
      ->capture_default_str();
  report->callback([&globals, args, exit_code] { *exit_code = RunReport(globals, *args); });
}

}  // namespace vigil::cli
