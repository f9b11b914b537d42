// The one place where an error becomes an HTTP status and a JSON body.
#pragma once

#include <boost/json/value.hpp>

#include "core/error.hpp"
#include "http/message.hpp"

namespace metahog::http {

status status_for(error_code code) noexcept;

// {"error", "message", "code", "field"?, "sqlstate"?, "detail"?, "hint"?, "position"?} with its status and,
// for rate limits and busy pools, Retry-After.
outgoing error_response(const error& failure);

outgoing json_response(status code, const boost::json::value& body);
outgoing empty_response(status code);

}  // namespace metahog::http
