// vigil ingest --kind K [--venue V --symbol S] [--timeframe TF] [--format F] FILE...
// Exit 0: every row stored; 3: some rows rejected (the rest stored); 2: a file stored
// nothing (unreadable or unparseable), the database unchanged by it.
#include <iostream>
#include <map>

#include "cli.h"
#include "progress_bar.h"
#include "vigil/store/ingest.h"

namespace vigil::cli {
namespace {

struct IngestArgs {
  std::string kind;
  std::string venue;
  std::string symbol;
  std::string timeframe;
  std::string format = "auto";
  std::string order = "sort";
  std::string time_unit = "auto";
  int decimals = 8;
  int depth = 10;
  std::vector<std::string> columns;  // canonical=file_column
  std::vector<std::string> files;
};

// Everything ingest needs from the arguments, validated.
Result<IngestOptions> BuildOptions(const IngestArgs& args) {
  IngestOptions options;
  ReadOptions& read = options.read;
  VIGIL_ASSIGN_OR_RETURN(read.kind, ParseDataKind(args.kind));
  VIGIL_ASSIGN_OR_RETURN(read.format, ParseFileFormat(args.format));
  VIGIL_ASSIGN_OR_RETURN(read.validation.order, ParseOrderPolicy(args.order));
  VIGIL_ASSIGN_OR_RETURN(read.time_unit, ParseTimeUnit(args.time_unit));
  read.venue = args.venue;
  read.symbol = args.symbol;
  read.timeframe = args.timeframe;
  read.price_decimals = args.decimals;
  read.book_depth = args.depth;
  for (const std::string& mapping : args.columns) {
    size_t eq = mapping.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == mapping.size()) {
      return InvalidArgument("--column '" + mapping + "': expected FIELD=COLUMN");
    }
    read.column_map[mapping.substr(0, eq)] = mapping.substr(eq + 1);
  }
  VIGIL_RETURN_IF_ERROR(ValidateReadOptions(read));
  return options;
}

void PrintText(const IngestReport& report) {
  constexpr size_t kShownRejects = 20;
  for (const FileIngestResult& file : report.files) {
    if (!file.status.ok()) {
      std::cerr << "vigil: " << file.status.ToString() << "\n";
      std::cout << file.path << ": nothing stored\n";
      continue;
    }
    std::cout << file.path << " (" << file.format << "): " << file.rows_read << " rows read, "
              << file.rows_stored << " stored (" << file.rows_inserted << " new), "
              << file.rows_rejected << " rejected\n";
    for (size_t i = 0; i < file.rejects.size() && i < kShownRejects; ++i) {
      std::cerr << "  rejected " << file.rejects[i].ToString() << "\n";
    }
    if (file.rejects.size() > kShownRejects) {
      std::cerr << "  ... " << file.rejects.size() - kShownRejects
                << " more rejected rows (see `vigil data rejects`)\n";
    }
    for (const SeriesReport& series : file.reports) {
      if (series.gaps > 0) {
        std::cout << "  " << series.series.ToString() << ": " << series.gaps << " missing bars\n";
      }
    }
  }
  if (report.files.size() > 1) {
    std::cout << "total: " << report.rows_read() << " rows read, " << report.rows_stored()
              << " stored, " << report.rows_rejected() << " rejected\n";
  }
}

int RunIngest(const GlobalOptions& globals, const IngestArgs& args) {
  Result<IngestOptions> options = BuildOptions(args);
  if (!options.ok()) return Fail(options.status());
  auto store = OpenHomeStore(globals);
  if (!store.ok()) return Fail(store.status());
  ProgressBar progress(!globals.json);
  options->progress = [&progress](const std::string& path, size_t done, size_t total) {
    progress.Update(path, done, total);
  };
  IngestReport report = IngestFiles(**store, args.files, *options);
  progress.Clear();
  if (globals.json) {
    for (const FileIngestResult& file : report.files) {
      if (!file.status.ok()) std::cerr << "vigil: " << file.status.ToString() << "\n";
      for (const RejectedRow& reject : file.rejects)
        std::cerr << "rejected " << reject.ToString() << "\n";
    }
    PrintJson({{"rows_read", report.rows_read()},
               {"rows_stored", report.rows_stored()},
               {"rows_rejected", report.rows_rejected()},
               {"instruments", report.instruments()}});
  } else {
    PrintText(report);
  }
  return report.ExitCode();
}

}  // namespace

void AddIngestCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<IngestArgs>();
  CLI::App* cmd = app.add_subcommand("ingest", "Validate and store market-data files");
  cmd->add_option("--kind", args->kind,
                  "candles|trades|orderbook|liquidations|funding|oracle|vault|protocol")
      ->required();
  cmd->add_option("--venue", args->venue, "Venue of the instrument (e.g. binance, hyperliquid)");
  cmd->add_option("--symbol", args->symbol, "Symbol of the instrument (e.g. BTC/USDT)");
  cmd->add_option("--timeframe", args->timeframe, "Candle timeframe (1m, 5m, 1h, 1d, ...)");
  cmd->add_option("--format", args->format,
                  "auto|csv|jsonl|freqtrade|binance|kraken|chainlink|defillama|binance-depth|"
                  "bybit-orderbook|hftbacktest|tardis-l2|hyperliquid-ws")
      ->capture_default_str();
  cmd->add_option("--order", args->order, "Out-of-order rows: sort|reject")->capture_default_str();
  cmd->add_option("--time-unit", args->time_unit, "Unit of numeric timestamps: auto|s|ms|us|ns")
      ->capture_default_str();
  cmd->add_option("--decimals", args->decimals, "Decimals of integer oracle answers")
      ->capture_default_str();
  cmd->add_option("--depth", args->depth, "Order-book levels kept per side")->capture_default_str();
  cmd->add_option("--column", args->columns, "Map a field to a file column: FIELD=COLUMN");
  cmd->add_option("FILE", args->files, "Files to ingest, in order")->required();
  cmd->callback([&globals, args, exit_code] { *exit_code = RunIngest(globals, *args); });
}

}  // namespace vigil::cli
