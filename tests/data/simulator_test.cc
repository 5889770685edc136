#include "vigil/data/simulator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "vigil/core/text_file.h"
#include "vigil/data/validation.h"

namespace vigil {
namespace {

SimulatedMarket SimulateOrFail(const SimulationOptions& options) {
  Result<SimulatedMarket> market = Simulate(options);
  EXPECT_TRUE(market.ok()) << market.status().ToString();
  return market.ok() ? std::move(market).value() : SimulatedMarket{};
}

SimulationOptions QuietOptions() {
  SimulationOptions options;
  options.flash_crashes_per_week = 0;
  options.oracle_deviations_per_week = 0;
  options.vault_drawdowns_per_week = 0;
  options.volume_spikes_per_week = 0;
  return options;
}

const RecordBatch* Find(const SimulatedMarket& market, const std::string& instrument,
                        DataKind kind) {
  for (const RecordBatch& batch : market.batches) {
    if (batch.series.kind == kind && batch.series.instrument.ToString() == instrument) {
      return &batch;
    }
  }
  return nullptr;
}

std::vector<const RecordBatch*> OfKind(const SimulatedMarket& market, DataKind kind) {
  std::vector<const RecordBatch*> out;
  for (const RecordBatch& batch : market.batches) {
    if (batch.series.kind == kind) out.push_back(&batch);
  }
  return out;
}

std::vector<double> LogReturns(const RecordBatch& candles) {
  std::span<const double> open = candles.frame.Doubles("open");
  std::span<const double> close = candles.frame.Doubles("close");
  std::vector<double> out;
  for (size_t row = 0; row < close.size(); ++row) out.push_back(std::log(close[row] / open[row]));
  return out;
}

double Correlation(std::span<const double> a, std::span<const double> b) {
  const double n = static_cast<double>(a.size());
  double mean_a = 0.0, mean_b = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    mean_a += a[i] / n;
    mean_b += b[i] / n;
  }
  double ab = 0.0, aa = 0.0, bb = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += (a[i] - mean_a) * (b[i] - mean_b);
    aa += (a[i] - mean_a) * (a[i] - mean_a);
    bb += (b[i] - mean_b) * (b[i] - mean_b);
  }
  return ab / std::sqrt(aa * bb);
}

double LagOneAutocorrelation(std::span<const double> values) {
  return Correlation(values.first(values.size() - 1), values.subspan(1));
}

bool SameDoubles(std::span<const double> a, std::span<const double> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); });
}

bool SameFrames(const Frame& a, const Frame& b) {
  if (a.rows() != b.rows() || a.num_columns() != b.num_columns()) return false;
  if (!std::ranges::equal(a.timestamps(), b.timestamps())) return false;
  for (size_t column = 0; column < a.num_columns(); ++column) {
    const bool same = a.columns()[column].type == ColumnType::kDouble
                          ? SameDoubles(a.DoublesAt(column), b.DoublesAt(column))
                          : std::ranges::equal(a.Int64sAt(column), b.Int64sAt(column));
    if (!same) return false;
  }
  return true;
}

bool SameMarkets(const SimulatedMarket& a, const SimulatedMarket& b) {
  if (a.batches.size() != b.batches.size() || a.events.size() != b.events.size()) return false;
  for (size_t i = 0; i < a.batches.size(); ++i) {
    if (a.batches[i].series != b.batches[i].series || a.batches[i].lines != b.batches[i].lines ||
        !SameFrames(a.batches[i].frame, b.batches[i].frame)) {
      return false;
    }
  }
  for (size_t i = 0; i < a.events.size(); ++i) {
    const SimulatedEvent& x = a.events[i];
    const SimulatedEvent& y = b.events[i];
    if (x.start != y.start || x.end != y.end || x.instrument != y.instrument || x.type != y.type ||
        x.magnitude != y.magnitude) {
      return false;
    }
  }
  return true;
}

bool InAnyEvent(const SimulatedMarket& market, int64_t ts) {
  return std::ranges::any_of(market.events, [ts](const SimulatedEvent& event) {
    return event.start.nanos() <= ts && ts < event.end.nanos();
  });
}

// ---------------------------------------------------------------- shape and determinism

