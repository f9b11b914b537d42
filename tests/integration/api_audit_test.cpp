// End-to-end tests of the audit log through real HTTP: the real `metahog serve` binary and a real Postgres.
// Every query (ok, refused, failed, timed out, cancelled, exported) and every source change leaves a record
// before its answer; admins read them with filters and paging; the records survive a restart and
// `metahog audit verify` proves the chain intact, or names the first record an attacker altered or removed.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "store/sqlite_handle.hpp"
#include "store/sqlite_store.hpp"
#include "support/http_client.hpp"
#include "support/postgres_instance.hpp"
#include "support/server_process.hpp"

namespace metahog::test_support {
namespace {

namespace json = boost::json;

class api_audit_test : public ::testing::Test {
protected:
    void SetUp() override {
        METAHOG_REQUIRE_POSTGRES();
        pg_ = postgres_instance::shared();
        role_.emplace("audit_reader");
        database_.emplace("audit_db", role_->name());
        pg_->execute(
            "CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL);"
            "INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');"
            "GRANT SELECT ON items TO " +
                postgres_instance::identifier(role_->name()),
            database_->name());
        server_.emplace(data_dir());
        admin_ = server_->bootstrap("admin@example.com", admin_password_, "Alpha");
        client_.emplace("127.0.0.1", server_->port());
    }

    void TearDown() override {
        if (server_ && client_) {
            const std::string everything = client_->transcript() + server_->log();
            EXPECT_EQ(everything.find(role_->password()), std::string::npos) << "a database password leaked";
            EXPECT_EQ(everything.find(admin_password_), std::string::npos) << "a user password leaked";
        }
    }

    std::filesystem::path data_dir() const { return data_.path() / "data"; }
    std::string api_key() const { return std::string(admin_.at("api_key").as_string()); }
    std::int64_t team_id() const { return admin_.at("team_id").as_int64(); }
    std::string team_path(const std::string& suffix) const {
        return "/api/environments/" + std::to_string(team_id()) + "/" + suffix;
    }

    json::object valid_inputs() const {
        return json::object{{"host", "127.0.0.1"},           {"port", pg_->port()},
                            {"database", database_->name()}, {"user", role_->name()},
                            {"password", role_->password()}, {"schema", "public"},
                            {"sslmode", "disable"}};
    }

    std::string create_source() {
        auto reply = client_->post_json(team_path("external_data_sources/"),
                                        {{"source_type", "Postgres"},
                                         {"prefix", "shop"},
                                         {"query_only", true},
                                         {"job_inputs", valid_inputs()}},
                                        bearer(api_key()));
        EXPECT_EQ(reply.status, 201u) << reply.body;
        return std::string(reply.json().at("id").as_string());
    }

    http_reply execute(const std::string& source_id, const std::string& sql, json::object extra = {}) {
        extra["source_id"] = source_id;
        extra["sql"] = sql;
        return client_->post_json(team_path("direct_query/execute"), extra, bearer(api_key()));
    }

    // The newest records matching the query string, as the admin reads them.
    json::array audit(const std::string& query = "") {
        auto reply =
            client_->get(team_path("audit_log/") + (query.empty() ? "" : "?" + query), bearer(api_key()));
        EXPECT_EQ(reply.status, 200u) << reply.body;
        return reply.json().at("results").as_array();
    }

    json::object newest(const std::string& query) {
        auto records = audit(query);
        EXPECT_FALSE(records.empty()) << query;
        return records.empty() ? json::object{} : records.at(0).as_object();
    }

    command_output verify() { return run_metahog({"audit", "verify", "--data-dir", data_dir().string()}); }

    // Plays an attacker with the file in hand: the triggers that keep history immutable are dropped first.
    void tamper(const std::string& sql) {
        auto db = store::sqlite::connection::open(data_dir() / "metahog.db");
        ASSERT_TRUE(db) << db.error().message;
        const std::string script =
            "DROP TRIGGER IF EXISTS audit_records_no_update; "
            "DROP TRIGGER IF EXISTS audit_records_no_delete; " +
            sql;
        auto done = db->exec(script.c_str(), "tamper");
        ASSERT_TRUE(done) << done.error().message;
    }

