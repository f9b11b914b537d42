// The pipelined read-only statement sequence, row streaming into sinks, exports, EXPLAIN and the session
// reset.
#include "drivers/postgres/query_executor.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <vector>

#include "drivers/postgres/pg_io.hpp"
#include "drivers/postgres/value_render.hpp"

namespace metahog::drivers::postgres {
namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

constexpr std::string_view begin_sql = "BEGIN READ ONLY";
// The limits are parameters, never formatted into the text. DateStyle ISO and hex bytea are pinned as well:
// the JSON rendering reads timestamps and bytea from their text, whatever the role's or database's defaults
// say.
constexpr std::string_view limits_sql =
    "SELECT pg_catalog.set_config('statement_timeout', $1, true), "
    "pg_catalog.set_config('lock_timeout', $2, true), "
    "pg_catalog.set_config('idle_in_transaction_session_timeout', $3, true), "
    "pg_catalog.set_config('DateStyle', 'ISO', true), "
    "pg_catalog.set_config('bytea_output', 'hex', true)";
constexpr std::string_view close_sql = "CLOSE metahog_cursor";
constexpr std::string_view rollback_sql = "ROLLBACK";
constexpr std::string_view cursor_name = "metahog_cursor";

double milliseconds_since(clock::time_point start) {
    return std::chrono::duration<double, std::milli>(clock::now() - start).count();
}

// Never 0: that would disable the limit.
std::string limit_text(std::chrono::milliseconds limit) {
    return std::to_string(std::max<std::chrono::milliseconds::rep>(limit.count(), 1));
}

std::string fetch_sql(std::size_t rows) {
    return "FETCH FORWARD " + std::to_string(rows) + " FROM metahog_cursor";
}

bool is_ok(const PGresult* result, ExecStatusType expected) {
    return result != nullptr && PQresultStatus(result) == expected;
}

// Marks the statement over on the control when the scope ends, whatever path it took.
class control_scope {
public:
    explicit control_scope(std::shared_ptr<pg_query_control> control) : control_(std::move(control)) {}
    control_scope(const control_scope&) = delete;
    control_scope& operator=(const control_scope&) = delete;
    ~control_scope() { finish(false); }

    // false when a cancel came first: the statement must not be sent.
    bool attach(PGconn* conn) {
        return !control_ || control_->attach(pg_cancel_ptr(PQgetCancel(conn)), PQbackendPID(conn));
    }
    void finish(bool stopped_by_cancel) {
        if (control_ && !finished_) {
            finished_ = true;
            control_->statement_finished(stopped_by_cancel);
        }
    }
    bool cancel_requested() const { return control_ && control_->cancel_requested(); }
    const std::shared_ptr<pg_query_control>& control() const { return control_; }

private:
    std::shared_ptr<pg_query_control> control_;
    bool finished_ = false;
};

// Reads one command's results up to the null that ends them: the first failed result if there is one, else
// the last result.
asio::awaitable<result<pg_result_ptr>> read_command(pg_connection& connection) {
    pg_result_ptr kept;
    while (true) {
        auto next = co_await next_result(connection);
        if (!next) {
            co_return std::move(next).error();
        }
        if (!*next) {
            break;
        }
        if (!kept || !result_failed(kept.get())) {
            kept = std::move(*next);
        }
    }
    if (!kept) {
        co_return make_error(error_code::internal, "the server sent no result for a pipelined command");
    }
    co_return std::move(kept);
}

asio::awaitable<result<void>> read_sync(pg_connection& connection) {
    auto next = co_await next_result(connection);
    if (!next) {
        co_return std::move(next).error();
    }
    if (!is_ok(next->get(), PGRES_PIPELINE_SYNC)) {
        co_return make_error(error_code::internal, "the pipeline is out of step with the server");
    }
    co_return result<void>();
}

// The result's columns, their types and where they come from.
struct result_shape {
    std::vector<column_info> columns;
    std::vector<oid> type_oids;
    std::vector<column_origin> origins;

