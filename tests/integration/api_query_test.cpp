// End-to-end tests of direct query through real HTTP: the real `metahog serve` binary and a real Postgres. They
// check what a user of the workbench or the API relies on: the spec's example queries give the right rows, limits
// say when they cut, refusals name what was refused, errors point into the SQL the user wrote (also after the
// prefix was removed), cancels — by route and by hanging up — really stop the backend, and exports stream.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <future>
#include <thread>

#include "support/http_client.hpp"
#include "support/postgres_instance.hpp"
#include "support/server_process.hpp"

namespace metahog::test_support {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Polls `done` until it holds or `limit` passes; the outcome of the last poll.
template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit) {
    const auto deadline = steady::now() + limit;
    while (!done()) {
        if (steady::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(25ms);
    }
    return true;
}

class api_query_test : public ::testing::Test {
protected:
    void SetUp() override {
        METAHOG_REQUIRE_POSTGRES();
        pg_ = postgres_instance::shared();
        role_.emplace("api_query");
        // A database of this test's own, so writes attempted through it can be checked afterwards: the role may
        // read and even write its table — only MetaHog's read-only transaction stands in the way.
        database_.emplace("api_query_db");
        const std::string role = postgres_instance::identifier(role_->name());
        pg_->execute("CREATE TABLE ledger (id integer PRIMARY KEY, note text);"
                     "INSERT INTO ledger VALUES (1, 'first'), (2, 'demo.ledger');"
                     "CREATE FUNCTION add_entry() RETURNS integer LANGUAGE sql VOLATILE AS "
                     "$$ INSERT INTO ledger VALUES (100, 'written') RETURNING id $$;"
                     "CREATE SCHEMA archive; CREATE TABLE archive.ledger (id integer);"
                     "INSERT INTO archive.ledger VALUES (42);"
                     "GRANT USAGE ON SCHEMA public, archive TO " + role + ";"
                     "GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO " + role + ";"
                     "GRANT SELECT ON ALL TABLES IN SCHEMA archive TO " + role + ";",
                     database_->name());
        if (pg_->has_pagila()) {
            // Through the fixture's reader role: granting on the shared pagila database itself from tests
            // running in parallel would race on its ACL ("tuple concurrently updated").
            pg_->execute("GRANT metahog_reader TO " + role);
        }
        server_.emplace(data_.path() / "data");
        admin_ = server_->bootstrap("analyst@example.com", "correct horse battery staple", "Alpha");
        client_.emplace("127.0.0.1", server_->port());
        source_id_ = create_source("demo", database_->name());
    }

    void TearDown() override {
        if (server_ && client_) {
            const std::string everything = client_->transcript() + server_->log();
            EXPECT_EQ(everything.find(role_->password()), std::string::npos) << "a database password leaked";
        }
    }

    std::string api_key() const { return std::string(admin_.at("api_key").as_string()); }
    std::string team_path(const std::string& suffix) const {
        return "/api/projects/" + std::to_string(admin_.at("team_id").as_int64()) + "/" + suffix;
    }

    std::string create_source(const std::string& prefix, const std::string& database) {
        json::object inputs{{"host", "127.0.0.1"},       {"port", pg_->port()},   {"database", database},
                            {"user", role_->name()},     {"password", role_->password()},
                            {"schema", "public"},        {"sslmode", "disable"}};
        json::object body{{"source_type", "Postgres"}, {"prefix", prefix}, {"query_only", true},
                          {"job_inputs", std::move(inputs)}};
        auto reply = client_->post_json(team_path("external_data_sources/"), body, bearer(api_key()));
        EXPECT_EQ(reply.status, 201u) << reply.body;
        return reply.status == 201u ? std::string(reply.json().at("id").as_string()) : std::string();
    }

    http_reply execute(const std::string& sql, json::object extra = {}, const std::string& source = {}) {
        extra["source_id"] = source.empty() ? source_id_ : source;
        extra["sql"] = sql;
        return client_->post_json(team_path("direct_query/execute"), extra, bearer(api_key()));
    }

    // Backends of this test's role sleeping in pg_sleep (the statement text may be the cursor's FETCH).
    std::size_t active_sleeps() const {
        auto rows = pg_->query("SELECT count(*) FROM pg_stat_activity WHERE usename = " +
                               postgres_instance::literal(role_->name()) +
                               " AND state = 'active' AND wait_event = 'PgSleep'");
        return static_cast<std::size_t>(std::stoul(rows.at(0).at(0).value()));
    }

    const postgres_instance* pg_ = nullptr;
    temp_dir data_;
    std::optional<test_role> role_;
    std::optional<test_database> database_;
    std::optional<server_process> server_;
    json::object admin_;
    std::optional<http_client> client_;
    std::string source_id_;
};

TEST_F(api_query_test, the_specs_example_queries_give_pagilas_rows) {
    if (!pg_->has_pagila()) {
        GTEST_SKIP() << "../shared/data/pagila is absent";
    }
    const std::string pagila = create_source("pagila", "pagila");

    auto top = execute("SELECT f.title, COUNT(*) as rental_count FROM pagila.rental r "
                       "JOIN pagila.inventory i ON r.inventory_id = i.inventory_id "
                       "JOIN pagila.film f ON i.film_id = f.film_id "
                       "GROUP BY f.title ORDER BY rental_count DESC LIMIT 10;",
                       {}, pagila);
    ASSERT_EQ(top.status, 200u) << top.body;
    auto body = top.json().as_object();
    EXPECT_EQ(body.at("columns"), (json::array{"title", "rental_count"}));
    EXPECT_EQ(body.at("types"), (json::array{"text", "bigint"}));
    EXPECT_EQ(body.at("row_count"), 10);
    EXPECT_EQ(body.at("truncated"), false);
    EXPECT_EQ(body.at("rows").at(0), (json::object{{"title", "BUCKET BROTHERHOOD"}, {"rental_count", 34}}));
    EXPECT_GT(body.at("execution_time_ms").to_number<double>(), 0.0);

    auto revenue = execute("SELECT DATE_TRUNC('month', payment_date) as month, SUM(amount) as revenue "
                           "FROM payment GROUP BY month ORDER BY month;",
                           {{"format", "arrays"}}, pagila);
    ASSERT_EQ(revenue.status, 200u) << revenue.body;
    // numeric keeps its exact digits: look at the text, not at a double.
    EXPECT_NE(revenue.body.find("3094.78]"), std::string::npos) << revenue.body.substr(0, 400);
    auto first_month = revenue.json().at("rows").at(0).at(0).as_string();
    EXPECT_TRUE(first_month.starts_with("2022-01-01")) << first_month;

    auto spending = execute("SELECT c.first_name, c.last_name, SUM(p.amount) as total_spent FROM customer c "
                            "JOIN payment p ON c.customer_id = p.customer_id "
                            "GROUP BY c.customer_id, c.first_name, c.last_name ORDER BY total_spent DESC LIMIT 10;",
                            {{"format", "arrays"}}, pagila);
    ASSERT_EQ(spending.status, 200u) << spending.body;
    EXPECT_NE(spending.body.find("[\"KARL\",\"SEAL\",221.55]"), std::string::npos) << spending.body.substr(0, 400);
}

TEST_F(api_query_test, the_prefix_is_removed_from_table_references_only) {
    // The prefix inside a string, an alias and a comment stays as written; only the table reference loses it.
    auto reply = execute("SELECT 'demo.ledger' AS \"demo.ledger\", note FROM demo.ledger -- demo.ledger\n"
                         "WHERE id = 2",
                         {{"format", "arrays"}});
    ASSERT_EQ(reply.status, 200u) << reply.body;
    EXPECT_EQ(reply.json().at("columns"), (json::array{"demo.ledger", "note"}));
    EXPECT_EQ(reply.json().at("rows"), (json::array{json::array{"demo.ledger", "demo.ledger"}}));

    // A prefix that names a real schema of the database keeps meaning that schema.
    const std::string archive = create_source("archive", database_->name());
    auto real_schema = execute("SELECT id FROM archive.ledger", {{"format", "arrays"}}, archive);
    ASSERT_EQ(real_schema.status, 200u) << real_schema.body;
    EXPECT_EQ(real_schema.json().at("rows"), (json::array{json::array{42}}));
}

TEST_F(api_query_test, errors_point_into_the_sql_the_user_wrote) {
    const std::string sql = "SELECT id FROM demo.ledger WHERE nope = 1";
    auto reply = execute(sql);
    ASSERT_EQ(reply.status, 400u) << reply.body;
    auto body = reply.json().as_object();
    EXPECT_EQ(body.at("code"), "query_failed");
    EXPECT_EQ(body.at("sqlstate"), "42703");
    // 1-based characters into what was submitted, although the database saw the SQL without "demo.".
    EXPECT_EQ(body.at("position"), static_cast<std::int64_t>(sql.find("nope") + 1));

    auto syntax = execute("SELECT id FROM demo.ledger WHER id = 1");
    ASSERT_EQ(syntax.status, 400u) << syntax.body;
    EXPECT_TRUE(syntax.json().as_object().contains("position")) << syntax.body;

    auto missing = execute("SELECT * FROM demo.no_such_table");
    ASSERT_EQ(missing.status, 400u) << missing.body;
    EXPECT_EQ(missing.json().at("sqlstate"), "42P01");
    // The database points at the table name it saw; the user sees the same name in their text, after "demo.".
    EXPECT_EQ(missing.json().at("position"), 20);
}

TEST_F(api_query_test, row_limits_say_when_they_cut) {
    auto cut = execute("SELECT g FROM generate_series(1, 5000) g", {{"max_rows", 10}});
    ASSERT_EQ(cut.status, 200u) << cut.body;
    EXPECT_EQ(cut.json().at("row_count"), 10);
    EXPECT_EQ(cut.json().at("truncated"), true);

    auto whole = execute("SELECT g FROM generate_series(1, 5000) g", {{"max_rows", 5000}});
    ASSERT_EQ(whole.status, 200u) << whole.body;
    EXPECT_EQ(whole.json().at("row_count"), 5000);
    EXPECT_EQ(whole.json().at("truncated"), false);

    // An endless query is still answered at once: only max_rows + 1 rows leave the database. (A set-returning
    // function in FROM would be materialised by Postgres first; in the target list it streams.)
    auto endless = execute("SELECT generate_series(1, 1000000000000) AS g", {{"max_rows", 3}});
    ASSERT_EQ(endless.status, 200u) << endless.body;
    EXPECT_EQ(endless.json().at("truncated"), true);

    auto bad = execute("SELECT 1", {{"max_rows", -1}});
    EXPECT_EQ(bad.status, 400u);
    EXPECT_EQ(bad.json().at("field"), "max_rows");
}

TEST_F(api_query_test, a_statement_timeout_answers_query_timeout) {
    const auto started = steady::now();
    auto reply = execute("SELECT pg_sleep(20)", {{"timeout_ms", 300}});
    const auto took = steady::now() - started;
    ASSERT_EQ(reply.status, 400u) << reply.body;
    EXPECT_EQ(reply.json().at("code"), "query_timeout");
    EXPECT_LT(took, 5s);
}

TEST_F(api_query_test, refusals_name_the_statement_kind_and_nothing_is_written) {
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"INSERT INTO ledger VALUES (3, 'x')", "INSERT"},
        {"UPDATE ledger SET note = 'x'", "UPDATE"},
        {"DELETE FROM ledger", "DELETE"},
        {"TRUNCATE ledger", "TRUNCATE"},
        {"CREATE TABLE t (a int)", "CREATE"},
        {"DROP TABLE ledger", "DROP"},
        {"COPY ledger TO STDOUT", "COPY"},
        {"SET statement_timeout = 0", "SET"},
        {"BEGIN", ""},
        {"COMMIT; DROP TABLE ledger", ""},
        {"DO $$ BEGIN DELETE FROM ledger; END $$", "DO"},
        {"WITH gone AS (DELETE FROM ledger RETURNING *) SELECT * FROM gone", "DELETE"},
        {"SELECT * FROM ledger FOR UPDATE", "lock"},
        {"SELECT 1; SELECT 2", ""},
    };
    for (const auto& [sql, named] : refused) {
        auto reply = execute(sql);
        EXPECT_EQ(reply.status, 400u) << sql << " → " << reply.body;
        if (reply.status != 400u) {
            continue;
        }
        EXPECT_EQ(reply.json().at("code"), "statement_refused") << sql << " → " << reply.body;
        EXPECT_NE(std::string(reply.json().at("error").as_string()).find(named), std::string::npos)
            << sql << " → " << reply.body;
    }

    // A write hidden in a function passes the parser but not the read-only transaction.
    auto through_function = execute("SELECT add_entry()");
    ASSERT_EQ(through_function.status, 400u) << through_function.body;
    EXPECT_EQ(through_function.json().at("code"), "query_failed");
    EXPECT_EQ(through_function.json().at("sqlstate"), "25006");

    EXPECT_EQ(pg_->query("SELECT count(*) FROM ledger", database_->name()).at(0).at(0), "2");
    EXPECT_EQ(pg_->query("SELECT to_regclass('public.t') IS NULL", database_->name()).at(0).at(0), "t");
}

