// The Postgres engine behind the driver interface: config validation, the connection check, and the pools its
// queries run on.
#pragma once

#include "drivers/driver.hpp"
#include "drivers/postgres/connection_pool.hpp"
#include "drivers/postgres/pg_connection.hpp"
#include "drivers/postgres/query_engine.hpp"

namespace metahog::drivers::postgres {

class postgres_driver final : public driver {
public:
    // `pools.connect.check_address` is the network guard applied to every resolved address (empty: all
    // allowed); check_connection uses it too.
    explicit postgres_driver(pool_options pools = {});

    std::string_view source_type() const noexcept override { return "Postgres"; }
    result<source_config> parse_config(const boost::json::object& job_inputs) const override;
    result<source_config> merge_config(const source_config& current,
                                       const boost::json::object& patch) const override;
    boost::json::object public_settings(const source_config& config) const override;
    boost::asio::awaitable<result<connection_check>> check_connection(
        const source_config& config, std::chrono::milliseconds connect_timeout) override;

    // One pool per source id; the query engine checks connections out of it.
    pool_registry& pools() noexcept { return pools_; }
    void maintain() override { pools_.prune_idle(); }

    // ---- Query engine: defined in postgres_driver_queries.cpp, implemented by query_engine ------------------
    std::shared_ptr<query_control> make_query_control() override;
    boost::asio::awaitable<result<execution_summary>> execute(std::string_view source_id,
                                                              const source_config& config,
                                                              const execute_options& options,
                                                              row_sink& sink) override;
    boost::asio::awaitable<result<execution_summary>> export_rows(std::string_view source_id,
                                                                  const source_config& config,
                                                                  const export_options& options,
                                                                  row_sink& sink) override;
    boost::asio::awaitable<result<std::string>> explain(std::string_view source_id, const source_config& config,
                                                        const explain_options& options) override;
    boost::asio::awaitable<result<schema_description>> describe_schema(std::string_view source_id,
                                                                       const source_config& config) override;
    boost::asio::awaitable<cancel_outcome> cancel(std::string_view source_id, const source_config& config,
                                                  std::shared_ptr<query_control> control) override;
    query_engine& queries() noexcept { return queries_; }
    // ---- end of the query engine ------------------------------------------------------------------------------

private:
    address_check check_address_;
    pool_registry pools_;
    query_engine queries_;  // after pools_: it uses them
};

}  // namespace metahog::drivers::postgres
