// The SQLite metadata store: one connection behind a mutex, each method one prepared (cached) statement.
#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include "store/migrations.hpp"
#include "store/sqlite_handle.hpp"

namespace metahog::store {

namespace {

constexpr int busy_timeout_ms = 5000;
// last_used_at is written at most this often per key: a key used for every request must not cost a write
// each.
constexpr auto touch_interval = std::chrono::minutes(1);

std::string now_text() {
    return format_utc_timestamp(wall_clock::now());
}

// ASCII only, like SQLite's NOCASE collation on the column, so the two agree and the result never depends on
// the process locale.
std::string lower_ascii(std::string_view text) {
    std::string lowered(text);
    for (char& c : lowered) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return lowered;
}

// Replaces the generic SQLite text of an expected failure (a duplicate name, a missing team) with one a
// client can act on, naming the request field where there is one. Other failures pass through unchanged.
error explain(error failure, error_code when, std::string message, std::string field = {}) {
    if (failure.code == when) {
        failure.message = std::move(message);
        failure.field = std::move(field);
    }
    return failure;
}

team_role read_role(const sqlite::statement& row, int column) {
    const auto role = parse_team_role(row.column_text(column));
    if (!role) {
        // The column has a CHECK constraint, so this is a damaged database or a forgotten migration.
        throw std::logic_error("metadata store: unknown team role in team_memberships");
    }
    return *role;
}

organization read_organization(const sqlite::statement& row) {
    return organization{row.column_int64(0), row.column_text(1), row.column_text(2)};
}

team read_team(const sqlite::statement& row) {
    return team{row.column_int64(0), row.column_int64(1), row.column_text(2), row.column_text(3)};
}

user read_user(const sqlite::statement& row, int first) {
    return user{row.column_int64(first), row.column_text(first + 1), row.column_text(first + 2),
                row.column_text(first + 3)};
}

api_key read_api_key(const sqlite::statement& row) {
    api_key key;
    key.id = row.column_int64(0);
    key.user_id = row.column_int64(1);
    key.label = row.column_text(2);
    key.mask = row.column_text(3);
    key.created_at = row.column_text(4);
    key.last_used_at = row.column_optional_text(5);
    key.revoked_at = row.column_optional_text(6);
    return key;
}

session read_session(const sqlite::statement& row) {
    return session{row.column_int64(0), row.column_int64(1), row.column_text(2), row.column_text(3)};
}

source_record read_source(const sqlite::statement& row) {
    source_record source;
    source.id = row.column_text(0);
    source.team_id = row.column_int64(1);
    source.source_type = row.column_text(2);
    source.prefix = row.column_text(3);
    source.query_only = row.column_bool(4);
    source.status = row.column_text(5);
    source.settings_json = row.column_text(6);
    source.sealed_secrets = row.column_text(7);
    source.created_by = row.column_optional_int64(8);
    source.created_at = row.column_text(9);
    source.updated_at = row.column_text(10);
    source.restricted = row.column_bool(11);
    return source;
}

// Reads the columns "id, occurred_at, team_id, user_id, source_id, action, sql, fingerprint, started_at,
// duration_ms, rows_returned, outcome, error_code, client_address, details, previous_hash, hash" in this
// order. Absent when the stored outcome is not one of ours: the CHECK constraint allows no other, so the
// table was rebuilt by hand, and the caller reports that rather than guessing.
std::optional<audit_record> read_audit_record(const sqlite::statement& row) {
    const auto outcome = parse_audit_outcome(row.column_text(11));
    if (!outcome) {
        return std::nullopt;
    }
    audit_record record;
    record.id = row.column_int64(0);
    record.occurred_at = row.column_text(1);
    record.event.team_id = row.column_int64(2);
    record.event.user_id = row.column_int64(3);
    record.event.source_id = row.column_optional_text(4);
    record.event.action = row.column_text(5);
    record.event.sql = row.column_optional_text(6);
    record.event.fingerprint = row.column_optional_text(7);
    record.event.started_at = row.column_text(8);
    record.event.duration_ms = row.column_int64(9);
    record.event.rows_returned = row.column_int64(10);
    record.event.outcome = *outcome;
    record.event.error_code = row.column_optional_text(12);
    record.event.client_address = row.column_text(13);
    record.event.details = row.column_text(14);
    record.previous_hash = row.column_text(15);
    record.hash = row.column_text(16);
    return record;
}

// A LIKE pattern that matches text anywhere, with LIKE's own wildcards in it taken literally.
std::string contains_pattern(std::string_view text) {
    std::string pattern = "%";
    for (const char c : text) {
        if (c == '%' || c == '_' || c == '\\') {
            pattern += '\\';
        }
        pattern += c;
    }
    pattern += '%';
    return pattern;
}

class sqlite_store final : public metadata_store {
public:
    explicit sqlite_store(sqlite::connection db) : db_(std::move(db)) {}

