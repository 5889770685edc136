// The Store contract for computed feature values (WriteFeatureValues / ReadFeatureValues in
// include/vigil/store/store.h), run against every backend like store_conformance_test.cc.
// Each test gets a fresh, empty store. Expected frames are written out by hand from the
// input rows, never taken from a store.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "store/test_stores.h"
#include "vigil/store/store.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// 2024-01-01T00:00:00Z.
constexpr int64_t kT0 = 1'704'067'200LL * kNanosPerSecond;
constexpr int64_t kMinute = kNanosPerMinute;
// A spec hash with its top bit set: versions are uint64 bit patterns, so negative here.
constexpr int64_t kVersion = -7'046'029'254'386'353'131LL;
constexpr char kInstrument[] = "binance:BTC/USDT";
constexpr char kSet[] = "momentum";

Frame FeatureFrame(const std::vector<std::string>& names) {
  std::vector<ColumnSpec> specs;
  for (const std::string& name : names) specs.push_back({name, ColumnType::kDouble});
  return Frame(std::move(specs));
}

void AddRow(Frame* frame, int64_t ts, const std::vector<double>& values) {
  frame->AppendRow(ts, values);
}

// Rows at kT0 + minute * 1m with value base + minute in every column.
Frame MinuteFeatures(const std::vector<std::string>& names, const std::vector<int>& minutes,
                     double base) {
  Frame frame = FeatureFrame(names);
  for (int minute : minutes) {
    AddRow(&frame, kT0 + minute * kMinute, std::vector<double>(names.size(), base + minute));
  }
  return frame;
}

// NaN equals NaN; -0.0 equals 0.0 (SQLite may store a zero REAL as an integer).
bool SameDouble(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void ExpectFramesEqual(const Frame& actual, const Frame& expected, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(actual.num_columns(), expected.num_columns());
  for (size_t column = 0; column < expected.num_columns(); ++column) {
    EXPECT_EQ(actual.columns()[column].name, expected.columns()[column].name);
    EXPECT_EQ(actual.columns()[column].type, ColumnType::kDouble);
  }
  ASSERT_EQ(actual.rows(), expected.rows());
  for (int64_t row = 0; row < expected.rows(); ++row) {
    EXPECT_EQ(actual.timestamps()[row], expected.timestamps()[row]) << "row " << row;
    for (size_t column = 0; column < expected.num_columns(); ++column) {
      EXPECT_PRED2(SameDouble, actual.DoublesAt(column)[row], expected.DoublesAt(column)[row])
          << "row " << row << " column " << expected.columns()[column].name;
    }
  }
}

class FeatureValuesConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = OpenTestStore(GetParam());
    ASSERT_NE(store_, nullptr) << "could not open a " << GetParam() << " test store";
  }

  Result<int64_t> WriteFeatures(const Frame* frame, const std::string& instrument = kInstrument,
                                const std::string& set = kSet, int64_t version = kVersion,
                                int64_t computed_at = kT0 + kNanosPerDay) {
    return store_->WriteFeatureValues(
        FeatureValues{instrument, set, version, frame, Timestamp(computed_at)});
  }

  // Writes and expects success with `expected_values` written.
  void WriteOk(const Frame& frame, int64_t expected_values, const std::string& set = kSet,
               int64_t computed_at = kT0 + kNanosPerDay) {
    Result<int64_t> written = WriteFeatures(&frame, kInstrument, set, kVersion, computed_at);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    EXPECT_EQ(*written, expected_values);
  }

  Frame Read(const std::vector<std::string>& features, int64_t from = Timestamp::Min().nanos(),
             int64_t to = Timestamp::Max().nanos(), const std::string& instrument = kInstrument,
             const std::string& set = kSet, int64_t version = kVersion) {
    Result<Frame> frame = store_->ReadFeatureValues(instrument, set, version, features,
                                                    Timestamp(from), Timestamp(to));
    EXPECT_TRUE(frame.ok()) << frame.status().ToString();
    return frame.ok() ? std::move(frame).value() : Frame();
  }

  int64_t Count(const std::string& table) { return CountTableRows(*store_, table); }
  int64_t CountWhere(const std::string& condition) {
    return CountTableRowsWhere(*store_, "feature_store", condition);
  }

  std::unique_ptr<Store> store_;
};

