#include "vigil/features/kernel.h"

#include <gtest/gtest.h>

#include <cmath>

#include "vigil/data/market_data.h"

namespace vigil {
namespace {

// A running sum of closes: enough to check the batch driver's wiring.
class RunningSum final : public FeatureKernel {
 public:
  const std::vector<std::string>& output_names() const override { return names_; }
  void Update(const Bar& bar, std::span<double> out) override {
    sum_ += bar.close;
    out[0] = sum_;
    out[1] = static_cast<double>(++count_);
  }
  void Reset() override { sum_ = 0, count_ = 0; }
  std::unique_ptr<FeatureKernel> Clone() const override { return std::make_unique<RunningSum>(); }

 private:
  std::vector<std::string> names_{"sum", "count"};
  double sum_ = 0;
  int64_t count_ = 0;
};

TEST(KernelTest, ComputeOverBarsRunsFreshClonesInOrder) {
  std::vector<std::unique_ptr<FeatureKernel>> kernels;
  kernels.push_back(std::make_unique<RunningSum>());
  std::vector<double> scratch(2);
  kernels[0]->Update(Bar{0, 1, 1, 1, 100, 1}, scratch);  // state must not leak into batch
  std::vector<Bar> bars = {{10, 1, 1, 1, 1, 1}, {20, 1, 1, 1, 2, 1}, {30, 1, 1, 1, 4, 1}};
  Frame out = ComputeOverBars(kernels, bars);
  ASSERT_EQ(out.rows(), 3);
  EXPECT_EQ(out.timestamps()[2], 30);
  EXPECT_EQ(out.Doubles("sum")[0], 1.0);
  EXPECT_EQ(out.Doubles("sum")[2], 7.0);
  EXPECT_EQ(out.Doubles("count")[2], 3.0);
}

TEST(KernelTest, BarsFromCandlesNeedsOhlcv) {
  Frame candles = MakeFrame(SchemaOf(DataKind::kCandles));
  const double row[] = {1, 2, 0.5, 1.5, 10, NAN, NAN};
  candles.AppendRow(60, row);
  auto bars = BarsFromCandles(candles);
  ASSERT_TRUE(bars.ok());
  EXPECT_EQ((*bars)[0].high, 2.0);
  EXPECT_EQ((*bars)[0].volume, 10.0);
  EXPECT_FALSE(BarsFromCandles(Frame({{"close", ColumnType::kDouble}})).ok());
}

}  // namespace
}  // namespace vigil
