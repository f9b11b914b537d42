// External data sources: validate, check against the database, store with sealed secrets, list, change and
// delete — always within one team. The API and the workbench both come through here.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "core/result.hpp"
#include "drivers/driver_registry.hpp"
#include "security/master_key.hpp"
#include "store/metadata_store.hpp"

namespace metahog::services {

// A source as callers may see it: the stored record and its settings without secrets.
struct source_view {
    store::source_record record;
    boost::json::object public_settings;
    bool has_password = false;
    // What checking the role found when update() re-checked the connection; empty otherwise.
    std::vector<drivers::role_warning> warnings;
};

// A source just created: its id, and what checking its role found (shown once, not stored).
struct created_source {
    std::string id;
    std::vector<drivers::role_warning> warnings;
};

// How strict the role check is: refuse_privilege_warnings turns every warning (write grants, ownership, CREATE,
// risky functions) into an unsafe_database_role refusal ([sources] refuse_privilege_warnings).
struct source_policy {
    bool refuse_privilege_warnings = false;
};

// A source ready to query: its driver and its full config, secrets opened. Never leaves the process.
struct opened_source {
    store::source_record record;
    drivers::driver* engine = nullptr;
    drivers::source_config config;
};

class sources_service {
public:
    sources_service(store::metadata_store& store, const security::master_key& key,
                    const drivers::driver_registry& registry, std::chrono::milliseconds connect_timeout,
                    source_policy policy = {});

    // Validates, checks the credentials and the role against the database, stores; answers the new source's id
    // and the role's warnings.
    boost::asio::awaitable<result<created_source>> create(std::int64_t team_id, std::int64_t created_by,
                                                          const boost::json::object& body);
    // Validates and checks a config without storing anything ("Test connection"); answers the role's warnings.
    boost::asio::awaitable<result<drivers::connection_check>> check(const boost::json::object& body);
    result<std::vector<source_view>> list(std::int64_t team_id);
    result<source_view> get(std::int64_t team_id, std::string_view id);
    // Changed connection settings are checked against the database before they are saved.
    boost::asio::awaitable<result<source_view>> update(std::int64_t team_id, std::string_view id,
                                                       const boost::json::object& body);
    result<void> remove(std::int64_t team_id, std::string_view id);

    result<opened_source> open(std::int64_t team_id, std::string_view id);

private:
    result<drivers::driver*> driver_for(const boost::json::object& body) const;
    // The engine named by source_type and its validated job_inputs.
    result<std::pair<drivers::driver*, drivers::source_config>> config_from_body(const boost::json::object& body) const;
    result<source_view> view_of(store::source_record record) const;
    result<drivers::source_config> config_of(const store::source_record& record) const;
    // The driver's check, with the policy applied to its warnings.
    boost::asio::awaitable<result<drivers::connection_check>> check_config(drivers::driver& engine,
                                                                          const drivers::source_config& config);

    store::metadata_store& store_;
    const security::master_key& key_;
    const drivers::driver_registry& registry_;
    std::chrono::milliseconds connect_timeout_;
    source_policy policy_;
};

// A prefix names the source's tables in SQL (`pagila.film`), so it must be a plain lower-case identifier.
result<std::string> validate_prefix(const boost::json::value* prefix);

}  // namespace metahog::services
