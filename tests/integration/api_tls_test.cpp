// End-to-end tests of HTTPS serving: the real `metahog serve` with a self-signed certificate made in the test's
// temp dir by the openssl command, the test client trusting exactly that certificate.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <boost/json.hpp>

#include "support/http_client.hpp"
#include "support/server_process.hpp"

namespace metahog::test_support {
namespace {

namespace fs = std::filesystem;

// A self-signed P-256 certificate for 127.0.0.1 and its key, as PEM files in dir.
void make_certificate(const fs::path& dir, const std::string& name) {
    const std::string command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                                "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout '" +
                                (dir / (name + ".key")).string() + "' -out '" + (dir / (name + ".crt")).string() +
                                "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(command.c_str()), 0) << "the openssl command is needed to make a test certificate";
}

std::vector<std::string> tls_environment(const fs::path& certificate, const fs::path& key) {
    return {"METAHOG_TLS_CERTIFICATE=" + certificate.string(), "METAHOG_TLS_PRIVATE_KEY=" + key.string()};
}

class api_tls_test : public ::testing::Test {
protected:
    void SetUp() override {
        make_certificate(certificates_.path(), "server");
        make_certificate(certificates_.path(), "other");
    }

    fs::path file(const std::string& name) const { return certificates_.path() / name; }

    // `metahog serve` expected to refuse to start: its one-line error.
    std::string refused_start(const std::vector<std::string>& environment) {
        auto output = run_metahog({"serve", "--data-dir", (data_.path() / "data").string(), "--listen", "127.0.0.1:0"},
                                  environment, std::chrono::seconds(20));
        EXPECT_NE(output.exit_code, 0) << output.out;
        EXPECT_EQ(output.out.find("listening"), std::string::npos) << "must fail before listening";
        EXPECT_EQ(std::count(output.err.begin(), output.err.end(), '\n'), 1) << output.err;
        return output.err;
    }

    temp_dir certificates_;
    temp_dir data_;
};

TEST_F(api_tls_test, serves_https_with_hsts_and_secure_cookies) {
    server_process server(data_.path() / "data", tls_environment(file("server.crt"), file("server.key")));
    const std::string password = "correct horse battery staple";
    server.bootstrap("admin@example.com", password, "Alpha");
    http_client client("127.0.0.1", server.port(), file("server.crt"));

    auto health = client.get("/healthz");
    EXPECT_EQ(health.status, 200u);
    EXPECT_EQ(health.header("strict-transport-security"), "max-age=31536000");

    auto login = client.post_json("/api/auth/login", {{"email", "admin@example.com"}, {"password", password}});
    ASSERT_EQ(login.status, 200u) << login.body;
    const std::string cookie = login.header("set-cookie");
    EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
    EXPECT_EQ(login.header("strict-transport-security"), "max-age=31536000");
    // Keep-alive works over TLS: the same connection answers again.
    EXPECT_EQ(client.get("/api/auth/me", {{"Cookie", cookie.substr(0, cookie.find(';'))}}).status, 200u);

    // Plain HTTP to the HTTPS port is answered with a clear 400, never served.
    http_client plain("127.0.0.1", server.port());
    auto refused = plain.get("/healthz");
    EXPECT_EQ(refused.status, 400u);
    EXPECT_NE(refused.body.find("HTTPS only"), std::string::npos) << refused.body;

    // A client that trusts another certificate refuses the server: the test client really verifies.
    http_client distrustful("127.0.0.1", server.port(), file("other.crt"));
    EXPECT_THROW(distrustful.get("/healthz"), std::runtime_error);
    // And the server goes on serving after that failed handshake.
    EXPECT_EQ(client.get("/healthz").status, 200u);
    EXPECT_EQ(server.stop(), 0);
}

TEST_F(api_tls_test, plain_http_servers_send_no_hsts) {
    server_process server(data_.path() / "data");
    http_client client("127.0.0.1", server.port());
    auto health = client.get("/healthz");
    EXPECT_EQ(health.status, 200u);
    EXPECT_EQ(health.header("strict-transport-security"), "");
}

TEST_F(api_tls_test, a_bad_certificate_or_key_stops_start_up_with_one_clear_line) {
    const std::string mismatched = refused_start(tls_environment(file("server.crt"), file("other.key")));
    EXPECT_NE(mismatched.find("does not match the certificate"), std::string::npos) << mismatched;

    const std::string missing = refused_start(tls_environment(file("absent.crt"), file("server.key")));
    EXPECT_NE(missing.find("server.tls_certificate: cannot read"), std::string::npos) << missing;

    const std::string not_a_key = refused_start(tls_environment(file("server.crt"), file("server.crt")));
    EXPECT_NE(not_a_key.find("server.tls_private_key"), std::string::npos) << not_a_key;

    std::ofstream(file("garbage.crt")) << "not a certificate\n";
    const std::string garbage = refused_start(tls_environment(file("garbage.crt"), file("server.key")));
    EXPECT_NE(garbage.find("is not a PEM certificate"), std::string::npos) << garbage;

    const std::string half = refused_start({"METAHOG_TLS_CERTIFICATE=" + file("server.crt").string()});
    EXPECT_NE(half.find("must be set together"), std::string::npos) << half;

    // The private key is never echoed in any of these messages.
    std::ifstream key_in(file("server.key"));
    const std::string key_pem((std::istreambuf_iterator<char>(key_in)), {});
    const std::string key_body = key_pem.substr(key_pem.find('\n') + 1, 40);
    for (const auto& message : {mismatched, missing, not_a_key, garbage, half}) {
        EXPECT_EQ(message.find(key_body), std::string::npos);
    }
}

}  // namespace
}  // namespace metahog::test_support
