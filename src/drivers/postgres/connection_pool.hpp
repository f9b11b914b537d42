// Bounded pools of Postgres connections, one per source and config version: a fixed number of connections, a
// bounded FIFO queue of callers waiting for one (with a timeout, then `busy`), idle connections closed after a
// while, a health check on checkout, and session state reset before a connection is reused. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/result.hpp"
#include "drivers/postgres/connection_config.hpp"
#include "drivers/postgres/pg_connection.hpp"

namespace metahog::drivers::postgres {

// Runs on a connection about to be reused, to clear what the last user left behind (the query engine sends
// DISCARD ALL and pg_advisory_unlock_all). An error, or a connection left unusable, discards the connection.
using reset_hook = std::function<boost::asio::awaitable<result<void>>(pg_connection&)>;

// Runs once on each new connection before its first user gets it (the driver's role gate). An error closes the
// connection and is what acquire() answers.
using open_hook = std::function<boost::asio::awaitable<result<void>>(pg_connection&)>;

struct pool_options {
    std::size_t max_size = 10;     // open connections, idle and in use together
    std::size_t max_waiting = 64;  // callers queued for a connection; beyond that `busy` at once
    std::chrono::milliseconds wait_timeout{10000};
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
    // A connection idle longer than this gets a round trip (an empty query) before it is handed out;
    // fresher ones only get the local check.
    std::chrono::milliseconds health_check_after{std::chrono::seconds(30)};
    std::chrono::milliseconds health_check_timeout{std::chrono::seconds(2)};
    connect_options connect;
    reset_hook reset;  // empty: reused as is (only when the caller says the session is clean)
    open_hook on_open;  // empty: new connections are handed out as they are
};

struct pool_stats {
    std::size_t open = 0;     // idle + in use, including connections being opened or reset
    std::size_t idle = 0;
    std::size_t in_use = 0;
    std::size_t waiting = 0;
    std::uint64_t opened_total = 0;
    std::uint64_t discarded_total = 0;
    std::uint64_t wait_timeouts_total = 0;
};

class connection_pool;

// A checked-out connection. Returning it is automatic: the destructor gives it back, reused when it is still
// usable() (after the reset hook) and closed otherwise. release(false) when the caller knows it is unsafe.
class pool_lease {
public:
    pool_lease() = default;
    pool_lease(pool_lease&& other) noexcept = default;
    pool_lease& operator=(pool_lease&& other) noexcept;
    pool_lease(const pool_lease&) = delete;
    pool_lease& operator=(const pool_lease&) = delete;
    ~pool_lease();

    explicit operator bool() const noexcept { return connection_ != nullptr; }
    pg_connection& connection() const noexcept { return *connection_; }
    pg_connection* operator->() const noexcept { return connection_.get(); }
    pg_connection& operator*() const noexcept { return *connection_; }

    // Gives the connection back now: reusable → reset and pooled; otherwise closed. Idempotent.
    void release(bool reusable);

private:
    friend class connection_pool;
    pool_lease(std::shared_ptr<connection_pool> pool, std::unique_ptr<pg_connection> connection,
               boost::asio::any_io_executor executor);

    std::shared_ptr<connection_pool> pool_;
    std::unique_ptr<pg_connection> connection_;
    boost::asio::any_io_executor executor_;  // the acquirer's: the reset runs there
};

class connection_pool : public std::enable_shared_from_this<connection_pool> {
public:
    // Pools are shared: leases and background resets keep theirs alive.
    static std::shared_ptr<connection_pool> create(connection_config config, pool_options options);

    connection_pool(const connection_pool&) = delete;
    connection_pool& operator=(const connection_pool&) = delete;
    ~connection_pool();

    // An idle connection that passes its health check, a new one while fewer than max_size are open, or a place
    // in the FIFO queue. busy when the queue is full or wait_timeout passes ("all N connections to this source
    // are busy"); source_connection_failed when opening fails; query_cancelled when the caller is cancelled;
    // unavailable after retire().
    boost::asio::awaitable<result<pool_lease>> acquire();

    // Closes idle connections older than idle_timeout. Also done on every acquire and release.
    void prune_idle();

    // Closes idle connections now, and every leased one when it comes back; queued callers and later acquires
    // get `unavailable`. Used when the source is deleted or its config changes.
    void retire();
    bool retired() const;

    pool_stats stats() const;
    const pool_options& options() const noexcept { return options_; }

private:
    struct waiter;
    struct private_tag {};

public:
    connection_pool(private_tag, connection_config config, pool_options options);

private:
    friend class pool_lease;

    void give_back(std::unique_ptr<pg_connection> connection, bool reusable,
                   const boost::asio::any_io_executor& executor);
    // Static, holding the pool by value: it starts after give_back returns, when no lease may hold the pool.
    static boost::asio::awaitable<void> reset_and_return(std::shared_ptr<connection_pool> self,
                                                         std::unique_ptr<pg_connection> connection);
    void return_reset_connection(std::unique_ptr<pg_connection> connection);
    void forget_connection(std::unique_ptr<pg_connection> connection);
    boost::asio::awaitable<result<pool_lease>> open_new(boost::asio::any_io_executor executor);
    boost::asio::awaitable<result<std::unique_ptr<pg_connection>>> take_healthy_idle();
    void collect_expired_locked(std::vector<std::unique_ptr<pg_connection>>& doomed);
    error busy_error() const;

    const connection_config config_;
    const pool_options options_;

    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<pg_connection>> idle_;  // most recently used last
    std::deque<std::shared_ptr<waiter>> waiters_;
    std::size_t open_ = 0;    // counted from the moment a slot is reserved, until the connection is closed
    std::size_t in_use_ = 0;  // leased, being opened, being reset or health-checked
    bool retired_ = false;
    std::uint64_t opened_total_ = 0;
    std::uint64_t discarded_total_ = 0;
    std::uint64_t wait_timeouts_total_ = 0;
};

// One pool per source id, replaced when the source's config fingerprint changes.
class pool_registry {
public:
    explicit pool_registry(pool_options defaults);
    pool_registry(const pool_registry&) = delete;
    pool_registry& operator=(const pool_registry&) = delete;

    // The source's pool for this config; a different config retires the old pool and starts a new one.
    std::shared_ptr<connection_pool> pool_for(const std::string& source_id, const connection_config& config);

    // Retires and forgets the source's pool (deleted source, changed credentials). No-op when there is none.
    void retire(const std::string& source_id);
    void retire_all();
    void prune_idle();

    struct source_stats {
        std::string source_id;
        pool_stats stats;
    };
    std::vector<source_stats> stats() const;

private:
    struct entry {
        std::string fingerprint;
        std::shared_ptr<connection_pool> pool;
    };

    const pool_options defaults_;
    mutable std::mutex mutex_;
    std::map<std::string, entry, std::less<>> pools_;
};

}  // namespace metahog::drivers::postgres
