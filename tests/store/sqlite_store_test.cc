// What only the SQLite backend promises: a WAL-mode file, created with its directories,
// clear errors for unusable paths, data that survives reopening, and busy handling.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_frame_sink.h"
#include "store/test_stores.h"
#include "vigil/store/store.h"

namespace vigil {
namespace {

constexpr int64_t kT0 = 1'704'067'200LL * kNanosPerSecond;

std::unique_ptr<Store> MustOpen(const std::string& url, const StoreOptions& options = {}) {
  Result<std::unique_ptr<Store>> store = OpenStore(url, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// A three-bar 1m candle unit for binance:BTC/USDT.
struct BarsUnit {
  BarsUnit() {
    RecordBatch batch{SeriesKey{Instrument{"binance", "BTC/USDT"}, DataKind::kCandles, "1m"},
                      MakeFrame(SchemaOf(DataKind::kCandles)),
                      {2, 3, 4}};
    for (int bar = 0; bar < 3; ++bar) {
      const double close = 100.0 + bar;
      const double values[] = {close, close, close, close, 1.0, 2.0, 3.0};
      batch.frame.AppendRow(kT0 + bar * kNanosPerMinute, values);
    }
    batches.push_back(std::move(batch));
  }
  WriteUnit unit(const std::string& source) const { return WriteUnit{source, batches, {}}; }
  const SeriesKey& series() const { return batches.front().series; }

  std::vector<RecordBatch> batches;
};

// Runs a one-value query on the database file directly, bypassing the Store.
std::string QueryText(const std::string& path, const std::string& sql) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK) return "open failed";
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return "prepare failed";
  }
  std::string out = "no row";
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  return out;
}

TEST(SqliteStoreTest, UsesWalJournal) {
  const std::string path = NewTestPath("wal.db");
  std::unique_ptr<Store> store = MustOpen("sqlite:" + path);
  ASSERT_NE(store, nullptr);
  BarsUnit bars;
  ASSERT_TRUE(store->Write(bars.unit("bars.csv")).ok());
  EXPECT_EQ(QueryText(path, "PRAGMA journal_mode"), "wal");
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
}

TEST(SqliteStoreTest, CreatesParentDirectories) {
  const std::string path = NewTestPath("nested") + "/a/b/store.db";
  std::unique_ptr<Store> store = MustOpen("sqlite:" + path);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
}

TEST(SqliteStoreTest, UnusablePathsFailNamingThePath) {
  const std::string file = NewTestPath("plain-file");
  std::ofstream(file) << "not a directory\n";
  const std::string directory = NewTestPath("a-directory");
  std::filesystem::create_directories(directory);
  for (const std::string& path : {file + "/store.db", directory}) {
    Result<std::unique_ptr<Store>> store = OpenStore("sqlite:" + path);
    ASSERT_FALSE(store.ok()) << path;
    EXPECT_EQ(store.status().code(), StatusCode::kDatabaseError) << store.status().ToString();
    EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status().ToString();
  }
}

TEST(SqliteStoreTest, FileThatIsNotADatabaseFails) {
  const std::string path = NewTestPath("text.db");
  std::ofstream out(path);
  for (int line = 0; line < 100; ++line) out << "timestamp,open,high,low,close,volume\n";
  out.close();
  Result<std::unique_ptr<Store>> store = OpenStore("sqlite:" + path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDatabaseError);
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status().ToString();
}

TEST(SqliteStoreTest, RejectsEmptyPathAndNegativeTimeout) {
  EXPECT_EQ(OpenStore("sqlite:").status().code(), StatusCode::kInvalidArgument);
  StoreOptions options;
  options.busy_timeout_ms = -1;
  EXPECT_EQ(OpenStore("sqlite:" + NewTestPath("t.db"), options).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SqliteStoreTest, ReopenKeepsDataAndSchema) {
  const std::string path = NewTestPath("reopen.db");
  BarsUnit bars;
  {
    std::unique_ptr<Store> store = MustOpen("sqlite:" + path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Write(bars.unit("bars.csv")).ok());
  }
  std::unique_ptr<Store> store = MustOpen("sqlite:" + path);
  ASSERT_NE(store, nullptr);
  Result<Frame> frame = store->Query(bars.series(), Timestamp::Min(), Timestamp::Max());
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  ASSERT_EQ(frame->rows(), 3);
  EXPECT_EQ(frame->Doubles("close")[2], 102.0);
  EXPECT_EQ(store->SchemaVersion().value_or(-1), 4);
  // Reopening applies no migration twice.
  EXPECT_EQ(store->CountRows("schema_migrations").value_or(-1), 4);
  Result<WriteStats> again = store->Write(bars.unit("bars.csv"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->rows_existing, 3);
}

TEST(SqliteStoreTest, UrlNamesThePathForEverySpelling) {
  const std::string path = NewTestPath("url.db");
  for (const std::string& url : {"sqlite:" + path, "sqlite://" + path, path}) {
    std::unique_ptr<Store> store = MustOpen(url);
    ASSERT_NE(store, nullptr) << url;
    EXPECT_EQ(store->url(), "sqlite:" + path);
    EXPECT_EQ(store->backend(), "sqlite");
  }
}

TEST(SqliteStoreTest, InMemoryDatabaseWorks) {
  std::unique_ptr<Store> store = MustOpen("sqlite::memory:");
  ASSERT_NE(store, nullptr);
  BarsUnit bars;
  Result<WriteStats> stats = store->Write(bars.unit("bars.csv"));
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->rows_inserted, 3);
}

TEST(SqliteStoreTest, LockedDatabaseFailsCleanlyAndRecovers) {
  const std::string path = NewTestPath("locked.db");
  StoreOptions no_wait;
  no_wait.busy_timeout_ms = 0;
  std::unique_ptr<Store> holder = MustOpen("sqlite:" + path, no_wait);
  std::unique_ptr<Store> writer = MustOpen("sqlite:" + path, no_wait);
  ASSERT_TRUE(holder != nullptr && writer != nullptr);
  ASSERT_TRUE(holder->Execute("BEGIN IMMEDIATE").ok());
  BarsUnit bars;
  Result<WriteStats> blocked = writer->Write(bars.unit("blocked.csv"));
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.status().code(), StatusCode::kDatabaseError);
  EXPECT_NE(blocked.status().message().find("blocked.csv"), std::string::npos)
      << blocked.status().ToString();
  ASSERT_TRUE(holder->Execute("ROLLBACK").ok());
  Result<WriteStats> retried = writer->Write(bars.unit("blocked.csv"));
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(retried->rows_inserted, 3);
}

TEST(SqliteStoreTest, NonPositiveRejectLimitMeansAll) {
  std::unique_ptr<Store> store = OpenTestStore("sqlite");
  ASSERT_NE(store, nullptr);
  std::vector<RejectedRow> rejects;
  for (int64_t line = 1; line <= 3; ++line) {
    rejects.push_back({"r.csv", line, "binance:BTC/USDT", DataKind::kCandles, "close", "bad", ""});
  }
  ASSERT_TRUE(store->Write(WriteUnit{"r.csv", {}, rejects}).ok());
  EXPECT_EQ(store->Rejects("", 0).value_or({}).size(), 3u);
  EXPECT_EQ(store->Rejects("r.csv", -1).value_or({}).size(), 3u);
}

TEST(SqliteStoreTest, SummarizeReportsRowsOfAnUndefinedSeries) {
  std::unique_ptr<Store> store = OpenTestStore("sqlite");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->Execute("INSERT INTO candles (series_id, ts, open, high, low, close) "
                            "VALUES (99, 0, 1, 1, 1, 1)")
                  .ok());
  Result<std::vector<SeriesSummary>> summary = store->Summarize();
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kDatabaseError);
  EXPECT_NE(summary.status().message().find("candles"), std::string::npos);
  EXPECT_NE(summary.status().message().find("99"), std::string::npos);
}

