// Tests of the PostgreSQL backend itself, against the real throwaway server that ctest
// starts (scripts/pg-test-cluster.sh; URL in the file named by $VIGIL_TEST_PG_URL_FILE).
// Each test uses its own schema (via the URL's search_path option), so it never sees the
// conformance suite's rows. A missing server is a failure, never a skip.
#include "store/postgres/postgres_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "store/postgres/postgres_copy.h"
#include "vigil/store/migrations.h"
#include "vigil/store/store.h"

namespace vigil {
namespace {

using store_internal::MaskPassword;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kMinute = kNanosPerMinute;
constexpr int64_t kStart = 1'704'067'200'000'000'000;  // 2024-01-01T00:00:00Z

// The server URL from $VIGIL_TEST_PG_URL_FILE, or "" after recording why not.
std::string ServerUrl() {
  const char* file = std::getenv("VIGIL_TEST_PG_URL_FILE");
  if (file == nullptr || *file == '\0') {
    ADD_FAILURE() << "VIGIL_TEST_PG_URL_FILE is not set; run through ctest, which starts the "
                     "test cluster (scripts/pg-test-cluster.sh)";
    return "";
  }
  std::ifstream in(file);
  std::string url;
  if (!std::getline(in, url) || url.empty()) {
    ADD_FAILURE() << "cannot read a PostgreSQL URL from " << file;
    return "";
  }
  return url;
}

std::string UrlWithSchema(const std::string& url, const std::string& schema) {
  const char separator = url.find('?') == std::string::npos ? '?' : '&';
  return url + separator + "options=-csearch_path%3D" + schema;
}

// Rows of `select`, counted through the public interface: the result is materialised as
// a table of the test schema and counted with CountRows.
int64_t CountWhere(Store& store, const std::string& select) {
  Status created = store.Execute("DROP TABLE IF EXISTS probe; CREATE TABLE probe AS " + select);
  EXPECT_TRUE(created.ok()) << created.ToString();
  Result<int64_t> count = store.CountRows("probe");
  EXPECT_TRUE(count.ok()) << count.status().ToString();
  return count.value_or(-1);
}

bool SameDouble(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);  // -0.0 != 0.0 here
}

// Exact equality of two frames, bit for bit, NaN equal to NaN.
void ExpectSameFrame(const Frame& actual, const Frame& expected) {
  ASSERT_EQ(actual.rows(), expected.rows());
  ASSERT_EQ(actual.num_columns(), expected.num_columns());
  ASSERT_TRUE(std::equal(actual.timestamps().begin(), actual.timestamps().end(),
                         expected.timestamps().begin()));
  for (size_t column = 0; column < expected.num_columns(); ++column) {
    const std::string& name = expected.columns()[column].name;
    ASSERT_EQ(actual.columns()[column].name, name);
    for (int64_t row = 0; row < expected.rows(); ++row) {
      if (expected.columns()[column].type == ColumnType::kDouble) {
        ASSERT_TRUE(SameDouble(actual.DoublesAt(column)[row], expected.DoublesAt(column)[row]))
            << name << " row " << row << ": " << actual.DoublesAt(column)[row] << " vs "
            << expected.DoublesAt(column)[row];
      } else {
        ASSERT_EQ(actual.Int64sAt(column)[row], expected.Int64sAt(column)[row])
            << name << " row " << row;
      }
    }
  }
}

SeriesKey Candles1m() {
  return SeriesKey{Instrument{"binance", "BTC/USDT"}, DataKind::kCandles, "1m"};
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string server = ServerUrl();
    ASSERT_FALSE(server.empty());
    schema_ = "vigil_pg" + std::to_string(getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : schema_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    url_ = UrlWithSchema(server, schema_);
    // A rerun against the same server starts from an empty schema.
    Result<std::unique_ptr<Store>> store = OpenStore(url_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Execute("DROP SCHEMA " + schema_ + " CASCADE").ok());
  }

  void TearDown() override {
    if (url_.empty()) return;
    Result<std::unique_ptr<Store>> store = OpenStore(url_);
    if (store.ok())
      (*store)->Execute("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE").IgnoreError();
  }

  std::unique_ptr<Store> Open(const StoreOptions& options = {}) {
    Result<std::unique_ptr<Store>> store = OpenStore(url_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::string schema_;
  std::string url_;
};

TEST(PostgresMaskPasswordTest, MasksUserInfoAndParameterPasswords) {
  EXPECT_EQ(MaskPassword("postgresql://vigil:s3cret@127.0.0.1:5432/db"),
            "postgresql://vigil:***@127.0.0.1:5432/db");
  EXPECT_EQ(MaskPassword("postgres://u:p@ss:w@host/db?sslmode=disable"),
            "postgres://u:***@host/db?sslmode=disable");
  EXPECT_EQ(MaskPassword("postgresql://u@h/db?sslmode=disable&password=abc&x=1"),
            "postgresql://u@h/db?sslmode=disable&password=***&x=1");
  EXPECT_EQ(MaskPassword("postgresql://u@h/db?password=abc"), "postgresql://u@h/db?password=***");
  EXPECT_EQ(MaskPassword("host=h password=abc dbname=d"), "host=h password=*** dbname=d");
}

TEST(PostgresMaskPasswordTest, LeavesUrlsWithoutPasswordAlone) {
  for (const std::string url :
       {"postgresql://vigil@127.0.0.1:5432/vigil_test", "postgresql://127.0.0.1/db?mypassword=x",
        "postgresql:///db", "postgresql://h:5432/db?options=-csearch_path%3Ds", ""}) {
    EXPECT_EQ(MaskPassword(url), url);
  }
}

TEST(PostgresOpenTest, UnreachableServerIsDatabaseErrorWithMaskedUrl) {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  Result<std::unique_ptr<Store>> store =
      OpenStore("postgresql://vigil:topsecret@127.0.0.1:1/vigil_test?connect_timeout=5");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDatabaseError);
  EXPECT_NE(store.status().message().find("postgresql://vigil:***@127.0.0.1:1/vigil_test"),
            std::string::npos)
      << store.status().message();
  EXPECT_EQ(store.status().message().find("topsecret"), std::string::npos);
}

TEST(PostgresOpenTest, MalformedUrlsAreDatabaseErrors) {
  for (const std::string url : {"postgresql://vigil:pw@127.0.0.1:notaport/db",
                                "postgresql://vigil@127.0.0.1/db?bogus=1", "postgres://[::1/db"}) {
    Result<std::unique_ptr<Store>> store = OpenStore(url);
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.status().code(), StatusCode::kDatabaseError) << url;
    EXPECT_NE(store.status().message().find(MaskPassword(url)), std::string::npos)
        << store.status().message();
    EXPECT_EQ(store.status().message().find(":pw@"), std::string::npos);
  }
}

TEST(PostgresOpenTest, UnknownDatabaseNamesIt) {
  std::string server = ServerUrl();
  ASSERT_FALSE(server.empty());
  std::string url = server.substr(0, server.rfind('/')) + "/no_such_database";
  Result<std::unique_ptr<Store>> store = OpenStore(url);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDatabaseError);
  EXPECT_NE(store.status().message().find("no_such_database"), std::string::npos)
      << store.status().message();
}

