// MinimizeLikeOptimBfgs (arima_variable_metric.cc) takes R's optim(method = "BFGS") steps:
// the same end point, gradient count and convergence code as R on the functions of
// scripts/fixtures/optim_bfgs_reference.R (values printed by that script, R 4.2).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "../../../src/models/forecast/arima_internal.h"

namespace vigil::arima_internal {
namespace {

const double kReltol = std::sqrt(std::numeric_limits<double>::epsilon());  // optim's default

double Rosenbrock(std::span<const double> x) {
  return 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]) + (1 - x[0]) * (1 - x[0]);
}

TEST(OptimBfgsTest, FollowsRsStepsOnRosenbrock) {
  const std::vector<double> start = {-1.2, 1.0}, scale = {1.0, 1.0};
  const Minimum minimum = MinimizeLikeOptimBfgs(Rosenbrock, start, scale, 100, kReltol);
  EXPECT_NEAR(minimum.theta[0], 0.99980443323139745, 1e-9);
  EXPECT_NEAR(minimum.theta[1], 0.99960838062348123, 1e-9);
  EXPECT_NEAR(minimum.value, 3.8273827561079511e-08, 1e-14);
  EXPECT_EQ(minimum.iterations, 38);  // R's counts["gradient"]
  EXPECT_TRUE(minimum.converged);
}

TEST(OptimBfgsTest, StopsAtMaxitWithoutConvergingLikeR) {
  const std::vector<double> start = {-1.2, 1.0}, scale = {1.0, 1.0};
  const Minimum minimum = MinimizeLikeOptimBfgs(Rosenbrock, start, scale, 10, kReltol);
  EXPECT_NEAR(minimum.theta[0], -0.060631702892768591, 1e-9);
  EXPECT_NEAR(minimum.theta[1], -0.045831408426261225, 1e-9);
  EXPECT_NEAR(minimum.value, 1.3700399720123855, 1e-10);
  EXPECT_EQ(minimum.iterations, 10);
  EXPECT_FALSE(minimum.converged);  // R's convergence code 1
}

TEST(OptimBfgsTest, WorksInParscaleUnits) {
  auto quadratic = [](std::span<const double> x) {
    return (x[0] - 3) * (x[0] - 3) + 10 * (x[1] + 1) * (x[1] + 1) + (x[0] - 3) * (x[1] + 1) +
           0.01 * (x[2] - 500) * (x[2] - 500);
  };
  const std::vector<double> start = {0, 0, 0}, scale = {1, 1, 50};
  const Minimum minimum = MinimizeLikeOptimBfgs(quadratic, start, scale, 100, kReltol);
  EXPECT_NEAR(minimum.theta[0], 2.9999999847405863, 1e-9);
  EXPECT_NEAR(minimum.theta[1], -0.99999999750044744, 1e-9);
  EXPECT_NEAR(minimum.theta[2], 499.99999987826465, 1e-7);
  EXPECT_EQ(minimum.iterations, 15);
  EXPECT_TRUE(minimum.converged);
}

TEST(OptimBfgsTest, NonFiniteDifferenceIsOptimsError) {
  auto cliff = [](std::span<const double> x) {
    return x[0] > 0.0005 ? std::numeric_limits<double>::infinity() : x[0] * x[0];
  };
  const std::vector<double> start = {0.0}, scale = {1.0};
  const Minimum minimum = MinimizeLikeOptimBfgs(cliff, start, scale, 100, kReltol);
  EXPECT_TRUE(std::isnan(minimum.value));
  EXPECT_FALSE(minimum.converged);
}

}  // namespace
}  // namespace vigil::arima_internal
