// The interface to MetaHog's own metadata. SQLite implements it now (sqlite_store.hpp); a Postgres-backed
// store for multi-node deployments can implement it later without callers changing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/audit_record.hpp"
#include "store/records.hpp"

namespace metahog::store {

// Contract shared by every implementation:
// - Every method is safe to call from several threads at once.
// - Absence is a value (an empty optional, or false), never an error. Errors are: conflict (a unique name,
//   e-mail or token hash already taken), not_found (a referenced team, user or organization does not exist),
//   busy (the database stayed locked by another process past the busy timeout), internal (anything else).
// - Timestamps are set by the store, never by the caller, except a session's expiry and an audit event's
//   started_at.
class metadata_store {
public:
    metadata_store() = default;
    virtual ~metadata_store() = default;
    metadata_store(const metadata_store&) = delete;
    metadata_store& operator=(const metadata_store&) = delete;

    // Organizations. A deployment has one today; first_organization() is the one with the lowest id.
    virtual result<organization> create_organization(std::string_view name) = 0;
    virtual result<std::optional<organization>> first_organization() = 0;

    // Teams. A name is unique within its organization (conflict).
    virtual result<team> create_team(std::int64_t organization_id, std::string_view name) = 0;
    virtual result<std::optional<team>> find_team(std::int64_t team_id) = 0;
    virtual result<std::optional<team>> find_team_by_name(std::int64_t organization_id,
                                                          std::string_view name) = 0;

    // Users. E-mails are stored lower-cased and compared without regard to case (conflict on a duplicate).
    virtual result<user> create_user(std::string_view email, std::string_view password_hash) = 0;
    virtual result<std::optional<user>> find_user(std::int64_t user_id) = 0;
    virtual result<std::optional<user>> find_user_by_email(std::string_view email) = 0;
    // false when there is no such user.
    virtual result<bool> set_user_password(std::int64_t user_id, std::string_view password_hash) = 0;

    // Memberships: set_membership inserts or changes the role (not_found when the team or user is absent).
    virtual result<void> set_membership(std::int64_t team_id, std::int64_t user_id, team_role role) = 0;
    virtual result<std::optional<team_role>> membership_role(std::int64_t team_id, std::int64_t user_id) = 0;
    // Ordered by team id, so a user's default team is the first.
    virtual result<std::vector<team_membership>> teams_of_user(std::int64_t user_id) = 0;
    // Ordered by user id.
    virtual result<std::vector<team_member>> members_of_team(std::int64_t team_id) = 0;
    // Adds a member; conflict when the user already is one (their role changes only through
    // change_membership_role, which guards the last admin), not_found when the team or user is absent.
    virtual result<void> add_membership(std::int64_t team_id, std::int64_t user_id, team_role role) = 0;
    // false when the user is not a member. conflict when it would leave the team without an admin: the check
    // and the write are one transaction, so two admins demoting each other at once cannot both succeed.
    virtual result<bool> change_membership_role(std::int64_t team_id, std::int64_t user_id,
                                                team_role role) = 0;
    // Ends a membership and with it the member's source grants in the team; false when the user is not a
    // member, conflict when they are the team's last admin.
    virtual result<bool> remove_membership(std::int64_t team_id, std::int64_t user_id) = 0;

    // API keys. token_hash is a printable digest of the token (the token is never stored); it is unique.
    virtual result<api_key> create_api_key(std::int64_t user_id, std::string_view label,
                                           std::string_view token_hash, std::string_view mask) = 0;
    // A key that exists and is not revoked, with its user.
    virtual result<std::optional<active_api_key>> find_active_api_key(std::string_view token_hash) = 0;
    // All of a user's keys, revoked ones included, ordered by id.
    virtual result<std::vector<api_key>> list_api_keys(std::int64_t user_id) = 0;
    // false when the key is not this user's, does not exist, or is already revoked.
    virtual result<bool> revoke_api_key(std::int64_t user_id, std::int64_t key_id) = 0;
    // Records last_used_at, at most once a minute per key so that every request does not write; true when it
    // wrote.
    virtual result<bool> touch_api_key(std::int64_t key_id) = 0;

