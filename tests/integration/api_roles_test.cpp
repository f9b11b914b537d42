// Roles and grants, proven through real HTTP against the real `metahog serve` and a real Postgres: every
// team-scoped route (read from the router's own registrations, so a new route without a row here fails) is
// called as admin, member, viewer and non-member; member management guards the last admin and ends access at
// once; a restricted source is invisible to members without a grant and appears the moment one is given.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <functional>
#include <set>
#include <tuple>

#include "api/application.hpp"
#include "support/http_client.hpp"
#include "support/postgres_instance.hpp"
#include "support/server_process.hpp"

namespace metahog::test_support {
namespace {

namespace json = boost::json;
using store::team_role;

// Who calls: a team's three roles, and a signed-in user of another team.
enum class caller { admin, member, viewer, outsider };
constexpr caller all_callers[] = {caller::admin, caller::member, caller::viewer, caller::outsider};

std::string_view name_of(caller who) {
    switch (who) {
        case caller::admin:
            return "admin";
        case caller::member:
            return "member";
        case caller::viewer:
            return "viewer";
        case caller::outsider:
            return "non-member";
    }
    return "?";
}

int rank(team_role role) {
    switch (role) {
        case team_role::viewer:
            return 0;
        case team_role::member:
            return 1;
        case team_role::admin:
            return 2;
    }
    return 3;
}

struct session_credentials {
    std::string cookie;  // "metahog_session=…"
    std::string csrf;
    std::map<std::string, std::string> headers() const {
        return {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
    }
};

class api_roles_test : public ::testing::Test {
protected:
    void SetUp() override {
        METAHOG_REQUIRE_POSTGRES();
        pg_ = postgres_instance::shared();
        role_.emplace("roles_reader");
        database_.emplace("roles_db", role_->name());
        server_.emplace(data_.path() / "data");
        auto admin = server_->bootstrap("admin@example.com", password_, "Alpha");
        auto outsider = server_->bootstrap("outsider@example.com", password_, "Beta");
        client_.emplace("127.0.0.1", server_->port());
        team_id_ = admin.at("team_id").as_int64();
        beta_team_id_ = outsider.at("team_id").as_int64();
        keys_[caller::admin] = std::string(admin.at("api_key").as_string());
        keys_[caller::outsider] = std::string(outsider.at("api_key").as_string());
        user_ids_[caller::admin] = admin.at("user_id").as_int64();
        user_ids_[caller::outsider] = outsider.at("user_id").as_int64();

        for (const caller who : {caller::member, caller::viewer}) {
            const std::string email = std::string(name_of(who)) + "@example.com";
            auto added = client_->post_json(
                team_path("members/"), {{"email", email}, {"role", name_of(who)}, {"password", password_}},
                key(caller::admin));
            ASSERT_EQ(added.status, 201u) << added.body;
            EXPECT_EQ(added.json().at("created"), true);
            user_ids_[who] = added.json().at("user_id").as_int64();
            keys_[who] = mint_key(sign_in(email));
        }
        source_id_ = create_source("pagila");
    }

    void TearDown() override {
        if (server_ && client_) {
            const std::string everything = client_->transcript() + server_->log();
            EXPECT_EQ(everything.find(role_->password()), std::string::npos) << "a database password leaked";
            EXPECT_EQ(everything.find(password_), std::string::npos) << "a user password leaked";
            EXPECT_EQ(everything.find("$argon2"), std::string::npos) << "a password hash leaked";
        }
    }

    std::map<std::string, std::string> key(caller who) const { return bearer(keys_.at(who)); }

    std::string team_path(const std::string& suffix, std::int64_t team = 0) const {
        return "/api/environments/" + std::to_string(team == 0 ? team_id_ : team) + "/" + suffix;
    }

