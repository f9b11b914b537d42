// The audit log service: validation before a record is appended, the admin's filtered pages, and the chain
// walk that proves the log intact.
#include "services/audit_log.hpp"

#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <utility>

namespace metahog::services {
namespace {

// Records read per store call while verifying: large enough that a million records take a few hundred
// calls, small enough that each call holds the store for milliseconds only.
constexpr std::int64_t verify_page_size = 4096;
constexpr std::size_t action_length_max = 64;
constexpr std::size_t text_field_max = 256;

bool is_action_name(std::string_view action) {
    if (action.empty() || action.size() > action_length_max || action.front() < 'a' || action.front() > 'z') {
        return false;
    }
    for (const char c : action) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
        if (!allowed) {
            return false;
        }
    }
    return true;
}

std::string lower_ascii(std::string_view text) {
    std::string lowered(text);
    for (char& c : lowered) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return lowered;
}

// A key that names a secret: its value would be one. Matched as a substring of the lower-cased key so that
// "sslpassword", "db_password" and "accessToken" are caught too; a list of changed field names is fine,
// since names are values there, not keys.
bool names_a_secret(std::string_view key) {
    static constexpr std::array<std::string_view, 7> secret_words{
        "password", "passwd", "secret", "token", "api_key", "private_key", "credential"};
    const auto lowered = lower_ascii(key);
    for (const auto word : secret_words) {
        if (lowered.find(word) != std::string::npos) {
            return true;
        }
    }
    return false;
}

// The first key in value, at any depth, that names a secret.
std::optional<std::string> secret_key_in(const boost::json::value& value) {
    if (const auto* object = value.if_object()) {
        for (const auto& member : *object) {
            if (names_a_secret(member.key())) {
                return std::string(member.key());
            }
            if (auto nested = secret_key_in(member.value())) {
                return nested;
            }
        }
    } else if (const auto* array = value.if_array()) {
        for (const auto& element : *array) {
            if (auto nested = secret_key_in(element)) {
                return nested;
            }
        }
    }
    return std::nullopt;
}

result<store::audit_event> to_event(const audit_entry& entry) {
    if (entry.team_id <= 0) {
        return make_error(error_code::invalid_input, "an audit record needs a team", "team_id");
    }
    if (entry.user_id <= 0) {
        return make_error(error_code::invalid_input, "an audit record needs a user", "user_id");
    }
    if (!is_action_name(entry.action)) {
        return make_error(error_code::invalid_input,
                          "audit action must be a lower-case name such as \"query\" or \"source.update\"",
                          "action");
    }
    if (entry.source_id && (entry.source_id->empty() || entry.source_id->size() > text_field_max)) {
        return make_error(error_code::invalid_input, "source id must have 1 to 256 characters", "source_id");
    }
    if (entry.fingerprint && (entry.fingerprint->empty() || entry.fingerprint->size() > text_field_max)) {
        return make_error(error_code::invalid_input, "fingerprint must have 1 to 256 characters",
                          "fingerprint");
    }
    if (entry.client_address.size() > text_field_max) {
        return make_error(error_code::invalid_input, "client address must have at most 256 characters",
                          "client_address");
    }
    if (entry.duration.count() < 0) {
        return make_error(error_code::invalid_input, "duration must not be negative", "duration_ms");
    }
    if (entry.rows_returned < 0) {
        return make_error(error_code::invalid_input, "rows returned must not be negative", "rows_returned");
    }
    // An outcome and its error code must tell one story, or an admin filtering by either misses events.
    const bool ok = entry.outcome == store::audit_outcome::ok;
    if (ok && entry.error.has_value()) {
        return make_error(error_code::invalid_input, "an ok outcome has no error code", "error_code");
    }
    if (!ok && !entry.error.has_value()) {
        return make_error(error_code::invalid_input, "an outcome other than ok needs its error code",
                          "error_code");
    }
    // The key is the only thing named, never the value: the value is the secret.
    if (auto secret = secret_key_in(boost::json::value(entry.details))) {
        return make_error(error_code::invalid_input,
                          "audit details must not hold secrets (key \"" + *secret + "\")", "details");
    }

    store::audit_event event;
    event.team_id = entry.team_id;
    event.user_id = entry.user_id;
    event.source_id = entry.source_id;
    event.action = entry.action;
    event.sql = entry.sql;
    event.fingerprint = entry.fingerprint;
    event.started_at = store::format_utc_timestamp(entry.started_at);
    event.duration_ms = entry.duration.count();
    event.rows_returned = entry.rows_returned;
    event.outcome = entry.outcome;
    if (entry.error) {
        event.error_code = std::string(to_string(*entry.error));
    }
    event.client_address = entry.client_address;
    event.details = boost::json::serialize(entry.details);
    return event;
}

audit_verification::broken_record broken(std::int64_t id, audit_break problem, std::string explanation) {
    return audit_verification::broken_record{id, problem, std::move(explanation)};
}

}  // namespace

