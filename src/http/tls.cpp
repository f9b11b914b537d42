// Building the server's TLS context; OpenSSL's errors become one line an administrator can act on.
#include "http/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fstream>
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace metahog::http {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites with forward secrecy and AEAD (Mozilla's "intermediate" list); TLS 1.3 suites are all
// modern and keep OpenSSL's defaults.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The reason of the last OpenSSL error, then the queue cleared so that no stale error reaches the next call.
std::string openssl_reason() {
    const unsigned long code = ERR_peek_last_error();
    const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
    ERR_clear_error();
    return reason != nullptr ? reason : "unknown OpenSSL error";
}

error tls_error(const std::string& what) {
    return make_error(error_code::invalid_input, what);
}

// Opening the file ourselves first tells "missing or unreadable" apart from "not a certificate".
result<void> check_readable(const std::filesystem::path& file, const char* setting) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return tls_error(std::string(setting) + ": cannot read " + file.string() +
                         " (missing, or not readable by MetaHog)");
    }
    return {};
}

}  // namespace

result<std::shared_ptr<ssl::context>> make_tls_context(const std::filesystem::path& certificate,
                                                       const std::filesystem::path& private_key) {
    if (auto readable = check_readable(certificate, "server.tls_certificate"); !readable) {
        return std::move(readable).error();
    }
    if (auto readable = check_readable(private_key, "server.tls_private_key"); !readable) {
        return std::move(readable).error();
    }
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    SSL_CTX* native = context->native_handle();
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1) {
        return make_error(error_code::internal, "cannot configure TLS: " + openssl_reason());
    }
    // No compression (CRIME), no renegotiation by clients, the server's preference of ciphers wins.
    SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(native, certificate.c_str()) != 1) {
        return tls_error("server.tls_certificate: " + certificate.string() +
                         " is not a PEM certificate: " + openssl_reason());
    }
    if (SSL_CTX_use_PrivateKey_file(native, private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
        // OpenSSL checks the pair while loading the key already: tell that case apart from a malformed key.
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            return tls_error("server.tls_private_key: " + private_key.string() +
                             " does not match the certificate in " + certificate.string());
        }
        return tls_error("server.tls_private_key: " + private_key.string() +
                         " is not a PEM private key: " + openssl_reason());
    }
    if (SSL_CTX_check_private_key(native) != 1) {
        return tls_error("server.tls_private_key: " + private_key.string() +
                         " does not match the certificate in " + certificate.string());
    }
    return context;
}

}  // namespace metahog::http
