// Source lifecycle. Secrets are sealed with the source id as associated data, so a sealed blob copied onto
// another row does not open.
#include "services/sources_service.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "security/network_policy.hpp"
#include "security/seal.hpp"
#include "services/key_rotation.hpp"
#include "security/uuid.hpp"

namespace metahog::services {
namespace {

namespace json = boost::json;

constexpr std::string_view checked_status = "Completed";
// A grant list longer than any team: refused before it reaches the store.
constexpr std::size_t max_grants = 10000;

// Where a source points is part of its config. A host string the network guard refuses (a legacy numeric form
// such as 127.1 or 2130706433) and an address it refuses at connect time (cloud metadata, link-local, MetaHog's
// own port, an operator's deny list) are answered like any other bad field: 400 naming job_inputs.host. The
// driver itself reports the latter as `forbidden`, which the API would otherwise send as a 403 role refusal.
result<void> check_host_setting(const drivers::source_config& config) {
    const json::value* host = config.settings.if_contains("host");
    if (host == nullptr || !host->is_string()) {
        return {};
    }
    if (auto checked = security::network_policy::check_host(std::string_view(host->as_string())); !checked) {
        error refused = std::move(checked).error();
        refused.field = "job_inputs.host";
        return refused;
    }
    return {};
}

error as_host_error(error failure) {
    if (failure.code == error_code::forbidden) {
        failure.code = error_code::invalid_input;
        failure.field = "job_inputs.host";
    }
    return failure;
}

error source_not_found() {
    return make_error(error_code::not_found, "source not found");
}

const json::object* job_inputs_of(const json::object& body, bool required, error& failure) {
    const json::value* inputs = body.if_contains("job_inputs");
    if (inputs == nullptr) {
        if (required) {
            failure = make_error(error_code::invalid_input, "job_inputs is required", "job_inputs");
        }
        return nullptr;
    }
    if (!inputs->is_object()) {
        failure = make_error(error_code::invalid_input, "job_inputs must be an object", "job_inputs");
        return nullptr;
    }
    return &inputs->as_object();
}

result<void> validate_query_only(const json::object& body) {
    const json::value* query_only = body.if_contains("query_only");
    if (query_only == nullptr || query_only->is_null()) {
        return {};
    }
    if (!query_only->is_bool()) {
        return make_error(error_code::invalid_input, "query_only must be a boolean", "query_only");
    }
    if (!query_only->as_bool()) {
        return make_error(error_code::invalid_input,
                          "query_only must be true: MetaHog queries sources directly and never imports data",
                          "query_only");
    }
    return {};
}

}  // namespace

result<std::string> validate_prefix(const json::value* prefix) {
    if (prefix == nullptr || prefix->is_null()) {
        return std::string();
    }
    if (!prefix->is_string()) {
        return make_error(error_code::invalid_input, "prefix must be a string", "prefix");
    }
    const json::string& text = prefix->as_string();
    const bool valid_shape = text.size() <= 63 && (text.empty() || !(text[0] >= '0' && text[0] <= '9'));
    const bool valid_chars = std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!valid_shape || !valid_chars) {
        return make_error(error_code::invalid_input,
                          "prefix must be at most 63 lower-case letters, digits and underscores, not starting "
                          "with a digit",
                          "prefix");
    }
    return std::string(text);
}

sources_service::sources_service(store::metadata_store& store, security::secret_keys& keys,
                                 const drivers::driver_registry& registry,
                                 std::chrono::milliseconds connect_timeout, source_policy policy)
    : store_(store), keys_(keys), registry_(registry), connect_timeout_(connect_timeout), policy_(policy) {}

boost::asio::awaitable<result<drivers::connection_check>> sources_service::check_config(
    drivers::driver& engine, const drivers::source_config& config) {
    auto checked = co_await engine.check_connection(config, connect_timeout_);
    if (!checked) {
        co_return as_host_error(std::move(checked).error());
    }
    if (!policy_.refuse_privilege_warnings || checked->warnings.empty()) {
        co_return std::move(checked);
    }
    std::string found;
    for (const auto& warning : checked->warnings) {
        found += (found.empty() ? "" : "; ") + warning.message;
        if (!warning.examples.empty()) {
            found += " (" + warning.examples.front() + (warning.examples.size() > 1 ? ", …)" : ")");
        }
    }
    auto failure = make_error(error_code::unsafe_database_role,
                              "this server refuses database roles that can do more than read "
                              "(sources.refuse_privilege_warnings), and " + found);
    failure.hint = "Revoke these privileges or connect as another role; " +
                   std::string(drivers::read_only_role_recipe) + ".";
    co_return failure;
}

