// Cancel, confirm, terminate: PQcancel on worker threads, then proof from the statement's own connection or
// from pg_stat_activity before anything is reported as cancelled.
#include "drivers/postgres/cancel.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>

#include "drivers/postgres/pg_io.hpp"

namespace metahog::drivers::postgres {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

bool pg_query_control::attach(pg_cancel_ptr cancel_handle, int backend_pid) {
    std::lock_guard lock(mutex_);
    if (cancel_requested_) {
        phase_ = phase::finished;
        stopped_by_cancel_ = true;
        return false;
    }
    cancel_handle_ = std::move(cancel_handle);
    backend_pid_ = backend_pid;
    phase_ = phase::running;
    return true;
}

void pg_query_control::statement_finished(bool stopped_by_cancel) {
    std::lock_guard lock(mutex_);
    if (phase_ == phase::finished) {
        return;
    }
    phase_ = phase::finished;
    stopped_by_cancel_ = stopped_by_cancel;
}

bool pg_query_control::cancel_quiescent() const {
    std::lock_guard lock(mutex_);
    return in_flight_ == 0;
}

bool pg_query_control::cancel_requested() const {
    std::lock_guard lock(mutex_);
    return cancel_requested_;
}

pg_query_control::snapshot pg_query_control::state() const {
    std::lock_guard lock(mutex_);
    return snapshot{phase_, cancel_requested_, stopped_by_cancel_, in_flight_ > 0, backend_pid_};
}

PGcancel* pg_query_control::begin_cancel() {
    std::lock_guard lock(mutex_);
    cancel_requested_ = true;
    // One request at a time is enough: a second would only race the first to the same backend.
    if (phase_ != phase::running || !cancel_handle_ || in_flight_ > 0) {
        return nullptr;
    }
    ++in_flight_;
    return cancel_handle_.get();
}

bool pg_query_control::begin_terminate() {
    std::lock_guard lock(mutex_);
    if (phase_ != phase::running) {
        return false;
    }
    ++in_flight_;
    return true;
}

void pg_query_control::end_cancel() {
    std::lock_guard lock(mutex_);
    --in_flight_;
}

namespace {

asio::awaitable<void> pause(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Whether pg_stat_activity still lists the backend.
asio::awaitable<result<bool>> backend_present(pg_connection& side, int backend_pid) {
    const std::string pid = std::to_string(backend_pid);
    const std::array<const char*, 1> parameters{pid.c_str()};
    auto rows = co_await run_statement(
        side, "SELECT 1 FROM pg_catalog.pg_stat_activity WHERE pid = $1::pg_catalog.int4", parameters);
    if (!rows) {
        co_return std::move(rows).error();
    }
    co_return PQntuples(rows->get()) > 0;
}

}  // namespace

cancel_service::cancel_service(std::size_t threads) : workers_(threads == 0 ? 1 : threads) {}

cancel_service::~cancel_service() {
    workers_.join();
}

namespace {

// Runs PQcancel on the worker pool and completes on the caller's executor. A plain initiation, not a lambda
// coroutine handed to co_spawn: g++ 12 destroys such a lambda's captures once too often.
template <class token_type>
auto async_cancel(asio::thread_pool& workers, std::shared_ptr<pg_query_control> control, PGcancel* handle,
                  token_type&& token) {
    return asio::async_initiate<token_type, void(result<void>)>(
        [&workers](auto handler, std::shared_ptr<pg_query_control> owner, PGcancel* cancel_handle) {
            auto caller = asio::make_work_guard(asio::get_associated_executor(handler));
            asio::post(workers, [handler = std::move(handler), caller = std::move(caller),
                                 owner = std::move(owner), cancel_handle]() mutable {
                char reason[256] = {};
                const int accepted = PQcancel(cancel_handle, reason, sizeof reason);
                owner->end_cancel();
                result<void> outcome;
                if (accepted == 0) {
                    outcome = make_error(error_code::unavailable,
                                         std::string("sending the cancel failed: ") + reason);
                }
                auto executor = caller.get_executor();
                asio::dispatch(executor,
                               [handler = std::move(handler), outcome = std::move(outcome)]() mutable {
                                   std::move(handler)(std::move(outcome));
                               });
            });
        },
        token, std::move(control), handle);
}

}  // namespace

asio::awaitable<result<void>> cancel_service::send_cancel(std::shared_ptr<pg_query_control> control) {
    PGcancel* handle = control->begin_cancel();
    if (handle == nullptr) {
        co_return result<void>();
    }
    // PQcancel opens a connection to the server and waits for it to close: blocking, so off the I/O thread.
    // The PGcancel it reads stays alive with `control`, which the worker holds.
    co_return co_await async_cancel(workers_, std::move(control), handle, asio::use_awaitable);
}

void cancel_service::cancel_detached(pg_cancel_ptr handle) {
    if (!handle) {
        return;
    }
    asio::post(workers_, [owned = std::shared_ptr<PGcancel>(handle.release(), pg_cancel_deleter{})] {
        char reason[256] = {};
        (void)PQcancel(owned.get(), reason, sizeof reason);
    });
}

asio::awaitable<cancel_outcome> cancel_service::cancel(std::shared_ptr<pg_query_control> control,
                                                       side_connection_opener open_side_connection,
                                                       std::chrono::milliseconds confirm_within) {
    const pg_query_control::snapshot before = control->state();
    if (before.state == pg_query_control::phase::finished) {
        co_return cancel_outcome{cancel_outcome::kind::not_running, false,
                                 "the statement had already finished"};
    }
    auto sent = co_await send_cancel(control);
    const pg_query_control::snapshot marked = control->state();
    if (before.state == pg_query_control::phase::waiting &&
        marked.state != pg_query_control::phase::running) {
        // attach() will refuse to start it (or already did).
        co_return cancel_outcome{cancel_outcome::kind::prevented, true,
                                 "the statement was cancelled before it ran"};
    }

    // The statement's own connection reports the end (57014 when the cancel stopped it). A cancel that
    // reached the backend before the statement did (it was still reading the pipeline) is ignored by the
    // server, so it is sent again while we wait.
    const auto deadline = clock::now() + confirm_within;
    auto resend_at = clock::now() + std::chrono::milliseconds(100);
    while (control->state().state != pg_query_control::phase::finished && clock::now() < deadline) {
        if (clock::now() >= resend_at) {
            (void)co_await send_cancel(control);
            resend_at = clock::now() + std::chrono::milliseconds(100);
        }
        co_await pause(std::chrono::milliseconds(5));
    }
    const auto finished_outcome = [&]() {
        if (control->state().stopped_by_cancel) {
            return cancel_outcome{cancel_outcome::kind::cancelled, true,
                                  "the database stopped the statement"};
        }
        return cancel_outcome{cancel_outcome::kind::not_running, false,
                              "the statement finished before the cancel"};
    };
    if (control->state().state == pg_query_control::phase::finished) {
        co_return finished_outcome();
    }

    // Still not over: end the backend from another connection of the same role, and confirm it is gone.
    std::string why = sent ? "" : sent.error().message + "; ";
    if (!open_side_connection) {
        co_return cancel_outcome{cancel_outcome::kind::unconfirmed, false,
                                 why + "the statement did not stop within the confirmation time"};
    }
    if (!control->begin_terminate()) {
        co_return finished_outcome();
    }
    // The executor keeps the connection (and does not return it to the pool) until end_cancel.
    struct terminate_scope {
        pg_query_control& control;
        ~terminate_scope() { control.end_cancel(); }
    } holding{*control};
    auto side = co_await open_side_connection();
    if (!side) {
        co_return cancel_outcome{
            cancel_outcome::kind::unconfirmed, false,
            why + "cannot reach the server to terminate the backend: " + side.error().message};
    }
    const int pid = marked.backend_pid;
    const std::string pid_text = std::to_string(pid);
    const std::array<const char*, 1> parameters{pid_text.c_str()};
    auto terminated = co_await run_statement(
        *side, "SELECT pg_catalog.pg_terminate_backend($1::pg_catalog.int4)", parameters);
    if (!terminated) {
        co_return cancel_outcome{
            cancel_outcome::kind::unconfirmed, false,
            "the cancel was ignored and terminating the backend failed: " + terminated.error().message};
    }
    const auto gone_deadline = clock::now() + std::max(confirm_within, std::chrono::milliseconds(1000));
    while (clock::now() < gone_deadline) {
        auto still = co_await backend_present(*side, pid);
        if (still && !*still) {
            co_return cancel_outcome{cancel_outcome::kind::terminated, true,
                                     "the cancel was ignored; the backend was terminated"};
        }
        co_await pause(std::chrono::milliseconds(10));
    }
    co_return cancel_outcome{cancel_outcome::kind::unconfirmed, false,
                             "the backend was asked to terminate but is still there"};
}

}  // namespace metahog::drivers::postgres
