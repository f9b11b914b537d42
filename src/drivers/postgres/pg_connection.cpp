// Opening and waiting on Postgres connections without blocking an I/O thread: Asio resolves the name, libpq gets
// the address as hostaddr plus an explicit value for every setting it would otherwise take from this machine's
// environment or home directory, and PQconnectPoll is driven from socket readiness under one deadline.
#include "drivers/postgres/pg_connection.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

extern char** environ;  // NOLINT: POSIX declares it nowhere in C++ headers

namespace metahog::drivers::postgres {

void pg_conn_deleter::operator()(PGconn* conn) const noexcept { PQfinish(conn); }
void pg_result_deleter::operator()(PGresult* result) const noexcept { PQclear(result); }
void pg_cancel_deleter::operator()(PGcancel* cancel) const noexcept { PQfreeCancel(cancel); }

namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

// Paths under /dev/null cannot exist (it is not a directory), so libpq finds no file there and moves on;
// this replaces its defaults under ~/.postgresql and ~/.pgpass.
constexpr const char* no_file = "/dev/null/metahog-no-file";
// verify-ca and verify-full check the server against the system's public CAs; libpq 15 has no
// sslrootcert=system, so name Debian's bundle. Other modes must not get a root file: with one present libpq
// silently upgrades sslmode=require to certificate verification.
constexpr const char* system_ca_bundle = "/etc/ssl/certs/ca-certificates.crt";
constexpr std::size_t max_addresses_tried = 8;

// Every keyword libpq 15 knows, and how MetaHog sets it. A libpq upgrade adding one makes
// unreviewed_libpq_keywords() non-empty and its test fail, so it gets a decision before it can matter.
constexpr std::array<std::string_view, 39> reviewed_keywords = {
    "service",                 // only read when set: PGSERVICE is scrubbed, connection strings refuse it
    "user", "password", "dbname", "host", "hostaddr", "port",  // explicit
    "passfile",                // explicit: no_file
    "channel_binding",         // explicit: prefer
    "connect_timeout",         // unused by the asynchronous API; MetaHog's own deadline applies
    "client_encoding",         // explicit: UTF8
    "options",                 // PGOPTIONS scrubbed; never set (poolers refuse the startup parameter)
    "application_name", "fallback_application_name",  // explicit
    "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",  // explicit
    "tcp_user_timeout",        // default 0 (the kernel's)
    "sslmode",                 // explicit, from the validated config
    "sslcompression",          // default 0
    "sslcert", "sslkey", "sslrootcert", "sslcrl", "sslcrldir",  // explicit: no_file or the CA bundle
    "sslpassword",             // only used to decrypt a client key, and there is none
    "sslsni",                  // explicit: 1
    "requirepeer",             // Unix sockets only, and those are refused
    "ssl_min_protocol_version",  // explicit: TLSv1.2
    "ssl_max_protocol_version",  // default: none
    "gssencmode",              // explicit: disable (no Kerberos credentials of this process go out)
    "krbsrvname", "gsslib",    // defaults; GSS encryption is disabled
    "replication",             // never set: a normal session
    "target_session_attrs",    // explicit: any
    // Debug-only keywords present in some builds.
    "sslmode_override", "dispatch",
};

std::string trim(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

// One line, no password. libpq joins the reasons of several attempts (SSL, then plain) with newlines.
std::string clean_message(std::string text, std::string_view password) {
    text = trim(std::move(text));
    for (auto& c : text) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    if (!password.empty()) {
        for (auto at = text.find(password); at != std::string::npos; at = text.find(password, at + 3)) {
            text.replace(at, password.size(), "***");
        }
    }
    return text;
}

enum class readiness { readable, writable, timed_out };

// Waits on a socket that libpq owns. The descriptor borrows it only for this wait and gives it back (release)
// so that it never closes libpq's socket and never outlives a socket libpq replaced between polls.
asio::awaitable<result<readiness>> wait_socket_until(int fd, bool for_read, bool for_write,
                                                     clock::time_point deadline) {
    if (fd < 0) {
        co_return make_error(error_code::source_connection_failed, "the connection to the server is closed");
    }
    const auto executor = co_await asio::this_coro::executor;
    boost::system::error_code assign_error;
    asio::posix::stream_descriptor socket(executor);
    socket.assign(fd, assign_error);
    if (assign_error) {
        co_return make_error(error_code::internal, "cannot watch the connection socket: " + assign_error.message());
    }
    struct give_back {
        asio::posix::stream_descriptor& socket;
        ~give_back() { socket.release(); }
    } borrowed{socket};

    asio::steady_timer timer(executor, deadline);
    using asio::experimental::make_parallel_group;
    using asio::experimental::wait_for_one;
    using wait_type = asio::posix::descriptor_base::wait_type;

    boost::system::error_code socket_error;
    readiness ready = readiness::timed_out;
    if (for_read && for_write) {
        auto [order, read_error, write_error, timer_error] =
            co_await make_parallel_group(socket.async_wait(wait_type::wait_read, asio::deferred),
                                         socket.async_wait(wait_type::wait_write, asio::deferred),
                                         timer.async_wait(asio::deferred))
                .async_wait(wait_for_one(), asio::use_awaitable);
        if (order[0] == 0) {
            ready = readiness::readable;
            socket_error = read_error;
        } else if (order[0] == 1) {
            ready = readiness::writable;
            socket_error = write_error;
        } else {
            socket_error = timer_error;
        }
    } else {
        const wait_type kind = for_read ? wait_type::wait_read : wait_type::wait_write;
        auto [order, wait_error, timer_error] =
            co_await make_parallel_group(socket.async_wait(kind, asio::deferred), timer.async_wait(asio::deferred))
                .async_wait(wait_for_one(), asio::use_awaitable);
        if (order[0] == 0) {
            ready = for_read ? readiness::readable : readiness::writable;
            socket_error = wait_error;
        } else {
            socket_error = timer_error;
        }
    }
    if (socket_error == asio::error::operation_aborted) {
        // The first to finish was aborted, so neither the socket nor the deadline: the awaiting coroutine
        // was cancelled.
        co_return make_error(error_code::query_cancelled, "cancelled");
    }
    if (socket_error) {
        co_return make_error(error_code::source_connection_failed,
                             "waiting on the connection socket failed: " + socket_error.message());
    }
    co_return ready;
}

struct attempt_outcome {
    pg_conn_ptr conn;
    error failure;
    bool reached_server = false;  // the TCP connection was made: trying another address would not help
};

// One libpq connection attempt to one resolved address.
asio::awaitable<attempt_outcome> connect_to(const connection_config& config, const asio::ip::address& address,
                                            clock::time_point deadline, std::chrono::milliseconds budget) {
    attempt_outcome outcome;
    const std::string hostaddr = address.to_string();
    const std::string port = std::to_string(config.port);
    const bool verify = config.sslmode == "verify-ca" || config.sslmode == "verify-full";
    struct stat bundle_stat {};
    const char* root_cert = verify && ::stat(system_ca_bundle, &bundle_stat) == 0 ? system_ca_bundle : no_file;

    std::vector<const char*> keywords;
    std::vector<const char*> values;
    auto set = [&](const char* keyword, const char* value) {
        keywords.push_back(keyword);
        values.push_back(value);
    };
    set("host", config.host.c_str());  // kept for TLS SNI and certificate checks; never resolved by libpq
    set("hostaddr", hostaddr.c_str());
    set("port", port.c_str());
    set("dbname", config.database.c_str());
    set("user", config.user.c_str());
    if (!config.password.empty()) {
        set("password", config.password.c_str());
    }
    set("passfile", no_file);
    set("sslmode", config.sslmode.c_str());
    set("sslcert", no_file);
    set("sslkey", no_file);
    set("sslrootcert", root_cert);
    set("sslcrl", no_file);
    set("sslcrldir", no_file);
    set("sslsni", "1");
    set("ssl_min_protocol_version", "TLSv1.2");
    set("gssencmode", "disable");
    set("channel_binding", "prefer");
    set("client_encoding", "UTF8");
    set("application_name", config.application_name.c_str());
    set("fallback_application_name", "metahog");
    set("keepalives", "1");
    set("keepalives_idle", "60");
    set("keepalives_interval", "10");
    set("keepalives_count", "6");
    set("target_session_attrs", "any");
    keywords.push_back(nullptr);
    values.push_back(nullptr);

    // expand_dbname = 0: a database name that looks like a connection string stays a name.
    outcome.conn.reset(PQconnectStartParams(keywords.data(), values.data(), 0));
    if (!outcome.conn) {
        outcome.failure = make_error(error_code::internal, "out of memory starting a Postgres connection");
        co_return outcome;
    }
    // Until the connection is ours, notices (e.g. a server's warnings at start-up) go nowhere, not to stderr.
    PQsetNoticeReceiver(outcome.conn.get(), [](void*, const PGresult*) {}, nullptr);
    auto fail_from_libpq = [&] {
        outcome.failure = make_error(error_code::source_connection_failed,
                                     clean_message(PQerrorMessage(outcome.conn.get()), config.password));
        outcome.conn.reset();
    };
    if (PQstatus(outcome.conn.get()) == CONNECTION_BAD) {
        fail_from_libpq();
        co_return outcome;
    }

    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    while (poll != PGRES_POLLING_OK) {
        if (poll == PGRES_POLLING_FAILED) {
            fail_from_libpq();
            co_return outcome;
        }
        auto ready = co_await wait_socket_until(PQsocket(outcome.conn.get()), poll == PGRES_POLLING_READING,
                                                poll == PGRES_POLLING_WRITING, deadline);
        if (!ready) {
            outcome.failure = std::move(ready).error();
            outcome.conn.reset();
            co_return outcome;
        }
        if (*ready == readiness::timed_out) {
            outcome.failure = make_error(error_code::source_connection_failed,
                                         "connection to server at \"" + config.host + "\" (" + hostaddr +
                                             "), port " + port + " timed out after " +
                                             std::to_string(budget.count()) + " ms");
            outcome.conn.reset();
            co_return outcome;
        }
        poll = PQconnectPoll(outcome.conn.get());
        if (PQstatus(outcome.conn.get()) != CONNECTION_STARTED) {
            outcome.reached_server = true;
        }
    }
    if (PQsetnonblocking(outcome.conn.get(), 1) != 0) {
        fail_from_libpq();
    }
    co_return outcome;
}

// The addresses to try, in resolver order, without duplicates.
asio::awaitable<result<std::vector<asio::ip::address>>> resolve(const connection_config& config,
                                                                 clock::time_point deadline,
                                                                 std::chrono::milliseconds budget) {
    std::vector<asio::ip::address> addresses;
    boost::system::error_code literal_error;
    const auto literal = asio::ip::make_address(config.host, literal_error);
    if (!literal_error) {
        addresses.push_back(literal);
        co_return addresses;
    }
    const auto executor = co_await asio::this_coro::executor;
    // getaddrinfo runs on Asio's resolver thread, never on an I/O thread. A cancelled lookup still finishes
    // in the background, so a stalled DNS server can hold this coroutine up to the resolver's own timeout.
    asio::ip::tcp::resolver resolver(executor);
    asio::steady_timer timer(executor, deadline);
    auto [order, resolve_error, endpoints, timer_error] =
        co_await asio::experimental::make_parallel_group(
            resolver.async_resolve(config.host, std::to_string(config.port),
                                   asio::ip::tcp::resolver::numeric_service, asio::deferred),
            timer.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    if (order[0] == 1) {
        if (timer_error == asio::error::operation_aborted) {
            co_return make_error(error_code::query_cancelled, "cancelled");
        }
        co_return make_error(error_code::source_connection_failed,
                             "could not resolve host \"" + config.host + "\" within " +
                                 std::to_string(budget.count()) + " ms");
    }
    if (resolve_error) {
        if (resolve_error == asio::error::operation_aborted) {
            co_return make_error(error_code::query_cancelled, "cancelled");
        }
        co_return make_error(error_code::source_connection_failed,
                             "could not translate host name \"" + config.host +
                                 "\" to address: " + resolve_error.message());
    }
    for (const auto& entry : endpoints) {
        auto address = entry.endpoint().address();
        if (address.is_v6() && address.to_v6().is_v4_mapped()) {
            address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
        }
        if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) {
            addresses.push_back(address);
        }
        if (addresses.size() == max_addresses_tried) {
            break;
        }
    }
    if (addresses.empty()) {
        co_return make_error(error_code::source_connection_failed,
                             "could not translate host name \"" + config.host + "\" to address");
    }
    co_return addresses;
}

}  // namespace

void prepare_process_environment() {
    std::vector<std::string> names;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view variable = *entry;
        if (variable.starts_with("PG")) {
            names.emplace_back(variable.substr(0, variable.find('=')));
        }
    }
    for (const auto& name : names) {
        ::unsetenv(name.c_str());
    }
}