result<drivers::driver*> sources_service::driver_for(const json::object& body) const {
    const json::value* type = body.if_contains("source_type");
    std::string supported;
    for (const auto& name : registry_.list()) {
        supported += supported.empty() ? name : ", " + name;
    }
    if (type == nullptr || !type->is_string()) {
        return make_error(error_code::invalid_input, "source_type is required (one of: " + supported + ")",
                          "source_type");
    }
    drivers::driver* engine = registry_.find(std::string_view(type->as_string()));
    if (engine == nullptr) {
        return make_error(error_code::invalid_input, "source_type must be one of: " + supported, "source_type");
    }
    return engine;
}

boost::asio::awaitable<result<created_source>> sources_service::create(std::int64_t team_id,
                                                                       std::int64_t created_by,
                                                                       const json::object& body) {
    auto prefix = validate_prefix(body.if_contains("prefix"));
    if (!prefix) {
        co_return std::move(prefix).error();
    }
    if (auto query_only = validate_query_only(body); !query_only) {
        co_return std::move(query_only).error();
    }
    auto engine_and_config = config_from_body(body);
    if (!engine_and_config) {
        co_return std::move(engine_and_config).error();
    }
    auto& [engine, config] = *engine_and_config;
    auto checked = co_await check_config(*engine, config);
    if (!checked) {
        co_return std::move(checked).error();
    }

    store::source_record record;
    record.id = security::new_uuid();
    record.team_id = team_id;
    record.source_type = std::string(engine->source_type());
    record.prefix = std::move(*prefix);
    record.query_only = true;
    record.status = std::string(checked_status);
    record.settings_json = json::serialize(config.settings);
    auto sealed = keys_.seal(json::serialize(config.secrets), record.id);
    if (!sealed) {
        co_return std::move(sealed).error();
    }
    record.sealed_secrets = std::move(*sealed);
    record.created_by = created_by;
    auto stored = store_.insert_source(record);
    if (!stored) {
        co_return std::move(stored).error();
    }
    if (auto kept = reseal_if_key_retired(record.sealed_secrets); !kept) {
        co_return std::move(kept).error();
    }
    co_return created_source{stored->id, std::move(checked->warnings)};
}

boost::asio::awaitable<result<drivers::connection_check>> sources_service::check(const json::object& body) {
    auto engine_and_config = config_from_body(body);
    if (!engine_and_config) {
        co_return std::move(engine_and_config).error();
    }
    auto& [engine, config] = *engine_and_config;
    co_return co_await check_config(*engine, config);
}

result<std::pair<drivers::driver*, drivers::source_config>> sources_service::config_from_body(
    const json::object& body) const {
    auto engine = driver_for(body);
    if (!engine) {
        return std::move(engine).error();
    }
    error failure;
    const json::object* inputs = job_inputs_of(body, true, failure);
    if (inputs == nullptr) {
        return failure;
    }
    auto config = (*engine)->parse_config(*inputs);
    if (!config) {
        return std::move(config).error();
    }
    if (auto host = check_host_setting(*config); !host) {
        return std::move(host).error();
    }
    return std::make_pair(*engine, std::move(*config));
}

bool sources_service::access_rule::allows(const store::source_record& record) const {
    return role == store::team_role::admin || !record.restricted ||
           std::binary_search(granted.begin(), granted.end(), record.id);
}

result<sources_service::access_rule> sources_service::access_rule_of(const source_caller& caller) {
    // Read on every call, never cached: a removed member or a revoked grant takes effect on the next request.
    auto role = store_.membership_role(caller.team_id, caller.user_id);
    if (!role) {
        return std::move(role).error();
    }
    if (!role->has_value()) {
        return make_error(error_code::not_found, "team not found");
    }
    access_rule rule;
    rule.role = **role;
    if (rule.role != store::team_role::admin) {
        auto granted = store_.granted_source_ids(caller.team_id, caller.user_id);
        if (!granted) {
            return std::move(granted).error();
        }
        rule.granted = std::move(*granted);  // ordered by the store, for binary_search
    }
    return rule;
}

result<store::source_record> sources_service::visible_source(const source_caller& caller,
                                                             std::string_view id) {
    if (!security::is_uuid(id)) {
        return source_not_found();
    }
    auto rule = access_rule_of(caller);
    if (!rule) {
        return std::move(rule).error();
    }
    auto found = store_.find_source(caller.team_id, id);
    if (!found) {
        return std::move(found).error();
    }
    if (!found->has_value() || !rule->allows(**found)) {
        return source_not_found();
    }
    return std::move(**found);
}