    type_lookup missing_in(const type_catalog& types) const { return types.missing(type_oids, origins); }
};

result_shape shape_of(const PGresult* described) {
    result_shape shape;
    const int count = PQnfields(described);
    shape.columns.reserve(static_cast<std::size_t>(count));
    for (int index = 0; index < count; ++index) {
        column_info column;
        column.name = PQfname(described, index);
        column.type_id = PQftype(described, index);
        column.type_modifier = PQfmod(described, index);
        shape.type_oids.push_back(column.type_id);
        shape.origins.push_back({PQftable(described, index), PQftablecol(described, index)});
        shape.columns.push_back(std::move(column));
    }
    return shape;
}

// Names the columns' types and builds the renderer; types still unknown are rendered as text.
row_renderer prepare_columns(type_catalog& types, result_shape& shape, const row_sink& sink) {
    std::vector<std::shared_ptr<const type_info>> column_types;
    column_types.reserve(shape.columns.size());
    for (std::size_t index = 0; index < shape.columns.size(); ++index) {
        auto type = types.find(shape.type_oids[index]);
        if (!type) {
            type = type_catalog::unknown(shape.type_oids[index]);
        }
        // A domain column is described by its base type, which renders it; its name is the domain's.
        const auto domain = types.declared_domain(shape.origins[index], shape.type_oids[index]);
        shape.columns[index].type_name = domain ? domain->name : type->name;
        column_types.push_back(std::move(type));
    }
    return row_renderer(std::move(column_types), sink.wants_json());
}

// Hands a result's rows to the sink until it asks to stop. Returns the bytes of values read (for batch
// sizing).
std::size_t deliver_rows(const PGresult* rows, row_renderer& renderer, std::vector<raw_value>& values,
                         row_sink& sink, bool& sink_open) {
    const int row_count = PQntuples(rows);
    const int column_count = PQnfields(rows);
    values.resize(static_cast<std::size_t>(column_count));
    std::size_t bytes = 0;
    for (int row = 0; row < row_count && sink_open; ++row) {
        for (int column = 0; column < column_count; ++column) {
            raw_value& value = values[static_cast<std::size_t>(column)];
            value.is_null = PQgetisnull(rows, row, column) != 0;
            value.data = PQgetvalue(rows, row, column);
            value.length = static_cast<std::size_t>(PQgetlength(rows, row, column));
            bytes += value.length;
        }
        if (!sink.on_row(renderer.render(values))) {
            sink_open = false;
        }
    }
    return bytes;
}

asio::awaitable<void> pause(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// A cancel request still travelling to the server would hit the connection's next user: wait for it to land
// before the connection can go back to the pool (bounded: PQcancel itself has a network timeout).
asio::awaitable<void> wait_cancel_quiescent(const control_scope& scope) {
    if (!scope.control()) {
        co_return;
    }
    const auto deadline = clock::now() + std::chrono::seconds(5);
    while (!scope.control()->cancel_quiescent() && clock::now() < deadline) {
        co_await pause(std::chrono::milliseconds(2));
    }
}

}  // namespace

query_executor::query_executor(type_catalog& types, cancel_service* cancels)
    : types_(types), cancels_(cancels) {}

namespace {

// Shared machinery of one pipelined run: sending, failing safely, the final checks.
class pipeline_run {
public:
    pipeline_run(pool_lease& lease, cancel_service* cancels, std::shared_ptr<pg_query_control> control)
        : lease_(lease),
          connection_(*lease),
          conn_(connection_.native()),
          cancels_(cancels),
          scope_(std::move(control)) {}

    pipeline_run(const pipeline_run&) = delete;
    pipeline_run& operator=(const pipeline_run&) = delete;
    // Left mid-pipeline without an answer (an exception, a cancelled coroutine): the statement may still run
    // on the server and the session is in an unknown state.
    ~pipeline_run() {
        if (in_pipeline_ && lease_) {
            (void)abandon(error{});
        }
    }

    pg_connection& connection() { return connection_; }
    PGconn* native() { return conn_; }
    control_scope& scope() { return scope_; }

    // Checks the connection, attaches the control and enters pipeline mode.
    result<void> start() {
        if (!connection_.usable()) {
            lease_.release(false);
            return make_error(error_code::source_connection_failed,
                              "the connection is not ready for a statement");
        }
        if (!scope_.attach(conn_)) {
            return make_error(error_code::query_cancelled, "the query was cancelled before it started");
        }
        if (PQenterPipelineMode(conn_) == 0) {
            return abandon(connection_.error_from_connection(error_code::internal));
        }
        in_pipeline_ = true;
        return {};
    }

    result<void> send(std::string_view sql, std::initializer_list<const char*> parameters = {}) {
        if (auto sent = send_statement(connection_, sql, parameters); !sent) {
            return abandon(std::move(sent).error());
        }
        return {};
    }

    result<void> send_limits(const statement_limits& limits) {
        const std::string statement_timeout = limit_text(limits.statement_timeout);
        const std::string lock_timeout = limit_text(limits.lock_timeout);
        const std::string idle_timeout = limit_text(limits.idle_in_transaction_timeout);
        return send(limits_sql, {statement_timeout.c_str(), lock_timeout.c_str(), idle_timeout.c_str()});
    }

    result<void> sync() {
        if (PQpipelineSync(conn_) == 0) {
            return abandon(connection_.error_from_connection(error_code::source_connection_failed));
        }
        return {};
    }

    // The statement may still be running and the connection is in an unknown state: ask the server to stop it
    // (closing the socket alone would not) and never reuse the connection.
    error abandon(error failure) {
        // A backend terminated because it ignored a cancel ends its connection: that is the cancel's doing.
        if (scope_.cancel_requested() && failure.code == error_code::source_connection_failed) {
            failure.code = error_code::query_cancelled;
        }
        scope_.finish(scope_.cancel_requested());
        if (cancels_ != nullptr && conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) {
            cancels_->cancel_detached(pg_cancel_ptr(PQgetCancel(conn_)));
        }
        if (lease_) {
            lease_.release(false);
        }
        return failure;
    }

    // Leaves pipeline mode and checks that the session is back to idle: anything else discards the
    // connection.
    result<void> finish_pipeline(bool transaction_proven) {
        if (in_pipeline_ && PQexitPipelineMode(conn_) == 0) {
            return abandon(connection_.error_from_connection(error_code::internal));
        }
        in_pipeline_ = false;
        if (PQtransactionStatus(conn_) != PQTRANS_IDLE || !transaction_proven) {
            lease_.release(false);
            return make_error(
                error_code::query_failed,
                "the statement ended MetaHog's read-only transaction; the connection was discarded");
        }
        return {};
    }

