// What handlers see and return: a parsed request with its routing context, and an outgoing response that is
// either a complete body or a stream of chunks written as they are produced (exports).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/url_view.hpp>

#include "core/result.hpp"

namespace metahog::http {

namespace beast_http = boost::beast::http;
using request = beast_http::request<beast_http::string_body>;
using status = beast_http::status;

// Fires once when the client goes away mid-request, so long work (a query) can be cancelled on the database.
class client_disconnect {
public:
    // Runs `callback` when the client disconnects, at once when it already has. Callbacks run on an I/O thread
    // and must not block.
    void on_disconnect(std::function<void()> callback);
    void notify();
    bool disconnected() const;

private:
    mutable std::mutex mutex_;
    bool disconnected_ = false;
    std::vector<std::function<void()>> callbacks_;
};

// Writes the body of a streamed response as chunks. Each write waits for the socket (backpressure).
class chunk_writer {
public:
    virtual ~chunk_writer() = default;
    virtual boost::asio::awaitable<result<void>> write(std::string_view chunk) = 0;
};

using stream_producer = std::function<boost::asio::awaitable<result<void>>(chunk_writer&)>;

struct outgoing {
    status code = status::ok;
    std::string content_type = "application/json";
    std::string body;
    // Extra headers (Set-Cookie, Retry-After, Content-Disposition, caching).
    std::vector<std::pair<std::string, std::string>> headers;
    // When set, the body is sent with chunked transfer encoding from this producer and `body` is ignored.
    stream_producer stream;
};

struct request_context {
    const request& req;
    boost::urls::url_view target;  // parsed request target: path and query
    std::map<std::string, std::string, std::less<>> path_params;
    std::string remote_address;
    std::string request_id;
    std::shared_ptr<client_disconnect> disconnect;
    // Set by authentication so the access log can name the caller.
    std::int64_t user_id = 0;

    std::string_view path_param(std::string_view name) const;
    // The first value of a query parameter, or empty.
    std::string query_param(std::string_view name) const;
};

}  // namespace metahog::http
