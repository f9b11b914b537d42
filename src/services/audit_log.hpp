// The audit log as the server uses it: record every query and every change before answering, let team admins
// read their team's records, and prove that no record was altered or removed (`metahog audit verify`).
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/result.hpp"
#include "services/principal.hpp"
#include "store/metadata_store.hpp"

namespace metahog::services {

// The actions MetaHog records. The list is open: a new kind of event is a new name of the same shape
// (lower-case letters, digits, '_' and '.', starting with a letter, at most 64 characters).
namespace audit_actions {
inline constexpr std::string_view query = "query";
inline constexpr std::string_view export_rows = "export";
// The end of an export that started (details.phase "finished"): rows sent, duration and outcome.
inline constexpr std::string_view export_finished = "export.finished";
inline constexpr std::string_view explain = "explain";
inline constexpr std::string_view source_create = "source.create";
inline constexpr std::string_view source_update = "source.update";
inline constexpr std::string_view source_delete = "source.delete";
inline constexpr std::string_view login = "login";
inline constexpr std::string_view login_failed = "login_failed";
inline constexpr std::string_view api_key_create = "api_key.create";
inline constexpr std::string_view api_key_revoke = "api_key.revoke";
}  // namespace audit_actions

// The outcome a failure is recorded with: refused when MetaHog decided before the statement reached the
// database (policy, limits, busy, bad input, unknown source), timeout, cancelled, else error (the database or
// the connection failed it).
store::audit_outcome audit_outcome_of(error_code code) noexcept;

// One event to record, in the caller's types.
struct audit_entry {
    std::int64_t team_id = 0;
    std::int64_t user_id = 0;
    std::optional<std::string> source_id;
    std::string action;
    // The SQL exactly as the user sent it (before the prefix is removed), for query-like actions.
    std::optional<std::string> sql;
    std::optional<std::string> fingerprint;
    store::wall_clock::time_point started_at;
    std::chrono::milliseconds duration{0};
    std::int64_t rows_returned = 0;
    store::audit_outcome outcome = store::audit_outcome::ok;
    // Required exactly when the outcome is not ok.
    std::optional<error_code> error;
    std::string client_address;
    // What else an admin needs, e.g. for source.update {"changed_fields": ["host", "password"]}. Never a
    // secret's value: record() refuses any key, at any depth, that names a secret ("password", "token", ...).
    boost::json::object details;
};

// An admin's view of one team's records, newest first. from is inclusive, to exclusive; sql_contains matches
// a substring of the SQL regardless of ASCII case. limit is 1 to 500; pass a page's next_before_id as
// before_id to get the page after it.
struct audit_filter {
    std::int64_t team_id = 0;
    std::optional<std::int64_t> user_id;
    std::optional<std::string> source_id;
    std::optional<std::string> action;
    std::optional<store::audit_outcome> outcome;
    std::optional<store::wall_clock::time_point> from;
    std::optional<store::wall_clock::time_point> to;
    std::optional<std::string> sql_contains;
    std::optional<std::int64_t> before_id;
    std::int64_t limit = 100;
};

inline constexpr std::int64_t audit_page_limit_max = 500;

struct audit_page {
    std::vector<store::audit_record> records;
    // Absent on the last page.
    std::optional<std::int64_t> next_before_id;
};

// How the chain is broken at the first bad record.
enum class audit_break {
    altered_content,  // the record's hash is not the hash of its fields: a field (or the hash) was changed
    missing_record,   // an id is missing: a record was removed (or renumbered)
    broken_link,  // previous_hash is not the hash of the record before: that one was rewritten and rehashed
};

std::string_view to_string(audit_break problem) noexcept;

struct audit_verification {
    struct broken_record {
        // The record where the chain breaks; for missing_record the first missing id.
        std::int64_t id = 0;
        audit_break problem = audit_break::altered_content;
        // For an administrator: what was expected and what was found.
        std::string explanation;
    };

    // Records checked before the walk ended (all of them when the chain is intact).
    std::int64_t records_checked = 0;
    // The last good record: keep its id and hash somewhere else (a ticket, another system) to detect later
    // that the whole file was rewritten, which no chain can prove on its own.
    std::int64_t last_id = 0;
    std::string last_hash{store::audit_genesis_hash};
    std::optional<broken_record> first_break;

    bool ok() const noexcept { return !first_break.has_value(); }
};

class audit_log {
public:
    explicit audit_log(store::metadata_store& store);

    // Validates entry and appends it; returns once the record is durably committed, so a caller that
    // answers its client afterwards never answers for an unrecorded event. invalid_input names the bad field.
    result<store::audit_record> record(const audit_entry& entry);

    // The caller must be an admin of filter.team_id: not_found when not a member (no hint the team exists),
    // forbidden for other roles.
    result<audit_page> query(const principal& who, const audit_filter& filter);

    // Walks the whole chain in id order, recomputing every hash, and reports the first break, if any. Reads
    // a page at a time, so memory stays flat and other store calls are not held up. Records appended while
    // it runs are checked too when they arrive before the walk reaches the end.
    result<audit_verification> verify();

private:
    store::metadata_store& store_;
};

}  // namespace metahog::services
