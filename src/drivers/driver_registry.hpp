// Which engines this server speaks, by source_type. Built once at start-up, read-only afterwards, so lookups
// from many I/O threads need no lock.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/settings.hpp"
#include "drivers/driver.hpp"

namespace metahog::drivers {

class driver_registry {
public:
    driver_registry() = default;
    driver_registry(driver_registry&&) noexcept = default;
    driver_registry& operator=(driver_registry&&) noexcept = default;
    driver_registry(const driver_registry&) = delete;
    driver_registry& operator=(const driver_registry&) = delete;

    // Refuses (conflict) a second driver for the same source_type.
    result<void> add(std::unique_ptr<driver> engine);

    // Exact, case-sensitive match of the API's source_type ("Postgres"); nullptr when unknown.
    driver* find(std::string_view source_type) const noexcept;

    // The registered source types, in registration order.
    std::vector<std::string> list() const;

private:
    std::vector<std::unique_ptr<driver>> drivers_;
};

// Every engine this build supports (Postgres), sized from the server's query settings (pool size per source,
// connect timeout), with the network guard applied to every address they connect to.
driver_registry make_default_registry(const query_settings& settings = {}, address_check check_address = {});

}  // namespace metahog::drivers
