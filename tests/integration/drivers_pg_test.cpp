// The Postgres connection layer against a real server (CTest's pg fixture): connecting, the reasons users see
// when it fails, deadlines, isolation from this machine's libpq environment, and the pool's promises.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <type_traits>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "drivers/driver_registry.hpp"
#include "drivers/postgres/connection_pool.hpp"
#include "drivers/postgres/pg_connection.hpp"
#include "drivers/postgres/postgres_driver.hpp"
#include "support/postgres_instance.hpp"

namespace metahog::drivers::postgres {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test_support::postgres_instance;
using test_support::test_database;
using test_support::test_role;
using clock_type = std::chrono::steady_clock;

// Runs the coroutine `make()` returns on an io_context served by `threads` threads, until it finishes.
template <class F>
auto run(F make, unsigned threads = 2) {
    using value_type = typename std::invoke_result_t<F>::value_type;
    asio::io_context io;
    std::optional<value_type> out;
    std::exception_ptr thrown;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { out.emplace(co_await make()); },
        [&](std::exception_ptr failure) { thrown = failure; });
    std::vector<std::thread> helpers;
    for (unsigned i = 1; i < threads; ++i) {
        helpers.emplace_back([&io] { io.run(); });
    }
    io.run();
    for (auto& helper : helpers) {
        helper.join();
    }
    if (thrown) {
        std::rethrow_exception(thrown);
    }
    return std::move(*out);
}

// Every test runs as the server does: PG* variables scrubbed before any thread starts.
class postgres_connection_test : public ::testing::Test {
protected:
    void SetUp() override {
        METAHOG_REQUIRE_POSTGRES();
        prepare_process_environment();
        instance_ = postgres_instance::shared();
        role_.emplace("conn");
        database_.emplace("conn", role_->name());
    }

    connection_config config() const {
        connection_config config;
        config.host = instance_->host();
        config.port = instance_->port();
        config.database = database_->name();
        config.user = role_->name();
        config.password = role_->password();
        config.sslmode = "prefer";
        return config;
    }

    static connect_options timeout(std::chrono::milliseconds budget) {
        connect_options options;
        options.connect_timeout = budget;
        return options;
    }

    result<pg_connection> open(const connection_config& target, connect_options options = timeout(5s)) {
        return run([&]() { return pg_connection::open(target, options); });
    }

    // Blocking SQL on a connection under test; only tests do this, to look inside the session.
    static std::string query_one(pg_connection& connection, const char* sql) {
        PGconn* conn = connection.native();
        PQsetnonblocking(conn, 0);
        PGresult* answer = PQexec(conn, sql);
        std::string value = PQresultStatus(answer) == PGRES_TUPLES_OK && PQntuples(answer) == 1
                                ? PQgetvalue(answer, 0, 0)
                                : std::string("error: ") + PQerrorMessage(conn);
        PQclear(answer);
        PQsetnonblocking(conn, 1);
        return value;
    }

    // Polls (the real signal, no fixed sleep) until the backend process has gone.
    void wait_backend_gone(int pid) const {
        const auto deadline = clock_type::now() + 10s;
        while (!instance_->query("SELECT 1 FROM pg_stat_activity WHERE pid = " + std::to_string(pid)).empty()) {
            ASSERT_LT(clock_type::now(), deadline) << "backend " << pid << " did not exit";
            std::this_thread::yield();
        }
    }

    const postgres_instance* instance_ = nullptr;
    std::optional<test_role> role_;
    std::optional<test_database> database_;
};

// A TCP port on loopback where nothing listens (bound, then released).
std::uint16_t closed_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return acceptor.local_endpoint().port();
}

// --- connecting ---