TEST_F(api_query_test, nul_bytes_and_invalid_utf8_are_refused_before_sending) {
    auto nul = execute(std::string("SELECT 1 /*\0*/", 14));
    EXPECT_EQ(nul.status, 400u) << nul.body;
    auto raw = client_->request("POST", team_path("direct_query/execute"),
                                "{\"source_id\": \"" + source_id_ + "\", \"sql\": \"SELECT '\xff'\"}",
                                {{"Authorization", "Bearer " + api_key()}, {"Content-Type", "application/json"}});
    EXPECT_EQ(raw.status, 400u) << raw.body;
}

TEST_F(api_query_test, the_cancel_route_stops_the_backend_and_confirms_it) {
    auto running = std::async(std::launch::async, [this] {
        http_client own("127.0.0.1", server_->port());
        return own.post_json(team_path("direct_query/execute"),
                             json::object{{"source_id", source_id_},
                                          {"sql", "SELECT pg_sleep(30)"},
                                          {"client_query_id", "long-one"}},
                             bearer(api_key()));
    });
    ASSERT_TRUE(eventually([this] { return active_sleeps() == 1; }, 10s)) << "the query never started";
    const auto asked = steady::now();
    auto cancel = client_->post_json(team_path("direct_query/cancel"), json::object{{"client_query_id", "long-one"}},
                                     bearer(api_key()));
    ASSERT_EQ(cancel.status, 200u) << cancel.body;
    EXPECT_EQ(cancel.json().at("cancelled"), true) << cancel.body;
    auto answer = running.get();
    EXPECT_LT(steady::now() - asked, 3s);
    EXPECT_EQ(answer.status, 400u) << answer.body;
    EXPECT_EQ(answer.json().at("code"), "query_cancelled") << answer.body;
    EXPECT_EQ(active_sleeps(), 0u);

    auto unknown = client_->post_json(team_path("direct_query/cancel"), json::object{{"client_query_id", "nope"}},
                                      bearer(api_key()));
    EXPECT_EQ(unknown.status, 404u) << unknown.body;
}