    // Results of setup commands (BEGIN, set_config): a failure there is ours or the session's, not the
    // user's.
    asio::awaitable<result<void>> expect_setup(ExecStatusType expected) {
        auto command = co_await read_command(connection_);
        if (!command) {
            co_return abandon(std::move(command).error());
        }
        if (!is_ok(command->get(), expected) && !setup_failure_) {
            // A cancel can land before the user's statement has started, on BEGIN or the limits.
            setup_failure_ = error_from_result(command->get(), 0, scope_.cancel_requested());
        }
        co_return result<void>();
    }

    std::optional<error>& setup_failure() { return setup_failure_; }

    // Marks the statement over; it was stopped by a cancel when its failure (or a setup failure) says so.
    void statement_over(const std::optional<error>& statement_failure) {
        const auto cancelled = [](const std::optional<error>& failure) {
            return failure && failure->code == error_code::query_cancelled;
        };
        scope_.finish(cancelled(statement_failure) || cancelled(setup_failure_));
    }

private:
    pool_lease& lease_;
    pg_connection& connection_;
    PGconn* conn_;
    cancel_service* cancels_;
    control_scope scope_;
    bool in_pipeline_ = false;
    std::optional<error> setup_failure_;
};

// Checked before the connection is touched: libpq would cut the statement at the NUL.
result<void> refuse_nul(std::string_view sql) {
    if (sql.find('\0') != std::string_view::npos) {
        return make_error(error_code::invalid_input, "the SQL contains a NUL character", "sql");
    }
    return {};
}

#define METAHOG_TRY(expression)                                \
    do {                                                       \
        if (auto metahog_try_ = (expression); !metahog_try_) { \
            co_return std::move(metahog_try_).error();         \
        }                                                      \
    } while (false)

}  // namespace

asio::awaitable<result<execution_summary>> query_executor::execute_direct(
    pool_lease& lease, std::string sql, std::size_t position_offset, std::size_t max_rows,
    const statement_limits& limits, std::shared_ptr<pg_query_control> control, row_sink& sink) {
    METAHOG_TRY(refuse_nul(sql));
    pipeline_run run(lease, cancels_, std::move(control));
    METAHOG_TRY(run.start());
    // Flight 1: BEGIN; limits; the statement (single-row mode); Sync.
    METAHOG_TRY(run.send(begin_sql));
    METAHOG_TRY(run.send_limits(limits));
    METAHOG_TRY(run.send(sql));
    METAHOG_TRY(run.sync());
    const auto start = clock::now();
    if (auto flushed = co_await run.connection().flush(); !flushed) {
        co_return run.abandon(std::move(flushed).error());
    }
    METAHOG_TRY(co_await run.expect_setup(PGRES_COMMAND_OK));
    METAHOG_TRY(co_await run.expect_setup(PGRES_TUPLES_OK));
    (void)PQsetSingleRowMode(run.native());
    std::optional<error> statement_failure;
    std::optional<row_renderer> renderer;
    type_lookup pending_lookup;
    std::vector<raw_value> values;
    bool sink_open = true;
    bool columns_delivered = false;
    std::size_t fetched = 0;
    const std::size_t delivered_limit = max_rows + 1;
    while (true) {
        auto next = co_await next_result(run.connection());
        if (!next) {
            co_return run.abandon(std::move(next).error());
        }
        if (!*next) {
            break;
        }
        const PGresult* rows = next->get();
        const auto status = PQresultStatus(rows);
        if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
            if (!renderer) {
                result_shape shape = shape_of(rows);
                if (auto missing = shape.missing_in(types_); !missing.empty()) {
                    // Rare (a new user type in an EXPLAIN-like statement): render it as text this time and
                    // load it for the next, after the transaction.
                    pending_lookup = std::move(missing);
                }
                renderer.emplace(prepare_columns(types_, shape, sink));
                columns_delivered = true;
                sink_open = sink.on_columns(shape.columns);
            }
            // Rows past the cap are read and dropped: direct statements have small outputs by contract.
            if (fetched < delivered_limit && sink_open) {
                (void)deliver_rows(rows, *renderer, values, sink, sink_open);
            }
            fetched += static_cast<std::size_t>(PQntuples(rows));
        } else if (status == PGRES_COMMAND_OK) {
            // A statement without rows.
        } else if (result_failed(rows) && !statement_failure) {
            statement_failure = error_from_result(rows, position_offset, run.scope().cancel_requested());
        }
    }
    const double elapsed = milliseconds_since(start);
    run.statement_over(statement_failure);
    if (auto synced = co_await read_sync(run.connection()); !synced) {
        co_return run.abandon(std::move(synced).error());
    }
    // The pipeline is drained, so PQtransactionStatus is meaningful: the statement must have left the
    // transaction open (or failed), never ended it.
    const auto status = PQtransactionStatus(run.native());
    const bool transaction_proven = status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
    METAHOG_TRY(run.send(rollback_sql));
    METAHOG_TRY(run.sync());
    if (auto flushed = co_await run.connection().flush(); !flushed) {
        co_return run.abandon(std::move(flushed).error());
    }
    auto rolled_back = co_await read_command(run.connection());
    if (!rolled_back) {
        co_return run.abandon(std::move(rolled_back).error());
    }
    if (auto synced = co_await read_sync(run.connection()); !synced) {
        co_return run.abandon(std::move(synced).error());
    }
    co_await wait_cancel_quiescent(run.scope());
    auto finished = run.finish_pipeline(transaction_proven && is_ok(rolled_back->get(), PGRES_COMMAND_OK));
    if (!pending_lookup.empty() && finished) {
        co_await load_types(run.connection(), std::move(pending_lookup));
    }
    std::optional<error> failure = run.setup_failure() ? run.setup_failure() : statement_failure;
    if (!finished && !failure) {
        failure = std::move(finished).error();
    }
    if (failure) {
        if (columns_delivered) {
            sink.on_end(stream_end{false, elapsed, failure});
        }
        co_return std::move(*failure);
    }
    if (!columns_delivered) {
        // A statement that returns no result set: an empty one, so the response keeps its shape.
        sink_open = sink.on_columns({});
    }
    const bool exhausted = sink_open && fetched <= max_rows;
    sink.on_end(stream_end{exhausted, elapsed, std::nullopt});
    co_return execution_summary{fetched, exhausted, !sink_open, elapsed};
}