TEST_F(PostgresStoreTest, TablesLiveInTheSearchPathSchema) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->backend(), "postgresql");
  EXPECT_EQ(store->url(), url_);
  EXPECT_EQ(CountWhere(*store, "SELECT 1 FROM pg_tables WHERE schemaname = '" + schema_ +
                                   "' AND tablename IN ('candles', 'series', 'rejects')"),
            3);
  Result<std::vector<std::string>> tables = store->ListTables();
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_TRUE(std::is_sorted(tables->begin(), tables->end()));
  for (const char* table : {"schema_migrations", "series", "candles", "orderbook", "rejects",
                            "ingest_runs", "model_versions", "alerts", "probe"}) {
    EXPECT_NE(std::find(tables->begin(), tables->end(), table), tables->end()) << table;
  }
  EXPECT_EQ(store->CountRows("pg_class").status().code(), StatusCode::kNotFound);
}

TEST_F(PostgresStoreTest, ConcurrentOpensMigrateOnce) {
  constexpr int kOpeners = 4;
  std::vector<Status> results(kOpeners);
  std::vector<std::thread> openers;
  for (int index = 0; index < kOpeners; ++index) {
    openers.emplace_back([this, &results, index] { results[index] = OpenStore(url_).status(); });
  }
  for (std::thread& opener : openers) opener.join();
  for (const Status& status : results) EXPECT_TRUE(status.ok()) << status.ToString();

  std::unique_ptr<Store> store = Open();  // and once more, sequentially
  ASSERT_NE(store, nullptr);
  const std::vector<Migration> migrations = Migrations(PostgresDialect());
  EXPECT_EQ(store->CountRows("schema_migrations").value_or(-1),
            static_cast<int64_t>(migrations.size()));
  EXPECT_EQ(
      CountWhere(*store,
                 "SELECT version FROM schema_migrations GROUP BY version HAVING COUNT(*) > 1"),
      0);
  EXPECT_EQ(store->SchemaVersion().value_or(-1), migrations.back().version);
}

