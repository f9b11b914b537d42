// Plain records of MetaHog's own metadata (organizations, teams, users, keys, sessions, sources), as the
// store returns them. No behaviour beyond naming roles and formatting the store's timestamps.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace metahog::store {

using wall_clock = std::chrono::system_clock;

// Every time the store writes is UTC ISO-8601 with milliseconds ("2026-11-22T00:16:33.123Z"). The fixed width
// makes text order equal time order, which the store relies on to compare expiry times inside SQL.
std::string format_utc_timestamp(wall_clock::time_point when);

enum class team_role { admin, member, viewer };

std::string_view to_string(team_role role) noexcept;
// "admin", "member" or "viewer" exactly; anything else is absent so that callers name the bad field
// themselves.
std::optional<team_role> parse_team_role(std::string_view text) noexcept;

struct organization {
    std::int64_t id = 0;
    std::string name;
    std::string created_at;
};

struct team {
    std::int64_t id = 0;
    std::int64_t organization_id = 0;
    std::string name;
    std::string created_at;
};

struct user {
    std::int64_t id = 0;
    // Always lower-case: e-mails are unique regardless of case.
    std::string email;
    // Whatever the password hasher produced (an encoded string with its own parameters); never a password.
    std::string password_hash;
    std::string created_at;
};

// One team a user belongs to, with the user's role in it.
struct team_membership {
    store::team team;
    team_role role = team_role::viewer;
};

// One member of a team. Deliberately without the password hash: member lists go to clients.
struct team_member {
    std::int64_t user_id = 0;
    std::string email;
    team_role role = team_role::viewer;
    // When the membership was created (a later role change keeps it).
    std::string joined_at;
};

// A personal API key. The token itself is never stored, only its hash (a lookup column), so it is not here.
struct api_key {
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::string label;
    // A recognisable fragment for lists ("mh_ab12…ef"), chosen by the caller when the key is minted.
    std::string mask;
    std::string created_at;
    std::optional<std::string> last_used_at;
    std::optional<std::string> revoked_at;
};

// What authenticating with an API key yields: the key and the user it belongs to.
struct active_api_key {
    api_key key;
    store::user user;
};

// A browser session, found by the hash of its cookie token.
struct session {
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::string created_at;
    std::string expires_at;
};

// An external data source of a team. The id is a UUID chosen by the caller; created_at and updated_at are set
// by the store. A soft-deleted source is never returned as a source_record.
struct source_record {
    std::string id;
    std::int64_t team_id = 0;
    std::string source_type;
    std::string prefix;
    bool query_only = true;
    std::string status;
    // The non-secret configuration as a JSON text (host, port, database, ...); must be valid JSON.
    std::string settings_json;
    // The secrets (passwords, ...) sealed by security/; opaque to the store.
    std::string sealed_secrets;
    std::optional<std::int64_t> created_by;
    std::string created_at;
    std::string updated_at;
    // Open to the whole team (false), or only to its admins and the members granted it (source_access).
    bool restricted = false;
};

// Who may use a source besides the team's admins: everyone in the team unless restricted, else the members
// listed. The list is kept while the source is open, so restricting it again restores the same members.
struct source_access {
    bool restricted = false;
    // Ordered by user id.
    std::vector<std::int64_t> user_ids;
};

// One row for re-sealing every source's secrets under a new master key, deleted sources included.
struct sealed_source {
    std::string id;
    std::string sealed_secrets;
};

}  // namespace metahog::store
