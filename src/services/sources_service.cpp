// Source lifecycle. Secrets are sealed with the source id as associated data, so a sealed blob copied onto
// another row does not open.
#include "services/sources_service.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "security/network_policy.hpp"
#include "security/seal.hpp"
#include "security/uuid.hpp"

namespace metahog::services {
namespace {

namespace json = boost::json;

constexpr std::string_view checked_status = "Completed";

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

sources_service::sources_service(store::metadata_store& store, const security::master_key& key,
                                 const drivers::driver_registry& registry,
                                 std::chrono::milliseconds connect_timeout)
    : store_(store), key_(key), registry_(registry), connect_timeout_(connect_timeout) {}

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

boost::asio::awaitable<result<std::string>> sources_service::create(std::int64_t team_id, std::int64_t created_by,
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
    if (auto connected = co_await engine->check_connection(config, connect_timeout_); !connected) {
        co_return as_host_error(std::move(connected).error());
    }

    store::source_record record;
    record.id = security::new_uuid();
    record.team_id = team_id;
    record.source_type = std::string(engine->source_type());
    record.prefix = std::move(*prefix);
    record.query_only = true;
    record.status = std::string(checked_status);
    record.settings_json = json::serialize(config.settings);
    record.sealed_secrets = security::seal(key_, json::serialize(config.secrets), record.id);
    record.created_by = created_by;
    auto stored = store_.insert_source(record);
    if (!stored) {
        co_return std::move(stored).error();
    }
    co_return stored->id;
}

boost::asio::awaitable<result<void>> sources_service::check(const json::object& body) {
    auto engine_and_config = config_from_body(body);
    if (!engine_and_config) {
        co_return std::move(engine_and_config).error();
    }
    auto& [engine, config] = *engine_and_config;
    auto connected = co_await engine->check_connection(config, connect_timeout_);
    if (!connected) {
        co_return as_host_error(std::move(connected).error());
    }
    co_return connected;
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

result<std::vector<source_view>> sources_service::list(std::int64_t team_id) {
    auto records = store_.list_sources(team_id);
    if (!records) {
        return std::move(records).error();
    }
    std::vector<source_view> views;
    views.reserve(records->size());
    for (auto& record : *records) {
        auto view = view_of(std::move(record));
        if (!view) {
            return std::move(view).error();
        }
        views.push_back(std::move(*view));
    }
    return views;
}

result<source_view> sources_service::get(std::int64_t team_id, std::string_view id) {
    if (!security::is_uuid(id)) {
        return source_not_found();
    }
    auto record = store_.find_source(team_id, id);
    if (!record) {
        return std::move(record).error();
    }
    if (!record->has_value()) {
        return source_not_found();
    }
    return view_of(std::move(**record));
}

boost::asio::awaitable<result<source_view>> sources_service::update(std::int64_t team_id, std::string_view id,
                                                                    const json::object& body) {
    if (!security::is_uuid(id)) {
        co_return source_not_found();
    }
    auto found = store_.find_source(team_id, id);
    if (!found) {
        co_return std::move(found).error();
    }
    if (!found->has_value()) {
        co_return source_not_found();
    }
    store::source_record record = std::move(**found);
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
        if (auto connected = co_await engine->check_connection(*merged, connect_timeout_); !connected) {
            co_return as_host_error(std::move(connected).error());
        }
        record.settings_json = json::serialize(merged->settings);
        record.sealed_secrets = security::seal(key_, json::serialize(merged->secrets), record.id);
        record.status = std::string(checked_status);
    }
    auto updated = store_.update_source(record);
    if (!updated) {
        co_return std::move(updated).error();
    }
    if (!*updated) {
        co_return source_not_found();
    }
    co_return get(team_id, id);
}

result<void> sources_service::remove(std::int64_t team_id, std::string_view id) {
    if (!security::is_uuid(id)) {
        return source_not_found();
    }
    auto deleted = store_.soft_delete_source(team_id, id);
    if (!deleted) {
        return std::move(deleted).error();
    }
    if (!*deleted) {
        return source_not_found();
    }
    return {};
}

result<opened_source> sources_service::open(std::int64_t team_id, std::string_view id) {
    if (!security::is_uuid(id)) {
        return source_not_found();
    }
    auto found = store_.find_source(team_id, id);
    if (!found) {
        return std::move(found).error();
    }
    if (!found->has_value()) {
        return source_not_found();
    }
    opened_source source;
    source.engine = registry_.find((*found)->source_type);
    if (source.engine == nullptr) {
        return make_error(error_code::invalid_input,
                          "source type " + (*found)->source_type + " is not supported by this server");
    }
    auto config = config_of(**found);
    if (!config) {
        return std::move(config).error();
    }
    source.config = std::move(*config);
    source.record = std::move(**found);
    return source;
}

result<drivers::source_config> sources_service::config_of(const store::source_record& record) const {
    drivers::source_config config;
    boost::system::error_code ec;
    json::value settings = json::parse(record.settings_json, ec);
    if (ec || !settings.is_object()) {
        return make_error(error_code::internal, "stored settings of source " + record.id + " are not valid JSON");
    }
    config.settings = std::move(settings.as_object());
    auto opened = security::open(key_, record.sealed_secrets, record.id);
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