std::string leaking_environment_variable() {
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string_view variable = *entry;
        if (variable.starts_with("PG")) {
            return std::string(variable.substr(0, variable.find('=')));
        }
    }
    return {};
}

std::vector<std::string> unreviewed_libpq_keywords() {
    std::vector<std::string> unknown;
    std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> defaults(PQconndefaults(), PQconninfoFree);
    if (!defaults) {
        unknown.emplace_back("(PQconndefaults failed)");
        return unknown;
    }
    for (const PQconninfoOption* option = defaults.get(); option->keyword != nullptr; ++option) {
        if (std::find(reviewed_keywords.begin(), reviewed_keywords.end(), option->keyword) ==
            reviewed_keywords.end()) {
            unknown.emplace_back(option->keyword);
        }
    }
    return unknown;
}

asio::awaitable<result<pg_connection>> pg_connection::open(const connection_config& config,
                                                           const connect_options& options) {
    if (const auto leak = leaking_environment_variable(); !leak.empty()) {
        co_return make_error(error_code::internal,
                             "refusing to connect: environment variable " + leak +
                                 " is set and libpq would apply it; call prepare_process_environment() at start-up");
    }
    auto budget = options.connect_timeout;
    if (config.connect_timeout && *config.connect_timeout < budget) {
        budget = std::chrono::duration_cast<std::chrono::milliseconds>(*config.connect_timeout);
    }
    const auto deadline = clock::now() + budget;

    auto addresses = co_await resolve(config, deadline, budget);
    if (!addresses) {
        co_return std::move(addresses).error();
    }
    std::optional<error> first_failure;
    for (const auto& address : *addresses) {
        if (options.check_address) {
            if (auto allowed = options.check_address(address, static_cast<std::uint16_t>(config.port)); !allowed) {
                if (!first_failure) {
                    first_failure = std::move(allowed).error();
                }
                continue;
            }
        }
        auto outcome = co_await connect_to(config, address, deadline, budget);
        if (outcome.conn) {
            co_return pg_connection(std::move(outcome.conn));
        }
        // The first reason is the one users expect (e.g. ::1 refused, then 127.0.0.1 timed out: say refused),
        // unless a server actually answered, whose reason wins.
        if (!first_failure || outcome.reached_server) {
            first_failure = std::move(outcome.failure);
        }
        if (outcome.reached_server || first_failure->code != error_code::source_connection_failed ||
            clock::now() >= deadline) {
            break;
        }
    }
    co_return std::move(*first_failure);
}

