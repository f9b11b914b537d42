// Opens the SQLite implementation of the metadata store (DIR/metahog.db in a deployment).
#pragma once

#include <filesystem>
#include <memory>

#include "core/result.hpp"
#include "store/metadata_store.hpp"

namespace metahog::store {

// Opens db_file, creating it (mode 0600: it holds password hashes and sealed secrets) when missing, in WAL
// mode with foreign keys on, a 5 s busy timeout and synchronous=NORMAL, then applies the pending migrations.
// Several processes may open the same file (a server and `metahog bootstrap`). Errors: unavailable when the
// file is not a SQLite database, cannot be opened, or has a schema newer than this binary knows.
result<std::unique_ptr<metadata_store>> open_sqlite_store(const std::filesystem::path& db_file);

}  // namespace metahog::store
