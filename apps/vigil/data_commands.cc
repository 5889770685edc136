// vigil data summary | export | rejects
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "vigil/store/export.h"

namespace vigil::cli {
namespace {

std::string TimeOrEmpty(const SeriesSummary& summary, Timestamp t) {
  return summary.rows > 0 ? t.ToIso() : "";
}

nlohmann::ordered_json SummaryJson(const std::vector<SeriesSummary>& summaries) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const SeriesSummary& s : summaries) {
    nlohmann::ordered_json item;
    item["instrument"] = s.series.instrument.ToString();
    item["kind"] = std::string(KindName(s.series.kind));
    item["timeframe"] = s.series.timeframe;
    item["first"] =
        s.rows > 0 ? nlohmann::ordered_json(s.first.ToIso()) : nlohmann::ordered_json(nullptr);
    item["last"] =
        s.rows > 0 ? nlohmann::ordered_json(s.last.ToIso()) : nlohmann::ordered_json(nullptr);
    item["rows"] = s.rows;
    item["gaps"] = s.gaps;
    item["rejects"] = s.rejects;
    list.push_back(std::move(item));
  }
  return list;
}

void PrintSummaryTable(const std::vector<SeriesSummary>& summaries) {
  std::printf("%-28s %-12s %-9s %-24s %-24s %10s %8s %8s\n", "INSTRUMENT", "KIND", "TIMEFRAME",
              "FIRST", "LAST", "ROWS", "GAPS", "REJECTS");
  for (const SeriesSummary& s : summaries) {
    std::printf("%-28s %-12s %-9s %-24s %-24s %10lld %8lld %8lld\n",
                s.series.instrument.ToString().c_str(),
                std::string(KindName(s.series.kind)).c_str(),
                s.series.timeframe.empty() ? "-" : s.series.timeframe.c_str(),
                TimeOrEmpty(s, s.first).c_str(), TimeOrEmpty(s, s.last).c_str(),
                static_cast<long long>(s.rows), static_cast<long long>(s.gaps),
                static_cast<long long>(s.rejects));
  }
  if (summaries.empty())
    std::printf("(no data stored yet: see `vigil ingest` and `vigil simulate`)\n");
}

int RunSummary(const GlobalOptions& globals) {
  auto store = OpenHomeStore(globals);
  if (!store.ok()) return Fail(store.status());
  auto summaries = (*store)->Summarize();
  if (!summaries.ok()) return Fail(summaries.status());
  if (globals.json) {
    PrintJson(SummaryJson(*summaries));
  } else {
    PrintSummaryTable(*summaries);
  }
  return 0;
}

struct ExportArgs {
  std::string kind;
  std::string instrument;
  std::string timeframe;
  std::string from;
  std::string to;
  std::string out;
};

int RunExport(const GlobalOptions& globals, const ExportArgs& args) {
  auto kind = ParseDataKind(args.kind);
  if (!kind.ok()) return Fail(kind.status());
  auto instrument = Instrument::Parse(args.instrument);
  if (!instrument.ok()) return Fail(instrument.status());
  auto from = ParseTimeBound(args.from, Timestamp::Min());
  if (!from.ok()) return Fail(from.status().WithContext("--from"));
  auto to = ParseTimeBound(args.to, Timestamp::Max());
  if (!to.ok()) return Fail(to.status().WithContext("--to"));
  auto store = OpenHomeStore(globals);
  if (!store.ok()) return Fail(store.status());
  auto series = ResolveSeries(**store, *instrument, *kind, args.timeframe);
  if (!series.ok()) return Fail(series.status());
  const bool to_stdout = args.out == "-";
  auto rows = ExportCsv(**store, *series, *from, *to, to_stdout ? "/dev/stdout" : args.out);
  if (!rows.ok()) return Fail(rows.status());
  if (to_stdout) return 0;
  if (globals.json) {
    PrintJson({{"rows", *rows}, {"out", args.out}, {"series", series->ToString()}});
  } else {
    std::cout << "exported " << *rows << " rows of " << series->ToString() << " to " << args.out
              << "\n";
  }
  return 0;
}

int RunRejects(const GlobalOptions& globals, const std::string& source, int64_t limit) {
  auto store = OpenHomeStore(globals);
  if (!store.ok()) return Fail(store.status());
  auto rejects = (*store)->Rejects(source, limit);
  if (!rejects.ok()) return Fail(rejects.status());
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const StoredReject& reject : *rejects) {
    const RejectedRow& row = reject.row;
    if (globals.json) {
      list.push_back({{"source", row.source},
                      {"line", row.line},
                      {"instrument", row.instrument},
                      {"kind", std::string(KindName(row.kind))},
                      {"field", row.field},
                      {"reason", row.reason},
                      {"recorded_at", reject.recorded_at.ToIso()}});
    } else {
      std::cout << row.ToString() << "\n";
    }
  }
  if (globals.json) PrintJson(list);
  return 0;
}

}  // namespace

void AddDataCommands(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  CLI::App* data = app.add_subcommand("data", "Inspect and export stored data");
  data->require_subcommand(1);

  CLI::App* summary =
      data->add_subcommand("summary", "Per instrument and kind: first, last, rows, gaps, rejects");
  summary->callback([&globals, exit_code] { *exit_code = RunSummary(globals); });

  auto args = std::make_shared<ExportArgs>();
  CLI::App* exp = data->add_subcommand("export", "Write one stored series to CSV");
  exp->add_option("--kind", args->kind, "Data kind")->required();
  exp->add_option("--instrument", args->instrument, "venue:symbol")->required();
  exp->add_option("--timeframe", args->timeframe, "Candle timeframe when several are stored");
  exp->add_option("--from", args->from, "First timestamp (inclusive, ISO-8601 or epoch)");
  exp->add_option("--to", args->to, "Last timestamp (exclusive)");
  exp->add_option("--out", args->out, "Output CSV file (- for stdout)")->required();
  exp->callback([&globals, args, exit_code] { *exit_code = RunExport(globals, *args); });

  auto source = std::make_shared<std::string>();
  auto limit = std::make_shared<int64_t>(100);
  CLI::App* rejects = data->add_subcommand("rejects", "List quarantined rows, newest first");
  rejects->add_option("--source", *source, "Only rows from this file");
  rejects->add_option("--limit", *limit, "At most this many rows")->capture_default_str();
  rejects->callback(
      [&globals, source, limit, exit_code] { *exit_code = RunRejects(globals, *source, *limit); });
}

}  // namespace vigil::cli
