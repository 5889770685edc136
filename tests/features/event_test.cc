// Events and the event-kernel plumbing (event.h, event_kernel.h): FromFrame for every
// kind, order-book grouping, Prefix, FromBars, the bar-kernel adapter, lagged and
// resampled wrappers, and RunOverInputs' merge order.
#include "vigil/features/event.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "features/event_test_util.h"
#include "features/ta_test_util.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/event_kernel.h"
#include "vigil/features/resample.h"
#include "vigil/features/ta.h"
#include "vigil/features/timeframe_join.h"

namespace vigil {
namespace {

using testing_util::MakeEvents;
using testing_util::SharedCandles;

constexpr int64_t kMin = kNanosPerMinute;
constexpr double kBid = 1;
constexpr double kAsk = -1;

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

std::vector<double> Values(const Event& e) { return {e.values.begin(), e.values.end()}; }
std::vector<double> Values(std::span<const double> s) { return {s.begin(), s.end()}; }

// The value test rows put in field `field` of row `row`: distinct, whole (so int64 fields
// hold it exactly) and positive.
double CellValue(int64_t row, size_t field) { return static_cast<double>(row * 10 + field + 1); }

// A Frame of `kind` with `rows` rows at ts 1000, 2000, ...; every cell is CellValue except
// the first int64 cell of row 1, which is kMissingInt.
Frame FrameOf(DataKind kind, int64_t rows) {
  Frame frame = MakeFrame(SchemaOf(kind));
  for (int64_t row = 0; row < rows; ++row) {
    std::vector<double> doubles;
    std::vector<int64_t> ints;
    for (size_t f = 0; f < frame.num_columns(); ++f) {
      if (frame.columns()[f].type == ColumnType::kDouble) {
        doubles.push_back(CellValue(row, f));
      } else {
        ints.push_back(row == 1 && ints.empty() ? kMissingInt
                                                : static_cast<int64_t>(CellValue(row, f)));
      }
    }
    frame.AppendRow(1000 * (row + 1), doubles, ints);
  }
  return frame;
}

TEST(EventStreamTest, FromFrameGivesFieldsInSchemaOrderForEveryKind) {
  for (DataKind kind : AllKinds()) {
    if (kind == DataKind::kOrderBook) continue;  // snapshots, tested below
    SCOPED_TRACE(KindName(kind));
    const KindSchema& schema = SchemaOf(kind);
    auto stream = EventStream::FromFrame(kind, FrameOf(kind, 3));
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    EXPECT_EQ(stream->kind(), kind);
    ASSERT_EQ(stream->size(), 3u);
    for (int64_t row = 0; row < 3; ++row) {
      const Event& e = stream->events()[row];
      EXPECT_EQ(e.kind, kind);
      EXPECT_EQ(e.ts, 1000 * (row + 1));
      EXPECT_EQ(e.book, nullptr);
      ASSERT_EQ(e.values.size(), schema.fields.size());
      bool first_int = true;
      for (size_t f = 0; f < schema.fields.size(); ++f) {
        const bool is_int = schema.fields[f].type == ColumnType::kInt64;
        if (is_int && row == 1 && first_int) {
          EXPECT_TRUE(std::isnan(e.values[f])) << "kMissingInt -> NaN, " << schema.fields[f].name;
        } else {
          EXPECT_EQ(e.values[f], CellValue(row, f)) << schema.fields[f].name;
        }
        first_int = first_int && !is_int;
        EXPECT_TRUE(SameBits(e.Field(schema.fields[f].name), e.values[f]));
      }
      EXPECT_TRUE(std::isnan(e.Field("no_such_field")));
    }
  }
}

TEST(EventStreamTest, FieldIndexConstantsMatchTheSchemas) {
  EXPECT_EQ(FieldIndex(SchemaOf(DataKind::kCandles), "close"), fields::kClose);
  EXPECT_EQ(FieldIndex(SchemaOf(DataKind::kCandles), "volume"), fields::kVolume);
  EXPECT_EQ(FieldIndex(SchemaOf(DataKind::kTrades), "side"), fields::kTradeSide);
  EXPECT_EQ(FieldIndex(SchemaOf(DataKind::kLiquidations), "notional"), fields::kLiqNotional);
  EXPECT_EQ(FieldIndex(SchemaOf(DataKind::kFunding), "index_price"), fields::kFundingIndex);
  EXPECT_EQ(FieldIndex(SchemaOf(DataKind::kOracle), "reference_price"), fields::kOracleReference);
  EXPECT_EQ(FieldIndex(SchemaOf(DataKind::kVault), "open_interest"), fields::kVaultOpenInterest);
  EXPECT_EQ(FieldIndex(SchemaOf(DataKind::kProtocol), "market_cap"), fields::kProtocolMarketCap);
}

TEST(EventStreamTest, ExtraColumnsAreIgnoredAndMissingOptionalOnesAreNaN) {
  // Trades without the optional fields, plus a column the schema does not know.
  Frame frame({{"price"},
               {"qty"},
               {"side", ColumnType::kInt64},
               {"trade_id", ColumnType::kInt64},
               {"venue_note"}});
  frame.AppendRow(5, std::vector<double>{101.5, 2, 77}, std::vector<int64_t>{-1, 9});
  auto stream = EventStream::FromFrame(DataKind::kTrades, frame);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  const Event& e = stream->events()[0];
  ASSERT_EQ(e.values.size(), SchemaOf(DataKind::kTrades).fields.size());
  EXPECT_EQ(e.values[fields::kTradePrice], 101.5);
  EXPECT_EQ(e.values[fields::kTradeQty], 2);
  EXPECT_EQ(e.values[fields::kTradeSide], -1);
  EXPECT_EQ(e.Field("trade_id"), 9);
  for (size_t f = 4; f < e.values.size(); ++f) EXPECT_TRUE(std::isnan(e.values[f])) << f;
}

TEST(EventStreamTest, UnsortedFrameIsRejected) {
  Frame frame = FrameOf(DataKind::kCandles, 3);
  frame.mutable_timestamps() = {3000, 1000, 2000};
  auto stream = EventStream::FromFrame(DataKind::kCandles, frame);
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(stream.status().message().find("sorted"), std::string::npos)
      << stream.status().message();
}

TEST(EventStreamTest, MissingRequiredColumnIsRejected) {
  Frame frame({{"open"}, {"high"}, {"low"}, {"volume"}});
  frame.AppendRow(1, std::vector<double>{1, 2, 0.5, 10});
  auto stream = EventStream::FromFrame(DataKind::kCandles, frame);
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(stream.status().message().find("'close'"), std::string::npos)
      << stream.status().message();
}

TEST(EventStreamTest, EmptyFrameGivesNoEvents) {
  for (DataKind kind : AllKinds()) {
    auto stream = EventStream::FromFrame(kind, MakeFrame(SchemaOf(kind)));
    ASSERT_TRUE(stream.ok()) << KindName(kind);
    EXPECT_EQ(stream->size(), 0u);
    EXPECT_EQ(stream->Prefix(3).size(), 0u);
  }
}

// Two snapshots written with their levels out of order, the second one-sided.
EventStream ScrambledBooks() {
  return MakeEvents(DataKind::kOrderBook, {{10, kAsk, 1, 102, 3},
                                           {10, kBid, 2, 98, 7},
                                           {10, kBid, 0, 100, 2},
                                           {10, kAsk, 0, 101, 1},
                                           {10, kBid, 1, 99, 4},
                                           {20, kBid, 1, 99.5, 6},
                                           {20, kBid, 0, 100.5, 5}});
}

TEST(EventStreamTest, OrderBookRowsSharingATimestampFormOneOrderedSnapshot) {
  const EventStream books = ScrambledBooks();
  EXPECT_EQ(books.kind(), DataKind::kOrderBook);
  ASSERT_EQ(books.size(), 2u);
  const Event& first = books.events()[0];
  EXPECT_EQ(first.ts, 10);
  EXPECT_TRUE(first.values.empty());
  ASSERT_NE(first.book, nullptr);
  EXPECT_EQ(Values(first.book->bid_price), (std::vector<double>{100, 99, 98}));
  EXPECT_EQ(Values(first.book->bid_size), (std::vector<double>{2, 4, 7}));
  EXPECT_EQ(Values(first.book->ask_price), (std::vector<double>{101, 102}));
  EXPECT_EQ(Values(first.book->ask_size), (std::vector<double>{1, 3}));
  const Event& second = books.events()[1];
  EXPECT_EQ(second.ts, 20);
  ASSERT_NE(second.book, nullptr);
  EXPECT_EQ(Values(second.book->bid_price), (std::vector<double>{100.5, 99.5}));
  EXPECT_EQ(Values(second.book->bid_size), (std::vector<double>{5, 6}));
  EXPECT_TRUE(second.book->ask_price.empty());
  EXPECT_TRUE(second.book->ask_size.empty());
}

TEST(EventStreamTest, PrefixCopiesTheFirstEventsAndOwnsThem) {
  auto full = std::make_unique<EventStream>(
      std::move(*EventStream::FromFrame(DataKind::kTrades, FrameOf(DataKind::kTrades, 5))));
  const EventStream prefix = full->Prefix(3);
  const EventStream everything = full->Prefix(99);
  std::vector<std::vector<double>> want;
  for (const Event& e : full->events()) want.push_back(Values(e));
  full.reset();  // the prefixes must not point into the original
  EXPECT_EQ(prefix.kind(), DataKind::kTrades);
  ASSERT_EQ(prefix.size(), 3u);
  ASSERT_EQ(everything.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const Event& e = everything.events()[i];
    EXPECT_EQ(e.ts, static_cast<int64_t>(1000 * (i + 1)));
    const std::vector<double> got = Values(e);
    ASSERT_EQ(got.size(), want[i].size());
    for (size_t f = 0; f < got.size(); ++f) EXPECT_TRUE(SameBits(got[f], want[i][f]));
    if (i >= 3) continue;
    const std::vector<double> in_prefix = Values(prefix.events()[i]);
    ASSERT_EQ(in_prefix.size(), want[i].size());
    EXPECT_EQ(prefix.events()[i].ts, e.ts);
    for (size_t f = 0; f < got.size(); ++f) EXPECT_TRUE(SameBits(in_prefix[f], want[i][f]));
  }
}

TEST(EventStreamTest, PrefixOfOrderBooksRebindsTheLevels) {
  auto books = std::make_unique<EventStream>(ScrambledBooks());
  const EventStream one = books->Prefix(1);
  const EventStream both = books->Prefix(2);
  books.reset();
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(one.kind(), DataKind::kOrderBook);
  EXPECT_EQ(Values(one.events()[0].book->bid_price), (std::vector<double>{100, 99, 98}));
  EXPECT_EQ(Values(one.events()[0].book->ask_size), (std::vector<double>{1, 3}));
  EXPECT_EQ(Values(both.events()[1].book->bid_size), (std::vector<double>{5, 6}));
  EXPECT_TRUE(both.events()[1].book->ask_price.empty());
}

TEST(EventStreamTest, MovedStreamKeepsValidViews) {
  EventStream source = ScrambledBooks();
  EventStream moved = std::move(source);
  EXPECT_EQ(Values(moved.events()[0].book->bid_price), (std::vector<double>{100, 99, 98}));
}

TEST(EventStreamTest, FromBarsGivesCandleEvents) {
  const std::vector<Bar> bars = {{60, 1, 3, 0.5, 2, 10}, {120, 2, 4, 1.5, 3.5, 0}};
  const EventStream stream = EventStream::FromBars(bars);
  EXPECT_EQ(stream.kind(), DataKind::kCandles);
  ASSERT_EQ(stream.size(), 2u);
  for (size_t i = 0; i < bars.size(); ++i) {
    const Event& e = stream.events()[i];
    EXPECT_EQ(e.kind, DataKind::kCandles);
    EXPECT_EQ(e.ts, bars[i].ts);
    EXPECT_EQ(e.Field("open"), bars[i].open);
    EXPECT_EQ(e.Field("high"), bars[i].high);
    EXPECT_EQ(e.Field("low"), bars[i].low);
    EXPECT_EQ(e.Field("close"), bars[i].close);
    EXPECT_EQ(e.Field("volume"), bars[i].volume);
    EXPECT_TRUE(std::isnan(e.Field("trades")));
    EXPECT_TRUE(std::isnan(e.Field("quote_volume")));
    const Bar back = BarFromEvent(e);
    EXPECT_EQ(back.ts, bars[i].ts);
    EXPECT_EQ(back.close, bars[i].close);
    EXPECT_EQ(back.volume, bars[i].volume);
  }
  EXPECT_EQ(stream.Prefix(1).events()[0].Field("high"), 3);
}

// --- kernels ---

// Test kernel: emits the latest value of field 0 of input 0 and how many events it saw.
class EchoKernel final : public EventKernel {
 public:
  explicit EchoKernel(DataKind kind = DataKind::kCandles, std::string instrument = "")
      : inputs_{{kind, std::move(instrument)}} {}
  std::span<const KernelInput> inputs() const override { return inputs_; }
  const std::vector<std::string>& output_names() const override { return names_; }
  void Observe(int /*input*/, const Event& event) override {
    last_ = event.values.empty() ? NAN : event.values[0];
    ++seen_;
  }
  void Emit(int64_t /*now*/, std::span<double> out) override {
    out[0] = last_;
    out[1] = seen_;
  }
  void Reset() override {
    last_ = NAN;
    seen_ = 0;
  }
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<EchoKernel>(inputs_[0].kind, inputs_[0].instrument);
  }

