// Internal to vigil_store: the PostgreSQL backend (server deployments).
#pragma once

#include <memory>
#include <string>

#include "vigil/store/store.h"

namespace vigil::store_internal {

// Connects to `url` ("postgresql://user@host:port/db?..."), migrates the schema and
// creates TimescaleDB hypertables when options.use_timescaledb and the extension exists.
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                 const StoreOptions& options);

// `url` with any password replaced by "***", for messages and Store::url().
std::string MaskPassword(const std::string& url);

}  // namespace vigil::store_internal
