// The registry of engines and the default set this build ships with.
#include "drivers/driver_registry.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "drivers/postgres/postgres_driver.hpp"

namespace metahog::drivers {

result<void> driver_registry::add(std::unique_ptr<driver> engine) {
    if (!engine) {
        return make_error(error_code::internal, "cannot register an empty driver");
    }
    if (find(engine->source_type()) != nullptr) {
        return make_error(error_code::conflict,
                          "a driver for source_type " + std::string(engine->source_type()) + " is already registered");
    }
    drivers_.push_back(std::move(engine));
    return {};
}

driver* driver_registry::find(std::string_view source_type) const noexcept {
    const auto found = std::find_if(drivers_.begin(), drivers_.end(),
                                    [&](const auto& engine) { return engine->source_type() == source_type; });
    return found == drivers_.end() ? nullptr : found->get();
}

std::vector<std::string> driver_registry::list() const {
    std::vector<std::string> types;
    types.reserve(drivers_.size());
    for (const auto& engine : drivers_) {
        types.emplace_back(engine->source_type());
    }
    return types;
}

driver_registry make_default_registry(const query_settings& settings, address_check check_address) {
    postgres::pool_options pools;
    pools.max_size = std::max<std::size_t>(1, settings.pool_size_per_source);
    pools.connect.connect_timeout = settings.connect_timeout;
    pools.connect.check_address = std::move(check_address);
    driver_registry registry;
    auto added = registry.add(std::make_unique<postgres::postgres_driver>(std::move(pools)));
    if (!added) {
        throw std::logic_error("the default drivers collide: " + added.error().message);
    }
    return registry;
}

}  // namespace metahog::drivers
