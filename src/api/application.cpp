// Wiring of one MetaHog process.
#include "api/application.hpp"

#include <unistd.h>

#include "api/routes.hpp"
#include "store/sqlite_store.hpp"

namespace metahog::api {

application::application(settings config_in, std::unique_ptr<store::metadata_store> store_in,
                         security::master_key key_in, security::network_policy network_in,
                         services::rate_limits limits_in)
    : config(std::move(config_in)),
      store(std::move(store_in)),
      key(std::move(key_in)),
      network(std::make_shared<security::network_policy>(std::move(network_in))),
      limits(std::move(limits_in)),
      registry(drivers::make_default_registry(
          config.query, [policy = network](const boost::asio::ip::address& address, std::uint16_t port) {
              return policy->check(address, port);
          })),
      identity(*store, key, config.server.session_lifetime),
      sources(*store, key, registry, config.query.connect_timeout,
              services::source_policy{config.sources.refuse_privilege_warnings}),
      queries(sources, limits, config.query, sql::query_policy::defaults()),
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
    auto key = security::load_master_key(config.data_dir);
    if (!key) {
        return std::move(key).error();
    }
    auto network = security::network_policy::make(config.network.allow, config.network.deny);
    if (!network) {
        return std::move(network).error();
    }
    auto limits = services::rate_limits::make(config.limits);
    if (!limits) {
        return std::move(limits).error();
    }
    auto store = store::open_sqlite_store(config.data_dir / "metahog.db");
    if (!store) {
        return std::move(store).error();
    }
    return std::make_unique<application>(std::move(config), std::move(*store), std::move(*key),
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
    return app;
}

}  // namespace metahog::api