TEST_P(FeatureValuesConformanceTest, RoundTripsValuesWithNaNAsNull) {
  // Columns deliberately not in name order: a read of every feature sorts them.
  Frame frame = FeatureFrame({"rsi_14", "ret_1", "vol_30"});
  AddRow(&frame, kT0, {55.5, 0.1, 0.30000000000000004});
  AddRow(&frame, kT0 + kMinute, {kNaN, -0.0, 1e-300});
  AddRow(&frame, kT0 + 2 * kMinute, {kInf, -kInf, kNaN});
  WriteOk(frame, 9);

  Frame expected = FeatureFrame({"ret_1", "rsi_14", "vol_30"});
  AddRow(&expected, kT0, {0.1, 55.5, 0.30000000000000004});
  AddRow(&expected, kT0 + kMinute, {-0.0, kNaN, 1e-300});
  AddRow(&expected, kT0 + 2 * kMinute, {-kInf, kInf, kNaN});
  ExpectFramesEqual(Read({}), expected, "every feature");
  ExpectFramesEqual(Read({"rsi_14", "ret_1", "vol_30"}), frame, "in the written order");

  EXPECT_EQ(Count("feature_store"), 9);
  EXPECT_EQ(CountWhere("value IS NULL"), 2);
  EXPECT_EQ(CountWhere("feature_set_version = " + std::to_string(kVersion) +
                       " AND computed_at = " + std::to_string(kT0 + kNanosPerDay)),
            9);
}

TEST_P(FeatureValuesConformanceTest, UpsertReplacesValueAndComputedAt) {
  const int64_t first_run = kT0 + kNanosPerDay;
  const int64_t second_run = kT0 + 2 * kNanosPerDay;
  WriteOk(MinuteFeatures({"a", "b"}, {0, 1, 2}, 100.0), 6, kSet, first_run);
  // Minutes 1..3 recomputed: 1 and 2 replace what is stored (b at 2 becomes NULL), 3 is new.
  Frame again = FeatureFrame({"a", "b"});
  AddRow(&again, kT0 + kMinute, {201.0, 301.0});
  AddRow(&again, kT0 + 2 * kMinute, {202.0, kNaN});
  AddRow(&again, kT0 + 3 * kMinute, {203.0, 303.0});
  WriteOk(again, 6, kSet, second_run);

  Frame expected = FeatureFrame({"a", "b"});
  AddRow(&expected, kT0, {100.0, 100.0});
  AddRow(&expected, kT0 + kMinute, {201.0, 301.0});
  AddRow(&expected, kT0 + 2 * kMinute, {202.0, kNaN});
  AddRow(&expected, kT0 + 3 * kMinute, {203.0, 303.0});
  ExpectFramesEqual(Read({}), expected, "after the upsert");
  EXPECT_EQ(Count("feature_store"), 8);
  EXPECT_EQ(CountWhere("computed_at = " + std::to_string(first_run)), 2);
  EXPECT_EQ(CountWhere("computed_at = " + std::to_string(second_run)), 6);

  // Writing the same values again changes nothing but computed_at.
  WriteOk(again, 6, kSet, second_run);
  ExpectFramesEqual(Read({}), expected, "after writing the same values again");
  EXPECT_EQ(Count("feature_store"), 8);
}

TEST_P(FeatureValuesConformanceTest, ReadsRequestedFeaturesInRequestedOrder) {
  Frame frame = FeatureFrame({"a", "b", "c"});
  AddRow(&frame, kT0, {1.0, 2.0, 3.0});
  AddRow(&frame, kT0 + kMinute, {11.0, 12.0, 13.0});
  WriteOk(frame, 6);

  Frame c_then_a = FeatureFrame({"c", "a"});
  AddRow(&c_then_a, kT0, {3.0, 1.0});
  AddRow(&c_then_a, kT0 + kMinute, {13.0, 11.0});
  ExpectFramesEqual(Read({"c", "a"}), c_then_a, "c, a");

  // A name never stored reads as NaN next to stored ones.
  Frame with_unknown = FeatureFrame({"b", "never_stored"});
  AddRow(&with_unknown, kT0, {2.0, kNaN});
  AddRow(&with_unknown, kT0 + kMinute, {12.0, kNaN});
  ExpectFramesEqual(Read({"b", "never_stored"}), with_unknown, "b, never_stored");
  ExpectFramesEqual(Read({"never_stored"}), FeatureFrame({"never_stored"}), "only unknown");
}