    result<organization> create_organization(std::string_view name) override {
        const std::lock_guard lock(mutex_);
        const auto now = now_text();
        auto inserted = db_.run("INSERT INTO organizations (name, created_at) VALUES (?, ?)",
                                "create organization", name, now);
        if (!inserted) {
            return std::move(inserted).error();
        }
        return organization{db_.last_insert_rowid(), std::string(name), now};
    }

    result<std::optional<organization>> first_organization() override {
        const std::lock_guard lock(mutex_);
        return query_optional("SELECT id, name, created_at FROM organizations ORDER BY id LIMIT 1",
                              "find first organization", read_organization);
    }

    result<team> create_team(std::int64_t organization_id, std::string_view name) override {
        const std::lock_guard lock(mutex_);
        const auto now = now_text();
        auto inserted = db_.run("INSERT INTO teams (organization_id, name, created_at) VALUES (?, ?, ?)",
                                "create team", organization_id, name, now);
        if (!inserted) {
            auto failure = explain(std::move(inserted).error(), error_code::conflict,
                                   "a team with this name already exists in the organization", "name");
            return explain(std::move(failure), error_code::not_found, "no such organization");
        }
        return team{db_.last_insert_rowid(), organization_id, std::string(name), now};
    }

    result<std::optional<team>> find_team(std::int64_t team_id) override {
        const std::lock_guard lock(mutex_);
        return query_optional("SELECT id, organization_id, name, created_at FROM teams WHERE id = ?",
                              "find team", read_team, team_id);
    }

    result<std::optional<team>> find_team_by_name(std::int64_t organization_id,
                                                  std::string_view name) override {
        const std::lock_guard lock(mutex_);
        return query_optional(
            "SELECT id, organization_id, name, created_at FROM teams WHERE organization_id = ? AND name = ?",
            "find team by name", read_team, organization_id, name);
    }

    result<user> create_user(std::string_view email, std::string_view password_hash) override {
        const std::lock_guard lock(mutex_);
        auto lowered = lower_ascii(email);
        const auto now = now_text();
        auto inserted = db_.run("INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?)",
                                "create user", lowered, password_hash, now);
        if (!inserted) {
            return explain(std::move(inserted).error(), error_code::conflict,
                           "a user with this e-mail already exists", "email");
        }
        return user{db_.last_insert_rowid(), std::move(lowered), std::string(password_hash), now};
    }

    result<std::optional<user>> find_user(std::int64_t user_id) override {
        const std::lock_guard lock(mutex_);
        return query_optional("SELECT id, email, password_hash, created_at FROM users WHERE id = ?",
                              "find user", read_first_user, user_id);
    }

    result<std::optional<user>> find_user_by_email(std::string_view email) override {
        const std::lock_guard lock(mutex_);
        return query_optional("SELECT id, email, password_hash, created_at FROM users WHERE email = ?",
                              "find user by e-mail", read_first_user, lower_ascii(email));
    }

    result<bool> set_user_password(std::int64_t user_id, std::string_view password_hash) override {
        const std::lock_guard lock(mutex_);
        return changed_one(db_.run("UPDATE users SET password_hash = ? WHERE id = ?", "set user password",
                                   password_hash, user_id));
    }

    result<void> set_membership(std::int64_t team_id, std::int64_t user_id, team_role role) override {
        const std::lock_guard lock(mutex_);
        auto upserted = db_.run(
            "INSERT INTO team_memberships (team_id, user_id, role, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
            "set membership", team_id, user_id, to_string(role), now_text());
        if (!upserted) {
            return explain(std::move(upserted).error(), error_code::not_found, "no such team or user");
        }
        return {};
    }

    result<std::optional<team_role>> membership_role(std::int64_t team_id, std::int64_t user_id) override {
        const std::lock_guard lock(mutex_);
        return query_optional(
            "SELECT role FROM team_memberships WHERE team_id = ? AND user_id = ?", "read membership role",
            [](const sqlite::statement& row) { return read_role(row, 0); }, team_id, user_id);
    }