 private:
  std::vector<KernelInput> inputs_;
  std::vector<std::string> names_ = {"x", "n"};
  double last_ = NAN;
  double seen_ = 0;
};

// Test kernel with any number of inputs: records the order in which it observes them
// and emits the number of events seen so far.
class OrderRecorder final : public EventKernel {
 public:
  OrderRecorder(int inputs, std::vector<std::pair<int, int64_t>>* log)
      : inputs_(inputs, KernelInput{DataKind::kTrades, ""}), log_(log) {}
  std::span<const KernelInput> inputs() const override { return inputs_; }
  const std::vector<std::string>& output_names() const override { return names_; }
  void Observe(int input, const Event& event) override {
    log_->emplace_back(input, event.ts);
    ++seen_;
  }
  void Emit(int64_t now, std::span<double> out) override {
    out[0] = seen_;
    out[1] = static_cast<double>(now);
  }
  void Reset() override { seen_ = 0; }
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<OrderRecorder>(static_cast<int>(inputs_.size()), log_);
  }

 private:
  std::vector<KernelInput> inputs_;
  std::vector<std::pair<int, int64_t>>* log_;
  std::vector<std::string> names_ = {"seen", "now"};
  double seen_ = 0;
};

EventStream Closes(const std::vector<double>& closes, int64_t step = kMin) {
  std::vector<Bar> bars;
  for (size_t i = 0; i < closes.size(); ++i) {
    const double c = closes[i];
    bars.push_back(Bar{static_cast<int64_t>(i) * step, c, c + 1, c - 1, c, 10});
  }
  return EventStream::FromBars(bars);
}