TEST(SimulatorTest, NamesInstrumentsAndCoversThePeriod) {
  SimulationOptions options;
  options.instruments = 12;
  options.days = 1;
  SimulatedMarket market = SimulateOrFail(options);
  std::vector<std::string> symbols;
  for (const RecordBatch* candles : OfKind(market, DataKind::kCandles)) {
    symbols.push_back(candles->series.instrument.symbol);
    EXPECT_EQ(candles->series.instrument.venue, "sim");
    EXPECT_EQ(candles->series.timeframe, "1m");
    ASSERT_EQ(candles->frame.rows(), 1440);
    EXPECT_EQ(candles->frame.time(0), options.start);
    EXPECT_EQ(candles->frame.time(1439), options.start + 1439 * kNanosPerMinute);
  }
  const std::vector<std::string> expected = {"BTC-PERP",  "ETH-PERP",  "SOL-PERP",   "ARB-PERP",
                                             "DOGE-PERP", "AVAX-PERP", "LINK-PERP",  "XRP-PERP",
                                             "OP-PERP",   "LTC-PERP",  "SIM11-PERP", "SIM12-PERP"};
  EXPECT_EQ(symbols, expected);
  const RecordBatch* vault = Find(market, "sim:HLP", DataKind::kVault);
  ASSERT_NE(vault, nullptr);
  EXPECT_EQ(vault->frame.rows(), 1440 / 5);
  const RecordBatch* protocol = Find(market, "sim:LEND", DataKind::kProtocol);
  ASSERT_NE(protocol, nullptr);
  EXPECT_EQ(protocol->frame.rows(), 24);
  EXPECT_EQ(protocol->frame.time(1) - protocol->frame.time(0), kNanosPerHour);
}

TEST(SimulatorTest, SameSeedGivesIdenticalMarket) {
  SimulationOptions options;
  options.days = 2;
  SimulatedMarket first = SimulateOrFail(options);
  SimulatedMarket second = SimulateOrFail(options);
  ASSERT_FALSE(first.batches.empty());
  EXPECT_TRUE(SameMarkets(first, second));
}

TEST(SimulatorTest, DifferentSeedGivesDifferentMarket) {
  SimulationOptions options;
  options.days = 2;
  SimulatedMarket first = SimulateOrFail(options);
  options.seed = 43;
  SimulatedMarket second = SimulateOrFail(options);
  EXPECT_FALSE(SameMarkets(first, second));
  const RecordBatch* a = Find(first, "sim:BTC-PERP", DataKind::kCandles);
  const RecordBatch* b = Find(second, "sim:BTC-PERP", DataKind::kCandles);
  ASSERT_TRUE(a != nullptr && b != nullptr);
  EXPECT_NE(a->frame.Doubles("close").back(), b->frame.Doubles("close").back());
}

// Each instrument draws from its own named streams, so adding one leaves the others be.
TEST(SimulatorTest, AddingAnInstrumentLeavesOthersUnchanged) {
  SimulationOptions options = QuietOptions();
  options.days = 1;
  SimulatedMarket three = SimulateOrFail(options);
  options.instruments = 4;
  SimulatedMarket four = SimulateOrFail(options);
  for (DataKind kind : {DataKind::kCandles, DataKind::kOracle, DataKind::kLiquidations}) {
    const RecordBatch* a = Find(three, "sim:ETH-PERP", kind);
    const RecordBatch* b = Find(four, "sim:ETH-PERP", kind);
    ASSERT_TRUE(a != nullptr && b != nullptr) << KindName(kind);
    EXPECT_TRUE(SameFrames(a->frame, b->frame)) << KindName(kind);
  }
}

