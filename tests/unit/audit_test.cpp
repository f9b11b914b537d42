// Unit tests of the audit log on real SQLite files: the chain's format, appends from many threads and from
// two processes, verification against an attacker who edits the file, and the team admins' filtered pages.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json/array.hpp>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "services/audit_log.hpp"
#include "store/migrations.hpp"
#include "store/sqlite_handle.hpp"
#include "store/sqlite_store.hpp"

namespace metahog::services {
namespace {

using store::audit_outcome;

// A fresh directory per test, removed afterwards, so tests never share a database file.
class temp_dir {
public:
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "metahog-audit-XXXXXX").string();
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

std::unique_ptr<store::metadata_store> open_store(const std::filesystem::path& file) {
    auto opened = store::open_sqlite_store(file);
    if (!opened) {
        ADD_FAILURE() << "open_sqlite_store: " << opened.error().message;
        return nullptr;
    }
    return std::move(opened).value();
}

// A direct connection to the file: what someone holding the file (not MetaHog) can do to it.
store::sqlite::connection open_raw(const std::filesystem::path& file) {
    auto opened = store::sqlite::connection::open(file);
    if (!opened) {
        throw std::runtime_error("raw open failed: " + opened.error().message);
    }
    return std::move(opened).value();
}

void exec_raw(store::sqlite::connection& db, const std::string& sql) {
    auto done = db.exec(sql.c_str(), "test");
    ASSERT_TRUE(done) << sql << ": " << done.error().message;
}

// The attacker's first step: the triggers refuse every change, so they go first.
void drop_triggers(store::sqlite::connection& db) {
    exec_raw(db,
             "DROP TRIGGER audit_records_no_update; DROP TRIGGER audit_records_no_delete; "
             "DROP TRIGGER audit_records_append_only");
}

audit_entry query_entry(std::int64_t team_id, std::int64_t user_id, std::string sql) {
    audit_entry entry;
    entry.team_id = team_id;
    entry.user_id = user_id;
    entry.source_id = "6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
    entry.action = std::string(audit_actions::query);
    entry.sql = std::move(sql);
    entry.fingerprint = "a1b2c3d4e5f60718";
    entry.started_at = store::wall_clock::now();
    entry.duration = std::chrono::milliseconds(12);
    entry.rows_returned = 3;
    entry.client_address = "127.0.0.1";
    return entry;
}

class audit_test : public ::testing::Test {
protected:
    void SetUp() override {
        store_ = open_store(db_file());
        ASSERT_NE(store_, nullptr);
        log_ = std::make_unique<audit_log>(*store_);
        const auto organization = store_->create_organization("Acme")->id;
        team_a_ = store_->create_team(organization, "Analytics")->id;
        team_b_ = store_->create_team(organization, "Billing")->id;
        admin_.user_id = store_->create_user("ada@example.com", "$argon2id$a")->id;
        member_.user_id = store_->create_user("bob@example.com", "$argon2id$b")->id;
        outsider_.user_id = store_->create_user("eve@example.com", "$argon2id$e")->id;
        ASSERT_TRUE(store_->set_membership(team_a_, admin_.user_id, store::team_role::admin));
        ASSERT_TRUE(store_->set_membership(team_a_, member_.user_id, store::team_role::member));
        ASSERT_TRUE(store_->set_membership(team_b_, outsider_.user_id, store::team_role::admin));
    }

    std::filesystem::path db_file() const { return dir_.path() / "metahog.db"; }

    store::audit_record append(audit_entry entry) {
        auto recorded = log_->record(entry);
        if (!recorded) {
            ADD_FAILURE() << "record: " << recorded.error().message;
            return {};
        }
        return std::move(recorded).value();
    }

    // n query records in team A, the odd ones failing, so that records differ in most fields.
    void append_many(int n) {
        for (int index = 1; index <= n; ++index) {
            auto entry = query_entry(team_a_, admin_.user_id, "SELECT " + std::to_string(index));
            if (index % 2 == 0) {
                entry.outcome = audit_outcome::error;
                entry.error = error_code::query_failed;
                entry.source_id.reset();
            }
            append(entry);
        }
    }

    audit_verification verify() {
        auto verified = log_->verify();
        if (!verified) {
            ADD_FAILURE() << "verify: " << verified.error().message;
            return {};
        }
        return std::move(verified).value();
    }

    audit_page query(const principal& who, const audit_filter& filter) {
        auto page = log_->query(who, filter);
        if (!page) {
            ADD_FAILURE() << "query: " << page.error().message;
            return {};
        }
        return std::move(page).value();
    }

    static std::vector<std::int64_t> ids_of(const audit_page& page) {
        std::vector<std::int64_t> ids;
        for (const auto& record : page.records) {
            ids.push_back(record.id);
        }
        return ids;
    }

