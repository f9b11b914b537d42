// Authentication, team scoping and body parsing for API routes.
#include "api/request_support.hpp"

#include <charconv>

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include "http/error_response.hpp"
#include "security/token.hpp"

namespace metahog::api {
namespace {

namespace beast_http = http::beast_http;

bool is_state_changing(beast_http::verb method) {
    return method != beast_http::verb::get && method != beast_http::verb::head &&
           method != beast_http::verb::options;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) {
        return false;
    }
    for (std::size_t index = 0; index < prefix.size(); ++index) {
        if (std::tolower(static_cast<unsigned char>(text[index])) != prefix[index]) {
            return false;
        }
    }
    return true;
}

result<std::int64_t> resolve_team_id(application& app, const services::principal& who, std::string_view text) {
    if (text == "@current") {
        return app.identity.default_team(who);
    }
    std::int64_t team_id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), team_id);
    if (ec != std::errc{} || end != text.data() + text.size() || team_id <= 0) {
        return make_error(error_code::not_found, "team not found");
    }
    return team_id;
}

bool role_allows(store::team_role role, minimum_role needed) {
    switch (needed) {
        case minimum_role::viewer: return true;
        case minimum_role::member: return role == store::team_role::member || role == store::team_role::admin;
        case minimum_role::admin: return role == store::team_role::admin;
    }
    return false;
}

std::string needed_roles(minimum_role needed) {
    switch (needed) {
        case minimum_role::viewer: return "viewer, member or admin";
        case minimum_role::member: return "member or admin";
        case minimum_role::admin: return "admin";
    }
    return "admin";
}

store::team_role least_role(minimum_role needed) {
    switch (needed) {
        case minimum_role::viewer: return store::team_role::viewer;
        case minimum_role::member: return store::team_role::member;
        case minimum_role::admin: return store::team_role::admin;
    }
    return store::team_role::admin;
}

}  // namespace

std::string session_cookie(const http::request& req) {
    const auto [first, last] = req.equal_range(beast_http::field::cookie);
    for (auto field = first; field != last; ++field) {
        std::string_view cookies(field->value().data(), field->value().size());
        while (!cookies.empty()) {
            const auto end = cookies.find(';');
            std::string_view pair = cookies.substr(0, end);
            while (!pair.empty() && pair.front() == ' ') {
                pair.remove_prefix(1);
            }
            if (pair.starts_with(session_cookie_name) && pair.size() > session_cookie_name.size() &&
                pair[session_cookie_name.size()] == '=') {
                return std::string(pair.substr(session_cookie_name.size() + 1));
            }
            if (end == std::string_view::npos) {
                break;
            }
            cookies.remove_prefix(end + 1);
        }
    }
    return {};
}

result<services::principal> authenticate(application& app, http::request_context& context) {
    const auto authorization = context.req[beast_http::field::authorization];
    if (!authorization.empty()) {
        const std::string_view value(authorization.data(), authorization.size());
        if (!iequals_prefix(value, "bearer ")) {
            return make_error(error_code::unauthenticated, "Authorization must be 'Bearer <personal API key>'");
        }
        auto who = app.identity.authenticate_api_key(value.substr(7));
        if (who) {
            context.user_id = who->user_id;
        }
        return who;
    }
    const std::string token = session_cookie(context.req);
    if (token.empty()) {
        return make_error(error_code::unauthenticated,
                          "authentication required: send 'Authorization: Bearer <personal API key>' or sign in");
    }
    auto who = app.identity.authenticate_session(token);
    if (!who) {
        return who;
    }
    context.user_id = who->user_id;
    if (is_state_changing(context.req.method())) {
        const auto sent = context.req["X-CSRF-Token"];
        if (sent.empty() ||
            !security::constant_time_equal(std::string_view(sent.data(), sent.size()), who->expected_csrf_token)) {
            return make_error(error_code::csrf_failed, "missing or wrong X-CSRF-Token header");
        }
    }
    return who;
}

result<boost::json::object> json_body(const http::request_context& context) {
    const auto content_type = context.req[beast_http::field::content_type];
    if (!iequals_prefix(std::string_view(content_type.data(), content_type.size()), "application/json")) {
        return make_error(error_code::unsupported_media_type, "the request body must be application/json");
    }
    boost::json::parse_options options;
    options.max_depth = 32;
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(context.req.body(), ec, {}, options);
    if (ec) {
        return make_error(error_code::invalid_input, "the request body is not valid JSON: " + ec.message());
    }
    if (!parsed.is_object()) {
        return make_error(error_code::invalid_input, "the request body must be a JSON object");
    }
    return std::move(parsed.as_object());
}

http::outgoing respond(result<http::outgoing> outcome) {
    if (!outcome) {
        return http::error_response(outcome.error());
    }
    return std::move(*outcome);
}

void add_team_route(application& app, beast_http::verb method, std::string_view suffix, minimum_role role,
                    team_handler handler) {
    auto wrapped = [&app, role, handler = std::move(handler)](
                       http::request_context& context) -> boost::asio::awaitable<http::outgoing> {
        auto who = authenticate(app, context);
        if (!who) {
            co_return http::error_response(who.error());
        }
        auto team_id = resolve_team_id(app, *who, context.path_param("team_id"));
        if (!team_id) {
            co_return http::error_response(team_id.error());
        }
        auto team_role = app.identity.role_in_team(*who, *team_id);
        if (!team_role) {
            co_return http::error_response(team_role.error());
        }
        if (!role_allows(*team_role, role)) {
            co_return http::error_response(make_error(
                error_code::forbidden, "your role in this team (" + std::string(store::to_string(*team_role)) +
                                           ") does not allow this; it needs " + needed_roles(role)));
        }
        team_call call{context, std::move(*who), *team_id, *team_role};
        co_return respond(co_await handler(call));
    };
    app.team_routes.push_back(team_route_info{method, std::string(suffix), least_role(role)});
    const std::string tail = "/{team_id}/" + std::string(suffix);
    app.routes.add(method, "/api/environments" + tail, wrapped);
    app.routes.add(method, "/api/projects" + tail, std::move(wrapped));
}

void add_user_route(application& app, beast_http::verb method, std::string_view path, user_handler handler) {
    app.routes.add(method, path,
                   [&app, handler = std::move(handler)](
                       http::request_context& context) -> boost::asio::awaitable<http::outgoing> {
                       auto who = authenticate(app, context);
                       if (!who) {
                           co_return http::error_response(who.error());
                       }
                       co_return respond(co_await handler(context, *who));
                   });
}

}  // namespace metahog::api
