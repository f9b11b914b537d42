// external_data_sources (create, list, get, patch, delete, check) and direct_query/sources.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/request_support.hpp"
#include "api/routes.hpp"
#include "http/error_response.hpp"

namespace metahog::api {
namespace {

namespace json = boost::json;
using verb = http::beast_http::verb;
using awaitable_result = boost::asio::awaitable<result<http::outgoing>>;

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

json::object source_json(const services::source_view& view) {
    const auto& record = view.record;
    return json::object{{"id", record.id},
                        {"source_type", record.source_type},
                        {"prefix", record.prefix},
                        {"query_only", record.query_only},
                        {"status", record.status},
                        {"created_at", record.created_at},
                        {"updated_at", record.updated_at},
                        {"job_inputs", view.public_settings},
                        {"has_password", view.has_password}};
}

}  // namespace

void add_source_routes(application& app) {
    add_team_route(app, verb::post, "external_data_sources", minimum_role::admin,
                   [&app](team_call& call) -> awaitable_result {
                       auto body = json_body(call.http);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       auto created = co_await app.sources.create(call.team_id, call.who.user_id, *body);
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
                       auto sources = app.sources.list(call.team_id);
                       if (!sources) {
                           co_return std::move(sources).error();
                       }
                       json::array results;
                       for (const auto& view : *sources) {
                           results.push_back(source_json(view));
                       }
                       const auto count = results.size();
                       co_return http::json_response(http::status::ok,
                                                     json::object{{"results", std::move(results)}, {"count", count}});
                   });

    add_team_route(app, verb::get, "external_data_sources/{id}", minimum_role::viewer,
                   [&app](team_call& call) -> awaitable_result {
                       auto view = app.sources.get(call.team_id, call.http.path_param("id"));
                       if (!view) {
                           co_return std::move(view).error();
                       }
                       co_return http::json_response(http::status::ok, source_json(*view));
                   });

    add_team_route(app, verb::patch, "external_data_sources/{id}", minimum_role::admin,
                   [&app](team_call& call) -> awaitable_result {
                       auto body = json_body(call.http);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       auto view = co_await app.sources.update(call.team_id, call.http.path_param("id"), *body);
                       if (!view) {
                           co_return std::move(view).error();
                       }
                       auto shown = source_json(*view);
                       shown["warnings"] = warnings_json(view->warnings);
                       co_return http::json_response(http::status::ok, shown);
                   });

    add_team_route(app, verb::delete_, "external_data_sources/{id}", minimum_role::admin,
                   [&app](team_call& call) -> awaitable_result {
                       if (auto removed = app.sources.remove(call.team_id, call.http.path_param("id")); !removed) {
                           co_return std::move(removed).error();
                       }
                       co_return http::empty_response(http::status::no_content);
                   });

    add_team_route(app, verb::get, "direct_query/sources", minimum_role::viewer,
                   [&app](team_call& call) -> awaitable_result {
                       auto sources = app.sources.list(call.team_id);
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
}

}  // namespace metahog::api
