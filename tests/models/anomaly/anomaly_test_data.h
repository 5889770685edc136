// Test data shared by the anomaly detector tests: scikit-learn fixtures
// (tests/testdata/models/*.json), seeded standard-normal rows and fresh temporary
// directories for persistence tests.
//
//   using namespace vigil::anomaly_test_data;
//   const nlohmann::json doc = ReadFixture("sklearn_lof.json");
//   const FeatureMatrix train = MatrixOf(doc, "train");
//   const FeatureMatrix x = NormalData(200, 3, /*seed=*/7);
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "vigil/core/text_file.h"
#include "vigil/models/model.h"

namespace vigil::anomaly_test_data {

// tests/testdata/models/<name>, parsed (an empty object, with a test failure, if missing).
inline nlohmann::json ReadFixture(const std::string& name) {
  auto text = ReadFileToString(std::string(VIGIL_TEST_DATA) + "/models/" + name);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json::object();
}

// A fixture's rows doc[key] (a list of rows) with the columns doc["columns"].
inline FeatureMatrix MatrixOf(const nlohmann::json& doc, const std::string& key) {
  FeatureMatrix x;
  x.columns = doc.at("columns").get<std::vector<std::string>>();
  for (const auto& row : doc.at(key)) {
    for (double v : row) x.values.push_back(v);
    ++x.rows;
  }
  return x;
}

// rows x cols independent standard normal values, columns f0, f1, ...
inline FeatureMatrix NormalData(int64_t rows, size_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  FeatureMatrix x;
  for (size_t c = 0; c < cols; ++c) x.columns.push_back("f" + std::to_string(c));
  x.rows = rows;
  for (int64_t i = 0; i < rows * static_cast<int64_t>(cols); ++i) x.values.push_back(normal(rng));
  return x;
}

// An empty directory <test tmp>/vigil_<kind>_<name>.
inline std::filesystem::path FreshDir(const std::string& kind, const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / ("vigil_" + kind + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace vigil::anomaly_test_data