// Protects: the basic promise: a valid config connects, non-blocking, with MetaHog's session settings.
TEST_F(postgres_connection_test, connects_with_valid_credentials) {
    auto connection = open(config());
    ASSERT_TRUE(connection) << connection.error().message;
    EXPECT_TRUE(connection->usable());
    EXPECT_TRUE(connection->check_alive());
    EXPECT_GT(connection->backend_pid(), 0);
    EXPECT_GE(connection->server_version(), 150000);
    EXPECT_EQ(PQisnonblocking(connection->native()), 1);
    EXPECT_EQ(query_one(*connection, "SHOW client_encoding"), "UTF8");
    const auto rows = instance_->query("SELECT application_name, client_addr::text FROM pg_stat_activity WHERE pid = " +
                                       std::to_string(connection->backend_pid()));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], "metahog");
    EXPECT_EQ(rows[0][1], "127.0.0.1/32");
}

// Protects: "localhost" is resolved by MetaHog (Asio), and an address that refuses (::1) falls through to the
// next one (127.0.0.1).
TEST_F(postgres_connection_test, resolves_host_names_and_tries_each_address) {
    auto target = config();
    target.host = "localhost";
    auto connection = open(target);
    ASSERT_TRUE(connection) << connection.error().message;
    EXPECT_TRUE(connection->usable());
}

// Protects: a wrong password shows Postgres's own reason, and never the password itself.
TEST_F(postgres_connection_test, wrong_password_gives_the_servers_reason_without_the_password) {
    auto target = config();
    target.password = "Wrong-Password-4711";
    auto connection = open(target);
    ASSERT_FALSE(connection);
    EXPECT_EQ(connection.error().code, error_code::source_connection_failed);
    EXPECT_NE(connection.error().message.find("password authentication failed for user \"" + role_->name() + "\""),
              std::string::npos)
        << connection.error().message;
    EXPECT_EQ(connection.error().message.find("Wrong-Password-4711"), std::string::npos);
    EXPECT_EQ(connection.error().message.find('\n'), std::string::npos);
}

TEST_F(postgres_connection_test, missing_database_gives_the_servers_reason) {
    auto target = config();
    target.database = "no_such_database_here";
    auto connection = open(target);
    ASSERT_FALSE(connection);
    EXPECT_NE(connection.error().message.find("database \"no_such_database_here\" does not exist"),
              std::string::npos)
        << connection.error().message;
}

// Protects: nothing listening gives an immediate, readable reason, not a wait for the timeout.
TEST_F(postgres_connection_test, closed_port_fails_fast_with_a_clear_reason) {
    auto target = config();
    target.port = closed_port();
    const auto started = clock_type::now();
    auto connection = open(target, timeout(10s));
    ASSERT_FALSE(connection);
    EXPECT_LT(clock_type::now() - started, 3s);
    EXPECT_EQ(connection.error().code, error_code::source_connection_failed);
    EXPECT_NE(connection.error().message.find("Connection refused"), std::string::npos) << connection.error().message;
}

TEST_F(postgres_connection_test, unresolvable_host_is_named_in_the_reason) {
    auto target = config();
    target.host = "metahog-no-such-host.invalid";
    auto connection = open(target, timeout(10s));
    ASSERT_FALSE(connection);
    EXPECT_EQ(connection.error().code, error_code::source_connection_failed);
    EXPECT_NE(connection.error().message.find("could not translate host name \"metahog-no-such-host.invalid\""),
              std::string::npos)
        << connection.error().message;
}