TEST_P(FeatureValuesConformanceTest, RowsAreTheTimestampsOfAnyRequestedFeature) {
  // a at minutes 0..2, b at 1..3 (two writes of the same key): absent values read as NaN.
  WriteOk(MinuteFeatures({"a"}, {0, 1, 2}, 100.0), 3);
  WriteOk(MinuteFeatures({"b"}, {1, 2, 3}, 200.0), 3);
  Frame both = FeatureFrame({"a", "b"});
  AddRow(&both, kT0, {100.0, kNaN});
  AddRow(&both, kT0 + kMinute, {101.0, 201.0});
  AddRow(&both, kT0 + 2 * kMinute, {102.0, 202.0});
  AddRow(&both, kT0 + 3 * kMinute, {kNaN, 203.0});
  ExpectFramesEqual(Read({}), both, "every feature");
  ExpectFramesEqual(Read({"b"}), MinuteFeatures({"b"}, {1, 2, 3}, 200.0), "b only");
}

TEST_P(FeatureValuesConformanceTest, TimeRangeIsHalfOpen) {
  WriteOk(MinuteFeatures({"x", "y"}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 100.0), 20);
  auto rows = [&](int64_t from, int64_t to) { return Read({}, from, to); };
  ExpectFramesEqual(rows(kT0 + 2 * kMinute, kT0 + 5 * kMinute),
                    MinuteFeatures({"x", "y"}, {2, 3, 4}, 100.0), "[2m, 5m)");
  ExpectFramesEqual(rows(kT0 + 2 * kMinute + 1, kT0 + 5 * kMinute + 1),
                    MinuteFeatures({"x", "y"}, {3, 4, 5}, 100.0), "[2m+1, 5m+1)");
  ExpectFramesEqual(rows(kT0 + 5 * kMinute, kT0 + 5 * kMinute), FeatureFrame({"x", "y"}),
                    "empty range");
  ExpectFramesEqual(rows(kT0 + 5 * kMinute, kT0 + 2 * kMinute), FeatureFrame({"x", "y"}),
                    "reversed range");
  ExpectFramesEqual(rows(Timestamp::Min().nanos(), kT0), FeatureFrame({"x", "y"}),
                    "before the first value");
  ExpectFramesEqual(rows(kT0 + 9 * kMinute, Timestamp::Max().nanos()),
                    MinuteFeatures({"x", "y"}, {9}, 100.0), "[9m, max)");
}

TEST_P(FeatureValuesConformanceTest, KeepsInstrumentsSetsAndVersionsApart) {
  // The same feature name and timestamps under four keys that differ in one part each.
  const Frame frame_a = MinuteFeatures({"f"}, {0, 1}, 1.0);
  const Frame frame_b = MinuteFeatures({"f"}, {0, 1}, 2.0);
  const Frame frame_c = MinuteFeatures({"f"}, {0, 1}, 3.0);
  const Frame frame_d = MinuteFeatures({"f"}, {0, 1}, 4.0);
  ASSERT_TRUE(WriteFeatures(&frame_a, "binance:BTC/USDT", "momentum", kVersion).ok());
  ASSERT_TRUE(WriteFeatures(&frame_b, "binance:ETH/USDT", "momentum", kVersion).ok());
  ASSERT_TRUE(WriteFeatures(&frame_c, "binance:BTC/USDT", "volatility", kVersion).ok());
  ASSERT_TRUE(WriteFeatures(&frame_d, "binance:BTC/USDT", "momentum", kVersion + 1).ok());
  EXPECT_EQ(Count("feature_store"), 8);
  const int64_t min = Timestamp::Min().nanos();
  const int64_t max = Timestamp::Max().nanos();
  ExpectFramesEqual(Read({}, min, max, "binance:BTC/USDT", "momentum", kVersion), frame_a, "a");
  ExpectFramesEqual(Read({}, min, max, "binance:ETH/USDT", "momentum", kVersion), frame_b, "b");
  ExpectFramesEqual(Read({}, min, max, "binance:BTC/USDT", "volatility", kVersion), frame_c, "c");
  ExpectFramesEqual(Read({}, min, max, "binance:BTC/USDT", "momentum", kVersion + 1), frame_d, "d");

  // Unknown keys: an empty frame with the requested columns, or none when none are asked.
  ExpectFramesEqual(Read({"f", "g"}, min, max, "kraken:XBT/USD", "momentum", kVersion),
                    FeatureFrame({"f", "g"}), "unknown instrument");
  ExpectFramesEqual(Read({}, min, max, "binance:BTC/USDT", "momentum", 0), FeatureFrame({}),
                    "unknown version");
}