TEST(EventKernelTest, AdaptBarKernelEmitsTheBarKernelsValues) {
  const std::vector<Bar> bars = SharedCandles("candles/XRP_ETH-5m.csv");
  ASSERT_GT(bars.size(), 100u);
  const EventStream stream = EventStream::FromBars(bars);
  std::unique_ptr<FeatureKernel> macd = MakeMacd(12, 26, 9);
  std::unique_ptr<EventKernel> adapted = AdaptBarKernel(macd->Clone());
  EXPECT_EQ(adapted->output_names(), macd->output_names());
  ASSERT_EQ(adapted->inputs().size(), 1u);
  EXPECT_EQ(adapted->inputs()[0].kind, DataKind::kCandles);
  EXPECT_TRUE(adapted->inputs()[0].instrument.empty());
  const auto want = testing_util::RunKernel(*macd, bars);
  const auto got = RunOverStream(*adapted, stream);
  ASSERT_EQ(got.size(), want.size());
  for (size_t row = 0; row < want.size(); ++row) {
    for (size_t c = 0; c < want[row].size(); ++c) {
      ASSERT_TRUE(SameBits(got[row][c], want[row][c])) << "row " << row << " column " << c;
    }
  }
  testing_util::ExpectEventStreamingEqualsBatch(*adapted, {&stream});
}