    result<std::vector<team_membership>> teams_of_user(std::int64_t user_id) override {
        const std::lock_guard lock(mutex_);
        return query_list(
            "SELECT t.id, t.organization_id, t.name, t.created_at, m.role FROM team_memberships AS m "
            "JOIN teams AS t ON t.id = m.team_id WHERE m.user_id = ? ORDER BY t.id",
            "list teams of user",
            [](const sqlite::statement& row) {
                return team_membership{read_team(row), read_role(row, 4)};
            },
            user_id);
    }

    result<std::vector<team_member>> members_of_team(std::int64_t team_id) override {
        const std::lock_guard lock(mutex_);
        return query_list(
            "SELECT u.id, u.email, m.role, m.created_at FROM team_memberships AS m "
            "JOIN users AS u ON u.id = m.user_id WHERE m.team_id = ? ORDER BY u.id",
            "list members of team",
            [](const sqlite::statement& row) {
                return team_member{row.column_int64(0), row.column_text(1), read_role(row, 2),
                                   row.column_text(3)};
            },
            team_id);
    }

    result<void> add_membership(std::int64_t team_id, std::int64_t user_id, team_role role) override {
        const std::lock_guard lock(mutex_);
        auto inserted =
            db_.run("INSERT INTO team_memberships (team_id, user_id, role, created_at) VALUES (?, ?, ?, ?)",
                    "add membership", team_id, user_id, to_string(role), now_text());
        if (!inserted) {
            auto failure = explain(std::move(inserted).error(), error_code::conflict,
                                   "this user is already a member of the team", "email");
            return explain(std::move(failure), error_code::not_found, "no such team or user");
        }
        return {};
    }

    result<bool> change_membership_role(std::int64_t team_id, std::int64_t user_id, team_role role) override {
        return change_member(team_id, user_id, role == team_role::admin, "demoted", [&] {
            return db_.run("UPDATE team_memberships SET role = ? WHERE team_id = ? AND user_id = ?",
                           "change membership role", to_string(role), team_id, user_id);
        });
    }

    result<bool> remove_membership(std::int64_t team_id, std::int64_t user_id) override {
        return change_member(team_id, user_id, false, "removed", [&] {
            return db_.run("DELETE FROM team_memberships WHERE team_id = ? AND user_id = ?", "remove membership",
                           team_id, user_id);
        });
    }

    result<api_key> create_api_key(std::int64_t user_id, std::string_view label, std::string_view token_hash,
                                   std::string_view mask) override {
        const std::lock_guard lock(mutex_);
        const auto now = now_text();
        auto inserted = db_.run(
            "INSERT INTO api_keys (user_id, label, token_hash, mask, created_at) VALUES (?, ?, ?, ?, ?)",
            "create API key", user_id, label, token_hash, mask, now);
        if (!inserted) {
            auto failure = explain(std::move(inserted).error(), error_code::conflict,
                                   "an API key with this token already exists");
            return explain(std::move(failure), error_code::not_found, "no such user");
        }
        return api_key{db_.last_insert_rowid(),
                       user_id,
                       std::string(label),
                       std::string(mask),
                       now,
                       std::nullopt,
                       std::nullopt};
    }

    result<std::optional<active_api_key>> find_active_api_key(std::string_view token_hash) override {
        const std::lock_guard lock(mutex_);
        return query_optional(
            "SELECT k.id, k.user_id, k.label, k.mask, k.created_at, k.last_used_at, k.revoked_at, "
            "u.id, u.email, u.password_hash, u.created_at FROM api_keys AS k JOIN users AS u ON u.id = "
            "k.user_id "
            "WHERE k.token_hash = ? AND k.revoked_at IS NULL",
            "find API key",
            [](const sqlite::statement& row) {
                return active_api_key{read_api_key(row), read_user(row, 7)};
            },
            token_hash);
    }

    result<std::vector<api_key>> list_api_keys(std::int64_t user_id) override {
        const std::lock_guard lock(mutex_);
        return query_list(
            "SELECT id, user_id, label, mask, created_at, last_used_at, revoked_at FROM api_keys "
            "WHERE user_id = ? ORDER BY id",
            "list API keys", read_api_key, user_id);
    }

