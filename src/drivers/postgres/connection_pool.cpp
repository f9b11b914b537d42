// The connection pool: bookkeeping under one mutex, all I/O (connecting, health checks, resets, closing)
// outside it. Waiters are served strictly in arrival order: a returned connection, or the slot a discarded one
// freed, goes to the head of the queue before it can become idle.
#include "drivers/postgres/connection_pool.hpp"

#include <algorithm>
#include <exception>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace metahog::drivers::postgres {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

// A caller queued for a connection. Whoever serves it sets the hand-over under the pool's mutex, then signals;
// the caller reads it under the same mutex, so a timeout racing a hand-over never loses a connection.
struct connection_pool::waiter {
    explicit waiter(const asio::any_io_executor& executor) : signal(executor, 1) {}

    asio::experimental::concurrent_channel<void(boost::system::error_code)> signal;
    bool served = false;
    std::unique_ptr<pg_connection> connection;  // an idle connection handed over, or
    bool may_open = false;                       // a reserved slot to open a new one in, or
    bool refused = false;                        // the pool was retired
};

namespace {

// Closing (PQfinish) happens after the mutex is released: it writes to the socket.
using doomed_list = std::vector<std::unique_ptr<pg_connection>>;

}  // namespace

// ---- lease ----

pool_lease::pool_lease(std::shared_ptr<connection_pool> pool, std::unique_ptr<pg_connection> connection,
                       asio::any_io_executor executor)
    : pool_(std::move(pool)), connection_(std::move(connection)), executor_(std::move(executor)) {}

pool_lease& pool_lease::operator=(pool_lease&& other) noexcept {
    if (this != &other) {
        if (connection_) {
            release(connection_->usable());
        }
        pool_ = std::move(other.pool_);
        connection_ = std::move(other.connection_);
        executor_ = std::move(other.executor_);
    }
    return *this;
}

pool_lease::~pool_lease() {
    if (connection_) {
        release(connection_->usable());
    }
}

void pool_lease::release(bool reusable) {
    if (connection_ && pool_) {
        pool_->give_back(std::move(connection_), reusable, executor_);
    }
    connection_.reset();
    pool_.reset();
}

// ---- pool ----

std::shared_ptr<connection_pool> connection_pool::create(connection_config config, pool_options options) {
    return std::make_shared<connection_pool>(private_tag{}, std::move(config), std::move(options));
}

connection_pool::connection_pool(private_tag, connection_config config, pool_options options)
    : config_(std::move(config)), options_(std::move(options)) {}

connection_pool::~connection_pool() = default;

error connection_pool::busy_error() const {
    auto failure = make_error(error_code::busy, "all " + std::to_string(options_.max_size) +
                                                    " connections to this source are busy; retry shortly");
    failure.retry_after_seconds = 1;
    return failure;
}

void connection_pool::collect_expired_locked(doomed_list& doomed) {
    const auto oldest_allowed = clock::now() - options_.idle_timeout;
    // idle_ is ordered by last use, oldest first.
    auto end = idle_.begin();
    while (end != idle_.end() && (*end)->last_used() < oldest_allowed) {
        ++end;
    }
    for (auto it = idle_.begin(); it != end; ++it) {
        doomed.push_back(std::move(*it));
    }
    open_ -= static_cast<std::size_t>(end - idle_.begin());
    idle_.erase(idle_.begin(), end);
}

void connection_pool::prune_idle() {
    doomed_list doomed;
    std::lock_guard lock(mutex_);
    collect_expired_locked(doomed);
    // `doomed` is destroyed after the lock: declared first, destroyed last.
}

