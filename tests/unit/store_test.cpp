// Unit tests of the SQLite metadata store on real database files in a temporary directory: schema migrations,
// identity records (users, teams, roles, keys, sessions), team-scoped sources, and concurrent use.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "store/migrations.hpp"
#include "store/sqlite_handle.hpp"
#include "store/sqlite_store.hpp"

namespace metahog::store {
namespace {

using namespace std::chrono_literals;

// A fresh directory per test, removed afterwards, so tests never share a database file.
class temp_dir {
public:
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "metahog-store-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

class store_test : public ::testing::Test {
protected:
    std::filesystem::path db_file() const { return dir_.path() / "metahog.db"; }

    std::unique_ptr<metadata_store> open() {
        auto opened = open_sqlite_store(db_file());
        if (!opened) {
            ADD_FAILURE() << "open_sqlite_store: " << opened.error().message;
            return nullptr;
        }
        return std::move(opened).value();
    }

    // A second, raw connection to the same file, to look at what the store wrote.
    sqlite::connection raw() {
        auto opened = sqlite::connection::open(db_file());
        EXPECT_TRUE(opened.has_value());
        return std::move(opened).value();
    }

    static std::int64_t count(sqlite::connection& db, std::string_view sql) {
        auto query = db.prepare(sql, "test count");
        EXPECT_TRUE(query.has_value());
        auto row = query->step();
        EXPECT_TRUE(row.has_value() && *row);
        return query->column_int64(0);
    }

    // Ids start at 1: a freshly opened store gets an organization and two teams.
    struct fixture_ids {
        std::int64_t organization = 0;
        std::int64_t team_a = 0;
        std::int64_t team_b = 0;
        std::int64_t user_a = 0;
        std::int64_t user_b = 0;
    };
    static fixture_ids populate(metadata_store& store) {
        fixture_ids ids;
        ids.organization = store.create_organization("Acme")->id;
        ids.team_a = store.create_team(ids.organization, "Analytics")->id;
        ids.team_b = store.create_team(ids.organization, "Billing")->id;
        ids.user_a = store.create_user("ada@example.com", "$argon2id$hash-a")->id;
        ids.user_b = store.create_user("bob@example.com", "$argon2id$hash-b")->id;
        return ids;
    }

    static source_record make_source(std::int64_t team_id, std::string id, std::optional<std::int64_t> by) {
        source_record source;
        source.id = std::move(id);
        source.team_id = team_id;
        source.source_type = "Postgres";
        source.prefix = "pagila";
        source.query_only = true;
        source.status = "Completed";
        source.settings_json = R"({"host":"127.0.0.1","port":5432,"database":"pagila","user":"u"})";
        source.sealed_secrets = "v1.sealed-password";
        source.created_by = by;
        return source;
    }

