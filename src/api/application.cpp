// Wiring of one MetaHog process.
#include "api/application.hpp"

#include <unistd.h>

#include "api/routes.hpp"
#include "services/key_rotation.hpp"
#include "store/sqlite_store.hpp"

namespace metahog::api {

application::application(settings config_in, std::unique_ptr<store::metadata_store> store_in,
                         std::shared_ptr<security::secret_keys> keys_in, security::network_policy network_in,
                         services::rate_limits limits_in)
    : config(std::move(config_in)),
      store(std::move(store_in)),
      keys(std::move(keys_in)),
      key(security::master_key::from_bytes(keys->all_keys().primary().bytes())),
      network(std::make_shared<security::network_policy>(std::move(network_in))),
      limits(std::move(limits_in)),
      registry(drivers::make_default_registry(
          config.query, [policy = network](const boost::asio::ip::address& address, std::uint16_t port) {
              return policy->check(address, port);
          })),
      audit(*store),
      identity(*store, key, config.server.session_lifetime),
      sources(*store, *keys, registry, config.query.connect_timeout,
              services::source_policy{config.sources.refuse_privilege_warnings}),
      queries(sources, limits, audit, config.query, sql::query_policy::defaults()),
      teams(*store),
      files(find_web_root(config)) {}

std::filesystem::path find_web_root(const settings& config) {
    if (!config.server.web_root.empty()) {
        return config.server.web_root;
    }
    std::error_code ec;
    // The binary lives in <repo>/build; the bundle in <repo>/web/dist.
    const auto executable = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        for (auto dir = executable.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
            if (std::filesystem::is_regular_file(dir / "web" / "dist" / "index.html", ec)) {
                return dir / "web" / "dist";
            }
        }
    }
    return "web/dist";
}

result<std::unique_ptr<application>> open_data_dir(settings config) {
    std::unique_ptr<store::metadata_store> store;
    const auto open_store = [&]() -> result<void> {
        if (store) {
            return {};
        }
        auto opened = store::open_sqlite_store(config.data_dir / "metahog.db");
        if (!opened) {
            return std::move(opened).error();
        }
        store = std::move(*opened);
        return {};
    };
    // Only a missing key file needs the store first: a new key must not be made while secrets exist.
    auto keys = security::secret_keys::load(config.data_dir, [&]() -> result<bool> {
        if (auto opened = open_store(); !opened) {
            return std::move(opened).error();
        }
        auto rows = store->list_all_sources();
        if (!rows) {
            return std::move(rows).error();
        }
        return !rows->empty();
    });
    if (!keys) {
        return std::move(keys).error();
    }
    auto network = security::network_policy::make(config.network.allow, config.network.deny);
    if (!network) {
        return std::move(network).error();
    }
    auto limits = services::rate_limits::make(config.limits);
    if (!limits) {
        return std::move(limits).error();
    }
    if (auto opened = open_store(); !opened) {
        return std::move(opened).error();
    }
    // A wrong key stops start-up here, with the source and key id, instead of failing every query later.
    if (auto checked = services::check_sealed_secrets(*store, (*keys)->all_keys(), (*keys)->location());
        !checked) {
        return std::move(checked).error();
    }
    return std::make_unique<application>(std::move(config), std::move(store), std::move(*keys),
                                         std::move(*network), std::move(*limits));
}

result<std::unique_ptr<application>> make_application(settings config) {
    auto app = open_data_dir(std::move(config));
    if (!app) {
        return app;
    }
    add_operations_routes(**app);
    add_identity_routes(**app);
    add_source_routes(**app);
    add_query_routes(**app);
    add_audit_routes(**app);
    add_team_routes(**app);
    return app;
}

}  // namespace metahog::api
