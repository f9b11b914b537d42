// The role gate: what the role a source connects as may do beyond reading. A role that could escape MetaHog's
// read-only guard altogether (superuser, replication, BYPASSRLS, server file and program access, signalling
// other backends, or membership in a role that has any of these) is refused; write grants, ownership, CREATE
// and risky functions are warnings. Each inspection is one catalog query whatever the database's size.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/result.hpp"
#include "drivers/driver.hpp"
#include "drivers/postgres/pg_connection.hpp"

namespace metahog::drivers::postgres {

// What one inspection found: the reasons to refuse the role (sentences such as "it is a superuser") and,
// for the full inspection only, the warnings.
struct role_verdict {
    std::string role;
    std::vector<std::string> refusals;
    std::vector<role_warning> warnings;
};

// How much to inspect: attributes and memberships (every new pooled connection), or everything (create,
// check, patch).
enum class role_inspection { gate, full };

// The inspection statement (one statement, its answer one JSON document).
std::string_view role_inspection_sql(role_inspection depth);

// Reads the inspection's JSON document. internal when it is not the expected shape.
result<role_verdict> read_role_verdict(std::string_view json_text);

// unsafe_database_role naming every reason, with what to do instead.
error unsafe_role_error(const role_verdict& verdict);

// Runs the inspection on `connection` (idle, outside a transaction). A refused role is unsafe_database_role;
// a failing statement is source_connection_failed (the role could not be checked, so it is not used).
boost::asio::awaitable<result<role_verdict>> inspect_role(pg_connection& connection, role_inspection depth);

// inspect_role, with a refusal as the error: the pool runs this on every connection it opens.
boost::asio::awaitable<result<void>> gate_role(pg_connection& connection);

}  // namespace metahog::drivers::postgres
