// The one interface every database engine implements (Postgres first): validating a source's config, showing
// it without secrets, and checking that it connects. The query engine adds its query methods here.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "core/rows.hpp"

namespace metahog::drivers {

// ---- Query engine vocabulary (maintained with the query engine, src/drivers/postgres/query_*) ----------------

// Set inside the read-only transaction each statement runs in, so they end with it.
struct query_limits {
    std::chrono::milliseconds statement_timeout{30000};
    std::chrono::milliseconds lock_timeout{10000};
    // Also bounds how long an export may wait on a slow reader between batches.
    std::chrono::milliseconds idle_in_transaction_timeout{60000};
};

// What the SQL layer's classification says about the statement, which decides how it can be run.
enum class statement_shape {
    query,    // SELECT, VALUES, TABLE, WITH: run through a cursor so that only max_rows + 1 rows leave the database
    utility,  // EXPLAIN of a query: run as it is (its output is a few rows), rows past the cap dropped
};

// Shared by the request that runs a statement and whoever may cancel it (the cancel route by client_query_id, a
// client that disconnected). Made by the driver (make_query_control), passed in the options, given to cancel().
class query_control {
public:
    virtual ~query_control() = default;
    virtual bool cancel_requested() const = 0;

protected:
    query_control() = default;
    query_control(const query_control&) = default;
    query_control& operator=(const query_control&) = default;
};

struct execute_options {
    std::string_view sql;  // one statement, already classified and rewritten by the SQL layer
    std::size_t max_rows = 1000;  // the driver fetches max_rows + 1; the sink's row cap marks `truncated`
    query_limits limits;
    statement_shape shape = statement_shape::query;
    std::shared_ptr<query_control> control;  // optional
};

// Awaited by exports between batches, with no row in flight: the place for backpressure. A sink's chunk
// consumer is synchronous, so it queues chunks; drain() awaits until the queue is written to the client and
// returns false when the client is gone (the export then stops). Memory stays bounded by about one batch.
using export_drain = std::function<boost::asio::awaitable<bool>()>;

struct export_options {
    std::string_view sql;
    std::size_t max_rows = 10'000'000;  // the server's export cap: max_rows + 1 are fetched at most
    query_limits limits;
    std::shared_ptr<query_control> control;
    export_drain drain;  // optional
};

struct explain_options {
    std::string_view sql;
    bool analyze = false;  // runs the statement, in the same read-only transaction, rolled back
    query_limits limits;
    std::shared_ptr<query_control> control;
};

struct execution_summary {
    std::size_t rows_fetched = 0;   // rows that left the database
    bool source_exhausted = false;  // every row of the statement was read
    bool stopped_by_sink = false;   // the sink asked to stop (a cap, a consumer gone)
    double execution_time_ms = 0;   // from sending the statement to its last row
};

struct cancel_outcome {
    enum class kind {
        not_running,  // nothing to stop: already finished (cancelled stays false)
        prevented,    // cancelled before it was sent: it will never run
        cancelled,    // the database stopped the statement
        terminated,   // the cancel was ignored; the session was terminated and is confirmed gone
        unconfirmed,  // the cancel was sent but the statement could not be shown to have stopped
    };
    kind outcome = kind::not_running;
    bool cancelled = false;  // true only when the statement is known to have stopped because of the cancel
    std::string detail;      // in words an administrator understands; never a secret
};

enum class relation_kind { table, view, materialized_view, partitioned_table, foreign_table };

struct column_description {
    int ordinal = 0;          // 1-based position in the table
    std::string name;
    std::string type;         // the database's own name, with modifiers ("character varying(45)")
    bool nullable = true;
    std::optional<std::string> default_value;  // the default's SQL text
    std::string comment;
};

struct foreign_key_description {
    std::string name;
    std::vector<std::string> columns;
    std::string referenced_schema;
    std::string referenced_table;
    std::vector<std::string> referenced_columns;
};

struct table_description {
    std::string schema;
    std::string name;
    relation_kind kind = relation_kind::table;
    bool is_partition = false;
    std::optional<double> estimated_rows;  // the planner's estimate; absent when never analyzed or for views
    std::string comment;
    std::vector<column_description> columns;
    std::vector<std::string> primary_key;
    std::vector<foreign_key_description> foreign_keys;
};

struct schema_description {
    std::string default_schema;  // tables in it are named without their schema in the contract's shape
    std::vector<table_description> tables;  // ordered by schema, then name; system schemas excluded
};

// ---- end of the query engine vocabulary -------------------------------------------------------------------

// Decides whether MetaHog may connect to a resolved address and port (the network guard, security/network_policy,
// plugs in here). An error refuses it; empty allows everything.
using address_check = std::function<result<void>(const boost::asio::ip::address&, std::uint16_t port)>;

// A source's connection config as stored: `settings` are shown to users; `secrets` are sealed at rest and
// never shown, logged or echoed.
struct source_config {
    boost::json::object settings;
    boost::json::object secrets;
};

// Something the source's database role may do beyond reading, found when a source is checked. Codes are
// stable (the API returns them): write_grant, owns_objects, create_privilege, dangerous_function.
struct role_warning {
    std::string code;
    std::string message;                // in words an administrator understands: what, and how many
    std::vector<std::string> examples;  // the first few objects found, e.g. "public.orders (INSERT, UPDATE)"
};

// What a successful check found. A role that must never be used (superuser, replication, bypassing row security,
// server file or program access, signalling backends) is not a warning: the check fails with
// unsafe_database_role.
struct connection_check {
    std::vector<role_warning> warnings;
};

// Where an unsafe_database_role error sends administrators.
inline constexpr std::string_view read_only_role_recipe =
    "see \"Read-only role recipe\" in MetaHog's README for a role that can only read";

class driver {
public:
    virtual ~driver() = default;