TEST_F(PostgresStoreTest, CopyKeepsNullsAndExtremeDoublesExact) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  const std::vector<double> values = {std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::min(),
                                      std::numeric_limits<double>::denorm_min(),
                                      -0.0,
                                      0.1,
                                      1.0 / 3.0,
                                      123456789.12345678,
                                      -2.2250738585072014e-308,
                                      kInf,
                                      -kInf,
                                      kNaN};
  RecordBatch batch{Candles1m(), MakeFrame(SchemaOf(DataKind::kCandles)), {}};
  for (size_t row = 0; row < values.size(); ++row) {
    const double v = values[row];
    const double volume = row % 2 == 0 ? kNaN : v;  // NaN in an optional column -> NULL
    batch.frame.AppendRow(kStart + static_cast<int64_t>(row) * kMinute,
                          std::vector<double>{1.5, v, 1.0, v, volume, kNaN, v});
  }
  batch.frame.mutable_timestamps().back() = kStart + 1000 * kMinute;
  // The NaN row would violate NOT NULL for high/close; keep NaN only where optional.
  batch.frame.MutableDoublesAt(1).back() = 2.0;
  batch.frame.MutableDoublesAt(3).back() = 2.0;
  std::vector<RecordBatch> batches = {batch};
  Result<WriteStats> stats = store->Write({"extremes.csv", batches, {}});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows_inserted, static_cast<int64_t>(values.size()));

  Result<Frame> back = store->Query(Candles1m(), Timestamp::Min(), Timestamp::Max());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameFrame(*back, batch.frame);
  // Independently, in SQL: NULLs where NaN went in, and the largest double stored exactly.
  EXPECT_EQ(CountWhere(*store, "SELECT 1 FROM candles WHERE trades IS NULL"),
            static_cast<int64_t>(values.size()));
  EXPECT_EQ(CountWhere(*store, "SELECT 1 FROM candles WHERE volume IS NULL"),
            static_cast<int64_t>((values.size() + 1) / 2));
  EXPECT_EQ(CountWhere(*store, "SELECT 1 FROM candles WHERE high = 1.7976931348623157e308"), 1);
  EXPECT_EQ(CountWhere(*store, "SELECT 1 FROM candles WHERE high = 4.9406564584124654e-324"), 1);
  EXPECT_EQ(CountWhere(*store, "SELECT 1 FROM candles WHERE high = 0.1::float8"), 1);
  EXPECT_EQ(CountWhere(*store, "SELECT 1 FROM candles WHERE high = '-Infinity'::float8"), 1);
}

TEST_F(PostgresStoreTest, ExtremeIntsRoundTripAndMissingKeyIntsFailTheWrite) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  const SeriesKey oracle{Instrument{"chainlink", "ETH/USD"}, DataKind::kOracle, ""};
  RecordBatch batch{oracle, MakeFrame(SchemaOf(DataKind::kOracle)), {}};
  const std::vector<int64_t> rounds = {std::numeric_limits<int64_t>::max(), kMissingInt + 1, 0, -7};
  for (size_t row = 0; row < rounds.size(); ++row) {
    batch.frame.AppendRow(kStart + static_cast<int64_t>(row), std::vector<double>{3000.25, kNaN},
                          std::vector<int64_t>{rounds[row]});
  }
  std::vector<RecordBatch> batches = {batch};
  ASSERT_TRUE(store->Write({"oracle.jsonl", batches, {}}).ok());
  Result<Frame> back = store->Query(oracle, Timestamp::Min(), Timestamp::Max());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameFrame(*back, batch.frame);
  EXPECT_EQ(CountWhere(*store, "SELECT 1 FROM oracle WHERE reference_price IS NULL"), 4);

  // round_id is part of the oracle key: a missing one (NULL) must fail the whole write.
  RecordBatch missing{oracle, MakeFrame(SchemaOf(DataKind::kOracle)), {}};
  missing.frame.AppendRow(kStart + 100, std::vector<double>{3000.5, kNaN},
                          std::vector<int64_t>{kMissingInt});
  std::vector<RecordBatch> bad = {missing};
  Result<WriteStats> failed = store->Write({"oracle-bad.jsonl", bad, {}});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kDatabaseError);
  EXPECT_EQ(CountWhere(*store, "SELECT 1 FROM oracle"), 4);
}