// Protects: a server that accepts TCP but never answers cannot hold a request past the connect timeout.
TEST_F(postgres_connection_test, connect_timeout_is_honoured_against_a_silent_server) {
    asio::io_context silent_io;
    asio::ip::tcp::acceptor silent(silent_io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    silent.listen();  // the kernel completes handshakes into the backlog; nobody ever reads
    auto target = config();
    target.port = silent.local_endpoint().port();

    auto started = clock_type::now();
    auto connection = open(target, timeout(300ms));
    auto elapsed = clock_type::now() - started;
    ASSERT_FALSE(connection);
    EXPECT_EQ(connection.error().code, error_code::source_connection_failed);
    EXPECT_NE(connection.error().message.find("timed out after 300 ms"), std::string::npos)
        << connection.error().message;
    EXPECT_GE(elapsed, 300ms);
    EXPECT_LT(elapsed, 3s);

    // The source's own connect_timeout applies when it is the shorter one.
    target.connect_timeout = 1s;
    started = clock_type::now();
    connection = open(target, timeout(30s));
    elapsed = clock_type::now() - started;
    ASSERT_FALSE(connection);
    EXPECT_NE(connection.error().message.find("timed out after 1000 ms"), std::string::npos)
        << connection.error().message;
    EXPECT_LT(elapsed, 5s);
}

// Protects: the network guard sees every resolved address before libpq does and its refusal is final.
TEST_F(postgres_connection_test, address_check_refuses_before_connecting) {
    std::vector<std::string> checked;
    auto options = timeout(5s);
    options.check_address = [&](const asio::ip::address& address, std::uint16_t) -> result<void> {
        checked.push_back(address.to_string());
        return make_error(error_code::forbidden, "address " + address.to_string() + " is not allowed");
    };
    auto connection = open(config(), options);
    ASSERT_FALSE(connection);
    EXPECT_EQ(connection.error().code, error_code::forbidden);
    EXPECT_EQ(checked, std::vector<std::string>{"127.0.0.1"});
}

// Protects: sslmode is passed on as given: require against a server without TLS fails with libpq's reason.
TEST_F(postgres_connection_test, sslmode_require_is_enforced) {
    const bool server_has_ssl = instance_->query("SHOW ssl")[0][0] == "on";
    if (server_has_ssl) {
        GTEST_SKIP() << "the test server has TLS enabled";
    }
    auto target = config();
    target.sslmode = "require";
    auto connection = open(target);
    ASSERT_FALSE(connection);
    EXPECT_NE(connection.error().message.find("server does not support SSL"), std::string::npos)
        << connection.error().message;
}

// Protects: PGPASSWORD, PGOPTIONS, PGAPPNAME, PGPASSFILE set where the server runs, and a ~/.pgpass, never reach
// a user's database.
TEST_F(postgres_connection_test, process_environment_and_pgpass_do_not_leak_in) {
    const auto home = std::filesystem::temp_directory_path() / postgres_instance::unique_name("home");
    std::filesystem::create_directories(home);
    const auto pgpass = home / ".pgpass";
    {
        std::ofstream file(pgpass);
        file << "*:*:*:*:" << role_->password() << "\n";
    }
    ::chmod(pgpass.c_str(), 0600);
    const char* old_home = std::getenv("HOME");
    const std::string saved_home = old_home != nullptr ? old_home : "";
    ::setenv("HOME", home.c_str(), 1);
    ::setenv("PGPASSWORD", role_->password().c_str(), 1);
    ::setenv("PGPASSFILE", pgpass.c_str(), 1);
    ::setenv("PGOPTIONS", "-c search_path=leaked_schema", 1);
    ::setenv("PGAPPNAME", "leaked_app", 1);
    prepare_process_environment();

    // The pgpass file is valid: libpq reads it when told to.
    const std::string port = std::to_string(instance_->port());
    const char* keywords[] = {"host", "port", "dbname", "user", "passfile", "sslmode", nullptr};
    const char* values[] = {"127.0.0.1", port.c_str(), database_->name().c_str(), role_->name().c_str(),
                            pgpass.c_str(), "disable", nullptr};
    PGconn* direct = PQconnectdbParams(keywords, values, 0);
    EXPECT_EQ(PQstatus(direct), CONNECTION_OK) << PQerrorMessage(direct);
    PQfinish(direct);

    auto without_password = config();
    without_password.password.clear();
    auto refused = open(without_password);
    ASSERT_FALSE(refused) << "a password came from the environment or ~/.pgpass";
    EXPECT_NE(refused.error().message.find("no password supplied"), std::string::npos) << refused.error().message;

    auto connection = open(config());
    ASSERT_TRUE(connection) << connection.error().message;
    EXPECT_EQ(query_one(*connection, "SHOW search_path"), "\"$user\", public");
    EXPECT_EQ(query_one(*connection, "SHOW application_name"), "metahog");

    ::setenv("HOME", saved_home.c_str(), 1);
    std::filesystem::remove_all(home);
}

// --- waiting on the socket ---

// Protects: a wait on a quiet connection ends when the caller is cancelled (user cancel, client gone).
TEST_F(postgres_connection_test, socket_waits_honour_cancellation) {
    asio::io_context io;
    std::optional<result<pg_connection>> opened;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { opened.emplace(co_await pg_connection::open(config(), timeout(5s))); },
        asio::detached);
    io.run();
    io.restart();
    ASSERT_TRUE(opened && *opened) << (opened ? opened->error().message : "not run");
    pg_connection& connection = **opened;

    asio::cancellation_signal cancel;
    std::optional<result<void>> waited;
    asio::co_spawn(io, connection.wait_readable(),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr failure, result<void> value) {
                       ASSERT_FALSE(failure);
                       waited.emplace(std::move(value));
                   }));
    io.poll();  // the wait is now pending: nothing arrives on an idle connection
    EXPECT_FALSE(waited.has_value());
    cancel.emit(asio::cancellation_type::terminal);
    io.run();
    ASSERT_TRUE(waited.has_value());
    ASSERT_FALSE(*waited);
    EXPECT_EQ(waited->error().code, error_code::query_cancelled);
    EXPECT_TRUE(connection.usable());
}

