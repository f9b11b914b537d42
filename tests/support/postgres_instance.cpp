// Blocking access to the test Postgres for set-up and assertions; the code under test never works this way.
#include "support/postgres_instance.hpp"
#include "support/test_settings.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

namespace metahog::test_support {
namespace {

struct conn_deleter {
    void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
struct result_deleter {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};

std::string read_trimmed(const std::string& path) {
    std::ifstream file(path);
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

struct shared_state {
    std::once_flag once;
    std::unique_ptr<postgres_instance> instance;
    std::string reason;
};

shared_state& state() {
    static shared_state value;
    return value;
}

std::string random_password() {
    std::random_device device;
    std::uniform_int_distribution<int> digit(0, 15);
    std::string password;
    for (int i = 0; i < 32; ++i) {
        password += "0123456789abcdef"[digit(device)];
    }
    return password;
}

}  // namespace

const postgres_instance* postgres_instance::shared() {
    auto& s = state();
    std::call_once(s.once, [&s] {
        const std::string dir_setting = test_setting("METAHOG_TEST_PG_DIR");
        const char* dir = dir_setting.c_str();
        if (dir_setting.empty()) {
            s.reason = "no test Postgres: METAHOG_TEST_PG_DIR is not set (run through ctest, which starts one)";
            return;
        }
        const std::string port_text = read_trimmed(std::string(dir) + "/port");
        const std::string password = read_trimmed(std::string(dir) + "/superuser.password");
        if (port_text.empty() || password.empty()) {
            s.reason = std::string("no test Postgres: ") + dir + "/port or superuser.password is missing";
            return;
        }
        std::unique_ptr<postgres_instance> instance(new postgres_instance());
        instance->port_ = static_cast<std::uint16_t>(std::stoi(port_text));
        instance->superuser_password_ = password;
        s.instance = std::move(instance);
    });
    return s.instance.get();
}

std::string postgres_instance::unavailable_reason() {
    shared();
    return state().reason;
}

sql_rows postgres_instance::query(std::string_view sql, std::string_view database) const {
    const std::string port_text = std::to_string(port_);
    const std::string database_name(database);
    const char* keywords[] = {"host", "port", "user", "password", "dbname", "sslmode", "gssencmode",
                              "passfile", "application_name", nullptr};
    const char* values[] = {host_.c_str(), port_text.c_str(), superuser_.c_str(), superuser_password_.c_str(),
                            database_name.c_str(), "disable", "disable", "/dev/null/none", "metahog-tests",
                            nullptr};
    std::unique_ptr<PGconn, conn_deleter> conn(PQconnectdbParams(keywords, values, 0));
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
        throw std::runtime_error(std::string("test Postgres: cannot connect: ") +
                                 (conn ? PQerrorMessage(conn.get()) : "out of memory"));
    }
    const std::string text(sql);
    std::unique_ptr<PGresult, result_deleter> answer(PQexec(conn.get(), text.c_str()));
    const auto status = PQresultStatus(answer.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        throw std::runtime_error("test Postgres: " + text + ": " + PQerrorMessage(conn.get()));
    }
    sql_rows rows;
    for (int row = 0; row < PQntuples(answer.get()); ++row) {
        auto& values_out = rows.emplace_back();
        for (int column = 0; column < PQnfields(answer.get()); ++column) {
            if (PQgetisnull(answer.get(), row, column)) {
                values_out.emplace_back();
            } else {
                values_out.emplace_back(PQgetvalue(answer.get(), row, column));
            }
        }
    }
    return rows;
}

void postgres_instance::execute(std::string_view sql, std::string_view database) const { query(sql, database); }

bool postgres_instance::has_pagila() const {
    return !query("SELECT 1 FROM pg_database WHERE datname = 'pagila'").empty();
}

std::string postgres_instance::unique_name(std::string_view prefix) {
    static std::atomic<int> counter{0};
    std::ostringstream name;
    name << "mh_" << prefix << '_' << ::getpid() << '_' << counter++;
    return name.str();
}

std::string postgres_instance::literal(std::string_view text) {
    std::string quoted = "'";
    for (const char c : text) {
        quoted += c;
        if (c == '\'') {
            quoted += '\'';
        }
    }
    return quoted + "'";
}

std::string postgres_instance::identifier(std::string_view name) {
    std::string quoted = "\"";
    for (const char c : name) {
        quoted += c;
        if (c == '"') {
            quoted += '"';
        }
    }
    return quoted + "\"";
}

namespace {

const postgres_instance& require_instance() {
    const auto* instance = postgres_instance::shared();
    if (instance == nullptr) {
        throw std::runtime_error(postgres_instance::unavailable_reason());
    }
    return *instance;
}

}  // namespace

test_role::test_role(std::string_view prefix, std::string_view attributes)
    : name_(postgres_instance::unique_name(prefix)), password_(random_password()) {
    require_instance().execute("CREATE ROLE " + postgres_instance::identifier(name_) + " LOGIN PASSWORD " +
                               postgres_instance::literal(password_) + " " + std::string(attributes));
}

test_role::test_role(test_role&& other) noexcept
    : name_(std::move(other.name_)), password_(std::move(other.password_)) {
    other.name_.clear();
}

test_role::~test_role() {
    if (name_.empty()) {
        return;
    }
    try {
        const auto& instance = require_instance();
        // Sessions of the role would keep DROP ROLE from succeeding.
        instance.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = " +
                         postgres_instance::literal(name_));
        instance.execute("DROP OWNED BY " + postgres_instance::identifier(name_));
        instance.execute("DROP ROLE IF EXISTS " + postgres_instance::identifier(name_));
    } catch (const std::exception& failure) {
        ADD_FAILURE() << "dropping test role " << name_ << ": " << failure.what();
    }
}

test_database::test_database(std::string_view prefix, std::string_view owner)
    : name_(postgres_instance::unique_name(prefix)) {
    std::string sql = "CREATE DATABASE " + postgres_instance::identifier(name_);
    if (!owner.empty()) {
        sql += " OWNER " + postgres_instance::identifier(owner);
    }
    require_instance().execute(sql);
}

test_database::test_database(test_database&& other) noexcept : name_(std::move(other.name_)) {
    other.name_.clear();
}

test_database::~test_database() {
    if (name_.empty()) {
        return;
    }
    try {
        require_instance().execute("DROP DATABASE IF EXISTS " + postgres_instance::identifier(name_) +
                                   " WITH (FORCE)");
    } catch (const std::exception& failure) {
        ADD_FAILURE() << "dropping test database " << name_ << ": " << failure.what();
    }
}

}  // namespace metahog::test_support
