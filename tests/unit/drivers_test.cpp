// Unit tests of the driver layer without a server: what a Postgres source's config may contain, the messages a
// user sees when it is wrong, that nothing lets a user steer libpq to local files or other auth, and the registry.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "drivers/driver_registry.hpp"
#include "drivers/postgres/connection_config.hpp"
#include "drivers/postgres/pg_connection.hpp"
#include "drivers/postgres/postgres_driver.hpp"

namespace metahog::drivers::postgres {
namespace {

boost::json::object json(std::string_view text) { return boost::json::parse(text).as_object(); }

boost::json::object valid_fields() {
    return json(R"({"host": "db.example.com", "port": 5432, "database": "pagila", "user": "u",
                    "password": "s3cret-pw", "schema": "public", "sslmode": "prefer"})");
}

// The error a config gets: its field and message.
error config_error(const boost::json::object& inputs) {
    auto config = parse_job_inputs(inputs);
    EXPECT_FALSE(config.has_value()) << "expected a refusal";
    return config ? error{} : config.error();
}

error connection_string_error(std::string_view text) {
    boost::json::object inputs;
    inputs["connection_string"] = text;
    return config_error(inputs);
}

// --- fields ---

// Protects: the documented example body is accepted as is, with the documented defaults.
TEST(postgres_config, accepts_documented_fields_and_applies_defaults) {
    auto config = parse_job_inputs(json(R"({"host": "127.0.0.1", "database": "pagila", "user": "u"})"));
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->host, "127.0.0.1");
    EXPECT_EQ(config->port, 5432);
    EXPECT_EQ(config->schema, "public");
    EXPECT_EQ(config->sslmode, "prefer");
    EXPECT_TRUE(config->password.empty());

    auto full = parse_job_inputs(valid_fields());
    ASSERT_TRUE(full) << full.error().message;
    EXPECT_EQ(full->password, "s3cret-pw");
}

// Protects: a missing required field is named, so the UI can highlight it.
TEST(postgres_config, names_each_missing_required_field) {
    for (const char* field : {"host", "database", "user"}) {
        auto inputs = valid_fields();
        inputs.erase(field);
        const auto failure = config_error(inputs);
        EXPECT_EQ(failure.code, error_code::invalid_input);
        EXPECT_EQ(failure.field, std::string("job_inputs.") + field);
        EXPECT_EQ(failure.message, std::string("job_inputs.") + field + " is required");
        inputs[field] = "";
        EXPECT_EQ(config_error(inputs).message, std::string("job_inputs.") + field + " is required");
    }
}

// Protects: the port message the API documents, for every wrong shape a client might send.
TEST(postgres_config, port_must_be_an_integer_in_range) {
    for (const char* port : {"0", "65536", "-1", "5432.5", "\"54a\"", "\"\"", "true", "[5432]", "\" 5432\"",
                             "99999999999999999999"}) {
        auto inputs = valid_fields();
        inputs["port"] = boost::json::parse(port);
        const auto failure = config_error(inputs);
        EXPECT_EQ(failure.message, "job_inputs.port must be an integer from 1 to 65535") << port;
        EXPECT_EQ(failure.field, "job_inputs.port");
    }
    auto inputs = valid_fields();
    inputs["port"] = "6543";
    auto config = parse_job_inputs(inputs);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->port, 6543);
}

// Protects: Unix sockets would reach the MetaHog host's own local databases; host lists would let libpq choose
// hosts past the network guard.
TEST(postgres_config, host_must_be_one_name_or_address) {
    struct refusal {
        const char* host;
        const char* message;
    };
    for (const auto& [host, message] : {
             refusal{"/var/run/postgresql", "Unix socket paths are not allowed"},
             refusal{"@abstract", "Unix socket paths are not allowed"},
             refusal{"a.example.com,b.example.com", "host lists are not allowed"},
             refusal{"db host", "must be a host name or IP address"},
             refusal{"db\nhost", "control characters"},
             refusal{"-oProxyCommand", "must be a host name or IP address"},
             refusal{"fe80::1%eth0", "must not carry an IPv6 zone"},
         }) {
        auto inputs = valid_fields();
        inputs["host"] = host;
        const auto failure = config_error(inputs);
        EXPECT_NE(failure.message.find(message), std::string::npos) << host << ": " << failure.message;
        EXPECT_EQ(failure.field, "job_inputs.host");
    }
    for (const auto& [host, stored] : {std::pair{"[::1]", "::1"}, std::pair{"10.1.2.3", "10.1.2.3"},
                                       std::pair{"my-db_1.internal", "my-db_1.internal"}}) {
        auto inputs = valid_fields();
        inputs["host"] = host;
        auto config = parse_job_inputs(inputs);
        ASSERT_TRUE(config) << host << ": " << config.error().message;
        EXPECT_EQ(config->host, stored);
    }
}

