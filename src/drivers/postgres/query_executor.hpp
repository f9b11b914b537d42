// Runs one read-only statement on a pooled Postgres connection and streams its rows into a row_sink, with
// libpq's pipeline mode so that the whole safety sequence costs one round trip:
//   BEGIN READ ONLY; SELECT set_config(...) (timeouts as parameters); DECLARE metahog_cursor NO SCROLL CURSOR
//   FOR <statement>; FETCH FORWARD max_rows + 1; CLOSE metahog_cursor; Sync; ROLLBACK; Sync.
// Why a cursor: FETCH is the only way through libpq to stop the server after max_rows + 1 rows (the
// protocol's Execute row limit is not exposed), so no row past that ever leaves the database; and the
// planner, told it is a cursor, favours plans that return the first rows fast. The DECLARE prefix is ASCII,
// so error positions map back by its length. Why CLOSE: libpq reports PQTRANS_ACTIVE while pipelined commands
// are queued, so PQtransactionStatus cannot see the transaction between the statement and ROLLBACK; CLOSE can
// only succeed while the transaction that declared the cursor is still open, which proves the statement did
// not end it. PQtransactionStatus is then checked to be idle after the final Sync. Any surprise discards the
// connection.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/rows.hpp"
#include "drivers/postgres/cancel.hpp"
#include "drivers/postgres/connection_pool.hpp"
#include "drivers/postgres/type_catalog.hpp"

namespace metahog::drivers::postgres {

using statement_limits = drivers::query_limits;
using drivers::execution_summary;

enum class statement_mode {
    // SELECT, VALUES, TABLE, WITH: through a cursor, so only max_rows + 1 rows leave the database.
    cursor,
    // Statements a cursor cannot hold (EXPLAIN of a query, whose output is a few rows): sent as they are, in
    // single-row mode; rows past the cap are read and dropped. Two round trips: PQtransactionStatus is
    // checked
    // between the statement and ROLLBACK.
    direct,
};

struct execute_request {
    std::string_view sql;
    std::size_t max_rows = 1000;
    statement_limits limits;
    statement_mode mode = statement_mode::cursor;
    // Optional: lets a cancel route or a disconnect stop the statement (see cancel.hpp).
    std::shared_ptr<pg_query_control> control;
};

enum class export_strategy {
    // FETCH in batches of about `batch_bytes`, the next batch requested before the current one is encoded so
    // that the server works while we write. Each FETCH is its own statement for statement_timeout.
    batched_fetch,
    // One FETCH of everything in libpq's single-row mode. The server collects a FETCH's rows before sending
    // them, so this one holds the whole result server-side first: kept for comparison only.
    single_row,
    // The statement itself (no cursor) in single-row mode: the server streams rows as it produces them, with
    // no tuplestore in between; the columns are described first (its own round trip) so new types are loaded
    // before any row arrives. A sink that stops (cap, reader gone) gets the statement cancelled; a few rows
    // past the cap may leave the database meanwhile. statement_timeout covers the whole export, slow readers
    // included. Transaction check: PQtransactionStatus between the statement and ROLLBACK (two round trips).
    streaming,
};

struct export_request {
    std::string_view sql;
    // The server's cap: at most max_rows + 1 rows are fetched; the sink's own row cap marks the truncation.
    std::size_t max_rows = 10'000'000;
    statement_limits limits;
    std::shared_ptr<pg_query_control> control;
    export_strategy strategy = export_strategy::batched_fetch;
    std::size_t batch_bytes = 4 * 1024 * 1024;
    // Awaited after each batch (every 10,000 rows in single-row mode); false stops the export (see
    // driver.hpp).
    drivers::export_drain drain;
};

struct explain_request {
    std::string_view sql;
    bool analyze = false;
    statement_limits limits;
    std::shared_ptr<pg_query_control> control;
};

class query_executor {
public:
    // `types` is the cache for the database the leased connections belong to. `cancels` (optional) sends a
    // cancel for a statement abandoned mid-flight before its connection is closed.
    explicit query_executor(type_catalog& types, cancel_service* cancels = nullptr);

    // One statement, its rows into `sink` (on_columns, on_row..., on_end). A statement that fails before its
    // columns are known returns the error without calling the sink; one that fails later also ends the sink
    // with the failure. A connection whose session the statement could have changed is released as not
    // reusable.
    boost::asio::awaitable<result<execution_summary>> execute(pool_lease& lease,
                                                              const execute_request& request, row_sink& sink);

    // The whole result in constant memory, for CSV / NDJSON exports.
    boost::asio::awaitable<result<execution_summary>> export_rows(pool_lease& lease,
                                                                  const export_request& request,
                                                                  row_sink& sink);

    // EXPLAIN (FORMAT JSON[, ANALYZE]) of the statement in the same read-only, rolled-back transaction; the
    // plan as JSON text.
    boost::asio::awaitable<result<std::string>> explain(pool_lease& lease, const explain_request& request);

    // The pool's reset hook: DISCARD ALL (prepared statements, session settings, temp state, advisory locks),
    // then pg_advisory_unlock_all() as the spec asks, in one round trip.
    static boost::asio::awaitable<result<void>> reset_session(pg_connection& connection);

    // The text put before the user's SQL in cursor mode; positions inside it are never reported.
    static constexpr std::string_view cursor_prefix = "DECLARE metahog_cursor NO SCROLL CURSOR FOR ";

private:
    boost::asio::awaitable<result<execution_summary>> export_streaming(pool_lease& lease,
                                                                       const export_request& request,
                                                                       row_sink& sink);
    boost::asio::awaitable<result<execution_summary>> execute_direct(
        pool_lease& lease, std::string sql, std::size_t position_offset, std::size_t max_rows,
        const statement_limits& limits, std::shared_ptr<pg_query_control> control, row_sink& sink);
    // Loads types on an idle connection (outside any transaction), for the next results.
    boost::asio::awaitable<void> load_types(pg_connection& connection, type_lookup missing);

    type_catalog& types_;
    cancel_service* cancels_;
};

}  // namespace metahog::drivers::postgres
