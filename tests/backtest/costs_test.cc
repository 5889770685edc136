// Fees and slippage models of the simulated venue (src/backtest/costs.cc).
#include "vigil/backtest/costs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace vigil {
namespace {

TEST(SlippageModelTest, ParsesTheCliForms) {
  Result<SlippageModel> fixed = SlippageModel::Parse("fixed:5");
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->kind, SlippageKind::kFixed);
  EXPECT_EQ(fixed->parameter, 5.0);
  EXPECT_EQ(fixed->ToString(), "fixed:5");
  Result<SlippageModel> linear = SlippageModel::Parse("linear:0.25");
  ASSERT_TRUE(linear.ok());
  EXPECT_EQ(linear->kind, SlippageKind::kLinear);
  EXPECT_EQ(linear->ToString(), "linear:0.25");
  Result<SlippageModel> root = SlippageModel::Parse("sqrt:0.1");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->kind, SlippageKind::kSqrt);
}

TEST(SlippageModelTest, RefusesBadFormsNamingThem) {
  for (const std::string text : {"fixed", "fixed:", "fixed:abc", "cubic:1", "linear:-1",
                                 "fixed:10000", "sqrt:nan", "fixed:5x"}) {
    Result<SlippageModel> model = SlippageModel::Parse(text);
    ASSERT_FALSE(model.ok()) << text;
    EXPECT_NE(model.status().message().find("slippage '" + text + "'"), std::string::npos)
        << model.status().message();
  }
}

TEST(SlippageModelTest, FixedMovesThePriceAgainstTheOrder) {
  const SlippageModel model{SlippageKind::kFixed, 10.0};
  // The sma_cross contract: buy at open x (1 + bps / 10^4), sell at open x (1 - bps / 10^4).
  EXPECT_DOUBLE_EQ(model.FillPrice(OrderSide::kBuy, 200.0, 3.0, 0.0), 200.0 * 1.001);
  EXPECT_DOUBLE_EQ(model.FillPrice(OrderSide::kSell, 200.0, 3.0, 0.0), 200.0 * 0.999);
}

TEST(SlippageModelTest, VolumeModelsScaleWithParticipation) {
  const SlippageModel linear{SlippageKind::kLinear, 0.5};
  EXPECT_DOUBLE_EQ(linear.Fraction(10.0, 1000.0), 0.5 * 0.01);
  EXPECT_DOUBLE_EQ(linear.Fraction(-10.0, 1000.0), 0.5 * 0.01);  // size, not direction
  const SlippageModel root{SlippageKind::kSqrt, 0.1};
  EXPECT_DOUBLE_EQ(root.Fraction(40.0, 1000.0), 0.1 * 0.2);
  // No volume: nothing to trade against.
  EXPECT_TRUE(std::isinf(linear.Fraction(1.0, 0.0)));
  EXPECT_TRUE(std::isinf(root.Fraction(1.0, std::nan(""))));
  // A sell never fills below zero.
  EXPECT_EQ(linear.FillPrice(OrderSide::kSell, 100.0, 1.0, 0.0), 0.0);
}

TEST(FeeScheduleTest, MakerAndTakerRates) {
  const FeeSchedule fees{-1.0, 7.5};
  ASSERT_TRUE(fees.Validate().ok());
  EXPECT_DOUBLE_EQ(fees.Fee(10'000.0, Liquidity::kTaker), 7.5);
  EXPECT_DOUBLE_EQ(fees.Fee(10'000.0, Liquidity::kMaker), -1.0);  // a rebate
  const FeeSchedule huge_taker{2.0, 1e4};
  EXPECT_NE(huge_taker.Validate().message().find("taker_bps"), std::string::npos);
  const FeeSchedule huge_rebate{-500.0, 5.0};
  EXPECT_NE(huge_rebate.Validate().message().find("maker_bps"), std::string::npos);
}

}  // namespace
}  // namespace vigil
