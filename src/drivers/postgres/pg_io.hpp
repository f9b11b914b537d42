// Small building blocks for talking to Postgres on the event loop through libpq's asynchronous API: sending a
// statement through the extended protocol, reading results without blocking the thread, running one catalog
// query, and turning a failed result into a metahog::error with the server's diagnostics.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <initializer_list>
#include <span>
#include <string_view>

#include "core/error.hpp"
#include "core/result.hpp"
#include "drivers/postgres/pg_connection.hpp"
#include "drivers/postgres/pg_handles.hpp"

namespace metahog::drivers::postgres {

// Queues one statement through the extended protocol (PQsendQueryParams: Parse/Bind/Execute, never the simple
// protocol, so the server refuses more than one statement). Parameters are text; nullptr is SQL NULL. `sql`
// must stay alive until the call returns only (libpq copies it). Errors are the connection's own.
result<void> send_statement(pg_connection& connection, std::string_view sql,
                            std::span<const char* const> parameters = {});
inline result<void> send_statement(pg_connection& connection, std::string_view sql,
                                   std::initializer_list<const char*> parameters) {
    return send_statement(connection, sql,
                          std::span<const char* const>(parameters.begin(), parameters.size()));
}

// The next result of the current command, or a null pointer when the command has no more results (and in
// pipeline mode before the next command's). Waits on the socket, never on the thread.
boost::asio::awaitable<result<pg_result_ptr>> next_result(pg_connection& connection);

// Runs one statement outside pipeline mode and returns its last result; a failed statement becomes an error
// (query_failed with the server's diagnostics). For MetaHog's own fixed catalog and control queries.
// (A span, not an initializer_list: g++ 12 cannot keep an initializer_list's array alive across co_await.)
boost::asio::awaitable<result<pg_result_ptr>> run_statement(pg_connection& connection, std::string_view sql,
                                                            std::span<const char* const> parameters = {});

// A failed result as an error: SQLSTATE, primary message, detail, hint, and the statement position moved back
// by `position_offset` characters (the text MetaHog put before the user's SQL); a position inside that text
// is dropped. 57014 (query_canceled) is query_cancelled when `cancel_requested`, else query_timeout.
error error_from_result(const PGresult* failed, std::size_t position_offset = 0,
                        bool cancel_requested = false);

// True for PGRES_FATAL_ERROR and the other statuses that mean the command did not succeed.
bool result_failed(const PGresult* result) noexcept;

}  // namespace metahog::drivers::postgres