// Protects: the round-trip health check, and that a connection the server closed is seen as dead locally.
TEST_F(postgres_connection_test, ping_and_check_alive_track_the_server) {
    asio::io_context io;
    std::optional<result<pg_connection>> opened;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { opened.emplace(co_await pg_connection::open(config(), timeout(5s))); },
        asio::detached);
    io.run();
    io.restart();
    ASSERT_TRUE(opened && *opened);
    pg_connection& connection = **opened;

    std::optional<result<void>> pinged;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { pinged.emplace(co_await connection.ping(2s)); }, asio::detached);
    io.run();
    io.restart();
    ASSERT_TRUE(pinged && *pinged) << (pinged ? pinged->error().message : "not run");

    const int pid = connection.backend_pid();
    instance_->execute("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    wait_backend_gone(pid);
    EXPECT_FALSE(connection.check_alive());

    pinged.reset();
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { pinged.emplace(co_await connection.ping(2s)); }, asio::detached);
    io.run();
    ASSERT_TRUE(pinged);
    EXPECT_FALSE(*pinged);
}

// --- the driver ---

// Protects: the "Test connection" / create path: a good source checks out, a bad password gives the server's
// reason without the password.
TEST_F(postgres_connection_test, driver_check_connection_reports_the_database_reason) {
    auto registry = make_default_registry();
    driver* postgres = registry.find("Postgres");
    ASSERT_NE(postgres, nullptr);
    boost::json::object inputs;
    inputs["host"] = instance_->host();
    inputs["port"] = instance_->port();
    inputs["database"] = database_->name();
    inputs["user"] = role_->name();
    inputs["password"] = role_->password();
    auto stored = postgres->parse_config(inputs);
    ASSERT_TRUE(stored) << stored.error().message;
    auto checked = run([&]() { return postgres->check_connection(*stored, 5s); });
    EXPECT_TRUE(checked) << checked.error().message;

    inputs["password"] = "Not-The-Password-99";
    stored = postgres->parse_config(inputs);
    ASSERT_TRUE(stored);
    checked = run([&]() { return postgres->check_connection(*stored, 5s); });
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().code, error_code::source_connection_failed);
    EXPECT_NE(checked.error().message.find("password authentication failed"), std::string::npos);
    EXPECT_EQ(checked.error().message.find("Not-The-Password-99"), std::string::npos);
}

