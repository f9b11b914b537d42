// Blocking Beast client used by the HTTP integration tests.
#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <memory>

namespace metahog::test_support {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct http_client::connection {
    asio::io_context io;
    asio::ip::tcp::socket socket{io};
    // Set for HTTPS: the TLS stream on `socket`.
    std::unique_ptr<asio::ssl::context> tls_context;
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls;
    beast::flat_buffer buffer;
};

boost::json::value http_reply::json() const {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(body, ec);
    if (ec) {
        return boost::json::value(nullptr);
    }
    return parsed;
}

std::string http_reply::header(const std::string& lower_case_name) const {
    const auto found = headers.find(lower_case_name);
    return found == headers.end() ? std::string() : found->second;
}

http_client::http_client(std::string host, unsigned short port) : host_(std::move(host)), port_(port) {}

http_client::http_client(std::string host, unsigned short port, std::filesystem::path trusted_certificate)
    : host_(std::move(host)), port_(port), trusted_certificate_(std::move(trusted_certificate)) {}

http_client::~http_client() {
    delete connection_;
}

http_reply http_client::request(const std::string& method, const std::string& target, const std::string& body,
                                const std::map<std::string, std::string>& headers) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (connection_ == nullptr) {
            connection_ = new connection();
            asio::ip::tcp::endpoint endpoint(asio::ip::make_address(host_), port_);
            connection_->socket.connect(endpoint);
            if (!trusted_certificate_.empty()) {
                auto& state = *connection_;
                state.tls_context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
                state.tls_context->load_verify_file(trusted_certificate_.string());
                state.tls_context->set_verify_mode(asio::ssl::verify_peer);
                state.tls = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(state.socket, *state.tls_context);
                try {
                    state.tls->handshake(asio::ssl::stream_base::client);
                } catch (...) {
                    delete connection_;
                    connection_ = nullptr;
                    throw;
                }
            }
        }
        http::request<http::string_body> req{http::string_to_verb(method), target, 11};
        req.set(http::field::host, host_ + ":" + std::to_string(port_));
        for (const auto& [name, value] : headers) {
            req.set(name, value);
        }
        if (!body.empty()) {
            if (req[http::field::content_type].empty()) {
                req.set(http::field::content_type, "application/json");
            }
            req.body() = body;
        }
        req.prepare_payload();
        boost::system::error_code ec;
        http::response_parser<http::string_body> parser;
        parser.body_limit(1ULL << 32);
        const auto exchange = [&](auto& stream) {
            http::write(stream, req, ec);
            if (!ec) {
                http::read(stream, connection_->buffer, parser, ec);
            }
        };
        if (connection_->tls) {
            exchange(*connection_->tls);
        } else {
            exchange(connection_->socket);
        }
        if (ec) {
            // The server closed a kept-alive connection: try once more on a new one.
            delete connection_;
            connection_ = nullptr;
            if (attempt == 0) {
                continue;
            }
            throw std::runtime_error("HTTP " + method + " " + target + " failed: " + ec.message());
        }
        auto response = parser.release();
        http_reply reply;
        reply.status = response.result_int();
        reply.body = response.body();
        for (const auto& field : response) {
            std::string name(field.name_string());
            for (auto& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            reply.headers.emplace(name, std::string(field.value()));
            transcript_ += name + ": " + std::string(field.value()) + "\n";
        }
        transcript_ += reply.body + "\n";
        if (!response.keep_alive()) {
            delete connection_;
            connection_ = nullptr;
        }
        return reply;
    }
    throw std::logic_error("unreachable");
}

http_reply http_client::get(const std::string& target, const std::map<std::string, std::string>& headers) {
    return request("GET", target, {}, headers);
}

http_reply http_client::post_json(const std::string& target, const boost::json::value& body,
                                  const std::map<std::string, std::string>& headers) {
    return request("POST", target, boost::json::serialize(body), headers);
}

http_reply http_client::patch_json(const std::string& target, const boost::json::value& body,
                                   const std::map<std::string, std::string>& headers) {
    return request("PATCH", target, boost::json::serialize(body), headers);
}

http_reply http_client::del(const std::string& target, const std::map<std::string, std::string>& headers) {
    return request("DELETE", target, {}, headers);
}

std::map<std::string, std::string> bearer(const std::string& api_key) {
    return {{"Authorization", "Bearer " + api_key}};
}

}  // namespace metahog::test_support
