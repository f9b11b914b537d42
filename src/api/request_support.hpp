// What every API handler needs before it does its own work: the caller (API key or session + CSRF), the team
// the route names and the caller's role in it, and the JSON body — each hostile until checked.
#pragma once

#include <functional>

#include <boost/json/object.hpp>

#include "api/application.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

namespace metahog::api {

struct team_call {
    http::request_context& http;
    services::principal who;
    std::int64_t team_id = 0;
    store::team_role role = store::team_role::viewer;
};

// Who may call a route: admins manage sources, members and grants; members query; viewers see the team and
// its sources' names. The full matrix is in docs/api.md ("Roles").
enum class minimum_role { viewer, member, admin };

using team_handler = std::function<boost::asio::awaitable<result<http::outgoing>>(team_call&)>;
using user_handler =
    std::function<boost::asio::awaitable<result<http::outgoing>>(http::request_context&, services::principal&)>;

result<services::principal> authenticate(application& app, http::request_context& context);

// Parses a JSON object body with a depth limit; the content type must be JSON.
result<boost::json::object> json_body(const http::request_context& context);

// Registers `suffix` under both /api/environments/{team_id}/ and /api/projects/{team_id}/, and records it in
// app.team_routes. A caller who is not a member gets 404; a member below `role` gets 403 naming their role.
void add_team_route(application& app, http::beast_http::verb method, std::string_view suffix, minimum_role role,
                    team_handler handler);
void add_user_route(application& app, http::beast_http::verb method, std::string_view path, user_handler handler);

// Turns a result into a response: the value, or the error mapped once.
http::outgoing respond(result<http::outgoing> outcome);

// The session cookie, as the browser sends it.
std::string session_cookie(const http::request& req);
constexpr std::string_view session_cookie_name = "metahog_session";

}  // namespace metahog::api