asio::awaitable<result<pool_lease>> connection_pool::acquire() {
    auto self = shared_from_this();  // the pool outlives this coroutine even if its registry drops it
    const auto executor = co_await asio::this_coro::executor;
    const auto deadline = clock::now() + options_.wait_timeout;

    while (true) {
        enum class next { use_idle, open, wait } step = next::wait;
        std::unique_ptr<pg_connection> candidate;
        std::shared_ptr<waiter> me;
        {
            doomed_list doomed;
            std::lock_guard lock(mutex_);
            if (retired_) {
                co_return make_error(error_code::unavailable, "this source's connections are being replaced");
            }
            collect_expired_locked(doomed);
            // Idle connections exist only while nobody waits (a returned one goes to the queue's head first).
            if (!idle_.empty()) {
                candidate = std::move(idle_.back());
                idle_.pop_back();
                ++in_use_;
                step = next::use_idle;
            } else if (open_ < options_.max_size) {
                ++open_;
                ++in_use_;
                step = next::open;
            } else if (waiters_.size() >= options_.max_waiting) {
                co_return busy_error();
            } else {
                me = std::make_shared<waiter>(executor);
                waiters_.push_back(me);
            }
        }

        if (step == next::use_idle) {
            bool healthy = candidate->check_alive();
            if (healthy && clock::now() - candidate->last_used() > options_.health_check_after) {
                auto answered = co_await candidate->ping(options_.health_check_timeout);
                if (!answered && answered.error().code == error_code::query_cancelled) {
                    forget_connection(std::move(candidate));
                    co_return std::move(answered).error();
                }
                healthy = answered.has_value();
            }
            if (healthy) {
                co_return pool_lease(self, std::move(candidate), executor);
            }
            forget_connection(std::move(candidate));
            continue;
        }
        if (step == next::open) {
            co_return co_await open_new(executor);
        }

        asio::steady_timer timer(executor, deadline);
        auto [order, signal_error, timer_error] =
            co_await asio::experimental::make_parallel_group(me->signal.async_receive(asio::deferred),
                                                             timer.async_wait(asio::deferred))
                .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
        (void)signal_error;
        {
            std::lock_guard lock(mutex_);
            if (!me->served) {
                waiters_.erase(std::find(waiters_.begin(), waiters_.end(), me));
                if (order[0] == 1 && !timer_error) {
                    ++wait_timeouts_total_;
                    co_return busy_error();
                }
                co_return make_error(error_code::query_cancelled, "cancelled while waiting for a connection");
            }
        }
        if (me->refused) {
            co_return make_error(error_code::unavailable, "this source's connections are being replaced");
        }
        if (me->may_open) {
            co_return co_await open_new(executor);
        }
        // A connection fresh from its last user and its reset: the local check is enough.
        if (me->connection->check_alive()) {
            co_return pool_lease(self, std::move(me->connection), executor);
        }
        forget_connection(std::move(me->connection));
    }
}

// Called with a slot already reserved (open_ and in_use_ counted).
asio::awaitable<result<pool_lease>> connection_pool::open_new(asio::any_io_executor executor) {
    auto opened = co_await pg_connection::open(config_, options_.connect);
    if (opened && options_.on_open) {
        result<void> ready;
        try {
            ready = co_await options_.on_open(*opened);
        } catch (const std::exception& failure) {
            ready = make_error(error_code::internal, std::string("preparing a connection failed: ") + failure.what());
        }
        if (!ready) {
            opened = std::move(ready).error();  // closes the connection before the slot is given up below
        }
    }
    if (!opened) {
        std::lock_guard lock(mutex_);
        --open_;
        --in_use_;
        // The freed slot goes to the next waiter, who will try (and report) on its own.
        if (!retired_ && !waiters_.empty() && open_ < options_.max_size) {
            auto next = std::move(waiters_.front());
            waiters_.pop_front();
            next->served = true;
            next->may_open = true;
            ++open_;
            ++in_use_;
            next->signal.try_send(boost::system::error_code());
        }
        co_return std::move(opened).error();
    }
    {
        std::lock_guard lock(mutex_);
        ++opened_total_;
    }
    co_return pool_lease(shared_from_this(), std::make_unique<pg_connection>(std::move(*opened)),
                         std::move(executor));
}

void connection_pool::give_back(std::unique_ptr<pg_connection> connection, bool reusable,
                                const asio::any_io_executor& executor) {
    if (!reusable || !connection->usable() || retired()) {
        forget_connection(std::move(connection));
        return;
    }
    if (!options_.reset) {
        connection->mark_used();
        return_reset_connection(std::move(connection));
        return;
    }
    // The reset is a round trip, and a lease is returned from destructors: run it as its own coroutine.
    asio::co_spawn(executor, reset_and_return(shared_from_this(), std::move(connection)), asio::detached);
}

asio::awaitable<void> connection_pool::reset_and_return(std::shared_ptr<connection_pool> self,
                                                        std::unique_ptr<pg_connection> connection) {
    result<void> reset;
    try {
        reset = co_await self->options_.reset(*connection);
    } catch (const std::exception& failure) {
        reset = make_error(error_code::internal, std::string("resetting a connection failed: ") + failure.what());
    }
    if (reset && connection->usable()) {
        connection->mark_used();
        self->return_reset_connection(std::move(connection));
    } else {
        self->forget_connection(std::move(connection));
    }
}

