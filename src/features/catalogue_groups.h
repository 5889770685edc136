// Private: each feature group registers its catalogue entries from its own file.
#pragma once

#include <vector>

#include "vigil/features/catalogue.h"

namespace vigil::internal {

void AppendPriceFeatures(std::vector<FeatureInfo>& out);        // catalogue_price.cc
void AppendMicroFeatures(std::vector<FeatureInfo>& out);        // catalogue_micro.cc
void AppendLiquidationFeatures(std::vector<FeatureInfo>& out);  // catalogue_micro.cc
void AppendOnchainFeatures(std::vector<FeatureInfo>& out);      // catalogue_onchain.cc
                                                                // (oracle, vault, funding, defi)
void AppendCrossFeatures(std::vector<FeatureInfo>& out);        // catalogue_onchain.cc

}  // namespace vigil::internal
