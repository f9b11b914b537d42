// End-to-end tests of the foundation through real HTTP: the real `metahog serve` binary on a temp data dir and
// a real Postgres. They guard what a user relies on first: bootstrap, sign-in with CSRF, API keys, and the
// external_data_sources routes — validation, credential checks with the database's own reason, team scoping,
// and that no secret ever appears in a response or a log line.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "support/http_client.hpp"
#include "support/postgres_instance.hpp"
#include "support/server_process.hpp"

namespace metahog::test_support {
namespace {

namespace json = boost::json;

class api_sources_test : public ::testing::Test {
protected:
    void SetUp() override {
        METAHOG_REQUIRE_POSTGRES();
        pg_ = postgres_instance::shared();
        role_.emplace("api_reader");
        database_.emplace("api_db", role_->name());
        server_.emplace(data_.path() / "data");
        admin_ = server_->bootstrap("admin@example.com", admin_password_, "Alpha");
        client_.emplace("127.0.0.1", server_->port());
    }

    std::string api_key() const { return std::string(admin_.at("api_key").as_string()); }
    std::string team_path(const std::string& suffix) const {
        return "/api/environments/" + std::to_string(admin_.at("team_id").as_int64()) + "/" + suffix;
    }

    json::object valid_inputs() const {
        return json::object{{"host", "127.0.0.1"},  {"port", pg_->port()},       {"database", database_->name()},
                            {"user", role_->name()}, {"password", role_->password()}, {"schema", "public"},
                            {"sslmode", "disable"}};
    }

    json::object create_body(json::object inputs) const {
        return json::object{{"source_type", "Postgres"}, {"prefix", "pagila"}, {"query_only", true},
                            {"job_inputs", std::move(inputs)}};
    }

    std::string create_source() {
        auto reply = client_->post_json(team_path("external_data_sources/"), create_body(valid_inputs()),
                                        bearer(api_key()));
        EXPECT_EQ(reply.status, 201u) << reply.body;
        return std::string(reply.json().at("id").as_string());
    }

    // Where `secret` appears in everything the test's client and the server saw, or npos.
    std::size_t position_in_everything(const std::string& secret) const {
        return (client_->transcript() + server_->log()).find(secret);
    }

