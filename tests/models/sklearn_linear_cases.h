// The fixtures of the linear kinds (tests/testdata/models/sklearn_logistic.json and
// sklearn_ridge.json, made by scripts/fixtures/sklearn_*.py): each case holds the inputs
// (x, y, sample weights), the constructor params and scikit-learn's fitted coefficients and
// intercept; `item` keeps the whole case for the kind's own answers (predict_proba,
// predict).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vigil/core/text_file.h"
#include "vigil/models/model.h"

namespace vigil::testing_util {

struct SklearnLinearCase {
  std::string name;
  nlohmann::json params;
  FeatureMatrix x;  // columns f0, f1, ...
  std::vector<double> y;
  std::vector<double> weights;  // empty: unweighted
  std::vector<double> coef;
  double intercept = 0;
  nlohmann::json item;
};

// The cases of tests/testdata/models/<file>; records a failure and returns none when the
// file cannot be read.
inline std::vector<SklearnLinearCase> LoadSklearnLinearCases(const std::string& file) {
  Result<std::string> text = ReadFileToString(std::string(VIGIL_TEST_DATA) + "/models/" + file);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  if (!text.ok()) return {};
  const nlohmann::json doc = nlohmann::json::parse(*text);
  std::vector<SklearnLinearCase> cases;
  for (const auto& item : doc.at("cases")) {
    SklearnLinearCase c;
    c.name = item.at("name");
    c.params = item.at("params");
    const auto rows = item.at("x").get<std::vector<std::vector<double>>>();
    for (size_t col = 0; col < rows.at(0).size(); ++col) {
      c.x.columns.push_back("f" + std::to_string(col));
    }
    c.x.rows = static_cast<int64_t>(rows.size());
    for (const auto& row : rows) c.x.values.insert(c.x.values.end(), row.begin(), row.end());
    c.y = item.at("y").get<std::vector<double>>();
    c.weights = item.at("weights").get<std::vector<double>>();
    c.coef = item.at("coef").get<std::vector<double>>();
    c.intercept = item.at("intercept");
    c.item = item;
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace vigil::testing_util