    temp_dir dir_;
    std::unique_ptr<store::metadata_store> store_;
    std::unique_ptr<audit_log> log_;
    std::int64_t team_a_ = 0;
    std::int64_t team_b_ = 0;
    principal admin_;
    principal member_;
    principal outsider_;
};

// The encoding is documented so that an auditor can recompute a hash with sqlite3 and b2sum alone; this
// locks it byte for byte (the expected hash was computed with b2sum -l 256 and Python's hashlib, not with our
// code).
TEST(audit_chain, canonical_encoding_and_hash_match_the_documented_format) {
    store::audit_record record;
    record.id = 7;
    record.occurred_at = "2026-11-22T00:16:33.123Z";
    record.event.team_id = 2;
    record.event.user_id = 3;
    record.event.source_id = "6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
    record.event.action = "query";
    record.event.sql = "SELECT 1, 'a,b'";
    record.event.fingerprint = "a1b2c3d4e5f60718";
    record.event.started_at = "2026-11-22T00:16:33.100Z";
    record.event.duration_ms = 23;
    record.event.rows_returned = 1;
    record.event.outcome = audit_outcome::ok;
    record.event.client_address = "127.0.0.1";
    record.event.details = "{}";
    record.previous_hash = std::string(store::audit_genesis_hash);
    EXPECT_EQ(
        store::canonical_audit_encoding(record),
        "metahog.audit.v1\n1:7,24:2026-11-22T00:16:33.123Z,1:2,1:3,36:6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b,"
        "5:query,15:SELECT 1, 'a,b',16:a1b2c3d4e5f60718,24:2026-11-22T00:16:33.100Z,2:23,1:1,2:ok,~9:127.0.0."
        "1,2:{},64:0000000000000000000000000000000000000000000000000000000000000000,");
    EXPECT_EQ(store::compute_audit_hash(record),
              "33dd01b570d78693653d122471717f895d71d262061f28b1f636fae4288a4686");
    // The hash field itself is not hashed: a record's hash is a function of its content alone.
    record.hash = "anything";
    EXPECT_EQ(store::compute_audit_hash(record),
              "33dd01b570d78693653d122471717f895d71d262061f28b1f636fae4288a4686");
}

// Without lengths, moving a character from one field to the next, or a NULL becoming an empty text, would
// leave the hash unchanged and an edit undetectable.
TEST(audit_chain, encoding_is_unambiguous_across_field_boundaries_and_nulls) {
    store::audit_record left;
    left.event.action = "ab";
    left.event.sql = "c";
    store::audit_record right = left;
    right.event.action = "a";
    right.event.sql = "bc";
    EXPECT_NE(store::compute_audit_hash(left), store::compute_audit_hash(right));

    store::audit_record null_sql;
    store::audit_record empty_sql;
    empty_sql.event.sql = "";
    EXPECT_NE(store::compute_audit_hash(null_sql), store::compute_audit_hash(empty_sql));

    store::audit_record with_nul = left;
    with_nul.event.sql = std::string("SELECT 1\0; DROP", 15);
    store::audit_record truncated = left;
    truncated.event.sql = "SELECT 1";
    EXPECT_NE(store::compute_audit_hash(with_nul), store::compute_audit_hash(truncated));
}

TEST(audit_chain, outcome_names_round_trip) {
    for (const auto outcome : {audit_outcome::ok, audit_outcome::error, audit_outcome::timeout,
                               audit_outcome::cancelled, audit_outcome::refused}) {
        EXPECT_EQ(store::parse_audit_outcome(store::to_string(outcome)), outcome);
    }
    EXPECT_FALSE(store::parse_audit_outcome("OK").has_value());
    EXPECT_FALSE(store::parse_audit_outcome("").has_value());
}

// What a caller gets back is what is stored, chained from 64 zeros, with store-made times.
TEST_F(audit_test, records_are_stored_as_given_and_chained_from_the_genesis_hash) {
    auto entry = query_entry(team_a_, admin_.user_id, "SELECT * FROM pagila.film");
    entry.details["max_rows"] = 1000;
    const auto first = append(entry);
    EXPECT_EQ(first.id, 1);
    EXPECT_EQ(first.previous_hash, store::audit_genesis_hash);
    EXPECT_EQ(first.hash, store::compute_audit_hash(first));
    EXPECT_EQ(first.hash.size(), 64U);
    EXPECT_EQ(first.occurred_at.size(), std::string_view("2026-11-22T00:16:33.123Z").size());
    EXPECT_EQ(first.event.started_at, store::format_utc_timestamp(entry.started_at));
    EXPECT_EQ(first.event.details, R"({"max_rows":1000})");
    EXPECT_EQ(first.event.duration_ms, 12);
    EXPECT_FALSE(first.event.error_code.has_value());

    auto refused = query_entry(team_a_, member_.user_id, "COPY film TO PROGRAM 'sh'");
    refused.outcome = audit_outcome::refused;
    refused.error = error_code::statement_refused;
    refused.rows_returned = 0;
    const auto second = append(refused);
    EXPECT_EQ(second.id, 2);
    EXPECT_EQ(second.previous_hash, first.hash);
    EXPECT_EQ(second.event.error_code, "statement_refused");

    audit_filter filter;
    filter.team_id = team_a_;
    const auto page = query(admin_, filter);
    ASSERT_EQ(page.records.size(), 2U);
    const auto& read = page.records[1];
    EXPECT_EQ(read.id, first.id);
    EXPECT_EQ(read.occurred_at, first.occurred_at);
    EXPECT_EQ(read.event.sql, first.event.sql);
    EXPECT_EQ(read.event.source_id, first.event.source_id);
    EXPECT_EQ(read.event.fingerprint, first.event.fingerprint);
    EXPECT_EQ(read.event.client_address, "127.0.0.1");
    EXPECT_EQ(read.hash, first.hash);
    EXPECT_EQ(page.records[0].event.outcome, audit_outcome::refused);
}

// Callers are our own code, but a slip (an ok query with an error code, a password in details) must not
// become a misleading or leaking audit record.
TEST_F(audit_test, malformed_entries_are_refused_and_nothing_is_written) {
    auto expect_refused = [&](const audit_entry& entry, std::string_view field) {
        auto recorded = log_->record(entry);
        ASSERT_FALSE(recorded);
        EXPECT_EQ(recorded.error().code, error_code::invalid_input);
        EXPECT_EQ(recorded.error().field, field);
    };
    auto entry = query_entry(team_a_, admin_.user_id, "SELECT 1");
    entry.error = error_code::query_failed;
    expect_refused(entry, "error_code");

    entry = query_entry(team_a_, admin_.user_id, "SELECT 1");
    entry.outcome = audit_outcome::timeout;
    expect_refused(entry, "error_code");

    for (const auto* action : {"", "Query", "source create", "9query", "query;drop"}) {
        entry = query_entry(team_a_, admin_.user_id, "SELECT 1");
        entry.action = action;
        expect_refused(entry, "action");
    }

    entry = query_entry(0, admin_.user_id, "SELECT 1");
    expect_refused(entry, "team_id");
    entry = query_entry(team_a_, 0, "SELECT 1");
    expect_refused(entry, "user_id");
    entry = query_entry(team_a_, admin_.user_id, "SELECT 1");
    entry.duration = std::chrono::milliseconds(-1);
    expect_refused(entry, "duration_ms");
    entry = query_entry(team_a_, admin_.user_id, "SELECT 1");
    entry.rows_returned = -5;
    expect_refused(entry, "rows_returned");

    entry = query_entry(team_a_, admin_.user_id, "SELECT 1");
    entry.action = std::string(audit_actions::source_update);
    entry.details["password"] = "hunter2";
    auto leaked = log_->record(entry);
    ASSERT_FALSE(leaked);
    EXPECT_EQ(leaked.error().field, "details");
    EXPECT_EQ(leaked.error().message.find("hunter2"), std::string::npos) << leaked.error().message;

    entry.details.clear();
    entry.details["settings"] = boost::json::object{{"host", "db"}, {"SSLPassword", "x"}};
    expect_refused(entry, "details");
    entry.details.clear();
    entry.details["changes"] = boost::json::array{boost::json::object{{"access_token", "x"}}};
    expect_refused(entry, "details");

    EXPECT_EQ(verify().records_checked, 0);

    // Naming a changed secret field is allowed: the name is a value, not the secret.
    entry.details.clear();
    entry.details["changed_fields"] = boost::json::array{"host", "password"};
    EXPECT_EQ(append(entry).event.details, R"({"changed_fields":["host","password"]})");
}

// A security review reads the schema: no column may be able to hold a secret.
TEST_F(audit_test, the_audit_table_has_no_secret_fields) {
    auto db = open_raw(db_file());
    auto columns = db.prepare("SELECT name FROM pragma_table_info('audit_records')", "test");
    ASSERT_TRUE(columns);
    std::vector<std::string> names;
    while (*columns->step()) {
        names.push_back(columns->column_text(0));
    }
    const std::vector<std::string> expected{
        "id",         "occurred_at",    "team_id",    "user_id",       "source_id",     "action",
        "sql",        "fingerprint",    "started_at", "duration_ms",   "rows_returned", "outcome",
        "error_code", "client_address", "details",    "previous_hash", "hash"};
    EXPECT_EQ(names, expected);
    for (const auto& name : names) {
        for (const auto* word : {"password", "secret", "token", "sealed", "key", "credential"}) {
            EXPECT_EQ(name.find(word), std::string::npos) << name;
        }
    }
}

// The database itself refuses to change history, even to a statement that does not go through MetaHog,
// including INSERT OR REPLACE, which deletes without firing delete triggers.
TEST_F(audit_test, triggers_refuse_update_delete_and_replace) {
    append_many(3);
    auto db = open_raw(db_file());
    for (
        const auto* sql :
        {"UPDATE audit_records SET sql = 'SELECT 2' WHERE id = 2", "DELETE FROM audit_records WHERE id = 2",
         "DELETE FROM audit_records",
         "INSERT OR REPLACE INTO audit_records SELECT * FROM audit_records WHERE id = 1",
         "INSERT INTO audit_records SELECT 2, occurred_at, team_id, user_id, source_id, action, sql, "
         "fingerprint, started_at, duration_ms, rows_returned, outcome, error_code, client_address, details, "
         "previous_hash, hash FROM audit_records WHERE id = 1 ON CONFLICT (id) DO UPDATE SET sql = 'x'",
         "INSERT INTO audit_records (occurred_at, team_id, user_id, action, started_at, duration_ms, "
         "rows_returned, outcome, client_address, details, previous_hash, hash) SELECT occurred_at, team_id, "
         "user_id, action, started_at, duration_ms, rows_returned, outcome, client_address, details, "
         "previous_hash, hash FROM audit_records WHERE id = 1"}) {
        auto refused = db.exec(sql, "attack");
        ASSERT_FALSE(refused) << sql;
        EXPECT_NE(refused.error().message.find("append-only"), std::string::npos) << refused.error().message;
    }
    const auto report = verify();
    EXPECT_TRUE(report.ok());
    EXPECT_EQ(report.records_checked, 3);
}

// More records than one verification page, so the walk crosses page boundaries; the report's last hash is
// the anchor an operator can keep elsewhere.
TEST_F(audit_test, a_long_chain_verifies_across_pages) {
    // Written in one transaction the way the store writes each record, since a durable commit per record
    // would make the test slow; the store's own appends then continue the same chain.
    constexpr std::int64_t count = 10'000;
    {
        auto db = open_raw(db_file());
        exec_raw(db, "BEGIN IMMEDIATE");
        std::string previous(store::audit_genesis_hash);
        for (std::int64_t id = 1; id <= count; ++id) {
            store::audit_record record;
            record.id = id;
            record.occurred_at = store::format_utc_timestamp(store::wall_clock::now());
            record.event.team_id = team_a_;
            record.event.user_id = admin_.user_id;
            record.event.action = "query";
            record.event.sql = "SELECT " + std::to_string(id);
            record.event.started_at = record.occurred_at;
            record.event.client_address = "10.1.2.3";
            record.previous_hash = previous;
            record.hash = store::compute_audit_hash(record);
            const auto& e = record.event;
            auto inserted = db.run(
                "INSERT INTO audit_records (id, occurred_at, team_id, user_id, source_id, action, sql, "
                "fingerprint, started_at, duration_ms, rows_returned, outcome, error_code, client_address, "
                "details, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                "test insert", record.id, record.occurred_at, e.team_id, e.user_id, e.source_id, e.action,
                e.sql, e.fingerprint, e.started_at, e.duration_ms, e.rows_returned,
                store::to_string(e.outcome), e.error_code, e.client_address, e.details, record.previous_hash,
                record.hash);
            ASSERT_TRUE(inserted) << inserted.error().message;
            previous = record.hash;
        }
        exec_raw(db, "COMMIT");
    }
    append_many(5);
    auto report = verify();
    EXPECT_TRUE(report.ok()) << report.first_break->explanation;
    EXPECT_EQ(report.records_checked, count + 5);
    EXPECT_EQ(report.last_id, count + 5);
    audit_filter newest;
    newest.team_id = team_a_;
    newest.limit = 1;
    EXPECT_EQ(report.last_hash, query(admin_, newest).records.at(0).hash);

    auto db = open_raw(db_file());
    drop_triggers(db);
    exec_raw(db, "UPDATE audit_records SET rows_returned = 999 WHERE id = 9001");
    report = verify();
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.first_break->id, 9001);
    EXPECT_EQ(report.records_checked, 9000);
}

// Whichever field of whichever record an attacker with the file changes, verify names that record.
TEST_F(audit_test, altering_any_field_of_a_record_is_detected_and_located) {
    struct alteration {
        const char* column;
        std::string new_value;  // an SQL expression
        audit_break expected;
    };
    const std::string other_hash = "'" + std::string(64, 'a') + "'";
    const std::vector<alteration> alterations{
        {"occurred_at", "'2020-01-01T00:00:00.000Z'", audit_break::altered_content},
        {"team_id", "team_id + 1", audit_break::altered_content},
        {"user_id", "user_id + 1", audit_break::altered_content},
        {"source_id", "'another-source'", audit_break::altered_content},
        {"source_id", "NULL", audit_break::altered_content},
        {"action", "'explain'", audit_break::altered_content},
        {"sql", "'SELECT 999'", audit_break::altered_content},
        {"sql", "NULL", audit_break::altered_content},
        {"fingerprint", "'ffffffffffffffff'", audit_break::altered_content},
        {"started_at", "'2020-01-01T00:00:00.000Z'", audit_break::altered_content},
        {"duration_ms", "duration_ms + 1", audit_break::altered_content},
        {"rows_returned", "0", audit_break::altered_content},
        {"outcome", "'cancelled'", audit_break::altered_content},
        {"error_code", "'query_cancelled'", audit_break::altered_content},
        {"client_address", "'10.0.0.99'", audit_break::altered_content},
        {"details", "'{\"note\":\"benign\"}'", audit_break::altered_content},
        {"previous_hash", other_hash, audit_break::broken_link},
        {"hash", other_hash, audit_break::altered_content},
        {"id", "1000", audit_break::missing_record},
    };
    for (const auto& change : alterations) {
        for (const std::int64_t target : {1, 3, 5}) {
            SCOPED_TRACE(std::string(change.column) + " = " + change.new_value + " on record " +
                         std::to_string(target));
            temp_dir dir;
            const auto file = dir.path() / "metahog.db";
            auto store = open_store(file);
            ASSERT_NE(store, nullptr);
            audit_log log(*store);
            for (int index = 1; index <= 5; ++index) {
                auto entry = query_entry(1, 1, "SELECT " + std::to_string(index));
                ASSERT_TRUE(log.record(entry));
            }
            ASSERT_TRUE(log.verify()->ok());

            auto db = open_raw(file);
            drop_triggers(db);
            auto changed = db.run("UPDATE audit_records SET " + std::string(change.column) + " = " +
                                      change.new_value + " WHERE id = ?",
                                  "attack", target);
            ASSERT_TRUE(changed && *changed == 1);

            auto report = log.verify();
            ASSERT_TRUE(report);
            ASSERT_FALSE(report->ok());
            EXPECT_EQ(report->first_break->id, target);
            EXPECT_EQ(report->first_break->problem, change.expected) << report->first_break->explanation;
            EXPECT_EQ(report->records_checked, target - 1);
            EXPECT_NE(report->first_break->explanation.find(std::to_string(target)), std::string::npos);
        }
    }
}

// An attacker who knows the algorithm can rehash the record they changed: the next record's link shows it.
// Rehashing everything after it too yields a consistent chain with a different last hash, which is why the
// report's last hash is worth keeping outside the file.
TEST_F(audit_test, a_rewritten_and_rehashed_record_breaks_the_next_link) {
    append_many(5);
    const auto anchor = verify().last_hash;
    auto db = open_raw(db_file());
    drop_triggers(db);

    auto rewrite = [&](std::int64_t id, const std::string& previous_hash, bool change_sql) {
        audit_filter filter;
        filter.team_id = team_a_;
        filter.before_id = id + 1;
        filter.limit = 1;
        auto record = query(admin_, filter).records.at(0);
        if (change_sql) {
            record.event.sql = "SELECT 'nothing to see'";
        }
        record.previous_hash = previous_hash;
        record.hash = store::compute_audit_hash(record);
        auto changed = db.run("UPDATE audit_records SET sql = ?, previous_hash = ?, hash = ? WHERE id = ?",
                              "attack", record.event.sql, record.previous_hash, record.hash, id);
        EXPECT_TRUE(changed && *changed == 1);
        return record.hash;
    };
    auto hash = rewrite(
        3, query(admin_, audit_filter{.team_id = team_a_, .before_id = 3, .limit = 1}).records.at(0).hash,
        true);
    auto report = verify();
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.first_break->id, 4);
    EXPECT_EQ(report.first_break->problem, audit_break::broken_link);

