// The real Postgres that CTest's `pg` fixture starts (scripts/test-pg-fixture): its address and superuser, blocking
// admin SQL for test set-up, and throwaway databases and roles so tests can run in parallel without sharing state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace metahog::test_support {

// Skips the current test, with the reason, when no instance is available (not run under CTest's pg fixture).
#define METAHOG_REQUIRE_POSTGRES()                                                                     \
    do {                                                                                               \
        if (::metahog::test_support::postgres_instance::shared() == nullptr) {                         \
            GTEST_SKIP() << ::metahog::test_support::postgres_instance::unavailable_reason();           \
        }                                                                                              \
    } while (false)

// Rows of text values; NULL is nullopt.
using sql_rows = std::vector<std::vector<std::optional<std::string>>>;

class postgres_instance {
public:
    // The fixture's instance from METAHOG_TEST_PG_DIR (DIR/port, DIR/superuser.password), read once;
    // nullptr when it is not there.
    static const postgres_instance* shared();
    static std::string unavailable_reason();

    const std::string& host() const noexcept { return host_; }
    std::uint16_t port() const noexcept { return port_; }
    const std::string& superuser() const noexcept { return superuser_; }
    const std::string& superuser_password() const noexcept { return superuser_password_; }

    // Runs SQL as the superuser (blocking; tests may block). Throws std::runtime_error with the server's message
    // on failure, which GoogleTest reports as the test's failure.
    sql_rows query(std::string_view sql, std::string_view database = "postgres") const;
    void execute(std::string_view sql, std::string_view database = "postgres") const;

    // True when the Pagila sample database was loaded (it is when ../shared was present).
    bool has_pagila() const;

    // A name no other test uses: prefix, process id and a counter ("mh_<prefix>_<pid>_<n>").
    static std::string unique_name(std::string_view prefix);
    // Quotes a string as an SQL literal / an identifier.
    static std::string literal(std::string_view text);
    static std::string identifier(std::string_view name);

private:
    postgres_instance() = default;

    std::string host_ = "127.0.0.1";
    std::uint16_t port_ = 0;
    std::string superuser_ = "postgres";
    std::string superuser_password_;
};

// A login role with a random password, dropped (with what it owns) on destruction.
class test_role {
public:
    explicit test_role(std::string_view prefix, std::string_view attributes = "");
    test_role(test_role&& other) noexcept;
    test_role& operator=(test_role&&) = delete;
    test_role(const test_role&) = delete;
    test_role& operator=(const test_role&) = delete;
    ~test_role();

    const std::string& name() const noexcept { return name_; }
    const std::string& password() const noexcept { return password_; }

private:
    std::string name_;
    std::string password_;
};

// A database owned by `owner` (or the superuser), dropped with FORCE on destruction.
class test_database {
public:
    explicit test_database(std::string_view prefix, std::string_view owner = "");
    test_database(test_database&& other) noexcept;
    test_database& operator=(test_database&&) = delete;
    test_database(const test_database&) = delete;
    test_database& operator=(const test_database&) = delete;
    ~test_database();

    const std::string& name() const noexcept { return name_; }

private:
    std::string name_;
};

}  // namespace metahog::test_support