    session_credentials sign_in(const std::string& email) {
        auto login = client_->post_json("/api/auth/login", {{"email", email}, {"password", password_}});
        EXPECT_EQ(login.status, 200u) << login.body;
        const std::string cookie = login.header("set-cookie");
        return session_credentials{cookie.substr(0, cookie.find(';')),
                                   std::string(login.json().at("csrf_token").as_string())};
    }

    std::string mint_key(const session_credentials& session) {
        auto minted =
            client_->post_json("/api/personal_api_keys/", {{"label", "roles test"}}, session.headers());
        EXPECT_EQ(minted.status, 201u) << minted.body;
        return std::string(minted.json().at("key").as_string());
    }

    json::object inputs() const {
        return json::object{{"host", "127.0.0.1"},           {"port", pg_->port()},
                            {"database", database_->name()}, {"user", role_->name()},
                            {"password", role_->password()}, {"schema", "public"},
                            {"sslmode", "disable"}};
    }

    std::string create_source(const std::string& prefix) {
        auto reply = client_->post_json(
            team_path("external_data_sources/"),
            {{"source_type", "Postgres"}, {"prefix", prefix}, {"job_inputs", inputs()}}, key(caller::admin));
        EXPECT_EQ(reply.status, 201u) << reply.body;
        return std::string(reply.json().at("id").as_string());
    }

    http_reply put_json(const std::string& target, const json::value& body,
                        const std::map<std::string, std::string>& headers) {
        return client_->request("PUT", target, json::serialize(body), headers);
    }

    http_reply set_access(const std::string& source_id, bool restricted, const json::array& user_ids) {
        return put_json(team_path("external_data_sources/" + source_id + "/access"),
                        {{"restricted", restricted}, {"user_ids", user_ids}}, key(caller::admin));
    }

    static std::set<std::string> ids_in(const json::value& list) {
        std::set<std::string> ids;
        for (const auto& item : list.as_array()) {
            ids.emplace(item.at("id").as_string());
        }
        return ids;
    }

    std::set<std::string> listed_sources(caller who) {
        auto reply = client_->get(team_path("external_data_sources/"), key(who));
        EXPECT_EQ(reply.status, 200u) << reply.body;
        auto direct = client_->get(team_path("direct_query/sources"), key(who));
        EXPECT_EQ(direct.status, 200u) << direct.body;
        const auto listed = ids_in(reply.json().at("results"));
        EXPECT_EQ(listed, ids_in(direct.json().at("sources"))) << "both lists show the same sources";
        return listed;
    }

    json::object query_body(const std::string& source_id) const {
        return json::object{{"source_id", source_id}, {"sql", "SELECT 1 AS one"}};
    }

    std::string fresh_source() { return create_source("doomed"); }

    // A user who exists but is not in the team between route rows: created once (the only password hashed),
    // then added and removed as the rows need.
    static constexpr const char* spare_email = "spare@example.com";
    std::int64_t add_spare() {
        remove_spare();
        auto added = client_->post_json(team_path("members/"),
                                        {{"email", spare_email}, {"role", "viewer"}, {"password", password_}},
                                        key(caller::admin));
        EXPECT_EQ(added.status, 201u) << added.body;
        spare_id_ = added.json().at("user_id").as_int64();
        return spare_id_;
    }
    void remove_spare() {
        if (spare_id_ != 0) {
            client_->del(team_path("members/" + std::to_string(spare_id_)), key(caller::admin));
        }
    }

