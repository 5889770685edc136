// Internal to vigil_store: the SQLite backend (embedded default).
#pragma once

#include <memory>
#include <string>

#include "vigil/store/store.h"

namespace vigil::store_internal {

// Opens or creates the SQLite database at `path` (WAL mode) and migrates it.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options);

}  // namespace vigil::store_internal