TEST(EventKernelTest, AdaptedKernelIsNaNBeforeTheFirstBarAndAfterReset) {
  std::unique_ptr<EventKernel> sma = AdaptBarKernel(MakeSma(1));
  std::vector<double> out(1, 0.0);
  sma->Emit(0, out);
  EXPECT_TRUE(std::isnan(out[0]));
  const EventStream stream = Closes({5, 6});
  sma->Observe(0, stream.events()[0]);
  sma->Emit(0, out);
  EXPECT_EQ(out[0], 5);
  // Emit repeats the latest update's values without recomputing.
  sma->Emit(30, out);
  EXPECT_EQ(out[0], 5);
  sma->Reset();
  sma->Emit(60, out);
  EXPECT_TRUE(std::isnan(out[0]));
  std::unique_ptr<EventKernel> clone = sma->Clone();
  clone->Emit(60, out);
  EXPECT_TRUE(std::isnan(out[0]));
}

TEST(EventKernelTest, LaggedKernelAppendsEarlierRowsWithNames) {
  std::unique_ptr<EventKernel> lagged =
      MakeLaggedKernel(std::make_unique<EchoKernel>(), std::vector<int>{1, 3});
  EXPECT_EQ(lagged->output_names(),
            (std::vector<std::string>{"x", "n", "x_lag1", "n_lag1", "x_lag3", "n_lag3"}));
  ASSERT_EQ(lagged->inputs().size(), 1u);
  EXPECT_EQ(lagged->inputs()[0].kind, DataKind::kCandles);
  const EventStream stream = Closes({10, 11, 12, 13, 14});
  const auto rows = RunOverStream(*lagged, stream);
  ASSERT_EQ(rows.size(), 5u);
  for (size_t row = 0; row < rows.size(); ++row) {
    SCOPED_TRACE(row);
    EXPECT_EQ(rows[row][0], 10.0 + row);
    EXPECT_EQ(rows[row][1], row + 1.0);
    if (row < 1) {
      EXPECT_TRUE(std::isnan(rows[row][2]) && std::isnan(rows[row][3]));
    } else {
      EXPECT_EQ(rows[row][2], 10.0 + row - 1);
      EXPECT_EQ(rows[row][3], static_cast<double>(row));
    }
    if (row < 3) {
      EXPECT_TRUE(std::isnan(rows[row][4]) && std::isnan(rows[row][5]));
    } else {
      EXPECT_EQ(rows[row][4], 10.0 + row - 3);
      EXPECT_EQ(rows[row][5], row - 2.0);
    }
  }
  testing_util::ExpectEventStreamingEqualsBatch(*lagged, {&stream});
  testing_util::ExpectEventPointInTime(*lagged, {&stream}, 5);
}

