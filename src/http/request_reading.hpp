// How a connection reads one request: the parser type, the limits it enforces and the only target form it
// serves. server.cpp and the HTTP fuzz target (fuzz/http_request_fuzzer.cpp) share these, so the fuzzer parses
// exactly as a connection does without needing a socket.
#pragma once

#include <cstdint>
#include <string_view>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/parse.hpp>

#include "core/settings.hpp"
#include "http/message.hpp"

namespace metahog::http {

using request_parser = beast_http::request_parser<beast_http::string_body>;

// A fresh parser per request: Beast's parsers cannot be reused after a message.
inline void apply_request_limits(request_parser& parser, const server_settings& settings) {
    parser.header_limit(static_cast<std::uint32_t>(settings.max_header_bytes));
    parser.body_limit(settings.max_body_bytes);
}

// Only origin-form ("/path?query") is served; absolute-form, authority-form and "*" are malformed here.
inline boost::system::result<boost::urls::url_view> parse_request_target(const request& req) {
    return boost::urls::parse_origin_form(std::string_view(req.target().data(), req.target().size()));
}

}  // namespace metahog::http
