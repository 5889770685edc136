// vigil simulate [--instruments N] [--days D] [--seed S] [--out DIR] [--ingest]
#include <filesystem>
#include <iostream>

#include "cli.h"
#include "vigil/data/simulator.h"
#include "vigil/store/ingest.h"

namespace vigil::cli {
namespace {

struct SimulateArgs {
  int instruments = 3;
  int days = 7;
  uint64_t seed = 42;
  std::string out;
  bool ingest = false;
};

// Ingests the simulator's CSV files (not events.csv) through the normal ingest path.
IngestReport IngestSimulation(Store& store, const std::vector<std::string>& files) {
  IngestReport all;
  for (const std::string& file : files) {
    auto kind = ParseDataKind(std::filesystem::path(file).stem().string());
    if (!kind.ok()) continue;  // events.csv holds labels, not market data
    IngestOptions options;
    options.read.kind = *kind;
    options.read.format = FileFormat::kCsv;
    if (*kind == DataKind::kCandles) options.read.timeframe = "1m";
    IngestReport one = IngestFiles(store, {file}, options);
    all.files.insert(all.files.end(), one.files.begin(), one.files.end());
  }
  return all;
}

int RunSimulate(const GlobalOptions& globals, const SimulateArgs& args) {
  SimulationOptions options;
  options.instruments = args.instruments;
  options.days = args.days;
  options.seed = args.seed;
  Status valid = ValidateSimulationOptions(options);
  if (!valid.ok()) return Fail(valid);
  std::string out =
      args.out.empty() ? (std::filesystem::path(globals.home) / "sim").string() : args.out;
  auto market = Simulate(options);
  if (!market.ok()) return Fail(market.status());
  std::vector<std::string> files;
  Status written = WriteSimulationCsv(*market, out, &files);
  if (!written.ok()) return Fail(written);

  nlohmann::ordered_json json = {{"out", out}, {"files", files}, {"events", market->events.size()}};
  int code = 0;
  if (args.ingest) {
    auto store = OpenHomeStore(globals);
    if (!store.ok()) return Fail(store.status());
    IngestReport report = IngestSimulation(**store, files);
    for (const FileIngestResult& file : report.files) {
      if (!file.status.ok()) std::cerr << "vigil: " << file.status.ToString() << "\n";
    }
    code = report.ExitCode();
    json["ingest"] = {{"rows_read", report.rows_read()},
                      {"rows_stored", report.rows_stored()},
                      {"rows_rejected", report.rows_rejected()},
                      {"instruments", report.instruments()}};
  }
  if (globals.json) {
    PrintJson(json);
  } else {
    std::cout << "simulated " << options.instruments << " instruments over " << options.days
              << " days (seed " << options.seed << "): " << market->events.size() << " incidents\n";
    for (const std::string& file : files) std::cout << "  wrote " << file << "\n";
    if (args.ingest) {
      std::cout << "ingested " << json["ingest"]["rows_stored"] << " rows into "
                << DatabaseUrl(globals) << " (" << json["ingest"]["rows_rejected"]
                << " rejected)\n";
    }
  }
  return code;
}

}  // namespace

void AddSimulateCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<SimulateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "simulate", "Generate a synthetic market with labelled incidents (deterministic per seed)");
  cmd->add_option("--instruments", args->instruments, "Number of instruments (1-50)")
      ->capture_default_str();
  cmd->add_option("--days", args->days, "Days of 1-minute data")->capture_default_str();
  cmd->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  cmd->add_option("--out", args->out, "Output directory (default <home>/sim)");
  cmd->add_flag("--ingest", args->ingest, "Also store the generated data");
  cmd->callback([&globals, args, exit_code] { *exit_code = RunSimulate(globals, *args); });
}

}  // namespace vigil::cli
