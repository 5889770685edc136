// Private to the GARCH family: quantiles and tail means of the standardized innovations
// (normal and unit-variance Student-t) and a small, seedable, platform-independent random
// generator for the risk simulation (std::normal_distribution differs between standard
// libraries, so results would not be reproducible across them).
#pragma once

#include <cmath>
#include <cstdint>

#include "vigil/models/forecast/garch.h"

namespace vigil::garch_internal {

// Phi^{-1}(p), p in (0, 1): Acklam's rational approximation refined by one Halley step on
// erfc, ~1e-15 relative.
double NormalQuantile(double p);
// P(T <= t) for Student's t with nu > 0 degrees of freedom (regularized incomplete beta).
double StudentCdf(double t, double nu);
// The p-quantile of Student's t (Newton on StudentCdf, safeguarded by bisection).
double StudentQuantile(double p, double nu);

// The p-quantile of the unit-variance innovation z and E[z | z <= quantile] (< 0 for p <
// 0.5): normal, or t scaled by sqrt((nu - 2) / nu).
double InnovationQuantile(GarchDistribution distribution, double shape, double p);
double InnovationTailMean(GarchDistribution distribution, double shape, double p);

// xoshiro256++ (Blackman & Vigna 2018) seeded by SplitMix64; normals by the ziggurat method
// (Marsaglia & Tsang 2000, in Doornik's 2005 ZIGNOR form; a few ns a draw, which the 10^6
// draws of a risk simulation need); gamma by Marsaglia & Tsang (2000), giving unit-variance
// t draws as N sqrt((nu - 2) / chi2_nu).
class InnovationGenerator {
 public:
  InnovationGenerator(uint64_t seed, GarchDistribution distribution, double shape);
  double Next() {
    if (!student_) return Normal();
    return Normal() * std::sqrt(scale_ / Gamma());
  }

 private:
  uint64_t Bits();
  double Uniform() { return static_cast<double>(Bits() >> 11) * 0x1.0p-53; }
  double Normal();
  double Gamma();  // Gamma(nu / 2, scale 1)

  uint64_t s_[4];
  bool student_;
  double scale_ = 0;    // (nu - 2) / 2: chi2 = 2 Gamma(nu / 2)
  double gamma_d_ = 0;  // Marsaglia-Tsang d = a - 1/3 and c = 1 / sqrt(9 d)
  double gamma_c_ = 0;
};

}  // namespace vigil::garch_internal
