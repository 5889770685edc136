// The shared world of the serve tests: a home directory with a SQLite store of simulated
// markets and a registry of trained, promoted models, built once per test binary.
//
//   const vigil::testing::ServeWorld& world = vigil::testing::SharedWorld();
//   ModelRegistry registry = *ModelRegistry::Open(world.models_dir);
//   vigil::testing::ServeWorld mine =
//       vigil::testing::CopyWorld(world, vigil::testing::CopyPath("my_test"));  // to write
//
// Contents (all promoted to "production"):
//   "risk_clf"     crash risk classifier (task crash, details.task "crash", logistic with
//                  Platt calibration (kind "calibrated"), with risk_levels) on the built-in
//                  feature set "ta"
//   "liq_long"     multi_horizon liquidation model, 20x long, horizons 5m/15m/30m/1h, on "ta"
//                  (details.label carries leverage 20 and side long)
//   "oracle_anom"  zscore anomaly detector on the built-in feature set "oracle"
//   "risk_xgb"     xgboost crash classifier on "ta" (explanations by TreeSHAP)
// Store: 2 simulated instruments (sim:BTC-PERP, sim:ETH-PERP) x 4 days, seed 7, 10 flash
// crashes a week (so that 20x longs get liquidated), with the simulator's incidents in
// `incidents`. Models are trained through RunTrainingJob with the
// YAML configs written to <home>/configs/ (name.yaml), so tests can re-run a job.
// The shared world is read-only: tests that write (store rows, promotions) use CopyWorld.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "vigil/data/simulator.h"
#include "vigil/models/model.h"

namespace vigil::testing {

struct ServeWorld {
  std::filesystem::path home;        // the temp directory
  std::filesystem::path models_dir;  // <home>/models (the registry)
  std::string store_url;             // "sqlite:<home>/vigil.db"
  std::vector<std::string> instruments;
  std::vector<SimulatedEvent> incidents;
  std::vector<std::string> model_names;  // the four above, sorted
};

// Built on first use (aborts the test binary with a message if it cannot be built).
const ServeWorld& SharedWorld();
// The shared world plus a second, unpromoted version of risk_clf ("risk_clf@latest": C 10
// instead of 0.1, so its probabilities differ from production's), for promotion tests.
// Built on first use in CopyPath("with-variant"); read-only like SharedWorld.
const ServeWorld& SharedWorldWithVariant();

// Copies the world's home into `dest` (created) and returns the copy's description.
ServeWorld CopyWorld(const ServeWorld& world, const std::filesystem::path& dest);
// <shared home>/copies/<name>: a place for copies that is removed with the shared world
// when the test binary exits (CopyWorld leaves `copies` out of what it copies).
std::filesystem::path CopyPath(const std::string& name);

// Trains and registers, without promoting, a new version of `name` in `world` (a copy: it
// writes) from <home>/configs/<name>.yaml with the first `from` replaced by `to` (e.g.
// "C: 0.1" -> "C: 10.0" for outputs that differ from production's). Returns the version;
// aborts like SharedWorld on failure.
int64_t TrainVariant(const ServeWorld& world, const std::string& name, const std::string& from,
                     const std::string& to);

// The last `count` (or fewer) feature rows of `instrument` on the built-in set
// `feature_set` ("ta", "oracle") with every feature finite, computed from the world's
// store; columns in the set's order, which is the order of the world's models on it.
// Aborts like SharedWorld when they cannot be computed.
FeatureMatrix WorldFeatureRows(const ServeWorld& world, const std::string& feature_set,
                               const std::string& instrument, int64_t count);

}  // namespace vigil::testing
