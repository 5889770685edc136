// Oracle, vault, funding and DeFi kernels (onchain.h): hand-computed values on small event
// streams, odd input, two-pass reference computations on real data, streaming = batch and
// point-in-time parity on real Chainlink, DeFiLlama and funding files, and the catalogue
// entries of the oracle, vault, funding and defi groups.
#include "vigil/features/onchain.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "features/event_test_util.h"
#include "vigil/core/timestamp.h"
#include "vigil/data/reader.h"
#include "vigil/features/catalogue.h"

namespace vigil {
namespace {

using testing_util::ExpectEventPointInTime;
using testing_util::ExpectEventStreamingEqualsBatch;
using testing_util::LoadSharedEvents;
using testing_util::MakeEvents;
using testing_util::RunColumn;

constexpr int64_t kSec = kNanosPerSecond;
constexpr int64_t kDay = kNanosPerDay;
const double kNaN = std::nan("");

const std::string kBtcUsd =
    "oracle/chainlink_BTC-USD_0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c.csv";
const std::string kEthBtc =
    "oracle/chainlink_ETH-BTC_0xAc559F25B1619171CbC396a50854A3240b6A4e99.csv";
const std::string kStEthEth =
    "oracle/chainlink_stETH-ETH_0x86392dC19c0b719886221c78AB11eb8Cf5c52812.csv";

// Compares element-wise: NaN where `want` is NaN, else within rel * max(|want|, floor).
void ExpectValues(const std::vector<double>& got, const std::vector<double>& want,
                  double rel = 1e-12, double floor = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  int failures = 0;
  for (size_t row = 0; row < want.size() && failures < 5; ++row) {
    const bool ok = std::isnan(want[row]) ? std::isnan(got[row])
                                          : std::fabs(got[row] - want[row]) <=
                                                rel * std::max(std::fabs(want[row]), floor);
    if (!ok) {
      ++failures;
      ADD_FAILURE() << "row " << row << ": got " << got[row] << ", want " << want[row];
    }
  }
}

std::vector<double> Column(const EventKernel& kernel, const std::vector<const EventStream*>& in,
                           const std::string& name) {
  return RunColumn(kernel, in, name);
}
std::vector<double> Column(const EventKernel& kernel, const EventStream& stream) {
  return RunColumn(kernel, {&stream}, kernel.output_names().at(0));
}

// Feeds every event of `stream` to a fresh clone and emits once at `now`.
std::vector<double> EmitAfter(const EventKernel& kernel, const EventStream& stream, int64_t now) {
  std::unique_ptr<EventKernel> live = kernel.Clone();
  for (const Event& e : stream.events()) live->Observe(0, e);
  std::vector<double> out(kernel.output_names().size());
  live->Emit(now, out);
  return out;
}

void ExpectParity(const EventKernel& kernel, const std::vector<const EventStream*>& inputs) {
  SCOPED_TRACE(kernel.output_names().at(0));
  ExpectEventStreamingEqualsBatch(kernel, inputs);
  ExpectEventPointInTime(kernel, inputs, 10);
}

// Two-pass references.
double Mean(const std::vector<double>& x) {
  double sum = 0;
  for (double v : x) sum += v;
  return sum / static_cast<double>(x.size());
}
double SampleSd(const std::vector<double>& x) {
  const double mean = Mean(x);
  double m2 = 0;
  for (double v : x) m2 += (v - mean) * (v - mean);
  return std::sqrt(m2 / static_cast<double>(x.size() - 1));
}
bool AllEqual(const std::vector<double>& x) {
  return std::all_of(x.begin(), x.end(), [&](double v) { return v == x.front(); });
}
// values[end - n, end)
std::vector<double> Last(const std::vector<double>& values, size_t end, size_t n) {
  return {values.begin() + static_cast<long>(end - n), values.begin() + static_cast<long>(end)};
}

double Field(const Event& e, int index) { return e.values[static_cast<size_t>(index)]; }

// --- oracle ---

// rows: {ts, price, reference_price, round_id}
EventStream SmallOracle() {
  return MakeEvents(DataKind::kOracle, {{1 * kSec, 101, 100, 1},
                                        {2 * kSec, 99, 100, 2},
                                        {3 * kSec, 100.5, 100, 3},
                                        {4 * kSec, 100, kNaN, 4}});
}

TEST(OracleDeviationTest, HandComputedFromRowReference) {
  const EventStream oracle = SmallOracle();
  ExpectValues(Column(*MakeOracleDeviation(), oracle), {0.01, -0.01, 0.005, kNaN});
  ExpectValues(Column(*MakeOracleDeviationVelocity(), oracle),
               {kNaN, -0.02 * 3600, 0.015 * 3600, kNaN});
  auto stats = MakeOracleDeviationStats(2);
  ASSERT_EQ(
      stats->output_names(),
      (std::vector<std::string>{"oracle_dev_mean_2", "oracle_dev_std_2", "oracle_dev_absmax_2"}));
  // Deviations are of order 1e-2: compare to 1e-15 absolute where the mean is near zero.
  ExpectValues(Column(*stats, {&oracle}, "oracle_dev_mean_2"), {kNaN, 0, -0.0025, -0.0025}, 1e-12,
               1e-3);
  ExpectValues(Column(*stats, {&oracle}, "oracle_dev_std_2"),
               {kNaN, 0.02 / std::sqrt(2.0), 0.015 / std::sqrt(2.0), 0.015 / std::sqrt(2.0)});
  ExpectValues(Column(*stats, {&oracle}, "oracle_dev_absmax_2"), {kNaN, 0.01, 0.01, 0.01});
}

TEST(OracleDeviationTest, PersistenceCountsSecondsUntilNow) {
  const EventStream oracle = SmallOracle();
  auto persist = MakeOracleDeviationPersistence(60);
  ASSERT_EQ(persist->output_names()[0], "oracle_dev_persist_60bps");
  // |d| = 100, 100, 50 bps, then undefined.
  ExpectValues(Column(*persist, oracle), {0, 1, 0, kNaN});
  // As of a later `now`, the run that started at 1s is 9 s old.
  EXPECT_DOUBLE_EQ(EmitAfter(*persist, oracle.Prefix(2), 10 * kSec)[0], 9);
  EXPECT_DOUBLE_EQ(EmitAfter(*persist, oracle.Prefix(3), 10 * kSec)[0], 0);
  // A threshold above every |d| never starts a run.
  EXPECT_DOUBLE_EQ(EmitAfter(*MakeOracleDeviationPersistence(150), oracle.Prefix(2), 5 * kSec)[0],
                   0);
  EXPECT_TRUE(std::isnan(EmitAfter(*persist, oracle.Prefix(0), 5 * kSec)[0]));
}

TEST(OracleDeviationTest, ReferenceCandlesGiveTheReferencePrice) {
  // Candles of the reference at 0s (100), 2.5s (110) and 3s (95); oracle at 1s and 3s. At
  // equal times the candle is seen first.
  const EventStream candles =
      EventStream::FromBars(std::vector<Bar>{{0, 100, 100, 100, 100, 1},
                                             {2500 * kNanosPerMilli, 110, 110, 110, 110, 1},
                                             {3 * kSec, 95, 95, 95, 95, 1}});
  const EventStream oracle =
      MakeEvents(DataKind::kOracle, {{1 * kSec, 101, 50, 1}, {3 * kSec, 104.5, 50, 2}});
  auto dev = MakeOracleDeviation("binance:BTC/USDT");
  ASSERT_EQ(dev->inputs().size(), 2u);
  EXPECT_EQ(dev->inputs()[1].kind, DataKind::kCandles);
  EXPECT_EQ(dev->inputs()[1].instrument, "binance:BTC/USDT");
  ExpectValues(Column(*dev, {&oracle, &candles}, "oracle_dev"), {0.01, 104.5 / 95 - 1});
  ExpectValues(Column(*MakeOracleDeviationVelocity("binance:BTC/USDT"), {&oracle, &candles},
                      "oracle_dev_velocity"),
               {kNaN, (104.5 / 95 - 1 - 0.01) * 1800});

  // oracle_dev is live: a newer reference close moves it between oracle rounds; the
  // statistics keep the deviation each round had when it was published.
  std::unique_ptr<EventKernel> live = dev->Clone();
  std::unique_ptr<EventKernel> stats = MakeOracleDeviationStats(2, "binance:BTC/USDT");
  for (EventKernel* k : {live.get(), stats.get()}) {
    k->Observe(1, candles.events()[0]);
    k->Observe(0, oracle.events()[0]);
    k->Observe(1, candles.events()[1]);
  }
  std::vector<double> out(1);
  live->Emit(2600 * kNanosPerMilli, out);
  EXPECT_DOUBLE_EQ(out[0], 101.0 / 110 - 1);
  stats->Observe(0, oracle.events()[1]);  // d = 104.5 / 110 - 1 (the 3s candle not yet seen)
  std::vector<double> stat_out(3);
  stats->Emit(3 * kSec, stat_out);
  EXPECT_NEAR(stat_out[0], (0.01 + 104.5 / 110 - 1) / 2, 1e-15);
  EXPECT_NEAR(stat_out[2], 0.05, 1e-15);
}

TEST(OracleDeviationTest, OddInputNeverCrashes) {
  // Zero and NaN prices, a zero reference, repeated timestamps, and a row too short to
  // have any field.
  const EventStream oracle = MakeEvents(DataKind::kOracle, {{1 * kSec, 0, 100, 1},
                                                            {1 * kSec, 100, 0, 2},
                                                            {1 * kSec, kNaN, 100, 3},
                                                            {2 * kSec, 100, 100, 4},
                                                            {2 * kSec, 101, 100, 5}});
  EXPECT_TRUE(std::isnan(Column(*MakeOracleDeviation(), oracle)[0]));
  ExpectValues(Column(*MakeOracleDeviationVelocity(), oracle), {kNaN, kNaN, kNaN, kNaN, kNaN});
  const Event empty{DataKind::kOracle, 3 * kSec, {}, nullptr};
  for (auto& kernel :
       {MakeOracleDeviation(), MakeOracleDeviationStats(2), MakeOracleDeviationPersistence(1),
        MakeOracleDeviationVelocity(), MakeOracleDeviationStats(2, "x:Y")}) {
    kernel->Observe(0, empty);
    kernel->Observe(static_cast<int>(kernel->inputs().size()) - 1, empty);
    std::vector<double> out(kernel->output_names().size());
    kernel->Emit(3 * kSec, out);
    for (double v : out) EXPECT_TRUE(std::isnan(v)) << kernel->output_names()[0];
  }
}

// The stETH/ETH feed against its 1:1 peg. The file's answers have 18 decimals and the
// loader scales by 10^8, so the peg is 10^10 in the loaded units: one reference candle
// before every round.
TEST(OracleDeviationTest, StEthPegOnRealChainlinkRounds) {
  const EventStream oracle = LoadSharedEvents(DataKind::kOracle, kStEthEth, FileFormat::kChainlink);
  ASSERT_GT(oracle.size(), 700u);
  constexpr double kPeg = 1e10;
  const EventStream peg = EventStream::FromBars(std::vector<Bar>{{0, kPeg, kPeg, kPeg, kPeg, 0}});
  const std::vector<const EventStream*> inputs = {&oracle, &peg};
  const std::string ref = "peg:STETH/ETH";

  const std::vector<double> dev = Column(*MakeOracleDeviation(ref), inputs, "oracle_dev");
  std::vector<double> want;
  for (const Event& e : oracle.events()) want.push_back(Field(e, fields::kOraclePrice) / kPeg - 1);
  ExpectValues(dev, want);

  // Persistence: a run above 50 bps grows by the time between rounds and restarts at 0.
  const std::vector<double> persist =
      Column(*MakeOracleDeviationPersistence(50, ref), inputs, "oracle_dev_persist_50bps");
  double longest = 0;
  for (size_t i = 0; i < dev.size(); ++i) {
    const bool above = std::fabs(dev[i]) > 50e-4;
    const bool was_above = i > 0 && std::fabs(dev[i - 1]) > 50e-4;
    const double step =
        i > 0 ? static_cast<double>(oracle.events()[i].ts - oracle.events()[i - 1].ts) / kSec : 0;
    const double expected = !above ? 0 : was_above ? persist[i - 1] + step : 0;
    ASSERT_NEAR(persist[i], expected, 1e-6) << "round " << i;
    longest = std::max(longest, persist[i]);
  }
  EXPECT_GT(longest, 86400) << "the June 2022 depeg lasted days";

  for (const auto& kernel :
       {MakeOracleDeviation(ref), MakeOracleDeviationStats(20, ref),
        MakeOracleDeviationPersistence(50, ref), MakeOracleDeviationVelocity(ref)}) {
    ExpectParity(*kernel, inputs);
  }
}

// BTC/USD rounds against a reference that lags the oracle by ten minutes (candles built
// from the rounds themselves): real timing, deviations of a realistic size.
TEST(OracleDeviationTest, StatsMatchTwoPassOnRealChainlinkRounds) {
  const EventStream oracle = LoadSharedEvents(DataKind::kOracle, kBtcUsd, FileFormat::kChainlink);
  ASSERT_GT(oracle.size(), 10000u);
  constexpr int64_t kLag = 600 * kSec;
  std::vector<Bar> bars;
  for (const Event& e : oracle.events()) {
    const double p = Field(e, fields::kOraclePrice);
    bars.push_back({e.ts + kLag, p, p, p, p, 0});
  }
  const EventStream reference = EventStream::FromBars(bars);
  const std::vector<const EventStream*> inputs = {&oracle, &reference};
  const std::string ref = "lagged:BTC/USD";

  // Independent as-of lookup of the reference.
  std::vector<double> d;
  for (const Event& e : oracle.events()) {
    const auto after = std::upper_bound(bars.begin(), bars.end(), e.ts,
                                        [](int64_t t, const Bar& b) { return t < b.ts; });
    d.push_back(after == bars.begin() ? kNaN
                                      : Field(e, fields::kOraclePrice) / (after - 1)->close - 1);
  }
  ExpectValues(Column(*MakeOracleDeviation(ref), inputs, "oracle_dev"), d);

  constexpr size_t kN = 20;
  auto stats = MakeOracleDeviationStats(kN, ref);
  const auto rows = RunOverInputs(*stats, inputs);
  std::vector<double> defined;
  std::vector<double> want_mean;
  std::vector<double> want_sd;
  std::vector<double> want_absmax;
  for (double v : d) {
    if (!std::isnan(v)) defined.push_back(v);
    if (defined.size() < kN) {
      want_mean.push_back(kNaN);
      want_sd.push_back(kNaN);
      want_absmax.push_back(kNaN);
      continue;
    }
    const std::vector<double> window = Last(defined, defined.size(), kN);
    want_mean.push_back(Mean(window));
    want_sd.push_back(SampleSd(window));
    double absmax = 0;
    for (double x : window) absmax = std::max(absmax, std::fabs(x));
    want_absmax.push_back(absmax);
  }
  std::vector<double> mean;
  std::vector<double> sd;
  std::vector<double> absmax;
  for (const auto& row : rows) {
    mean.push_back(row[0]);
    sd.push_back(row[1]);
    absmax.push_back(row[2]);
  }
  ExpectValues(mean, want_mean, 1e-9, 1e-6);  // the mean crosses zero: floor at 1e-6
  ExpectValues(sd, want_sd, 1e-9);
  ExpectValues(absmax, want_absmax, 0);

  std::vector<double> velocity(d.size(), kNaN);
  for (size_t i = 1; i < d.size(); ++i) {
    const int64_t dt = oracle.events()[i].ts - oracle.events()[i - 1].ts;
    if (dt > 0) velocity[i] = (d[i] - d[i - 1]) * 3600 * kSec / static_cast<double>(dt);
  }
  ExpectValues(Column(*MakeOracleDeviationVelocity(ref), inputs, "oracle_dev_velocity"), velocity,
               1e-9, 1e-6);
  ExpectParity(*stats, inputs);
  ExpectParity(*MakeOracleDeviationPersistence(10, ref), inputs);
}

TEST(OracleDeviationTest, RealRoundsWithoutReferenceAreUndefinedButParity) {
  // Chainlink rounds carry no reference_price: every deviation is NaN, never a crash.
  for (const std::string& path : {kBtcUsd, kEthBtc, kStEthEth}) {
    SCOPED_TRACE(path);
    const EventStream oracle = LoadSharedEvents(DataKind::kOracle, path, FileFormat::kChainlink);
    ASSERT_GT(oracle.size(), 700u);
    for (double v : Column(*MakeOracleDeviation(), oracle)) ASSERT_TRUE(std::isnan(v));
    ExpectParity(*MakeOracleDeviationStats(20), {&oracle});
  }
  const EventStream eth_btc = LoadSharedEvents(DataKind::kOracle, kEthBtc, FileFormat::kChainlink);
  const EventStream reference =
      EventStream::FromBars(std::vector<Bar>{{0, 0.05, 0.05, 0.05, 0.05, 0}});
  ExpectParity(*MakeOracleDeviationVelocity("peg:ETH/BTC"), {&eth_btc, &reference});
}

// --- vault ---

// rows: {ts, equity, pnl, open_interest}
EventStream SmallVault() {
  return MakeEvents(DataKind::kVault, {{1 * kDay, 100, 0, 5},
                                       {2 * kDay, 110, 10, 5},
                                       {3 * kDay, 99, -1, 5},
                                       {4 * kDay, 121, kNaN, 5},
                                       {5 * kDay, 121, 20, 5},
                                       {6 * kDay, 133.1, 26, 5}});
}

TEST(VaultTest, HandComputed) {
  const EventStream vault = SmallVault();
  ExpectValues(Column(*MakeVaultReturn(1), vault),
               {kNaN, 0.1, 99.0 / 110 - 1, 121.0 / 99 - 1, 0, 0.1});
  ExpectValues(Column(*MakeVaultReturn(2), vault), {kNaN, kNaN, -0.01, 0.1, 121.0 / 99 - 1, 0.1});
  ExpectValues(Column(*MakeVaultPnlMomentum(2), vault), {kNaN, kNaN, -1, kNaN, 21, kNaN});
  ExpectValues(Column(*MakeVaultDrawdown(), vault), {0, 0, 0.9 - 1, 0, 0, 0});

  const double r1 = std::log(1.1), r2 = std::log(0.9), r3 = std::log(121.0 / 99), r5 = r1;
  ExpectValues(
      Column(*MakeVaultVol(2), vault),
      {kNaN, kNaN, std::fabs(r1 - r2) / std::sqrt(2.0), std::fabs(r2 - r3) / std::sqrt(2.0),
       std::fabs(r3) / std::sqrt(2.0), std::fabs(r5) / std::sqrt(2.0)});
  ExpectValues(
      Column(*MakeVaultSharpe(3), vault),
      {kNaN, kNaN, kNaN, Mean({r1, r2, r3}) / SampleSd({r1, r2, r3}),
       Mean({r2, r3, 0}) / SampleSd({r2, r3, 0}), Mean({r3, 0, r5}) / SampleSd({r3, 0, r5})});
  // PnL changes: 10, -11, (undefined twice: pnl missing), 6.
  const double z_row5 = (6 - Mean({10, -11, 6})) / SampleSd({10, -11, 6});
  ExpectValues(Column(*MakeVaultPnlZ(3), vault), {kNaN, kNaN, kNaN, kNaN, kNaN, z_row5});
  ExpectValues(Column(*MakeVaultPnlZ(2), vault),
               {kNaN, kNaN, -1 / std::sqrt(2.0), kNaN, kNaN, 1 / std::sqrt(2.0)});
  // Between updates a row sees the latest update's values.
  EXPECT_DOUBLE_EQ(EmitAfter(*MakeVaultReturn(1), vault.Prefix(2), 100 * kDay)[0],
                   Column(*MakeVaultReturn(1), vault)[1]);
}

TEST(VaultTest, NonPositiveEquityIsUndefined) {
  const EventStream vault = MakeEvents(
      DataKind::kVault,
      {{1 * kDay, -5, 0, 0}, {2 * kDay, 0, 0, 0}, {3 * kDay, 10, 0, 0}, {4 * kDay, 20, 0, 0}});
  ExpectValues(Column(*MakeVaultReturn(1), vault), {kNaN, kNaN, kNaN, 1});
  ExpectValues(Column(*MakeVaultDrawdown(), vault), {kNaN, kNaN, 0, 0});
  ExpectValues(Column(*MakeVaultVol(2), vault), {kNaN, kNaN, kNaN, kNaN});
  // Flat PnL: a zero spread gives no z-score.
  ExpectValues(Column(*MakeVaultPnlZ(2), vault), {kNaN, kNaN, kNaN, kNaN});
}

// HLP's DeFiLlama TVL series read as vault equity; PnL derived from it (equity minus the
// first equity) so the PnL kernels see real numbers.
TEST(VaultTest, HlpMatchesTwoPassAndParity) {
  const EventStream hlp = LoadSharedEvents(DataKind::kVault, "tvl/defillama_HLP.json");
  ASSERT_GT(hlp.size(), 150u);
  EXPECT_EQ(hlp.kind(), DataKind::kVault);
  std::vector<std::vector<double>> rows;
  std::vector<double> equity;
  for (const Event& e : hlp.events()) {
    equity.push_back(Field(e, fields::kVaultEquity));
    rows.push_back(
        {static_cast<double>(e.ts), equity.back(), equity.back() - equity.front(), kNaN});
  }
  const EventStream vault = MakeEvents(DataKind::kVault, rows);

  constexpr size_t kN = 24;
  std::vector<double> returns;  // returns[i - 1] = ln(e_i / e_{i-1})
  for (size_t i = 1; i < equity.size(); ++i) returns.push_back(std::log(equity[i] / equity[i - 1]));
  std::vector<double> vol(equity.size(), kNaN);
  std::vector<double> sharpe(equity.size(), kNaN);
  std::vector<double> pnl_z(equity.size(), kNaN);
  std::vector<double> drawdown;
  double peak = 0;
  for (size_t i = 0; i < equity.size(); ++i) {
    peak = std::max(peak, equity[i]);
    drawdown.push_back(equity[i] / peak - 1);
    if (i < kN) continue;
    const std::vector<double> window = Last(returns, i, kN);
    vol[i] = SampleSd(window);
    sharpe[i] = Mean(window) / vol[i];
    std::vector<double> changes;  // pnl changes equal equity changes here
    for (size_t j = i + 1 - kN; j <= i; ++j) changes.push_back(equity[j] - equity[j - 1]);
    pnl_z[i] = (changes.back() - Mean(changes)) / SampleSd(changes);
  }
  ExpectValues(Column(*MakeVaultVol(kN), vault), vol, 1e-9);
  ExpectValues(Column(*MakeVaultSharpe(kN), vault), sharpe, 1e-9);
  ExpectValues(Column(*MakeVaultPnlZ(kN), vault), pnl_z, 1e-9);
  ExpectValues(Column(*MakeVaultDrawdown(), vault), drawdown);

  for (const EventStream* stream : {&hlp, &vault}) {
    for (const auto& kernel : {MakeVaultReturn(1), MakeVaultPnlMomentum(24), MakeVaultDrawdown(),
                               MakeVaultVol(24), MakeVaultSharpe(24), MakeVaultPnlZ(24)}) {
      ExpectParity(*kernel, {stream});
    }
  }
}

// --- funding ---

// rows: {ts, rate, mark_price, index_price}
TEST(FundingTest, HandComputed) {
  const EventStream funding = MakeEvents(DataKind::kFunding, {{8 * 3600 * kSec, 1e-4, 101, 100},
                                                              {16 * 3600 * kSec, 3e-4},
                                                              {24 * 3600 * kSec, -2e-4, 99, 100},
                                                              {32 * 3600 * kSec, 2e-4, 100, 0}});
  ExpectValues(Column(*MakeFundingRate(), funding), {1e-4, 3e-4, -2e-4, 2e-4});
  ExpectValues(Column(*MakeFundingChange(1), funding), {kNaN, 2e-4, -5e-4, 4e-4});
  ExpectValues(Column(*MakeFundingChange(2), funding), {kNaN, kNaN, -3e-4, -1e-4});
  ExpectValues(Column(*MakeFundingBasis(), funding), {0.01, kNaN, -0.01, kNaN});
  // Last three rates at row 2: 1, 3, -2 (e-4): mean 2/3, sample sd sqrt(19/3).
  ExpectValues(Column(*MakeFundingZ(3), funding),
               {kNaN, kNaN, (-2 - 2.0 / 3) / std::sqrt(19.0 / 3), (2 - 1.0) / std::sqrt(7.0)});
  // A flat window has no z-score.
  const EventStream flat = MakeEvents(
      DataKind::kFunding, {{1 * kSec, 1e-4}, {2 * kSec, 1e-4}, {3 * kSec, 1e-4}, {4 * kSec, 1e-4}});
  ExpectValues(Column(*MakeFundingZ(3), flat), {kNaN, kNaN, kNaN, kNaN});
}

TEST(FundingTest, XrpFundingMatchesTwoPassAndParity) {
  const EventStream funding =
      LoadSharedEvents(DataKind::kFunding, "funding/XRP_USDT_USDT-8h-funding_rate.csv");
  ASSERT_GT(funding.size(), 80u);
  std::vector<double> rates;
  for (const Event& e : funding.events()) rates.push_back(Field(e, fields::kFundingRate));
  ExpectValues(Column(*MakeFundingRate(), funding), rates, 0);

  constexpr size_t kN = 21;
  std::vector<double> z(rates.size(), kNaN);
  std::vector<double> change(rates.size(), kNaN);
  int defined = 0;
  for (size_t i = 0; i < rates.size(); ++i) {
    if (i >= 3) change[i] = rates[i] - rates[i - 3];
    if (i + 1 < kN) continue;
    const std::vector<double> window = Last(rates, i + 1, kN);
    if (AllEqual(window)) continue;  // most of the file is the 0.01% default rate
    z[i] = (rates[i] - Mean(window)) / SampleSd(window);
    ++defined;
  }
  EXPECT_GT(defined, 20);
  ExpectValues(Column(*MakeFundingZ(kN), funding), z, 1e-9);
  ExpectValues(Column(*MakeFundingChange(3), funding), change, 0);

  for (const auto& kernel :
       {MakeFundingRate(), MakeFundingZ(kN), MakeFundingChange(1), MakeFundingBasis()}) {
    ExpectParity(*kernel, {&funding});
  }
}

// The Hyperliquid allDexsAssetCtxs snapshot has neither timestamps nor coin names, so the
// reader refuses it (docs/ingest.md). Should a reader ever produce funding rows from it,
// the kernels must keep parity on them.
TEST(FundingTest, HyperliquidAssetContextsSnapshot) {
  ReadOptions options;
  options.kind = DataKind::kFunding;
  options.venue = "hyperliquid";
  options.symbol = "TEST";
  MarketFileReader reader(options);
  auto parsed = reader.Read(std::string(VIGIL_SHARED_DATA) +
                            "/funding/hyperliquid_ws_all_dexs_asset_ctxs.json");
  if (!parsed.ok() || parsed->batches.empty()) {
    GTEST_SKIP() << "no funding rows in the snapshot: "
                 << (parsed.ok() ? "empty" : parsed.status().ToString());
  }
  Frame frame = parsed->batches.front().frame;
  frame.SortByTime();
  auto stream = EventStream::FromFrame(DataKind::kFunding, frame);
  ASSERT_TRUE(stream.ok());
  ExpectParity(*MakeFundingZ(21), {&*stream});
  ExpectParity(*MakeFundingBasis(), {&*stream});
}

// --- DeFi protocol ---

// rows: {ts, tvl, volume, price, market_cap}
TEST(DefiTest, HandComputed) {
  const EventStream protocol = MakeEvents(DataKind::kProtocol, {{0, 100, 10, 1, 200},
                                                                {1 * kDay, 110, kNaN, 1, 220},
                                                                {2 * kDay, 121, 0, 1, kNaN},
                                                                {3 * kDay, 60.5, 6.05, 1, 121}});
  ExpectValues(Column(*MakeTvlChange(1), protocol), {kNaN, 0.1, 0.1, -0.5});
  ExpectValues(Column(*MakeTvlChange(3), protocol), {kNaN, kNaN, kNaN, -0.395});
  const double up = std::log(1.1), down = std::log(0.5);
  ExpectValues(Column(*MakeTvlVol(2), protocol),
               {kNaN, kNaN, 0, std::fabs(up - down) / std::sqrt(2.0)});
  // 10% a day exactly, then three points equally spaced: slope (y_last - y_first) / 2 days.
  ExpectValues(Column(*MakeTvlSlope(3), protocol), {kNaN, kNaN, up, std::log(60.5 / 110) / 2});
  ExpectValues(Column(*MakeTvlDrawdown(2), protocol), {kNaN, 0, 0, -0.5});
  ExpectValues(Column(*MakeTvlDrawdown(1), protocol), {0, 0, 0, 0});
  ExpectValues(Column(*MakeLiquidityRatio(), protocol), {0.1, kNaN, 0, 0.1});
  ExpectValues(Column(*MakeMcapTvl(), protocol), {2, 2, kNaN, 2});
}

TEST(DefiTest, IrregularTimesAndZeroTvl) {
  // Slope over irregular times: points (0, ln 100), (0.5, ln 120), (2, ln 90).
  const EventStream protocol = MakeEvents(
      DataKind::kProtocol,
      {{0, 100, 1}, {kDay / 2, 120, 1}, {2 * kDay, 90, 1}, {3 * kDay, 0, 1}, {3 * kDay, 0, 1}});
  const std::vector<double> t = {0, 0.5, 2};
  const std::vector<double> y = {std::log(100.0), std::log(120.0), std::log(90.0)};
  double sxy = 0, sxx = 0;
  for (int i = 0; i < 3; ++i) {
    sxy += (t[i] - Mean(t)) * (y[i] - Mean(y));
    sxx += (t[i] - Mean(t)) * (t[i] - Mean(t));
  }
  // A zero TVL is skipped by the slope (its window stands) and has no ratio.
  ExpectValues(Column(*MakeTvlSlope(3), protocol), {kNaN, kNaN, sxy / sxx, sxy / sxx, sxy / sxx});
  ExpectValues(Column(*MakeTvlChange(1), protocol), {kNaN, 0.2, -0.25, -1, kNaN});
  ExpectValues(Column(*MakeLiquidityRatio(), protocol), {0.01, 1 / 120.0, 1 / 90.0, kNaN, kNaN});
  ExpectValues(Column(*MakeTvlDrawdown(2), protocol), {kNaN, 0, -0.25, -1, kNaN});
  // All points at one time: no slope.
  const EventStream same_time =
      MakeEvents(DataKind::kProtocol, {{kDay, 100}, {kDay, 120}, {kDay, 90}});
  ExpectValues(Column(*MakeTvlSlope(3), same_time), {kNaN, kNaN, kNaN});
}

TEST(DefiTest, RealTvlMatchesTwoPassAndParity) {
  const EventStream hlp = LoadSharedEvents(DataKind::kProtocol, "tvl/defillama_HLP.json");
  ASSERT_GT(hlp.size(), 150u);
  std::vector<double> days;
  std::vector<double> log_tvl;
  std::vector<double> tvl;
  for (const Event& e : hlp.events()) {
    tvl.push_back(Field(e, fields::kProtocolTvl));
    log_tvl.push_back(std::log(tvl.back()));
    days.push_back(static_cast<double>(e.ts) / kDay);
  }
  constexpr size_t kN = 30;
  std::vector<double> slope(tvl.size(), kNaN);
  std::vector<double> vol(tvl.size(), kNaN);
  std::vector<double> drawdown(tvl.size(), kNaN);
  for (size_t i = 0; i < tvl.size(); ++i) {
    if (i + 1 >= 10) {
      drawdown[i] = tvl[i] / *std::max_element(tvl.begin() + static_cast<long>(i - 9),
                                               tvl.begin() + static_cast<long>(i + 1)) -
                    1;
    }
    if (i + 1 < kN) continue;
    const std::vector<double> t = Last(days, i + 1, kN);
    const std::vector<double> y = Last(log_tvl, i + 1, kN);
    double sxy = 0, sxx = 0;
    for (size_t j = 0; j < kN; ++j) {
      sxy += (t[j] - Mean(t)) * (y[j] - Mean(y));
      sxx += (t[j] - Mean(t)) * (t[j] - Mean(t));
    }
    slope[i] = sxy / sxx;
    if (i >= kN) {
      std::vector<double> changes;
      for (size_t j = i + 1 - kN; j <= i; ++j) changes.push_back(log_tvl[j] - log_tvl[j - 1]);
      vol[i] = SampleSd(changes);
    }
  }
  ExpectValues(Column(*MakeTvlSlope(kN), hlp), slope, 1e-9);
  ExpectValues(Column(*MakeTvlVol(kN), hlp), vol, 1e-9);
  ExpectValues(Column(*MakeTvlDrawdown(10), hlp), drawdown, 1e-15);

  for (const std::string path : {"tvl/defillama_HLP.json", "tvl/defillama_felix_tvl.json",
                                 "tvl/defillama_hyperlend_tvl.json"}) {
    SCOPED_TRACE(path);
    const EventStream protocol = LoadSharedEvents(DataKind::kProtocol, path);
    ASSERT_GT(protocol.size(), 30u);
    EXPECT_EQ(protocol.kind(), DataKind::kProtocol);
    for (const auto& kernel : {MakeTvlChange(1), MakeTvlVol(10), MakeTvlSlope(10),
                               MakeTvlDrawdown(10), MakeLiquidityRatio(), MakeMcapTvl()}) {
      ExpectParity(*kernel, {&protocol});
    }
  }
}

// --- catalogue ---

TEST(OnchainCatalogueTest, EveryEntryBuildsWithDefaults) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"oracle_dev", {"oracle_dev"}},
      {"oracle_dev_stats", {"oracle_dev_mean_20", "oracle_dev_std_20", "oracle_dev_absmax_20"}},
      {"oracle_dev_persist", {"oracle_dev_persist_50bps"}},
      {"oracle_dev_velocity", {"oracle_dev_velocity"}},
      {"vault_return", {"vault_ret_1"}},
      {"vault_pnl_mom", {"vault_pnl_mom_24"}},
      {"vault_drawdown", {"vault_drawdown"}},
      {"vault_vol", {"vault_vol_24"}},
      {"vault_sharpe", {"vault_sharpe_24"}},
      {"vault_pnl_z", {"vault_pnl_z_24"}},
      {"funding_rate", {"funding_rate"}},
      {"funding_z", {"funding_z_21"}},
      {"funding_change", {"funding_change_1"}},
      {"funding_basis", {"funding_basis"}},
      {"tvl_change", {"tvl_change_1"}},
      {"tvl_vol", {"tvl_vol_30"}},
      {"tvl_slope", {"tvl_slope_30"}},
      {"tvl_drawdown", {"tvl_drawdown_90"}},
      {"liquidity_ratio", {"liquidity_ratio"}},
      {"mcap_tvl", {"mcap_tvl"}},
  };
  const std::map<std::string, DataKind> group_kind = {{"oracle", DataKind::kOracle},
                                                      {"vault", DataKind::kVault},
                                                      {"funding", DataKind::kFunding},
                                                      {"defi", DataKind::kProtocol}};
  size_t seen = 0;
  for (const FeatureInfo& info : FeatureCatalogue()) {
    if (!group_kind.contains(info.group)) continue;
    ++seen;
    SCOPED_TRACE(info.name);
    ASSERT_TRUE(expected.contains(info.name));
    ASSERT_EQ(FindFeature(info.name), &info);
    auto values = info.Resolve({});
    ASSERT_TRUE(values.ok()) << values.status().ToString();
    auto kernel = info.make(*values);
    ASSERT_TRUE(kernel.ok()) << kernel.status().ToString();
    EXPECT_EQ((*kernel)->output_names(), expected.at(info.name));
    ASSERT_EQ((*kernel)->inputs().size(), 1u);
    EXPECT_EQ((*kernel)->inputs()[0].kind, group_kind.at(info.group));
    EXPECT_EQ((*kernel)->inputs()[0].instrument, "");
    EXPECT_EQ(info.kinds, std::vector<DataKind>{group_kind.at(info.group)});
  }
  EXPECT_EQ(seen, expected.size());
}

