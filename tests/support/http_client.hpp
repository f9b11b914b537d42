// A small blocking HTTP/1.1 client for tests: keeps one connection alive, sends JSON, remembers cookies it is
// told to, speaks HTTPS when given a certificate to trust. Tests may block; the server under test may not.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <boost/json/value.hpp>

namespace metahog::test_support {

struct http_reply {
    unsigned status = 0;
    std::string body;
    std::multimap<std::string, std::string> headers;  // lower-case names

    boost::json::value json() const;
    std::string header(const std::string& lower_case_name) const;
};

class http_client {
public:
    http_client(std::string host, unsigned short port);
    // HTTPS, trusting only `trusted_certificate` (PEM): the server's certificate must chain to it. A failed
    // handshake (wrong certificate, plain HTTP server) throws (a std::runtime_error) from request().
    http_client(std::string host, unsigned short port, std::filesystem::path trusted_certificate);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    // Sends one request; `headers` are added as given. Opens a new connection when the last one closed.
    http_reply request(const std::string& method, const std::string& target, const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {});
    http_reply get(const std::string& target, const std::map<std::string, std::string>& headers = {});
    http_reply post_json(const std::string& target, const boost::json::value& body,
                         const std::map<std::string, std::string>& headers = {});
    http_reply patch_json(const std::string& target, const boost::json::value& body,
                          const std::map<std::string, std::string>& headers = {});
    http_reply del(const std::string& target, const std::map<std::string, std::string>& headers = {});

    // Every raw response body and header block this client has seen, to check nothing secret ever left.
    const std::string& transcript() const { return transcript_; }

private:
    struct connection;
    std::string host_;
    unsigned short port_;
    std::filesystem::path trusted_certificate_;
    connection* connection_ = nullptr;
    std::string transcript_;
};

std::map<std::string, std::string> bearer(const std::string& api_key);

}  // namespace metahog::test_support
