// Names of error codes as they appear in JSON bodies and logs.
#include "core/error.hpp"

namespace metahog {

std::string_view to_string(error_code code) noexcept {
    switch (code) {
        case error_code::invalid_input: return "invalid_input";
        case error_code::unauthenticated: return "unauthenticated";
        case error_code::csrf_failed: return "csrf_failed";
        case error_code::forbidden: return "forbidden";
        case error_code::not_found: return "not_found";
        case error_code::method_not_allowed: return "method_not_allowed";
        case error_code::conflict: return "conflict";
        case error_code::payload_too_large: return "payload_too_large";
        case error_code::unsupported_media_type: return "unsupported_media_type";
        case error_code::rate_limited: return "rate_limited";
        case error_code::source_connection_failed: return "source_connection_failed";
        case error_code::unsafe_database_role: return "unsafe_database_role";
        case error_code::statement_refused: return "statement_refused";
        case error_code::query_failed: return "query_failed";
        case error_code::query_timeout: return "query_timeout";
        case error_code::query_cancelled: return "query_cancelled";
        case error_code::busy: return "busy";
        case error_code::unavailable: return "unavailable";
        case error_code::internal: return "internal";
    }
    return "internal";
}

}  // namespace metahog