    hash = rewrite(4, hash, false);
    rewrite(5, hash, false);
    report = verify();
    EXPECT_TRUE(report.ok());
    EXPECT_NE(report.last_hash, anchor);
}

// Removing a record anywhere (first, middle, newest) is found, and so is a gap left behind when the newest
// record was removed and MetaHog appended again.
TEST_F(audit_test, deleting_a_record_is_detected) {
    for (const std::int64_t target : {1, 3, 5}) {
        SCOPED_TRACE("delete record " + std::to_string(target));
        temp_dir dir;
        const auto file = dir.path() / "metahog.db";
        auto store = open_store(file);
        ASSERT_NE(store, nullptr);
        audit_log log(*store);
        for (int index = 1; index <= 5; ++index) {
            ASSERT_TRUE(log.record(query_entry(1, 1, "SELECT " + std::to_string(index))));
        }
        auto db = open_raw(file);
        drop_triggers(db);
        ASSERT_EQ(*db.run("DELETE FROM audit_records WHERE id = ?", "attack", target), 1);

        auto report = log.verify();
        ASSERT_TRUE(report);
        ASSERT_FALSE(report->ok());
        EXPECT_EQ(report->first_break->id, target);
        EXPECT_EQ(report->first_break->problem, audit_break::missing_record);
        EXPECT_EQ(report->records_checked, target - 1);

        // The next append never reuses the removed id, so the hole stays visible.
        auto next = log.record(query_entry(1, 1, "SELECT 6"));
        ASSERT_TRUE(next);
        EXPECT_EQ(next->id, 6);
        report = log.verify();
        ASSERT_FALSE(report->ok());
        EXPECT_EQ(report->first_break->id, target);
    }
}