TEST_F(PostgresStoreTest, LargeWriteRoundTripsExactly) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  constexpr int64_t kRows = 200'000;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> noise(-1.0, 1.0);
  RecordBatch batch{Candles1m(), MakeFrame(SchemaOf(DataKind::kCandles)), {}};
  batch.frame.Reserve(kRows);
  double price = 42000.0;
  for (int64_t row = 0; row < kRows; ++row) {
    price *= 1.0 + 1e-3 * noise(rng);
    const double volume = row % 97 == 0 ? kNaN : 10.0 + 5.0 * noise(rng);
    batch.frame.AppendRow(kStart + row * kMinute,
                          std::vector<double>{price, price * 1.001, price * 0.999, price, volume,
                                              std::round(100 + 50 * noise(rng)), volume * price});
  }
  std::vector<RecordBatch> batches = {batch};
  Result<WriteStats> first = store->Write({"big.csv", batches, {}});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->rows_inserted, kRows);
  EXPECT_EQ(first->rows_existing, 0);
  EXPECT_EQ(store->CountRows("candles").value_or(-1), kRows);

  Result<Frame> back = store->Query(Candles1m(), Timestamp::Min(), Timestamp::Max());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameFrame(*back, batch.frame);

  Result<WriteStats> again = store->Write({"big.csv", batches, {}});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->rows_inserted, 0);
  EXPECT_EQ(again->rows_existing, kRows);
  EXPECT_EQ(store->CountRows("candles").value_or(-1), kRows);

  // A window [from, to) in the middle: exactly rows 1000..1999.
  Result<Frame> window = store->Query(Candles1m(), Timestamp(kStart + 1000 * kMinute),
                                      Timestamp(kStart + 2000 * kMinute));
  ASSERT_TRUE(window.ok());
  ExpectSameFrame(*window, batch.frame.CopyRows(1000, 2000));
}

// Candles of Candles1m() at minutes [first, last), close = the minute number.
RecordBatch MinuteCandles(int64_t first, int64_t last) {
  RecordBatch batch{Candles1m(), MakeFrame(SchemaOf(DataKind::kCandles)), {}};
  for (int64_t minute = first; minute < last; ++minute) {
    const double price = 100.0 + static_cast<double>(minute);
    batch.frame.AppendRow(kStart + minute * kMinute,
                          std::vector<double>{price, price, price, price, 1, 1, price});
  }
  return batch;
}

TEST_F(PostgresStoreTest, OverlappingWritesCountNewAndExistingRows) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<RecordBatch> first = {MinuteCandles(0, 100)};
  ASSERT_EQ(store->Write({"a.csv", first, {}})->rows_inserted, 100);
  // Half of it stored already: counted row by row, whatever path the write takes.
  std::vector<RecordBatch> overlapping = {MinuteCandles(50, 150)};
  Result<WriteStats> stats = store->Write({"b.csv", overlapping, {}});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows_inserted, 50);
  EXPECT_EQ(stats->rows_existing, 50);
  // Disjoint from what is stored.
  std::vector<RecordBatch> later = {MinuteCandles(200, 210)};
  stats = store->Write({"c.csv", later, {}});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows_inserted, 10);
  EXPECT_EQ(stats->rows_existing, 0);
  EXPECT_EQ(store->CountRows("candles").value_or(-1), 160);
}

TEST_F(PostgresStoreTest, DuplicatesWithinOneUnitAreStoredOnce) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  // Two batches of one series that overlap each other but nothing stored yet.
  std::vector<RecordBatch> batches = {MinuteCandles(0, 10), MinuteCandles(5, 15)};
  Result<WriteStats> stats = store->Write({"dup.csv", batches, {}});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows_inserted, 15);
  EXPECT_EQ(stats->rows_existing, 5);
  EXPECT_EQ(store->CountRows("candles").value_or(-1), 15);
  EXPECT_EQ(CountWhere(*store, "SELECT 1 FROM series"), 1);
  Result<Frame> back = store->Query(Candles1m(), Timestamp::Min(), Timestamp::Max());
  ASSERT_TRUE(back.ok());
  ExpectSameFrame(*back, MinuteCandles(0, 15).frame);
}