TEST(EventKernelTest, LaggedKernelCountsRowsNotEventsAndResets) {
  // Lags are in output rows: events of a second input between rows do not shift them.
  std::vector<std::pair<int, int64_t>> log;
  std::unique_ptr<EventKernel> lagged =
      MakeLaggedKernel(std::make_unique<OrderRecorder>(2, &log), std::vector<int>{1});
  const EventStream driver = MakeEvents(DataKind::kTrades, {{10, 1, 1, 1, 1}, {20, 1, 1, 1, 2}});
  const EventStream other =
      MakeEvents(DataKind::kTrades, {{12, 1, 1, 1, 1}, {13, 1, 1, 1, 2}, {14, 1, 1, 1, 3}});
  const EventStream* inputs[] = {&driver, &other};
  const auto rows = RunOverInputs(*lagged, inputs);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][0], 5);   // seen now
  EXPECT_EQ(rows[1][2], 1);   // seen one row ago
  EXPECT_EQ(rows[1][3], 10);  // that row's now
  // After Reset the history is gone: the first row has no lag again.
  std::unique_ptr<EventKernel> live = lagged->Clone();
  std::vector<double> out(4);
  live->Observe(0, driver.events()[0]);
  live->Emit(10, out);
  live->Emit(11, out);
  EXPECT_EQ(out[3], 10);
  live->Reset();
  live->Observe(0, driver.events()[0]);
  live->Emit(10, out);
  EXPECT_EQ(out[0], 1);
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_TRUE(std::isnan(out[3]));
}