// Protects: wrong JSON types, NUL bytes (libpq would cut the value there) and huge values are refused by name.
TEST(postgres_config, refuses_wrong_types_nul_bytes_and_overlong_values) {
    auto inputs = valid_fields();
    inputs["database"] = 42;
    EXPECT_EQ(config_error(inputs).message, "job_inputs.database must be a string");

    inputs = valid_fields();
    inputs["user"] = std::string("admin\0x", 7);
    EXPECT_EQ(config_error(inputs).message, "job_inputs.user must not contain NUL characters");

    inputs = valid_fields();
    inputs["password"] = std::string("pw\0rest", 7);
    EXPECT_EQ(config_error(inputs).field, "job_inputs.password");

    inputs = valid_fields();
    inputs["schema"] = std::string(5000, 's');
    EXPECT_EQ(config_error(inputs).message, "job_inputs.schema is too long (at most 1024 characters)");
}

TEST(postgres_config, sslmode_must_be_a_libpq_mode) {
    auto inputs = valid_fields();
    inputs["sslmode"] = "on";
    const auto failure = config_error(inputs);
    EXPECT_EQ(failure.message,
              "job_inputs.sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full");
    for (const char* mode : {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}) {
        inputs["sslmode"] = mode;
        EXPECT_TRUE(parse_job_inputs(inputs)) << mode;
    }
}

// Protects: settings MetaHog does not pass on are refused, not silently ignored.
TEST(postgres_config, refuses_unknown_and_libpq_only_fields) {
    for (const char* field : {"sslrootcert", "options", "passfile", "hostaddr", "service", "dbname", "ssh_tunnel"}) {
        auto inputs = valid_fields();
        inputs[field] = "x";
        const auto failure = config_error(inputs);
        EXPECT_EQ(failure.field, std::string("job_inputs.") + field);
        EXPECT_EQ(failure.message, std::string("job_inputs.") + field + " is not a supported setting");
    }
}

TEST(postgres_config, connect_timeout_and_application_name_are_bounded) {
    auto inputs = valid_fields();
    inputs["connect_timeout"] = 0;
    EXPECT_EQ(config_error(inputs).message, "job_inputs.connect_timeout must be an integer from 1 to 300 (seconds)");
    inputs["connect_timeout"] = "7";
    auto config = parse_job_inputs(inputs);
    ASSERT_TRUE(config);
    EXPECT_EQ(config->connect_timeout, std::chrono::seconds(7));

    inputs = valid_fields();
    inputs["application_name"] = std::string(64, 'a');
    EXPECT_EQ(config_error(inputs).field, "job_inputs.application_name");
}

// --- connection strings ---

// Protects: the documented connection string form, URI and key=value, percent-decoding included.
TEST(postgres_connection_string, accepts_uri_and_key_value_forms) {
    auto uri = parse_connection_string("postgresql://u:p%40ss@db.example.com:6543/my%20db?sslmode=require");
    ASSERT_TRUE(uri) << uri.error().message;
    EXPECT_EQ(uri->host, "db.example.com");
    EXPECT_EQ(uri->port, 6543);
    EXPECT_EQ(uri->user, "u");
    EXPECT_EQ(uri->password, "p@ss");
    EXPECT_EQ(uri->database, "my db");
    EXPECT_EQ(uri->sslmode, "require");

    auto short_scheme = parse_connection_string("postgres://u@[::1]/db?application_name=bi&connect_timeout=3");
    ASSERT_TRUE(short_scheme) << short_scheme.error().message;
    EXPECT_EQ(short_scheme->host, "::1");
    EXPECT_EQ(short_scheme->port, 5432);
    EXPECT_EQ(short_scheme->application_name, "bi");
    EXPECT_EQ(short_scheme->connect_timeout, std::chrono::seconds(3));

    auto key_value = parse_connection_string("host=10.0.0.5 port=5433 dbname='sales db' user=bob password='a b'");
    ASSERT_TRUE(key_value) << key_value.error().message;
    EXPECT_EQ(key_value->host, "10.0.0.5");
    EXPECT_EQ(key_value->port, 5433);
    EXPECT_EQ(key_value->database, "sales db");
    EXPECT_EQ(key_value->password, "a b");
}

