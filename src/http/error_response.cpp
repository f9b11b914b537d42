// Error → HTTP status mapping, written once. docs/api.md has the same table for clients.
#include "http/error_response.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace metahog::http {

status status_for(error_code code) noexcept {
    switch (code) {
        case error_code::invalid_input:
        case error_code::source_connection_failed:
        case error_code::unsafe_database_role:
        case error_code::statement_refused:
        case error_code::query_failed:
        case error_code::query_timeout:
        case error_code::query_cancelled: return status::bad_request;
        case error_code::unauthenticated: return status::unauthorized;
        case error_code::csrf_failed:
        case error_code::forbidden: return status::forbidden;
        case error_code::not_found: return status::not_found;
        case error_code::method_not_allowed: return status::method_not_allowed;
        case error_code::conflict: return status::conflict;
        case error_code::payload_too_large: return status::payload_too_large;
        case error_code::unsupported_media_type: return status::unsupported_media_type;
        case error_code::rate_limited: return status::too_many_requests;
        case error_code::busy:
        case error_code::unavailable: return status::service_unavailable;
        case error_code::internal: return status::internal_server_error;
    }
    return status::internal_server_error;
}

outgoing error_response(const error& failure) {
    boost::json::object body;
    body["error"] = failure.message;
    body["message"] = failure.message;
    body["code"] = to_string(failure.code);
    if (!failure.field.empty()) {
        body["field"] = failure.field;
    }
    if (!failure.sqlstate.empty()) {
        body["sqlstate"] = failure.sqlstate;
    }
    if (!failure.detail.empty()) {
        body["detail"] = failure.detail;
    }
    if (!failure.hint.empty()) {
        body["hint"] = failure.hint;
    }
    if (failure.position) {
        body["position"] = *failure.position;
    }
    outgoing response = json_response(status_for(failure.code), body);
    if (failure.retry_after_seconds) {
        response.headers.emplace_back("Retry-After", std::to_string(*failure.retry_after_seconds));
    }
    return response;
}

outgoing json_response(status code, const boost::json::value& body) {
    outgoing response;
    response.code = code;
    response.body = boost::json::serialize(body);
    return response;
}

outgoing empty_response(status code) {
    outgoing response;
    response.code = code;
    response.content_type.clear();
    return response;
}

}  // namespace metahog::http
