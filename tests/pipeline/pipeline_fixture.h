// A temporary Vigil home for pipeline tests: a SQLite store holding a simulated market and
// a model registry, plus training configs written as YAML text.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "vigil/data/simulator.h"
#include "vigil/pipeline/training_config.h"
#include "vigil/registry/registry.h"
#include "vigil/store/store.h"

namespace vigil::testing_util {

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = std::filesystem::temp_directory_path() /
            ("vigil-pipeline-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(home_);
    std::filesystem::create_directories(home_);
    auto store = OpenStore("sqlite:" + (home_ / "vigil.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto registry = ModelRegistry::Open(home_ / "models");
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::make_unique<ModelRegistry>(std::move(*registry));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(home_);
  }

  // `days` of `instruments` simulated perpetuals (sim:BTC-PERP, sim:ETH-PERP, ...) stored.
  void StoreSimulation(int instruments, int days, uint64_t seed = 11) {
    SimulationOptions options;
    options.instruments = instruments;
    options.days = days;
    options.seed = seed;
    auto simulation = Simulate(options);
    ASSERT_TRUE(simulation.ok()) << simulation.status().ToString();
    WriteUnit unit;
    unit.source = "simulation";
    unit.batches = simulation->batches;
    auto written = store_->Write(unit);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }

  // A classification config over the stored simulation; `extra` is appended as YAML.
  static std::string DirectionYaml(const std::string& extra = "") {
    return R"(name: btc_direction
task: classification
model:
  kind: logistic
  params: {C: 1.0, standardize: true}
seed: 3
data:
  instruments: [sim:BTC-PERP]
  timeframe: 1m
features: ta
label: {kind: direction, horizon: 15m}
validation:
  method: walk_forward
  train: 1d
  test: 12h
)" + extra;
  }

  Result<TrainingConfig> Config(const std::string& yaml) const {
    return ParseTrainingConfig(yaml, "train.yaml", home_);
  }

  std::filesystem::path home_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ModelRegistry> registry_;
};

}  // namespace vigil::testing_util