TEST_P(FeatureValuesConformanceTest, UnsortedFrameWithRepeatedTimestampsKeepsTheLastRow) {
  Frame frame = FeatureFrame({"a", "b"});
  AddRow(&frame, kT0 + 2 * kMinute, {2.0, 20.0});
  AddRow(&frame, kT0, {0.0, 0.0});
  AddRow(&frame, kT0 + kMinute, {1.0, 10.0});
  AddRow(&frame, kT0, {-1.0, kNaN});  // the later row for kT0 wins
  WriteOk(frame, 6);                  // 3 distinct timestamps x 2 features
  Frame expected = FeatureFrame({"a", "b"});
  AddRow(&expected, kT0, {-1.0, kNaN});
  AddRow(&expected, kT0 + kMinute, {1.0, 10.0});
  AddRow(&expected, kT0 + 2 * kMinute, {2.0, 20.0});
  ExpectFramesEqual(Read({}), expected, "stored");
}

TEST_P(FeatureValuesConformanceTest, EmptyFramesWriteNothing) {
  const Frame no_rows = FeatureFrame({"a", "b"});
  Frame no_columns = FeatureFrame({});
  AddRow(&no_columns, kT0, {});
  for (const Frame* frame : {&no_rows, static_cast<const Frame*>(&no_columns)}) {
    Result<int64_t> written = WriteFeatures(frame);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    EXPECT_EQ(*written, 0);
  }
  EXPECT_EQ(Count("feature_store"), 0);
}

// Each bad input is an InvalidArgument that says what is wrong and writes nothing.
TEST_P(FeatureValuesConformanceTest, RejectsInvalidInputAndWritesNothing) {
  const Frame good = MinuteFeatures({"a", "b"}, {0, 1}, 1.0);
  Frame with_int = Frame({{"a", ColumnType::kDouble}, {"count", ColumnType::kInt64}});
  with_int.AppendRow(kT0, std::vector<double>{1.0}, std::vector<int64_t>{3});
  Frame ragged = MinuteFeatures({"a", "b"}, {0, 1}, 1.0);
  ragged.MutableDoublesAt(1).pop_back();
  const Frame unnamed = MinuteFeatures({"a", ""}, {0}, 1.0);
  const Frame bad_utf8 = MinuteFeatures({"a", "caf\xC3"}, {0}, 1.0);
  struct Case {
    const char* what;
    Result<int64_t> result;
    const char* message_part;
  };
  const Case cases[] = {
      {"null frame", WriteFeatures(nullptr), "null"},
      {"empty instrument", WriteFeatures(&good, ""), "instrument"},
      {"empty set", WriteFeatures(&good, kInstrument, ""), "feature set"},
      {"int64 column", WriteFeatures(&with_int), "'count'"},
      {"ragged columns", WriteFeatures(&ragged), "rows"},
      {"unnamed column", WriteFeatures(&unnamed), "empty name"},
      {"invalid UTF-8 name", WriteFeatures(&bad_utf8), "UTF-8"},
      {"NUL in the set name", WriteFeatures(&good, kInstrument, std::string("mo\0m", 4)), "NUL"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ASSERT_FALSE(c.result.ok());
    EXPECT_EQ(c.result.status().code(), StatusCode::kInvalidArgument)
        << c.result.status().ToString();
    EXPECT_NE(c.result.status().message().find(c.message_part), std::string::npos)
        << c.result.status().ToString();
  }
  EXPECT_EQ(Count("feature_store"), 0);

  for (const std::vector<std::string>& names :
       {std::vector<std::string>{"a", "a"}, std::vector<std::string>{"ts"},
        std::vector<std::string>{""}}) {
    Result<Frame> read = store_->ReadFeatureValues(kInstrument, kSet, kVersion, names,
                                                   Timestamp::Min(), Timestamp::Max());
    ASSERT_FALSE(read.ok()) << names[0];
    EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument) << read.status().ToString();
  }
}

