// The Postgres driver: job_inputs validation through connection_config, the connection check through
// pg_connection.
#include "drivers/postgres/postgres_driver.hpp"

#include "drivers/postgres/connection_config.hpp"
#include "drivers/postgres/role_gate.hpp"

namespace metahog::drivers::postgres {
namespace {

// Every connection a pool opens is gated before its first query: a role made superuser (or granted file
// access) after its source was checked is refused from its next new connection on.
pool_options with_role_gate(pool_options options) {
    if (!options.on_open) {
        options.on_open = [](pg_connection& connection) { return gate_role(connection); };
    }
    return options;
}

}  // namespace

postgres_driver::postgres_driver(pool_options pools)
    : check_address_(pools.connect.check_address),
      pools_(query_engine::with_session_reset(with_role_gate(pools))),
      queries_(pools_, pools.connect) {}

result<source_config> postgres_driver::parse_config(const boost::json::object& job_inputs) const {
    auto config = parse_job_inputs(job_inputs);
    if (!config) {
        return std::move(config).error();
    }
    return to_source_config(*config);
}

result<source_config> postgres_driver::merge_config(const source_config& current,
                                                    const boost::json::object& patch) const {
    auto stored = from_source_config(current);
    if (!stored) {
        return std::move(stored).error();
    }
    auto merged = merge_job_inputs(*stored, patch);
    if (!merged) {
        return std::move(merged).error();
    }
    return to_source_config(*merged);
}

boost::json::object postgres_driver::public_settings(const source_config& config) const {
    auto stored = from_source_config(config);
    if (!stored) {
        // A stored config that no longer validates still shows what it has, minus anything secret.
        boost::json::object shown = config.settings;
        shown.erase("password");
        return shown;
    }
    return postgres::public_settings(*stored);
}

boost::asio::awaitable<result<connection_check>> postgres_driver::check_connection(
    const source_config& config, std::chrono::milliseconds connect_timeout) {
    auto stored = from_source_config(config);
    if (!stored) {
        co_return std::move(stored).error();
    }
    connect_options options;
    options.connect_timeout = connect_timeout;
    options.check_address = check_address_;
    auto connection = co_await pg_connection::open(*stored, options);
    if (!connection) {
        co_return std::move(connection).error();
    }
    auto verdict = co_await inspect_role(*connection, role_inspection::full);
    if (!verdict) {
        co_return std::move(verdict).error();
    }
    co_return connection_check{std::move(verdict->warnings)};
}

}  // namespace metahog::drivers::postgres
