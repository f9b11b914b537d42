// The role gate against the fixture's real Postgres: roles that could escape the read-only guard are refused
// on check and on every new pooled connection; roles that can write or own things pass with warnings naming
// what was found; the recommended reader passes clean.
#include "drivers/postgres/role_gate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <fstream>
#include <list>
#include <optional>
#include <thread>

#include "drivers/driver_registry.hpp"
#include "drivers/postgres/pg_connection.hpp"
#include "support/postgres_instance.hpp"
#include "support/test_settings.hpp"

namespace metahog::drivers::postgres {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test_support::postgres_instance;
using test_support::test_database;
using test_support::test_role;

template <class F>
auto run(F make) {
    using value_type = typename std::invoke_result_t<F>::value_type;
    asio::io_context io;
    std::optional<value_type> out;
    std::exception_ptr thrown;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { out.emplace(co_await make()); },
        [&](std::exception_ptr failure) { thrown = failure; });
    io.run();
    if (thrown) {
        std::rethrow_exception(thrown);
    }
    return std::move(*out);
}

const role_warning* find_warning(const connection_check& check, std::string_view code) {
    const auto found = std::find_if(check.warnings.begin(), check.warnings.end(),
                                    [&](const role_warning& warning) { return warning.code == code; });
    return found == check.warnings.end() ? nullptr : &*found;
}

bool contains(const std::vector<std::string>& items, std::string_view wanted) {
    return std::find(items.begin(), items.end(), wanted) != items.end();
}

// A database owned by the superuser, in which each test's role gets only what the test grants.
class role_gate_test : public ::testing::Test {
protected:
    void SetUp() override {
        METAHOG_REQUIRE_POSTGRES();
        prepare_process_environment();
        instance_ = postgres_instance::shared();
        database_.emplace("gate");
        instance_->execute("CREATE TABLE public.orders (id int PRIMARY KEY, note text)", database_->name());
        engine_ = registry_.find("Postgres");
        ASSERT_NE(engine_, nullptr);
    }

    source_config config_for(const std::string& user, const std::string& password,
                             const std::string& database = "") const {
        boost::json::object inputs{{"host", instance_->host()},
                                   {"port", instance_->port()},
                                   {"database", database.empty() ? database_->name() : database},
                                   {"user", user},
                                   {"password", password},
                                   {"sslmode", "disable"}};
        auto parsed = engine_->parse_config(inputs);
        EXPECT_TRUE(parsed) << parsed.error().message;
        return *parsed;
    }

    result<connection_check> check(const test_role& role) {
        auto config = config_for(role.name(), role.password());
        return run([&]() { return engine_->check_connection(config, 5s); });
    }

    // A role that may connect and read public.orders: what metahog_reader has.
    void grant_read(const test_role& role) const {
        const std::string name = postgres_instance::identifier(role.name());
        instance_->execute(
            "GRANT USAGE ON SCHEMA public TO " + name + "; GRANT SELECT ON public.orders TO " + name,
            database_->name());
    }

    void expect_refused(const result<connection_check>& checked, std::string_view reason) const {
        ASSERT_FALSE(checked) << "the role was accepted";
        EXPECT_EQ(checked.error().code, error_code::unsafe_database_role) << checked.error().message;
        EXPECT_NE(checked.error().message.find(reason), std::string::npos) << checked.error().message;
        EXPECT_NE(checked.error().hint.find("Read-only role recipe"), std::string::npos)
            << checked.error().hint;
    }

    // Roles live until after the database: their grants there would otherwise keep DROP ROLE from succeeding.
    const test_role& make_role(std::string_view prefix, const std::string& attributes = "") {
        return roles_.emplace_back(prefix, attributes);
    }

    const postgres_instance* instance_ = nullptr;
    std::list<test_role> roles_;
    std::optional<test_database> database_;
    driver_registry registry_ = make_default_registry();
    driver* engine_ = nullptr;
};

// --- refusals ---

// Protects: a superuser can read files, run programs and write anything; it is never used.
TEST_F(role_gate_test, a_superuser_is_refused) {
    const test_role& role = make_role("gate_su", "SUPERUSER");
    expect_refused(check(role), "it is a superuser");
}

// Protects: a replication role can stream every table's changes.
TEST_F(role_gate_test, a_replication_role_is_refused) {
    const test_role& role = make_role("gate_repl", "REPLICATION");
    grant_read(role);
    expect_refused(check(role), "REPLICATION");
}

