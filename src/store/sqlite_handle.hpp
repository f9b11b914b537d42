// RAII for SQLite: the connection with its cache of prepared statements, a statement in use (binding,
// stepping, reading columns), a BEGIN IMMEDIATE transaction, and the translation of every SQLite return code
// into a metahog::error. Private to src/store: only the store's .cpp files (and its tests) include it, so
// sqlite3.h never leaks into the store's public headers.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "core/result.hpp"

namespace metahog::store::sqlite {

struct database_closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct statement_finalizer {
    void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};
using database_ptr = std::unique_ptr<sqlite3, database_closer>;
using statement_ptr = std::unique_ptr<sqlite3_stmt, statement_finalizer>;

// Turns a failed SQLite call into an error. context says what was being done ("create user"). Unique and
// primary-key violations become conflict, foreign-key violations not_found (a referenced row is absent), a
// lock held past the busy timeout busy, a file that is not a usable database unavailable, the rest internal.
// The message is SQLite's own, which names tables and columns but never a bound value, so no secret reaches
// it.
error translate_error(int code, sqlite3* db, std::string_view context);

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// A cached prepared statement in use. It does not own the handle (the connection's cache does); it resets it
// when it goes out of scope so the statement never keeps a read snapshot open, which in WAL mode would stop
// checkpoints and let the -wal file grow.
class statement {
public:
    statement(sqlite3_stmt* handle, sqlite3* db, std::string_view context) noexcept
        : handle_(handle), db_(db), context_(context) {}
    statement(statement&& other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), db_(other.db_), context_(other.context_) {}
    statement& operator=(statement&& other) noexcept {
        if (this != &other) {
            release();
            handle_ = std::exchange(other.handle_, nullptr);
            db_ = other.db_;
            context_ = other.context_;
        }
        return *this;
    }
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    ~statement() { release(); }

    // Binds args to parameters 1..N in order. Integers bind as int64, bool as 0/1, text as a copy, an empty
    // optional (or std::nullopt) as NULL.
    template <class... Args>
    result<void> bind_all(const Args&... args) {
        int index = 0;
        int code = SQLITE_OK;
        ((code = code == SQLITE_OK ? bind_one(++index, args) : code), ...);
        if (code != SQLITE_OK) {
            return translate_error(code, db_, context_);
        }
        return {};
    }

    // true when a row is ready to read, false when the statement is done.
    result<bool> step() {
        const int code = sqlite3_step(handle_);
        if (code == SQLITE_ROW) {
            return true;
        }
        if (code == SQLITE_DONE) {
            return false;
        }
        return translate_error(code, db_, context_);
    }

    std::int64_t column_int64(int column) const noexcept { return sqlite3_column_int64(handle_, column); }
    bool column_bool(int column) const noexcept { return sqlite3_column_int64(handle_, column) != 0; }
    std::string column_text(int column) const {
        // Text first, then its size: the documented order that avoids a second conversion.
        const auto* text = sqlite3_column_text(handle_, column);
        const int size = sqlite3_column_bytes(handle_, column);
        return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
    }
    bool column_is_null(int column) const noexcept {
        return sqlite3_column_type(handle_, column) == SQLITE_NULL;
    }
    std::optional<std::string> column_optional_text(int column) const {
        return column_is_null(column) ? std::nullopt : std::optional<std::string>(column_text(column));
    }
    std::optional<std::int64_t> column_optional_int64(int column) const noexcept {
        return column_is_null(column) ? std::nullopt : std::optional<std::int64_t>(column_int64(column));
    }

private:
    template <class T>
    int bind_one(int index, const T& value) {
        if constexpr (std::is_same_v<T, std::nullopt_t> || std::is_same_v<T, std::nullptr_t>) {
            return sqlite3_bind_null(handle_, index);
        } else if constexpr (is_optional<T>::value) {
            return value.has_value() ? bind_one(index, *value) : sqlite3_bind_null(handle_, index);
        } else if constexpr (std::is_same_v<T, bool>) {
            return sqlite3_bind_int(handle_, index, value ? 1 : 0);
        } else if constexpr (std::is_integral_v<T>) {
            return sqlite3_bind_int64(handle_, index, static_cast<sqlite3_int64>(value));
        } else {
            static_assert(std::is_convertible_v<const T&, std::string_view>, "bind an integer, bool or text");
            const std::string_view text = value;
            // A null data pointer would bind SQL NULL, so an empty view binds the empty string explicitly.
            return sqlite3_bind_text64(handle_, index, text.empty() ? "" : text.data(), text.size(),
                                       SQLITE_TRANSIENT, SQLITE_UTF8);
        }
    }