asio::awaitable<result<execution_summary>> query_executor::execute(pool_lease& lease,
                                                                   const execute_request& request,
                                                                   row_sink& sink) {
    if (request.mode == statement_mode::direct) {
        co_return co_await execute_direct(lease, std::string(request.sql), 0, request.max_rows,
                                          request.limits, request.control, sink);
    }
    METAHOG_TRY(refuse_nul(request.sql));
    pipeline_run run(lease, cancels_, request.control);
    METAHOG_TRY(run.start());
    const std::string declare = std::string(cursor_prefix) + std::string(request.sql);
    const std::size_t wanted = request.max_rows + 1;
    METAHOG_TRY(run.send(begin_sql));
    METAHOG_TRY(run.send_limits(request.limits));
    METAHOG_TRY(run.send(declare));
    METAHOG_TRY(run.send(fetch_sql(wanted)));
    METAHOG_TRY(run.send(close_sql));
    METAHOG_TRY(run.sync());
    METAHOG_TRY(run.send(rollback_sql));
    METAHOG_TRY(run.sync());
    const auto start = clock::now();
    if (auto flushed = co_await run.connection().flush(); !flushed) {
        co_return run.abandon(std::move(flushed).error());
    }
    METAHOG_TRY(co_await run.expect_setup(PGRES_COMMAND_OK));
    METAHOG_TRY(co_await run.expect_setup(PGRES_TUPLES_OK));

    std::optional<error> statement_failure;
    auto declared = co_await read_command(run.connection());
    if (!declared) {
        co_return run.abandon(std::move(declared).error());
    }
    if (!is_ok(declared->get(), PGRES_COMMAND_OK)) {
        statement_failure =
            error_from_result(declared->get(), cursor_prefix.size(), run.scope().cancel_requested());
    } else {
        // One row at a time: a byte cap then bounds memory too, not only the response.
        (void)PQsetSingleRowMode(run.native());
    }

    std::optional<result_shape> shape;
    std::optional<row_renderer> renderer;
    std::vector<pg_result_ptr>
        held;  // rows waiting for a type lookup (first sight of a type in this database)
    std::vector<raw_value> values;
    bool sink_open = true;
    bool columns_delivered = false;
    bool stopped_by_us = false;
    std::size_t fetched = 0;
    while (true) {
        auto next = co_await next_result(run.connection());
        if (!next) {
            co_return run.abandon(std::move(next).error());
        }
        if (!*next) {
            break;
        }
        const PGresult* rows = next->get();
        const auto status = PQresultStatus(rows);
        if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
            if (!shape) {
                shape = shape_of(rows);
                if (shape->missing_in(types_).empty()) {
                    renderer.emplace(prepare_columns(types_, *shape, sink));
                    columns_delivered = true;
                    sink_open = sink.on_columns(shape->columns);
                }
            }
            fetched += static_cast<std::size_t>(PQntuples(rows));
            if (renderer) {
                if (sink_open) {
                    (void)deliver_rows(rows, *renderer, values, sink, sink_open);
                    if (!sink_open && !stopped_by_us && cancels_ != nullptr) {
                        // The response is full (byte cap): the rest of the FETCH (up to max_rows rows of any
                        // width) would only be read and dropped until the statement timeout. Stop it, and wait
                        // until the request is with the server so that it cannot reach a later command.
                        auto stopper = std::make_shared<pg_query_control>();
                        (void)stopper->attach(pg_cancel_ptr(PQgetCancel(run.native())), 0);
                        (void)co_await cancels_->send_cancel(stopper);
                        stopped_by_us = true;
                    }
                }
            } else if (PQntuples(rows) > 0) {
                held.push_back(std::move(*next));
            }
        } else if (result_failed(rows) && !statement_failure && !run.setup_failure() && !stopped_by_us) {
            statement_failure = error_from_result(rows, cursor_prefix.size(), run.scope().cancel_requested());
        }
    }
    const double elapsed = milliseconds_since(start);
    run.statement_over(statement_failure);

    auto closed = co_await read_command(run.connection());
    if (!closed) {
        co_return run.abandon(std::move(closed).error());
    }
    if (auto synced = co_await read_sync(run.connection()); !synced) {
        co_return run.abandon(std::move(synced).error());
    }
    auto rolled_back = co_await read_command(run.connection());
    if (!rolled_back) {
        co_return run.abandon(std::move(rolled_back).error());
    }
    if (auto synced = co_await read_sync(run.connection()); !synced) {
        co_return run.abandon(std::move(synced).error());
    }
    // CLOSE succeeding proves the transaction survived the statement; after a failure it is skipped or
    // refused (the transaction is aborted, which is also fine: ROLLBACK ends it).
    const bool failed_before_close = statement_failure.has_value() || run.setup_failure().has_value();
    // After our own stop the FETCH (or CLOSE) failed: like any failed statement, a cursor's query cannot have
    // ended the transaction, and ROLLBACK must still succeed below.
    const bool transaction_proven = failed_before_close || stopped_by_us || is_ok(closed->get(), PGRES_COMMAND_OK);
    co_await wait_cancel_quiescent(run.scope());
    auto finished = run.finish_pipeline(transaction_proven && is_ok(rolled_back->get(), PGRES_COMMAND_OK));

    std::optional<error> failure = run.setup_failure() ? run.setup_failure() : statement_failure;
    if (!finished && !failure) {
        failure = std::move(finished).error();
    }
    if (!failure && shape && !renderer) {
        // The connection is idle again: load the new types, then render the rows held for them.
        co_await load_types(*lease, shape->missing_in(types_));
        renderer.emplace(prepare_columns(types_, *shape, sink));
        columns_delivered = true;
        sink_open = sink.on_columns(shape->columns);
        for (const auto& rows : held) {
            if (!sink_open) {
                break;
            }
            (void)deliver_rows(rows.get(), *renderer, values, sink, sink_open);
        }
        held.clear();
    }
    if (failure) {
        if (columns_delivered) {
            sink.on_end(stream_end{false, elapsed, failure});
        }
        co_return std::move(*failure);
    }
    if (!columns_delivered) {
        sink_open = sink.on_columns({});
    }
    const bool exhausted = sink_open && fetched < wanted;
    sink.on_end(stream_end{exhausted, elapsed, std::nullopt});
    co_return execution_summary{fetched, exhausted, !sink_open, elapsed};
}

