// A temporary Vigil home for pipeline tests: a SQLite store holding a simulated market and
// a model registry, plus training configs written as YAML text, the jobs that train them and
// checks of the configs' error messages.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "vigil/data/simulator.h"
#include "vigil/pipeline/training_config.h"
#include "vigil/pipeline/training_job.h"
#include "vigil/registry/registry.h"
#include "vigil/store/store.h"

namespace vigil::testing_util {

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

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

  // Runs the job of `yaml` on the store and registry; fails the test (and returns an empty
  // result) when the config or the job fails.
  TrainingResult Train(const std::string& yaml, TrainingJobOptions options = {}) {
    auto config = Config(yaml);
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    if (!config.ok()) return {};
    auto result = RunTrainingJob(*config, *store_, *registry_, options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(*result) : TrainingResult{};
  }

  struct ConfigErrorCase {
    std::string yaml;
    std::string expected;  // a part of the error message
  };
  // Every case's YAML is refused with a message containing its `expected`.
  void ExpectConfigErrors(const std::vector<ConfigErrorCase>& cases) const {
    for (const ConfigErrorCase& c : cases) {
      auto config = Config(c.yaml);
      ASSERT_FALSE(config.ok()) << c.yaml;
      EXPECT_TRUE(Contains(config.status().message(), c.expected))
          << config.status().message() << "\nexpected: " << c.expected;
    }
  }
  // The error message of `yaml` with its first `from` replaced by `to`.
  std::string ConfigErrorWith(std::string yaml, const std::string& from,
                              const std::string& to) const {
    yaml.replace(yaml.find(from), from.size(), to);
    return Config(yaml).status().message();
  }

  std::filesystem::path home_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ModelRegistry> registry_;
};

}  // namespace vigil::testing_util
