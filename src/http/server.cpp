// Connection handling for the HTTP server. Every socket operation has a deadline; handler exceptions are caught
// here, at the top of the connection, and logged with the request id.
#include "http/server.hpp"

#include <chrono>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include "http/error_response.hpp"

namespace metahog::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

struct server::connection {
    explicit connection(tcp::socket socket, std::uint64_t connection_id)
        : stream(std::move(socket)), id(connection_id) {}
    beast::tcp_stream stream;
    std::uint64_t id;
    // Only touched on the connection's strand.
    bool idle = true;
    bool closing = false;
};

namespace {

std::string new_request_id() {
    static const std::uint64_t process_part = std::random_device{}();
    static std::atomic<std::uint64_t> counter{0};
    char text[24];
    std::snprintf(text, sizeof text, "%06llx-%08llx",
                  static_cast<unsigned long long>(process_part & 0xffffff),
                  static_cast<unsigned long long>(counter.fetch_add(1, std::memory_order_relaxed)));
    return text;
}

std::string remote_address_of(const beast::tcp_stream& stream) {
    boost::system::error_code ec;
    const auto endpoint = stream.socket().remote_endpoint(ec);
    return ec ? std::string("unknown") : endpoint.address().to_string();
}

outgoing not_found_response() {
    return error_response(make_error(error_code::not_found, "not found"));
}

// Writes chunks of a streamed body, each within the read timeout so a client that stops reading is dropped.
class socket_chunk_writer final : public chunk_writer {
public:
    socket_chunk_writer(beast::tcp_stream& stream, std::chrono::seconds timeout)
        : stream_(stream), timeout_(timeout) {}

    asio::awaitable<result<void>> write(std::string_view chunk) override {
        if (chunk.empty()) {
            co_return result<void>{};
        }
        boost::system::error_code ec;
        stream_.expires_after(timeout_);
        co_await asio::async_write(stream_, beast::http::make_chunk(asio::buffer(chunk.data(), chunk.size())),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            co_return make_error(error_code::unavailable, "the client went away: " + ec.message());
        }
        bytes_written_ += chunk.size();
        co_return result<void>{};
    }