// The resampled kernel must equal the batch path of resample.h + timeframe_join.h:
// resample, compute on the closed bars, join as of each base bar's close.
void ExpectResampledEqualsJoinPath(const std::vector<Bar>& bars, int n, int64_t target,
                                   const std::string& suffix) {
  SCOPED_TRACE(suffix);
  auto kernel = MakeResampledKernel(AdaptBarKernel(MakeSma(n)), kMin, target);
  ASSERT_TRUE(kernel.ok()) << kernel.status().ToString();
  const std::string name = "sma_" + std::to_string(n) + suffix;
  EXPECT_EQ((*kernel)->output_names(), std::vector<std::string>{name});
  const EventStream stream = EventStream::FromBars(bars);
  const std::vector<double> got = testing_util::RunColumn(**kernel, {&stream}, name);

  auto closed = ResampleBars(bars, kMin, target, /*include_partial_last=*/false);
  ASSERT_TRUE(closed.ok());
  std::vector<std::unique_ptr<FeatureKernel>> kernels;
  kernels.push_back(MakeSma(n));
  const Frame higher = ComputeOverBars(kernels, BarsOf(*closed));
  std::vector<int64_t> base_ts;
  for (const Bar& bar : bars) base_ts.push_back(bar.ts);
  auto joined = AsOfJoinClosed(base_ts, kMin, higher, CloseTimesOf(*closed), suffix);
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  const std::span<const double> want = joined->Doubles(name);
  ASSERT_EQ(got.size(), want.size());
  int defined = 0;
  for (size_t row = 0; row < want.size(); ++row) {
    ASSERT_TRUE(SameBits(got[row], want[row]))
        << "row " << row << ": " << got[row] << " vs " << want[row];
    defined += std::isfinite(want[row]) ? 1 : 0;
  }
  EXPECT_GT(defined, 0);
  testing_util::ExpectEventStreamingEqualsBatch(**kernel, {&stream});
}

TEST(EventKernelTest, ResampledKernelEqualsTheAsOfJoinPathOnRealCandles) {
  const std::vector<Bar> bars = SharedCandles("candles/XRP_ETH-1m.csv");
  ASSERT_GT(bars.size(), 1000u);
  ExpectResampledEqualsJoinPath(bars, 5, 5 * kMin, "_5m");
  ExpectResampledEqualsJoinPath(bars, 20, 5 * kMin, "_5m");
  ExpectResampledEqualsJoinPath(bars, 3, 60 * kMin, "_1h");
}

TEST(EventKernelTest, ResampledKernelIsPointInTimeAndResets) {
  std::vector<Bar> bars = SharedCandles("candles/XRP_ETH-1m.csv");
  bars.resize(std::min<size_t>(bars.size(), 2000));
  const EventStream stream = EventStream::FromBars(bars);
  auto kernel = MakeResampledKernel(AdaptBarKernel(MakeSma(3)), kMin, 15 * kMin);
  ASSERT_TRUE(kernel.ok());
  testing_util::ExpectEventPointInTime(**kernel, {&stream}, 10);
}