// --- the pool ---

class connection_pool_test : public postgres_connection_test {
protected:
    std::shared_ptr<connection_pool> make_pool(pool_options options) {
        options.connect.connect_timeout = 5s;
        return connection_pool::create(config(), std::move(options));
    }
};

// Protects: a returned connection is reused (same backend), and the reset hook runs before reuse.
TEST_F(connection_pool_test, reuses_a_returned_connection_after_resetting_it) {
    std::atomic<int> resets{0};
    pool_options options;
    options.reset = [&](pg_connection& connection) -> asio::awaitable<result<void>> {
        ++resets;
        co_return co_await connection.ping(2s);
    };
    auto pool = make_pool(options);
    const int first_pid = run([&]() -> asio::awaitable<int> {
        auto lease = co_await pool->acquire();
        EXPECT_TRUE(lease) << lease.error().message;
        co_return lease ? (*lease)->backend_pid() : 0;
    });
    // The reset ran on the io_context before run() returned; the connection is idle again.
    EXPECT_EQ(resets.load(), 1);
    EXPECT_EQ(pool->stats().idle, 1u);
    const int second_pid = run([&]() -> asio::awaitable<int> {
        auto lease = co_await pool->acquire();
        co_return lease ? (*lease)->backend_pid() : 0;
    });
    EXPECT_EQ(second_pid, first_pid);
    const auto stats = pool->stats();
    EXPECT_EQ(stats.opened_total, 1u);
    EXPECT_EQ(stats.open, 1u);
    EXPECT_EQ(stats.in_use, 0u);
}

// Protects: release(false), a failing reset, and a connection left inside a transaction are all discarded.
TEST_F(connection_pool_test, discards_unsafe_connections) {
    bool fail_reset = false;
    pool_options options;
    options.reset = [&](pg_connection&) -> asio::awaitable<result<void>> {
        if (fail_reset) {
            co_return make_error(error_code::query_failed, "reset failed");
        }
        co_return result<void>();
    };
    auto pool = make_pool(options);
    auto pid_after = [&](auto&& use) {
        return run([&]() -> asio::awaitable<int> {
            auto lease = co_await pool->acquire();
            EXPECT_TRUE(lease) << lease.error().message;
            const int pid = (*lease)->backend_pid();
            use(*lease);
            co_return pid;
        });
    };
    const int first = pid_after([](pool_lease& lease) { lease.release(false); });
    EXPECT_EQ(pool->stats().discarded_total, 1u);
    const int third = pid_after([](pool_lease& lease) {
        PQsetnonblocking(lease->native(), 0);
        PQclear(PQexec(lease->native(), "BEGIN"));
        PQsetnonblocking(lease->native(), 1);
    });
    EXPECT_EQ(pool->stats().discarded_total, 2u) << "a connection inside a transaction was pooled";
    fail_reset = true;
    const int fourth = pid_after([](pool_lease&) {});
    EXPECT_EQ(pool->stats().discarded_total, 3u);
    const int fifth = pid_after([](pool_lease&) {});
    EXPECT_NE(first, third);
    EXPECT_NE(fourth, fifth);
    EXPECT_EQ(pool->stats().open, 0u);
}