    temp_dir dir_;
};

// True for "YYYY-MM-DDTHH:MM:SS.mmmZ". (Not std::regex: GCC 12 warns inside it under the sanitizers.)
bool is_store_timestamp(std::string_view text) {
    constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (text.size() != shape.size()) {
        return false;
    }
    for (std::size_t index = 0; index < shape.size(); ++index) {
        const bool digit = text[index] >= '0' && text[index] <= '9';
        if (shape[index] == 'd' ? !digit : text[index] != shape[index]) {
            return false;
        }
    }
    return true;
}

// Protects the documented time format: clients parse these strings, and expiry checks compare them as text.
TEST(store_records, timestamps_are_utc_iso8601_with_milliseconds) {
    using namespace std::chrono;
    const auto when = sys_days{year{2026} / 11 / 22} + 16min + 33s + 123ms + 999us;
    EXPECT_EQ(format_utc_timestamp(when), "2026-11-22T00:16:33.123Z");
    EXPECT_EQ(format_utc_timestamp(sys_days{year{1999} / 1 / 2}), "1999-01-02T00:00:00.000Z");
    EXPECT_LT(format_utc_timestamp(when), format_utc_timestamp(when + 1ms));
}

// Protects the role names used in the API and in the database's CHECK constraint.
TEST(store_records, team_roles_round_trip_and_unknown_names_are_absent) {
    for (auto role : {team_role::admin, team_role::member, team_role::viewer}) {
        EXPECT_EQ(parse_team_role(to_string(role)), role);
    }
    EXPECT_FALSE(parse_team_role("Admin").has_value());
    EXPECT_FALSE(parse_team_role("owner").has_value());
    EXPECT_FALSE(parse_team_role("").has_value());
}

// A new data directory must come up with the full schema, recorded so later starts do not re-apply it, in WAL
// mode, and readable only by its owner (it holds password hashes and sealed secrets).
TEST_F(store_test, opening_creates_a_private_wal_database_with_migrations_recorded_once) {
    ASSERT_NE(open(), nullptr);
    struct stat status {};
    ASSERT_EQ(::stat(db_file().c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600);

    auto db = raw();
    auto journal = db.prepare("PRAGMA journal_mode", "test");
    ASSERT_TRUE(journal && *journal->step());
    EXPECT_EQ(journal->column_text(0), "wal");

    auto rows =
        db.prepare("SELECT version, name, applied_at FROM schema_migrations ORDER BY version", "test");
    ASSERT_TRUE(rows);
    for (const auto& expected : schema_migrations()) {
        auto stepped = rows->step();
        ASSERT_TRUE(stepped && *stepped);
        EXPECT_EQ(rows->column_int64(0), expected.version);
        EXPECT_EQ(rows->column_text(1), expected.name);
        EXPECT_TRUE(is_store_timestamp(rows->column_text(2)));
    }
    auto end = rows->step();
    ASSERT_TRUE(end);
    EXPECT_FALSE(*end);
}

// Every server start reopens the file: nothing may be re-applied or lost.
TEST_F(store_test, reopening_is_idempotent_and_keeps_data) {
    std::string first_applied;
    {
        auto store = open();
        ASSERT_NE(store, nullptr);
        ASSERT_TRUE(store->create_organization("Acme"));
        auto db = raw();
        auto applied = db.prepare("SELECT applied_at FROM schema_migrations WHERE version = 1", "test");
        ASSERT_TRUE(applied && *applied->step());
        first_applied = applied->column_text(0);
    }
    for (int reopen = 0; reopen < 3; ++reopen) {
        auto store = open();
        ASSERT_NE(store, nullptr);
        auto organization = store->first_organization();
        ASSERT_TRUE(organization && organization->has_value());
        EXPECT_EQ((*organization)->name, "Acme");
    }
    auto db = raw();
    EXPECT_EQ(count(db, "SELECT count(*) FROM schema_migrations"),
              static_cast<std::int64_t>(schema_migrations().size()));
    EXPECT_EQ(count(db, "SELECT count(*) FROM organizations"), 1);
    auto applied = db.prepare("SELECT applied_at FROM schema_migrations WHERE version = 1", "test");
    ASSERT_TRUE(applied && *applied->step());
    EXPECT_EQ(applied->column_text(0), first_applied);
}

// A later schema change is one more entry in the list (the audit log, say); an older binary must then refuse
// the upgraded file instead of writing to a schema it does not understand.
TEST_F(store_test, a_database_migrated_by_a_newer_binary_is_refused) {
    ASSERT_NE(open(), nullptr);
    std::vector<migration> newer(schema_migrations().begin(), schema_migrations().end());
    newer.push_back(migration{latest_schema_version() + 1, "audit_log",
                              "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, event TEXT NOT NULL) STRICT"});
    {
        auto db = raw();
        ASSERT_TRUE(apply_migrations(db, newer, "test"));
        EXPECT_EQ(count(db, "SELECT max(version) FROM schema_migrations"), latest_schema_version() + 1);
        EXPECT_EQ(count(db, "SELECT count(*) FROM audit_log"), 0);
    }
    auto refused = open_sqlite_store(db_file());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, error_code::unavailable);
    EXPECT_NE(refused.error().message.find("newer"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find(db_file().string()), std::string::npos);
}

// A --data-dir pointing at the wrong file must fail clearly and leave the file alone.
TEST_F(store_test, a_file_that_is_not_sqlite_is_refused_and_untouched) {
    const std::string content(2048, 'x');
    { std::ofstream(db_file()) << content; }
    auto refused = open_sqlite_store(db_file());
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, error_code::unavailable);
    EXPECT_NE(refused.error().message.find("not a database"), std::string::npos) << refused.error().message;
    std::ifstream in(db_file());
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), content);
}

TEST_F(store_test, a_missing_directory_is_a_clear_error) {
    auto refused = open_sqlite_store(dir_.path() / "absent" / "metahog.db");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, error_code::unavailable);
    EXPECT_NE(refused.error().message.find("absent"), std::string::npos) << refused.error().message;
}