TEST(SimulatorTest, RejectsInvalidOptions) {
  struct Case {
    std::function<void(SimulationOptions&)> change;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](SimulationOptions& o) { o.instruments = 0; }, "instruments"},
      {[](SimulationOptions& o) { o.instruments = 51; }, "instruments"},
      {[](SimulationOptions& o) { o.days = 0; }, "days"},
      {[](SimulationOptions& o) { o.days = 3651; }, "days"},
      {[](SimulationOptions& o) { o.instruments = 50, o.days = 400; }, "too large"},
      {[](SimulationOptions& o) { o.start = o.start + kNanosPerSecond; }, "whole minute"},
      {[](SimulationOptions& o) { o.venue = "Bad Venue"; }, "venue"},
      {[](SimulationOptions& o) { o.volatility_scale = 0; }, "volatility_scale"},
      {[](SimulationOptions& o) { o.market_correlation = 1.0; }, "market_correlation"},
      {[](SimulationOptions& o) { o.market_correlation = std::nan(""); }, "market_correlation"},
      {[](SimulationOptions& o) { o.garch_alpha = 0.2, o.garch_beta = 0.8; }, "garch"},
      {[](SimulationOptions& o) { o.shock_dof = 2.0; }, "shock_dof"},
      {[](SimulationOptions& o) { o.turbulent_variance = 0.5; }, "turbulent_variance"},
      {[](SimulationOptions& o) { o.jump_scale = -1; }, "jump_scale"},
      {[](SimulationOptions& o) { o.volume_spikes_per_week = 51; }, "volume_spikes_per_week"},
      {[](SimulationOptions& o) { o.days = 1, o.flash_crashes_per_week = 30; }, "incidents"},
      {[](SimulationOptions& o) { o.vault_interval_minutes = 7; }, "vault_interval_minutes"},
  };
  EXPECT_TRUE(ValidateSimulationOptions(SimulationOptions{}).ok());
  for (const Case& c : cases) {
    SimulationOptions options;
    c.change(options);
    Status status = ValidateSimulationOptions(options);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.expected;
    EXPECT_NE(status.message().find(c.expected), std::string::npos) << status.message();
    EXPECT_FALSE(Simulate(options).ok()) << c.expected;
  }
}

// ---------------------------------------------------------------- data quality

TEST(SimulatorTest, EveryBatchPassesValidation) {
  SimulatedMarket market = SimulateOrFail(SimulationOptions{});
  std::set<DataKind> kinds;
  for (const RecordBatch& batch : market.batches) {
    kinds.insert(batch.series.kind);
    RecordBatch copy = batch;
    std::vector<RejectedRow> rejects;
    SeriesReport report = ValidateBatch(&copy, ValidationOptions{}, "simulated", &rejects);
    EXPECT_TRUE(rejects.empty()) << batch.series.ToString() << ": " << rejects[0].ToString();
    EXPECT_EQ(copy.frame.rows(), batch.frame.rows()) << batch.series.ToString();
    EXPECT_EQ(report.gaps, 0) << batch.series.ToString();
    EXPECT_EQ(report.duplicates, 0) << batch.series.ToString();
    EXPECT_EQ(report.out_of_order, 0) << batch.series.ToString();
  }
  const std::set<DataKind> expected = {DataKind::kCandles, DataKind::kFunding,
                                       DataKind::kOracle,  DataKind::kLiquidations,
                                       DataKind::kVault,   DataKind::kProtocol};
  EXPECT_EQ(kinds, expected);
}

TEST(SimulatorTest, CandlesOpenAtThePreviousClose) {
  SimulatedMarket market = SimulateOrFail(SimulationOptions{});
  for (const RecordBatch* candles : OfKind(market, DataKind::kCandles)) {
    std::span<const double> open = candles->frame.Doubles("open");
    std::span<const double> close = candles->frame.Doubles("close");
    std::span<const double> high = candles->frame.Doubles("high");
    std::span<const double> low = candles->frame.Doubles("low");
    int64_t ranged = 0;
    for (size_t row = 1; row < open.size(); ++row) {
      ASSERT_EQ(open[row], close[row - 1]) << candles->series.ToString() << " row " << row;
      ranged += high[row] > std::max(open[row], close[row]) ? 1 : 0;
    }
    // High comes from the path inside the minute, so it usually exceeds open and close.
    EXPECT_GT(ranged, static_cast<int64_t>(open.size()) / 3) << candles->series.ToString();
  }
}

TEST(SimulatorTest, LiquidationsFillInsideTheirMinute) {
  SimulatedMarket market = SimulateOrFail(SimulationOptions{});
  for (const RecordBatch* liquidations : OfKind(market, DataKind::kLiquidations)) {
    const RecordBatch* candles =
        Find(market, liquidations->series.instrument.ToString(), DataKind::kCandles);
    ASSERT_NE(candles, nullptr);
    std::span<const double> price = liquidations->frame.Doubles("price");
    std::span<const double> qty = liquidations->frame.Doubles("qty");
    std::span<const double> notional = liquidations->frame.Doubles("notional");
    std::span<const int64_t> side = liquidations->frame.Int64s("side");
    for (int64_t row = 0; row < liquidations->frame.rows(); ++row) {
      const int64_t minute =
          (liquidations->frame.time(row) - candles->frame.time(0)) / kNanosPerMinute;
      ASSERT_LT(minute, candles->frame.rows());
      EXPECT_GE(price[row], candles->frame.Doubles("low")[minute]);
      EXPECT_LE(price[row], candles->frame.Doubles("high")[minute]);
      EXPECT_NEAR(notional[row], price[row] * qty[row], 0.01);
      EXPECT_TRUE(side[row] == kSideBuy || side[row] == kSideSell);
    }
  }
}

