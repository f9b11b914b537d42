// One open connection to an external Postgres, owned and driven on the event loop: opened without blocking
// (Asio resolves the name, libpq connects to the resolved address), then handed to the query engine, which sends
// and reads through native() while waiting on the socket here. Move-only; the PGconn dies with it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include "core/error.hpp"
#include "core/result.hpp"
#include "drivers/postgres/connection_config.hpp"
#include "drivers/postgres/pg_handles.hpp"

namespace metahog::drivers::postgres {

// Removes every PG* variable (PGPASSWORD, PGOPTIONS, PGSERVICE, PGTZ, ...) from the process environment: libpq
// would otherwise apply them to every connection to every user's database. Call once at start-up, before any
// thread starts (unsetenv is not thread-safe). pg_connection::open refuses to connect while one is still set.
void prepare_process_environment();

// The first PG* variable still set in the environment, or empty. Names only; values may be secrets.
std::string leaking_environment_variable();

// libpq keywords (PQconndefaults) that open() has not been reviewed against; empty unless libpq grew new ones.
std::vector<std::string> unreviewed_libpq_keywords();

using drivers::address_check;

struct connect_options {
    // The whole budget: name resolution, TCP, TLS, authentication. The smaller of this and the config's own.
    std::chrono::milliseconds connect_timeout{5000};
    address_check check_address;  // empty: every address is allowed
};

class pg_connection {
public:
    // Resolves config.host asynchronously, then connects to each resolved address in turn until one answers,
    // all within options.connect_timeout. Failures are source_connection_failed with the server's own reason
    // (or "timed out after N ms"), never the password. `config` and `options` are referenced until the
    // returned awaitable completes: co_await it at once, as usual.
    static boost::asio::awaitable<result<pg_connection>> open(const connection_config& config,
                                                              const connect_options& options);

    pg_connection(pg_connection&& other) noexcept;
    pg_connection& operator=(pg_connection&& other) noexcept;
    pg_connection(const pg_connection&) = delete;
    pg_connection& operator=(const pg_connection&) = delete;
    ~pg_connection();

    // The libpq handle, in non-blocking mode. Valid while this object lives; never PQfinish it.
    PGconn* native() const noexcept { return conn_.get(); }

    // Suspend until the socket can be read / written. Honour the awaiting coroutine's cancellation slot:
    // a cancelled wait answers query_cancelled. A closed connection answers source_connection_failed.
    boost::asio::awaitable<result<void>> wait_readable();
    boost::asio::awaitable<result<void>> wait_writable();

    // Sends everything libpq has buffered (PQflush until it reports 0), reading input meanwhile as libpq's
    // documentation requires so a server that is itself blocked writing cannot deadlock us.
    boost::asio::awaitable<result<void>> flush();

    // PQerrorMessage as an error with `code`: trimmed, the password redacted should a server echo it.
    error error_from_connection(error_code code = error_code::query_failed) const;

    // Status OK and no transaction open or broken: safe to hand to the next user without a round trip.
    bool usable() const noexcept;
    // usable(), and the socket has not been closed by the server meanwhile (reads whatever arrived without
    // waiting: a FATAL from an idle-session timeout or an EOF shows up here). No round trip.
    bool check_alive() noexcept;
    // A round trip (an empty query) answered within `timeout`; for connections idle for a while.
    boost::asio::awaitable<result<void>> ping(std::chrono::milliseconds timeout);

    int backend_pid() const noexcept;
    int server_version() const noexcept;  // e.g. 150004; 0 when unknown

    // When the connection last finished work; the pool uses it for idle timeouts and health checks.
    std::chrono::steady_clock::time_point last_used() const noexcept { return last_used_; }
    void mark_used() noexcept { last_used_ = std::chrono::steady_clock::now(); }

    // What libpq's notice receiver saw; lives on the heap so its address, given to libpq, survives moves.
    // The query engine may install its own receiver on native(); it should then keep setting server_closing.
    struct notice_state {
        bool server_closing = false;  // a FATAL or PANIC arrived outside a query: the server is hanging up
    };

private:
    explicit pg_connection(pg_conn_ptr conn);
    boost::asio::awaitable<result<void>> wait_socket(bool for_write);

    // Declared before conn_ so that it is destroyed after it: libpq may report notices while closing.
    std::unique_ptr<notice_state> notices_;
    pg_conn_ptr conn_;
    std::chrono::steady_clock::time_point last_used_;
};

}  // namespace metahog::drivers::postgres
