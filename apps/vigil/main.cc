// vigil: the command-line entry point. Parses arguments and hands each subcommand to the
// libraries; no logic of its own. Exit codes: 0 success, 2 usage error or nothing done,
// 3 partial success (e.g. some ingested rows rejected).
#include <exception>
#include <iostream>
#include <string>

#include "cli.h"
#include "vigil/core/logging.h"
#include "vigil/core/version.h"
#ifdef VIGIL_WITH_TORCH
#include "vigil/models/neural/autoencoder.h"
#endif

namespace {

int Run(int argc, char** argv) {
  using namespace vigil::cli;
#ifdef VIGIL_WITH_TORCH
  // The LibTorch kinds live outside vigil_models, so they join the factory here.
  if (const vigil::Status registered = vigil::RegisterNeuralModelKinds(); !registered.ok()) {
    return Fail(registered.WithContext("registering the LibTorch model kinds"), 1);
  }
#endif
  CLI::App app{"Vigil: machine learning on crypto and DeFi market data", "vigil"};
  app.set_version_flag("--version", "vigil " + std::string(vigil::VersionString()));
  // At most one command; an unknown word is reported by name (CLI11 ExtrasError) rather
  // than as a missing command.
  app.require_subcommand(0, 1);
  // Global flags may follow the subcommand too (`vigil detect run ... --json`, as the
  // command contracts write them); subcommands inherit this setting.
  app.fallthrough();
  GlobalOptions globals;
  app.add_option("--home", globals.home, "Data directory holding vigil.db and models/")
      ->envname("VIGIL_HOME")
      ->capture_default_str();
  app.add_option("--db", globals.db,
                 "Database URL: sqlite:PATH or postgresql://... (default sqlite:<home>/vigil.db)")
      ->envname("VIGIL_DB");
  app.add_flag("--json", globals.json, "Machine-readable output on stdout");
  app.add_option("--log-level", globals.log_level,
                 "trace|debug|info|warn|error|off (default warn)");
  app.add_option("--config", globals.config,
                 "YAML settings (db, log_level, store.*); default <home>/vigil.yaml if present")
      ->envname("VIGIL_CONFIG");
  // Settings are resolved once the command line is parsed and before any command runs; a
  // bad config stops the run with its file:line message.
  bool config_ok = true;
  app.parse_complete_callback([&globals, &config_ok] {
    vigil::Status status = ApplyConfig(&globals);
    if (!status.ok()) {
      Fail(status);
      config_ok = false;
      throw CLI::Success();
    }
  });

  int exit_code = 0;
  AddIngestCommand(app, globals, &exit_code);
  AddDataCommands(app, globals, &exit_code);
  AddSimulateCommand(app, globals, &exit_code);
  AddFeaturesCommand(app, globals, &exit_code);
  AddModelsCommand(app, globals, &exit_code);
  AddTrainCommand(app, globals, &exit_code);
  AddSchedulerCommand(app, globals, &exit_code);
  AddDetectCommand(app, globals, &exit_code);
  AddLabelsCommand(app, globals, &exit_code);
  AddClassifyCommand(app, globals, &exit_code);
  AddExplainCommand(app, globals, &exit_code);
  AddServeCommand(app, globals, &exit_code);
  AddLiveRunCommand(app, globals, &exit_code);
  AddAlertsCommand(app, globals, &exit_code);
  AddForecastCommand(app, globals, &exit_code);
  AddBacktestCommand(app, globals, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    if (!config_ok) return kExitUsage;
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (app.get_subcommands().empty()) {
    std::cerr << app.help()
              << "vigil: a command is required (ingest, data, simulate, features, models, train, "
                 "scheduler, detect, labels, classify, explain, serve, run, alerts, forecast)\n";
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // The libraries report expected failures as Status; this catch is the last line of
  // defence so that a bug surfaces as a message and exit code, never an abort.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "vigil: internal error: " << e.what() << "\n";
    return 1;
  }
}