result<std::vector<source_view>> sources_service::list(const source_caller& caller) {
    auto rule = access_rule_of(caller);
    if (!rule) {
        return std::move(rule).error();
    }
    auto records = store_.list_sources(caller.team_id);
    if (!records) {
        return std::move(records).error();
    }
    std::vector<source_view> views;
    views.reserve(records->size());
    for (auto& record : *records) {
        if (!rule->allows(record)) {
            continue;
        }
        auto view = view_of(std::move(record));
        if (!view) {
            return std::move(view).error();
        }
        views.push_back(std::move(*view));
    }
    return views;
}

result<source_view> sources_service::get(const source_caller& caller, std::string_view id) {
    auto record = visible_source(caller, id);
    if (!record) {
        return std::move(record).error();
    }
    return view_of(std::move(*record));
}

boost::asio::awaitable<result<source_view>> sources_service::update(const source_caller& caller,
                                                                    std::string_view id,
                                                                    const json::object& body) {
    auto found = visible_source(caller, id);
    if (!found) {
        co_return std::move(found).error();
    }
    store::source_record record = std::move(*found);
    if (const json::value* type = body.if_contains("source_type");
        type != nullptr && !(type->is_string() && type->as_string() == record.source_type)) {
        co_return make_error(error_code::invalid_input, "source_type cannot be changed", "source_type");
    }
    if (auto query_only = validate_query_only(body); !query_only) {
        co_return std::move(query_only).error();
    }
    if (body.contains("prefix")) {
        auto prefix = validate_prefix(body.if_contains("prefix"));
        if (!prefix) {
            co_return std::move(prefix).error();
        }
        record.prefix = std::move(*prefix);
    }
    error failure;
    const json::object* inputs = job_inputs_of(body, false, failure);
    if (inputs == nullptr && failure.code != error_code::internal) {
        co_return failure;
    }
    std::vector<drivers::role_warning> warnings;
    if (inputs != nullptr) {
        drivers::driver* engine = registry_.find(record.source_type);
        if (engine == nullptr) {
            co_return make_error(error_code::internal, "no driver for source type " + record.source_type);
        }
        auto current = config_of(record);
        if (!current) {
            co_return std::move(current).error();
        }
        auto merged = engine->merge_config(*current, *inputs);
        if (!merged) {
            co_return std::move(merged).error();
        }
        if (auto host = check_host_setting(*merged); !host) {
            co_return std::move(host).error();
        }
        auto checked = co_await check_config(*engine, *merged);
        if (!checked) {
            co_return std::move(checked).error();
        }
        warnings = std::move(checked->warnings);
        record.settings_json = json::serialize(merged->settings);
        auto sealed = keys_.seal(json::serialize(merged->secrets), record.id);
        if (!sealed) {
            co_return std::move(sealed).error();
        }
        record.sealed_secrets = std::move(*sealed);
        record.status = std::string(checked_status);
    }
    auto updated = store_.update_source(record);
    if (!updated) {
        co_return std::move(updated).error();
    }
    if (!*updated) {
        co_return source_not_found();
    }
    if (auto kept = reseal_if_key_retired(record.sealed_secrets); !kept) {
        co_return std::move(kept).error();
    }
    auto view = get(caller, id);
    if (view) {
        view->warnings = std::move(warnings);
    }
    co_return view;
}

result<void> sources_service::remove(const source_caller& caller, std::string_view id) {
    if (auto found = visible_source(caller, id); !found) {
        return std::move(found).error();
    }
    auto deleted = store_.soft_delete_source(caller.team_id, id);
    if (!deleted) {
        return std::move(deleted).error();
    }
    if (!*deleted) {
        return source_not_found();
    }
    return {};
}

result<opened_source> sources_service::open(const source_caller& caller, std::string_view id) {
    auto found = visible_source(caller, id);
    if (!found) {
        return std::move(found).error();
    }
    opened_source source;
    source.engine = registry_.find(found->source_type);
    if (source.engine == nullptr) {
        return make_error(error_code::invalid_input,
                          "source type " + found->source_type + " is not supported by this server");
    }
    auto config = config_of(*found);
    if (!config) {
        return std::move(config).error();
    }
    source.config = std::move(*config);
    source.record = std::move(*found);
    return source;
}

