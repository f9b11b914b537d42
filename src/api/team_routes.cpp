// members/: a team's members and their roles, for the team's admins.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <charconv>

#include "api/request_support.hpp"
#include "api/routes.hpp"
#include "http/error_response.hpp"

namespace metahog::api {
namespace {

namespace json = boost::json;
using verb = http::beast_http::verb;
using awaitable_result = boost::asio::awaitable<result<http::outgoing>>;

json::object member_json(const store::team_member& member) {
    return json::object{{"user_id", member.user_id},
                        {"email", member.email},
                        {"role", store::to_string(member.role)},
                        {"joined_at", member.joined_at}};
}

// The {user_id} of the path; anything but a positive integer is a member that does not exist.
result<std::int64_t> user_id_param(const team_call& call) {
    const std::string_view text = call.http.path_param("user_id");
    std::int64_t user_id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), user_id);
    if (ec != std::errc{} || end != text.data() + text.size() || user_id <= 0) {
        return make_error(error_code::not_found, "member not found");
    }
    return user_id;
}

// Runs add_member on the blocking pool: creating a user hashes a password (argon2id), which must not stall an
// I/O thread. A function, not a capturing lambda coroutine (g++ 12 mishandles those under co_spawn).
boost::asio::awaitable<result<services::team_service::added_member>> add_member_off_io(
    application& app, std::int64_t team_id, const json::object& body) {
    co_return co_await run_blocking(app,
                                    [&app, team_id, &body] { return app.teams.add_member(team_id, body); });
}

}  // namespace

void add_team_routes(application& app) {
    add_team_route(
        app, verb::get, "members", minimum_role::admin, [&app](team_call& call) -> awaitable_result {
            auto members = app.teams.members(call.team_id);
            if (!members) {
                co_return std::move(members).error();
            }
            json::array results;
            for (const auto& member : *members) {
                results.push_back(member_json(member));
            }
            co_return http::json_response(http::status::ok, json::object{{"results", std::move(results)}});
        });

    add_team_route(app, verb::post, "members", minimum_role::admin,
                   [&app](team_call& call) -> awaitable_result {
                       auto body = json_body(call.http);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       auto added = co_await add_member_off_io(app, call.team_id, *body);
                       if (!added) {
                           co_return std::move(added).error();
                       }
                       json::object response = member_json(added->member);
                       response["created"] = added->created_user;
                       co_return http::json_response(http::status::created, response);
                   });

    add_team_route(app, verb::patch, "members/{user_id}", minimum_role::admin,
                   [&app](team_call& call) -> awaitable_result {
                       auto user_id = user_id_param(call);
                       if (!user_id) {
                           co_return std::move(user_id).error();
                       }
                       auto body = json_body(call.http);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       auto changed = app.teams.change_role(call.team_id, *user_id, *body);
                       if (!changed) {
                           co_return std::move(changed).error();
                       }
                       co_return http::json_response(http::status::ok, member_json(*changed));
                   });

    add_team_route(app, verb::delete_, "members/{user_id}", minimum_role::admin,
                   [&app](team_call& call) -> awaitable_result {
                       auto user_id = user_id_param(call);
                       if (!user_id) {
                           co_return std::move(user_id).error();
                       }
                       if (auto removed = app.teams.remove_member(call.team_id, *user_id); !removed) {
                           co_return std::move(removed).error();
                       }
                       co_return http::empty_response(http::status::no_content);
                   });
}

}  // namespace metahog::api