// A trigger makes the store refuse the feature "poison" mid-write: the write fails after
// it has already replaced stored values of "a" (columns are written in order), and all of
// it must be undone.
TEST_P(FeatureValuesConformanceTest, FailedWriteLeavesStoredValuesIntact) {
  const Frame first = MinuteFeatures({"a", "b"}, {0, 1, 2}, 100.0);
  WriteOk(first, 6);
  const std::string trigger =
      GetParam() == "sqlite"
          ? "CREATE TRIGGER poison_feature BEFORE INSERT ON feature_store "
            "WHEN NEW.feature = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned feature'); END"
          : "CREATE FUNCTION poison_feature() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'poisoned feature'; END $$; "
            "CREATE TRIGGER poison_feature BEFORE INSERT ON feature_store FOR EACH ROW "
            "WHEN (NEW.feature = 'poison') EXECUTE FUNCTION poison_feature()";
  ASSERT_TRUE(store_->Execute(trigger).ok());

  const Frame second = MinuteFeatures({"a", "b", "poison"}, {0, 1, 2, 3, 4}, 500.0);
  Result<int64_t> failed = WriteFeatures(&second);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kDatabaseError) << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("poisoned feature"), std::string::npos)
      << failed.status().ToString();
  EXPECT_NE(failed.status().message().find("momentum"), std::string::npos)
      << "the error should name the feature set: " << failed.status().ToString();

  ExpectFramesEqual(Read({}), first, "after the failed write");
  EXPECT_EQ(Count("feature_store"), 6);
  // The same into a key with nothing stored yet (a backend may load such rows another way).
  Result<int64_t> failed_new =
      WriteFeatures(&second, "kraken:XBT/USD", kSet, kVersion, kT0 + kNanosPerDay);
  ASSERT_FALSE(failed_new.ok());
  EXPECT_EQ(failed_new.status().code(), StatusCode::kDatabaseError)
      << failed_new.status().ToString();
  EXPECT_EQ(Count("feature_store"), 6);
  // The failed transaction is gone: the store still accepts writes.
  WriteOk(MinuteFeatures({"a", "b"}, {3, 4}, 100.0), 4);
  ExpectFramesEqual(Read({}), MinuteFeatures({"a", "b"}, {0, 1, 2, 3, 4}, 100.0), "after retry");
}

TEST_P(FeatureValuesConformanceTest, RoundTripsManyValues) {
  constexpr int kRows = 12'000;
  const std::vector<std::string> names = {"f0", "f1", "f2", "f3", "f4"};
  Frame frame = FeatureFrame(names);
  for (int row = 0; row < kRows; ++row) {
    std::vector<double> values;
    for (size_t feature = 0; feature < names.size(); ++feature) {
      // Every seventh value of a column undefined, at staggered rows.
      values.push_back((row + static_cast<int>(feature)) % 7 == 0 ? kNaN : row * 0.25 + feature);
    }
    AddRow(&frame, kT0 + row * kMinute, values);
  }
  WriteOk(frame, kRows * 5);
  // Recomputing the whole range upserts every value.
  WriteOk(frame, kRows * 5);
  EXPECT_EQ(Count("feature_store"), kRows * 5);
  ExpectFramesEqual(Read({}), frame, "every value");
}

INSTANTIATE_TEST_SUITE_P(Backends, FeatureValuesConformanceTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace vigil