// Protects: the size bound, the bounded queue and its timeout: callers beyond them get `busy` promptly.
TEST_F(connection_pool_test, bounds_connections_and_times_out_waiters) {
    pool_options options;
    options.max_size = 2;
    options.max_waiting = 1;
    options.wait_timeout = 300ms;
    auto pool = make_pool(options);
    struct outcome {
        bool queued_timed_out = false;
        bool overflow_refused = false;
        std::string message;
        std::chrono::milliseconds waited{};
    };
    const auto seen = run([&]() -> asio::awaitable<outcome> {
        outcome result_seen;
        auto first = co_await pool->acquire();
        auto second = co_await pool->acquire();
        EXPECT_TRUE(first && second);
        EXPECT_EQ(pool->stats().in_use, 2u);
        const auto executor = co_await asio::this_coro::executor;
        std::optional<result<pool_lease>> queued;
        const auto started = clock_type::now();
        asio::co_spawn(
            executor, [&]() -> asio::awaitable<void> { queued.emplace(co_await pool->acquire()); }, asio::detached);
        // Let the queued caller register, then a fourth finds the queue full.
        asio::steady_timer tick(executor, 50ms);
        co_await tick.async_wait(asio::use_awaitable);
        EXPECT_EQ(pool->stats().waiting, 1u);
        auto overflow = co_await pool->acquire();
        result_seen.overflow_refused = !overflow && overflow.error().code == error_code::busy;
        while (!queued) {
            tick.expires_after(10ms);
            co_await tick.async_wait(asio::use_awaitable);
        }
        result_seen.waited = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started);
        result_seen.queued_timed_out = !*queued && queued->error().code == error_code::busy;
        if (!*queued) {
            result_seen.message = queued->error().message;
            EXPECT_EQ(queued->error().retry_after_seconds, 1);
        }
        co_return result_seen;
    });
    EXPECT_TRUE(seen.overflow_refused);
    EXPECT_TRUE(seen.queued_timed_out);
    EXPECT_NE(seen.message.find("all 2 connections to this source are busy"), std::string::npos) << seen.message;
    EXPECT_GE(seen.waited, 300ms);
    EXPECT_LT(seen.waited, 2000ms);
    EXPECT_EQ(pool->stats().wait_timeouts_total, 1u);
    EXPECT_EQ(pool->stats().waiting, 0u);
}

// Protects: waiters are served in arrival order, by the connection the previous holder returns.
TEST_F(connection_pool_test, serves_waiters_first_in_first_out) {
    pool_options options;
    options.max_size = 1;
    options.wait_timeout = 5s;
    auto pool = make_pool(options);
    const auto order = run([&]() -> asio::awaitable<std::vector<int>> {
        std::vector<int> served;
        auto holder = co_await pool->acquire();
        EXPECT_TRUE(holder);
        const int pid = (*holder)->backend_pid();
        const auto executor = co_await asio::this_coro::executor;
        asio::steady_timer tick(executor);
        std::atomic<int> finished{0};
        for (int caller = 0; caller < 3; ++caller) {
            asio::co_spawn(
                executor,
                [&, caller]() -> asio::awaitable<void> {
                    auto lease = co_await pool->acquire();
                    EXPECT_TRUE(lease);
                    EXPECT_EQ((*lease)->backend_pid(), pid);
                    served.push_back(caller);
                    ++finished;
                },
                asio::detached);
            while (pool->stats().waiting != static_cast<std::size_t>(caller + 1)) {
                tick.expires_after(1ms);
                co_await tick.async_wait(asio::use_awaitable);
            }
        }
        holder->release(true);
        while (finished < 3) {
            tick.expires_after(5ms);
            co_await tick.async_wait(asio::use_awaitable);
        }
        co_return served;
    }, 1);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(pool->stats().opened_total, 1u);
}

// Protects: a connection the server closed while idle is noticed at checkout and replaced, not handed out.
TEST_F(connection_pool_test, replaces_a_connection_the_server_closed) {
    auto pool = make_pool({});
    const int first = run([&]() -> asio::awaitable<int> {
        auto lease = co_await pool->acquire();
        co_return lease ? (*lease)->backend_pid() : 0;
    });
    instance_->execute("SELECT pg_terminate_backend(" + std::to_string(first) + ")");
    wait_backend_gone(first);
    const int second = run([&]() -> asio::awaitable<int> {
        auto lease = co_await pool->acquire();
        EXPECT_TRUE(lease);
        co_return lease ? (*lease)->backend_pid() : 0;
    });
    EXPECT_NE(second, first);
    EXPECT_EQ(pool->stats().discarded_total, 1u);
}