// Protects: a BYPASSRLS role sees past row-level security.
TEST_F(role_gate_test, a_bypassrls_role_is_refused) {
    const test_role& role = make_role("gate_rls", "BYPASSRLS");
    grant_read(role);
    expect_refused(check(role), "BYPASSRLS");
}

// Protects: membership counts directly and through an intermediate role (pg_has_role, not a direct lookup).
TEST_F(role_gate_test, members_of_file_access_roles_are_refused_directly_and_indirectly) {
    const test_role& direct = make_role("gate_files", "IN ROLE pg_read_server_files");
    grant_read(direct);
    expect_refused(check(direct), "member of pg_read_server_files");

    const test_role& intermediate = make_role("gate_mid", "IN ROLE pg_read_server_files");
    const test_role& indirect =
        make_role("gate_files2", "IN ROLE " + postgres_instance::identifier(intermediate.name()));
    grant_read(indirect);
    auto checked = check(indirect);
    expect_refused(checked, "member of pg_read_server_files (through another role)");

    const test_role& signaller = make_role("gate_signal", "IN ROLE pg_signal_backend");
    expect_refused(check(signaller), "pg_signal_backend");
}

// Protects: a role that could SET ROLE to a superuser (even without inheriting it) is a superuser in waiting.
TEST_F(role_gate_test, a_member_of_a_superuser_role_is_refused) {
    const test_role& admin = make_role("gate_admin", "SUPERUSER");
    const test_role& member =
        make_role("gate_member", "NOINHERIT IN ROLE " + postgres_instance::identifier(admin.name()));
    grant_read(member);
    expect_refused(check(member), "which is a superuser, and can SET ROLE to it");
}

// --- warnings ---

// Protects: what metahog_reader has (CONNECT, USAGE, SELECT) raises nothing, and no statement of the
// inspection depends on more.
TEST_F(role_gate_test, the_recommended_reader_has_no_warnings) {
    std::ifstream file(test_support::test_setting("METAHOG_TEST_PG_DIR") + "/reader.password");
    std::string password;
    std::getline(file, password);
    ASSERT_FALSE(password.empty()) << "the fixture's reader.password is missing";
    auto config = config_for("metahog_reader", password, "demo");
    auto checked = run([&]() { return engine_->check_connection(config, 5s); });
    ASSERT_TRUE(checked) << checked.error().message;
    for (const auto& warning : checked->warnings) {
        ADD_FAILURE() << warning.code << ": " << warning.message;
    }

    const test_role& plain = make_role("gate_plain");
    grant_read(plain);
    auto plain_checked = check(plain);
    ASSERT_TRUE(plain_checked) << plain_checked.error().message;
    EXPECT_TRUE(plain_checked->warnings.empty()) << plain_checked->warnings.front().message;
}

// Protects: write grants are a warning (not a refusal) that names the table and the privilege.
TEST_F(role_gate_test, a_write_grant_is_a_warning_naming_the_table) {
    const test_role& writer = make_role("gate_writer");
    grant_read(writer);
    instance_->execute(
        "GRANT INSERT, UPDATE (note) ON public.orders TO " + postgres_instance::identifier(writer.name()),
        database_->name());
    auto checked = check(writer);
    ASSERT_TRUE(checked) << checked.error().message;
    const role_warning* writes = find_warning(*checked, "write_grant");
    ASSERT_NE(writes, nullptr);
    EXPECT_NE(writes->message.find("1 table or view (INSERT on 1, UPDATE on 1)"), std::string::npos)
        << writes->message;
    EXPECT_TRUE(contains(writes->examples, "public.orders (INSERT, UPDATE)")) << writes->examples.size();
    EXPECT_EQ(checked->warnings.size(), 1u);
}