std::string_view to_string(audit_break problem) noexcept {
    switch (problem) {
        case audit_break::altered_content:
            return "altered_content";
        case audit_break::missing_record:
            return "missing_record";
        case audit_break::broken_link:
            return "broken_link";
    }
    return "altered_content";
}

store::audit_outcome audit_outcome_of(error_code code) noexcept {
    switch (code) {
        case error_code::query_timeout:
            return store::audit_outcome::timeout;
        case error_code::query_cancelled:
            return store::audit_outcome::cancelled;
        case error_code::invalid_input:
        case error_code::statement_refused:
        case error_code::rate_limited:
        case error_code::busy:
        case error_code::not_found:
        case error_code::forbidden:
        case error_code::unauthenticated:
        case error_code::unavailable:
        case error_code::payload_too_large:
            return store::audit_outcome::refused;
        default:
            return store::audit_outcome::error;
    }
}

audit_log::audit_log(store::metadata_store& store) : store_(store) {}

result<store::audit_record> audit_log::record(const audit_entry& entry) {
    auto event = to_event(entry);
    if (!event) {
        return std::move(event).error();
    }
    return store_.append_audit_record(*event);
}

result<audit_page> audit_log::query(const principal& who, const audit_filter& filter) {
    if (filter.team_id <= 0) {
        return make_error(error_code::invalid_input, "team_id is required", "team_id");
    }
    if (filter.limit < 1 || filter.limit > audit_page_limit_max) {
        return make_error(error_code::invalid_input, "limit must be between 1 and 500", "limit");
    }
    if (filter.before_id && *filter.before_id <= 0) {
        return make_error(error_code::invalid_input, "before_id must be a record id", "before_id");
    }
    auto role = store_.membership_role(filter.team_id, who.user_id);
    if (!role) {
        return std::move(role).error();
    }
    if (!role->has_value()) {
        return make_error(error_code::not_found, "team not found");
    }
    if (**role != store::team_role::admin) {
        return make_error(error_code::forbidden, "only team admins can read the audit log");
    }

    store::audit_query query;
    query.team_id = filter.team_id;
    query.user_id = filter.user_id;
    query.source_id = filter.source_id;
    query.action = filter.action;
    query.outcome = filter.outcome;
    if (filter.from) {
        query.occurred_from = store::format_utc_timestamp(*filter.from);
    }
    if (filter.to) {
        query.occurred_to = store::format_utc_timestamp(*filter.to);
    }
    // An empty search would match only records that have SQL, which is not what "no search" means.
    if (filter.sql_contains && !filter.sql_contains->empty()) {
        query.sql_contains = filter.sql_contains;
    }
    query.before_id = filter.before_id;
    // One more than asked tells whether another page exists without a count over the whole team.
    query.limit = filter.limit + 1;
    auto records = store_.query_audit_records(query);
    if (!records) {
        return std::move(records).error();
    }
    audit_page page;
    page.records = std::move(*records);
    if (static_cast<std::int64_t>(page.records.size()) > filter.limit) {
        page.records.pop_back();
        page.next_before_id = page.records.back().id;
    }
    return page;
}

result<audit_verification> audit_log::verify() {
    // Read before the walk: records appended during it only raise the real highest id, so a walk that ends
    // below this value proves that the newest records were removed.
    auto highest = store_.highest_audit_id();
    if (!highest) {
        return std::move(highest).error();
    }

    audit_verification report;
    std::int64_t expected_id = 1;
    while (true) {
        auto page = store_.read_audit_chain(expected_id - 1, verify_page_size);
        if (!page) {
            return std::move(page).error();
        }
        for (const auto& record : *page) {
            if (record.id != expected_id) {
                report.first_break =
                    broken(expected_id, audit_break::missing_record,
                           "record " + std::to_string(expected_id) + " is missing: the record after " +
                               std::to_string(expected_id - 1) + " is " + std::to_string(record.id));
                return report;
            }
            if (record.previous_hash != report.last_hash) {
                report.first_break = broken(record.id, audit_break::broken_link,
                                            "record " + std::to_string(record.id) + " names previous hash " +
                                                record.previous_hash + " but the record before it has hash " +
                                                report.last_hash + ": one of the two was rewritten");
                return report;
            }
            if (const auto recomputed = store::compute_audit_hash(record); recomputed != record.hash) {
                report.first_break = broken(record.id, audit_break::altered_content,
                                            "record " + std::to_string(record.id) + " has hash " +
                                                record.hash + " but its content hashes to " + recomputed +
                                                ": a field or the hash was changed");
                return report;
            }
            report.last_id = record.id;
            report.last_hash = record.hash;
            ++report.records_checked;
            ++expected_id;
        }
        if (static_cast<std::int64_t>(page->size()) < verify_page_size) {
            break;
        }
    }
    if (*highest >= expected_id) {
        report.first_break =
            broken(expected_id, audit_break::missing_record,
                   "records " + std::to_string(expected_id) + " to " + std::to_string(*highest) +
                       " are missing: ids up to " + std::to_string(*highest) +
                       " were given out, but the log ends at " + std::to_string(expected_id - 1));
    }
    return report;
}

}  // namespace metahog::services