// A server and `metahog bootstrap` may open a brand-new file at the same moment: both must succeed and the
// schema must be applied exactly once.
TEST_F(store_test, concurrent_first_opens_apply_migrations_once) {
    std::vector<std::thread> openers;
    std::atomic<int> opened{0};
    for (int index = 0; index < 4; ++index) {
        openers.emplace_back([&] {
            auto store = open_sqlite_store(db_file());
            if (store) {
                ++opened;
            } else {
                ADD_FAILURE() << store.error().message;
            }
        });
    }
    for (auto& opener : openers) {
        opener.join();
    }
    EXPECT_EQ(opened.load(), 4);
    auto db = raw();
    EXPECT_EQ(count(db, "SELECT count(*) FROM schema_migrations"),
              static_cast<std::int64_t>(schema_migrations().size()));
}

TEST_F(store_test, records_carry_store_made_timestamps) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(store->first_organization()->has_value());
    auto organization = store->create_organization("Acme");
    ASSERT_TRUE(organization);
    EXPECT_TRUE(is_store_timestamp(organization->created_at));
    auto first = store->first_organization();
    ASSERT_TRUE(first && first->has_value());
    EXPECT_EQ((*first)->id, organization->id);
    EXPECT_EQ((*first)->created_at, organization->created_at);
}

// Logging in as "Ada@Example.com" or "ada@example.com" must reach the same account, and nobody may register
// a second account for the same address by changing its case.
TEST_F(store_test, emails_are_case_insensitive_and_unique) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    auto created = store->create_user("Ada@Example.COM", "$argon2id$first");
    ASSERT_TRUE(created);
    EXPECT_EQ(created->email, "ada@example.com");

    auto found = store->find_user_by_email("ADA@example.com");
    ASSERT_TRUE(found && found->has_value());
    EXPECT_EQ((*found)->id, created->id);
    EXPECT_EQ((*found)->email, "ada@example.com");
    EXPECT_EQ((*found)->password_hash, "$argon2id$first");

    auto duplicate = store->create_user("ada@EXAMPLE.com", "$argon2id$second");
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error().code, error_code::conflict);
    EXPECT_EQ(duplicate.error().field, "email");

    EXPECT_FALSE(store->find_user_by_email("eve@example.com")->has_value());
    EXPECT_FALSE(store->find_user(created->id + 100)->has_value());
}

TEST_F(store_test, set_user_password_replaces_the_hash_of_that_user_only) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto ids = populate(*store);
    auto changed = store->set_user_password(ids.user_a, "$argon2id$new");
    ASSERT_TRUE(changed);
    EXPECT_TRUE(*changed);
    EXPECT_EQ((*store->find_user(ids.user_a))->password_hash, "$argon2id$new");
    EXPECT_EQ((*store->find_user(ids.user_b))->password_hash, "$argon2id$hash-b");
    EXPECT_FALSE(*store->set_user_password(999, "$argon2id$x"));
}

// Team names identify teams inside an organization (bootstrap finds its team by name); other organizations
// may reuse them.
TEST_F(store_test, team_names_are_unique_per_organization) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto first = store->create_organization("Acme")->id;
    const auto second = store->create_organization("Globex")->id;
    auto analytics = store->create_team(first, "Analytics");
    ASSERT_TRUE(analytics);

    auto duplicate = store->create_team(first, "Analytics");
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error().code, error_code::conflict);
    EXPECT_EQ(duplicate.error().field, "name");
    EXPECT_TRUE(store->create_team(second, "Analytics"));

    auto by_name = store->find_team_by_name(first, "Analytics");
    ASSERT_TRUE(by_name && by_name->has_value());
    EXPECT_EQ((*by_name)->id, analytics->id);
    EXPECT_EQ((*by_name)->organization_id, first);
    EXPECT_FALSE(store->find_team_by_name(first, "Marketing")->has_value());
    auto by_id = store->find_team(analytics->id);
    ASSERT_TRUE(by_id && by_id->has_value());
    EXPECT_EQ((*by_id)->name, "Analytics");

    auto orphan = store->create_team(999, "Nowhere");
    ASSERT_FALSE(orphan);
    EXPECT_EQ(orphan.error().code, error_code::not_found);
}

