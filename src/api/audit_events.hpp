// Recording audit events from route handlers (source changes, sign-ins, API keys): queries are recorded by
// services::query_service itself. Every helper fails closed: when the record cannot be committed the caller
// must answer internal instead of its result, and the reason is logged.
#pragma once

#include <cstdint>

#include "api/application.hpp"
#include "core/result.hpp"
#include "services/audit_log.hpp"

namespace metahog::api {

// Fills team, user, action, client address and times (a change takes no measurable duration of its own).
services::audit_entry audit_event_of(std::int64_t team_id, std::int64_t user_id, std::string_view action,
                                     const http::request_context& context);

// The entry with the failure's outcome, error code and message.
services::audit_entry with_failure(services::audit_entry entry, const error& failure);

result<void> record_audit(application& app, const services::audit_entry& entry);

// Records entry with outcome's failure, if any, then hands outcome back: the caller answers only a recorded
// event, and answers internal when it could not be recorded.
template <class T>
result<T> audited(application& app, services::audit_entry entry, result<T> outcome) {
    if (!outcome) {
        entry = with_failure(std::move(entry), outcome.error());
    }
    if (auto recorded = record_audit(app, entry); !recorded) {
        return std::move(recorded).error();
    }
    return outcome;
}

// Per-user events (sign-in, API keys) belong to no one team: the record goes to every team the user is a
// member of, so each of their admins sees it. A user in no team leaves a log line only.
result<void> record_user_audit(application& app, std::int64_t user_id, services::audit_entry entry);

}  // namespace metahog::api