    // The API's source_type, e.g. "Postgres".
    virtual std::string_view source_type() const noexcept = 0;

    // Validates job_inputs as a user sent them on create. Errors are invalid_input naming the field
    // ("job_inputs.port must be an integer from 1 to 65535").
    virtual result<source_config> parse_config(const boost::json::object& job_inputs) const = 0;

    // PATCH: absent fields keep their value; an absent or empty password keeps the stored one.
    virtual result<source_config> merge_config(const source_config& current,
                                               const boost::json::object& patch) const = 0;

    // What GET returns under job_inputs: never a secret.
    virtual boost::json::object public_settings(const source_config& config) const = 0;

    // Connects once and inspects the role it connected as. On failure: source_connection_failed with the
    // database's own reason, never the password; unsafe_database_role naming what makes the role unsafe. Every
    // new pooled connection is gated the same way (its attributes and memberships) before its first query.
    virtual boost::asio::awaitable<result<connection_check>> check_connection(
        const source_config& config, std::chrono::milliseconds connect_timeout) = 0;

    // ---- Query engine (maintained with src/drivers/postgres/query_*) -------------------------------------------
    // Every method runs on a pooled connection of `source_id` (one pool per source and config), inside a read-only
    // transaction that is always rolled back, and resets the session before the connection is reused.

    virtual std::shared_ptr<query_control> make_query_control() = 0;

    // One statement, its rows streamed into `sink` (on_columns, on_row..., on_end). Errors: query_failed (with
    // sqlstate, detail, hint and position in options.sql), query_timeout, query_cancelled, busy,
    // source_connection_failed. A statement that fails before its columns are known does not call the sink.
    virtual boost::asio::awaitable<result<execution_summary>> execute(std::string_view source_id,
                                                                      const source_config& config,
                                                                      const execute_options& options,
                                                                      row_sink& sink) = 0;

    // The whole result, streamed in constant memory (CSV / NDJSON exports).
    virtual boost::asio::awaitable<result<execution_summary>> export_rows(std::string_view source_id,
                                                                          const source_config& config,
                                                                          const export_options& options,
                                                                          row_sink& sink) = 0;

    // The plan as JSON text (EXPLAIN (FORMAT JSON[, ANALYZE])).
    virtual boost::asio::awaitable<result<std::string>> explain(std::string_view source_id,
                                                                const source_config& config,
                                                                const explain_options& options) = 0;

    // Tables, views and their columns and keys, in a constant number of catalog queries. Not cached here.
    virtual boost::asio::awaitable<result<schema_description>> describe_schema(std::string_view source_id,
                                                                               const source_config& config) = 0;

    // Stops the statement `control` belongs to and confirms it (see cancel_outcome). Safe to call at any time,
    // from any thread, any number of times.
    virtual boost::asio::awaitable<cancel_outcome> cancel(std::string_view source_id, const source_config& config,
                                                          std::shared_ptr<query_control> control) = 0;
    // ---- end of the query engine methods ----------------------------------------------------------------------

    // Periodic housekeeping the server calls every few seconds: closing connections idle past their timeout.
    virtual void maintain() {}

protected:
    driver() = default;
    driver(const driver&) = default;
    driver& operator=(const driver&) = default;
};

}  // namespace metahog::drivers