// Roles gate every team-scoped request; a user's first team (lowest id) is their default.
TEST_F(store_test, memberships_insert_update_and_list_roles) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto ids = populate(*store);

    EXPECT_FALSE(store->membership_role(ids.team_a, ids.user_a)->has_value());
    ASSERT_TRUE(store->set_membership(ids.team_b, ids.user_a, team_role::viewer));
    ASSERT_TRUE(store->set_membership(ids.team_a, ids.user_a, team_role::member));
    ASSERT_TRUE(store->set_membership(ids.team_a, ids.user_b, team_role::viewer));
    ASSERT_TRUE(store->set_membership(ids.team_a, ids.user_a, team_role::admin));  // changes the role

    EXPECT_EQ(*store->membership_role(ids.team_a, ids.user_a), team_role::admin);
    EXPECT_EQ(*store->membership_role(ids.team_b, ids.user_a), team_role::viewer);
    EXPECT_FALSE(store->membership_role(ids.team_b, ids.user_b)->has_value());

    auto teams = store->teams_of_user(ids.user_a);
    ASSERT_TRUE(teams);
    ASSERT_EQ(teams->size(), 2u);
    EXPECT_EQ((*teams)[0].team.id, ids.team_a);
    EXPECT_EQ((*teams)[0].team.name, "Analytics");
    EXPECT_EQ((*teams)[0].role, team_role::admin);
    EXPECT_EQ((*teams)[1].team.id, ids.team_b);
    EXPECT_EQ((*teams)[1].role, team_role::viewer);

    auto members = store->members_of_team(ids.team_a);
    ASSERT_TRUE(members);
    ASSERT_EQ(members->size(), 2u);
    EXPECT_EQ((*members)[0].user_id, ids.user_a);
    EXPECT_EQ((*members)[0].email, "ada@example.com");
    EXPECT_EQ((*members)[0].role, team_role::admin);
    EXPECT_EQ((*members)[1].user_id, ids.user_b);
    EXPECT_EQ((*members)[1].role, team_role::viewer);

    auto missing_team = store->set_membership(999, ids.user_a, team_role::admin);
    ASSERT_FALSE(missing_team);
    EXPECT_EQ(missing_team.error().code, error_code::not_found);
    auto missing_user = store->set_membership(ids.team_a, 999, team_role::admin);
    ASSERT_FALSE(missing_user);
    EXPECT_EQ(missing_user.error().code, error_code::not_found);
}

// Member management: adding is insert-only (a role changes only through the guarded path), joined_at is the
// membership's own time, and a team can never lose its last admin by demotion or removal.
TEST_F(store_test, memberships_are_added_changed_and_removed_keeping_an_admin) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto ids = populate(*store);

    ASSERT_TRUE(store->add_membership(ids.team_a, ids.user_a, team_role::admin));
    ASSERT_TRUE(store->add_membership(ids.team_a, ids.user_b, team_role::viewer));
    auto again = store->add_membership(ids.team_a, ids.user_b, team_role::admin);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, error_code::conflict);
    EXPECT_EQ(*store->membership_role(ids.team_a, ids.user_b), team_role::viewer)
        << "a duplicate add changes nothing";
    EXPECT_EQ(store->add_membership(999, ids.user_a, team_role::admin).error().code, error_code::not_found);
    EXPECT_EQ(store->add_membership(ids.team_a, 999, team_role::admin).error().code, error_code::not_found);

    auto members = store->members_of_team(ids.team_a);
    ASSERT_TRUE(members);
    ASSERT_EQ(members->size(), 2u);
    EXPECT_TRUE(is_store_timestamp((*members)[0].joined_at)) << (*members)[0].joined_at;

    // The only admin can be neither demoted nor removed; the refusal changes nothing.
    auto demoted = store->change_membership_role(ids.team_a, ids.user_a, team_role::member);
    ASSERT_FALSE(demoted);
    EXPECT_EQ(demoted.error().code, error_code::conflict);
    EXPECT_NE(demoted.error().message.find("last admin"), std::string::npos);
    auto removed = store->remove_membership(ids.team_a, ids.user_a);
    ASSERT_FALSE(removed);
    EXPECT_EQ(removed.error().code, error_code::conflict);
    EXPECT_EQ(*store->membership_role(ids.team_a, ids.user_a), team_role::admin);
    // Re-affirming the last admin's role is no demotion.
    EXPECT_TRUE(*store->change_membership_role(ids.team_a, ids.user_a, team_role::admin));

    // With a second admin the first may step down, and then the second is the last.
    ASSERT_TRUE(*store->change_membership_role(ids.team_a, ids.user_b, team_role::admin));
    EXPECT_TRUE(*store->change_membership_role(ids.team_a, ids.user_a, team_role::member));
    EXPECT_EQ(store->remove_membership(ids.team_a, ids.user_b).error().code, error_code::conflict);
    EXPECT_TRUE(*store->remove_membership(ids.team_a, ids.user_a));
    EXPECT_FALSE(store->membership_role(ids.team_a, ids.user_a)->has_value());
    EXPECT_FALSE(*store->remove_membership(ids.team_a, ids.user_a)) << "not a member any more";
    EXPECT_FALSE(*store->change_membership_role(ids.team_a, ids.user_a, team_role::admin));
    EXPECT_FALSE(*store->change_membership_role(ids.team_b, ids.user_b, team_role::admin)) << "another team";
}

