// Private to vigil_models: the weights file and the description of a fitted isolation forest
// (both kinds; layout documented in isolation_forest.h and extended_iforest.h). Loading
// checks every size, index, feature and value, so a corrupt file is a DataError naming it,
// never an out-of-bounds read during scoring.
#pragma once

#include <cmath>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "models/anomaly/iforest_forest.h"
#include "vigil/core/status.h"
#include "vigil/core/text_file.h"

namespace vigil::models_internal {

// 2: per-node training rows ("rows"), read by the attribution.
inline constexpr int kIsolationWeightsVersion = 2;

inline std::string IsolationWeightsFormat(std::string_view kind) {
  return "vigil." + std::string(kind);
}

inline nlohmann::json TreeToJson(const IsolationForestState& forest, int64_t t) {
  const int64_t begin = forest.tree_begin[t];
  const int64_t end = forest.tree_begin[t + 1];
  std::vector<int32_t> left, split, rows;
  std::vector<double> threshold, path_length;
  std::vector<int32_t> term_features;
  std::vector<double> term_coefs;
  const int k = forest.terms_per_split;
  for (int64_t i = begin; i < end; ++i) {
    const IsolationNode& node = forest.nodes[i];
    const bool leaf = node.left == static_cast<int32_t>(i - begin);
    left.push_back(leaf ? -1 : node.left);
    threshold.push_back(leaf ? 0.0 : node.threshold);
    path_length.push_back(forest.path_length[i]);
    rows.push_back(forest.node_rows[i]);
    if (leaf || k == 0) {
      split.push_back(leaf ? 0 : node.split);
      continue;
    }
    split.push_back(static_cast<int32_t>(term_features.size()));
    term_features.insert(term_features.end(), forest.term_features.begin() + node.split,
                         forest.term_features.begin() + node.split + k);
    term_coefs.insert(term_coefs.end(), forest.term_coefs.begin() + node.split,
                      forest.term_coefs.begin() + node.split + k);
  }
  nlohmann::json tree = {{"left", left},
                         {"split", split},
                         {"threshold", threshold},
                         {"path_length", path_length},
                         {"rows", rows}};
  if (k > 0) {
    tree["term_features"] = term_features;
    tree["term_coefs"] = term_coefs;
  }
  return tree;
}

inline Status SaveForest(std::string_view kind, const IsolationForestState* forest,
                         const std::filesystem::path& file) {
  if (forest == nullptr) {
    return FailedPrecondition("model '" + std::string(kind) + "': not fitted, nothing to save");
  }
  nlohmann::json trees = nlohmann::json::array();
  for (int64_t t = 0; t < forest->trees(); ++t) trees.push_back(TreeToJson(*forest, t));
  // Shortest round-trip doubles: loading restores the scores bit for bit.
  const nlohmann::json doc = {{"format", IsolationWeightsFormat(kind)},
                              {"version", kIsolationWeightsVersion},
                              {"feature_names", forest->feature_names},
                              {"max_samples", forest->max_samples},
                              {"max_depth", forest->max_depth},
                              {"terms_per_split", forest->terms_per_split},
                              {"trees", trees},
                              {"calibration", forest->calibration.ToJson()}};
  return WriteFileAtomically(file.string(), doc.dump() + "\n");
}

// Checks one tree's arrays and appends it to `forest`; the error says what is wrong.
inline Status AppendTreeFromJson(const nlohmann::json& tree, IsolationForestState& forest) {
  const auto left = tree.at("left").get<std::vector<int64_t>>();
  const auto split = tree.at("split").get<std::vector<int64_t>>();
  const auto threshold = tree.at("threshold").get<std::vector<double>>();
  const auto path_length = tree.at("path_length").get<std::vector<double>>();
  const auto rows = tree.at("rows").get<std::vector<int64_t>>();
  const int k = forest.terms_per_split;
  std::vector<int64_t> term_features;
  std::vector<double> term_coefs;
  if (k > 0) {
    term_features = tree.at("term_features").get<std::vector<int64_t>>();
    term_coefs = tree.at("term_coefs").get<std::vector<double>>();
    if (term_features.size() != term_coefs.size()) {
      return DataError("term_features and term_coefs differ in length");
    }
  }
  const int64_t n = static_cast<int64_t>(left.size());
  if (n == 0 || split.size() != left.size() || threshold.size() != left.size() ||
      path_length.size() != left.size() || rows.size() != left.size()) {
    return DataError("node arrays empty or of different lengths");
  }
  if (n > 2 * (int64_t{1} << forest.max_depth))
    return DataError("more nodes than max_depth allows");
  if (rows[0] != forest.max_samples) return DataError("root rows differ from max_samples");
  const int64_t features = static_cast<int64_t>(forest.feature_names.size());
  const int64_t term_base = static_cast<int64_t>(forest.term_features.size());
  std::vector<int> depth(n, -1);
  depth[0] = 0;
  int deepest = 0;
  for (int64_t i = 0; i < n; ++i) {
    const std::string node = "node " + std::to_string(i) + ": ";
    if (depth[i] < 0) return DataError(node + "not reachable from the root");
    if (left[i] == -1) {
      if (!std::isfinite(path_length[i]) || path_length[i] < 0) {
        return DataError(node + "bad path_length");
      }
      deepest = std::max(deepest, depth[i]);
      forest.nodes.push_back({std::numeric_limits<double>::infinity(), 0, static_cast<int32_t>(i)});
      forest.path_length.push_back(path_length[i]);
      forest.node_rows.push_back(static_cast<int32_t>(rows[i]));
      continue;
    }
    if (left[i] <= i || left[i] + 1 >= n) return DataError(node + "child index out of range");
    if (depth[left[i]] >= 0 || depth[left[i] + 1] >= 0) {
      return DataError(node + "child already has a parent");
    }
    if (depth[i] >= forest.max_depth) return DataError(node + "split below max_depth");
    depth[left[i]] = depth[left[i] + 1] = depth[i] + 1;
    if (rows[left[i]] < 0 || rows[left[i] + 1] < 0 ||
        rows[left[i]] + rows[left[i] + 1] != rows[i]) {
      return DataError(node + "children's rows do not add up to the node's");
    }
    if (!std::isfinite(threshold[i])) return DataError(node + "threshold not finite");
    int64_t split_field = split[i];
    if (k == 0) {
      if (split[i] < 0 || split[i] >= features) return DataError(node + "feature out of range");
    } else {
      if (split[i] < 0 || split[i] % k != 0 ||
          split[i] + k > static_cast<int64_t>(term_features.size())) {
        return DataError(node + "term index out of range");
      }
      split_field = term_base + split[i];
    }
    forest.nodes.push_back(
        {threshold[i], static_cast<int32_t>(split_field), static_cast<int32_t>(left[i])});
    forest.path_length.push_back(0.0);
    forest.node_rows.push_back(static_cast<int32_t>(rows[i]));
  }
  for (size_t term = 0; term < term_features.size(); ++term) {
    if (term_features[term] < 0 || term_features[term] >= features ||
        !std::isfinite(term_coefs[term])) {
      return DataError("term " + std::to_string(term) + ": bad feature or coefficient");
    }
    forest.term_features.push_back(static_cast<int32_t>(term_features[term]));
    forest.term_coefs.push_back(term_coefs[term]);
  }
  if (static_cast<int64_t>(forest.term_features.size()) > std::numeric_limits<int32_t>::max()) {
    return DataError("too many terms");
  }
  forest.tree_depth.push_back(deepest);
  forest.tree_begin.push_back(static_cast<int64_t>(forest.nodes.size()));
  return Status::Ok();
}

// Reads and checks the header fields.
inline Status ReadForestHeader(std::string_view kind, const nlohmann::json& doc,
                               IsolationForestState& forest) {
  if (!doc.is_object() || doc.value("format", "") != IsolationWeightsFormat(kind)) {
    return DataError("not a '" + IsolationWeightsFormat(kind) + "' document");
  }
  if (doc.value("version", 0) != kIsolationWeightsVersion) return DataError("unsupported version");
  forest.feature_names = doc.at("feature_names").get<std::vector<std::string>>();
  forest.max_samples = doc.at("max_samples").get<int64_t>();
  forest.max_depth = doc.at("max_depth").get<int>();
  forest.terms_per_split = doc.at("terms_per_split").get<int>();
  const int64_t features = static_cast<int64_t>(forest.feature_names.size());
  if (features == 0) return DataError("no feature names");
  if (forest.max_samples < 2 || forest.max_samples > std::numeric_limits<int32_t>::max() ||
      forest.max_depth != CeilLog2(forest.max_samples)) {
    return DataError("bad max_samples or max_depth");
  }
  if (forest.terms_per_split < 0 || forest.terms_per_split > features) {
    return DataError("bad terms_per_split");
  }
  return Status::Ok();
}

// Loads a forest written by SaveForest; the caller checks terms_per_split against its
// configuration.
inline Result<std::shared_ptr<const IsolationForestState>> LoadForest(
    std::string_view kind, const std::filesystem::path& file, int expected_trees) {
  const std::string path = file.string();
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  auto forest = std::make_unique<IsolationForestState>();
  try {
    const nlohmann::json doc = nlohmann::json::parse(text);
    VIGIL_RETURN_IF_ERROR(ReadForestHeader(kind, doc, *forest).WithContext(path));
    forest->term_features.assign(forest->terms_per_split, 0);
    forest->term_coefs.assign(forest->terms_per_split, 0.0);
    forest->tree_begin.push_back(0);
    const nlohmann::json& trees = doc.at("trees");
    if (!trees.is_array() || static_cast<int64_t>(trees.size()) != expected_trees) {
      return DataError(path + ": expected " + std::to_string(expected_trees) + " trees");
    }
    for (size_t t = 0; t < trees.size(); ++t) {
      VIGIL_RETURN_IF_ERROR(
          AppendTreeFromJson(trees[t], *forest).WithContext(path + ": tree " + std::to_string(t)));
    }
    auto calibration = ScoreCalibration::FromJson(doc.at("calibration"));
    if (!calibration.ok()) return calibration.status().WithContext(path + ": calibration");
    forest->calibration = *calibration;
  } catch (const std::exception& e) {
    return DataError(path + ": " + e.what());
  }
  return std::shared_ptr<const IsolationForestState>(std::move(forest));
}

inline nlohmann::json DescribeForest(std::string_view kind, const IsolationForestState* forest,
                                     const nlohmann::json& config) {
  nlohmann::json out = {{"kind", kind}, {"fitted", forest != nullptr}, {"config", config}};
  if (forest == nullptr) return out;
  int deepest = 0;
  for (int depth : forest->tree_depth) deepest = std::max(deepest, depth);
  out["trees"] = forest->trees();
  out["features"] = forest->feature_names;
  out["max_samples"] = forest->max_samples;
  out["max_depth"] = forest->max_depth;
  out["deepest_leaf"] = deepest;
  out["nodes"] = forest->nodes.size();
  out["threshold_raw"] = forest->calibration.threshold();
  out["contamination"] = config.value("contamination", nlohmann::json("auto"));
  out["estimated_contamination"] = forest->calibration.contamination();
  return out;
}

}  // namespace vigil::models_internal
