#include "vigil/core/rng.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace vigil {
namespace {

std::vector<double> Draw(Rng rng, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(rng.Normal());
  return out;
}

TEST(RngTest, SameSeedSameStream) {
  EXPECT_EQ(Draw(Rng(42), 100), Draw(Rng(42), 100));
  EXPECT_NE(Draw(Rng(42), 100), Draw(Rng(43), 100));
}

TEST(RngTest, DerivedStreamsAreIndependentOfEachOtherAndOfUse) {
  Rng master(7);
  Rng a1 = master.Derive("prices/BTC");
  master.Normal();  // using the parent must not shift a derived stream
  Rng a2 = master.Derive("prices/BTC");
  EXPECT_EQ(Draw(a1, 10), Draw(a2, 10));
  EXPECT_NE(Draw(master.Derive("prices/ETH"), 10), Draw(master.Derive("prices/BTC"), 10));
}

TEST(RngTest, NormalMomentsAreSane) {
  Rng rng(1);
  double sum = 0, sum_sq = 0;
  constexpr int kN = 200000;
  for (int i = 0; i < kN; ++i) {
    double x = rng.Normal();
    sum += x;
    sum_sq += x * x;
  }
  double mean = sum / kN;
  // Standard error of the mean is 1/sqrt(N) ~ 0.0022; 5 sigma bounds.
  EXPECT_LT(std::fabs(mean), 0.012);
  EXPECT_NEAR(sum_sq / kN - mean * mean, 1.0, 0.02);
}

TEST(RngTest, SplitMixKnownValue) {
  // First output of SplitMix64 seeded with 0 (Vigna's reference implementation).
  EXPECT_EQ(SplitMix64(0), 0xe220a8397b1dcdafULL);
}

}  // namespace
}  // namespace vigil
