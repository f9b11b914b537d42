// End-to-end tests of master-key rotation and key start-up errors: the real `metahog serve` and
// `metahog rotate-key` on one data directory, a real Postgres source, requests running throughout.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "support/http_client.hpp"
#include "support/postgres_instance.hpp"
#include "support/server_process.hpp"

namespace metahog::test_support {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

// The key lines of a key file (comments dropped).
std::vector<std::string> key_lines(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> keys;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.front() != '#') {
            keys.push_back(line);
        }
    }
    return keys;
}

void write_private_file(const fs::path& file, const std::string& content) {
    fs::remove(file);
    std::ofstream(file) << content;
    ::chmod(file.c_str(), 0600);
}

// A fresh random key in the text form MetaHog writes (44 characters of base64).
std::string random_key_text() {
    std::ifstream urandom("/dev/urandom", std::ios::binary);
    unsigned char bytes[32];
    urandom.read(reinterpret_cast<char*>(bytes), sizeof bytes);
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string text;
    for (std::size_t index = 0; index < 30; index += 3) {
        const unsigned value = (bytes[index] << 16) | (bytes[index + 1] << 8) | bytes[index + 2];
        for (int shift = 18; shift >= 0; shift -= 6) {
            text += alphabet[(value >> shift) & 63];
        }
    }
    const unsigned last = (bytes[30] << 16) | (bytes[31] << 8);
    text += alphabet[(last >> 18) & 63];
    text += alphabet[(last >> 12) & 63];
    text += alphabet[(last >> 6) & 63];
    text += '=';
    return text;
}

class api_keys_test : public ::testing::Test {
protected:
    void SetUp() override {
        METAHOG_REQUIRE_POSTGRES();
        pg_ = postgres_instance::shared();
        role_.emplace("keys_reader");
        database_.emplace("keys_db", role_->name());
        start_server();
        admin_ = server_->bootstrap("admin@example.com", "correct horse battery staple", "Alpha");
    }

    void start_server() {
        client_.reset();
        // Rate limits off: the rotation test queries as fast as it can.
        server_.emplace(data_dir(), std::vector<std::string>{"METAHOG_USER_QUERIES_PER_MINUTE=0",
                                                             "METAHOG_TEAM_QUERIES_PER_MINUTE=0",
                                                             "METAHOG_MAX_RUNNING_PER_USER=0"});
        client_.emplace("127.0.0.1", server_->port());
    }

    fs::path data_dir() const { return data_.path() / "data"; }
    fs::path key_file() const { return data_dir() / "secret.key"; }
    std::string api_key() const { return std::string(admin_.at("api_key").as_string()); }
    std::string team_path(const std::string& suffix) const {
        return "/api/environments/" + std::to_string(admin_.at("team_id").as_int64()) + "/" + suffix;
    }

    json::object inputs() const {
        return json::object{{"host", "127.0.0.1"},  {"port", pg_->port()},           {"database", database_->name()},
                            {"user", role_->name()}, {"password", role_->password()}, {"sslmode", "disable"}};
    }

    std::string create_source(http_client& client, const std::string& prefix) {
        auto reply = client.post_json(team_path("external_data_sources/"),
                                      json::object{{"source_type", "Postgres"}, {"prefix", prefix},
                                                   {"job_inputs", inputs()}},
                                      bearer(api_key()));
        EXPECT_EQ(reply.status, 201u) << reply.body;
        return reply.status == 201u ? std::string(reply.json().at("id").as_string()) : std::string();
    }

    http_reply run_query(http_client& client, const std::string& source_id) {
        return client.post_json(team_path("direct_query/execute"),
                                json::object{{"source_id", source_id}, {"sql", "SELECT 1 AS one"}},
                                bearer(api_key()));
    }

    // `metahog serve` on the data dir, expected to refuse to start: its one-line error.
    std::string refused_start(const std::vector<std::string>& environment = {}) {
        server_.reset();
        auto output = run_metahog({"serve", "--data-dir", data_dir().string(), "--listen", "127.0.0.1:0"},
                                  environment, std::chrono::seconds(20));
        EXPECT_NE(output.exit_code, 0) << output.out;
        EXPECT_EQ(output.out.find("listening"), std::string::npos) << "must fail before listening";
        EXPECT_EQ(std::count(output.err.begin(), output.err.end(), '\n'), 1) << output.err;
        return output.err;
    }

    const postgres_instance* pg_ = nullptr;
    temp_dir data_;
    std::optional<test_role> role_;
    std::optional<test_database> database_;
    std::optional<server_process> server_;
    json::object admin_;
    std::optional<http_client> client_;
};