TEST(SqliteStoreTest, FrameRowsFunctionOutsideAQueryFailsCleanly) {
  std::unique_ptr<Store> store = OpenTestStore("sqlite");
  ASSERT_NE(store, nullptr);
  Status status = store->Execute("SELECT vigil_frame_rows(1, 2.5)");
  EXPECT_EQ(status.code(), StatusCode::kDatabaseError) << status.ToString();
  EXPECT_NE(status.message().find("vigil_frame_rows"), std::string::npos) << status.ToString();
}

TEST(EnsureKeyOrderTest, SortsByTimeThenKeyFields) {
  const KindSchema& schema = SchemaOf(DataKind::kTrades);
  Frame frame = MakeFrame(schema);
  // (ts, trade_id): (2, 1), (1, 5), (1, 3) must become (1, 3), (1, 5), (2, 1).
  frame.AppendRow(2, std::vector<double>{10.0, 1.0}, std::vector<int64_t>{1, 1});
  frame.AppendRow(1, std::vector<double>{11.0, 1.0}, std::vector<int64_t>{1, 5});
  frame.AppendRow(1, std::vector<double>{12.0, 1.0}, std::vector<int64_t>{-1, 3});
  sqlite_internal::EnsureKeyOrder(schema, &frame);
  EXPECT_EQ(std::vector<int64_t>(frame.timestamps().begin(), frame.timestamps().end()),
            (std::vector<int64_t>{1, 1, 2}));
  EXPECT_EQ(std::vector<int64_t>(frame.Int64s("trade_id").begin(), frame.Int64s("trade_id").end()),
            (std::vector<int64_t>{3, 5, 1}));
  EXPECT_EQ(std::vector<double>(frame.Doubles("price").begin(), frame.Doubles("price").end()),
            (std::vector<double>{12.0, 11.0, 10.0}));
}

TEST(EnsureKeyOrderTest, LeavesSortedBookSnapshotsAlone) {
  const KindSchema& schema = SchemaOf(DataKind::kOrderBook);
  Frame frame = MakeFrame(schema);
  // (side, level) ascending within one ts: already in key order.
  frame.AppendRow(5, std::vector<double>{100.5, 1.0}, std::vector<int64_t>{-1, 0});
  frame.AppendRow(5, std::vector<double>{101.0, 2.0}, std::vector<int64_t>{-1, 1});
  frame.AppendRow(5, std::vector<double>{99.5, 3.0}, std::vector<int64_t>{1, 0});
  sqlite_internal::EnsureKeyOrder(schema, &frame);
  EXPECT_EQ(std::vector<double>(frame.Doubles("size").begin(), frame.Doubles("size").end()),
            (std::vector<double>{1.0, 2.0, 3.0}));
}

}  // namespace
}  // namespace vigil
