// TLS for the HTTP server: the OpenSSL context built once at start-up from the configured certificate and key.
#pragma once

#include <filesystem>
#include <memory>

#include "core/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace metahog::http {

// A server context for TLS 1.2 and 1.3 only, with forward-secret AEAD cipher suites, holding the certificate
// chain and private key (PEM files). invalid_input naming the file and the reason when a file is missing or
// unreadable, is not PEM, or the key does not match the certificate; never any key material.
result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(const std::filesystem::path& certificate,
                                                                    const std::filesystem::path& private_key);

}  // namespace metahog::http
