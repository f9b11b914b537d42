// Blocking Beast client used by the HTTP integration tests.
#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace metahog::test_support {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct http_client::connection {
    asio::io_context io;
    asio::ip::tcp::socket socket{io};
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
        http::write(connection_->socket, req, ec);
        http::response_parser<http::string_body> parser;
        parser.body_limit(1ULL << 32);
        if (!ec) {
            http::read(connection_->socket, connection_->buffer, parser, ec);
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
