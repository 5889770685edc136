// What the evaluation programs (risk_evaluation, anomaly_evaluation) share about their
// flags: comma-separated lists, and choosing the named items of a list.
//
//   args.models = vigil::bench::SplitCommas("logistic,base_rate");
//   if (!vigil::bench::Wanted(args.models, spec.name)) continue;
//
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace vigil::bench {

// "a,b,,c" -> {"a", "b", "c"} (empty parts are dropped).
inline std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// Whether `name` is chosen: listed in `chosen`, or `chosen` is empty (everything).
inline bool Wanted(const std::vector<std::string>& chosen, const std::string& name) {
  return chosen.empty() || std::find(chosen.begin(), chosen.end(), name) != chosen.end();
}

}  // namespace vigil::bench