TEST(OnchainCatalogueTest, ParametersReachTheKernels) {
  const FeatureInfo* stats = FindFeature("oracle_dev_stats");
  ASSERT_NE(stats, nullptr);
  auto values = stats->Resolve({{"n", "5"}, {"reference", "binance:BTC/USDT"}});
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  auto kernel = stats->make(*values);
  ASSERT_TRUE(kernel.ok());
  EXPECT_EQ((*kernel)->output_names()[0], "oracle_dev_mean_5");
  ASSERT_EQ((*kernel)->inputs().size(), 2u);
  EXPECT_EQ((*kernel)->inputs()[1].instrument, "binance:BTC/USDT");

  const FeatureInfo* persist = FindFeature("oracle_dev_persist");
  auto bps = persist->Resolve({{"threshold_bps", "25"}});
  ASSERT_TRUE(bps.ok());
  EXPECT_EQ((*persist->make(*bps))->output_names()[0], "oracle_dev_persist_25bps");

  // Windows need two values for a sample sd; a bad instrument is refused.
  EXPECT_FALSE(FindFeature("funding_z")->Resolve({{"n", "1"}}).ok());
  EXPECT_FALSE(FindFeature("oracle_dev")->Resolve({{"reference", "no-colon"}}).ok());
  EXPECT_FALSE(FindFeature("tvl_change")->Resolve({{"k", "0"}}).ok());
}

}  // namespace
}  // namespace vigil
