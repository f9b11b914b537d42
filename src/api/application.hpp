// Everything one running MetaHog owns, wired once at start-up: settings, the metadata store, the master key,
// the engines, the core services and the HTTP routes. `metahog serve` and the tests build it the same way.
#pragma once

#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/result.hpp"
#include "core/settings.hpp"
#include "drivers/driver_registry.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/static_files.hpp"
#include "security/master_key.hpp"
#include "security/network_policy.hpp"
#include "security/secret_keys.hpp"
#include "services/audit_log.hpp"
#include "services/identity_service.hpp"
#include "services/query_service.hpp"
#include "services/rate_limits.hpp"
#include "services/sources_service.hpp"
#include "services/team_service.hpp"
#include "store/metadata_store.hpp"

namespace metahog::api {

// A team-scoped route as registered by add_team_route, with the least role it admits, so that tests can walk
// every route there is (tests/integration/api_roles_test.cpp) and a new one cannot go untested.
struct team_route_info {
    http::beast_http::verb method;
    std::string suffix;
    store::team_role minimum;
};

struct application {
    application(settings config_in, std::unique_ptr<store::metadata_store> store_in,
                std::shared_ptr<security::secret_keys> keys_in,
                security::network_policy network_in, services::rate_limits limits_in);

    settings config;
    std::unique_ptr<store::metadata_store> store;
    // Seal and open stored secrets; follows the key file through `metahog rotate-key`.
    std::shared_ptr<security::secret_keys> keys;
    // The primary key at start-up, for keyed hashes (CSRF tokens) that must not change while the process runs.
    security::master_key key;
    // Shared with the drivers, which check every address they connect to against it.
    std::shared_ptr<security::network_policy> network;
    services::rate_limits limits;
    drivers::driver_registry registry;
    // Declared before the services that record into it.
    services::audit_log audit;
    services::identity_service identity;
    services::sources_service sources;
    services::query_service queries;
    services::team_service teams;
    http::metrics metrics;
    http::router routes;
    std::vector<team_route_info> team_routes;
    http::static_files files;
    // CPU-heavy or blocking work (argon2id password hashing takes ~0.3 s) runs here, never on an I/O thread.
    boost::asio::thread_pool blocking{2};
};

// Runs `work` on the application's blocking pool and resumes the caller on its own executor.
template <class Work>
boost::asio::awaitable<std::invoke_result_t<Work>> run_blocking(application& app, Work work) {
    using value_type = std::invoke_result_t<Work>;
    // The optional keeps co_spawn's completion signature default-constructible whatever value_type is.
    auto done = co_await boost::asio::co_spawn(
        app.blocking.get_executor(),
        [work = std::move(work)]() mutable -> boost::asio::awaitable<std::optional<value_type>> {
            co_return std::optional<value_type>(work());
        },
        boost::asio::use_awaitable);
    co_return std::move(*done);
}

// Opens the data directory (store, master key) and registers every route.
result<std::unique_ptr<application>> make_application(settings config);

// Opens just the store and the key, for commands that do not serve (bootstrap).
result<std::unique_ptr<application>> open_data_dir(settings config);

// Where the workbench bundle is: the setting, else web/dist beside the binary's source tree, else none.
std::filesystem::path find_web_root(const settings& config);

}  // namespace metahog::api
