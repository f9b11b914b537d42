// The metadata schema, version by version, and the code that brings a database up to date.
#include "store/migrations.hpp"

#include <array>
#include <stdexcept>
#include <string>

#include "store/records.hpp"
#include "store/sqlite_handle.hpp"

namespace metahog::store {

namespace {

// Conventions: STRICT tables so a wrong type is an error rather than silently stored; times are TEXT in the
// store's fixed-width UTC format (records.hpp), so text comparison is time comparison; every foreign key says
// what happens on delete; every lookup the store makes has an index (a UNIQUE or PRIMARY KEY constraint is
// one).
constexpr std::string_view initial_schema = R"sql(
CREATE TABLE organizations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (organization_id, name)
) STRICT;

-- E-mails are stored lower-cased by the store; NOCASE keeps them unique even for a row written otherwise.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE team_memberships (
    team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX team_memberships_by_user ON team_memberships (user_id, team_id);

-- The token is never stored: token_hash is a digest the caller computes, looked up on every API request.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    mask TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
) STRICT;
CREATE INDEX api_keys_by_user ON api_keys (user_id, id);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Sources are soft-deleted (deleted_at) so that audit records can keep naming them; the store never returns a
-- deleted one as a source. created_by survives its user's deletion as NULL.
CREATE TABLE sources (
    id TEXT PRIMARY KEY,
    team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    source_type TEXT NOT NULL,
    prefix TEXT NOT NULL,
    query_only INTEGER NOT NULL CHECK (query_only IN (0, 1)),
    status TEXT NOT NULL,
    settings_json TEXT NOT NULL CHECK (json_valid(settings_json)),
    sealed_secrets TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
) STRICT;
CREATE INDEX sources_by_team ON sources (team_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX sources_by_creator ON sources (created_by);
)sql";

// The audit log (audit_record.hpp): every query and every change, each record carrying the hash of the one
// before it. No foreign keys on purpose: a record must outlive the team, user or source it names, and a
// cascade would have to delete history. AUTOINCREMENT keeps the highest id ever used in sqlite_sequence, so
// removing the newest records still leaves a trace that verify() finds. The triggers make history immutable
// to every statement, the store's own included; only someone who drops them (with the file in hand) can alter
// a record, and the chain shows that. (Named audit_records: store tests use "audit_log" as a stand-in table.)
constexpr std::string_view audit_log = R"sql(
CREATE TABLE audit_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at TEXT NOT NULL,
    team_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    source_id TEXT,
    action TEXT NOT NULL,
    sql TEXT,
    fingerprint TEXT,
    started_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
    rows_returned INTEGER NOT NULL CHECK (rows_returned >= 0),
    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'error', 'timeout', 'cancelled', 'refused')),
    error_code TEXT,
    client_address TEXT NOT NULL,
    details TEXT NOT NULL CHECK (json_valid(details)),
    previous_hash TEXT NOT NULL CHECK (length(previous_hash) = 64),
    hash TEXT NOT NULL CHECK (length(hash) = 64)
) STRICT;
CREATE INDEX audit_records_by_team ON audit_records (team_id, id);

-- INSERT OR REPLACE deletes the row it collides with without firing delete triggers (recursive triggers are
-- off), so an insert must also come after every existing record: history can only grow at its end. The store
-- always names the id; a stray insert without one is refused too (SQLite shows it as NEW.id -1; the
-- documentation leaves it undefined, hence the NULL test).
CREATE TRIGGER audit_records_append_only BEFORE INSERT ON audit_records
WHEN NEW.id IS NULL OR NEW.id <= (SELECT coalesce(max(id), 0) FROM audit_records)
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;
)sql";

// Per-source grants. A restricted source is visible only to the team's admins and the members listed here.
// A grant references the membership, not just the user, so ending a membership (or deleting the team or
// user) removes the member's grants with it: being added again later does not bring old access back. The
// store writes the source's own team_id, so a grant can never name a member of another team.
constexpr std::string_view source_grants = R"sql(
ALTER TABLE sources ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0 CHECK (restricted IN (0, 1));

CREATE TABLE source_grants (
    source_id TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    team_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (source_id, user_id),
    FOREIGN KEY (team_id, user_id) REFERENCES team_memberships (team_id, user_id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX source_grants_by_member ON source_grants (team_id, user_id);
)sql";

constexpr std::array all_migrations{
    migration{1, "initial_schema", initial_schema},
    migration{2, "audit_log", audit_log},
    migration{3, "source_grants", source_grants},
};

constexpr bool versions_are_sequential() {
    for (std::size_t index = 0; index < all_migrations.size(); ++index) {
        if (all_migrations[index].version != static_cast<int>(index) + 1) {
            return false;
        }
    }
    return true;
}
static_assert(versions_are_sequential(), "migration versions must be 1, 2, 3, ... in order");

result<int> current_version(sqlite::connection& db) {
    auto query = db.prepare("SELECT coalesce(max(version), 0) FROM schema_migrations", "read schema version");
    if (!query) {
        return std::move(query).error();
    }
    auto row = query->step();
    if (!row) {
        return std::move(row).error();
    }
    return static_cast<int>(query->column_int64(0));
}

error newer_than_known(std::string_view database_name, int found, int known) {
    return make_error(error_code::unavailable,
                      "metadata database " + std::string(database_name) + " has schema version " +
                          std::to_string(found) + ", newer than this MetaHog knows (" +
                          std::to_string(known) + "); run a newer MetaHog or point --data-dir elsewhere");
}

}  // namespace

std::span<const migration> schema_migrations() {
    return all_migrations;
}

int latest_schema_version() {
    return all_migrations.back().version;
}

result<void> apply_migrations(sqlite::connection& db, std::span<const migration> list,
                              std::string_view database_name) {
    for (std::size_t index = 0; index < list.size(); ++index) {
        if (list[index].version != static_cast<int>(index) + 1) {
            throw std::logic_error("metadata store: migration versions must be 1, 2, 3, ... in order");
        }
    }
    const int known = list.empty() ? 0 : list.back().version;

    if (auto created =
            db.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT",
                    "create schema_migrations");
        !created) {
        return std::move(created).error();
    }
    auto version = current_version(db);
    if (!version) {
        return std::move(version).error();
    }
    if (*version > known) {
        return newer_than_known(database_name, *version, known);
    }

    for (const auto& step : list) {
        if (step.version <= *version) {
            continue;
        }
        auto transaction = sqlite::transaction::begin_immediate(db);
        if (!transaction) {
            return std::move(transaction).error();
        }
        // Another process may have migrated while this one waited for the write lock.
        version = current_version(db);
        if (!version) {
            return std::move(version).error();
        }
        if (*version > known) {
            return newer_than_known(database_name, *version, known);
        }
        if (step.version <= *version) {
            continue;
        }
        const std::string sql(
            step.sql);  // sqlite3_exec needs a terminating NUL, which a view does not promise
        if (auto applied = db.exec(sql.c_str(), "apply migration " + std::string(step.name)); !applied) {
            return std::move(applied).error();
        }
        if (auto recorded =
                db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                       "record migration", step.version, step.name, format_utc_timestamp(wall_clock::now()));
            !recorded) {
            return std::move(recorded).error();
        }
        if (auto committed = transaction->commit(); !committed) {
            return committed;
        }
        version = step.version;
    }
    return {};
}

}  // namespace metahog::store