TEST_F(audit_test, emptying_the_whole_log_is_detected) {
    append_many(4);
    auto db = open_raw(db_file());
    drop_triggers(db);
    exec_raw(db, "DELETE FROM audit_records");
    const auto report = verify();
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.first_break->id, 1);
    EXPECT_EQ(report.first_break->problem, audit_break::missing_record);
    EXPECT_NE(report.first_break->explanation.find("4"), std::string::npos)
        << report.first_break->explanation;
}

// The HTTP server records from all its I/O threads at once: one chain, no id twice, nothing lost.
TEST_F(audit_test, concurrent_appends_from_eight_threads_form_one_valid_chain) {
    constexpr int threads = 8;
    constexpr int per_thread = 40;
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    for (int thread = 0; thread < threads; ++thread) {
        workers.emplace_back([&, thread] {
            for (int index = 0; index < per_thread; ++index) {
                auto entry = query_entry(team_a_, admin_.user_id,
                                         "SELECT " + std::to_string(thread) + ", " + std::to_string(index));
                if (!log_->record(entry)) {
                    ++failures;
                }
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    EXPECT_EQ(failures.load(), 0);
    const auto report = verify();
    EXPECT_TRUE(report.ok()) << report.first_break->explanation;
    EXPECT_EQ(report.records_checked, threads * per_thread);
}

// A server and a second MetaHog process (the CLI) on one file: each has its own connection, and the write
// lock taken before the tip is read keeps their records in one chain.
TEST_F(audit_test, two_store_instances_appending_interleaved_form_one_valid_chain) {
    auto second_store = open_store(db_file());
    ASSERT_NE(second_store, nullptr);
    audit_log second_log(*second_store);
    constexpr int per_store = 60;
    std::atomic<int> failures{0};
    auto write_many = [&](audit_log& log, const std::string& tag) {
        for (int index = 0; index < per_store; ++index) {
            if (!log.record(
                    query_entry(team_a_, admin_.user_id, "SELECT '" + tag + std::to_string(index) + "'"))) {
                ++failures;
            }
        }
    };
    std::thread first_writer(write_many, std::ref(*log_), "first-");
    std::thread second_writer(write_many, std::ref(second_log), "second-");
    first_writer.join();
    second_writer.join();
    EXPECT_EQ(failures.load(), 0);
    for (auto* log : {log_.get(), &second_log}) {
        auto report = log->verify();
        ASSERT_TRUE(report);
        EXPECT_TRUE(report->ok()) << report->first_break->explanation;
        EXPECT_EQ(report->records_checked, 2 * per_store);
    }
}

// The same with a real second process, since SQLite's locking between processes (POSIX locks) is not the
// code path two connections in one process take.
TEST_F(audit_test, two_processes_appending_at_once_form_one_valid_chain) {
    constexpr int per_process = 60;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The child opens its own store and never touches the parent's connection; _exit skips destructors
        // that would release the parent's locks on the shared file.
        int status = 0;
        auto opened = store::open_sqlite_store(db_file());
        if (!opened) {
            ::_exit(2);
        }
        audit_log log(**opened);
        for (int index = 0; index < per_process; ++index) {
            if (!log.record(
                    query_entry(team_a_, admin_.user_id, "SELECT 'child " + std::to_string(index) + "'"))) {
                status = 1;
            }
        }
        ::_exit(status);
    }
    int failures = 0;
    for (int index = 0; index < per_process; ++index) {
        if (!log_->record(
                query_entry(team_a_, admin_.user_id, "SELECT 'parent " + std::to_string(index) + "'"))) {
            ++failures;
        }
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(failures, 0);
    const auto report = verify();
    EXPECT_TRUE(report.ok()) << report.first_break->explanation;
    EXPECT_EQ(report.records_checked, 2 * per_process);
}

// The log survives a restart and the chain continues from where it was.
TEST_F(audit_test, the_chain_continues_after_reopening) {
    append_many(3);
    const auto before = verify();
    log_.reset();
    store_.reset();
    store_ = open_store(db_file());
    ASSERT_NE(store_, nullptr);
    log_ = std::make_unique<audit_log>(*store_);
    EXPECT_EQ(verify().last_hash, before.last_hash);
    const auto next = append(query_entry(team_a_, admin_.user_id, "SELECT 4"));
    EXPECT_EQ(next.id, 4);
    EXPECT_EQ(next.previous_hash, before.last_hash);
    EXPECT_TRUE(verify().ok());
}

// A data directory created before the audit log existed is upgraded in place and starts a fresh chain.
TEST(audit_migration, a_database_from_before_the_audit_log_is_upgraded) {
    temp_dir dir;
    const auto file = dir.path() / "metahog.db";
    {
        auto db = open_raw(file);
        ASSERT_TRUE(store::apply_migrations(db, store::schema_migrations().first(1), "test"));
    }
    auto store = open_store(file);
    ASSERT_NE(store, nullptr);
    audit_log log(*store);
    auto first = log.record(query_entry(1, 1, "SELECT 1"));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->id, 1);
    EXPECT_EQ(first->previous_hash, store::audit_genesis_hash);
    EXPECT_TRUE(log.verify()->ok());
}

// Team admins read their own team's log, newest first, narrowed by every filter the workbench offers.
TEST_F(audit_test, filters_select_the_matching_records_of_the_team_only) {
    auto spin_to_next_millisecond = [] {
        const auto start = store::format_utc_timestamp(store::wall_clock::now());
        while (true) {
            const auto now = store::wall_clock::now();
            if (store::format_utc_timestamp(now) != start) {
                return now;
            }
        }
    };
    auto entry = query_entry(team_a_, admin_.user_id, "SELECT pg_sleep(10)");
    const auto r1 = append(entry).id;
    const auto window_start = spin_to_next_millisecond();

    entry = query_entry(team_a_, member_.user_id, "select * from film where title like '100%_done'");
    entry.source_id = "source-2";
    entry.outcome = audit_outcome::timeout;
    entry.error = error_code::query_timeout;
    const auto r2 = append(entry).id;

    entry = query_entry(team_b_, outsider_.user_id, "SELECT pg_sleep(1)");
    const auto other_team = append(entry).id;

    entry = query_entry(team_a_, admin_.user_id, "");
    entry.action = std::string(audit_actions::source_update);
    entry.sql.reset();
    entry.fingerprint.reset();
    entry.details["changed_fields"] = boost::json::array{"host"};
    const auto r3 = append(entry).id;
    const auto window_end = spin_to_next_millisecond();

    entry = query_entry(team_a_, member_.user_id, "SELECT 1000 AS x_y");
    entry.outcome = audit_outcome::refused;
    entry.error = error_code::statement_refused;
    const auto r4 = append(entry).id;

    auto ids = [&](audit_filter filter) {
        filter.team_id = team_a_;
        return ids_of(query(admin_, filter));
    };
    using ids_t = std::vector<std::int64_t>;
    EXPECT_EQ(ids({}), (ids_t{r4, r3, r2, r1}));
    EXPECT_EQ(ids({.user_id = member_.user_id}), (ids_t{r4, r2}));
    EXPECT_EQ(ids({.source_id = "source-2"}), (ids_t{r2}));
    EXPECT_EQ(ids({.action = std::string(audit_actions::source_update)}), (ids_t{r3}));
    EXPECT_EQ(ids({.outcome = audit_outcome::timeout}), (ids_t{r2}));
    EXPECT_EQ(ids({.outcome = audit_outcome::ok}), (ids_t{r3, r1}));
    EXPECT_EQ(ids({.from = window_start}), (ids_t{r4, r3, r2}));
    EXPECT_EQ(ids({.to = window_end}), (ids_t{r3, r2, r1}));
    EXPECT_EQ(ids({.from = window_start, .to = window_end}), (ids_t{r3, r2}));
    EXPECT_EQ(ids({.sql_contains = "PG_SLEEP"}), (ids_t{r1}));
    // LIKE's wildcards in the search are plain characters.
    EXPECT_EQ(ids({.sql_contains = "100%_"}), (ids_t{r2}));
    EXPECT_EQ(ids({.sql_contains = "%"}), (ids_t{r2}));
    EXPECT_EQ(ids({.sql_contains = "x_y"}), (ids_t{r4}));
    EXPECT_EQ(ids({.sql_contains = ""}), (ids_t{r4, r3, r2, r1}));
    EXPECT_EQ(ids({.user_id = member_.user_id, .outcome = audit_outcome::refused}), (ids_t{r4}));
    EXPECT_TRUE(ids({.user_id = outsider_.user_id}).empty());

    audit_filter team_b;
    team_b.team_id = team_b_;
    EXPECT_EQ(ids_of(query(outsider_, team_b)), (ids_t{other_team}));
}

// Keyset pages: every record exactly once, newest first, and records appended while paging do not shift
// the pages already being read.
TEST_F(audit_test, pages_walk_newest_first_without_gaps_or_repeats) {
    append_many(23);
    std::vector<std::int64_t> seen;
    audit_filter filter;
    filter.team_id = team_a_;
    filter.limit = 5;
    int pages = 0;
    while (true) {
        const auto page = query(admin_, filter);
        ++pages;
        ASSERT_LE(page.records.size(), 5U);
        for (const auto& record : page.records) {
            seen.push_back(record.id);
        }
        if (pages == 2) {
            append_many(2);  // newer than every page: must not appear in later pages
        }
        if (!page.next_before_id) {
            break;
        }
        EXPECT_EQ(*page.next_before_id, page.records.back().id);
        filter.before_id = page.next_before_id;
    }
    EXPECT_EQ(pages, 5);
    std::vector<std::int64_t> expected;
    for (std::int64_t id = 23; id >= 1; --id) {
        expected.push_back(id);
    }
    EXPECT_EQ(seen, expected);

    // A page that ends exactly at the last record says there is nothing after it.
    filter.before_id = 6;
    filter.limit = 5;
    EXPECT_FALSE(query(admin_, filter).next_before_id.has_value());
}

TEST_F(audit_test, page_limits_and_required_team_are_enforced) {
    append_many(3);
    for (const std::int64_t limit : {0, -1, 501}) {
        auto refused = log_->query(admin_, audit_filter{.team_id = team_a_, .limit = limit});
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, error_code::invalid_input);
        EXPECT_EQ(refused.error().field, "limit");
    }
    EXPECT_TRUE(log_->query(admin_, audit_filter{.team_id = team_a_, .limit = 500}));
    auto no_team = log_->query(admin_, audit_filter{});
    ASSERT_FALSE(no_team);
    EXPECT_EQ(no_team.error().field, "team_id");
    auto bad_cursor = log_->query(admin_, audit_filter{.team_id = team_a_, .before_id = 0});
    ASSERT_FALSE(bad_cursor);
    EXPECT_EQ(bad_cursor.error().field, "before_id");
}

// Only team admins read the log; to anyone outside the team it does not exist.
TEST_F(audit_test, only_admins_of_the_team_read_its_log) {
    append_many(2);
    auto as_member = log_->query(member_, audit_filter{.team_id = team_a_});
    ASSERT_FALSE(as_member);
    EXPECT_EQ(as_member.error().code, error_code::forbidden);

    auto as_outsider = log_->query(outsider_, audit_filter{.team_id = team_a_});
    ASSERT_FALSE(as_outsider);
    EXPECT_EQ(as_outsider.error().code, error_code::not_found);

    auto other_team = log_->query(admin_, audit_filter{.team_id = team_b_});
    ASSERT_FALSE(other_team);
    EXPECT_EQ(other_team.error().code, error_code::not_found);
}

// What a failed request is recorded as: MetaHog's own decisions are refusals, the database's failures errors.
TEST(audit_outcome_test, failures_map_to_the_outcome_an_admin_filters_by) {
    EXPECT_EQ(audit_outcome_of(error_code::query_timeout), audit_outcome::timeout);
    EXPECT_EQ(audit_outcome_of(error_code::query_cancelled), audit_outcome::cancelled);
    for (const auto code : {error_code::statement_refused, error_code::invalid_input, error_code::rate_limited,
                            error_code::busy, error_code::not_found, error_code::forbidden}) {
        EXPECT_EQ(audit_outcome_of(code), audit_outcome::refused) << to_string(code);
    }
    for (const auto code : {error_code::query_failed, error_code::source_connection_failed, error_code::internal}) {
        EXPECT_EQ(audit_outcome_of(code), audit_outcome::error) << to_string(code);
    }
}

}  // namespace
}  // namespace metahog::services
