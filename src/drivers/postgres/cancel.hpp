// Cancelling a running statement for real: a cancel route or a client that went away reaches the server's own
// cancel (PQcancel, run on a small thread pool because it blocks), MetaHog waits for the statement to stop,
// and if the server ignored the request it terminates the backend from another connection of the same role
// and checks pg_stat_activity that it is gone. `cancelled` is reported only when the statement really
// stopped.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.hpp"
#include "drivers/driver.hpp"
#include "drivers/postgres/pg_connection.hpp"
#include "drivers/postgres/pg_handles.hpp"

namespace metahog::drivers::postgres {

// Shared by the request running one statement (the executor attaches and detaches it) and whoever may cancel
// it. Thread-safe: the canceller may run on another thread than the statement.
class pg_query_control final : public query_control {
public:
    pg_query_control() = default;
    pg_query_control(const pg_query_control&) = delete;
    pg_query_control& operator=(const pg_query_control&) = delete;

    // Executor side. attach() returns false when a cancel came first: the statement must then not be sent.
    bool attach(pg_cancel_ptr cancel_handle, int backend_pid);
    // The statement is over (whatever the outcome): a cancel arriving later has nothing to stop.
    void statement_finished(bool stopped_by_cancel);
    // Before the connection goes back to the pool: true once no cancel request is still on its way to the
    // server (one arriving late would hit the connection's next user). Poll until true.
    bool cancel_quiescent() const;

    bool cancel_requested() const override;

    enum class phase { waiting, running, finished };
    struct snapshot {
        phase state = phase::waiting;
        bool cancel_requested = false;
        bool stopped_by_cancel = false;
        bool cancel_in_flight = false;
        int backend_pid = 0;
    };
    snapshot state() const;

    // Canceller side (cancel_service): marks the request and lends the handle to send it with (null unless
    // the statement is running and no other request is under way); end_cancel once it has been sent.
    PGcancel* begin_cancel();
    // Before terminating the backend: false when the statement is already over (its connection may be back in
    // the pool, serving someone else). Otherwise the executor holds the connection until end_cancel.
    bool begin_terminate();
    void end_cancel();

private:
    mutable std::mutex mutex_;
    pg_cancel_ptr cancel_handle_;
    int backend_pid_ = 0;
    phase phase_ = phase::waiting;
    bool cancel_requested_ = false;
    bool stopped_by_cancel_ = false;
    int in_flight_ = 0;  // cancel requests and terminations under way
};

using drivers::cancel_outcome;

// Opens a separate connection of the same role to the same database, for confirming and terminating.
using side_connection_opener = std::function<boost::asio::awaitable<result<pg_connection>>()>;

class cancel_service {
public:
    // PQcancel blocks for a network round trip; `threads` of them may be under way at once.
    explicit cancel_service(std::size_t threads = 2);
    cancel_service(const cancel_service&) = delete;
    cancel_service& operator=(const cancel_service&) = delete;
    ~cancel_service();

    // Sends the cancel, waits up to `confirm_within` for the statement to stop, then checks pg_stat_activity
    // on a side connection and terminates the backend if it is still running that statement.
    boost::asio::awaitable<cancel_outcome> cancel(
        std::shared_ptr<pg_query_control> control, side_connection_opener open_side_connection,
        std::chrono::milliseconds confirm_within = std::chrono::milliseconds(1000));

    // Only sends the cancel request (off the I/O thread) and returns once the server has it; no confirmation.
    boost::asio::awaitable<result<void>> send_cancel(std::shared_ptr<pg_query_control> control);

    // Fire and forget, with its own handle: for a statement abandoned mid-flight whose connection is about to
    // be closed (closing alone would let the server run the statement to its end).
    void cancel_detached(pg_cancel_ptr handle);

private:
    boost::asio::thread_pool workers_;
};

}  // namespace metahog::drivers::postgres