// Two admins demoting each other at the same time, through two connections: one wins, the team keeps an
// admin.
TEST_F(store_test, concurrent_demotions_never_leave_a_team_without_an_admin) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto ids = populate(*store);
    ASSERT_TRUE(store->add_membership(ids.team_a, ids.user_a, team_role::admin));
    ASSERT_TRUE(store->add_membership(ids.team_a, ids.user_b, team_role::admin));
    // A second store instance on the same file stands in for another process.
    auto other = open();
    ASSERT_NE(other, nullptr);
    std::atomic<int> succeeded = 0;
    std::thread first([&] {
        succeeded += store->change_membership_role(ids.team_a, ids.user_a, team_role::viewer) ? 1 : 0;
    });
    std::thread second([&] {
        succeeded += other->change_membership_role(ids.team_a, ids.user_b, team_role::viewer) ? 1 : 0;
    });
    first.join();
    second.join();
    EXPECT_EQ(succeeded.load(), 1);
    auto members = *store->members_of_team(ids.team_a);
    EXPECT_EQ(std::count_if(members.begin(), members.end(),
                            [](const team_member& member) { return member.role == team_role::admin; }),
              1);
}

// Per-source grants: off by default, replaced as a whole, team-scoped, limited to members, and gone with the
// membership so that re-adding a member does not restore old access.
TEST_F(store_test, source_access_is_replaced_whole_and_follows_membership) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto ids = populate(*store);
    ASSERT_TRUE(store->add_membership(ids.team_a, ids.user_a, team_role::admin));
    ASSERT_TRUE(store->add_membership(ids.team_a, ids.user_b, team_role::member));
    ASSERT_TRUE(store->add_membership(ids.team_b, ids.user_b, team_role::admin));
    const auto source =
        *store->insert_source(make_source(ids.team_a, "0b7e4c1e-cccc-4000-8000-000000000001", ids.user_a));
    const auto other =
        *store->insert_source(make_source(ids.team_a, "0b7e4c1e-cccc-4000-8000-000000000002", ids.user_a));
    EXPECT_FALSE(source.restricted);

    auto access = store->find_source_access(ids.team_a, source.id);
    ASSERT_TRUE(access && access->has_value());
    EXPECT_FALSE((*access)->restricted);
    EXPECT_TRUE((*access)->user_ids.empty());

    ASSERT_TRUE(
        *store->set_source_access(ids.team_a, source.id, source_access{true, {ids.user_b, ids.user_b}}));
    access = store->find_source_access(ids.team_a, source.id);
    EXPECT_TRUE((*access)->restricted);
    EXPECT_EQ((*access)->user_ids, std::vector<std::int64_t>{ids.user_b});
    EXPECT_TRUE((**store->find_source(ids.team_a, source.id)).restricted);
    EXPECT_FALSE((**store->find_source(ids.team_a, other.id)).restricted);
    EXPECT_TRUE((*store->list_sources(ids.team_a))[0].restricted);
    EXPECT_EQ(*store->granted_source_ids(ids.team_a, ids.user_b), std::vector<std::string>{source.id});
    EXPECT_TRUE(store->granted_source_ids(ids.team_b, ids.user_b)->empty()) << "grants are per team";

    // Another team's source is absent; a non-member cannot be granted, and the failed call changes nothing.
    EXPECT_FALSE(store->find_source_access(ids.team_b, source.id)->has_value());
    EXPECT_FALSE(*store->set_source_access(ids.team_b, source.id, source_access{false, {}}));
    const auto stranger = store->create_user("cy@example.com", "$argon2id$hash-c")->id;
    auto refused =
        store->set_source_access(ids.team_a, source.id, source_access{false, {ids.user_a, stranger}});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, error_code::not_found);
    EXPECT_EQ(refused.error().field, "user_ids");
    access = store->find_source_access(ids.team_a, source.id);
    EXPECT_TRUE((*access)->restricted);
    EXPECT_EQ((*access)->user_ids, std::vector<std::int64_t>{ids.user_b});

    // Opening a source keeps its list; restricting it again restores the same members.
    ASSERT_TRUE(*store->set_source_access(ids.team_a, source.id, source_access{false, {ids.user_b}}));
    EXPECT_FALSE((*store->find_source_access(ids.team_a, source.id))->restricted);

    // Removing the member removes the grant; adding them back does not bring it back.
    ASSERT_TRUE(*store->remove_membership(ids.team_a, ids.user_b));
    EXPECT_TRUE((*store->find_source_access(ids.team_a, source.id))->user_ids.empty());
    ASSERT_TRUE(store->add_membership(ids.team_a, ids.user_b, team_role::member));
    EXPECT_TRUE(store->granted_source_ids(ids.team_a, ids.user_b)->empty());

    // A deleted source has no access to read or set.
    ASSERT_TRUE(*store->soft_delete_source(ids.team_a, source.id));
    EXPECT_FALSE(store->find_source_access(ids.team_a, source.id)->has_value());
    EXPECT_FALSE(*store->set_source_access(ids.team_a, source.id, source_access{true, {}}));
}