asio::awaitable<void> query_executor::load_types(pg_connection& connection, type_lookup missing) {
    if (missing.empty()) {
        co_return;
    }
    const auto texts = type_catalog::lookup_parameters(missing);
    const std::array<const char*, 3> parameters{texts[0].c_str(), texts[1].c_str(), texts[2].c_str()};
    auto looked_up =
        co_await run_statement(connection, type_catalog::lookup_sql(connection.server_version()), parameters);
    // A failed lookup leaves the types unknown: they render as text, which is still valid output.
    if (looked_up) {
        (void)types_.absorb(looked_up->get());
    }
}

namespace {

// Loads types from inside the running pipeline and transaction (the pipeline is drained when this is called).
asio::awaitable<result<void>> load_types_in_pipeline(pipeline_run& run, type_catalog& types,
                                                     const type_lookup& missing) {
    const auto texts = type_catalog::lookup_parameters(missing);
    METAHOG_TRY(run.send(type_catalog::lookup_sql(run.connection().server_version()),
                         {texts[0].c_str(), texts[1].c_str(), texts[2].c_str()}));
    METAHOG_TRY(run.sync());
    if (auto flushed = co_await run.connection().flush(); !flushed) {
        co_return run.abandon(std::move(flushed).error());
    }
    auto looked_up = co_await read_command(run.connection());
    if (!looked_up) {
        co_return run.abandon(std::move(looked_up).error());
    }
    if (auto synced = co_await read_sync(run.connection()); !synced) {
        co_return run.abandon(std::move(synced).error());
    }
    if (is_ok(looked_up->get(), PGRES_TUPLES_OK)) {
        (void)types.absorb(looked_up->get());
    }
    co_return result<void>();
}

// Rows per FETCH so that a batch holds about `target_bytes` (libpq's own accounting of the last batch).
std::size_t batch_rows_for(const PGresult* last_batch, std::size_t target_bytes) {
    constexpr std::size_t fewest = 64;
    constexpr std::size_t most = 100'000;
    const auto rows = static_cast<std::size_t>(PQntuples(last_batch));
    if (rows == 0) {
        return 1000;
    }
    const std::size_t bytes_per_row = std::max<std::size_t>(PQresultMemorySize(last_batch) / rows, 1);
    return std::clamp(target_bytes / bytes_per_row, fewest, most);
}

}  // namespace