// Lag-1 autocorrelation of squared returns is near zero for independent returns and
// clearly positive when volatility clusters (GARCH plus regimes).
TEST(SimulatorTest, VolatilityClusters) {
  SimulationOptions options = QuietOptions();
  options.jumps_per_day = 0;  // isolated jumps dilute the statistic; they are not clustering
  SimulatedMarket market = SimulateOrFail(options);
  for (const RecordBatch* candles : OfKind(market, DataKind::kCandles)) {
    std::vector<double> squared = LogReturns(*candles);
    for (double& r : squared) r *= r;
    EXPECT_GT(LagOneAutocorrelation(squared), 0.05) << candles->series.ToString();
  }
  options.garch_alpha = 0.0;
  options.garch_beta = 0.0;
  options.turbulent_variance = 1.0;
  SimulatedMarket independent = SimulateOrFail(options);
  for (const RecordBatch* candles : OfKind(independent, DataKind::kCandles)) {
    std::vector<double> squared = LogReturns(*candles);
    for (double& r : squared) r *= r;
    EXPECT_LT(std::abs(LagOneAutocorrelation(squared)), 0.04) << candles->series.ToString();
  }
}

TEST(SimulatorTest, ReturnsCorrelateAsConfigured) {
  for (double configured : {0.0, 0.6, 0.9}) {
    SimulationOptions options = QuietOptions();
    options.market_correlation = configured;
    SimulatedMarket market = SimulateOrFail(options);
    std::vector<std::vector<double>> returns;
    for (const RecordBatch* candles : OfKind(market, DataKind::kCandles)) {
      returns.push_back(LogReturns(*candles));
    }
    ASSERT_EQ(returns.size(), 3u);
    for (size_t a = 0; a < returns.size(); ++a) {
      for (size_t b = a + 1; b < returns.size(); ++b) {
        // GARCH variances and jumps are per instrument, which lowers the realised
        // correlation a little below the shocks' correlation.
        const double realised = Correlation(returns[a], returns[b]);
        EXPECT_NEAR(realised, configured * 0.93, 0.07) << configured << " " << a << "-" << b;
      }
    }
  }
}

// ---------------------------------------------------------------- incidents

class IncidentTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override {
    SimulationOptions options;
    options.seed = GetParam();
    market_ = SimulateOrFail(options);
  }
  SimulatedMarket market_;
};

TEST_P(IncidentTest, EveryTypeAppearsInOrderInsideThePeriod) {
  std::set<std::string> types;
  const Timestamp end = SimulationOptions{}.start + 7 * kNanosPerDay;
  for (size_t i = 0; i < market_.events.size(); ++i) {
    const SimulatedEvent& event = market_.events[i];
    types.insert(event.type);
    EXPECT_LT(event.start, event.end);
    EXPECT_GE(event.start, SimulationOptions{}.start);
    EXPECT_LE(event.end, end);
    if (i > 0) {
      EXPECT_LE(market_.events[i - 1].end, event.start) << "incidents overlap";
    }
  }
  const std::set<std::string> expected = {"flash_crash", "oracle_deviation", "vault_drawdown",
                                          "volume_spike"};
  EXPECT_EQ(types, expected);
}

TEST_P(IncidentTest, FlashCrashFallsAndSetsOffLiquidations) {
  for (const SimulatedEvent& event : market_.events) {
    if (event.type != "flash_crash") continue;
    const RecordBatch* candles = Find(market_, event.instrument, DataKind::kCandles);
    const RecordBatch* liquidations = Find(market_, event.instrument, DataKind::kLiquidations);
    ASSERT_TRUE(candles != nullptr && liquidations != nullptr);
    FrameView window = candles->frame.Slice(event.start, event.end);
    const double first_open = window.Doubles("open")[0];
    const double lowest = std::ranges::min(window.Doubles("low"));
    EXPECT_GE((first_open - lowest) / first_open, event.magnitude - 1e-12);
    EXPECT_GE(event.magnitude, 0.03);

    double inside = 0.0, outside = 0.0;
    std::span<const double> notional = liquidations->frame.Doubles("notional");
    for (int64_t row = 0; row < liquidations->frame.rows(); ++row) {
      const int64_t ts = liquidations->frame.timestamps()[row];
      if (event.start.nanos() <= ts && ts < event.end.nanos()) {
        inside += notional[row];
      } else if (!InAnyEvent(market_, ts)) {
        outside += notional[row];
      }
    }
    const double window_minutes = static_cast<double>(event.end - event.start) / kNanosPerMinute;
    double quiet_minutes = 0.0;
    for (int64_t ts : candles->frame.timestamps()) quiet_minutes += InAnyEvent(market_, ts) ? 0 : 1;
    EXPECT_GT(inside / window_minutes, 10.0 * outside / quiet_minutes) << event.start.ToIso();
  }
}