namespace {

// libpq's default notice processor prints to stderr. Notices outside a query are dropped, except the FATAL a
// server sends just before it closes an idle connection (shutdown, pg_terminate_backend, idle timeouts).
void receive_notice(void* state, const PGresult* notice) {
    const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (severity != nullptr && (std::string_view(severity) == "FATAL" || std::string_view(severity) == "PANIC")) {
        static_cast<pg_connection::notice_state*>(state)->server_closing = true;
    }
}

}  // namespace

pg_connection::pg_connection(pg_conn_ptr conn)
    : notices_(std::make_unique<notice_state>()), conn_(std::move(conn)), last_used_(clock::now()) {
    PQsetNoticeReceiver(conn_.get(), receive_notice, notices_.get());
}

pg_connection::pg_connection(pg_connection&& other) noexcept = default;
pg_connection& pg_connection::operator=(pg_connection&& other) noexcept = default;
pg_connection::~pg_connection() = default;

asio::awaitable<result<void>> pg_connection::wait_socket(bool for_write) {
    auto ready = co_await wait_socket_until(PQsocket(conn_.get()), !for_write, for_write, clock::time_point::max());
    if (!ready) {
        co_return std::move(ready).error();
    }
    co_return result<void>();
}

asio::awaitable<result<void>> pg_connection::wait_readable() { return wait_socket(false); }

