// Stores for tests: a fresh, empty Store of either backend on every call, so tests never
// see each other's rows.
//
//   std::unique_ptr<vigil::Store> store = OpenTestStore("sqlite");
//   ASSERT_NE(store, nullptr);  // on failure the reason is already recorded
//
// "sqlite": a new database file in a per-process temp dir that is removed at exit.
// "postgresql": a new schema (vigil_t<pid>_<n>) on the server whose URL is in the file
// named by $VIGIL_TEST_PG_URL_FILE (written by scripts/pg-test-cluster.sh when ctest
// starts the throwaway cluster) or in $VIGIL_TEST_PG_URL; the schemas are dropped at exit.
// When the backend cannot be opened (no server, no URL) the calling test FAILS via
// ADD_FAILURE and nullptr is returned: a missing backend is never a silent skip.
// Thread-safety: call from the test's main thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "vigil/store/store.h"

// "sqlite" or "postgresql"; see above.
std::unique_ptr<vigil::Store> OpenTestStore(const std::string& backend);

// The PostgreSQL test server's URL, or nullopt when neither environment variable names one.
std::optional<std::string> TestPostgresUrl();

// A fresh path "<temp dir>/<n>-<name>" (not created); the temp dir is removed at exit.
// Records a failure and returns "" if the temp dir cannot be created.
std::string NewTestPath(const std::string& name);

// Rows of `table`; records a failure and returns -1 when the store fails.
int64_t CountTableRows(vigil::Store& store, const std::string& table);
// Rows of `table` matching an SQL condition, counted through the public interface (the
// rows are materialised as table `probe`, then counted).
int64_t CountTableRowsWhere(vigil::Store& store, const std::string& table,
                            const std::string& condition);
