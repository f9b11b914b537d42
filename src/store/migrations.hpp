// The metadata schema as an ordered list of versioned migrations, and applying the pending ones to a
// database.
#pragma once

#include <span>
#include <string_view>

#include "core/result.hpp"

namespace metahog::store {

namespace sqlite {
class connection;
}

struct migration {
    int version;
    std::string_view name;
    // One or more SQL statements.
    std::string_view sql;
};

// Every migration, oldest first, versions 1, 2, 3, ... A schema change (the audit log, say) is a new entry at
// the end; an entry that has shipped is never edited, because databases that already applied it would not see
// it.
std::span<const migration> schema_migrations();

int latest_schema_version();

// Applies the migrations of list newer than the database's version, each in its own BEGIN IMMEDIATE
// transaction together with its row in schema_migrations(version, name, applied_at). Safe when another
// process opens the same file at the same moment: the version is read again once the write lock is held. A
// database whose version is newer than the last of list is refused (unavailable) and left untouched.
// database_name appears in errors.
result<void> apply_migrations(sqlite::connection& db, std::span<const migration> list,
                              std::string_view database_name);

}  // namespace metahog::store