void connection_pool::return_reset_connection(std::unique_ptr<pg_connection> connection) {
    doomed_list doomed;
    std::lock_guard lock(mutex_);
    if (retired_) {
        --open_;
        --in_use_;
        doomed.push_back(std::move(connection));
        return;
    }
    if (!waiters_.empty()) {
        auto next = std::move(waiters_.front());
        waiters_.pop_front();
        next->served = true;
        next->connection = std::move(connection);
        next->signal.try_send(boost::system::error_code());
        return;  // still in use, by its next holder
    }
    --in_use_;
    idle_.push_back(std::move(connection));
    collect_expired_locked(doomed);
}

void connection_pool::forget_connection(std::unique_ptr<pg_connection> connection) {
    doomed_list doomed;
    doomed.push_back(std::move(connection));
    std::lock_guard lock(mutex_);
    --open_;
    --in_use_;
    ++discarded_total_;
    if (!retired_ && !waiters_.empty() && open_ < options_.max_size) {
        auto next = std::move(waiters_.front());
        waiters_.pop_front();
        next->served = true;
        next->may_open = true;
        ++open_;
        ++in_use_;
        next->signal.try_send(boost::system::error_code());
    }
}

void connection_pool::retire() {
    doomed_list doomed;
    std::lock_guard lock(mutex_);
    retired_ = true;
    open_ -= idle_.size();
    for (auto& connection : idle_) {
        doomed.push_back(std::move(connection));
    }
    idle_.clear();
    for (auto& queued : waiters_) {
        queued->served = true;
        queued->refused = true;
        queued->signal.try_send(boost::system::error_code());
    }
    waiters_.clear();
}

bool connection_pool::retired() const {
    std::lock_guard lock(mutex_);
    return retired_;
}

pool_stats connection_pool::stats() const {
    std::lock_guard lock(mutex_);
    pool_stats stats;
    stats.open = open_;
    stats.idle = idle_.size();
    stats.in_use = in_use_;
    stats.waiting = waiters_.size();
    stats.opened_total = opened_total_;
    stats.discarded_total = discarded_total_;
    stats.wait_timeouts_total = wait_timeouts_total_;
    return stats;
}

// ---- registry ----

pool_registry::pool_registry(pool_options defaults) : defaults_(std::move(defaults)) {}

std::shared_ptr<connection_pool> pool_registry::pool_for(const std::string& source_id,
                                                         const connection_config& config) {
    const std::string fingerprint = config_fingerprint(config);
    std::shared_ptr<connection_pool> replaced;
    std::shared_ptr<connection_pool> pool;
    {
        std::lock_guard lock(mutex_);
        auto found = pools_.find(source_id);
        if (found != pools_.end() && found->second.fingerprint == fingerprint && !found->second.pool->retired()) {
            return found->second.pool;
        }
        pool = connection_pool::create(config, defaults_);
        if (found != pools_.end()) {
            replaced = std::move(found->second.pool);
            found->second = entry{fingerprint, pool};
        } else {
            pools_.emplace(source_id, entry{fingerprint, pool});
        }
    }
    if (replaced) {
        replaced->retire();
    }
    return pool;
}

void pool_registry::retire(const std::string& source_id) {
    std::shared_ptr<connection_pool> retired;
    {
        std::lock_guard lock(mutex_);
        auto found = pools_.find(source_id);
        if (found == pools_.end()) {
            return;
        }
        retired = std::move(found->second.pool);
        pools_.erase(found);
    }
    retired->retire();
}

void pool_registry::retire_all() {
    std::map<std::string, entry, std::less<>> retired;
    {
        std::lock_guard lock(mutex_);
        retired.swap(pools_);
    }
    for (auto& [source_id, item] : retired) {
        item.pool->retire();
    }
}

void pool_registry::prune_idle() {
    std::vector<std::shared_ptr<connection_pool>> pools;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [source_id, item] : pools_) {
            pools.push_back(item.pool);
        }
    }
    for (const auto& pool : pools) {
        pool->prune_idle();
    }
}

std::vector<pool_registry::source_stats> pool_registry::stats() const {
    std::vector<source_stats> all;
    std::lock_guard lock(mutex_);
    for (const auto& [source_id, item] : pools_) {
        all.push_back(source_stats{source_id, item.pool->stats()});
    }
    return all;
}

}  // namespace metahog::drivers::postgres
