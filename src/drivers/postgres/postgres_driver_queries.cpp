// postgres_driver's query methods: the stored config decoded, then query_engine does the work.
#include "drivers/postgres/connection_config.hpp"
#include "drivers/postgres/postgres_driver.hpp"

namespace metahog::drivers::postgres {

namespace asio = boost::asio;

std::shared_ptr<query_control> postgres_driver::make_query_control() {
    return queries_.make_query_control();
}

asio::awaitable<result<execution_summary>> postgres_driver::execute(std::string_view source_id,
                                                                    const source_config& config,
                                                                    const execute_options& options,
                                                                    row_sink& sink) {
    auto stored = from_source_config(config);
    if (!stored) {
        co_return std::move(stored).error();
    }
    co_return co_await queries_.execute(source_id, *stored, options, sink);
}

asio::awaitable<result<execution_summary>> postgres_driver::export_rows(std::string_view source_id,
                                                                        const source_config& config,
                                                                        const export_options& options,
                                                                        row_sink& sink) {
    auto stored = from_source_config(config);
    if (!stored) {
        co_return std::move(stored).error();
    }
    co_return co_await queries_.export_rows(source_id, *stored, options, sink);
}

asio::awaitable<result<std::string>> postgres_driver::explain(std::string_view source_id,
                                                              const source_config& config,
                                                              const explain_options& options) {
    auto stored = from_source_config(config);
    if (!stored) {
        co_return std::move(stored).error();
    }
    co_return co_await queries_.explain(source_id, *stored, options);
}

asio::awaitable<result<schema_description>> postgres_driver::describe_schema(std::string_view source_id,
                                                                             const source_config& config) {
    auto stored = from_source_config(config);
    if (!stored) {
        co_return std::move(stored).error();
    }
    co_return co_await queries_.describe_schema(source_id, *stored);
}

asio::awaitable<cancel_outcome> postgres_driver::cancel(std::string_view, const source_config& config,
                                                        std::shared_ptr<query_control> control) {
    auto stored = from_source_config(config);
    if (!stored) {
        co_return cancel_outcome{cancel_outcome::kind::unconfirmed, false, stored.error().message};
    }
    co_return co_await queries_.cancel(*stored, std::move(control));
}

}  // namespace metahog::drivers::postgres