TEST_P(IncidentTest, OracleDeviatesOnlyDuringItsIncident) {
  std::vector<SimulatedEvent> incidents;
  for (const SimulatedEvent& event : market_.events) {
    if (event.type == "oracle_deviation") incidents.push_back(event);
  }
  ASSERT_FALSE(incidents.empty());
  for (const RecordBatch* oracle : OfKind(market_, DataKind::kOracle)) {
    std::span<const double> price = oracle->frame.Doubles("price");
    std::span<const double> reference = oracle->frame.Doubles("reference_price");
    const std::string instrument = oracle->series.instrument.ToString();
    for (const SimulatedEvent& event : incidents) {
      if (event.instrument != instrument) continue;
      double worst = 0.0;
      for (int64_t row = 0; row < oracle->frame.rows(); ++row) {
        const int64_t ts = oracle->frame.timestamps()[row];
        if (event.start.nanos() <= ts && ts < event.end.nanos()) {
          worst = std::max(worst, std::abs(price[row] / reference[row] - 1.0));
        }
      }
      EXPECT_GT(worst, 0.02) << event.start.ToIso();
      EXPECT_NEAR(worst, event.magnitude, 1e-12);
    }
    // Outside the incidents: the answer as of each minute stays close to the mark.
    const RecordBatch* candles = Find(market_, instrument, DataKind::kCandles);
    ASSERT_NE(candles, nullptr);
    int64_t oracle_row = -1;
    double worst_outside = 0.0;
    for (int64_t row = 0; row < candles->frame.rows(); ++row) {
      const int64_t ts = candles->frame.timestamps()[row];
      while (oracle_row + 1 < oracle->frame.rows() &&
             oracle->frame.timestamps()[oracle_row + 1] <= ts) {
        ++oracle_row;
      }
      ASSERT_GE(oracle_row, 0);
      if (InAnyEvent(market_, ts)) continue;
      const double mark = candles->frame.Doubles("open")[row];
      worst_outside = std::max(worst_outside, std::abs(price[oracle_row] / mark - 1.0));
    }
    EXPECT_LT(worst_outside, 0.01) << instrument;
  }
}

double MaxDrawdown(std::span<const double> equity) {
  double peak = equity.empty() ? 0.0 : equity[0];
  double worst = 0.0;
  for (double value : equity) {
    peak = std::max(peak, value);
    worst = std::max(worst, (peak - value) / peak);
  }
  return worst;
}

TEST_P(IncidentTest, VaultDrawdownShowsInEquity) {
  const RecordBatch* vault = Find(market_, "sim:HLP", DataKind::kVault);
  ASSERT_NE(vault, nullptr);
  std::span<const double> equity = vault->frame.Doubles("equity");
  for (const SimulatedEvent& event : market_.events) {
    if (event.type != "vault_drawdown") continue;
    EXPECT_EQ(event.instrument, "sim:HLP");
    FrameView window = vault->frame.Slice(event.start, event.end);
    EXPECT_GE(MaxDrawdown(window.Doubles("equity")), event.magnitude - 1e-12);
    EXPECT_GE(event.magnitude, 0.02);
    // Any stretch of as many rows away from all incidents falls far less.
    double quiet_worst = 0.0;
    for (int64_t begin = 0; begin + window.rows() <= vault->frame.rows(); ++begin) {
      const int64_t end = begin + window.rows();
      bool quiet = true;
      for (int64_t row = begin; row < end && quiet; ++row) {
        quiet = !InAnyEvent(market_, vault->frame.timestamps()[row]);
      }
      if (quiet)
        quiet_worst = std::max(quiet_worst, MaxDrawdown(equity.subspan(begin, end - begin)));
    }
    EXPECT_LT(quiet_worst, event.magnitude / 2) << event.start.ToIso();
  }
}