    // Sessions, found by the hash of the cookie token.
    virtual result<session> create_session(std::int64_t user_id, std::string_view token_hash,
                                           wall_clock::time_point expires_at) = 0;
    // A session whose expiry is still in the future.
    virtual result<std::optional<session>> find_active_session(std::string_view token_hash) = 0;
    // false when there was no such session.
    virtual result<bool> delete_session(std::string_view token_hash) = 0;
    // How many expired sessions were removed.
    virtual result<std::int64_t> delete_expired_sessions() = 0;

    // Sources, always scoped by team: another team's source id is simply absent, never an error that says it
    // exists. insert_source stores record as given (created_at and updated_at are set by the store) and
    // returns the stored record; a duplicate id is a conflict.
    virtual result<source_record> insert_source(const source_record& record) = 0;
    // Sources not deleted, oldest first.
    virtual result<std::vector<source_record>> list_sources(std::int64_t team_id) = 0;
    virtual result<std::optional<source_record>> find_source(std::int64_t team_id, std::string_view id) = 0;
    // Replaces source_type, prefix, query_only, status, settings_json and sealed_secrets of the source with
    // record.id in record.team_id, and sets updated_at; false when absent, deleted or another team's.
    virtual result<bool> update_source(const source_record& record) = 0;
    // false when absent, already deleted or another team's.
    virtual result<bool> soft_delete_source(std::int64_t team_id, std::string_view id) = 0;
    // Per-source access (records.hpp source_access), team-scoped like the sources themselves: absent when
    // the source is absent, deleted or another team's.
    virtual result<std::optional<source_access>> find_source_access(std::int64_t team_id,
                                                                    std::string_view source_id) = 0;
    // Replaces the restricted flag and the whole grant list in one transaction (updated_at stays: access is
    // not a change to the source). false when the source is absent, deleted or another team's; not_found
    // (field user_ids) when a listed user is not a member of the team.
    virtual result<bool> set_source_access(std::int64_t team_id, std::string_view source_id,
                                           const source_access& access) = 0;
    // The ids of the team's sources granted to the user, ordered.
    virtual result<std::vector<std::string>> granted_source_ids(std::int64_t team_id,
                                                                std::int64_t user_id) = 0;
    // Every source row, deleted or not, for re-sealing secrets under a new master key. Ordered by id.
    virtual result<std::vector<sealed_source>> list_all_sources() = 0;
    // Replaces the sealed secrets of any row, deleted or not, leaving updated_at alone (re-sealing is not an
    // edit); false when there is no such row.
    virtual result<bool> replace_sealed_secrets(std::string_view id, std::string_view sealed_secrets) = 0;
    // Re-seals in one write transaction (BEGIN IMMEDIATE), so no other writer can slip a row in between:
    // `reseal` sees every source row, deleted or not, and returns its new sealed secrets or nothing to leave
    // it; then `before_commit` (when set) runs with the number of rows replaced, still holding the write
    // lock. An error from either rolls everything back. Both run under the store's lock and must not call the
    // store. Returns the number of rows replaced; updated_at is left alone.
    using reseal_function = std::function<result<std::optional<std::string>>(const sealed_source&)>;
    using before_commit_function = std::function<result<void>(std::int64_t replaced)>;
    virtual result<std::int64_t> reseal_sources(const reseal_function& reseal,
                                                const before_commit_function& before_commit) = 0;

    // The audit log: append-only, so there is no method to change or remove a record. append_audit_record
    // stores event as the next record of the chain and returns it: the id, occurred_at and previous_hash are
    // read and the hash computed (compute_audit_hash) inside one write transaction, so appends from any
    // number of threads and processes form a single chain; it returns only once the record is committed
    // durably. An event the schema refuses (details that are not JSON, a negative count) is internal: callers
    // validate first (services/audit_log does).
    virtual result<audit_record> append_audit_record(const audit_event& event) = 0;
    // Up to limit records with an id greater than after_id, oldest first: the whole chain, page by page, for
    // verification. Each page is read on its own, so a long walk never holds up writers.
    virtual result<std::vector<audit_record>> read_audit_chain(std::int64_t after_id, std::int64_t limit) = 0;
    // The highest id ever given to an audit record, 0 when none was. It outlives the record itself, so it
    // shows when the newest records were removed.
    virtual result<std::int64_t> highest_audit_id() = 0;
    // One team's records matching query, newest first, at most query.limit of them.
    virtual result<std::vector<audit_record>> query_audit_records(const audit_query& query) = 0;
};

}  // namespace metahog::store
