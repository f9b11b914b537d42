// Maps (method, path) to a handler. Patterns are '/'-separated literals and {name} captures; a trailing slash
// is optional, as the contract says. Matching is by segments, so it costs no regex and no allocation per
// literal comparison.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http/message.hpp"

namespace metahog::http {

using handler = std::function<boost::asio::awaitable<outgoing>(request_context&)>;

class router {
public:
    void add(beast_http::verb method, std::string_view pattern, handler route_handler);

    struct match {
        const handler* route_handler = nullptr;
        std::map<std::string, std::string, std::less<>> params;
        // True when the path exists under another method: the answer is 405, not 404.
        bool other_method_matches = false;
    };
    // `segments` are the decoded path segments of the request.
    match find(beast_http::verb method, const std::vector<std::string>& segments) const;

private:
    struct route {
        beast_http::verb method;
        std::vector<std::string> segments;  // "{name}" marks a capture
        handler route_handler;
    };
    std::vector<route> routes_;
};

}  // namespace metahog::http