TEST_F(PostgresStoreTest, FailedWriteRollsBackAndNamesThePlace) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  RecordBatch good{SeriesKey{Instrument{"kraken", "ETH/USD"}, DataKind::kCandles, "5m"},
                   MakeFrame(SchemaOf(DataKind::kCandles)),
                   {}};
  good.frame.AppendRow(kStart, std::vector<double>{1, 2, 0.5, 1.5, 10, 3, 15});
  RecordBatch bad{Candles1m(), MakeFrame(SchemaOf(DataKind::kCandles)), {}};
  bad.frame.AppendRow(kStart, std::vector<double>{1, 2, 0.5, kNaN, 10, 3, 15});  // close NULL
  std::vector<RecordBatch> batches = {good, bad};
  std::vector<RejectedRow> rejects = {RejectedRow{"bad.csv", 3, "binance:BTC/USDT",
                                                  DataKind::kCandles, "low", "not a number", "x"}};
  Result<WriteStats> stats = store->Write({"bad.csv", batches, rejects});
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().code(), StatusCode::kDatabaseError);
  const std::string& message = stats.status().message();
  for (const std::string& place : {std::string("bad.csv"), std::string("table candles"),
                                   good.series.ToString(), std::string(schema_)}) {
    EXPECT_NE(message.find(place), std::string::npos) << place << " missing in: " << message;
  }
  for (const char* table : {"candles", "series", "rejects"}) {
    EXPECT_EQ(store->CountRows(table).value_or(-1), 0) << table;
  }
  // The connection is usable afterwards.
  std::vector<RecordBatch> only_good = {good};
  Result<WriteStats> retry = store->Write({"good.csv", only_good, {}});
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(retry->rows_inserted, 1);
}

TEST_F(PostgresStoreTest, RejectTextSurvivesCopyEscaping) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  const std::string raw = "a\tb\nc\\d\re \\N";
  std::vector<RejectedRow> rejects = {
      RejectedRow{"", 7, "binance:BTC/USDT", DataKind::kTrades, "price", "bad\tprice", raw},
      RejectedRow{"", 8, "", DataKind::kTrades, "", std::string("nul\0byte", 8), "bad \xff utf8"}};
  Result<WriteStats> stats = store->Write({"odd.csv", {}, rejects});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rejects_inserted, 2);
  Result<std::vector<StoredReject>> stored = store->Rejects("odd.csv", 0);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(stored->size(), 2u);
  // Newest first: line 8 was inserted after line 7.
  EXPECT_EQ((*stored)[1].row.raw, raw);
  EXPECT_EQ((*stored)[1].row.reason, "bad\tprice");
  EXPECT_EQ((*stored)[1].row.source, "odd.csv");  // the unit's source fills in
  EXPECT_EQ((*stored)[0].row.reason, "nulbyte");
  EXPECT_EQ((*stored)[0].row.raw, "bad \xEF\xBF\xBD utf8");  // U+FFFD
  EXPECT_EQ(store->Write({"odd.csv", {}, rejects})->rejects_inserted, 0);
}

TEST_F(PostgresStoreTest, PlainTablesUnlessTimescaleIsAvailable) {
  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  const bool available =
      CountWhere(*store, "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'") > 0;
  const int64_t hypertables =
      available ? CountWhere(*store,
                             "SELECT 1 FROM timescaledb_information.hypertables WHERE "
                             "hypertable_schema = '" +
                                 schema_ + "'")
                : 0;
  const int64_t installed =
      CountWhere(*store, "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
  if (available) {
    EXPECT_EQ(installed, 1);
    EXPECT_EQ(hypertables, static_cast<int64_t>(AllKinds().size()));
  } else {
    EXPECT_EQ(installed, 0);
    // A hypertable keeps its rows in child chunks; a plain table has no children.
    std::vector<RecordBatch> batches = {
        RecordBatch{Candles1m(), MakeFrame(SchemaOf(DataKind::kCandles)), {}}};
    batches[0].frame.AppendRow(kStart, std::vector<double>{1, 2, 0.5, 1.5, 10, 3, 15});
    ASSERT_TRUE(store->Write({"plain.csv", batches, {}}).ok());
    EXPECT_EQ(CountWhere(*store,
                         "SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = "
                         "i.inhparent JOIN pg_namespace n ON n.oid = c.relnamespace "
                         "WHERE n.nspname = '" +
                             schema_ + "'"),
              0);
    EXPECT_EQ(CountWhere(*store,
                         "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = "
                         "c.relnamespace WHERE n.nspname = '" +
                             schema_ + "' AND c.relname = 'candles' AND c.relkind = 'r'"),
              1);
  }
}

TEST(PostgresCopyTest, EncodesMissingValuesAsNull) {
  Frame frame({{"price", ColumnType::kDouble}, {"id", ColumnType::kInt64}});
  frame.AppendRow(5, std::vector<double>{kNaN}, std::vector<int64_t>{kMissingInt});
  frame.AppendRow(-6, std::vector<double>{0.1}, std::vector<int64_t>{-3});
  std::string text;
  postgres_internal::CopyRowEncoder encoder(frame, 9);
  encoder.AppendRow(0, &text);
  encoder.AppendRow(1, &text);
  EXPECT_EQ(text, "9\t5\t\\N\t\\N\n9\t-6\t0.1\t-3\n");
}

TEST(PostgresCopyTest, EscapesTextFields) {
  std::string out;
  postgres_internal::AppendCopyText(std::string("a\\b\tc\nd\re\0f\xC3\xA9\xC3", 14), &out);
  EXPECT_EQ(out,
            "a\\\\b\\tc\\nd\\re"
            "f\xC3\xA9\xEF\xBF\xBD");
}

// Big-endian field writers for hand-built binary COPY streams (format from the
// PostgreSQL documentation, independent of the decoder).
void PutBigEndian(uint64_t value, int bytes, std::string* out) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xFF));
  }
}