asio::awaitable<result<execution_summary>> query_executor::export_rows(pool_lease& lease,
                                                                       const export_request& request,
                                                                       row_sink& sink) {
    METAHOG_TRY(refuse_nul(request.sql));
    if (request.strategy == export_strategy::streaming) {
        co_return co_await export_streaming(lease, request, sink);
    }
    pipeline_run run(lease, cancels_, request.control);
    METAHOG_TRY(run.start());
    const std::string declare = std::string(cursor_prefix) + std::string(request.sql);
    const std::size_t wanted = request.max_rows + 1;
    // Flight 1 describes the cursor before any row is fetched, so new types are loaded inside the transaction
    // and no row ever waits in memory for them.
    METAHOG_TRY(run.send(begin_sql));
    METAHOG_TRY(run.send_limits(request.limits));
    METAHOG_TRY(run.send(declare));
    if (PQsendDescribePortal(run.native(), std::string(cursor_name).c_str()) == 0) {
        co_return run.abandon(run.connection().error_from_connection(error_code::source_connection_failed));
    }
    METAHOG_TRY(run.sync());
    const auto start = clock::now();
    if (auto flushed = co_await run.connection().flush(); !flushed) {
        co_return run.abandon(std::move(flushed).error());
    }
    METAHOG_TRY(co_await run.expect_setup(PGRES_COMMAND_OK));
    METAHOG_TRY(co_await run.expect_setup(PGRES_TUPLES_OK));
    std::optional<error> statement_failure;
    auto declared = co_await read_command(run.connection());
    if (!declared) {
        co_return run.abandon(std::move(declared).error());
    }
    if (!is_ok(declared->get(), PGRES_COMMAND_OK) && !run.setup_failure()) {
        statement_failure =
            error_from_result(declared->get(), cursor_prefix.size(), run.scope().cancel_requested());
    }
    auto described = co_await read_command(run.connection());
    if (!described) {
        co_return run.abandon(std::move(described).error());
    }
    if (auto synced = co_await read_sync(run.connection()); !synced) {
        co_return run.abandon(std::move(synced).error());
    }

    bool sink_open = true;
    bool columns_delivered = false;
    bool exhausted = false;
    std::size_t fetched = 0;
    if (!statement_failure && !run.setup_failure() && is_ok(described->get(), PGRES_COMMAND_OK)) {
        result_shape shape = shape_of(described->get());
        if (auto missing = shape.missing_in(types_); !missing.empty()) {
            METAHOG_TRY(co_await load_types_in_pipeline(run, types_, missing));
        }
        row_renderer renderer = prepare_columns(types_, shape, sink);
        std::vector<raw_value> values;
        columns_delivered = true;
        sink_open = sink.on_columns(shape.columns);

        if (sink_open && request.strategy == export_strategy::single_row) {
            METAHOG_TRY(run.send(fetch_sql(wanted)));
            METAHOG_TRY(run.sync());
            (void)PQsetSingleRowMode(run.native());
            if (auto flushed = co_await run.connection().flush(); !flushed) {
                co_return run.abandon(std::move(flushed).error());
            }
            // Rows nobody wants any more are read and dropped: this strategy cannot stop the server early (a
            // cancel could land on a later command), one reason batched_fetch is the default.
            while (true) {
                auto next = co_await next_result(run.connection());
                if (!next) {
                    co_return run.abandon(std::move(next).error());
                }
                if (!*next) {
                    break;
                }
                const PGresult* rows = next->get();
                const auto status = PQresultStatus(rows);
                if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
                    fetched += static_cast<std::size_t>(PQntuples(rows));
                    if (sink_open) {
                        (void)deliver_rows(rows, renderer, values, sink, sink_open);
                    }
                    if (sink_open && request.drain && fetched % 10'000 == 0) {
                        const bool reader_present = co_await request.drain();
                        sink_open = reader_present;
                    }
                } else if (result_failed(rows) && !statement_failure && sink_open) {
                    statement_failure =
                        error_from_result(rows, cursor_prefix.size(), run.scope().cancel_requested());
                }
            }
            if (auto synced = co_await read_sync(run.connection()); !synced) {
                co_return run.abandon(std::move(synced).error());
            }
            exhausted = sink_open && !statement_failure && fetched < wanted;
        } else if (sink_open) {
            std::size_t requested = std::min<std::size_t>(1000, wanted);
            METAHOG_TRY(run.send(fetch_sql(requested)));
            METAHOG_TRY(run.sync());
            if (auto flushed = co_await run.connection().flush(); !flushed) {
                co_return run.abandon(std::move(flushed).error());
            }
            while (true) {
                auto batch = co_await read_command(run.connection());
                if (!batch) {
                    co_return run.abandon(std::move(batch).error());
                }
                if (auto synced = co_await read_sync(run.connection()); !synced) {
                    co_return run.abandon(std::move(synced).error());
                }
                if (!is_ok(batch->get(), PGRES_TUPLES_OK)) {
                    statement_failure =
                        error_from_result(batch->get(), cursor_prefix.size(), run.scope().cancel_requested());
                    break;
                }
                const auto count = static_cast<std::size_t>(PQntuples(batch->get()));
                fetched += count;
                const bool more = count == requested && fetched < wanted;
                std::size_t next_requested = 0;
                if (more) {
                    // Ask for the next batch before encoding this one: the server produces it meanwhile.
                    next_requested =
                        std::min(batch_rows_for(batch->get(), request.batch_bytes), wanted - fetched);
                    METAHOG_TRY(run.send(fetch_sql(next_requested)));
                    METAHOG_TRY(run.sync());
                    if (auto flushed = co_await run.connection().flush(); !flushed) {
                        co_return run.abandon(std::move(flushed).error());
                    }
                }
                (void)deliver_rows(batch->get(), renderer, values, sink, sink_open);
                batch->reset();
                if (sink_open && request.drain) {
                    const bool reader_present = co_await request.drain();
                    sink_open = reader_present;
                }
                if (!more) {
                    exhausted = sink_open && count < requested;
                    break;
                }
                if (!sink_open) {
                    // Drop the batch already asked for; nothing more is fetched.
                    auto dropped = co_await read_command(run.connection());
                    if (!dropped) {
                        co_return run.abandon(std::move(dropped).error());
                    }
                    if (auto synced = co_await read_sync(run.connection()); !synced) {
                        co_return run.abandon(std::move(synced).error());
                    }
                    break;
                }
                requested = next_requested;
            }
        }
    }
    const double elapsed = milliseconds_since(start);
    run.statement_over(statement_failure);

    METAHOG_TRY(run.send(close_sql));
    METAHOG_TRY(run.sync());
    METAHOG_TRY(run.send(rollback_sql));
    METAHOG_TRY(run.sync());
    if (auto flushed = co_await run.connection().flush(); !flushed) {
        co_return run.abandon(std::move(flushed).error());
    }
    auto closed = co_await read_command(run.connection());
    if (!closed) {
        co_return run.abandon(std::move(closed).error());
    }
    if (auto synced = co_await read_sync(run.connection()); !synced) {
        co_return run.abandon(std::move(synced).error());
    }
    auto rolled_back = co_await read_command(run.connection());
    if (!rolled_back) {
        co_return run.abandon(std::move(rolled_back).error());
    }
    if (auto synced = co_await read_sync(run.connection()); !synced) {
        co_return run.abandon(std::move(synced).error());
    }
    const bool transaction_failed = statement_failure.has_value() || run.setup_failure().has_value();
    const bool transaction_proven = transaction_failed || is_ok(closed->get(), PGRES_COMMAND_OK);
    co_await wait_cancel_quiescent(run.scope());
    auto finished = run.finish_pipeline(transaction_proven && is_ok(rolled_back->get(), PGRES_COMMAND_OK));

    std::optional<error> failure = run.setup_failure() ? run.setup_failure() : statement_failure;
    if (!finished && !failure) {
        failure = std::move(finished).error();
    }
    if (failure) {
        if (columns_delivered) {
            sink.on_end(stream_end{false, elapsed, failure});
        }
        co_return std::move(*failure);
    }
    sink.on_end(stream_end{exhausted, elapsed, std::nullopt});
    co_return execution_summary{fetched, exhausted, !sink_open, elapsed};
}