// API keys authenticate every scripted call: found by hash while active, never after revocation, and only
// their owner can revoke them.
TEST_F(store_test, api_key_lifecycle) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto ids = populate(*store);

    auto key = store->create_api_key(ids.user_a, "laptop", "hash-of-token-1", "mh_ab…yz");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->user_id, ids.user_a);
    EXPECT_EQ(key->label, "laptop");
    EXPECT_EQ(key->mask, "mh_ab…yz");
    EXPECT_FALSE(key->last_used_at.has_value());
    EXPECT_FALSE(key->revoked_at.has_value());
    ASSERT_TRUE(store->create_api_key(ids.user_a, "ci", "hash-of-token-2", "mh_cd…wx"));

    auto found = store->find_active_api_key("hash-of-token-1");
    ASSERT_TRUE(found && found->has_value());
    EXPECT_EQ((*found)->key.id, key->id);
    EXPECT_EQ((*found)->user.id, ids.user_a);
    EXPECT_EQ((*found)->user.email, "ada@example.com");
    EXPECT_FALSE(store->find_active_api_key("hash-of-unknown")->has_value());

    auto duplicate = store->create_api_key(ids.user_b, "copy", "hash-of-token-1", "mh_ab…yz");
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error().code, error_code::conflict);

    EXPECT_FALSE(*store->revoke_api_key(ids.user_b, key->id)) << "another user must not revoke it";
    EXPECT_TRUE(store->find_active_api_key("hash-of-token-1")->has_value());
    EXPECT_TRUE(*store->revoke_api_key(ids.user_a, key->id));
    EXPECT_FALSE(*store->revoke_api_key(ids.user_a, key->id)) << "already revoked";
    EXPECT_FALSE(store->find_active_api_key("hash-of-token-1")->has_value());
    EXPECT_TRUE(store->find_active_api_key("hash-of-token-2")->has_value());

    auto listed = store->list_api_keys(ids.user_a);
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ((*listed)[0].id, key->id);
    ASSERT_TRUE((*listed)[0].revoked_at.has_value());
    EXPECT_TRUE(is_store_timestamp(*(*listed)[0].revoked_at));
    EXPECT_FALSE((*listed)[1].revoked_at.has_value());
    EXPECT_TRUE(store->list_api_keys(ids.user_b)->empty());

    auto orphan = store->create_api_key(999, "x", "hash-of-token-3", "m");
    ASSERT_FALSE(orphan);
    EXPECT_EQ(orphan.error().code, error_code::not_found);
}

// last_used_at tells users which keys are in use, but writing it on every request would serialise all readers
// behind the SQLite write lock: at most one write per key per minute.
TEST_F(store_test, touching_an_api_key_writes_at_most_once_a_minute) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto ids = populate(*store);
    const auto key = store->create_api_key(ids.user_a, "laptop", "hash-1", "m")->id;

    EXPECT_TRUE(*store->touch_api_key(key));
    const auto first = (*store->list_api_keys(ids.user_a))[0].last_used_at;
    ASSERT_TRUE(first.has_value());
    EXPECT_FALSE(*store->touch_api_key(key));
    EXPECT_EQ((*store->list_api_keys(ids.user_a))[0].last_used_at, first);

    // Age the recorded use by two minutes: the next touch writes again.
    auto db = raw();
    ASSERT_TRUE(db.run("UPDATE api_keys SET last_used_at = ? WHERE id = ?", "test",
                       format_utc_timestamp(wall_clock::now() - 2min), key));
    EXPECT_TRUE(*store->touch_api_key(key));
    EXPECT_FALSE(*store->touch_api_key(999));
}

