// The non-template half of the SQLite wrapper: opening, the statement cache, transactions, error translation.
#include "store/sqlite_handle.hpp"

#include <stdexcept>

namespace metahog::store::sqlite {

error translate_error(int code, sqlite3* db, std::string_view context) {
    std::string message = "metadata store: ";
    message += context;
    message += ": ";
    // sqlite3_errmsg describes the latest failure on this connection; the owner serialises calls, so it is
    // the failure at hand. Without a connection (out of memory on open) only the code's generic text is
    // available.
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);

    error_code kind = error_code::internal;
    std::optional<int> retry_after;
    switch (code & 0xff) {
        case SQLITE_CONSTRAINT:
            if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
                kind = error_code::conflict;
            } else if (code == SQLITE_CONSTRAINT_FOREIGNKEY) {
                kind = error_code::not_found;
            }
            break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            // Another process held the lock for the whole busy timeout: worth a retry, not a 500.
            kind = error_code::busy;
            retry_after = 1;
            break;
        case SQLITE_NOTADB:
        case SQLITE_CANTOPEN:
        case SQLITE_CORRUPT:
        case SQLITE_READONLY:
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_PERM:
            // The file itself is unusable (not a database, unreadable, disk full): nothing MetaHog can fix.
            kind = error_code::unavailable;
            break;
        default:
            break;
    }
    error failure = make_error(kind, std::move(message));
    failure.retry_after_seconds = retry_after;
    return failure;
}

result<connection> connection::open(const std::filesystem::path& file) {
    sqlite3* raw = nullptr;
    // NOMUTEX: the store serialises every call itself, so SQLite's own per-connection mutex would be
    // redundant.
    const int code = sqlite3_open_v2(
        file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    // Owned at once: sqlite3_open_v2 allocates a handle even when it fails, and it must be closed.
    database_ptr db(raw);
    if (code != SQLITE_OK) {
        return translate_error(code, db.get(), "open " + file.string());
    }
    sqlite3_extended_result_codes(db.get(), 1);
    return connection(std::move(db));
}

result<void> connection::exec(const char* sql, std::string_view context) {
    const int code = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
    if (code != SQLITE_OK) {
        return translate_error(code, db_.get(), context);
    }
    return {};
}

result<sqlite3_stmt*> connection::cached(std::string_view sql, std::string_view context) {
    if (auto found = statements_.find(sql); found != statements_.end()) {
        if (sqlite3_stmt_busy(found->second.get()) != 0) {
            throw std::logic_error("metadata store: a cached statement was prepared while still in use");
        }
        return found->second.get();
    }
    sqlite3_stmt* raw = nullptr;
    const int code = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                        SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    statement_ptr prepared(raw);
    if (code != SQLITE_OK) {
        return translate_error(code, db_.get(), context);
    }
    if (prepared == nullptr) {
        // Only whitespace or a comment: a programming error in a store method.
        throw std::logic_error("metadata store: empty SQL statement");
    }
    auto* handle = prepared.get();
    statements_.emplace(std::string(sql), std::move(prepared));
    return handle;
}

result<transaction> transaction::begin_immediate(connection& db) {
    if (auto begun = db.exec("BEGIN IMMEDIATE", "begin transaction"); !begun) {
        return std::move(begun).error();
    }
    return transaction(db);
}

transaction::~transaction() {
    if (db_ != nullptr) {
        // Nothing useful to do if the rollback itself fails: SQLite rolls back on its own when a statement
        // fails in a way that ends the transaction, and closing the connection rolls back the rest.
        sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

result<void> transaction::commit() {
    auto* db = std::exchange(db_, nullptr);
    if (db == nullptr) {
        throw std::logic_error("metadata store: commit of a finished transaction");
    }
    if (auto committed = db->exec("COMMIT", "commit transaction"); !committed) {
        // A failed COMMIT (SQLITE_BUSY) leaves the transaction open: roll it back so the connection is
        // usable.
        sqlite3_exec(db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
        return std::move(committed).error();
    }
    return {};
}

}  // namespace metahog::store::sqlite
