// A Postgres source's connection settings: validated from job_inputs (fields or a connection string), split into
// what users may see and what is sealed, merged for PATCH, and fingerprinted so pools notice a changed config.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "drivers/driver.hpp"

namespace metahog::drivers::postgres {

struct connection_config {
    std::string host;  // a DNS name or an IP literal; never a socket path or a list
    std::uint16_t port = 5432;
    std::string database;
    std::string user;
    std::string password;  // secret: empty when none is stored
    std::string schema = "public";
    std::string sslmode = "prefer";
    std::string application_name = "metahog";
    // Set only when the user asked for one; the effective timeout is the smaller of this and the server's.
    std::optional<std::chrono::seconds> connect_timeout;
};

// Longest value accepted for any string field; connection strings may be somewhat longer.
inline constexpr std::size_t max_field_length = 1024;
inline constexpr std::size_t max_connection_string_length = 4096;

// job_inputs as a user sends them on create: either the fields (host, port, database, user, password, schema,
// sslmode, connect_timeout, application_name) or `connection_string` (optionally with `schema` and `password`).
// Errors are invalid_input with `field` set ("job_inputs.port") and a message naming it.
result<connection_config> parse_job_inputs(const boost::json::object& job_inputs);

// Parses a postgres:// / postgresql:// URI or a key=value string with libpq's own parser, keeping only the
// allowlisted keywords (host, port, dbname, user, password, sslmode, connect_timeout, application_name).
result<connection_config> parse_connection_string(std::string_view connection_string);

// The stored form: settings (shown to users) and secrets (sealed at rest).
source_config to_source_config(const connection_config& config);
result<connection_config> from_source_config(const source_config& stored);

// What GET shows under job_inputs: never the password.
boost::json::object public_settings(const connection_config& config);

// PATCH: fields absent from `patch` keep their stored value; an absent, null or empty password keeps the stored
// one; a connection_string in the patch replaces every connection field it can carry.
result<connection_config> merge_job_inputs(const connection_config& current, const boost::json::object& patch);

// A stable digest of everything that affects a connection (password included, as a hash, never the text), so
// that a pool keyed by it retires connections made with an older config.
std::string config_fingerprint(const connection_config& config);

}  // namespace metahog::drivers::postgres
