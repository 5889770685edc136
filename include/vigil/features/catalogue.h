// The feature catalogue: every feature Vigil can compute, by name, with its parameters,
// inputs and a one-line description (what `vigil features list` prints). Feature-set
// specs (spec.h) name catalogue entries; the catalogue validates their parameters and
// builds the kernels.
//
//   const vigil::FeatureInfo* info = vigil::FindFeature("sma");
//   VIGIL_ASSIGN_OR_RETURN(vigil::ParamValues values, info->Resolve({{"n", "20"}}));
//   VIGIL_ASSIGN_OR_RETURN(auto kernel, info->make(values));   // outputs: sma_20
//
// Thread-safety: the catalogue is an immutable static; everything here is pure.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/data/market_data.h"
#include "vigil/features/event_kernel.h"

namespace vigil {

enum class ParamType {
  kInt,         // whole number within [min, max]
  kDouble,      // finite number within [min, max]
  kDuration,    // "5m", "1h", "30s" (core ParseDuration), stored in nanoseconds; > 0
  kInstrument,  // "venue:symbol"; empty allowed only when the default is empty
};

struct ParamInfo {
  std::string name;
  ParamType type = ParamType::kInt;
  std::string default_value;  // as text, e.g. "20", "5m", "" (a required param has none)
  std::string description;
  double min = 1;  // bounds for kInt / kDouble, inclusive
  double max = 1e9;
  bool required = false;
};

// Resolved, validated parameter values.
class ParamValues {
 public:
  int Int(std::string_view name) const;                  // precondition: declared kInt
  double Double(std::string_view name) const;            // kDouble
  int64_t DurationNs(std::string_view name) const;       // kDuration
  const std::string& Text(std::string_view name) const;  // kInstrument (or any, as given)
  // Canonical "name=value" pairs in declaration order, e.g. {"n=20", "k=2"}.
  const std::vector<std::string>& canonical() const { return canonical_; }

 private:
  friend struct FeatureInfo;
  std::map<std::string, std::string, std::less<>> text_;
  std::map<std::string, double, std::less<>> numbers_;
  std::vector<std::string> canonical_;
};

struct FeatureInfo {
  std::string name;             // "sma", "ofi", "liq_count", ...
  std::string group;            // "price", "micro", "liquidation", "oracle", "vault", "funding",
                                // "defi", "cross"
  std::vector<DataKind> kinds;  // input kinds (for listing)
  std::vector<ParamInfo> params;
  std::string description;  // one line
  // Builds the kernel from resolved values. Output names encode the parameters.
  std::function<Result<std::unique_ptr<EventKernel>>(const ParamValues&)> make;

  // Validates `given` (name -> text) against `params`: unknown names, wrong types and
  // out-of-range values fail with InvalidArgument naming the feature and parameter;
  // missing ones take their defaults (a missing required one fails).
  Result<ParamValues> Resolve(const std::map<std::string, std::string>& given) const;
};

// Every feature, grouped, in listing order.
const std::vector<FeatureInfo>& FeatureCatalogue();
// The entry named `name`, or nullptr.
const FeatureInfo* FindFeature(std::string_view name);

}  // namespace vigil
