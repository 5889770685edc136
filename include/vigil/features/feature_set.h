// Feature sets: named, ordered collections of kernels whose outputs become the columns
// of a feature table.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::FeatureSet ta, vigil::BuiltinFeatureSet("ta"));
//   vigil::Frame features = vigil::ComputeOverBars(ta.kernels, bars);  // columns = ta.Columns()
//
// Built-in sets so far: `ta` (classic indicators with R TTR's defaults; its column names
// are a contract of `vigil features compute --set ta`).
// Thread-safety: a FeatureSet owns kernel state; use one per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/features/kernel.h"

namespace vigil {

struct FeatureSet {
  std::string name;
  std::vector<std::unique_ptr<FeatureKernel>> kernels;

  // Every kernel's output names, in kernel order.
  std::vector<std::string> Columns() const;
};

// The built-in set `name`; NotFound (listing the available sets) for any other name.
Result<FeatureSet> BuiltinFeatureSet(std::string_view name);
std::vector<std::string> BuiltinFeatureSetNames();

}  // namespace vigil
