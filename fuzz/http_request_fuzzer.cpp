// Fuzz target: bytes a client sends on one keep-alive connection, read as server.cpp reads them (the same
// parser and limits from http/request_reading.hpp, fed in socket-sized chunks), then the target parsing,
// routing, path and query parameters and static files of server::dispatch, the session cookie and the JSON
// body. Aborts when a file outside the web root is served or a request that never reached a handler answers
// 500.
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "api/request_support.hpp"
#include "http/error_response.hpp"
#include "http/metrics.hpp"
#include "http/request_reading.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using namespace metahog;

constexpr std::string_view secret_text = "fuzz-secret-outside-the-web-root";

// A SyncReadStream over the fuzz input handing out at most `chunk` bytes per read, as a socket may: the
// parser must cope with a header or a chunk-size line split anywhere.
class input_stream {
public:
    input_stream(std::string_view data, std::size_t chunk) : data_(data), chunk_(chunk) {}

    template <class MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
        if (data_.empty()) {
            ec = asio::error::eof;
            return 0;
        }
        ec = {};
        const std::size_t copied =
            asio::buffer_copy(buffers, asio::buffer(data_.data(), std::min(chunk_, data_.size())));
        data_.remove_prefix(copied);
        return copied;
    }

    template <class MutableBuffers>
    std::size_t read_some(const MutableBuffers& buffers) {
        boost::system::error_code ec;
        const std::size_t copied = read_some(buffers, ec);
        if (ec) {
            throw boost::system::system_error(ec);
        }
        return copied;
    }

private:
    std::string_view data_;
    std::size_t chunk_;
};

// Routes with the API's shapes; each handler reads its captures and a few query parameters, as real ones do.
http::handler echo_handler() {
    return [](http::request_context& context) -> asio::awaitable<http::outgoing> {
        http::outgoing response;
        for (const auto& [name, value] : context.path_params) {
            response.body += name + "=" + value + "\n";
        }
        for (const std::string_view name : {"refresh", "format", "source_id", "q"}) {
            response.body += context.query_param(name);
        }
        co_return response;
    };
}

struct fixture {
    std::filesystem::path root;
    asio::io_context io;
    http::router routes;
    http::metrics counters;
    std::optional<http::static_files> files;
    std::optional<http::server> server;
    server_settings settings;

    fixture() {
        char pattern[] = "/tmp/metahog-fuzz-http-XXXXXX";
        if (mkdtemp(pattern) == nullptr) {
            std::abort();
        }
        root = pattern;
        std::filesystem::create_directories(root / "web" / "assets");
        std::ofstream(root / "web" / "index.html") << "<!doctype html><title>index</title>";
        std::ofstream(root / "web" / "assets" / "app.js") << "console.log('app')";
        std::ofstream(root / "secret.txt") << secret_text;
        std::ofstream(root / "web.txt") << secret_text;  // shares the root's name as a prefix

        for (const std::string_view tail :
             {"direct_query/execute", "direct_query/explain", "direct_query/export", "direct_query/cancel",
              "direct_query/sources", "direct_query/schema/{source_id}", "external_data_sources",
              "external_data_sources/check", "external_data_sources/{id}"}) {
            for (const std::string_view base : {"/api/environments/{team_id}/", "/api/projects/{team_id}/"}) {
                routes.add(beast_http::verb::post, std::string(base) + std::string(tail), echo_handler());
                routes.add(beast_http::verb::get, std::string(base) + std::string(tail), echo_handler());
            }
        }
        for (const std::string_view path : {"/api/auth/login", "/api/auth/logout", "/api/auth/me",
                                            "/api/environments", "/api/projects", "/api/personal_api_keys",
                                            "/api/personal_api_keys/{id}", "/healthz", "/metrics"}) {
            routes.add(beast_http::verb::get, path, echo_handler());
        }
        routes.add(beast_http::verb::delete_, "/api/personal_api_keys/{id}", echo_handler());
        files.emplace(root / "web");
        if (!files->available()) {
            std::abort();
        }
        server.emplace(io, settings, routes, counters, *files);
    }
    ~fixture() {
        std::error_code ignored;
        std::filesystem::remove_all(root, ignored);
    }
};

fixture& shared_fixture() {
    static fixture instance;
    return instance;
}

http::outgoing dispatch(fixture& state, http::request_context& context) {
    std::optional<http::outgoing> response;
    asio::co_spawn(state.io, state.server->dispatch(context),
                   [&response](std::exception_ptr failure, http::outgoing result) {
                       // server.cpp would turn an exception into a 500; from routing alone it is a bug.
                       if (failure) {
                           std::abort();
                       }
                       response = std::move(result);
                   });
    state.io.restart();
    state.io.run();
    if (!response) {
        std::abort();
    }
    return std::move(*response);
}

void check_response(const http::outgoing& response) {
    if (response.code == http::status::internal_server_error) {
        std::fprintf(stderr, "dispatch answered 500\n");
        std::abort();
    }
    if (response.body.find(secret_text) != std::string::npos) {
        std::fprintf(stderr, "a file outside the web root was served\n");
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    fixture& state = shared_fixture();
    // The first byte picks the read size: 1..127 bytes, or everything at once.
    const std::size_t chunk = (data[0] & 0x80) != 0 ? size : static_cast<std::size_t>(data[0] & 0x7f) + 1;
    input_stream stream(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), chunk);
    beast::flat_buffer buffer;

    // Keep-alive: later requests start in what the previous read left in the buffer.
    for (int requests = 0; requests < 8; ++requests) {
        http::request_parser parser;
        http::apply_request_limits(parser, state.settings);
        boost::system::error_code ec;
        beast_http::read_header(stream, buffer, parser, ec);
        if (ec == beast_http::error::end_of_stream || ec == asio::error::eof) {
            return 0;
        }
        if (!ec && !parser.is_done()) {
            beast_http::read(stream, buffer, parser, ec);
        }
        if (ec) {
            // server.cpp answers these (431, 413, 400) and closes; nothing more is read from the connection.
            return 0;
        }
        const http::request& req = parser.get();
        auto target = http::parse_request_target(req);
        if (!target) {
            return 0;
        }
        http::request_context context{req, *target, {}, "192.0.2.1", "fuzz", std::make_shared<http::client_disconnect>(),
                                      0};
        check_response(dispatch(state, context));
        // What every API handler reads before its own work: the session cookie and a JSON body.
        if (api::session_cookie(req).find(';') != std::string::npos) {
            std::fprintf(stderr, "a session cookie value runs past its ';'\n");
            std::abort();
        }
        if (!req.body().empty()) {
            (void)api::json_body(context);
        }
        // What the access log prints.
        (void)context.target.encoded_path();
        if (!req.keep_alive()) {
            return 0;
        }
    }
    return 0;
}
