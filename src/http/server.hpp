// The HTTP/1.1 server: one coroutine per connection on its own strand, keep-alive, limits on header and body
// size, read and idle timeouts, one log line per request, and a graceful shutdown that lets requests in flight
// finish while idle connections are closed. With a certificate configured it serves HTTPS only: the same
// session code runs over a TLS stream.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/result.hpp"
#include "core/settings.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/static_files.hpp"

namespace boost::asio::ssl {
class context;
}

namespace metahog::http {

class server {
public:
    server(boost::asio::io_context& io, server_settings settings, const router& routes, metrics& counters,
           const static_files& files);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Loads the TLS certificate and key when configured (a bad, unreadable or mismatched pair is an error), then
    // binds the listening socket; the returned endpoint has the real port when the setting asked for port 0.
    result<boost::asio::ip::tcp::endpoint> listen();
    bool serves_tls() const noexcept { return tls_ != nullptr; }
    // Starts accepting connections on the io_context.
    void start();
    // Stops accepting, closes idle connections, and calls `on_drained` once the last connection has ended.
    void shutdown(std::function<void()> on_drained);

    // The request handling without sockets: routing, errors, static files. Public for tests.
    boost::asio::awaitable<outgoing> dispatch(request_context& context);

    struct connection;

private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> run_connection(std::shared_ptr<connection> state);
    // The TLS handshake (a plain-HTTP request gets a 400 saying so), then the session over the TLS stream.
    boost::asio::awaitable<void> run_tls_connection(std::shared_ptr<connection> state);
    // Requests and responses on one connection until it closes; Stream is the TCP stream or a TLS stream on it.
    template <class Stream>
    boost::asio::awaitable<void> run_session(connection& state, Stream& stream);
    void connection_ended(std::uint64_t id);

    boost::asio::io_context& io_;
    server_settings settings_;
    const router& routes_;
    metrics& metrics_;
    const static_files& files_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<boost::asio::ssl::context> tls_;

    std::mutex connections_mutex_;
    std::map<std::uint64_t, std::shared_ptr<connection>> connections_;
    std::uint64_t next_connection_id_ = 1;
    bool shutting_down_ = false;
    std::function<void()> on_drained_;
};

}  // namespace metahog::http
