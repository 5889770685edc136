#include "vigil/features/feature_set.h"

#include <gtest/gtest.h>

#include <cmath>

#include "features/ta_test_util.h"

namespace vigil {
namespace {

TEST(FeatureSetTest, TaColumnsAreTheContract) {
  auto ta = BuiltinFeatureSet("ta");
  ASSERT_TRUE(ta.ok()) << ta.status().ToString();
  const std::vector<std::string> contract = {"sma_20",
                                             "ema_20",
                                             "wma_20",
                                             "rsi_14",
                                             "macd_12_26_9",
                                             "macd_signal_12_26_9",
                                             "macd_hist_12_26_9",
                                             "bb_lower_20_2",
                                             "bb_mid_20_2",
                                             "bb_upper_20_2",
                                             "bb_pctb_20_2",
                                             "tr",
                                             "atr_14",
                                             "adx_14",
                                             "stoch_fastk_14_3_3",
                                             "stoch_fastd_14_3_3",
                                             "stoch_slowd_14_3_3",
                                             "obv",
                                             "logret_1",
                                             "rv_20"};
  EXPECT_EQ(ta->Columns(), contract);
}

TEST(FeatureSetTest, TaOverTtrcMatchesTtrInEveryColumn) {
  auto ta = BuiltinFeatureSet("ta");
  ASSERT_TRUE(ta.ok());
  const testing_util::TtrFixture& fixture = testing_util::Ttrc();
  Frame out = ComputeOverBars(ta->kernels, fixture.bars);
  ASSERT_EQ(out.rows(), static_cast<int64_t>(fixture.bars.size()));
  for (const std::string& column : ta->Columns()) {
    const std::vector<double>& want = fixture.expected.at(column);
    std::span<const double> got = out.Doubles(column);
    int mismatches = 0;
    for (size_t row = 0; row < want.size(); ++row) {
      const bool ok = std::isnan(want[row]) ? std::isnan(got[row])
                                            : std::fabs(got[row] - want[row]) <=
                                                  1e-9 * std::max(1.0, std::fabs(want[row]));
      if (!ok && ++mismatches <= 3) {
        ADD_FAILURE() << column << " row " << row << ": " << got[row] << " vs TTR " << want[row];
      }
    }
  }
}

TEST(FeatureSetTest, UnknownSetListsTheAvailableOnes) {
  auto missing = BuiltinFeatureSet("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("available: ta"), std::string::npos);
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// Real crypto candles (and the ORCL daily control series) all produce the ta set: no
// infinities anywhere, and past the longest warm-up (ADX: 2n - 1 = 27 bars; MACD signal:
// 26 + 9 - 2 = 33) almost every value is defined. Flat stretches of illiquid markets leave
// a few NaN (e.g. %B of a window with no range, 0/0), never a made-up number.
TEST(FeatureSetTest, RealCandleFilesProduceTheTaSet) {
  const char* files[] = {"candles/ETH_BTC-5m.csv",       "candles/ADA_BTC-5m.csv",
                         "candles/UNITTEST_BTC-30m.csv", "candles/XRP_USDT_USDT-5m-futures.csv",
                         "candles/XRP_ETH-1m.csv",       "candles/orcl-1995-2014.txt"};
  for (const char* file : files) {
    std::vector<Bar> bars = testing_util::SharedCandles(file);
    ASSERT_GT(bars.size(), 100u) << file;
    auto ta = BuiltinFeatureSet("ta");
    ASSERT_TRUE(ta.ok());
    Frame out = ComputeOverBars(ta->kernels, bars);
    int64_t defined = 0, checked = 0;
    for (size_t column = 0; column < out.num_columns(); ++column) {
      std::span<const double> values = out.DoublesAt(column);
      for (size_t row = 0; row < values.size(); ++row) {
        ASSERT_FALSE(std::isinf(values[row])) << file << " " << out.columns()[column].name;
        if (row < 40) continue;
        ++checked;
        defined += std::isfinite(values[row]) ? 1 : 0;
      }
    }
    EXPECT_GT(static_cast<double>(defined), 0.95 * static_cast<double>(checked)) << file;
  }
}

}  // namespace
}  // namespace vigil