// Protects: with expand_dbname off, a database name that looks like a connection string stays a name.
TEST(postgres_connection_string, nested_connection_string_in_dbname_stays_a_name) {
    auto config = parse_connection_string("host=h user=u dbname='postgresql://evil.example.com/x?passfile=/etc'");
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->host, "h");
    EXPECT_EQ(config->database, "postgresql://evil.example.com/x?passfile=/etc");
}

// Protects: every libpq keyword outside the allowlist is refused by name, in both forms. Each of these reads a
// local file, changes authentication, injects server options or bypasses the address check.
TEST(postgres_connection_string, refuses_every_keyword_outside_the_allowlist) {
    for (const char* keyword :
         {"passfile", "service", "options", "sslkey", "sslcert", "sslrootcert", "sslcrl", "sslcrldir", "sslpassword",
          "requirepeer", "krbsrvname", "gsslib", "target_session_attrs", "hostaddr", "replication", "gssencmode",
          "client_encoding", "channel_binding", "keepalives", "tcp_user_timeout", "fallback_application_name",
          "sslcompression", "sslsni", "ssl_min_protocol_version", "ssl_max_protocol_version", "keepalives_idle"}) {
        const std::string value = std::string(keyword) == "hostaddr" ? "127.0.0.1" : "1";
        for (const std::string& text :
             {"host=h dbname=d user=u " + std::string(keyword) + "=" + value,
              "postgresql://u@h/d?" + std::string(keyword) + "=" + value}) {
            const auto failure = connection_string_error(text);
            EXPECT_EQ(failure.field, "job_inputs.connection_string") << text;
            EXPECT_NE(failure.message.find(std::string("must not set \"") + keyword + "\""), std::string::npos)
                << text << ": " << failure.message;
        }
    }
}

// Protects: encodings that try to slip a forbidden keyword or a socket path past the allowlist.
TEST(postgres_connection_string, refuses_smuggling_through_encoding_and_query_parameters) {
    struct attempt {
        const char* text;
        const char* expected;
    };
    for (const auto& [text, expected] : {
             attempt{"postgresql://u@h/d?options=-c%20search_path%3Devil", "must not set \"options\""},
             attempt{"postgresql://u@h/d?passfile=/tmp/pgpass", "must not set \"passfile\""},
             attempt{"postgresql://u@h/d?%70assfile=/tmp/pgpass", "must not set \"passfile\""},
             attempt{"postgresql://u@h/d?sslmode=disable&service=prod", "must not set \"service\""},
             attempt{"postgresql://u@h/d?host=/var/run/postgresql", "Unix socket paths are not allowed"},
             attempt{"postgresql://u@%2Fvar%2Frun%2Fpostgresql/d", "Unix socket paths are not allowed"},
             attempt{"postgresql:///d?user=u", "must name a host"},
             attempt{"postgresql://u@h1,h2/d", "host lists are not allowed"},
             attempt{"postgresql://u@h:1,h:2/d", "host lists are not allowed"},
             attempt{"host=h user=u dbname=d options='-c default_transaction_read_only=off'",
                     "must not set \"options\""},
             attempt{"host=@abstract user=u dbname=d", "Unix socket paths are not allowed"},
             attempt{"host=h user=u dbname=d port=0", "port"},
             attempt{"host=h user=u dbname=d sslmode=yes", "sslmode"},
             attempt{"host=h user=u", "must name a database"},
             attempt{"host=h dbname=d", "must name a user"},
             attempt{"mysql://u@h/d", "not a valid connection string"},
         }) {
        const auto failure = connection_string_error(text);
        EXPECT_NE(failure.message.find(expected), std::string::npos) << text << ": " << failure.message;
        EXPECT_EQ(failure.field, "job_inputs.connection_string");
    }
    EXPECT_EQ(connection_string_error(std::string("host=h\0 dbname=d user=u", 23)).message,
              "job_inputs.connection_string must not contain NUL characters");
    EXPECT_NE(connection_string_error(std::string(5000, 'x')).message.find("too long"), std::string::npos);
}

// Protects: libpq's parse errors quote the input, which may be the password; they must not reach the user.
TEST(postgres_connection_string, parse_errors_never_echo_the_input) {
    for (const char* text : {"host=h password=hunter2 dangling", "host=h password='hunter2", "postgresql://u:hunter2@h/d?x=%zz"}) {
        const auto failure = connection_string_error(text);
        EXPECT_EQ(failure.message.find("hunter2"), std::string::npos) << failure.message;
        EXPECT_EQ(failure.message.find("dangling"), std::string::npos) << failure.message;
    }
}