// Protects: an owner is warned about (it may drop and re-grant), with the objects named; and the database
// owner's CREATE (on the database and, through pg_database_owner, on schema public) too.
TEST_F(role_gate_test, ownership_and_create_are_warnings) {
    const test_role& owner = make_role("gate_owner");
    grant_read(owner);
    instance_->execute("ALTER TABLE public.orders OWNER TO " + postgres_instance::identifier(owner.name()),
                       database_->name());
    auto checked = check(owner);
    ASSERT_TRUE(checked) << checked.error().message;
    const role_warning* owns = find_warning(*checked, "owns_objects");
    ASSERT_NE(owns, nullptr);
    EXPECT_TRUE(contains(owns->examples, "table public.orders"));
    EXPECT_EQ(find_warning(*checked, "write_grant"), nullptr) << "owned tables are reported as owned";

    const test_role& database_owner = make_role("gate_dbo");
    test_database owned("gate_owned", database_owner.name());
    auto config = config_for(database_owner.name(), database_owner.password(), owned.name());
    auto owner_checked = run([&]() { return engine_->check_connection(config, 5s); });
    ASSERT_TRUE(owner_checked) << owner_checked.error().message;
    const role_warning* creates = find_warning(*owner_checked, "create_privilege");
    ASSERT_NE(creates, nullptr);
    EXPECT_TRUE(contains(creates->examples, "database " + owned.name())) << creates->message;
    const role_warning* database_owned = find_warning(*owner_checked, "owns_objects");
    ASSERT_NE(database_owned, nullptr);
    EXPECT_TRUE(contains(database_owned->examples, "database " + owned.name()));
}

// Protects: the large-object functions PUBLIC has by default stay quiet, but one granted on purpose (or a
// file function) is reported with its name.
TEST_F(role_gate_test, granted_large_object_and_file_functions_are_warnings) {
    const test_role& role = make_role("gate_lo");
    grant_read(role);
    const std::string name = postgres_instance::identifier(role.name());
    instance_->execute("GRANT EXECUTE ON FUNCTION pg_catalog.lo_import(text) TO " + name +
                           "; GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_file(text) TO " + name,
                       database_->name());
    auto checked = check(role);
    instance_->execute("REVOKE EXECUTE ON FUNCTION pg_catalog.lo_import(text) FROM " + name +
                           "; REVOKE EXECUTE ON FUNCTION pg_catalog.pg_read_file(text) FROM " + name,
                       database_->name());
    ASSERT_TRUE(checked) << checked.error().message;
    const role_warning* functions = find_warning(*checked, "dangerous_function");
    ASSERT_NE(functions, nullptr);
    EXPECT_TRUE(contains(functions->examples, "pg_catalog.lo_import"));
    EXPECT_TRUE(contains(functions->examples, "pg_catalog.pg_read_file"));
    EXPECT_EQ(functions->message.find("PUBLIC"), std::string::npos) << functions->message;
}

// --- the pool ---

// Protects: a role made superuser after its source was checked is refused on the next new pooled connection,
// and that connection is closed.
TEST_F(role_gate_test, a_role_made_superuser_later_is_refused_on_the_next_new_connection) {
    const test_role& role = make_role("gate_later");
    grant_read(role);
    const auto config = config_for(role.name(), role.password());
    ASSERT_TRUE(check(role));
    auto described = run([&]() { return engine_->describe_schema("gate-source", config); });
    ASSERT_TRUE(described) << described.error().message;

    const std::string literal = postgres_instance::literal(role.name());
    instance_->execute("ALTER ROLE " + postgres_instance::identifier(role.name()) + " SUPERUSER");
    // The pool's idle connection dies with its backend, so the next query needs a new one.
    instance_->execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = " + literal);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!instance_->query("SELECT 1 FROM pg_stat_activity WHERE usename = " + literal).empty()) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the role's sessions did not end";
        std::this_thread::yield();
    }

    auto refused = run([&]() { return engine_->describe_schema("gate-source", config); });
    ASSERT_FALSE(refused) << "the superuser's connection was used";
    EXPECT_EQ(refused.error().code, error_code::unsafe_database_role) << refused.error().message;
    EXPECT_NE(refused.error().message.find("superuser"), std::string::npos);
    // The refused connection was closed, not pooled: its backend goes away.
    const auto closed_by = std::chrono::steady_clock::now() + 10s;
    while (!instance_->query("SELECT 1 FROM pg_stat_activity WHERE usename = " + literal).empty()) {
        ASSERT_LT(std::chrono::steady_clock::now(), closed_by) << "the refused connection stayed open";
        std::this_thread::yield();
    }
}

// --- reading the inspection ---

// Protects: a document of an unexpected shape is an internal error, never a pass.
TEST(role_verdict, an_unexpected_document_is_not_a_pass) {
    EXPECT_FALSE(read_role_verdict("[]"));
    EXPECT_FALSE(read_role_verdict(R"({"role": "x", "superuser": false})"));
    auto clean = read_role_verdict(
        R"({"role": "x", "superuser": false, "replication": false, "bypassrls": false, "memberships": []})");
    ASSERT_TRUE(clean);
    EXPECT_TRUE(clean->refusals.empty());
}

}  // namespace
}  // namespace metahog::drivers::postgres