std::string BinaryStream(const std::vector<std::vector<std::optional<uint64_t>>>& rows) {
  std::string out("PGCOPY\n\xff\r\n\0", 11);
  PutBigEndian(0, 4, &out);  // flags
  PutBigEndian(0, 4, &out);  // header extension length
  for (const auto& row : rows) {
    PutBigEndian(row.size(), 2, &out);
    for (const std::optional<uint64_t>& field : row) {
      PutBigEndian(field.has_value() ? 8 : 0xFFFFFFFF, 4, &out);
      if (field.has_value()) PutBigEndian(*field, 8, &out);
    }
  }
  PutBigEndian(0xFFFF, 2, &out);  // trailer
  return out;
}

TEST(PostgresCopyTest, DecodesBinaryStreamsSplitAnywhere) {
  const std::string stream = BinaryStream({
      {uint64_t{5}, std::nullopt, std::nullopt},
      {static_cast<uint64_t>(-6), std::bit_cast<uint64_t>(0.1), static_cast<uint64_t>(-3)},
      {uint64_t{7}, std::bit_cast<uint64_t>(-kInf), uint64_t{1}},
  });
  for (size_t chunk : {stream.size(), size_t{1}, size_t{7}}) {
    Frame decoded({{"price", ColumnType::kDouble}, {"id", ColumnType::kInt64}});
    postgres_internal::BinaryCopyDecoder decoder(&decoded);
    for (size_t pos = 0; pos < stream.size(); pos += chunk) {
      ASSERT_TRUE(decoder.Consume(std::string_view(stream).substr(pos, chunk)).ok());
    }
    ASSERT_TRUE(decoder.Finish().ok());
    ASSERT_TRUE(decoded.CheckConsistent().ok());
    ASSERT_EQ(decoded.rows(), 3);
    EXPECT_EQ(decoded.timestamps()[1], -6);
    EXPECT_TRUE(std::isnan(decoded.DoublesAt(0)[0]));
    EXPECT_EQ(decoded.Int64sAt(1)[0], kMissingInt);
    EXPECT_EQ(decoded.DoublesAt(0)[1], 0.1);
    EXPECT_EQ(decoded.Int64sAt(1)[1], -3);
    EXPECT_EQ(decoded.DoublesAt(0)[2], -kInf);
  }
}

TEST(PostgresCopyTest, RejectsMalformedBinaryStreams) {
  auto decode = [](std::string_view stream) {
    Frame frame({{"price", ColumnType::kDouble}});
    postgres_internal::BinaryCopyDecoder decoder(&frame);
    Status status = decoder.Consume(stream);
    return status.ok() ? decoder.Finish() : status;
  };
  EXPECT_TRUE(decode(BinaryStream({{uint64_t{1}, uint64_t{2}}})).ok());
  EXPECT_FALSE(decode(BinaryStream({{uint64_t{1}}})).ok());                // too few fields
  EXPECT_FALSE(decode(BinaryStream({{std::nullopt, uint64_t{2}}})).ok());  // NULL ts
  std::string truncated = BinaryStream({{uint64_t{1}, uint64_t{2}}});
  EXPECT_FALSE(decode(std::string_view(truncated).substr(0, truncated.size() - 5)).ok());
  EXPECT_FALSE(decode("not a copy stream at all").ok());
}

}  // namespace
}  // namespace vigil