// An expired browser session must stop authenticating at once, even before the cleanup removes it.
TEST_F(store_test, sessions_expire_and_can_be_deleted) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto ids = populate(*store);
    const auto now = wall_clock::now();

    auto active = store->create_session(ids.user_a, "session-hash-active", now + 1h);
    ASSERT_TRUE(active);
    EXPECT_EQ(active->expires_at, format_utc_timestamp(now + 1h));
    ASSERT_TRUE(store->create_session(ids.user_a, "session-hash-expired", now - 1s));

    auto found = store->find_active_session("session-hash-active");
    ASSERT_TRUE(found && found->has_value());
    EXPECT_EQ((*found)->id, active->id);
    EXPECT_EQ((*found)->user_id, ids.user_a);
    EXPECT_FALSE(store->find_active_session("session-hash-expired")->has_value());

    EXPECT_EQ(*store->delete_expired_sessions(), 1);
    EXPECT_EQ(*store->delete_expired_sessions(), 0);
    EXPECT_TRUE(store->find_active_session("session-hash-active")->has_value());

    EXPECT_TRUE(*store->delete_session("session-hash-active"));
    EXPECT_FALSE(*store->delete_session("session-hash-active"));
    EXPECT_FALSE(store->find_active_session("session-hash-active")->has_value());
}

// The sources API: create, read back, list oldest first, edit, delete; a deleted source disappears from every
// team-facing read but stays visible to key rotation.
TEST_F(store_test, source_crud_and_soft_delete) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto ids = populate(*store);

    auto first =
        store->insert_source(make_source(ids.team_a, "0b7e4c1e-0000-4000-8000-000000000001", ids.user_a));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_TRUE(is_store_timestamp(first->created_at));
    EXPECT_EQ(first->updated_at, first->created_at);
    auto second_record = make_source(ids.team_a, "0b7e4c1e-0000-4000-8000-000000000002", std::nullopt);
    second_record.prefix = "warehouse";
    second_record.query_only = false;
    ASSERT_TRUE(store->insert_source(second_record));

    auto duplicate = store->insert_source(make_source(ids.team_a, first->id, ids.user_a));
    ASSERT_FALSE(duplicate);
    EXPECT_EQ(duplicate.error().code, error_code::conflict);

    auto found = store->find_source(ids.team_a, first->id);
    ASSERT_TRUE(found && found->has_value());
    const auto& source = **found;
    EXPECT_EQ(source.team_id, ids.team_a);
    EXPECT_EQ(source.source_type, "Postgres");
    EXPECT_EQ(source.prefix, "pagila");
    EXPECT_TRUE(source.query_only);
    EXPECT_EQ(source.status, "Completed");
    EXPECT_EQ(source.settings_json, first->settings_json);
    EXPECT_EQ(source.sealed_secrets, "v1.sealed-password");
    EXPECT_EQ(source.created_by, ids.user_a);
    EXPECT_EQ(source.created_at, first->created_at);

    auto listed = store->list_sources(ids.team_a);
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 2u);
    EXPECT_EQ((*listed)[0].id, first->id);
    EXPECT_EQ((*listed)[1].id, second_record.id);
    EXPECT_FALSE((*listed)[1].query_only);
    EXPECT_FALSE((*listed)[1].created_by.has_value());

    auto edited = source;
    edited.prefix = "films";
    edited.status = "Error";
    edited.settings_json = R"({"host":"db.internal","port":5433})";
    edited.sealed_secrets = "v1.sealed-new-password";
    edited.created_by = ids.user_b;  // not editable: the creator stays
    ASSERT_TRUE(*store->update_source(edited));
    auto reread = **store->find_source(ids.team_a, first->id);
    EXPECT_EQ(reread.prefix, "films");
    EXPECT_EQ(reread.status, "Error");
    EXPECT_EQ(reread.settings_json, edited.settings_json);
    EXPECT_EQ(reread.sealed_secrets, "v1.sealed-new-password");
    EXPECT_EQ(reread.created_by, ids.user_a);
    EXPECT_EQ(reread.created_at, first->created_at);
    EXPECT_GE(reread.updated_at, first->updated_at);

    ASSERT_TRUE(*store->soft_delete_source(ids.team_a, first->id));
    EXPECT_FALSE(*store->soft_delete_source(ids.team_a, first->id)) << "already deleted";
    EXPECT_FALSE(store->find_source(ids.team_a, first->id)->has_value());
    EXPECT_EQ(store->list_sources(ids.team_a)->size(), 1u);
    EXPECT_FALSE(*store->update_source(edited)) << "a deleted source cannot be edited back to life";

    auto all = store->list_all_sources();
    ASSERT_TRUE(all);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].id, first->id);
    EXPECT_EQ((*all)[0].sealed_secrets, "v1.sealed-new-password");
    EXPECT_TRUE(*store->replace_sealed_secrets(first->id, "v2.resealed"));
    EXPECT_EQ((*store->list_all_sources())[0].sealed_secrets, "v2.resealed");
    EXPECT_FALSE(*store->replace_sealed_secrets("absent", "v2.resealed"));

    auto orphan =
        store->insert_source(make_source(999, "0b7e4c1e-0000-4000-8000-000000000009", std::nullopt));
    ASSERT_FALSE(orphan);
    EXPECT_EQ(orphan.error().code, error_code::not_found);
}