    std::size_t bytes_written() const { return bytes_written_; }

private:
    beast::tcp_stream& stream_;
    std::chrono::seconds timeout_;
    std::size_t bytes_written_ = 0;
};

// Completes only if the client closes its end while a request is being handled; then it notifies the
// request's disconnect signal and keeps waiting, so the handler can finish (and cancel its query) itself.
asio::awaitable<void> watch_for_disconnect(beast::tcp_stream& stream, std::shared_ptr<client_disconnect> signal) {
    boost::system::error_code ec;
    co_await stream.socket().async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted) {
        co_return;
    }
    char probe = 0;
    // Non-blocking: the session may already have read the bytes that woke this wait (the client's next
    // request, arriving as the handler finished); a blocking peek would then stall this I/O thread for good.
    stream.socket().non_blocking(true, ec);
    const auto peeked = stream.socket().receive(asio::buffer(&probe, 1), tcp::socket::message_peek, ec);
    if ((ec && ec != asio::error::would_block) || (!ec && peeked == 0)) {
        signal->notify();
    }
    // Either the client is gone or it sent the next request early: wait until the handler is done.
    asio::steady_timer forever(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    co_await forever.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

server::server(asio::io_context& io, server_settings settings, const router& routes, metrics& counters,
               const static_files& files)
    : io_(io),
      settings_(std::move(settings)),
      routes_(routes),
      metrics_(counters),
      files_(files),
      acceptor_(asio::make_strand(io)) {}

server::~server() = default;

result<tcp::endpoint> server::listen() {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(settings_.listen_host, ec);
    if (ec) {
        return make_error(error_code::invalid_input,
                          "listen address must be an IP address, got '" + settings_.listen_host + "'");
    }
    const tcp::endpoint endpoint(address, settings_.listen_port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return make_error(error_code::unavailable, "cannot listen on " + settings_.listen_host + ":" +
                                                       std::to_string(settings_.listen_port) + ": " + ec.message());
    }
    return acceptor_.local_endpoint();
}

void server::start() {
    asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

asio::awaitable<void> server::accept_loop() {
    for (;;) {
        boost::system::error_code ec;
        // Each connection gets its own strand, so its coroutine never runs on two threads at once.
        tcp::socket socket = co_await acceptor_.async_accept(asio::make_strand(io_),
                                                             asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
                co_return;
            }
            spdlog::warn("msg=accept_failed error=\"{}\"", ec.message());
            continue;
        }
        socket.set_option(tcp::no_delay(true), ec);
        std::shared_ptr<connection> state;
        {
            std::lock_guard lock(connections_mutex_);
            if (shutting_down_) {
                continue;
            }
            state = std::make_shared<connection>(std::move(socket), next_connection_id_++);
            connections_.emplace(state->id, state);
        }
        metrics_.connection_opened();
        auto executor = state->stream.get_executor();
        asio::co_spawn(executor, run_connection(state), [this, id = state->id](std::exception_ptr failure) {
            // Boost 1.81 hands a null exception_ptr on success; only a real one is worth a log line.
            if (failure) {
                try {
                    std::rethrow_exception(failure);
                } catch (const std::exception& ex) {
                    spdlog::error("msg=connection_failed error=\"{}\"", ex.what());
                }
            }
            connection_ended(id);
        });
    }
}

void server::connection_ended(std::uint64_t id) {
    metrics_.connection_closed();
    std::function<void()> drained;
    {
        std::lock_guard lock(connections_mutex_);
        connections_.erase(id);
        if (shutting_down_ && connections_.empty() && on_drained_) {
            drained = std::move(on_drained_);
            on_drained_ = nullptr;
        }
    }
    if (drained) {
        drained();
    }
}

void server::shutdown(std::function<void()> on_drained) {
    std::vector<std::shared_ptr<connection>> open;
    bool already_drained = false;
    {
        std::lock_guard lock(connections_mutex_);
        shutting_down_ = true;
        for (auto& [id, state] : connections_) {
            open.push_back(state);
        }
        already_drained = connections_.empty();
        if (!already_drained) {
            on_drained_ = std::move(on_drained);
        }
    }
    asio::post(acceptor_.get_executor(), [this] {
        boost::system::error_code ec;
        acceptor_.close(ec);
    });
    for (auto& state : open) {
        asio::post(state->stream.get_executor(), [state] {
            state->closing = true;
            if (state->idle) {
                state->stream.cancel();
            }
        });
    }
    if (already_drained && on_drained) {
        on_drained();
    }
}

asio::awaitable<outgoing> server::dispatch(request_context& context) {
    const auto& req = context.req;
    std::vector<std::string> segments;
    for (const auto segment : context.target.segments()) {
        segments.push_back(segment);
    }
    // The contract makes a trailing slash optional.
    if (!segments.empty() && segments.back().empty()) {
        segments.pop_back();
    }
    // path() returns a decoded std::string: a string_view of it would dangle once the statement ends.
    const std::string path = context.target.path();
    const bool is_api = path.starts_with("/api/") || path == "/api" || path == "/healthz" || path == "/metrics";
    if (is_api) {
        auto method = req.method() == beast_http::verb::head ? beast_http::verb::get : req.method();
        auto found = routes_.find(method, segments);
        if (found.route_handler == nullptr) {
            if (found.other_method_matches) {
                co_return error_response(make_error(error_code::method_not_allowed,
                                                    std::string(req.method_string()) + " is not allowed here"));
            }
            co_return not_found_response();
        }
        context.path_params = std::move(found.params);
        co_return co_await (*found.route_handler)(context);
    }
    if (req.method() != beast_http::verb::get && req.method() != beast_http::verb::head) {
        co_return error_response(make_error(error_code::method_not_allowed, "only GET is allowed here"));
    }
    if (auto file = files_.serve(path)) {
        co_return std::move(*file);
    }
    co_return not_found_response();
}

asio::awaitable<void> server::run_connection(std::shared_ptr<connection> state) {
    auto& stream = state->stream;
    beast::flat_buffer buffer;
    const std::string remote = remote_address_of(stream);
    bool first_request = true;

    for (;;) {
        beast_http::request_parser<beast_http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(settings_.max_header_bytes));
        parser.body_limit(settings_.max_body_bytes);
        boost::system::error_code ec;

        state->idle = true;
        if (state->closing) {
            break;
        }
        stream.expires_after(first_request ? settings_.read_timeout : settings_.idle_timeout);
        co_await beast_http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        state->idle = false;
        first_request = false;
        const auto started = std::chrono::steady_clock::now();

        outgoing response;
        bool keep_alive = false;
        request_context* context_for_log = nullptr;
        std::string request_id = new_request_id();

        if (ec == beast_http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset || ec == asio::error::eof) {
            break;
        }
        if (!ec && parser.get()[beast_http::field::expect] == "100-continue") {
            beast_http::response<beast_http::empty_body> go_on{status::continue_, 11};
            stream.expires_after(settings_.read_timeout);
            co_await beast_http::async_write(stream, go_on, asio::redirect_error(asio::use_awaitable, ec));
        }
        if (!ec && !parser.is_done()) {
            stream.expires_after(settings_.read_timeout);
            co_await beast_http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        }

        const request& req = parser.get();
        std::optional<request_context> context;
        if (ec == beast_http::error::header_limit) {
            response = error_response(make_error(error_code::invalid_input, "request headers are too large"));
            response.code = status::request_header_fields_too_large;
        } else if (ec == beast_http::error::body_limit) {
            response = error_response(make_error(
                error_code::payload_too_large,
                "request body is larger than " + std::to_string(settings_.max_body_bytes) + " bytes"));
        } else if (ec == beast::error::timeout) {
            response = error_response(make_error(error_code::invalid_input, "request was not received in time"));
            response.code = status::request_timeout;
        } else if (ec) {
            if (ec == beast_http::error::end_of_stream || ec == asio::error::connection_reset ||
                ec == asio::error::eof || ec == asio::error::operation_aborted) {
                break;
            }
            response = error_response(make_error(error_code::invalid_input, "malformed request: " + ec.message()));
        } else {
            auto target = boost::urls::parse_origin_form(std::string_view(req.target().data(), req.target().size()));
            if (!target) {
                response = error_response(make_error(error_code::invalid_input, "malformed request target"));
            } else {
                keep_alive = req.keep_alive() && !state->closing;
                context.emplace(request_context{req, *target, {}, remote, request_id,
                                                std::make_shared<client_disconnect>(), 0});
                context_for_log = &*context;
                stream.expires_never();
                try {
                    auto handled = co_await (dispatch(*context) || watch_for_disconnect(stream, context->disconnect));
                    response = std::move(std::get<0>(handled));
                } catch (const std::exception& ex) {
                    spdlog::error("msg=handler_failed request_id={} error=\"{}\"", request_id, ex.what());
                    response = error_response(
                        make_error(error_code::internal, "internal error (request id " + request_id + ")"));
                }
            }
        }

        // Write the response, complete or streamed.
        std::size_t bytes_sent = 0;
        bool stream_failed = false;
        const bool head_only = !ec && req.method() == beast_http::verb::head;
        if (!response.stream) {
            beast_http::response<beast_http::string_body> message{response.code, 11};
            message.set(beast_http::field::server, "MetaHog");
            if (!response.content_type.empty()) {
                message.set(beast_http::field::content_type, response.content_type);
            }
            for (const auto& [name, value] : response.headers) {
                message.insert(name, value);
            }
            message.keep_alive(keep_alive);
            bytes_sent = response.body.size();
            if (head_only) {
                message.content_length(response.body.size());
            } else {
                message.body() = std::move(response.body);
                message.prepare_payload();
            }
            stream.expires_after(settings_.read_timeout);
            co_await beast_http::async_write(stream, message, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) {
                keep_alive = false;
            }
        } else {
            beast_http::response<beast_http::empty_body> message{response.code, 11};
            message.set(beast_http::field::server, "MetaHog");
            message.set(beast_http::field::content_type, response.content_type);
            for (const auto& [name, value] : response.headers) {
                message.insert(name, value);
            }
            message.keep_alive(keep_alive);
            message.chunked(true);
            beast_http::response_serializer<beast_http::empty_body> serializer{message};
            stream.expires_after(settings_.read_timeout);
            co_await beast_http::async_write_header(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
            if (!ec) {
                socket_chunk_writer writer(stream, settings_.read_timeout);
                result<void> produced = make_error(error_code::internal, "stream did not run");
                try {
                    auto streamed =
                        co_await (response.stream(writer) || watch_for_disconnect(stream, context->disconnect));
                    produced = std::move(std::get<0>(streamed));
                } catch (const std::exception& ex) {
                    spdlog::error("msg=stream_failed request_id={} error=\"{}\"", request_id, ex.what());
                }
                bytes_sent = writer.bytes_written();
                if (produced) {
                    stream.expires_after(settings_.read_timeout);
                    co_await asio::async_write(stream, beast_http::make_chunk_last(),
                                               asio::redirect_error(asio::use_awaitable, ec));
                } else {
                    // The status line is gone already: ending without the last chunk tells the client the
                    // body is incomplete. The producer has written an error frame where its format allows.
                    stream_failed = true;
                    spdlog::warn("msg=stream_aborted request_id={} error=\"{}\"", request_id,
                                 produced.error().message);
                }
            }
            if (ec || stream_failed) {
                keep_alive = false;
            }
        }

        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        metrics_.record_request(static_cast<unsigned>(response.code), seconds);
        const std::string_view raw_path =
            context_for_log ? std::string_view(context_for_log->target.encoded_path()) : std::string_view("-");
        spdlog::info("msg=request request_id={} method={} path={} status={} bytes={} duration_ms={:.2f} "
                     "remote={} user_id={}{}",
                     request_id, std::string_view(req.method_string().data(), req.method_string().size()),
                     raw_path, static_cast<unsigned>(response.code), bytes_sent, seconds * 1000.0, remote,
                     context_for_log ? context_for_log->user_id : 0, stream_failed ? " stream=aborted" : "");

        if (!keep_alive) {
            break;
        }
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.close();
}

}  // namespace metahog::http