TEST_F(api_query_test, a_client_that_hangs_up_cancels_its_query) {
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    const std::string body = json::serialize(json::object{{"source_id", source_id_}, {"sql", "SELECT pg_sleep(30)"}});
    const std::string request = "POST " + team_path("direct_query/execute") +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + api_key() +
                                "\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    asio::write(socket, asio::buffer(request));
    ASSERT_TRUE(eventually([this] { return active_sleeps() == 1; }, 10s)) << "the query never started";
    socket.shutdown(asio::ip::tcp::socket::shutdown_both);
    socket.close();
    EXPECT_TRUE(eventually([this] { return active_sleeps() == 0; }, 3s)) << "the backend kept running";
}

TEST_F(api_query_test, schema_lists_tables_with_typed_columns) {
    auto reply = client_->get(team_path("direct_query/schema/" + source_id_), bearer(api_key()));
    ASSERT_EQ(reply.status, 200u) << reply.body;
    auto tables = reply.json().at("tables").as_object();
    ASSERT_TRUE(tables.contains("ledger")) << reply.body;
    EXPECT_EQ(tables.at("ledger"), (json::array{json::array{"id", "integer"}, json::array{"note", "text"}}));
    // Outside the default schema a table is keyed schema.table.
    EXPECT_TRUE(tables.contains("archive.ledger")) << reply.body;

    // A table created later shows after a refresh, not before (the cache holds).
    pg_->execute("CREATE TABLE later (x int); GRANT SELECT ON later TO " +
                     postgres_instance::identifier(role_->name()),
                 database_->name());
    auto cached = client_->get(team_path("direct_query/schema/" + source_id_), bearer(api_key()));
    EXPECT_FALSE(cached.json().at("tables").as_object().contains("later"));
    auto refreshed = client_->get(team_path("direct_query/schema/" + source_id_ + "?refresh=1"), bearer(api_key()));
    EXPECT_TRUE(refreshed.json().at("tables").as_object().contains("later")) << refreshed.body;

    auto missing = client_->get(team_path("direct_query/schema/00000000-0000-7000-8000-000000000000"),
                                bearer(api_key()));
    EXPECT_EQ(missing.status, 404u);
}

