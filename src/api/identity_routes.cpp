// Browser sign-in, the current user, and personal API keys.
#include <charconv>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <spdlog/spdlog.h>

#include "api/audit_events.hpp"
#include "api/request_support.hpp"
#include "api/routes.hpp"
#include "http/error_response.hpp"

namespace metahog::api {
namespace {

namespace json = boost::json;
using verb = http::beast_http::verb;

result<std::string> string_field(const json::object& body, std::string_view name) {
    const json::value* value = body.if_contains(name);
    if (value == nullptr || !value->is_string()) {
        return make_error(error_code::invalid_input, std::string(name) + " is required and must be a string",
                          std::string(name));
    }
    return std::string(value->as_string());
}

result<json::object> session_body(application& app, const services::principal& who, std::string_view csrf_token) {
    auto teams = app.identity.teams_of(who);
    if (!teams) {
        return std::move(teams).error();
    }
    json::array team_list;
    for (const auto& membership : *teams) {
        team_list.push_back(json::object{{"id", membership.team.id},
                                         {"name", membership.team.name},
                                         {"role", store::to_string(membership.role)}});
    }
    json::object body{{"user", json::object{{"id", who.user_id}, {"email", who.email}}},
                      {"teams", std::move(team_list)},
                      {"csrf_token", csrf_token}};
    body["default_team_id"] = teams->empty() ? json::value(nullptr) : json::value(teams->front().team.id);
    return body;
}

std::string cookie_header(const application& app, std::string_view value, std::chrono::seconds max_age) {
    std::string cookie = std::string(session_cookie_name) + "=" + std::string(value) +
                         "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age.count());
    if (app.config.server.secure_cookies) {
        cookie += "; Secure";
    }
    return cookie;
}

// A failed sign-in is recorded for the user the e-mail belongs to (in each of their teams); an unknown
// e-mail belongs to no team, so it leaves a log line only.
result<void> record_failed_sign_in(application& app, const http::request_context& context, std::string_view email,
                                   const error& failure) {
    auto normalized = services::normalize_email(email);
    if (!normalized) {
        spdlog::info("msg=login_failed known_user=false remote={}", context.remote_address);
        return result<void>{};
    }
    auto found = app.store->find_user_by_email(*normalized);
    if (!found || !found->has_value()) {
        spdlog::info("msg=login_failed known_user=false remote={}", context.remote_address);
        return result<void>{};
    }
    const std::int64_t user_id = (*found)->id;
    auto entry = audit_event_of(0, user_id, services::audit_actions::login_failed, context);
    return record_user_audit(app, user_id, with_failure(std::move(entry), failure));
}

json::object key_json(const store::api_key& key) {
    json::object body{{"id", key.id}, {"label", key.label}, {"mask", key.mask}, {"created_at", key.created_at}};
    body["last_used_at"] = key.last_used_at ? json::value(*key.last_used_at) : json::value(nullptr);
    return body;
}

}  // namespace

void add_identity_routes(application& app) {
    app.routes.add(verb::post, "/api/auth/login",
                   [&app](http::request_context& context) -> boost::asio::awaitable<http::outgoing> {
                       auto body = json_body(context);
                       if (!body) {
                           co_return http::error_response(body.error());
                       }
                       auto email = string_field(*body, "email");
                       auto password = string_field(*body, "password");
                       if (!email || !password) {
                           co_return http::error_response(!email ? email.error() : password.error());
                       }
                       auto signed_in = co_await run_blocking(
                           app, [&app, &email, &password] { return app.identity.sign_in(*email, *password); });
                       if (!signed_in) {
                           if (signed_in.error().code == error_code::unauthenticated) {
                               if (auto recorded = record_failed_sign_in(app, context, *email, signed_in.error());
                                   !recorded) {
                                   co_return http::error_response(recorded.error());
                               }
                           }
                           co_return http::error_response(signed_in.error());
                       }
                       context.user_id = signed_in->who.user_id;
                       auto entry = audit_event_of(0, signed_in->who.user_id, services::audit_actions::login,
                                                   context);
                       entry.details["method"] = "password";
                       if (auto recorded = record_user_audit(app, signed_in->who.user_id, std::move(entry));
                           !recorded) {
                           // Fail closed: the session exists but its cookie is never handed out.
                           (void)app.identity.sign_out(signed_in->session_token);
                           co_return http::error_response(recorded.error());
                       }
                       auto response_body = session_body(app, signed_in->who, signed_in->csrf_token);
                       if (!response_body) {
                           co_return http::error_response(response_body.error());
                       }
                       auto response = http::json_response(http::status::ok, *response_body);
                       response.headers.emplace_back(
                           "Set-Cookie",
                           cookie_header(app, signed_in->session_token,
                                         std::chrono::duration_cast<std::chrono::seconds>(
                                             app.config.server.session_lifetime)));
                       response.headers.emplace_back("Cache-Control", "no-store");
                       co_return response;
                   });

    add_user_route(app, verb::get, "/api/auth/me",
                   [&app](http::request_context& context,
                          services::principal& who) -> boost::asio::awaitable<result<http::outgoing>> {
                       (void)context;
                       auto body = session_body(app, who, who.expected_csrf_token);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       auto response = http::json_response(http::status::ok, *body);
                       response.headers.emplace_back("Cache-Control", "no-store");
                       co_return response;
                   });

    add_user_route(app, verb::post, "/api/auth/logout",
                   [&app](http::request_context& context,
                          services::principal& who) -> boost::asio::awaitable<result<http::outgoing>> {
                       if (who.credential == services::credential_kind::session) {
                           if (auto ended = app.identity.sign_out(session_cookie(context.req)); !ended) {
                               co_return std::move(ended).error();
                           }
                       }
                       auto response = http::empty_response(http::status::no_content);
                       response.headers.emplace_back("Set-Cookie",
                                                     cookie_header(app, "", std::chrono::seconds(0)));
                       co_return response;
                   });

    add_user_route(app, verb::get, "/api/personal_api_keys",
                   [&app](http::request_context&,
                          services::principal& who) -> boost::asio::awaitable<result<http::outgoing>> {
                       auto keys = app.identity.list_api_keys(who);
                       if (!keys) {
                           co_return std::move(keys).error();
                       }
                       json::array results;
                       for (const auto& key : *keys) {
                           if (!key.revoked_at) {
                               results.push_back(key_json(key));
                           }
                       }
                       co_return http::json_response(http::status::ok, json::object{{"results", std::move(results)}});
                   });

    add_user_route(app, verb::post, "/api/personal_api_keys",
                   [&app](http::request_context& context,
                          services::principal& who) -> boost::asio::awaitable<result<http::outgoing>> {
                       auto body = json_body(context);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       std::string label;
                       if (const json::value* value = body->if_contains("label")) {
                           if (!value->is_string()) {
                               co_return make_error(error_code::invalid_input, "label must be a string", "label");
                           }
                           label = std::string(value->as_string());
                       }
                       auto minted = app.identity.create_api_key(who, label);
                       if (!minted) {
                           co_return std::move(minted).error();
                       }
                       auto entry = audit_event_of(0, who.user_id, services::audit_actions::api_key_create, context);
                       entry.details = json::object{{"key_id", minted->key.id}, {"label", minted->key.label}};
                       if (auto recorded = record_user_audit(app, who.user_id, std::move(entry)); !recorded) {
                           // Fail closed: a key nobody recorded must not work.
                           (void)app.identity.revoke_api_key(who, minted->key.id);
                           co_return std::move(recorded).error();
                       }
                       json::object response_body = key_json(minted->key);
                       response_body["key"] = minted->token;
                       auto response = http::json_response(http::status::created, response_body);
                       response.headers.emplace_back("Cache-Control", "no-store");
                       co_return response;
                   });

    add_user_route(app, verb::delete_, "/api/personal_api_keys/{id}",
                   [&app](http::request_context& context,
                          services::principal& who) -> boost::asio::awaitable<result<http::outgoing>> {
                       const std::string_view text = context.path_param("id");
                       std::int64_t key_id = 0;
                       const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), key_id);
                       if (ec != std::errc{} || end != text.data() + text.size()) {
                           co_return make_error(error_code::not_found, "API key not found");
                       }
                       if (auto revoked = app.identity.revoke_api_key(who, key_id); !revoked) {
                           co_return std::move(revoked).error();
                       }
                       auto entry = audit_event_of(0, who.user_id, services::audit_actions::api_key_revoke, context);
                       entry.details = json::object{{"key_id", key_id}};
                       if (auto recorded = record_user_audit(app, who.user_id, std::move(entry)); !recorded) {
                           co_return std::move(recorded).error();
                       }
                       co_return http::empty_response(http::status::no_content);
                   });
}

}  // namespace metahog::api