TEST_P(IncidentTest, VolumeSpikeMultipliesVolumeWithoutABigMove) {
  for (const SimulatedEvent& event : market_.events) {
    if (event.type != "volume_spike") continue;
    const RecordBatch* candles = Find(market_, event.instrument, DataKind::kCandles);
    ASSERT_NE(candles, nullptr);
    auto mean_volume = [&](Timestamp from, Timestamp to) {
      std::span<const double> volume = candles->frame.Slice(from, to).Doubles("quote_volume");
      double sum = 0.0;
      for (double v : volume) sum += v;
      return sum / static_cast<double>(volume.size());
    };
    // The hour before the window is free of incidents (slots keep margins).
    const double before = mean_volume(event.start - kNanosPerHour, event.start);
    const double ratio = mean_volume(event.start, event.end) / before;
    EXPECT_GT(ratio, event.magnitude / 3.0) << event.start.ToIso();
    EXPECT_LT(ratio, event.magnitude * 3.0) << event.start.ToIso();
    EXPECT_GE(event.magnitude, 5.0);
    double biggest_move = 0.0;
    FrameView window = candles->frame.Slice(event.start, event.end);
    for (int64_t row = 0; row < window.rows(); ++row) {
      biggest_move =
          std::max(biggest_move,
                   std::abs(std::log(window.Doubles("close")[row] / window.Doubles("open")[row])));
    }
    EXPECT_LT(biggest_move, 0.03) << event.start.ToIso();
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, IncidentTest, ::testing::Values(42u, 7u, 2024u));

// ---------------------------------------------------------------- funding

TEST(SimulatorTest, FundingSettlesAtEightHourMarks) {
  SimulationOptions options;
  options.start = options.start + 5 * kNanosPerHour;  // 05:00: first settlement at 08:00
  options.days = 2;
  SimulatedMarket market = SimulateOrFail(options);
  for (const RecordBatch* funding : OfKind(market, DataKind::kFunding)) {
    const RecordBatch* candles =
        Find(market, funding->series.instrument.ToString(), DataKind::kCandles);
    ASSERT_NE(candles, nullptr);
    // 08:00, 16:00, 00:00 on each day up to 05:00 on the third: 6 settlements.
    ASSERT_EQ(funding->frame.rows(), 6);
    EXPECT_EQ(funding->frame.time(0), options.start + 3 * kNanosPerHour);
    std::span<const double> rate = funding->frame.Doubles("rate");
    int64_t at_interest_rate = 0;
    for (int64_t row = 0; row < funding->frame.rows(); ++row) {
      const int64_t ts = funding->frame.timestamps()[row];
      EXPECT_EQ(ts % (8 * kNanosPerHour), 0);
      const int64_t minute = (ts - options.start.nanos()) / kNanosPerMinute;
      EXPECT_EQ(funding->frame.Doubles("mark_price")[row], candles->frame.Doubles("open")[minute]);
      EXPECT_LE(std::abs(rate[row]), 0.0075);
      // Binance's formula clamps small premiums to the 0.01% interest rate.
      at_interest_rate += std::abs(rate[row] - 0.0001) < 1e-12 ? 1 : 0;
    }
    EXPECT_GE(at_interest_rate, 3) << funding->series.ToString();
  }
}

// ---------------------------------------------------------------- CSV output

std::vector<std::string> Split(std::string_view line) {
  std::vector<std::string> fields;
  size_t begin = 0;
  while (true) {
    const size_t comma = line.find(',', begin);
    fields.emplace_back(line.substr(begin, comma - begin));
    if (comma == std::string_view::npos) return fields;
    begin = comma + 1;
  }
}

std::vector<std::string> ReadLines(const std::string& path) {
  Result<std::string> text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  std::vector<std::string> lines;
  const std::string contents = text.ok() ? *text : std::string();
  LineCursor cursor(contents);
  std::string_view line;
  while (cursor.Next(&line)) lines.emplace_back(line);
  return lines;
}

// Checks that line `line` of a kind's CSV file holds row `row` of `batch`, value by value.
void ExpectRowMatches(const std::vector<std::string>& fields, const RecordBatch& batch,
                      int64_t row) {
  const KindSchema& schema = SchemaOf(batch.series.kind);
  ASSERT_EQ(fields.size(), schema.fields.size() + 2);
  EXPECT_EQ(fields[0], batch.frame.time(row).ToIso());
  EXPECT_EQ(fields[1], batch.series.instrument.ToString());
  for (size_t column = 0; column < schema.fields.size(); ++column) {
    const std::string& text = fields[column + 2];
    if (schema.fields[column].type == ColumnType::kDouble) {
      double value = 0.0;
      std::from_chars(text.data(), text.data() + text.size(), value);
      EXPECT_EQ(value, batch.frame.DoublesAt(column)[row]) << schema.fields[column].name;
    } else {
      int64_t value = 0;
      std::from_chars(text.data(), text.data() + text.size(), value);
      EXPECT_EQ(value, batch.frame.Int64sAt(column)[row]) << schema.fields[column].name;
    }
  }
}

class SimulatorCsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("vigil_simulator_csv_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SimulatorCsvTest, WritesOneFilePerKindWithExactHeaders) {
  SimulationOptions options;
  options.days = 2;
  SimulatedMarket market = SimulateOrFail(options);
  const std::string out = (dir_ / "nested" / "sim").string();
  std::vector<std::string> written;
  ASSERT_TRUE(WriteSimulationCsv(market, out, &written).ok());
  const std::vector<std::string> names = {"candles", "liquidations", "funding",
                                          "oracle",  "vault",        "protocol"};
  ASSERT_EQ(written.size(), names.size() + 1);
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(written[i], out + "/" + names[i] + ".csv");
    const DataKind kind = *ParseDataKind(names[i]);
    const std::vector<std::string> lines = ReadLines(written[i]);
    std::string header = "ts,instrument";
    for (const FieldSpec& field : SchemaOf(kind).fields) header += "," + std::string(field.name);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0], header);
    int64_t rows = 0;
    for (const RecordBatch* batch : OfKind(market, kind)) {
      rows += batch->frame.rows();
      // RecordBatch::lines points at the row's line in this file.
      for (int64_t row = 0; row < batch->frame.rows(); ++row) {
        ASSERT_LT(batch->lines[row] - 1, static_cast<int64_t>(lines.size()));
        ExpectRowMatches(Split(lines[batch->lines[row] - 1]), *batch, row);
      }
    }
    EXPECT_EQ(static_cast<int64_t>(lines.size()) - 1, rows) << names[i];
  }
  const std::vector<std::string> events = ReadLines(written.back());
  EXPECT_EQ(written.back(), out + "/events.csv");
  ASSERT_EQ(events.size(), market.events.size() + 1);
  EXPECT_EQ(events[0], "start,end,instrument,type");
  for (size_t i = 0; i < market.events.size(); ++i) {
    const std::vector<std::string> fields = Split(events[i + 1]);
    ASSERT_EQ(fields.size(), 4u);
    EXPECT_EQ(fields[0], market.events[i].start.ToIso());
    EXPECT_EQ(fields[1], market.events[i].end.ToIso());
    EXPECT_EQ(fields[2], market.events[i].instrument);
    EXPECT_EQ(fields[3], market.events[i].type);
  }
}

