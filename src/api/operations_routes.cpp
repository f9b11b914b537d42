// Health and metrics endpoints for operators and load balancers.
#include <boost/json/object.hpp>

#include "api/routes.hpp"
#include "http/error_response.hpp"

namespace metahog::api {

void add_operations_routes(application& app) {
    using verb = http::beast_http::verb;
    app.routes.add(verb::get, "/healthz", [](http::request_context&) -> boost::asio::awaitable<http::outgoing> {
        co_return http::json_response(http::status::ok, boost::json::object{{"status", "ok"}});
    });
    app.routes.add(verb::get, "/metrics", [&app](http::request_context&) -> boost::asio::awaitable<http::outgoing> {
        http::outgoing response;
        response.content_type = "text/plain; version=0.0.4; charset=utf-8";
        response.body = app.metrics.render();
        co_return response;
    });
}

}  // namespace metahog::api