asio::awaitable<result<execution_summary>> query_executor::export_streaming(pool_lease& lease,
                                                                            const export_request& request,
                                                                            row_sink& sink) {
    pipeline_run run(lease, cancels_, request.control);
    METAHOG_TRY(run.start());
    const std::string sql(request.sql);
    // Flight 1: BEGIN; limits; prepare the statement (unnamed) and describe it; Sync.
    METAHOG_TRY(run.send(begin_sql));
    METAHOG_TRY(run.send_limits(request.limits));
    if (PQsendPrepare(run.native(), "", sql.c_str(), 0, nullptr) == 0 ||
        PQsendDescribePrepared(run.native(), "") == 0) {
        co_return run.abandon(run.connection().error_from_connection(error_code::source_connection_failed));
    }
    METAHOG_TRY(run.sync());
    const auto start = clock::now();
    if (auto flushed = co_await run.connection().flush(); !flushed) {
        co_return run.abandon(std::move(flushed).error());
    }
    METAHOG_TRY(co_await run.expect_setup(PGRES_COMMAND_OK));
    METAHOG_TRY(co_await run.expect_setup(PGRES_TUPLES_OK));
    std::optional<error> statement_failure;
    auto prepared = co_await read_command(run.connection());
    if (!prepared) {
        co_return run.abandon(std::move(prepared).error());
    }
    if (!is_ok(prepared->get(), PGRES_COMMAND_OK) && !run.setup_failure()) {
        statement_failure = error_from_result(prepared->get(), 0, run.scope().cancel_requested());
    }
    auto described = co_await read_command(run.connection());
    if (!described) {
        co_return run.abandon(std::move(described).error());
    }
    if (auto synced = co_await read_sync(run.connection()); !synced) {
        co_return run.abandon(std::move(synced).error());
    }

    bool sink_open = true;
    bool columns_delivered = false;
    bool stopped_by_us = false;
    std::size_t fetched = 0;
    if (!statement_failure && !run.setup_failure() && is_ok(described->get(), PGRES_COMMAND_OK)) {
        result_shape shape = shape_of(described->get());
        if (auto missing = shape.missing_in(types_); !missing.empty()) {
            METAHOG_TRY(co_await load_types_in_pipeline(run, types_, missing));
        }
        row_renderer renderer = prepare_columns(types_, shape, sink);
        std::vector<raw_value> values;
        columns_delivered = true;
        sink_open = sink.on_columns(shape.columns);
        if (sink_open) {
            // Flight 2: the statement, streamed; Sync.
            if (PQsendQueryPrepared(run.native(), "", 0, nullptr, nullptr, nullptr, 0) == 0) {
                co_return run.abandon(
                    run.connection().error_from_connection(error_code::source_connection_failed));
            }
            METAHOG_TRY(run.sync());
            (void)PQsetSingleRowMode(run.native());
            if (auto flushed = co_await run.connection().flush(); !flushed) {
                co_return run.abandon(std::move(flushed).error());
            }
            while (true) {
                auto next = co_await next_result(run.connection());
                if (!next) {
                    co_return run.abandon(std::move(next).error());
                }
                if (!*next) {
                    break;
                }
                const PGresult* rows = next->get();
                const auto status = PQresultStatus(rows);
                if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
                    fetched += static_cast<std::size_t>(PQntuples(rows));
                    if (sink_open) {
                        (void)deliver_rows(rows, renderer, values, sink, sink_open);
                        if (sink_open && request.drain && fetched % 10'000 == 0) {
                            const bool reader_present = co_await request.drain();
                            sink_open = reader_present;
                        }
                        if (!sink_open && !stopped_by_us && cancels_ != nullptr) {
                            // Nobody wants the rest: stop the statement, and wait until the request is with
                            // the server, so that it cannot reach a later command.
                            auto stopper = std::make_shared<pg_query_control>();
                            (void)stopper->attach(pg_cancel_ptr(PQgetCancel(run.native())), 0);
                            (void)co_await cancels_->send_cancel(stopper);
                            stopped_by_us = true;
                        }
                    }
                } else if (result_failed(rows) && !statement_failure && !stopped_by_us) {
                    statement_failure = error_from_result(rows, 0, run.scope().cancel_requested());
                }
            }
            if (auto synced = co_await read_sync(run.connection()); !synced) {
                co_return run.abandon(std::move(synced).error());
            }
        }
    }
    const double elapsed = milliseconds_since(start);
    run.statement_over(statement_failure);
    // The pipeline is drained: PQtransactionStatus shows whether the statement left the transaction open.
    const auto status = PQtransactionStatus(run.native());
    const bool transaction_proven = status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
    METAHOG_TRY(run.send(rollback_sql));
    METAHOG_TRY(run.sync());
    if (auto flushed = co_await run.connection().flush(); !flushed) {
        co_return run.abandon(std::move(flushed).error());
    }
    auto rolled_back = co_await read_command(run.connection());
    if (!rolled_back) {
        co_return run.abandon(std::move(rolled_back).error());
    }
    if (auto synced = co_await read_sync(run.connection()); !synced) {
        co_return run.abandon(std::move(synced).error());
    }
    co_await wait_cancel_quiescent(run.scope());
    auto finished = run.finish_pipeline(transaction_proven && is_ok(rolled_back->get(), PGRES_COMMAND_OK));
    std::optional<error> failure = run.setup_failure() ? run.setup_failure() : statement_failure;
    if (!finished && !failure) {
        failure = std::move(finished).error();
    }
    if (failure) {
        if (columns_delivered) {
            sink.on_end(stream_end{false, elapsed, failure});
        }
        co_return std::move(*failure);
    }
    const bool exhausted = sink_open && !stopped_by_us;
    sink.on_end(stream_end{exhausted, elapsed, std::nullopt});
    co_return execution_summary{fetched, exhausted, !sink_open, elapsed};
}