TEST_F(api_query_test, pagilas_schema_is_complete) {
    if (!pg_->has_pagila()) {
        GTEST_SKIP() << "../shared/data/pagila is absent";
    }
    const std::string pagila = create_source("pagila", "pagila");
    auto reply = client_->get(team_path("direct_query/schema/" + pagila), bearer(api_key()));
    ASSERT_EQ(reply.status, 200u) << reply.body;
    auto tables = reply.json().at("tables").as_object();
    for (const char* name : {"actor", "film", "rental", "payment", "customer", "inventory", "store", "staff"}) {
        EXPECT_TRUE(tables.contains(name)) << name;
    }
    // Domains keep their names (film.release_year is declared `year`, described by Postgres as integer).
    auto film = client_->post_json(team_path("direct_query/execute"),
                                   json::object{{"source_id", pagila},
                                                {"sql", "SELECT film_id, release_year, rating FROM film LIMIT 1"}},
                                   bearer(api_key()));
    ASSERT_EQ(film.status, 200u) << film.body;
    EXPECT_EQ(film.json().at("types"), (json::array{"integer", "year", "mpaa_rating"}));

    bool has_fulltext = false;
    for (const auto& column : tables.at("film").as_array()) {
        has_fulltext = has_fulltext || column.at(0) == "fulltext";
        if (column.at(0) == "fulltext") {
            EXPECT_EQ(column.at(1), "tsvector");
        }
    }
    EXPECT_TRUE(has_fulltext);
}

