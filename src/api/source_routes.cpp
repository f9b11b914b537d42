// external_data_sources (create, list, get, patch, delete, check, access) and direct_query/sources.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/audit_events.hpp"
#include "api/request_support.hpp"
#include "api/routes.hpp"
#include "http/error_response.hpp"

namespace metahog::api {
namespace {

namespace json = boost::json;
using verb = http::beast_http::verb;
using awaitable_result = boost::asio::awaitable<result<http::outgoing>>;

services::source_caller caller_of(const team_call& call) {
    return services::source_caller{call.team_id, call.who.user_id};
}

// {"code", "message", "examples"} each: what the role may do beyond reading (shown, never refused unless the
// server is set to).
json::array warnings_json(const std::vector<drivers::role_warning>& warnings) {
    json::array out;
    for (const auto& warning : warnings) {
        json::array examples;
        for (const auto& example : warning.examples) {
            examples.emplace_back(example);
        }
        out.push_back(json::object{
            {"code", warning.code}, {"message", warning.message}, {"examples", std::move(examples)}});
    }
    return out;
}

// Viewers see what a source is called and whether it works, not where it is or as whom MetaHog connects;
// admins also see whether it is restricted to some members.
json::object source_json(const services::source_view& view, store::team_role role) {
    const auto& record = view.record;
    if (role == store::team_role::viewer) {
        return json::object{{"id", record.id},
                            {"source_type", record.source_type},
                            {"prefix", record.prefix},
                            {"status", record.status},
                            {"created_at", record.created_at}};
    }
    json::object body{{"id", record.id},
                      {"source_type", record.source_type},
                      {"prefix", record.prefix},
                      {"query_only", record.query_only},
                      {"status", record.status},
                      {"created_at", record.created_at},
                      {"updated_at", record.updated_at},
                      {"job_inputs", view.public_settings},
                      {"has_password", view.has_password}};
    if (role == store::team_role::admin) {
        body["restricted"] = record.restricted;
    }
    return body;
}

json::object access_json(const store::source_access& access) {
    json::array user_ids;
    for (const std::int64_t user_id : access.user_ids) {
        user_ids.emplace_back(user_id);
    }
    return json::object{{"restricted", access.restricted}, {"user_ids", std::move(user_ids)}};
}

// What an audit record of a source change may say: the type, the prefix and the names of the connection
// settings sent — never their values, which may be secrets (a password, a connection string).
json::object source_change_details(const json::object& body) {
    json::object details;
    for (const auto* name : {"source_type", "prefix"}) {
        if (const json::value* value = body.if_contains(name); value != nullptr && value->is_string()) {
            details[name] = value->as_string().subview().substr(0, 256);
        }
    }
    json::array fields;
    if (const json::value* inputs = body.if_contains("job_inputs"); inputs != nullptr && inputs->is_object()) {
        for (const auto& member : inputs->as_object()) {
            fields.emplace_back(member.key().substr(0, 64));
        }
    }
    details["fields_sent"] = std::move(fields);
    return details;
}

// The names of what an update changed, from the views before and after plus the password when one was sent
// (its value is sealed and never compared here).
json::array changed_fields(const services::source_view& before, const services::source_view& after,
                           const json::object& body) {
    json::array changed;
    if (before.record.prefix != after.record.prefix) {
        changed.emplace_back("prefix");
    }
    if (before.record.source_type != after.record.source_type) {
        changed.emplace_back("source_type");
    }
    for (const auto& member : after.public_settings) {
        const json::value* old_value = before.public_settings.if_contains(member.key());
        if (old_value == nullptr || *old_value != member.value()) {
            changed.emplace_back(member.key());
        }
    }
    for (const auto& member : before.public_settings) {
        if (!after.public_settings.contains(member.key())) {
            changed.emplace_back(member.key());
        }
    }
    const json::value* inputs = body.if_contains("job_inputs");
    const json::value* password =
        inputs != nullptr && inputs->is_object() ? inputs->as_object().if_contains("password") : nullptr;
    if ((password != nullptr && password->is_string() && !password->as_string().empty()) ||
        before.has_password != after.has_password) {
        changed.emplace_back("password");
    }
    return changed;
}

}  // namespace

void add_source_routes(application& app) {
    add_team_route(app, verb::post, "external_data_sources", minimum_role::admin,
                   [&app](team_call& call) -> awaitable_result {
                       auto body = json_body(call.http);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       auto entry = audit_event_of(call.team_id, call.who.user_id,
                                                   services::audit_actions::source_create, call.http);
                       entry.details = source_change_details(*body);
                       auto created = co_await app.sources.create(call.team_id, call.who.user_id, *body);
                       if (created) {
                           entry.source_id = created->id;
                       }
                       created = audited(app, std::move(entry), std::move(created));
                       if (!created) {
                           co_return std::move(created).error();
                       }
                       co_return http::json_response(
                           http::status::created,
                           json::object{{"id", created->id}, {"warnings", warnings_json(created->warnings)}});
                   });

    add_team_route(app, verb::post, "external_data_sources/check", minimum_role::member,
                   [&app](team_call& call) -> awaitable_result {
                       auto body = json_body(call.http);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       auto checked = co_await app.sources.check(*body);
                       if (!checked) {
                           co_return std::move(checked).error();
                       }
                       co_return http::json_response(
                           http::status::ok,
                           json::object{{"ok", true}, {"warnings", warnings_json(checked->warnings)}});
                   });

    add_team_route(app, verb::get, "external_data_sources", minimum_role::viewer,
                   [&app](team_call& call) -> awaitable_result {
                       auto sources = app.sources.list(caller_of(call));
                       if (!sources) {
                           co_return std::move(sources).error();
                       }
                       json::array results;
                       for (const auto& view : *sources) {
                           results.push_back(source_json(view, call.role));
                       }
                       const auto count = results.size();
                       co_return http::json_response(http::status::ok,
                                                     json::object{{"results", std::move(results)}, {"count", count}});
                   });

    add_team_route(app, verb::get, "external_data_sources/{id}", minimum_role::viewer,
                   [&app](team_call& call) -> awaitable_result {
                       auto view = app.sources.get(caller_of(call), call.http.path_param("id"));
                       if (!view) {
                           co_return std::move(view).error();
                       }
                       co_return http::json_response(http::status::ok, source_json(*view, call.role));
                   });

    add_team_route(app, verb::patch, "external_data_sources/{id}", minimum_role::admin,
                   [&app](team_call& call) -> awaitable_result {
                       auto body = json_body(call.http);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       const std::string source_id(call.http.path_param("id"));
                       auto entry = audit_event_of(call.team_id, call.who.user_id,
                                                   services::audit_actions::source_update, call.http);
                       entry.source_id = source_id.substr(0, 256);
                       entry.details = source_change_details(*body);
                       auto before = app.sources.get(caller_of(call), source_id);
                       auto view = co_await app.sources.update(caller_of(call), source_id, *body);
                       if (view && before) {
                           entry.details["changed_fields"] = changed_fields(*before, *view, *body);
                       }
                       view = audited(app, std::move(entry), std::move(view));
                       if (!view) {
                           co_return std::move(view).error();
                       }
                       auto shown = source_json(*view, call.role);
                       shown["warnings"] = warnings_json(view->warnings);
                       co_return http::json_response(http::status::ok, shown);
                   });

    add_team_route(app, verb::delete_, "external_data_sources/{id}", minimum_role::admin,
                   [&app](team_call& call) -> awaitable_result {
                       const std::string source_id(call.http.path_param("id"));
                       auto entry = audit_event_of(call.team_id, call.who.user_id,
                                                   services::audit_actions::source_delete, call.http);
                       entry.source_id = source_id.substr(0, 256);
                       auto removed = audited(app, std::move(entry), app.sources.remove(caller_of(call), source_id));
                       if (!removed) {
                           co_return std::move(removed).error();
                       }
                       co_return http::empty_response(http::status::no_content);
                   });

    add_team_route(app, verb::get, "direct_query/sources", minimum_role::viewer,
                   [&app](team_call& call) -> awaitable_result {
                       auto sources = app.sources.list(caller_of(call));
                       if (!sources) {
                           co_return std::move(sources).error();
                       }
                       json::array listed;
                       for (const auto& view : *sources) {
                           const auto& record = view.record;
                           listed.push_back(json::object{{"id", record.id},
                                                         {"source_type", record.source_type},
                                                         {"prefix", record.prefix},
                                                         {"created_at", record.created_at},
                                                         {"status", record.status}});
                       }
                       co_return http::json_response(http::status::ok, json::object{{"sources", std::move(listed)}});
                   });

    add_team_route(app, verb::get, "external_data_sources/{id}/access", minimum_role::admin,
                   [&app](team_call& call) -> awaitable_result {
                       auto access = app.sources.access(caller_of(call), call.http.path_param("id"));
                       if (!access) {
                           co_return std::move(access).error();
                       }
                       co_return http::json_response(http::status::ok, access_json(*access));
                   });

    add_team_route(app, verb::put, "external_data_sources/{id}/access", minimum_role::admin,
                   [&app](team_call& call) -> awaitable_result {
                       auto body = json_body(call.http);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       auto access =
                           app.sources.set_access(caller_of(call), call.http.path_param("id"), *body);
                       if (!access) {
                           co_return std::move(access).error();
                       }
                       co_return http::json_response(http::status::ok, access_json(*access));
                   });
}

}  // namespace metahog::api