    void TearDown() override {
        if (server_ && client_) {
            // Nothing secret may ever leave: not in bodies, headers or the server's log.
            const std::string everything = client_->transcript() + server_->log();
            EXPECT_EQ(everything.find(role_->password()), std::string::npos) << "a database password leaked";
            EXPECT_EQ(everything.find(admin_password_), std::string::npos) << "a user password leaked";
            EXPECT_EQ(server_->log().find(api_key()), std::string::npos) << "an API key was logged";
        }
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

TEST_F(api_sources_test, health_and_metrics_answer_without_credentials) {
    auto health = client_->get("/healthz");
    EXPECT_EQ(health.status, 200u);
    EXPECT_EQ(health.json().at("status"), "ok");
    auto metrics = client_->get("/metrics");
    EXPECT_EQ(metrics.status, 200u);
    EXPECT_NE(metrics.body.find("# TYPE metahog_http_requests_total counter"), std::string::npos);
}

TEST_F(api_sources_test, bootstrap_is_idempotent_and_mints_a_new_key_each_time) {
    auto again = server_->bootstrap("ADMIN@example.com", admin_password_, "Alpha");
    EXPECT_EQ(again.at("team_id"), admin_.at("team_id"));
    EXPECT_EQ(again.at("user_id"), admin_.at("user_id"));
    EXPECT_NE(again.at("api_key"), admin_.at("api_key"));
    // Both keys work.
    EXPECT_EQ(client_->get(team_path("external_data_sources/"), bearer(api_key())).status, 200u);
    EXPECT_EQ(client_->get(team_path("external_data_sources/"),
                           bearer(std::string(again.at("api_key").as_string())))
                  .status,
              200u);
}

TEST_F(api_sources_test, requests_without_valid_credentials_are_401) {
    EXPECT_EQ(client_->get(team_path("external_data_sources/")).status, 401u);
    EXPECT_EQ(client_->get(team_path("external_data_sources/"), bearer("mhk_not-a-real-key")).status, 401u);
    EXPECT_EQ(client_->get(team_path("external_data_sources/"), {{"Authorization", "Basic abc"}}).status, 401u);
}

TEST_F(api_sources_test, browser_login_sets_a_safe_cookie_and_state_changes_need_the_csrf_token) {
    auto wrong = client_->post_json("/api/auth/login", {{"email", "admin@example.com"}, {"password", "nope nope"}});
    EXPECT_EQ(wrong.status, 401u);
    auto unknown = client_->post_json("/api/auth/login", {{"email", "who@example.com"}, {"password", "nope nope"}});
    EXPECT_EQ(unknown.status, 401u);
    EXPECT_EQ(wrong.json().at("error"), unknown.json().at("error")) << "must not reveal which e-mails exist";

    auto login =
        client_->post_json("/api/auth/login", {{"email", "Admin@Example.com"}, {"password", admin_password_}});
    ASSERT_EQ(login.status, 200u) << login.body;
    const std::string cookie = login.header("set-cookie");
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
    const std::string session = cookie.substr(0, cookie.find(';'));
    const std::string csrf(login.json().at("csrf_token").as_string());
    EXPECT_EQ(login.json().at("teams").as_array().size(), 1u);

    auto me = client_->get("/api/auth/me", {{"Cookie", session}});
    EXPECT_EQ(me.status, 200u);
    EXPECT_EQ(me.json().at("user").at("email"), "admin@example.com");

    const auto body = create_body(valid_inputs());
    auto without_token = client_->post_json(team_path("external_data_sources/"), body, {{"Cookie", session}});
    EXPECT_EQ(without_token.status, 403u);
    EXPECT_EQ(without_token.json().at("code"), "csrf_failed");
    auto with_token = client_->post_json(team_path("external_data_sources/"), body,
                                         {{"Cookie", session}, {"X-CSRF-Token", csrf}});
    EXPECT_EQ(with_token.status, 201u) << with_token.body;

    EXPECT_EQ(client_->request("POST", "/api/auth/logout", "", {{"Cookie", session}, {"X-CSRF-Token", csrf}}).status,
              204u);
    EXPECT_EQ(client_->get("/api/auth/me", {{"Cookie", session}}).status, 401u);
}

TEST_F(api_sources_test, personal_api_keys_are_shown_once_and_revocable) {
    auto created = client_->post_json("/api/personal_api_keys/", {{"label", "ci"}}, bearer(api_key()));
    ASSERT_EQ(created.status, 201u) << created.body;
    const std::string key(created.json().at("key").as_string());
    const auto id = created.json().at("id").as_int64();
    auto listed = client_->get("/api/personal_api_keys/", bearer(key));
    EXPECT_EQ(listed.status, 200u);
    EXPECT_EQ(listed.body.find(key), std::string::npos) << "a key must never be shown again";
    EXPECT_EQ(client_->del("/api/personal_api_keys/" + std::to_string(id) + "/", bearer(api_key())).status, 204u);
    EXPECT_EQ(client_->get("/api/personal_api_keys/", bearer(key)).status, 401u);
}

TEST_F(api_sources_test, create_list_get_patch_delete_a_source) {
    const std::string id = create_source();

    auto listed = client_->get(team_path("external_data_sources/"), bearer(api_key()));
    ASSERT_EQ(listed.status, 200u);
    ASSERT_EQ(listed.json().at("results").as_array().size(), 1u);

    auto fetched = client_->get(team_path("external_data_sources/" + id + "/"), bearer(api_key()));
    ASSERT_EQ(fetched.status, 200u);
    const json::value fetched_json = fetched.json();
    const json::object& source = fetched_json.as_object();
    EXPECT_EQ(source.at("source_type"), "Postgres");
    EXPECT_EQ(source.at("prefix"), "pagila");
    EXPECT_EQ(source.at("has_password"), true);
    EXPECT_EQ(source.at("job_inputs").at("database"), json::value(database_->name()));
    EXPECT_FALSE(source.at("job_inputs").as_object().contains("password"));

    auto direct = client_->get("/api/projects/@current/direct_query/sources", bearer(api_key()));
    ASSERT_EQ(direct.status, 200u);
    EXPECT_EQ(direct.json().at("sources").at(0).at("id"), json::value(id));

    auto renamed = client_->patch_json(team_path("external_data_sources/" + id), {{"prefix", "shop"}},
                                       bearer(api_key()));
    EXPECT_EQ(renamed.status, 200u) << renamed.body;
    EXPECT_EQ(renamed.json().at("prefix"), "shop");

    // A bad password in a PATCH is checked against the database and nothing is saved.
    auto broken = client_->patch_json(team_path("external_data_sources/" + id),
                                      {{"job_inputs", {{"password", "wrong-password"}}}}, bearer(api_key()));
    EXPECT_EQ(broken.status, 400u);
    EXPECT_NE(broken.body.find("password authentication failed"), std::string::npos) << broken.body;
    auto checked = client_->post_json(team_path("external_data_sources/check"),
                                      {{"source_type", "Postgres"}, {"job_inputs", valid_inputs()}}, bearer(api_key()));
    EXPECT_EQ(checked.status, 200u) << checked.body;

    EXPECT_EQ(client_->del(team_path("external_data_sources/" + id + "/"), bearer(api_key())).status, 204u);
    EXPECT_EQ(client_->get(team_path("external_data_sources/" + id + "/"), bearer(api_key())).status, 404u);
    EXPECT_EQ(client_->get(team_path("external_data_sources/"), bearer(api_key())).json().at("count"), 0);
    EXPECT_EQ(client_->del(team_path("external_data_sources/" + id + "/"), bearer(api_key())).status, 404u);
}

TEST_F(api_sources_test, a_connection_string_creates_a_source) {
    const std::string url = "postgresql://" + role_->name() + ":" + role_->password() + "@127.0.0.1:" +
                            std::to_string(pg_->port()) + "/" + database_->name() + "?sslmode=disable";
    auto reply = client_->post_json(
        team_path("external_data_sources/"),
        {{"source_type", "Postgres"}, {"prefix", ""}, {"job_inputs", {{"connection_string", url}}}}, bearer(api_key()));
    ASSERT_EQ(reply.status, 201u) << reply.body;
    auto fetched = client_->get(team_path("external_data_sources/" + std::string(reply.json().at("id").as_string())),
                                bearer(api_key()));
    EXPECT_EQ(fetched.json().at("job_inputs").at("user"), json::value(role_->name()));
}

TEST_F(api_sources_test, a_wrong_password_answers_the_databases_reason) {
    auto inputs = valid_inputs();
    inputs["password"] = "definitely-wrong";
    auto reply = client_->post_json(team_path("external_data_sources/"), create_body(inputs), bearer(api_key()));
    EXPECT_EQ(reply.status, 400u);
    EXPECT_NE(reply.json().at("message").as_string().find("password authentication failed"), std::string::npos)
        << reply.body;
    EXPECT_EQ(reply.body.find("definitely-wrong"), std::string::npos);
    EXPECT_EQ(client_->get(team_path("external_data_sources/"), bearer(api_key())).json().at("count"), 0);
}

TEST_F(api_sources_test, an_unreachable_host_fails_with_a_clear_reason) {
    auto inputs = valid_inputs();
    inputs["port"] = 1;  // nothing listens on port 1
    auto reply = client_->post_json(team_path("external_data_sources/"), create_body(inputs), bearer(api_key()));
    EXPECT_EQ(reply.status, 400u);
    EXPECT_EQ(reply.json().at("code"), "source_connection_failed") << reply.body;
}

TEST_F(api_sources_test, bad_configs_name_the_field) {
    auto missing_host = valid_inputs();
    missing_host.erase("host");
    auto reply = client_->post_json(team_path("external_data_sources/"), create_body(missing_host), bearer(api_key()));
    EXPECT_EQ(reply.status, 400u);
    EXPECT_NE(reply.json().at("message").as_string().find("host"), std::string::npos) << reply.body;

    auto bad_port = valid_inputs();
    bad_port["port"] = "eighty";
    reply = client_->post_json(team_path("external_data_sources/"), create_body(bad_port), bearer(api_key()));
    EXPECT_EQ(reply.status, 400u);
    EXPECT_NE(reply.json().at("message").as_string().find("port"), std::string::npos) << reply.body;

    for (const char* smuggled : {"host=127.0.0.1 dbname=x user=u service=evil",
                                 "postgresql://u@127.0.0.1/x?options=-c%20default_transaction_read_only%3Doff",
                                 "postgresql://u@127.0.0.1/x?passfile=/etc/shadow", "not a connection string ="}) {
        reply = client_->post_json(team_path("external_data_sources/"),
                                   create_body(json::object{{"connection_string", smuggled}}), bearer(api_key()));
        EXPECT_EQ(reply.status, 400u) << smuggled;
        EXPECT_EQ(reply.json().at("code"), "invalid_input") << reply.body;
    }

    reply = client_->post_json(team_path("external_data_sources/"),
                               {{"source_type", "Oracle"}, {"job_inputs", valid_inputs()}}, bearer(api_key()));
    EXPECT_EQ(reply.status, 400u);
    EXPECT_EQ(reply.json().at("field"), "source_type");

    reply = client_->post_json(team_path("external_data_sources/"),
                               {{"source_type", "Postgres"}, {"prefix", "Bad Prefix!"}, {"job_inputs", valid_inputs()}},
                               bearer(api_key()));
    EXPECT_EQ(reply.status, 400u);
    EXPECT_EQ(reply.json().at("field"), "prefix");
}

TEST_F(api_sources_test, malformed_bodies_are_refused_clearly) {
    auto reply = client_->request("POST", team_path("external_data_sources/"), "{not json", bearer(api_key()));
    EXPECT_EQ(reply.status, 400u);
    auto headers = bearer(api_key());
    headers["Content-Type"] = "text/plain";
    reply = client_->request("POST", team_path("external_data_sources/"), "{}", headers);
    EXPECT_EQ(reply.status, 415u);
    reply = client_->request("POST", team_path("external_data_sources/"), std::string(2 * 1024 * 1024, 'x'),
                             bearer(api_key()));
    EXPECT_EQ(reply.status, 413u);
    std::string deep(100, '[');
    deep += std::string(100, ']');
    reply = client_->request("POST", team_path("external_data_sources/"), deep, bearer(api_key()));
    EXPECT_EQ(reply.status, 400u);
    EXPECT_EQ(client_->request("PUT", team_path("external_data_sources/"), "{}", bearer(api_key())).status, 405u);
    EXPECT_EQ(client_->get("/api/nothing-here", bearer(api_key())).status, 404u);
}

// Protects: a role that could escape the read-only guard is refused on create, check and PATCH with a stable code,
// the reason and what to do; nothing is stored or changed.
TEST_F(api_sources_test, an_unsafe_role_is_refused_everywhere_with_what_to_do) {
    test_role superuser("api_su", "SUPERUSER");
    auto inputs = valid_inputs();
    inputs["user"] = superuser.name();
    inputs["password"] = superuser.password();
    auto created = client_->post_json(team_path("external_data_sources/"), create_body(inputs), bearer(api_key()));
    ASSERT_EQ(created.status, 400u) << created.body;
    EXPECT_EQ(created.json().at("code"), "unsafe_database_role");
    EXPECT_NE(created.json().at("message").as_string().find("it is a superuser"), std::string::npos) << created.body;
    EXPECT_NE(created.json().at("hint").as_string().find("Read-only role recipe"), std::string::npos);
    EXPECT_EQ(client_->get(team_path("external_data_sources/"), bearer(api_key())).json().at("count"), 0);

    auto checked = client_->post_json(team_path("external_data_sources/check"),
                                      {{"source_type", "Postgres"}, {"job_inputs", inputs}}, bearer(api_key()));
    EXPECT_EQ(checked.status, 400u);
    EXPECT_EQ(checked.json().at("code"), "unsafe_database_role");

    const std::string id = create_source();
    auto patched = client_->patch_json(
        team_path("external_data_sources/" + id),
        {{"job_inputs", {{"user", superuser.name()}, {"password", superuser.password()}}}}, bearer(api_key()));
    EXPECT_EQ(patched.status, 400u);
    EXPECT_EQ(patched.json().at("code"), "unsafe_database_role") << patched.body;
    auto fetched = client_->get(team_path("external_data_sources/" + id), bearer(api_key()));
    EXPECT_EQ(fetched.json().at("job_inputs").at("user"), json::value(role_->name()));
    EXPECT_EQ(position_in_everything(superuser.password()), std::string::npos) << "a database password leaked";
}

// Protects: the contract's 201 {"id"} still holds, and create, check and PATCH return what the role may do
// beyond reading (here: it owns the database, so it owns and may create things).
TEST_F(api_sources_test, create_check_and_patch_return_role_warnings) {
    auto created = client_->post_json(team_path("external_data_sources/"), create_body(valid_inputs()),
                                      bearer(api_key()));
    ASSERT_EQ(created.status, 201u) << created.body;
    const json::value created_json = created.json();
    ASSERT_TRUE(created_json.at("id").is_string());
    const json::array& warnings = created_json.at("warnings").as_array();
    auto has = [](const json::array& list, const std::string& code, const std::string& example) {
        for (const auto& warning : list) {
            if (warning.at("code").as_string() == code && !warning.at("message").as_string().empty()) {
                for (const auto& item : warning.at("examples").as_array()) {
                    if (item.as_string() == example) {
                        return true;
                    }
                }
            }
        }
        return false;
    };
    EXPECT_TRUE(has(warnings, "owns_objects", "database " + database_->name())) << created.body;
    EXPECT_TRUE(has(warnings, "create_privilege", "database " + database_->name())) << created.body;

    auto checked = client_->post_json(team_path("external_data_sources/check"),
                                      {{"source_type", "Postgres"}, {"job_inputs", valid_inputs()}}, bearer(api_key()));
    ASSERT_EQ(checked.status, 200u) << checked.body;
    EXPECT_EQ(checked.json().at("ok"), true);
    EXPECT_TRUE(has(checked.json().at("warnings").as_array(), "owns_objects", "database " + database_->name()));

    const std::string id(created_json.at("id").as_string());
    auto patched = client_->patch_json(team_path("external_data_sources/" + id),
                                       {{"job_inputs", {{"password", role_->password()}}}}, bearer(api_key()));
    ASSERT_EQ(patched.status, 200u) << patched.body;
    EXPECT_TRUE(has(patched.json().at("warnings").as_array(), "create_privilege", "database " + database_->name()));
}

// Protects: [sources] refuse_privilege_warnings (METAHOG_REFUSE_PRIVILEGE_WARNINGS) turns warnings into refusals.
TEST_F(api_sources_test, refuse_privilege_warnings_refuses_roles_with_warnings) {
    temp_dir strict_data;
    server_process strict(strict_data.path() / "data", {"METAHOG_REFUSE_PRIVILEGE_WARNINGS=true"});
    const auto admin = strict.bootstrap("strict@example.com", admin_password_, "Strict");
    http_client strict_client("127.0.0.1", strict.port());
    const std::string key(admin.at("api_key").as_string());
    const std::string path =
        "/api/environments/" + std::to_string(admin.at("team_id").as_int64()) + "/external_data_sources/";
    auto refused = strict_client.post_json(path, create_body(valid_inputs()), bearer(key));
    ASSERT_EQ(refused.status, 400u) << refused.body;
    EXPECT_EQ(refused.json().at("code"), "unsafe_database_role");
    EXPECT_NE(refused.json().at("message").as_string().find("refuse_privilege_warnings"), std::string::npos);
    EXPECT_NE(refused.json().at("message").as_string().find("owns"), std::string::npos) << refused.body;
    EXPECT_EQ(strict_client.get(path, bearer(key)).json().at("count"), 0);
}

TEST_F(api_sources_test, another_teams_sources_are_404) {
    const std::string id = create_source();
    auto other = server_->bootstrap("other@example.com", "another long password", "Beta");
    const std::string other_key(other.at("api_key").as_string());
    const std::string other_team = std::to_string(other.at("team_id").as_int64());

    // Team Beta's user cannot see Alpha's team at all, nor its source through their own team.
    EXPECT_EQ(client_->get(team_path("external_data_sources/"), bearer(other_key)).status, 404u);
    EXPECT_EQ(client_->get(team_path("external_data_sources/" + id), bearer(other_key)).status, 404u);
    const std::string beta = "/api/projects/" + other_team + "/external_data_sources/" + id;
    EXPECT_EQ(client_->get(beta, bearer(other_key)).status, 404u);
    EXPECT_EQ(client_->patch_json(beta, {{"prefix", "stolen"}}, bearer(other_key)).status, 404u);
    EXPECT_EQ(client_->del(beta, bearer(other_key)).status, 404u);
    EXPECT_EQ(client_->get("/api/projects/@current/external_data_sources/", bearer(other_key)).json().at("count"),
              0);
    // And the source is untouched.
    auto fetched = client_->get(team_path("external_data_sources/" + id), bearer(api_key()));
    EXPECT_EQ(fetched.json().at("prefix"), "pagila");
    // Unknown and malformed ids are the same 404.
    EXPECT_EQ(client_->get(team_path("external_data_sources/not-a-uuid"), bearer(api_key())).status, 404u);
    EXPECT_EQ(client_->get("/api/projects/999999/external_data_sources/", bearer(api_key())).status, 404u);
}

TEST_F(api_sources_test, the_server_stops_cleanly_on_sigterm) {
    EXPECT_EQ(client_->get("/healthz").status, 200u);
    EXPECT_EQ(server_->stop(), 0);
}

}  // namespace
}  // namespace metahog::test_support