    const postgres_instance* pg_ = nullptr;
    const std::string admin_password_ = "correct horse battery staple";
    temp_dir data_;
    std::optional<test_role> role_;
    std::optional<test_database> database_;
    std::optional<server_process> server_;
    json::object admin_;
    std::optional<http_client> client_;
};

TEST_F(api_audit_test, a_query_is_recorded_with_who_what_and_how_it_went) {
    const std::string id = create_source();
    const std::string sql = "SELECT id, name FROM shop.items ORDER BY id";
    auto reply = execute(id, sql);
    ASSERT_EQ(reply.status, 200u) << reply.body;

    const auto record = newest("action=query");
    EXPECT_EQ(record.at("sql"), json::value(sql)) << "the SQL as sent, prefix and all";
    EXPECT_EQ(record.at("source_id"), json::value(id));
    EXPECT_EQ(record.at("user_id"), admin_.at("user_id"));
    EXPECT_EQ(record.at("user_email"), "admin@example.com");
    EXPECT_EQ(record.at("outcome"), "ok");
    EXPECT_TRUE(record.at("error_code").is_null());
    EXPECT_EQ(record.at("rows_returned"), 3);
    EXPECT_GE(record.at("duration_ms").as_int64(), 0);
    EXPECT_EQ(record.at("client_address"), "127.0.0.1");
    ASSERT_TRUE(record.at("fingerprint").is_string());
    EXPECT_FALSE(record.at("fingerprint").as_string().empty());
    EXPECT_FALSE(record.at("started_at").as_string().empty());
    EXPECT_FALSE(record.at("occurred_at").as_string().empty());

    // Same statement with other constants: the same fingerprint, so admins can group them.
    ASSERT_EQ(execute(id, "SELECT id, name FROM shop.items WHERE id > 1 ORDER BY id").status, 200u);
    ASSERT_EQ(execute(id, "SELECT id, name FROM shop.items WHERE id > 2 ORDER BY id").status, 200u);
    auto pair = audit("action=query&limit=2");
    ASSERT_EQ(pair.size(), 2u);
    EXPECT_EQ(pair.at(0).at("fingerprint"), pair.at(1).at("fingerprint"));
    EXPECT_EQ(pair.at(0).at("rows_returned"), 1);

    // Explain is recorded with its analyze flag.
    auto plan = client_->post_json(
        team_path("direct_query/explain"),
        {{"source_id", id}, {"sql", "SELECT * FROM shop.items"}, {"analyze", true}}, bearer(api_key()));
    ASSERT_EQ(plan.status, 200u) << plan.body;
    const auto explained = newest("action=explain");
    EXPECT_EQ(explained.at("details").at("analyze"), true);
    EXPECT_EQ(explained.at("outcome"), "ok");
}

TEST_F(api_audit_test, refusals_errors_and_timeouts_are_recorded_with_their_codes) {
    const std::string id = create_source();

    auto refused = execute(id, "DELETE FROM shop.items");
    ASSERT_EQ(refused.status, 400u);
    auto record = newest("action=query");
    EXPECT_EQ(record.at("outcome"), "refused");
    EXPECT_EQ(record.at("error_code"), "statement_refused");
    EXPECT_EQ(record.at("sql"), "DELETE FROM shop.items");
    EXPECT_EQ(record.at("details").at("statement"), "DELETE");
    EXPECT_TRUE(record.at("fingerprint").is_string()) << "refused statements are fingerprinted too";

    auto syntax = execute(id, "SELEC 1");
    ASSERT_EQ(syntax.status, 400u);
    record = newest("action=query");
    EXPECT_EQ(record.at("outcome"), "error");
    EXPECT_EQ(record.at("error_code"), "query_failed");
    EXPECT_EQ(record.at("details").at("sqlstate"), "42601");

    auto missing = execute(id, "SELECT * FROM shop.no_such_table");
    ASSERT_EQ(missing.status, 400u);
    record = newest("action=query");
    EXPECT_EQ(record.at("outcome"), "error");
    EXPECT_EQ(record.at("details").at("sqlstate"), "42P01");

    auto slow = execute(id, "SELECT pg_sleep(10)", {{"timeout_ms", 200}});
    ASSERT_EQ(slow.status, 400u) << slow.body;
    EXPECT_EQ(slow.json().at("code"), "query_timeout");
    record = newest("action=query");
    EXPECT_EQ(record.at("outcome"), "timeout");
    EXPECT_EQ(record.at("error_code"), "query_timeout");
    EXPECT_GE(record.at("duration_ms").as_int64(), 150);

    // Another team's (or no) source: refused, with the id as sent.
    auto unknown = execute("00000000-0000-0000-0000-000000000000", "SELECT 1");
    ASSERT_EQ(unknown.status, 404u);
    record = newest("action=query");
    EXPECT_EQ(record.at("outcome"), "refused");
    EXPECT_EQ(record.at("error_code"), "not_found");
}

TEST_F(api_audit_test, a_query_cancelled_through_the_route_is_recorded_as_cancelled) {
    const std::string id = create_source();
    auto running = std::async(std::launch::async, [&] {
        http_client other("127.0.0.1", server_->port());
        return other.post_json(
            team_path("direct_query/execute"),
            {{"source_id", id}, {"sql", "SELECT pg_sleep(30)"}, {"client_query_id", "audit-q1"}},
            bearer(api_key()));
    });
    // Poll the cancel route until the query is registered (no fixed sleep for readiness).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bool cancelled = false;
    while (!cancelled && std::chrono::steady_clock::now() < deadline) {
        auto reply = client_->post_json(team_path("direct_query/cancel"), {{"client_query_id", "audit-q1"}},
                                        bearer(api_key()));
        cancelled = reply.status == 200u;
        if (!cancelled) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
    ASSERT_TRUE(cancelled);
    auto answer = running.get();
    EXPECT_EQ(answer.status, 400u) << answer.body;
    const auto record = newest("action=query");
    EXPECT_EQ(record.at("outcome"), "cancelled");
    EXPECT_EQ(record.at("error_code"), "query_cancelled");
    EXPECT_EQ(record.at("details").at("client_query_id"), "audit-q1");
}

TEST_F(api_audit_test, an_export_has_a_started_and_a_finished_record) {
    const std::string id = create_source();
    auto reply = client_->post_json(
        team_path("direct_query/export"),
        {{"source_id", id}, {"sql", "SELECT * FROM shop.items"}, {"format", "csv"}}, bearer(api_key()));
    ASSERT_EQ(reply.status, 200u) << reply.body;
    EXPECT_NE(reply.body.find("three"), std::string::npos);

    const auto started = newest("action=export");
    EXPECT_EQ(started.at("details").at("phase"), "started");
    EXPECT_EQ(started.at("details").at("format"), "csv");
    EXPECT_EQ(started.at("outcome"), "ok");
    const auto finished = newest("action=export.finished");
    EXPECT_EQ(finished.at("details").at("phase"), "finished");
    EXPECT_EQ(finished.at("rows_returned"), 3);
    EXPECT_EQ(finished.at("outcome"), "ok");
    EXPECT_EQ(finished.at("fingerprint"), started.at("fingerprint"));
    EXPECT_GT(finished.at("id").as_int64(), started.at("id").as_int64());

    // A refused export is one record.
    auto refused =
        client_->post_json(team_path("direct_query/export"),
                           {{"source_id", id}, {"sql", "DROP TABLE shop.items"}}, bearer(api_key()));
    ASSERT_EQ(refused.status, 400u);
    const auto record = newest("action=export");
    EXPECT_EQ(record.at("outcome"), "refused");
    EXPECT_EQ(record.at("details").at("phase"), "refused");
}

TEST_F(api_audit_test, an_export_the_client_leaves_is_finished_as_cancelled) {
    const std::string id = create_source();
    // A raw connection, so the test can walk away mid-stream.
    const std::string body = json::serialize(
        json::object{{"source_id", id},
                     {"sql", "SELECT g, repeat('x', 200) FROM generate_series(1, 5000000) g"},
                     {"format", "csv"}});
    const std::string request = "POST " + team_path("direct_query/export") +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Authorization: Bearer " +
                                api_key() +
                                "\r\nContent-Type: application/json\r\n"
                                "Content-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body;
    {
        boost::asio::io_context io;
        boost::asio::ip::tcp::socket socket(io);
        socket.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
        boost::asio::write(socket, boost::asio::buffer(request));
        std::string received(4096, '\0');
        const auto read = boost::asio::read(socket, boost::asio::buffer(received));
        received.resize(read);
        ASSERT_NE(received.find(" 200 "), std::string::npos) << received.substr(0, 200);
        socket.close();
    }
    // The started record was written before the first byte; the end is recorded once the server notices.
    EXPECT_EQ(newest("action=export").at("details").at("phase"), "started");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    json::array finished;
    while (finished.empty() && std::chrono::steady_clock::now() < deadline) {
        finished = audit("action=export.finished");
        if (finished.empty()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    ASSERT_EQ(finished.size(), 1u);
    EXPECT_EQ(finished.at(0).at("outcome"), "cancelled");
    EXPECT_EQ(finished.at(0).at("error_code"), "query_cancelled");
    EXPECT_GT(finished.at(0).at("rows_returned").as_int64(), 0);
    EXPECT_LT(finished.at(0).at("rows_returned").as_int64(), 5000000);
}

TEST_F(api_audit_test, source_changes_are_recorded_without_secrets) {
    const std::string id = create_source();
    auto renamed = client_->patch_json(
        team_path("external_data_sources/" + id),
        {{"prefix", "store"}, {"job_inputs", {{"password", role_->password()}}}}, bearer(api_key()));
    ASSERT_EQ(renamed.status, 200u) << renamed.body;
    ASSERT_EQ(client_->del(team_path("external_data_sources/" + id + "/"), bearer(api_key())).status, 204u);

    const auto created = newest("action=source.create");
    EXPECT_EQ(created.at("source_id"), json::value(id));
    EXPECT_EQ(created.at("outcome"), "ok");
    EXPECT_EQ(created.at("details").at("prefix"), "shop");
    const auto updated = newest("action=source.update");
    EXPECT_EQ(updated.at("source_id"), json::value(id));
    const auto& changed = updated.at("details").at("changed_fields").as_array();
    EXPECT_NE(std::find(changed.begin(), changed.end(), json::value("prefix")), changed.end());
    EXPECT_NE(std::find(changed.begin(), changed.end(), json::value("password")), changed.end());
    EXPECT_EQ(std::find(changed.begin(), changed.end(), json::value("host")), changed.end());
    const auto deleted = newest("action=source.delete");
    EXPECT_EQ(deleted.at("source_id"), json::value(id));

    // A failed change is recorded too, with its reason.
    auto gone = client_->patch_json(team_path("external_data_sources/" + id), {{"prefix", "again"}},
                                    bearer(api_key()));
    EXPECT_EQ(gone.status, 404u);
    EXPECT_EQ(newest("action=source.update").at("outcome"), "refused");

    // Not in any record, nor anywhere in the database file.
    auto all = client_->get(team_path("audit_log/?limit=500"), bearer(api_key()));
    EXPECT_EQ(all.body.find(role_->password()), std::string::npos);
    std::string bytes;
    for (const auto* name : {"metahog.db", "metahog.db-wal"}) {
        std::ifstream file(data_dir() / name, std::ios::binary);
        std::stringstream content;
        content << file.rdbuf();
        bytes += content.str();
    }
    EXPECT_FALSE(bytes.empty());
    EXPECT_EQ(bytes.find(role_->password()), std::string::npos) << "a password reached the database file";
}

TEST_F(api_audit_test, sign_ins_and_api_keys_are_recorded) {
    auto wrong =
        client_->post_json("/api/auth/login", {{"email", "admin@example.com"}, {"password", "nope nope"}});
    EXPECT_EQ(wrong.status, 401u);
    auto unknown =
        client_->post_json("/api/auth/login", {{"email", "who@example.com"}, {"password", "nope nope"}});
    EXPECT_EQ(unknown.status, 401u);
    auto login = client_->post_json("/api/auth/login",
                                    {{"email", "admin@example.com"}, {"password", admin_password_}});
    ASSERT_EQ(login.status, 200u);
    auto failed = audit("action=login_failed");
    ASSERT_EQ(failed.size(), 1u) << "an unknown e-mail belongs to no team";
    EXPECT_EQ(failed.at(0).at("outcome"), "refused");
    EXPECT_EQ(failed.at(0).at("error_code"), "unauthenticated");
    EXPECT_EQ(failed.at(0).at("user_id"), admin_.at("user_id"));
    EXPECT_EQ(newest("action=login").at("outcome"), "ok");

    auto key = client_->post_json("/api/personal_api_keys/", {{"label", "ci"}}, bearer(api_key()));
    ASSERT_EQ(key.status, 201u);
    const auto key_id = key.json().at("id").as_int64();
    EXPECT_EQ(
        client_->del("/api/personal_api_keys/" + std::to_string(key_id) + "/", bearer(api_key())).status,
        204u);
    EXPECT_EQ(newest("action=api_key.create").at("details").at("key_id"), key_id);
    EXPECT_EQ(newest("action=api_key.revoke").at("details").at("key_id"), key_id);
    const std::string token(key.json().at("key").as_string());
    EXPECT_EQ(client_->get(team_path("audit_log/?limit=500"), bearer(api_key())).body.find(token),
              std::string::npos);
}

TEST_F(api_audit_test, filters_and_paging) {
    const std::string id = create_source();
    for (int index = 1; index <= 5; ++index) {
        ASSERT_EQ(execute(id, "SELECT " + std::to_string(index) + " AS Needle").status, 200u);
    }
    ASSERT_EQ(execute(id, "UPDATE shop.items SET name = 'x'").status, 400u);

    // Paging by next_before_id walks every record once, newest first.
    std::vector<std::int64_t> ids;
    std::string query = "action=query&limit=2";
    for (int pages = 0; pages < 10; ++pages) {
        auto reply = client_->get(team_path("audit_log/?" + query), bearer(api_key()));
        ASSERT_EQ(reply.status, 200u) << reply.body;
        const auto body = reply.json();
        for (const auto& record : body.at("results").as_array()) {
            ids.push_back(record.at("id").as_int64());
        }
        if (body.at("next_before_id").is_null()) {
            break;
        }
        query = "action=query&limit=2&before_id=" + std::to_string(body.at("next_before_id").as_int64());
    }
    ASSERT_EQ(ids.size(), 6u);
    EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
    EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());

    EXPECT_EQ(audit("action=query&outcome=refused").size(), 1u);
    EXPECT_EQ(audit("action=query&outcome=ok").size(), 5u);
    EXPECT_EQ(audit("sql_contains=NEEDLE").size(), 5u) << "case-insensitive";
    EXPECT_EQ(audit("sql_contains=select%203").size(), 1u);
    EXPECT_EQ(audit("source_id=" + id + "&action=query").size(), 6u);
    EXPECT_EQ(audit("user_id=" + std::to_string(admin_.at("user_id").as_int64()) + "&action=query").size(),
              6u);
    EXPECT_EQ(audit("user_id=999999").size(), 0u);
    EXPECT_EQ(audit("action=query&from=2000-01-01&to=2200-01-01T00:00:00Z").size(), 6u);
    EXPECT_EQ(audit("from=2200-01-01T00:00:00%2B02:00").size(), 0u);
    EXPECT_EQ(audit("to=2000-01-01").size(), 0u);

    for (const auto& [filter, field] :
         std::vector<std::pair<std::string, std::string>>{{"limit=0", "limit"},
                                                          {"limit=501", "limit"},
                                                          {"limit=ten", "limit"},
                                                          {"outcome=maybe", "outcome"},
                                                          {"from=yesterday", "from"},
                                                          {"to=2026-13-01", "to"},
                                                          {"from=3000-01-01", "from"},
                                                          {"user_id=abc", "user_id"},
                                                          {"before_id=-4", "before_id"}}) {
        auto reply = client_->get(team_path("audit_log/?" + filter), bearer(api_key()));
        EXPECT_EQ(reply.status, 400u) << filter;
        EXPECT_EQ(reply.json().at("field"), json::value(field)) << filter;
    }
}

TEST_F(api_audit_test, only_the_teams_admins_read_it) {
    // A second user of team Alpha, made a plain member behind the server's back (no membership API yet).
    auto member = server_->bootstrap("member@example.com", "member long password", "Alpha");
    {
        auto store = store::open_sqlite_store(data_dir() / "metahog.db");
        ASSERT_TRUE(store) << store.error().message;
        ASSERT_TRUE(
            (*store)->set_membership(team_id(), member.at("user_id").as_int64(), store::team_role::member));
    }
    const std::string member_key(member.at("api_key").as_string());
    auto forbidden = client_->get(team_path("audit_log/"), bearer(member_key));
    EXPECT_EQ(forbidden.status, 403u) << forbidden.body;

    auto other = server_->bootstrap("other@example.com", "another long password", "Beta");
    const std::string other_key(other.at("api_key").as_string());
    EXPECT_EQ(client_->get(team_path("audit_log/"), bearer(other_key)).status, 404u);
    EXPECT_EQ(client_->get(team_path("audit_log/")).status, 401u);
    // Beta's admin sees Beta's log, which holds none of Alpha's records.
    auto beta = client_->get(
        "/api/projects/" + std::to_string(other.at("team_id").as_int64()) + "/audit_log/", bearer(other_key));
    ASSERT_EQ(beta.status, 200u);
    const auto beta_body = beta.json();  // the loop below must not iterate into a temporary
    for (const auto& record : beta_body.at("results").as_array()) {
        EXPECT_EQ(record.at("user_id"), other.at("user_id"));
    }
}

TEST_F(api_audit_test, records_survive_a_restart_and_verify_proves_the_chain) {
    const std::string id = create_source();
    ASSERT_EQ(execute(id, "SELECT 42 AS answer").status, 200u);
    ASSERT_EQ(execute(id, "SELECT 43 AS answer").status, 200u);

    // While the server runs.
    auto intact = verify();
    EXPECT_EQ(intact.exit_code, 0) << intact.out << intact.err;
    EXPECT_NE(intact.out.find("result: intact"), std::string::npos) << intact.out;
    EXPECT_NE(intact.out.find("records checked: 3"), std::string::npos) << intact.out;

    client_.reset();
    ASSERT_EQ(server_->stop(), 0);
    server_.emplace(data_dir());
    client_.emplace("127.0.0.1", server_->port());
    const auto record = newest("action=query");
    EXPECT_EQ(record.at("sql"), "SELECT 43 AS answer");
    EXPECT_EQ(audit("action=query").size(), 2u);
    client_.reset();
    ASSERT_EQ(server_->stop(), 0);
    server_.reset();

    tamper("UPDATE audit_records SET sql = 'SELECT 1' WHERE id = 2");
    auto altered = verify();
    EXPECT_EQ(altered.exit_code, 1) << altered.out << altered.err;
    EXPECT_NE(altered.out.find("BROKEN at record 2 (altered_content)"), std::string::npos) << altered.out;
    EXPECT_NE(altered.out.find("records checked: 1"), std::string::npos) << altered.out;
}

TEST_F(api_audit_test, verify_finds_a_removed_record_and_reports_usage_errors) {
    const std::string id = create_source();
    ASSERT_EQ(execute(id, "SELECT 1").status, 200u);
    ASSERT_EQ(execute(id, "SELECT 2").status, 200u);
    client_.reset();
    ASSERT_EQ(server_->stop(), 0);
    server_.reset();

    tamper("DELETE FROM audit_records WHERE id = 2");
    auto removed = verify();
    EXPECT_EQ(removed.exit_code, 1) << removed.out << removed.err;
    EXPECT_NE(removed.out.find("BROKEN at record 2 (missing_record)"), std::string::npos) << removed.out;

    // Removing the newest record leaves no gap, but the highest id given out says it existed.
    tamper("DELETE FROM audit_records WHERE id = (SELECT max(id) FROM audit_records)");
    auto truncated = verify();
    EXPECT_EQ(truncated.exit_code, 1) << truncated.out;

    auto missing_dir = run_metahog({"audit", "verify", "--data-dir", (data_.path() / "nowhere").string()});
    EXPECT_EQ(missing_dir.exit_code, 2) << missing_dir.out << missing_dir.err;
    EXPECT_FALSE(std::filesystem::exists(data_.path() / "nowhere" / "metahog.db"))
        << "verify must not create a store";
    EXPECT_EQ(run_metahog({"audit", "verify", "--bogus"}).exit_code, 2);
    EXPECT_EQ(run_metahog({"audit"}).exit_code, 2);
    auto help = run_metahog({"audit", "verify", "--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("--data-dir"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace metahog::test_support