    void release() noexcept {
        if (handle_ != nullptr) {
            sqlite3_reset(handle_);
            sqlite3_clear_bindings(handle_);
            handle_ = nullptr;
        }
    }

    sqlite3_stmt* handle_;
    sqlite3* db_;
    // Borrowed from the caller (usually a literal), who keeps it alive while the statement is in use.
    std::string_view context_;
};

// One SQLite connection and its prepared statements, cached per SQL text. Not thread-safe: the owner
// serialises calls. Move-only. Hazard: a statement borrows from the cache, so the connection must outlive it
// and the same SQL text must not be in use twice at once.
class connection {
public:
    // Opens the file read-write, creating it when missing, with extended result codes so that constraint
    // failures can be told apart.
    static result<connection> open(const std::filesystem::path& file);

    connection(connection&&) noexcept = default;
    connection& operator=(connection&&) noexcept = default;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() = default;

    // Runs one or more statements without parameters or results (pragmas, migrations, BEGIN/COMMIT).
    result<void> exec(const char* sql, std::string_view context);

    // The cached statement for sql, prepared on first use, with args bound.
    template <class... Args>
    result<statement> prepare(std::string_view sql, std::string_view context, const Args&... args) {
        auto handle = cached(sql, context);
        if (!handle) {
            return std::move(handle).error();
        }
        statement prepared(*handle, db_.get(), context);
        if (auto bound = prepared.bind_all(args...); !bound) {
            return std::move(bound).error();
        }
        return prepared;
    }

    // Runs a statement that returns no rows; the number of rows it changed.
    template <class... Args>
    result<std::int64_t> run(std::string_view sql, std::string_view context, const Args&... args) {
        auto prepared = prepare(sql, context, args...);
        if (!prepared) {
            return std::move(prepared).error();
        }
        auto stepped = prepared->step();
        if (!stepped) {
            return std::move(stepped).error();
        }
        return changes();
    }

    std::int64_t last_insert_rowid() const noexcept { return sqlite3_last_insert_rowid(db_.get()); }
    std::int64_t changes() const noexcept { return sqlite3_changes64(db_.get()); }
    sqlite3* handle() const noexcept { return db_.get(); }

private:
    explicit connection(database_ptr db) noexcept : db_(std::move(db)) {}

    result<sqlite3_stmt*> cached(std::string_view sql, std::string_view context);

    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const noexcept {
            return std::hash<std::string_view>{}(text);
        }
    };

    // Declared before the cache so that it is destroyed after it: statements are finalized before the
    // connection closes.
    database_ptr db_;
    std::unordered_map<std::string, statement_ptr, text_hash, std::equal_to<>> statements_;
};

// BEGIN IMMEDIATE: takes the write lock up front (waiting up to the busy timeout), so a multi-statement write
// never fails half-way because another process (metahog bootstrap beside a server) wrote first. Rolls back
// when destroyed without commit().
class transaction {
public:
    static result<transaction> begin_immediate(connection& db);

    transaction(transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
    transaction& operator=(transaction&&) = delete;
    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;
    ~transaction();

    result<void> commit();

private:
    explicit transaction(connection& db) noexcept : db_(&db) {}

    connection* db_;
};

}  // namespace metahog::store::sqlite