result<store::source_access> sources_service::access(const source_caller& caller, std::string_view id) {
    auto rule = access_rule_of(caller);
    if (!rule) {
        return std::move(rule).error();
    }
    // The route admits admins only; checked here too because the grant list names members.
    if (rule->role != store::team_role::admin) {
        return make_error(error_code::forbidden, "only team admins manage access to sources");
    }
    if (!security::is_uuid(id)) {
        return source_not_found();
    }
    auto found = store_.find_source_access(caller.team_id, id);
    if (!found) {
        return std::move(found).error();
    }
    if (!found->has_value()) {
        return source_not_found();
    }
    return std::move(**found);
}

result<store::source_access> sources_service::set_access(const source_caller& caller, std::string_view id,
                                                         const json::object& body) {
    auto current = access(caller, id);
    if (!current) {
        return current;
    }
    store::source_access wanted;
    const json::value* restricted = body.if_contains("restricted");
    if (restricted == nullptr || !restricted->is_bool()) {
        return make_error(error_code::invalid_input, "restricted is required and must be true or false",
                          "restricted");
    }
    wanted.restricted = restricted->as_bool();
    if (const json::value* user_ids = body.if_contains("user_ids");
        user_ids != nullptr && !user_ids->is_null()) {
        const error bad_ids = make_error(error_code::invalid_input,
                                         "user_ids must be a list of user ids of team members", "user_ids");
        if (!user_ids->is_array() || user_ids->as_array().size() > max_grants) {
            return bad_ids;
        }
        for (const json::value& user_id : user_ids->as_array()) {
            if (!user_id.is_int64() || user_id.as_int64() <= 0) {
                return bad_ids;
            }
            wanted.user_ids.push_back(user_id.as_int64());
        }
    }
    std::sort(wanted.user_ids.begin(), wanted.user_ids.end());
    wanted.user_ids.erase(std::unique(wanted.user_ids.begin(), wanted.user_ids.end()), wanted.user_ids.end());

    auto members = store_.members_of_team(caller.team_id);
    if (!members) {
        return std::move(members).error();
    }
    for (const std::int64_t user_id : wanted.user_ids) {
        const bool is_member =
            std::any_of(members->begin(), members->end(),
                        [user_id](const store::team_member& m) { return m.user_id == user_id; });
        if (!is_member) {
            return make_error(error_code::invalid_input,
                              "user_ids: user " + std::to_string(user_id) + " is not a member of this team",
                              "user_ids");
        }
    }
    auto stored = store_.set_source_access(caller.team_id, id, wanted);
    if (!stored) {
        // A member removed between the check above and the write: the store's foreign key refuses the grant.
        error failure = std::move(stored).error();
        if (failure.code == error_code::not_found) {
            failure.code = error_code::invalid_input;
        }
        return failure;
    }
    if (!*stored) {
        return source_not_found();
    }
    return wanted;
}

result<drivers::source_config> sources_service::config_of(const store::source_record& record) const {
    drivers::source_config config;
    boost::system::error_code ec;
    json::value settings = json::parse(record.settings_json, ec);
    if (ec || !settings.is_object()) {
        return make_error(error_code::internal, "stored settings of source " + record.id + " are not valid JSON");
    }
    config.settings = std::move(settings.as_object());
    auto opened = keys_.open(record.sealed_secrets, record.id);
    if (!opened) {
        return std::move(opened).error();
    }
    json::value secrets = json::parse(*opened, ec);
    if (ec || !secrets.is_object()) {
        return make_error(error_code::internal, "stored secrets of source " + record.id + " are not valid JSON");
    }
    config.secrets = std::move(secrets.as_object());
    return config;
}

result<void> sources_service::reseal_if_key_retired(std::string_view sealed) {
    auto held = keys_.still_held(security::sealed_key_id(sealed));
    if (!held) {
        return std::move(held).error();
    }
    if (*held) {
        return {};
    }
    // `metahog rotate-key` retired the key between our seal and our write, having checked that no row used it:
    // this process still holds that key in memory, so re-seal as rotate-key would have.
    auto resealed = reseal_under_primary(store_, keys_.all_keys());
    if (!resealed) {
        return std::move(resealed).error();
    }
    return {};
}

result<source_view> sources_service::view_of(store::source_record record) const {
    drivers::driver* engine = registry_.find(record.source_type);
    if (engine == nullptr) {
        return make_error(error_code::internal, "no driver for source type " + record.source_type);
    }
    auto config = config_of(record);
    if (!config) {
        return std::move(config).error();
    }
    source_view view;
    view.public_settings = engine->public_settings(*config);
    const json::value* password = config->secrets.if_contains("password");
    view.has_password = password != nullptr && password->is_string() && !password->as_string().empty();
    view.record = std::move(record);
    return view;
}

}  // namespace metahog::services