namespace {

// Keeps the first value of the first row: EXPLAIN (FORMAT JSON) answers with one json value.
class plan_sink final : public row_sink {
public:
    bool on_columns(std::span<const column_info>) override { return true; }
    bool on_row(row_view row) override {
        if (!plan_ && !row.empty() && !row[0].is_null()) {
            plan_ = std::string(row[0].text);
        }
        return true;
    }
    void on_end(const stream_end&) override {}
    std::optional<std::string>& plan() { return plan_; }

private:
    std::optional<std::string> plan_;
};

}  // namespace

asio::awaitable<result<std::string>> query_executor::explain(pool_lease& lease,
                                                             const explain_request& request) {
    const std::string prefix = request.analyze ? "EXPLAIN (FORMAT JSON, ANALYZE) " : "EXPLAIN (FORMAT JSON) ";
    plan_sink sink;
    auto ran = co_await execute_direct(lease, prefix + std::string(request.sql), prefix.size(), 1,
                                       request.limits, request.control, sink);
    if (!ran) {
        co_return std::move(ran).error();
    }
    if (!sink.plan()) {
        co_return make_error(error_code::query_failed, "EXPLAIN returned no plan");
    }
    co_return std::move(*sink.plan());
}

asio::awaitable<result<void>> query_executor::reset_session(pg_connection& connection) {
    PGconn* conn = connection.native();
    if (!connection.usable()) {
        co_return make_error(error_code::source_connection_failed, "the connection cannot be reset");
    }
    // DISCARD ALL refuses to run inside a pipeline's implicit transaction, hence a Sync of its own.
    if (PQenterPipelineMode(conn) == 0) {
        co_return connection.error_from_connection(error_code::internal);
    }
    METAHOG_TRY(send_statement(connection, "DISCARD ALL"));
    if (PQpipelineSync(conn) == 0) {
        co_return connection.error_from_connection(error_code::source_connection_failed);
    }
    METAHOG_TRY(send_statement(connection, "SELECT pg_catalog.pg_advisory_unlock_all()"));
    if (PQpipelineSync(conn) == 0) {
        co_return connection.error_from_connection(error_code::source_connection_failed);
    }
    METAHOG_TRY(co_await connection.flush());
    std::optional<error> failure;
    for (int command = 0; command < 2; ++command) {
        auto done = co_await read_command(connection);
        if (!done) {
            co_return std::move(done).error();
        }
        if (result_failed(done->get()) && !failure) {
            failure = error_from_result(done->get());
        }
        METAHOG_TRY(co_await read_sync(connection));
    }
    if (PQexitPipelineMode(conn) == 0) {
        co_return connection.error_from_connection(error_code::internal);
    }
    if (failure) {
        co_return std::move(*failure);
    }
    if (!connection.usable()) {
        co_return make_error(error_code::internal, "the session is not idle after its reset");
    }
    co_return result<void>();
}

}  // namespace metahog::drivers::postgres