// Protects: a connection idle for a while gets a round trip before use; idle ones are closed after idle_timeout.
TEST_F(connection_pool_test, health_checks_stale_connections_and_closes_idle_ones) {
    pool_options options;
    options.health_check_after = 0ms;  // every checkout of an idle connection pings
    options.idle_timeout = 200ms;
    auto pool = make_pool(options);
    for (int round = 0; round < 2; ++round) {
        auto ok = run([&]() -> asio::awaitable<bool> {
            auto lease = co_await pool->acquire();
            co_return lease.has_value();
        });
        EXPECT_TRUE(ok);
    }
    EXPECT_EQ(pool->stats().opened_total, 1u);
    EXPECT_EQ(pool->stats().idle, 1u);
    const auto deadline = clock_type::now() + 200ms;
    while (clock_type::now() <= deadline) {
        std::this_thread::yield();  // waiting for time itself to pass, not for readiness
    }
    pool->prune_idle();
    EXPECT_EQ(pool->stats().open, 0u);
}

// Protects: after a source is deleted or changed, its old pool hands out nothing and closes what comes back.
TEST_F(connection_pool_test, retired_pools_close_everything) {
    pool_registry registry(pool_options{});
    auto target = config();
    auto pool = registry.pool_for("source-1", target);
    EXPECT_EQ(registry.pool_for("source-1", target), pool);
    run([&]() -> asio::awaitable<bool> {
        auto lease = co_await pool->acquire();
        EXPECT_TRUE(lease);
        target.password = "changed";  // a PATCH changed the credentials
        auto replacement = registry.pool_for("source-1", target);
        EXPECT_NE(replacement, pool);
        EXPECT_TRUE(pool->retired());
        auto refused = co_await pool->acquire();
        EXPECT_FALSE(refused);
        EXPECT_EQ(refused.error().code, error_code::unavailable);
        co_return true;
    });
    EXPECT_EQ(pool->stats().open, 0u) << "a leased connection of a retired pool came back into it";
    registry.retire("source-1");
    EXPECT_TRUE(registry.stats().empty());
}

// Protects: under concurrent use from several threads the pool never exceeds its size and every caller is
// served.
TEST_F(connection_pool_test, concurrent_callers_share_a_bounded_pool) {
    pool_options options;
    options.max_size = 3;
    options.max_waiting = 100;
    options.wait_timeout = 20s;
    options.reset = [](pg_connection& connection) -> asio::awaitable<result<void>> {
        co_return co_await connection.ping(2s);
    };
    auto pool = make_pool(options);
    std::atomic<int> served{0};
    std::atomic<std::size_t> most_open{0};
    run(
        [&]() -> asio::awaitable<bool> {
            const auto executor = co_await asio::this_coro::executor;
            std::atomic<int> finished{0};
            for (int caller = 0; caller < 24; ++caller) {
                asio::co_spawn(
                    executor,
                    [&]() -> asio::awaitable<void> {
                        auto lease = co_await pool->acquire();
                        if (lease) {
                            auto pinged = co_await (*lease)->ping(2s);
                            EXPECT_TRUE(pinged);
                            ++served;
                        } else {
                            ADD_FAILURE() << lease.error().message;
                        }
                        std::size_t open = pool->stats().open;
                        std::size_t seen = most_open.load();
                        while (open > seen && !most_open.compare_exchange_weak(seen, open)) {
                        }
                        ++finished;
                    },
                    asio::detached);
            }
            asio::steady_timer tick(executor);
            while (finished < 24) {
                tick.expires_after(5ms);
                co_await tick.async_wait(asio::use_awaitable);
            }
            co_return true;
        },
        4);
    EXPECT_EQ(served.load(), 24);
    EXPECT_LE(most_open.load(), 3u);
    EXPECT_LE(pool->stats().opened_total, 3u);
}

}  // namespace
}  // namespace metahog::drivers::postgres