    const postgres_instance* pg_ = nullptr;
    const std::string password_ = "roles test password 1";
    temp_dir data_;
    std::optional<test_role> role_;
    std::optional<test_database> database_;
    std::optional<server_process> server_;
    std::optional<http_client> client_;
    std::int64_t team_id_ = 0;
    std::int64_t beta_team_id_ = 0;
    std::map<caller, std::string> keys_;
    std::map<caller, std::int64_t> user_ids_;
    std::string source_id_;
    std::int64_t spare_id_ = 0;
};

// One row per team-scoped route: the least role it admits, what an admitted caller gets for the request the
// row builds, and that request. Requests that change or remove something build a fresh target each time.
class api_roles_test_routes;

struct route_request {
    std::string target_suffix;  // after /api/environments/{team_id}/
    std::optional<json::value> body;
};

struct route_row {
    boost::beast::http::verb method;
    std::string suffix;  // exactly as registered
    team_role minimum;
    unsigned admitted_status;
    std::function<route_request(api_roles_test_routes&)> build;
};

class api_roles_test_routes : public api_roles_test {
protected:
    using verb = boost::beast::http::verb;

    std::vector<route_row> rows() {
        const auto fixed = [](std::string suffix, std::optional<json::value> body = std::nullopt) {
            return [suffix = std::move(suffix), body = std::move(body)](api_roles_test_routes&) {
                return route_request{suffix, body};
            };
        };
        const std::string source = "external_data_sources/" + source_id_;
        const json::object check{{"source_type", "Postgres"}, {"job_inputs", inputs()}};
        const std::string member_path = "members/" + std::to_string(user_ids_.at(caller::member));
        return {
            {verb::get, "external_data_sources", team_role::viewer, 200, fixed("external_data_sources/")},
            {verb::post, "external_data_sources", team_role::admin, 201,
             fixed(
                 "external_data_sources/",
                 json::object{{"source_type", "Postgres"}, {"prefix", "created"}, {"job_inputs", inputs()}})},
            {verb::post, "external_data_sources/check", team_role::member, 200,
             fixed("external_data_sources/check", check)},
            {verb::get, "external_data_sources/{id}", team_role::viewer, 200, fixed(source)},
            {verb::patch, "external_data_sources/{id}", team_role::admin, 200,
             fixed(source, json::object{{"prefix", "pagila"}})},
            {verb::delete_, "external_data_sources/{id}", team_role::admin, 204,
             [](api_roles_test_routes& test) {
                 return route_request{"external_data_sources/" + test.fresh_source(), std::nullopt};
             }},
            {verb::get, "external_data_sources/{id}/access", team_role::admin, 200,
             fixed(source + "/access")},
            {verb::put, "external_data_sources/{id}/access", team_role::admin, 200,
             fixed(source + "/access", json::object{{"restricted", false}, {"user_ids", json::array{}}})},
            {verb::get, "direct_query/sources", team_role::viewer, 200, fixed("direct_query/sources")},
            {verb::get, "direct_query/schema/{source_id}", team_role::member, 200,
             fixed("direct_query/schema/" + source_id_)},
            {verb::post, "direct_query/execute", team_role::member, 200,
             fixed("direct_query/execute", query_body(source_id_))},
            {verb::post, "direct_query/explain", team_role::member, 200,
             fixed("direct_query/explain", query_body(source_id_))},
            {verb::post, "direct_query/export", team_role::member, 200,
             fixed("direct_query/export", query_body(source_id_))},
            // Nothing is running, so an admitted caller is told so; what matters is that it was admitted.
            {verb::post, "direct_query/cancel", team_role::member, 404,
             fixed("direct_query/cancel", json::object{{"client_query_id", "nothing-runs-under-this-id"}})},
            {verb::get, "audit_log", team_role::admin, 200, fixed("audit_log/")},
            {verb::get, "members", team_role::admin, 200, fixed("members/")},
            {verb::post, "members", team_role::admin, 201,
             [](api_roles_test_routes& test) {
                 // An existing user who is not a member, so an admitted call adds them.
                 test.add_spare();
                 test.remove_spare();
                 return route_request{"members/", json::object{{"email", spare_email}, {"role", "viewer"}}};
             }},
            {verb::patch, "members/{user_id}", team_role::admin, 200,
             fixed(member_path, json::object{{"role", "member"}})},
            {verb::delete_, "members/{user_id}", team_role::admin, 204,
             [](api_roles_test_routes& test) {
                 return route_request{"members/" + std::to_string(test.add_spare()), std::nullopt};
             }},
        };
    }
};

// The routes the server registers are exactly the rows above, each with the least role the row expects.
// Adding a team-scoped route without adding its row here fails this test.
TEST_F(api_roles_test_routes, every_registered_team_route_has_a_row) {
    settings config;
    config.data_dir = data_.path() / "registrations";
    auto app = api::make_application(config);
    ASSERT_TRUE(app) << app.error().message;

    using key_type = std::tuple<verb, std::string, team_role>;
    std::set<key_type> registered;
    for (const auto& route : (*app)->team_routes) {
        registered.emplace(route.method, route.suffix, route.minimum);
    }
    std::set<key_type> tabled;
    for (const auto& row : rows()) {
        tabled.emplace(row.method, row.suffix, row.minimum);
    }
    for (const auto& [method, suffix, minimum] : registered) {
        EXPECT_TRUE(tabled.contains({method, suffix, minimum}))
            << "registered route " << boost::beast::http::to_string(method) << " " << suffix
            << " (least role " << store::to_string(minimum)
            << ") has no row in api_roles_test with that role";
    }
    for (const auto& [method, suffix, minimum] : tabled) {
        EXPECT_TRUE(registered.contains({method, suffix, minimum}))
            << "row " << boost::beast::http::to_string(method) << " " << suffix
            << " is not registered as such";
    }
}

// Every route × every caller: admitted roles get the route's answer, lower roles 403 `forbidden` naming their
// role, a non-member 404 exactly as for a team that does not exist.
TEST_F(api_roles_test_routes, every_route_admits_exactly_the_roles_it_should) {
    for (const auto& row : rows()) {
        for (const caller who : all_callers) {
            const auto request = row.build(*this);
            // Both prefixes reach the same routes; alternate them so both are exercised.
            std::string target = team_path(request.target_suffix);
            if (who == caller::viewer || who == caller::outsider) {
                target.replace(0, std::string("/api/environments").size(), "/api/projects");
            }
            const auto reply =
                client_->request(std::string(boost::beast::http::to_string(row.method)), target,
                                 request.body ? json::serialize(*request.body) : "", key(who));
            const std::string label = std::string(boost::beast::http::to_string(row.method)) + " " +
                                      row.suffix + " as " + std::string(name_of(who)) + ": " + reply.body;
            if (who == caller::outsider) {
                EXPECT_EQ(reply.status, 404u) << label;
                EXPECT_EQ(reply.json().at("message"), "team not found") << label;
                continue;
            }
            const team_role role = who == caller::admin    ? team_role::admin
                                   : who == caller::member ? team_role::member
                                                           : team_role::viewer;
            if (rank(role) >= rank(row.minimum)) {
                EXPECT_EQ(reply.status, row.admitted_status) << label;
            } else {
                EXPECT_EQ(reply.status, 403u) << label;
                EXPECT_EQ(reply.json().at("code"), "forbidden") << label;
                EXPECT_NE(reply.json().at("message").as_string().find("(" + std::string(name_of(who)) + ")"),
                          std::string::npos)
                    << label;
            }
        }
    }
    remove_spare();
}

// Viewers see what sources are called and whether they work, never where they are or as whom.
TEST_F(api_roles_test, viewers_see_source_names_and_status_only) {
    auto listed = client_->get(team_path("external_data_sources/"), key(caller::viewer));
    ASSERT_EQ(listed.status, 200u);
    const json::value body = listed.json();
    const auto& source = body.at("results").at(0).as_object();
    EXPECT_EQ(source.at("prefix"), "pagila");
    EXPECT_EQ(source.at("status"), "Completed");
    EXPECT_FALSE(source.contains("job_inputs"));
    EXPECT_FALSE(source.contains("restricted"));
    auto one = client_->get(team_path("external_data_sources/" + source_id_), key(caller::viewer));
    EXPECT_FALSE(one.json().as_object().contains("job_inputs"));

    auto as_member = client_->get(team_path("external_data_sources/" + source_id_), key(caller::member));
    EXPECT_TRUE(as_member.json().as_object().contains("job_inputs"));
    EXPECT_FALSE(as_member.json().as_object().contains("restricted"));
    auto as_admin = client_->get(team_path("external_data_sources/" + source_id_), key(caller::admin));
    EXPECT_EQ(as_admin.json().at("restricted"), false);
}

TEST_F(api_roles_test, admins_list_add_change_and_remove_members) {
    auto listed = client_->get(team_path("members/"), key(caller::admin));
    ASSERT_EQ(listed.status, 200u) << listed.body;
    const json::value body = listed.json();
    const auto& results = body.at("results").as_array();
    ASSERT_EQ(results.size(), 3u);
    EXPECT_EQ(results[0].at("email"), "admin@example.com");
    EXPECT_EQ(results[0].at("role"), "admin");
    EXPECT_EQ(results[1].at("email"), "member@example.com");
    EXPECT_EQ(results[1].at("role"), "member");
    EXPECT_EQ(results[2].at("role"), "viewer");
    EXPECT_EQ(results[2].at("user_id"), user_ids_.at(caller::viewer));
    EXPECT_TRUE(results[2].at("joined_at").is_string());
    EXPECT_EQ(results[0].as_object().size(), 4u) << "user_id, email, role, joined_at and nothing else";

    // Bad input names its field.
    const auto refused = [&](const json::object& request, const char* field) {
        auto reply = client_->post_json(team_path("members/"), request, key(caller::admin));
        EXPECT_EQ(reply.status, 400u) << reply.body;
        EXPECT_EQ(reply.json().at("field"), field) << reply.body;
    };
    refused({{"email", "new@example.com"}, {"role", "owner"}, {"password", password_}}, "role");
    refused({{"email", "new@example.com"}, {"password", password_}}, "role");
    refused({{"email", "not an e-mail"}, {"role", "member"}, {"password", password_}}, "email");
    refused({{"email", "new@example.com"}, {"role", "member"}}, "password");
    refused({{"email", "new@example.com"}, {"role", "member"}, {"password", "eleven char"}}, "password");

    // A member already: 409. An existing user of another team joins as they are, password untouched.
    auto again = client_->post_json(team_path("members/"),
                                    {{"email", "member@example.com"}, {"role", "admin"}}, key(caller::admin));
    EXPECT_EQ(again.status, 409u) << again.body;
    auto joined = client_->post_json(
        team_path("members/"),
        {{"email", "OUTSIDER@example.com"}, {"role", "viewer"}, {"password", "an attempted takeover"}},
        key(caller::admin));
    ASSERT_EQ(joined.status, 201u) << joined.body;
    EXPECT_EQ(joined.json().at("created"), false);
    EXPECT_EQ(joined.json().at("user_id"), user_ids_.at(caller::outsider));
    EXPECT_EQ(client_
                  ->post_json("/api/auth/login",
                              {{"email", "outsider@example.com"}, {"password", "an attempted takeover"}})
                  .status,
              401u)
        << "adding an existing user must never set their password";
    EXPECT_EQ(client_->get(team_path("external_data_sources/"), key(caller::outsider)).status, 200u);

    // Role changes: bad names and unknown members.
    const std::string viewer_path = team_path("members/" + std::to_string(user_ids_.at(caller::viewer)));
    auto bad_role = client_->patch_json(viewer_path, {{"role", "superuser"}}, key(caller::admin));
    EXPECT_EQ(bad_role.status, 400u);
    EXPECT_EQ(bad_role.json().at("field"), "role");
    EXPECT_EQ(
        client_->patch_json(team_path("members/999999"), {{"role", "member"}}, key(caller::admin)).status,
        404u);
    EXPECT_EQ(client_->patch_json(team_path("members/abc"), {{"role", "member"}}, key(caller::admin)).status,
              404u);
    EXPECT_EQ(client_->del(team_path("members/999999"), key(caller::admin)).status, 404u);
    // Another team's member is not this team's member.
    EXPECT_EQ(client_
                  ->patch_json(
                      team_path("members/" + std::to_string(user_ids_.at(caller::outsider)), beta_team_id_),
                      {{"role", "viewer"}}, key(caller::admin))
                  .status,
              404u);

    auto promoted = client_->patch_json(viewer_path, {{"role", "member"}}, key(caller::admin));
    ASSERT_EQ(promoted.status, 200u) << promoted.body;
    EXPECT_EQ(promoted.json().at("role"), "member");
    EXPECT_EQ(
        client_->post_json(team_path("direct_query/execute"), query_body(source_id_), key(caller::viewer))
            .status,
        200u)
        << "the new role applies to the next request";
}

TEST_F(api_roles_test, the_last_admin_can_be_neither_demoted_nor_removed) {
    const std::string admin_path = team_path("members/" + std::to_string(user_ids_.at(caller::admin)));
    auto demoted = client_->patch_json(admin_path, {{"role", "member"}}, key(caller::admin));
    EXPECT_EQ(demoted.status, 409u) << demoted.body;
    EXPECT_EQ(demoted.json().at("code"), "conflict");
    EXPECT_NE(demoted.json().at("message").as_string().find("last admin"), std::string::npos) << demoted.body;
    auto removed = client_->del(admin_path, key(caller::admin));
    EXPECT_EQ(removed.status, 409u) << removed.body;
    EXPECT_NE(removed.json().at("message").as_string().find("last admin"), std::string::npos) << removed.body;
    EXPECT_EQ(client_->get(team_path("members/"), key(caller::admin)).status, 200u) << "still admin";

    // With a second admin, the first may step down; then the second is the last one.
    const std::string member_path = team_path("members/" + std::to_string(user_ids_.at(caller::member)));
    ASSERT_EQ(client_->patch_json(member_path, {{"role", "admin"}}, key(caller::admin)).status, 200u);
    EXPECT_EQ(client_->patch_json(admin_path, {{"role", "viewer"}}, key(caller::admin)).status, 200u);
    EXPECT_EQ(client_->get(team_path("members/"), key(caller::admin)).status, 403u) << "demoted at once";
    EXPECT_EQ(client_->del(member_path, key(caller::member)).status, 409u);
}

// Removal ends the user's access to this team with their very next request, by API key and by session alike,
// and leaves their other teams alone.
TEST_F(api_roles_test, a_removed_member_loses_access_at_once_but_keeps_other_teams) {
    const auto session = sign_in("member@example.com");
    // The member also belongs to Beta (added by Beta's admin).
    ASSERT_EQ(client_
                  ->post_json(team_path("members/", beta_team_id_),
                              {{"email", "member@example.com"}, {"role", "member"}}, key(caller::outsider))
                  .status,
              201u);
    const std::string sources = team_path("external_data_sources/");
    ASSERT_EQ(client_->get(sources, key(caller::member)).status, 200u);
    ASSERT_EQ(client_->get(sources, session.headers()).status, 200u);
    ASSERT_EQ(client_->post_json(team_path("direct_query/execute"), query_body(source_id_), session.headers())
                  .status,
              200u);

    ASSERT_EQ(
        client_->del(team_path("members/" + std::to_string(user_ids_.at(caller::member))), key(caller::admin))
            .status,
        204u);

    for (const auto& headers : {key(caller::member), session.headers()}) {
        auto listed = client_->get(sources, headers);
        EXPECT_EQ(listed.status, 404u) << listed.body;
        EXPECT_EQ(listed.json().at("message"), "team not found");
        EXPECT_EQ(
            client_->post_json(team_path("direct_query/execute"), query_body(source_id_), headers).status,
            404u);
        EXPECT_EQ(client_->get(team_path("direct_query/schema/" + source_id_), headers).status, 404u);
        // Their other team still works with the same credentials.
        EXPECT_EQ(client_->get(team_path("external_data_sources/", beta_team_id_), headers).status, 200u);
    }
    auto me = client_->get("/api/auth/me", session.headers());
    ASSERT_EQ(me.status, 200u);
    ASSERT_EQ(me.json().at("teams").as_array().size(), 1u);
    EXPECT_EQ(me.json().at("teams").at(0).at("id"), beta_team_id_);
    EXPECT_EQ(me.json().at("default_team_id"), beta_team_id_) << "@current now means their remaining team";

    // Added back, they are a plain member again at once.
    ASSERT_EQ(client_
                  ->post_json(team_path("members/"), {{"email", "member@example.com"}, {"role", "viewer"}},
                              key(caller::admin))
                  .status,
              201u);
    EXPECT_EQ(client_->get(sources, key(caller::member)).status, 200u);
    EXPECT_EQ(
        client_->post_json(team_path("direct_query/execute"), query_body(source_id_), key(caller::member))
            .status,
        403u);
}

// A restricted source is invisible to members without a grant — absent from both lists and the same 404 as an
// id that never existed on every route that names it — and grants take effect on the next request.
TEST_F(api_roles_test, restricted_sources_are_invisible_without_a_grant) {
    const std::string hidden = create_source("secret");
    auto restricted = set_access(hidden, true, {});
    ASSERT_EQ(restricted.status, 200u) << restricted.body;
    EXPECT_EQ(restricted.json().at("restricted"), true);

    EXPECT_EQ(listed_sources(caller::admin), (std::set<std::string>{source_id_, hidden}));
    EXPECT_EQ(listed_sources(caller::member), std::set<std::string>{source_id_});
    EXPECT_EQ(listed_sources(caller::viewer), std::set<std::string>{source_id_});
    auto admin_list = client_->get(team_path("external_data_sources/"), key(caller::admin)).json();
    for (const auto& source : admin_list.at("results").as_array()) {
        EXPECT_EQ(source.at("restricted"), source.at("id") == json::value(hidden));
    }

    const std::string never_existed = "0b7e4c1e-0000-4000-8000-00000000dead";
    const auto member_replies = [&](const std::string& id) {
        std::vector<http_reply> replies;
        replies.push_back(client_->get(team_path("external_data_sources/" + id), key(caller::member)));
        replies.push_back(client_->get(team_path("direct_query/schema/" + id), key(caller::member)));
        replies.push_back(
            client_->get(team_path("direct_query/schema/" + id + "?refresh=1"), key(caller::member)));
        for (const char* route : {"execute", "explain", "export"}) {
            replies.push_back(client_->post_json(team_path(std::string("direct_query/") + route),
                                                 query_body(id), key(caller::member)));
        }
        return replies;
    };
    const auto hidden_replies = member_replies(hidden);
    const auto absent_replies = member_replies(never_existed);
    for (std::size_t index = 0; index < hidden_replies.size(); ++index) {
        EXPECT_EQ(hidden_replies[index].status, 404u) << index << ": " << hidden_replies[index].body;
        EXPECT_EQ(hidden_replies[index].body, absent_replies[index].body) << "no hint that it exists";
    }
    // The viewer cannot open it either (the same 404 on the one source route a viewer has).
    EXPECT_EQ(client_->get(team_path("external_data_sources/" + hidden), key(caller::viewer)).status, 404u);
    // The admin still can, and the prefix the member might guess does not leak it through SQL either.
    EXPECT_EQ(
        client_->post_json(team_path("direct_query/execute"), query_body(hidden), key(caller::admin)).status,
        200u);

    // A grant takes effect on the member's next request; the viewer stays without.
    auto granted = set_access(hidden, true, json::array{user_ids_.at(caller::member)});
    ASSERT_EQ(granted.status, 200u) << granted.body;
    auto access = client_->get(team_path("external_data_sources/" + hidden + "/access"), key(caller::admin));
    EXPECT_EQ(access.json(), json::parse(granted.body));
    EXPECT_EQ(access.json().at("user_ids").as_array(), (json::array{user_ids_.at(caller::member)}));
    EXPECT_EQ(listed_sources(caller::member), (std::set<std::string>{source_id_, hidden}));
    EXPECT_EQ(listed_sources(caller::viewer), std::set<std::string>{source_id_});
    EXPECT_EQ(
        client_->post_json(team_path("direct_query/execute"), query_body(hidden), key(caller::member)).status,
        200u);
    EXPECT_EQ(client_->get(team_path("direct_query/schema/" + hidden), key(caller::member)).status, 200u);

    // Opening the source shows it to everyone; restricting it again with nobody hides it again at once.
    ASSERT_EQ(set_access(hidden, false, json::array{user_ids_.at(caller::member)}).status, 200u);
    EXPECT_EQ(listed_sources(caller::viewer), (std::set<std::string>{source_id_, hidden}));
    ASSERT_EQ(set_access(hidden, true, {}).status, 200u);
    EXPECT_EQ(listed_sources(caller::member), std::set<std::string>{source_id_});
    EXPECT_EQ(
        client_->post_json(team_path("direct_query/execute"), query_body(hidden), key(caller::member)).status,
        404u);
    // The schema cache does not outlive the grant.
    EXPECT_EQ(client_->get(team_path("direct_query/schema/" + hidden), key(caller::member)).status, 404u);
}

TEST_F(api_roles_test, grants_name_only_members_of_the_team) {
    const std::string access_path = team_path("external_data_sources/" + source_id_ + "/access");
    const auto refused = [&](const json::object& body, const char* field) {
        auto reply = put_json(access_path, body, key(caller::admin));
        EXPECT_EQ(reply.status, 400u) << reply.body;
        EXPECT_EQ(reply.json().at("field"), field) << reply.body;
    };
    refused({{"restricted", true}, {"user_ids", json::array{user_ids_.at(caller::outsider)}}}, "user_ids");
    refused({{"restricted", true}, {"user_ids", json::array{999999}}}, "user_ids");
    refused({{"restricted", true}, {"user_ids", json::array{"member@example.com"}}}, "user_ids");
    refused({{"restricted", true}, {"user_ids", "all"}}, "user_ids");
    refused({{"user_ids", json::array{}}}, "restricted");
    refused({{"restricted", "yes"}}, "restricted");
    // Nothing changed.
    auto access = client_->get(access_path, key(caller::admin));
    EXPECT_EQ(access.json(), json::parse(R"({"restricted": false, "user_ids": []})"));

    // Another team's source, and an unknown one, are 404 for access too.
    EXPECT_EQ(client_
                  ->get(team_path("external_data_sources/" + source_id_ + "/access", beta_team_id_),
                        key(caller::outsider))
                  .status,
              404u);
    EXPECT_EQ(put_json(team_path("external_data_sources/0b7e4c1e-0000-4000-8000-00000000dead/access"),
                       {{"restricted", false}}, key(caller::admin))
                  .status,
              404u);

    // A member removed from the team loses their grant with the membership.
    ASSERT_EQ(set_access(source_id_, true, json::array{user_ids_.at(caller::member)}).status, 200u);
    ASSERT_EQ(
        client_->del(team_path("members/" + std::to_string(user_ids_.at(caller::member))), key(caller::admin))
            .status,
        204u);
    EXPECT_EQ(client_->get(access_path, key(caller::admin)).json(),
              json::parse(R"({"restricted": true, "user_ids": []})"));
}

}  // namespace
}  // namespace metahog::test_support