TEST(EventKernelTest, ResampledKernelRefusesNonCandleKernelsAndBadSteps) {
  auto trades =
      MakeResampledKernel(std::make_unique<EchoKernel>(DataKind::kTrades), kMin, 5 * kMin);
  ASSERT_FALSE(trades.ok());
  EXPECT_EQ(trades.status().code(), StatusCode::kInvalidArgument);
  auto other = MakeResampledKernel(
      std::make_unique<EchoKernel>(DataKind::kCandles, "binance:BTC/USDT"), kMin, 5 * kMin);
  EXPECT_FALSE(other.ok());
  EXPECT_FALSE(MakeResampledKernel(std::make_unique<EchoKernel>(), 2 * kMin, 5 * kMin).ok());
  EXPECT_FALSE(MakeResampledKernel(std::make_unique<EchoKernel>(), 0, 5 * kMin).ok());
  auto ok = MakeResampledKernel(std::make_unique<EchoKernel>(), kMin, 5 * kMin);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->output_names(), (std::vector<std::string>{"x_5m", "n_5m"}));
}

TEST(EventKernelTest, ResampledKernelSeesAClosedBarOnlyWhenItCloses) {
  // 1m closes 1..7 into 5m buckets [0, 5m) and [5m, 10m): the first bucket reaches the
  // inner kernel with the 4m bar (its last), stamped at its open, with the bucket's OHLC.
  auto kernel = MakeResampledKernel(std::make_unique<EchoKernel>(), kMin, 5 * kMin);
  ASSERT_TRUE(kernel.ok());
  const EventStream stream = Closes({1, 2, 3, 4, 5, 6, 7});
  const auto rows = RunOverStream(**kernel, stream);
  ASSERT_EQ(rows.size(), 7u);
  for (size_t row = 0; row < 4; ++row) EXPECT_EQ(rows[row][1], 0) << row;
  EXPECT_EQ(rows[4][0], 1);  // the bucket's open (EchoKernel reports field 0)
  EXPECT_EQ(rows[4][1], 1);
  EXPECT_EQ(rows[6][1], 1);  // the second bucket is still open
}

TEST(EventKernelTest, RunOverInputsFeedsOtherInputsBeforeTheDriverAtEqualTimes) {
  std::vector<std::pair<int, int64_t>> log;
  OrderRecorder recorder(2, &log);
  const EventStream driver = MakeEvents(DataKind::kTrades, {{1, 1, 1, 1, 1}, {2, 1, 1, 1, 2}});
  const EventStream other = MakeEvents(DataKind::kTrades, {{2, 1, 1, 1, 1}, {3, 1, 1, 1, 2}});
  const EventStream* inputs[] = {&driver, &other};
  const auto rows = RunOverInputs(recorder, inputs);
  EXPECT_EQ(log, (std::vector<std::pair<int, int64_t>>{{0, 1}, {1, 2}, {0, 2}, {1, 3}}));
  // One row per driver event, emitted at its ts, after everything stamped <= it.
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<double>{1, 1}));
  EXPECT_EQ(rows[1], (std::vector<double>{3, 2}));
  // The kernel passed in is a template: it was cloned, not driven.
  std::vector<double> out(2);
  recorder.Emit(0, out);
  EXPECT_EQ(out[0], 0);
}

TEST(EventKernelTest, RunOverInputsWithThreeInputsAndAMissingOne) {
  std::vector<std::pair<int, int64_t>> log;
  OrderRecorder recorder(3, &log);
  const EventStream driver = MakeEvents(DataKind::kTrades, {{5, 1, 1, 1, 1}});
  const EventStream other = MakeEvents(DataKind::kTrades, {{5, 1, 1, 1, 1}, {6, 1, 1, 1, 2}});
  const EventStream* inputs[] = {&driver, &other, nullptr};
  const auto rows = RunOverInputs(recorder, inputs);
  EXPECT_EQ(log, (std::vector<std::pair<int, int64_t>>{{1, 5}, {0, 5}, {1, 6}}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], 2);
  // Non-driver inputs all go before the driver at a shared timestamp.
  log.clear();
  const EventStream third = MakeEvents(DataKind::kTrades, {{5, 1, 1, 1, 1}});
  const EventStream* all[] = {&driver, &other, &third};
  RunOverInputs(recorder, all);
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[2], (std::pair<int, int64_t>{0, 5}));
  // No driver events: no rows.
  const EventStream* no_driver[] = {nullptr, &other, &third};
  EXPECT_TRUE(RunOverInputs(recorder, no_driver).empty());
}

}  // namespace
}  // namespace vigil