    result<bool> revoke_api_key(std::int64_t user_id, std::int64_t key_id) override {
        const std::lock_guard lock(mutex_);
        return changed_one(
            db_.run("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                    "revoke API key", now_text(), key_id, user_id));
    }

    result<bool> touch_api_key(std::int64_t key_id) override {
        const std::lock_guard lock(mutex_);
        const auto now = wall_clock::now();
        return changed_one(db_.run(
            "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= "
            "?)",
            "touch API key", format_utc_timestamp(now), key_id, format_utc_timestamp(now - touch_interval)));
    }

    result<session> create_session(std::int64_t user_id, std::string_view token_hash,
                                   wall_clock::time_point expires_at) override {
        const std::lock_guard lock(mutex_);
        const auto now = now_text();
        auto expiry = format_utc_timestamp(expires_at);
        auto inserted =
            db_.run("INSERT INTO sessions (user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)",
                    "create session", user_id, token_hash, now, expiry);
        if (!inserted) {
            auto failure = explain(std::move(inserted).error(), error_code::conflict,
                                   "a session with this token already exists");
            return explain(std::move(failure), error_code::not_found, "no such user");
        }
        return session{db_.last_insert_rowid(), user_id, now, std::move(expiry)};
    }

    result<std::optional<session>> find_active_session(std::string_view token_hash) override {
        const std::lock_guard lock(mutex_);
        return query_optional(
            "SELECT id, user_id, created_at, expires_at FROM sessions WHERE token_hash = ? AND expires_at > "
            "?",
            "find session", read_session, token_hash, now_text());
    }

    result<bool> delete_session(std::string_view token_hash) override {
        const std::lock_guard lock(mutex_);
        return changed_one(
            db_.run("DELETE FROM sessions WHERE token_hash = ?", "delete session", token_hash));
    }

    result<std::int64_t> delete_expired_sessions() override {
        const std::lock_guard lock(mutex_);
        return db_.run("DELETE FROM sessions WHERE expires_at <= ?", "delete expired sessions", now_text());
    }

    result<source_record> insert_source(const source_record& record) override {
        const std::lock_guard lock(mutex_);
        source_record stored = record;
        stored.created_at = now_text();
        stored.updated_at = stored.created_at;
        auto inserted = db_.run(
            "INSERT INTO sources (id, team_id, source_type, prefix, query_only, status, settings_json, "
            "sealed_secrets, created_by, created_at, updated_at, restricted) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "insert source", stored.id, stored.team_id, stored.source_type, stored.prefix, stored.query_only,
            stored.status, stored.settings_json, stored.sealed_secrets, stored.created_by, stored.created_at,
            stored.updated_at, stored.restricted);
        if (!inserted) {
            auto failure = explain(std::move(inserted).error(), error_code::conflict,
                                   "a source with this id already exists", "id");
            return explain(std::move(failure), error_code::not_found, "no such team or creating user");
        }
        return stored;
    }

    result<std::vector<source_record>> list_sources(std::int64_t team_id) override {
        const std::lock_guard lock(mutex_);
        // rowid breaks ties between sources created in the same millisecond, in insertion order.
        return query_list(
            "SELECT id, team_id, source_type, prefix, query_only, status, settings_json, sealed_secrets, "
            "created_by, created_at, updated_at, restricted FROM sources "
            "WHERE team_id = ? AND deleted_at IS NULL ORDER BY created_at, rowid",
            "list sources", read_source, team_id);
    }

    result<std::optional<source_record>> find_source(std::int64_t team_id, std::string_view id) override {
        const std::lock_guard lock(mutex_);
        return query_optional(
            "SELECT id, team_id, source_type, prefix, query_only, status, settings_json, sealed_secrets, "
            "created_by, created_at, updated_at, restricted FROM sources "
            "WHERE id = ? AND team_id = ? AND deleted_at IS NULL",
            "find source", read_source, id, team_id);
    }

    result<bool> update_source(const source_record& record) override {
        const std::lock_guard lock(mutex_);
        return changed_one(db_.run(
            "UPDATE sources SET source_type = ?, prefix = ?, query_only = ?, status = ?, settings_json = ?, "
            "sealed_secrets = ?, updated_at = ? WHERE id = ? AND team_id = ? AND deleted_at IS NULL",
            "update source", record.source_type, record.prefix, record.query_only, record.status,
            record.settings_json, record.sealed_secrets, now_text(), record.id, record.team_id));
    }

    result<bool> soft_delete_source(std::int64_t team_id, std::string_view id) override {
        const std::lock_guard lock(mutex_);
        const auto now = now_text();
        return changed_one(
            db_.run("UPDATE sources SET deleted_at = ?, updated_at = ? WHERE id = ? AND team_id = ? AND "
                    "deleted_at IS NULL",
                    "delete source", now, now, id, team_id));
    }

    result<std::optional<source_access>> find_source_access(std::int64_t team_id,
                                                            std::string_view source_id) override {
        const std::lock_guard lock(mutex_);
        auto restricted = query_optional(
            "SELECT restricted FROM sources WHERE id = ? AND team_id = ? AND deleted_at IS NULL",
            "read source access", [](const sqlite::statement& row) { return row.column_bool(0); }, source_id,
            team_id);
        if (!restricted) {
            return std::move(restricted).error();
        }
        if (!restricted->has_value()) {
            return std::optional<source_access>();
        }
        auto user_ids = query_list(
            "SELECT user_id FROM source_grants WHERE source_id = ? ORDER BY user_id", "list source grants",
            [](const sqlite::statement& row) { return row.column_int64(0); }, source_id);
        if (!user_ids) {
            return std::move(user_ids).error();
        }
        return std::optional<source_access>(source_access{**restricted, std::move(*user_ids)});
    }

    result<bool> set_source_access(std::int64_t team_id, std::string_view source_id,
                                   const source_access& access) override {
        const std::lock_guard lock(mutex_);
        auto transaction = sqlite::transaction::begin_immediate(db_);
        if (!transaction) {
            return std::move(transaction).error();
        }
        auto flagged = changed_one(
            db_.run("UPDATE sources SET restricted = ? WHERE id = ? AND team_id = ? AND deleted_at IS NULL",
                    "set source access", access.restricted, source_id, team_id));
        if (!flagged || !*flagged) {
            return flagged;  // the transaction rolls back as it goes out of scope
        }
        if (auto cleared =
                db_.run("DELETE FROM source_grants WHERE source_id = ?", "set source access", source_id);
            !cleared) {
            return std::move(cleared).error();
        }
        const auto now = now_text();
        for (const std::int64_t user_id : access.user_ids) {
            // INSERT OR IGNORE: a user listed twice is granted once. A non-member fails the foreign key.
            auto granted = db_.run(
                "INSERT OR IGNORE INTO source_grants (source_id, team_id, user_id, created_at) "
                "VALUES (?, ?, ?, ?)",
                "grant source", source_id, team_id, user_id, now);
            if (!granted) {
                return explain(std::move(granted).error(), error_code::not_found,
                               "user " + std::to_string(user_id) + " is not a member of this team",
                               "user_ids");
            }
        }
        if (auto committed = transaction->commit(); !committed) {
            return std::move(committed).error();
        }
        return true;
    }

    result<std::vector<std::string>> granted_source_ids(std::int64_t team_id, std::int64_t user_id) override {
        const std::lock_guard lock(mutex_);
        return query_list(
            "SELECT source_id FROM source_grants WHERE team_id = ? AND user_id = ? ORDER BY source_id",
            "list granted sources", [](const sqlite::statement& row) { return row.column_text(0); }, team_id,
            user_id);
    }

    result<std::vector<sealed_source>> list_all_sources() override {
        const std::lock_guard lock(mutex_);
        return query_list("SELECT id, sealed_secrets FROM sources ORDER BY id", "list all sources",
                          [](const sqlite::statement& row) {
                              return sealed_source{row.column_text(0), row.column_text(1)};
                          });
    }

    result<bool> replace_sealed_secrets(std::string_view id, std::string_view sealed_secrets) override {
        const std::lock_guard lock(mutex_);
        return changed_one(db_.run("UPDATE sources SET sealed_secrets = ? WHERE id = ?",
                                   "replace sealed secrets", sealed_secrets, id));
    }

    result<std::int64_t> reseal_sources(const reseal_function& reseal,
                                        const before_commit_function& before_commit) override {
        const std::lock_guard lock(mutex_);
        auto transaction = sqlite::transaction::begin_immediate(db_);
        if (!transaction) {
            return std::move(transaction).error();
        }
        auto rows = query_list("SELECT id, sealed_secrets FROM sources ORDER BY id", "reseal sources",
                               [](const sqlite::statement& row) {
                                   return sealed_source{row.column_text(0), row.column_text(1)};
                               });
        if (!rows) {
            return std::move(rows).error();
        }
        std::int64_t replaced = 0;
        for (const auto& row : *rows) {
            auto resealed = reseal(row);
            if (!resealed) {
                return std::move(resealed).error();
            }
            if (!resealed->has_value()) {
                continue;
            }
            auto updated = db_.run("UPDATE sources SET sealed_secrets = ? WHERE id = ?", "reseal sources",
                                   **resealed, row.id);
            if (!updated) {
                return std::move(updated).error();
            }
            ++replaced;
        }
        if (before_commit) {
            if (auto ready = before_commit(replaced); !ready) {
                return std::move(ready).error();
            }
        }
        if (auto committed = transaction->commit(); !committed) {
            return std::move(committed).error();
        }
        return replaced;
    }

    result<audit_record> append_audit_record(const audit_event& event) override {
        const std::lock_guard lock(mutex_);
        // The caller answers its client only after this returns, so the record must survive a power cut
        // too, not just a crash: FULL syncs the write-ahead log at this commit. Other writes keep NORMAL.
        if (auto durable = db_.exec("PRAGMA synchronous = FULL", "append audit record"); !durable) {
            return std::move(durable).error();
        }
        auto appended = append_audit_record_locked(event);
        // Ignored on purpose: the record is committed (or not) either way, and a connection left at FULL only
        // makes later writes slower, never less safe, so reporting a failure here would mislead the caller.
        (void)db_.exec("PRAGMA synchronous = NORMAL", "append audit record");
        return appended;
    }

    result<std::vector<audit_record>> read_audit_chain(std::int64_t after_id, std::int64_t limit) override {
        const std::lock_guard lock(mutex_);
        return read_audit_records(
            "SELECT id, occurred_at, team_id, user_id, source_id, action, sql, fingerprint, started_at, "
            "duration_ms, rows_returned, outcome, error_code, client_address, details, previous_hash, hash "
            "FROM audit_records WHERE id > ? ORDER BY id LIMIT ?",
            "read audit chain", after_id, std::max<std::int64_t>(limit, 0));
    }

    result<std::int64_t> highest_audit_id() override {
        const std::lock_guard lock(mutex_);
        auto highest = query_optional(highest_audit_id_sql, "read highest audit id",
                                      [](const sqlite::statement& row) { return row.column_int64(0); });
        if (!highest) {
            return std::move(highest).error();
        }
        return highest->value_or(0);
    }

    result<std::vector<audit_record>> query_audit_records(const audit_query& query) override {
        const std::lock_guard lock(mutex_);
        std::optional<std::string> outcome;
        if (query.outcome) {
            outcome = std::string(to_string(*query.outcome));
        }
        std::optional<std::string> pattern;
        if (query.sql_contains) {
            pattern = contains_pattern(*query.sql_contains);
        }
        // One statement for every combination of filters (an absent one is NULL and matches all), so the
        // cache holds one plan. before_id is always bound, never NULL, so that it stays a range on the
        // (team_id, id) index and a deep page does not rescan the pages before it.
        return read_audit_records(
            "SELECT id, occurred_at, team_id, user_id, source_id, action, sql, fingerprint, started_at, "
            "duration_ms, rows_returned, outcome, error_code, client_address, details, previous_hash, hash "
            "FROM audit_records WHERE team_id = ?1 AND id < ?2 "
            "AND (?3 IS NULL OR user_id = ?3) AND (?4 IS NULL OR source_id = ?4) "
            "AND (?5 IS NULL OR action = ?5) AND (?6 IS NULL OR outcome = ?6) "
            "AND (?7 IS NULL OR occurred_at >= ?7) AND (?8 IS NULL OR occurred_at < ?8) "
            "AND (?9 IS NULL OR sql LIKE ?9 ESCAPE '\\') ORDER BY id DESC LIMIT ?10",
            "query audit records", query.team_id,
            query.before_id.value_or(std::numeric_limits<std::int64_t>::max()), query.user_id,
            query.source_id, query.action, outcome, query.occurred_from, query.occurred_to, pattern,
            std::max<std::int64_t>(query.limit, 0));
    }

private:
    // The highest id ever used: sqlite_sequence remembers it after the row is gone; max(id) covers a
    // sqlite_sequence row removed by hand, so a new record can never reuse an id.
    static constexpr std::string_view highest_audit_id_sql =
        "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_records'), 0), "
        "coalesce((SELECT max(id) FROM audit_records), 0))";

    result<audit_record> append_audit_record_locked(const audit_event& event) {
        // The write lock first, then the chain's tip: another thread or process appending at the same time
        // waits here, so no two records ever name the same previous record.
        auto transaction = sqlite::transaction::begin_immediate(db_);
        if (!transaction) {
            return std::move(transaction).error();
        }
        auto next_id = query_optional(highest_audit_id_sql, "read highest audit id",
                                      [](const sqlite::statement& row) { return row.column_int64(0) + 1; });
        if (!next_id) {
            return std::move(next_id).error();
        }
        auto previous_hash =
            query_optional("SELECT hash FROM audit_records ORDER BY id DESC LIMIT 1", "read last audit hash",
                           [](const sqlite::statement& row) { return row.column_text(0); });
        if (!previous_hash) {
            return std::move(previous_hash).error();
        }

        audit_record record;
        record.id = next_id->value_or(1);
        record.occurred_at = now_text();
        record.event = event;
        record.previous_hash = previous_hash->value_or(std::string(audit_genesis_hash));
        record.hash = compute_audit_hash(record);
        const auto& stored = record.event;
        auto inserted = db_.run(
            "INSERT INTO audit_records (id, occurred_at, team_id, user_id, source_id, action, sql, "
            "fingerprint, started_at, duration_ms, rows_returned, outcome, error_code, client_address, "
            "details, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "append audit record", record.id, record.occurred_at, stored.team_id, stored.user_id,
            stored.source_id, stored.action, stored.sql, stored.fingerprint, stored.started_at,
            stored.duration_ms, stored.rows_returned, to_string(stored.outcome), stored.error_code,
            stored.client_address, stored.details, record.previous_hash, record.hash);
        if (!inserted) {
            return std::move(inserted).error();
        }
        if (auto committed = transaction->commit(); !committed) {
            return std::move(committed).error();
        }
        return record;
    }

    template <class... Args>
    result<std::vector<audit_record>> read_audit_records(std::string_view sql, std::string_view context,
                                                         const Args&... args) {
        std::vector<audit_record> records;
        auto query = db_.prepare(sql, context, args...);
        if (!query) {
            return std::move(query).error();
        }
        while (true) {
            auto stepped = query->step();
            if (!stepped) {
                return std::move(stepped).error();
            }
            if (!*stepped) {
                return records;
            }
            auto record = read_audit_record(*query);
            if (!record) {
                return make_error(error_code::internal,
                                  "metadata store: audit record " + std::to_string(query->column_int64(0)) +
                                      " has an unknown outcome; the audit table was altered outside MetaHog");
            }
            records.push_back(std::move(*record));
        }
    }

    static user read_first_user(const sqlite::statement& row) { return read_user(row, 0); }

    // One change of a membership, in one write transaction so that two admins demoting each other at the same
    // moment cannot both succeed: reads the member's role, keeps the team's last admin (unless the member stays
    // admin), then runs `write`. False when the user is not a member.
    template <typename Write>
    result<bool> change_member(std::int64_t team_id, std::int64_t user_id, bool stays_admin, std::string_view change,
                               Write write) {
        const std::lock_guard lock(mutex_);
        auto transaction = sqlite::transaction::begin_immediate(db_);
        if (!transaction) {
            return std::move(transaction).error();
        }
        auto current = current_role(team_id, user_id);
        if (!current) {
            return std::move(current).error();
        }
        if (!current->has_value()) {
            return false;
        }
        if (**current == team_role::admin && !stays_admin) {
            if (auto kept = keeps_an_admin(team_id, change); !kept) {
                return std::move(kept).error();
            }
        }
        auto written = changed_one(write());
        if (!written) {
            return written;
        }
        if (auto committed = transaction->commit(); !committed) {
            return std::move(committed).error();
        }
        return *written;
    }

    // Inside a transaction: the member's role, absent when not a member.
    result<std::optional<team_role>> current_role(std::int64_t team_id, std::int64_t user_id) {
        return query_optional(
            "SELECT role FROM team_memberships WHERE team_id = ? AND user_id = ?", "read membership role",
            [](const sqlite::statement& row) { return read_role(row, 0); }, team_id, user_id);
    }

    // Inside a transaction, before an admin is demoted or removed: conflict when they are the last one, since
    // a team without an admin could never manage its sources or members again.
    result<void> keeps_an_admin(std::int64_t team_id, std::string_view change) {
        auto admins = query_optional(
            "SELECT count(*) FROM team_memberships WHERE team_id = ? AND role = 'admin'", "count team admins",
            [](const sqlite::statement& row) { return row.column_int64(0); }, team_id);
        if (!admins) {
            return std::move(admins).error();
        }
        if (admins->value_or(0) <= 1) {
            return make_error(error_code::conflict, "the last admin of a team cannot be " + std::string(change) +
                                                        "; make another member admin first");
        }
        return {};
    }

    static result<bool> changed_one(result<std::int64_t> changed) {
        if (!changed) {
            return std::move(changed).error();
        }
        return *changed == 1;
    }

    // The first row read by read, or nothing when the query returns no row.
    template <class Read, class... Args>
    auto query_optional(std::string_view sql, std::string_view context, Read read, const Args&... args)
        -> result<std::optional<std::invoke_result_t<Read&, const sqlite::statement&>>> {
        using row_type = std::invoke_result_t<Read&, const sqlite::statement&>;
        auto query = db_.prepare(sql, context, args...);
        if (!query) {
            return std::move(query).error();
        }
        auto stepped = query->step();
        if (!stepped) {
            return std::move(stepped).error();
        }
        if (!*stepped) {
            return std::optional<row_type>();
        }
        return std::optional<row_type>(read(*query));
    }

    // Every row, each read by read.
    template <class Read, class... Args>
    auto query_list(std::string_view sql, std::string_view context, Read read, const Args&... args)
        -> result<std::vector<std::invoke_result_t<Read&, const sqlite::statement&>>> {
        std::vector<std::invoke_result_t<Read&, const sqlite::statement&>> rows;
        auto query = db_.prepare(sql, context, args...);
        if (!query) {
            return std::move(query).error();
        }
        while (true) {
            auto stepped = query->step();
            if (!stepped) {
                return std::move(stepped).error();
            }
            if (!*stepped) {
                return rows;
            }
            rows.push_back(read(*query));
        }
    }

    // One connection for every thread: each call takes microseconds, so a mutex costs less than a pool would,
    // and SQLite allows one writer at a time anyway.
    std::mutex mutex_;
    sqlite::connection db_;
};

// SQLite would create a missing file with mode 0644 and its -wal and -shm files with the same mode; creating
// it first with 0600 keeps password hashes and sealed secrets unreadable to other local users.
result<void> create_private_file(const std::filesystem::path& file) {
    const int descriptor = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (descriptor >= 0) {
        ::close(descriptor);
        return {};
    }
    if (errno == EEXIST) {
        return {};
    }
    const std::error_code reason(errno, std::generic_category());
    return make_error(error_code::unavailable,
                      "metadata store: cannot create " + file.string() + ": " + reason.message());
}

result<void> configure(sqlite::connection& db, const std::string& database_name) {
    const std::string context = "open " + database_name;
    if (const int code = sqlite3_busy_timeout(db.handle(), busy_timeout_ms); code != SQLITE_OK) {
        return sqlite::translate_error(code, db.handle(), context);
    }
    // The first statement that reads the file: a file that is not SQLite fails here with SQLITE_NOTADB.
    {
        auto journal = db.prepare("PRAGMA journal_mode = WAL", context);
        if (!journal) {
            return std::move(journal).error();
        }
        auto stepped = journal->step();
        if (!stepped) {
            return std::move(stepped).error();
        }
        // WAL lets the server read while bootstrap writes; some file systems (network mounts) refuse it.
        if (!*stepped || journal->column_text(0) != "wal") {
            return make_error(error_code::unavailable,
                              "metadata store: " + database_name + " cannot use write-ahead logging");
        }
    }
    return db.exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", "configure metadata database");
}

}  // namespace

result<std::unique_ptr<metadata_store>> open_sqlite_store(const std::filesystem::path& db_file) {
    if (auto created = create_private_file(db_file); !created) {
        return std::move(created).error();
    }
    auto db = sqlite::connection::open(db_file);
    if (!db) {
        return std::move(db).error();
    }
    const std::string database_name = db_file.string();
    if (auto configured = configure(*db, database_name); !configured) {
        return std::move(configured).error();
    }
    if (auto migrated = apply_migrations(*db, schema_migrations(), database_name); !migrated) {
        return std::move(migrated).error();
    }
    return std::unique_ptr<metadata_store>(std::make_unique<sqlite_store>(std::move(*db)));
}

}  // namespace metahog::store
