// Wiring pools, type catalogs, the executor, schema discovery and cancel into the driver's query methods.
#include "drivers/postgres/query_engine.hpp"

#include "drivers/postgres/query_executor.hpp"
#include "drivers/postgres/schema_catalog.hpp"

namespace metahog::drivers::postgres {

namespace asio = boost::asio;

namespace {

// A control of another engine (or none) cannot be attached here.
result<std::shared_ptr<pg_query_control>> postgres_control(const std::shared_ptr<query_control>& control) {
    if (!control) {
        return std::shared_ptr<pg_query_control>();
    }
    auto ours = std::dynamic_pointer_cast<pg_query_control>(control);
    if (!ours) {
        return make_error(error_code::internal, "a query control of another engine was given to Postgres");
    }
    return ours;
}

}  // namespace

query_engine::query_engine(pool_registry& pools, connect_options side_connect)
    : pools_(pools), side_connect_(std::move(side_connect)) {}

pool_options query_engine::with_session_reset(pool_options options) {
    if (!options.reset) {
        options.reset = [](pg_connection& connection) { return query_executor::reset_session(connection); };
    }
    return options;
}

std::shared_ptr<query_control> query_engine::make_query_control() {
    return std::make_shared<pg_query_control>();
}

std::shared_ptr<type_catalog> query_engine::types_for(std::string_view source_id,
                                                      const connection_config& config) {
    const std::string fingerprint = config_fingerprint(config);
    std::lock_guard lock(mutex_);
    auto found = catalogs_.find(source_id);
    if (found == catalogs_.end() || found->second.fingerprint != fingerprint) {
        catalog_entry entry{fingerprint, std::make_shared<type_catalog>()};
        found = catalogs_.insert_or_assign(std::string(source_id), std::move(entry)).first;
    }
    return found->second.types;
}

asio::awaitable<result<pool_lease>> query_engine::lease_for(std::string_view source_id,
                                                            const connection_config& config) {
    auto pool = pools_.pool_for(std::string(source_id), config);
    co_return co_await pool->acquire();
}

asio::awaitable<result<query_engine::statement_run>> query_engine::start_run(
    std::string_view source_id, const connection_config& config, const std::shared_ptr<query_control>& control) {
    auto ours = postgres_control(control);
    if (!ours) {
        co_return std::move(ours).error();
    }
    auto lease = co_await lease_for(source_id, config);
    if (!lease) {
        co_return std::move(lease).error();
    }
    co_return statement_run{std::move(*lease), types_for(source_id, config), std::move(*ours)};
}

asio::awaitable<result<execution_summary>> query_engine::execute(std::string_view source_id,
                                                                 const connection_config& config,
                                                                 const execute_options& options,
                                                                 row_sink& sink) {
    auto run = co_await start_run(source_id, config, options.control);
    if (!run) {
        co_return std::move(run).error();
    }
    execute_request request;
    request.sql = options.sql;
    request.max_rows = options.max_rows;
    request.limits = options.limits;
    request.mode = options.shape == statement_shape::query ? statement_mode::cursor : statement_mode::direct;
    request.control = std::move(run->control);
    query_executor executor(*run->types, &cancels_);
    co_return co_await executor.execute(run->lease, request, sink);
}

asio::awaitable<result<execution_summary>> query_engine::export_rows(std::string_view source_id,
                                                                     const connection_config& config,
                                                                     const export_options& options,
                                                                     row_sink& sink) {
    auto run = co_await start_run(source_id, config, options.control);
    if (!run) {
        co_return std::move(run).error();
    }
    export_request request;
    request.sql = options.sql;
    request.max_rows = options.max_rows;
    request.limits = options.limits;
    request.control = std::move(run->control);
    request.drain = options.drain;
    query_executor executor(*run->types, &cancels_);
    co_return co_await executor.export_rows(run->lease, request, sink);
}

asio::awaitable<result<std::string>> query_engine::explain(std::string_view source_id,
                                                           const connection_config& config,
                                                           const explain_options& options) {
    auto run = co_await start_run(source_id, config, options.control);
    if (!run) {
        co_return std::move(run).error();
    }
    explain_request request;
    request.sql = options.sql;
    request.analyze = options.analyze;
    request.limits = options.limits;
    request.control = std::move(run->control);
    query_executor executor(*run->types, &cancels_);
    co_return co_await executor.explain(run->lease, request);
}

asio::awaitable<result<schema_description>> query_engine::describe_schema(std::string_view source_id,
                                                                          const connection_config& config) {
    types_for(source_id, config)->invalidate();
    auto lease = co_await lease_for(source_id, config);
    if (!lease) {
        co_return std::move(lease).error();
    }
    co_return co_await postgres::describe_schema(**lease, config.schema);
}

asio::awaitable<cancel_outcome> query_engine::cancel(const connection_config& config,
                                                     std::shared_ptr<query_control> control) {
    auto ours = std::dynamic_pointer_cast<pg_query_control>(control);
    if (!ours) {
        co_return cancel_outcome{cancel_outcome::kind::not_running, false, "no such query"};
    }
    side_connection_opener open_side = [this, config]() {
        return pg_connection::open(config, side_connect_);
    };
    co_return co_await cancels_.cancel(std::move(ours), std::move(open_side));
}

}  // namespace metahog::drivers::postgres