// A team must never read, change or delete another team's source by guessing its id (the API answers 404).
TEST_F(store_test, another_teams_source_is_absent) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto ids = populate(*store);
    const auto source =
        *store->insert_source(make_source(ids.team_a, "0b7e4c1e-aaaa-4000-8000-000000000001", ids.user_a));

    EXPECT_FALSE(store->find_source(ids.team_b, source.id)->has_value());
    EXPECT_TRUE(store->list_sources(ids.team_b)->empty());
    auto hijack = source;
    hijack.team_id = ids.team_b;
    hijack.sealed_secrets = "stolen";
    EXPECT_FALSE(*store->update_source(hijack));
    EXPECT_FALSE(*store->soft_delete_source(ids.team_b, source.id));

    auto intact = store->find_source(ids.team_a, source.id);
    ASSERT_TRUE(intact && intact->has_value());
    EXPECT_EQ((*intact)->sealed_secrets, source.sealed_secrets);
    EXPECT_EQ((*intact)->team_id, ids.team_a);
}

// The HTTP server calls one store from several I/O threads at once.
TEST_F(store_test, concurrent_writes_from_several_threads) {
    auto store = open();
    ASSERT_NE(store, nullptr);
    const auto ids = populate(*store);
    constexpr int threads = 8;
    constexpr int per_thread = 40;
    std::vector<std::thread> workers;
    for (int thread = 0; thread < threads; ++thread) {
        workers.emplace_back([&, thread] {
            for (int index = 0; index < per_thread; ++index) {
                const auto email =
                    "user-" + std::to_string(thread) + "-" + std::to_string(index) + "@example.com";
                auto created = store->create_user(email, "$argon2id$h");
                if (!created) {
                    ADD_FAILURE() << created.error().message;
                    return;
                }
                auto joined = store->set_membership(ids.team_a, created->id, team_role::member);
                auto key = store->create_api_key(created->id, "k", "hash-" + email, "m");
                auto found = store->find_user_by_email(email);
                if (!joined || !key || !found || !found->has_value()) {
                    ADD_FAILURE() << "a concurrent call failed";
                    return;
                }
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    EXPECT_EQ(store->members_of_team(ids.team_a)->size(), static_cast<std::size_t>(threads * per_thread));
}

// `metahog bootstrap` writes to the file a running server uses: both processes' stores must keep working,
// each seeing the other's writes, without "database is locked" failures.
TEST_F(store_test, two_store_instances_on_the_same_file_both_work) {
    auto server = open();
    auto bootstrap = open();
    ASSERT_NE(server, nullptr);
    ASSERT_NE(bootstrap, nullptr);
    const auto ids = populate(*server);

    auto found = bootstrap->find_team_by_name(ids.organization, "Analytics");
    ASSERT_TRUE(found && found->has_value());
    auto admin = bootstrap->create_user("root@example.com", "$argon2id$root");
    ASSERT_TRUE(admin);
    ASSERT_TRUE(bootstrap->set_membership(ids.team_a, admin->id, team_role::admin));
    ASSERT_TRUE(bootstrap->create_api_key(admin->id, "bootstrap", "hash-bootstrap", "m"));
    auto seen = server->find_active_api_key("hash-bootstrap");
    ASSERT_TRUE(seen && seen->has_value());
    EXPECT_EQ((*seen)->user.email, "root@example.com");

    constexpr int per_store = 100;
    auto write_many = [&](metadata_store& store, const std::string& tag) {
        for (int index = 0; index < per_store; ++index) {
            auto created = store.create_user(tag + std::to_string(index) + "@example.com", "$argon2id$h");
            if (!created) {
                ADD_FAILURE() << created.error().message;
                return;
            }
            // A read between writes keeps each connection taking fresh snapshots, as a server would.
            if (!store.find_user(created->id)) {
                ADD_FAILURE() << "read failed";
                return;
            }
        }
    };
    std::thread server_writer(write_many, std::ref(*server), "server-");
    std::thread bootstrap_writer(write_many, std::ref(*bootstrap), "bootstrap-");
    server_writer.join();
    bootstrap_writer.join();

    EXPECT_TRUE(server->find_user_by_email("bootstrap-99@example.com")->has_value());
    EXPECT_TRUE(bootstrap->find_user_by_email("server-99@example.com")->has_value());
}

}  // namespace
}  // namespace metahog::store