TEST(postgres_connection_string, combines_only_with_schema_and_a_separate_password) {
    auto inputs = json(R"({"connection_string": "postgresql://u@h/d", "schema": "sales", "password": "pw"})");
    auto config = parse_job_inputs(inputs);
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->schema, "sales");
    EXPECT_EQ(config->password, "pw");

    inputs = json(R"({"connection_string": "postgresql://u:a@h/d", "password": "b"})");
    EXPECT_EQ(config_error(inputs).field, "job_inputs.password");

    inputs = json(R"({"connection_string": "postgresql://u@h/d", "host": "other"})");
    EXPECT_EQ(config_error(inputs).message, "job_inputs.host cannot be combined with job_inputs.connection_string");

    // Empty fields beside a connection string (a form sending every input) are harmless.
    inputs = json(R"({"connection_string": "postgresql://u@h/d", "host": "", "port": null})");
    EXPECT_TRUE(parse_job_inputs(inputs));

    inputs = json(R"({"connection_string": 5})");
    EXPECT_EQ(config_error(inputs).message, "job_inputs.connection_string must be a string");
}

// --- stored form, PATCH, fingerprints ---

// Protects: the password lives in secrets only; what GET shows never contains it.
TEST(postgres_stored_config, password_goes_to_secrets_only) {
    auto config = parse_job_inputs(valid_fields());
    ASSERT_TRUE(config);
    const auto stored = to_source_config(*config);
    EXPECT_EQ(stored.secrets.at("password").as_string(), "s3cret-pw");
    EXPECT_FALSE(stored.settings.contains("password"));
    const auto shown = public_settings(*config);
    EXPECT_EQ(boost::json::serialize(shown).find("s3cret-pw"), std::string::npos);
    EXPECT_EQ(shown.at("host").as_string(), "db.example.com");
    EXPECT_EQ(shown.at("port").as_int64(), 5432);

    auto round_trip = from_source_config(stored);
    ASSERT_TRUE(round_trip);
    EXPECT_EQ(round_trip->password, "s3cret-pw");
    EXPECT_EQ(config_fingerprint(*round_trip), config_fingerprint(*config));

    auto no_password = parse_job_inputs(json(R"({"host": "h", "database": "d", "user": "u"})"));
    ASSERT_TRUE(no_password);
    EXPECT_TRUE(to_source_config(*no_password).secrets.empty());
}

// Protects: PATCH semantics the API documents: absent fields and an absent or empty password keep theirs.
TEST(postgres_stored_config, patch_keeps_absent_fields_and_the_stored_password) {
    auto current = parse_job_inputs(valid_fields());
    ASSERT_TRUE(current);

    auto merged = merge_job_inputs(*current, json(R"({"user": "analyst", "schema": "sales"})"));
    ASSERT_TRUE(merged) << merged.error().message;
    EXPECT_EQ(merged->user, "analyst");
    EXPECT_EQ(merged->schema, "sales");
    EXPECT_EQ(merged->host, "db.example.com");
    EXPECT_EQ(merged->password, "s3cret-pw");

    for (const char* patch : {R"({"password": ""})", R"({"password": null})", R"({})"}) {
        auto kept = merge_job_inputs(*current, json(patch));
        ASSERT_TRUE(kept) << patch;
        EXPECT_EQ(kept->password, "s3cret-pw") << patch;
    }
    auto replaced = merge_job_inputs(*current, json(R"({"password": "new-pw"})"));
    ASSERT_TRUE(replaced);
    EXPECT_EQ(replaced->password, "new-pw");

    auto bad = merge_job_inputs(*current, json(R"({"sslmode": "sometimes"})"));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().field, "job_inputs.sslmode");

    auto from_string = merge_job_inputs(*current, json(R"({"connection_string": "postgresql://v@db.example.com/x"})"));
    ASSERT_TRUE(from_string) << from_string.error().message;
    EXPECT_EQ(from_string->user, "v");
    EXPECT_EQ(from_string->database, "x");
    EXPECT_EQ(from_string->schema, "public");
    EXPECT_EQ(from_string->password, "s3cret-pw");
}

// Protects: an editor of a source cannot make MetaHog send its stored password to a server of their choosing.
TEST(postgres_stored_config, a_new_host_or_port_needs_the_password_again) {
    auto current = parse_job_inputs(valid_fields());
    ASSERT_TRUE(current);
    for (const char* patch : {R"({"host": "attacker.example"})", R"({"port": 6543})",
                              R"({"connection_string": "postgresql://v@other:5999/x"})"}) {
        auto moved = merge_job_inputs(*current, json(patch));
        ASSERT_FALSE(moved) << patch;
        EXPECT_EQ(moved.error().field, "job_inputs.password") << patch;
    }
    auto with_password = merge_job_inputs(*current, json(R"({"host": "other.example", "password": "pw2"})"));
    ASSERT_TRUE(with_password) << with_password.error().message;
    EXPECT_EQ(with_password->password, "pw2");
}

// Protects: a changed config (the password included) gets a new pool; an unchanged one keeps its pool.
TEST(postgres_stored_config, fingerprint_follows_every_connection_setting) {
    auto base = parse_job_inputs(valid_fields());
    ASSERT_TRUE(base);
    const auto original = config_fingerprint(*base);
    auto changed = *base;
    changed.password = "other";
    EXPECT_NE(config_fingerprint(changed), original);
    changed = *base;
    changed.sslmode = "require";
    EXPECT_NE(config_fingerprint(changed), original);
    EXPECT_EQ(original.find("s3cret"), std::string::npos);
}

// --- driver and registry ---

TEST(driver_registry, default_registry_serves_postgres_by_its_api_name) {
    auto registry = make_default_registry();
    driver* postgres = registry.find("Postgres");
    ASSERT_NE(postgres, nullptr);
    EXPECT_EQ(postgres->source_type(), "Postgres");
    EXPECT_EQ(registry.find("postgres"), nullptr);
    EXPECT_EQ(registry.find("MySQL"), nullptr);
    EXPECT_EQ(registry.list(), std::vector<std::string>{"Postgres"});

    auto duplicate = registry.add(std::make_unique<postgres_driver>());
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error().code, error_code::conflict);
}

// Protects: the driver-level API round-trips a source: parse on create, merge on PATCH, show on GET.
TEST(postgres_driver_config, parse_merge_and_show_through_the_interface) {
    postgres_driver engine;
    const driver& generic = engine;
    auto stored = generic.parse_config(valid_fields());
    ASSERT_TRUE(stored);
    EXPECT_FALSE(stored->settings.contains("password"));

    auto patched = generic.merge_config(*stored, json(R"({"database": "other"})"));
    ASSERT_TRUE(patched) << patched.error().message;
    EXPECT_EQ(patched->settings.at("database").as_string(), "other");
    EXPECT_EQ(patched->secrets.at("password").as_string(), "s3cret-pw");

    const auto shown = generic.public_settings(*patched);
    EXPECT_EQ(boost::json::serialize(shown).find("s3cret-pw"), std::string::npos);

    auto refused = generic.parse_config(json(R"({"host": "h", "database": "d", "user": "u", "port": 0})"));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message, "job_inputs.port must be an integer from 1 to 65535");
}

// --- process environment ---

// Protects: a libpq upgrade that adds connection keywords fails here until someone decides how to set them.
TEST(postgres_environment, every_libpq_keyword_has_been_reviewed) {
    EXPECT_EQ(unreviewed_libpq_keywords(), std::vector<std::string>{});
}

// Protects: PG* variables (PGPASSWORD, PGOPTIONS, ...) of the server's environment never reach user databases:
// the server scrubs them at start-up, and connecting is refused while one is set.
TEST(postgres_environment, pg_variables_are_scrubbed_and_block_connecting_until_then) {
    ::setenv("PGOPTIONS", "-c search_path=leak", 1);
    ::setenv("PGPASSWORD", "server-secret", 1);
    EXPECT_FALSE(leaking_environment_variable().empty());

    connection_config config;
    config.host = "127.0.0.1";
    config.port = 1;
    config.database = "d";
    config.user = "u";
    boost::asio::io_context io;
    std::optional<result<pg_connection>> opened;
    // co_spawn needs a default-constructible result type, so the value is stored from inside.
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            opened.emplace(co_await pg_connection::open(config, connect_options{}));
        },
        [](std::exception_ptr failure) {
            if (failure) {
                std::rethrow_exception(failure);
            }
        });
    io.run();
    ASSERT_TRUE(opened.has_value());
    ASSERT_FALSE(*opened);
    EXPECT_EQ(opened->error().code, error_code::internal);
    EXPECT_NE(opened->error().message.find("prepare_process_environment"), std::string::npos);
    EXPECT_EQ(opened->error().message.find("server-secret"), std::string::npos);

    prepare_process_environment();
    EXPECT_EQ(std::getenv("PGOPTIONS"), nullptr);
    EXPECT_EQ(std::getenv("PGPASSWORD"), nullptr);
    EXPECT_EQ(leaking_environment_variable(), "");
}

}  // namespace
}  // namespace metahog::drivers::postgres