// The promise: rotate while the server runs, no request fails, the rotated file serves a restart.
TEST_F(api_keys_test, rotating_while_serving_fails_no_request_and_survives_a_restart) {
    const std::string source_id = create_source(*client_, "before");
    ASSERT_FALSE(source_id.empty());
    const auto old_keys = key_lines(key_file());
    ASSERT_EQ(old_keys.size(), 1u);

    // Readers and writers, on their own connection, for as long as the rotation takes and a little after.
    std::atomic<bool> stop = false;
    std::atomic<int> rounds = 0;
    std::mutex failures_mutex;
    std::vector<std::string> failures;
    std::thread traffic([&] {
        http_client client("127.0.0.1", server_->port());
        const auto fail = [&](const std::string& what, const http_reply& reply) {
            const std::lock_guard lock(failures_mutex);
            failures.push_back(what + " " + std::to_string(reply.status) + " " + reply.body);
        };
        for (int round = 0; !stop.load(); ++round) {
            if (auto reply = run_query(client, source_id); reply.status != 200u) {
                fail("query", reply);
            }
            if (auto reply = client.get(team_path("external_data_sources/" + source_id + "/"), bearer(api_key()));
                reply.status != 200u) {
                fail("get", reply);
            }
            // Sealing too: a PATCH re-seals the password, a create seals a new one.
            if (round % 3 == 0) {
                auto reply = client.patch_json(team_path("external_data_sources/" + source_id + "/"),
                                               {{"job_inputs", {{"password", role_->password()}}}}, bearer(api_key()));
                if (reply.status != 200u) {
                    fail("patch", reply);
                }
            }
            if (round % 5 == 0 && create_source(client, "made_" + std::to_string(round)).empty()) {
                fail("create", http_reply{});
            }
            rounds.fetch_add(1);
        }
    });
    const auto wait_for_rounds = [&](int count) {
        const int target = rounds.load() + count;
        while (rounds.load() < target && failures.empty()) {
            std::this_thread::yield();
        }
    };
    wait_for_rounds(3);
    auto rotated = run_metahog({"rotate-key", "--data-dir", data_dir().string()});
    wait_for_rounds(6);
    auto rotated_again = run_metahog({"rotate-key", "--data-dir", data_dir().string()});
    wait_for_rounds(6);
    stop = true;
    traffic.join();

    EXPECT_EQ(rotated.exit_code, 0) << rotated.err;
    EXPECT_NE(rotated.out.find("rotated to new key"), std::string::npos) << rotated.out;
    EXPECT_NE(rotated.out.find("re-sealed"), std::string::npos) << rotated.out;
    EXPECT_EQ(rotated_again.exit_code, 0) << rotated_again.err;
    EXPECT_TRUE(failures.empty()) << failures.size() << " requests failed, the first: " << failures.front();
    const auto new_keys = key_lines(key_file());
    ASSERT_EQ(new_keys.size(), 1u) << "the old key is retired from the file";
    EXPECT_NE(new_keys[0], old_keys[0]);
    for (const auto& output : {rotated.out + rotated.err, rotated_again.out + rotated_again.err}) {
        EXPECT_EQ(output.find(old_keys[0]), std::string::npos) << "a key was printed";
        EXPECT_EQ(output.find(new_keys[0]), std::string::npos) << "a key was printed";
    }
    struct stat status {};
    ASSERT_EQ(::stat(key_file().c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600u);

    // A restart with the rotated file: the sources still work, the old key is not needed.
    server_->stop();
    start_server();
    auto after = run_query(*client_, source_id);
    EXPECT_EQ(after.status, 200u) << after.body;
    EXPECT_EQ(client_->get(team_path("external_data_sources/"), bearer(api_key())).status, 200u);
    const std::string log = server_->log();
    EXPECT_EQ(log.find(role_->password()), std::string::npos) << "a password was logged";
}

TEST_F(api_keys_test, a_wrong_key_stops_start_up_with_one_clear_line) {
    const std::string source_id = create_source(*client_, "pagila");
    ASSERT_FALSE(source_id.empty());
    const auto original = key_lines(key_file());

    write_private_file(key_file(), random_key_text() + "\n");
    const std::string from_file = refused_start();
    EXPECT_NE(from_file.find("cannot open the stored secrets"), std::string::npos) << from_file;
    EXPECT_NE(from_file.find(source_id), std::string::npos) << from_file;

    const std::string from_env = refused_start({"METAHOG_SECRET_KEY=" + random_key_text()});
    EXPECT_NE(from_env.find("METAHOG_SECRET_KEY cannot open the stored secrets"), std::string::npos) << from_env;

    // The right key in the variable works even with a wrong file beside it.
    server_.emplace(data_dir(), std::vector<std::string>{"METAHOG_SECRET_KEY=" + original[0]});
    client_.emplace("127.0.0.1", server_->port());
    EXPECT_EQ(run_query(*client_, source_id).status, 200u);
}

TEST_F(api_keys_test, key_file_and_variable_mistakes_stop_start_up_with_one_clear_line) {
    ASSERT_FALSE(create_source(*client_, "pagila").empty());
    const auto original = key_lines(key_file());

    ::chmod(key_file().c_str(), 0644);
    EXPECT_NE(refused_start().find("chmod 600"), std::string::npos);
    ::chmod(key_file().c_str(), 0600);

    write_private_file(key_file(), original[0].substr(0, 40) + "\n");
    EXPECT_NE(refused_start().find("expected 32 bytes"), std::string::npos);

    const std::string malformed = refused_start({"METAHOG_SECRET_KEY=not-a-key-at-all"});
    EXPECT_NE(malformed.find("METAHOG_SECRET_KEY does not hold valid master keys"), std::string::npos) << malformed;
    EXPECT_EQ(malformed.find("not-a-key-at-all"), std::string::npos) << "the value is never echoed";

    fs::remove(key_file());
    const std::string missing = refused_start();
    EXPECT_NE(missing.find("is missing but the data directory holds sealed secrets"), std::string::npos) << missing;
    EXPECT_FALSE(fs::exists(key_file())) << "no new key may be made while secrets exist";
}

}  // namespace
}  // namespace metahog::test_support