TEST_F(SimulatorCsvTest, WritesEmptyFieldsForMissingValues) {
  SimulatedMarket market;
  RecordBatch batch;
  batch.series = SeriesKey{Instrument{"sim", "X"}, DataKind::kOracle, ""};
  batch.frame = MakeFrame(SchemaOf(DataKind::kOracle));
  const std::array<double, 2> values = {1.5, std::nan("")};
  const std::array<int64_t, 1> round = {kMissingInt};
  batch.frame.AppendRow(0, values, round);
  market.batches.push_back(batch);
  ASSERT_TRUE(WriteSimulationCsv(market, dir_.string(), nullptr).ok());
  const std::vector<std::string> lines = ReadLines((dir_ / "oracle.csv").string());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "1970-01-01T00:00:00.000Z,sim:X,1.5,,");
}

TEST_F(SimulatorCsvTest, FailsWhenTheDirectoryIsAFile) {
  std::filesystem::create_directories(dir_);
  const std::string file = (dir_ / "plain").string();
  ASSERT_TRUE(WriteFileAtomically(file, "x").ok());
  Status status = WriteSimulationCsv(SimulatedMarket{}, file, nullptr);
  EXPECT_EQ(status.code(), StatusCode::kIoError);
  EXPECT_NE(status.message().find(file), std::string::npos);
}

}  // namespace
}  // namespace vigil
