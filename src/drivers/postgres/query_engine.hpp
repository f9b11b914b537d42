// The Postgres query engine behind the driver interface's query methods: checks a connection out of the
// source's pool, keeps one type catalog per source (and config), runs statements through query_executor,
// reads the schema, and cancels with confirmation. postgres_driver owns one and forwards to it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/rows.hpp"
#include "drivers/driver.hpp"
#include "drivers/postgres/cancel.hpp"
#include "drivers/postgres/connection_config.hpp"
#include "drivers/postgres/connection_pool.hpp"
#include "drivers/postgres/type_catalog.hpp"

namespace metahog::drivers::postgres {

class query_engine {
public:
    // `side_connect` is used to open the separate connection that confirms or terminates an ignored cancel.
    query_engine(pool_registry& pools, connect_options side_connect);
    query_engine(const query_engine&) = delete;
    query_engine& operator=(const query_engine&) = delete;

    // Pool options with the session reset (DISCARD ALL, pg_advisory_unlock_all) as reset hook, unless one is
    // set.
    static pool_options with_session_reset(pool_options options);

    std::shared_ptr<query_control> make_query_control();

    boost::asio::awaitable<result<execution_summary>> execute(std::string_view source_id,
                                                              const connection_config& config,
                                                              const execute_options& options, row_sink& sink);
    boost::asio::awaitable<result<execution_summary>> export_rows(std::string_view source_id,
                                                                  const connection_config& config,
                                                                  const export_options& options,
                                                                  row_sink& sink);
    boost::asio::awaitable<result<std::string>> explain(std::string_view source_id,
                                                        const connection_config& config,
                                                        const explain_options& options);
    // Also forgets the source's cached types: a schema refresh is when types may have changed.
    boost::asio::awaitable<result<schema_description>> describe_schema(std::string_view source_id,
                                                                       const connection_config& config);
    boost::asio::awaitable<cancel_outcome> cancel(const connection_config& config,
                                                  std::shared_ptr<query_control> control);

    // The source's type cache (created on first use; a changed config gets a fresh one).
    std::shared_ptr<type_catalog> types_for(std::string_view source_id, const connection_config& config);

private:
    boost::asio::awaitable<result<pool_lease>> lease_for(std::string_view source_id,
                                                         const connection_config& config);

    // What every statement run needs: a pooled connection of the source, the source's types, and the
    // caller's control as this engine's kind.
    struct statement_run {
        pool_lease lease;
        std::shared_ptr<type_catalog> types;
        std::shared_ptr<pg_query_control> control;
    };
    boost::asio::awaitable<result<statement_run>> start_run(std::string_view source_id,
                                                            const connection_config& config,
                                                            const std::shared_ptr<query_control>& control);

    struct catalog_entry {
        std::string fingerprint;
        std::shared_ptr<type_catalog> types;
    };

    pool_registry& pools_;
    connect_options side_connect_;
    cancel_service cancels_;
    std::mutex mutex_;
    std::map<std::string, catalog_entry, std::less<>> catalogs_;
};

}  // namespace metahog::drivers::postgres
