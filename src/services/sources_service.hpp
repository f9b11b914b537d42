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
#include "security/secret_keys.hpp"
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

// Who asks for a source. Every lookup of an existing source goes through the caller's access (see
// sources_service::visible_source): a restricted source the caller was not granted is absent, exactly like
// another team's, so no route can show it by forgetting a check.
struct source_caller {
    std::int64_t team_id = 0;
    std::int64_t user_id = 0;
};

// A source ready to query: its driver and its full config, secrets opened. Never leaves the process.
struct opened_source {
    store::source_record record;
    drivers::driver* engine = nullptr;
    drivers::source_config config;
};

class sources_service {
public:
    sources_service(store::metadata_store& store, security::secret_keys& keys,
                    const drivers::driver_registry& registry, std::chrono::milliseconds connect_timeout,
                    source_policy policy = {});

    // Validates, checks the credentials and the role against the database, stores; answers the new source's id
    // and the role's warnings.
    boost::asio::awaitable<result<created_source>> create(std::int64_t team_id, std::int64_t created_by,
                                                          const boost::json::object& body);
    // Validates and checks a config without storing anything ("Test connection"); answers the role's warnings.
    boost::asio::awaitable<result<drivers::connection_check>> check(const boost::json::object& body);
    // The sources the caller may see, oldest first.
    result<std::vector<source_view>> list(const source_caller& caller);
    result<source_view> get(const source_caller& caller, std::string_view id);
    // Changed connection settings are checked against the database before they are saved.
    boost::asio::awaitable<result<source_view>> update(const source_caller& caller, std::string_view id,
                                                       const boost::json::object& body);
    result<void> remove(const source_caller& caller, std::string_view id);

    result<opened_source> open(const source_caller& caller, std::string_view id);

    // Who besides the admins may use the source. Admins only (forbidden otherwise).
    result<store::source_access> access(const source_caller& caller, std::string_view id);
    // Replaces it from {"restricted": bool, "user_ids": [member ids]}; answers the stored access.
    result<store::source_access> set_access(const source_caller& caller, std::string_view id,
                                            const boost::json::object& body);

private:
    // What the caller may see: admins every source of the team, others the open ones and those granted to
    // them. not_found when the caller is not (or no longer) a member of the team.
    struct access_rule {
        store::team_role role = store::team_role::viewer;
        std::vector<std::string> granted;
        bool allows(const store::source_record& record) const;
    };
    result<access_rule> access_rule_of(const source_caller& caller);
    // The one lookup of an existing source: absent, another team's, deleted and not visible to the caller
    // are the same not_found.
    result<store::source_record> visible_source(const source_caller& caller, std::string_view id);

    result<drivers::driver*> driver_for(const boost::json::object& body) const;
    // The engine named by source_type and its validated job_inputs.
    result<std::pair<drivers::driver*, drivers::source_config>> config_from_body(const boost::json::object& body) const;
    result<source_view> view_of(store::source_record record) const;
    result<drivers::source_config> config_of(const store::source_record& record) const;
    // After a write: re-seals when a rotation retired the sealing key between sealing and storing.
    result<void> reseal_if_key_retired(std::string_view sealed);
    // The driver's check, with the policy applied to its warnings.
    boost::asio::awaitable<result<drivers::connection_check>> check_config(drivers::driver& engine,
                                                                          const drivers::source_config& config);

    store::metadata_store& store_;
    security::secret_keys& keys_;
    const drivers::driver_registry& registry_;
    std::chrono::milliseconds connect_timeout_;
    source_policy policy_;
};

// A prefix names the source's tables in SQL (`pagila.film`), so it must be a plain lower-case identifier.
result<std::string> validate_prefix(const boost::json::value* prefix);

}  // namespace metahog::services
