// The one error type of MetaHog: every expected failure travels as this value, from the C wrappers up to the
// HTTP edge, where http/error_response maps its code to a status exactly once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace metahog {

// Stable names: they appear as "code" in every JSON error body, so never rename one.
enum class error_code {
    invalid_input,          // a request field is missing, malformed or out of range
    unauthenticated,        // no credentials, or bad ones
    csrf_failed,            // a cookie-authenticated state change without a valid CSRF token
    forbidden,              // authenticated, but the role does not allow it
    not_found,              // absent, deleted, or belonging to another team (never a hint which)
    method_not_allowed,
    conflict,               // would duplicate something unique
    payload_too_large,
    unsupported_media_type,
    rate_limited,
    source_connection_failed,  // the external database refused or could not be reached
    unsafe_database_role,   // the source's database role could do more than read (superuser, file access…)
    statement_refused,      // MetaHog's parser or policy refused the SQL before it was sent
    query_failed,           // the external database answered with an error
    query_timeout,
    query_cancelled,
    busy,                   // a bounded queue or pool is full; retry later
    unavailable,            // shutting down, or a dependency is down
    internal,               // a broken invariant; details go to the log, not the client
};

std::string_view to_string(error_code code) noexcept;

struct error {
    error_code code = error_code::internal;
    std::string message;
    // The request field the error is about, when there is one ("job_inputs.port").
    std::string field;
    // Database diagnostics, when the error came from a database.
    std::string sqlstate;
    std::string detail;
    std::string hint;
    // 1-based character position in the SQL the user submitted.
    std::optional<int> position;
    // Seconds a client should wait before retrying (rate limits, busy pools).
    std::optional<int> retry_after_seconds;
};

inline error make_error(error_code code, std::string message, std::string field = {}) {
    error e;
    e.code = code;
    e.message = std::move(message);
    e.field = std::move(field);
    return e;
}

}  // namespace metahog