asio::awaitable<result<void>> pg_connection::wait_writable() { return wait_socket(true); }

asio::awaitable<result<void>> pg_connection::flush() {
    while (true) {
        const int flushed = PQflush(conn_.get());
        if (flushed == 0) {
            co_return result<void>();
        }
        if (flushed < 0) {
            co_return error_from_connection(error_code::source_connection_failed);
        }
        auto ready = co_await wait_socket_until(PQsocket(conn_.get()), true, true, clock::time_point::max());
        if (!ready) {
            co_return std::move(ready).error();
        }
        if (*ready == readiness::readable && PQconsumeInput(conn_.get()) == 0) {
            co_return error_from_connection(error_code::source_connection_failed);
        }
    }
}

error pg_connection::error_from_connection(error_code code) const {
    if (!conn_) {
        return make_error(code, "no connection");
    }
    const char* password = PQpass(conn_.get());
    std::string message = clean_message(PQerrorMessage(conn_.get()), password != nullptr ? password : "");
    if (message.empty()) {
        message = PQstatus(conn_.get()) == CONNECTION_OK ? "unknown error" : "the connection to the server was lost";
    }
    return make_error(code, std::move(message));
}

bool pg_connection::usable() const noexcept {
    return conn_ && PQstatus(conn_.get()) == CONNECTION_OK && PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
}