TEST_F(api_query_test, exports_stream_csv_and_ndjson) {
    auto csv = client_->post_json(team_path("direct_query/export"),
                                  json::object{{"source_id", source_id_},
                                               {"sql", "SELECT id, note FROM demo.ledger ORDER BY id"},
                                               {"format", "csv"}},
                                  bearer(api_key()));
    ASSERT_EQ(csv.status, 200u) << csv.body;
    EXPECT_EQ(csv.header("content-type").rfind("text/csv", 0), 0u);
    // Byte for byte what COPY … CSV HEADER gives.
    EXPECT_EQ(csv.body, "id,note\n1,first\n2,demo.ledger\n");

    auto ndjson = client_->post_json(team_path("direct_query/export"),
                                     json::object{{"source_id", source_id_},
                                                  {"sql", "SELECT id, note FROM ledger ORDER BY id"},
                                                  {"format", "ndjson"}},
                                     bearer(api_key()));
    ASSERT_EQ(ndjson.status, 200u) << ndjson.body;
    EXPECT_EQ(ndjson.body, "{\"id\":1,\"note\":\"first\"}\n{\"id\":2,\"note\":\"demo.ledger\"}\n");

    auto refused = client_->post_json(team_path("direct_query/export"),
                                      json::object{{"source_id", source_id_}, {"sql", "DELETE FROM ledger"}},
                                      bearer(api_key()));
    EXPECT_EQ(refused.status, 400u);
    EXPECT_EQ(refused.json().at("code"), "statement_refused");
}

TEST_F(api_query_test, explain_returns_the_plan_and_analyze_writes_nothing) {
    auto plan = client_->post_json(team_path("direct_query/explain"),
                                   json::object{{"source_id", source_id_}, {"sql", "SELECT * FROM demo.ledger"}},
                                   bearer(api_key()));
    ASSERT_EQ(plan.status, 200u) << plan.body;
    EXPECT_TRUE(plan.json().at("plan").at(0).as_object().contains("Plan")) << plan.body;

    auto analyzed = client_->post_json(
        team_path("direct_query/explain"),
        json::object{{"source_id", source_id_}, {"sql", "SELECT add_entry()"}, {"analyze", true}},
        bearer(api_key()));
    EXPECT_EQ(analyzed.status, 400u) << analyzed.body;
    EXPECT_EQ(pg_->query("SELECT count(*) FROM ledger", database_->name()).at(0).at(0), "2");
}

TEST_F(api_query_test, duplicate_columns_survive_in_arrays_format) {
    auto reply = execute("SELECT 1 AS a, 2 AS a, 9007199254740993::bigint AS big", {{"format", "arrays"}});
    ASSERT_EQ(reply.status, 200u) << reply.body;
    EXPECT_EQ(reply.json().at("columns"), (json::array{"a", "a", "big"}));
    EXPECT_NE(reply.body.find("[1,2,9007199254740993]"), std::string::npos) << reply.body;
}

}  // namespace
}  // namespace metahog::test_support