bool pg_connection::check_alive() noexcept {
    if (!usable() || PQisBusy(conn_.get()) != 0) {
        return false;
    }
    pollfd watched{};
    watched.fd = PQsocket(conn_.get());
    watched.events = POLLIN;
    if (watched.fd < 0 || ::poll(&watched, 1, 0) < 0) {
        return false;
    }
    // An idle connection has nothing to read unless the server is saying goodbye (a FATAL, then EOF) or sent a
    // notice or parameter change. A few rounds are enough to see the EOF when it has already arrived.
    for (int round = 0; round < 4 && (watched.revents & (POLLIN | POLLHUP | POLLERR)) != 0; ++round) {
        if (PQconsumeInput(conn_.get()) == 0) {
            return false;
        }
        while (PGnotify* notification = PQnotifies(conn_.get())) {
            PQfreemem(notification);
        }
        watched.revents = 0;
        if (::poll(&watched, 1, 0) < 0) {
            return false;
        }
    }
    return !notices_->server_closing && usable() && PQisBusy(conn_.get()) == 0;
}

asio::awaitable<result<void>> pg_connection::ping(std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    PGconn* conn = conn_.get();
    if (!usable() || PQsendQuery(conn, "") == 0) {
        co_return error_from_connection(error_code::source_connection_failed);
    }
    while (true) {
        const int flushed = PQflush(conn);
        if (flushed < 0) {
            co_return error_from_connection(error_code::source_connection_failed);
        }
        if (flushed == 0 && PQisBusy(conn) == 0) {
            break;
        }
        auto ready = co_await wait_socket_until(PQsocket(conn), true, flushed == 1, deadline);
        if (!ready) {
            co_return std::move(ready).error();
        }
        if (*ready == readiness::timed_out) {
            co_return make_error(error_code::source_connection_failed,
                                 "the server did not answer within " + std::to_string(timeout.count()) + " ms");
        }
        if (*ready == readiness::readable && PQconsumeInput(conn) == 0) {
            co_return error_from_connection(error_code::source_connection_failed);
        }
    }
    bool ok = true;
    while (PGresult* raw = PQgetResult(conn)) {
        pg_result_ptr answer(raw);
        ok = ok && PQresultStatus(answer.get()) == PGRES_EMPTY_QUERY;
    }
    if (!ok) {
        co_return error_from_connection(error_code::source_connection_failed);
    }
    mark_used();
    co_return result<void>();
}

int pg_connection::backend_pid() const noexcept { return conn_ ? PQbackendPID(conn_.get()) : 0; }

int pg_connection::server_version() const noexcept { return conn_ ? PQserverVersion(conn_.get()) : 0; }

}  // namespace metahog::drivers::postgres
