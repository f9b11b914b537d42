// Tests of master-key rotation against a real SQLite store: `metahog rotate-key`'s steps, re-running it after
// a crash at any step, the start-up check of stored secrets, and re-sealing in one transaction.
#include "services/key_rotation.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "security/seal.hpp"
#include "security/secret_keys.hpp"
#include "store/sqlite_store.hpp"

namespace metahog::services {
namespace {

namespace fs = std::filesystem;
using security::keyring;
using security::master_key;

constexpr std::string_view plaintext = R"({"password":"rotation-test-password"})";

class key_rotation_test : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (fs::temp_directory_path() / "metahog-rotation-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        dir_ = pattern;
        ::unsetenv(security::master_key_env_var);
        auto opened = store::open_sqlite_store(dir_ / "metahog.db");
        ASSERT_TRUE(opened) << opened.error().message;
        store_ = std::move(*opened);
        auto loaded = security::load_keyring(dir_);
        ASSERT_TRUE(loaded) << loaded.error().message;
        first_key_ = loaded->keys.primary_shared();
        const auto organization = store_->create_organization("Acme")->id;
        team_ = store_->create_team(organization, "Analytics")->id;
    }

    void TearDown() override {
        store_.reset();
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }

    // A source whose secrets are sealed with `key`.
    std::string add_source(const master_key& key, int number) {
        store::source_record source;
        source.id = "0b7e4c1e-0000-4000-8000-00000000000" + std::to_string(number);
        source.team_id = team_;
        source.source_type = "Postgres";
        source.prefix = "p" + std::to_string(number);
        source.status = "Completed";
        source.settings_json = "{}";
        source.sealed_secrets = security::seal(key, plaintext, source.id);
        EXPECT_TRUE(store_->insert_source(source));
        return source.id;
    }

    keyring file_keys() const {
        auto contents = security::read_keyring_file(dir_ / "secret.key");
        if (!contents || !contents->has_value()) {
            throw std::runtime_error("no key file");
        }
        return (*contents)->keys;
    }

    // Every stored secret is sealed with key_id and opens to the plaintext with `keys`.
    void expect_all_sealed_with(std::string_view key_id, const keyring& keys) {
        auto rows = store_->list_all_sources();
        ASSERT_TRUE(rows);
        for (const auto& row : *rows) {
            EXPECT_EQ(security::sealed_key_id(row.sealed_secrets), key_id) << row.id;
            auto opened = security::open(keys, row.sealed_secrets, row.id);
            ASSERT_TRUE(opened) << opened.error().message;
            EXPECT_EQ(*opened, plaintext);
        }
    }

    fs::path dir_;
    std::unique_ptr<store::metadata_store> store_;
    std::shared_ptr<const master_key> first_key_;
    std::int64_t team_ = 0;
};

TEST_F(key_rotation_test, rotates_every_secret_deleted_ones_too_and_retires_the_old_key) {
    add_source(*first_key_, 1);
    const auto deleted = add_source(*first_key_, 2);
    ASSERT_TRUE(*store_->soft_delete_source(team_, deleted));
    add_source(*first_key_, 3);

    auto report = rotate_key_file(dir_, *store_, nullptr);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_FALSE(report->resumed);
    EXPECT_EQ(report->secrets, 3);
    EXPECT_EQ(report->resealed, 3);
    EXPECT_NE(report->new_key_id, first_key_->id());
    EXPECT_EQ(report->retired_key_ids, std::vector<std::string>{std::string(first_key_->id())});

    const keyring now = file_keys();
    EXPECT_EQ(now.ids(), std::vector<std::string>{report->new_key_id}) << "the old key left the file";
    expect_all_sealed_with(report->new_key_id, now);
    EXPECT_TRUE(check_sealed_secrets(*store_, now, "the key file"));
    auto stale = check_sealed_secrets(*store_, keyring({first_key_}), "the old key file");
    ASSERT_FALSE(stale);
    EXPECT_NE(stale.error().message.find(report->new_key_id), std::string::npos) << stale.error().message;
    EXPECT_NE(stale.error().message.find("0b7e4c1e-0000-4000-8000-000000000001"), std::string::npos);
}

// A crash after the new keyring was written but before anything was re-sealed: running again finishes the
// same rotation instead of starting a second one.
TEST_F(key_rotation_test, rerunning_after_a_crash_finishes_the_same_rotation) {
    add_source(*first_key_, 1);
    const auto pending = std::make_shared<const master_key>(master_key::generate());
    ASSERT_TRUE(security::write_keyring_file(dir_ / "secret.key", keyring({pending, first_key_})));
    // Half-way: one secret already under the new key (as a running server would seal it).
    add_source(*pending, 2);

    auto report = rotate_key_file(dir_, *store_, nullptr);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_TRUE(report->resumed);
    EXPECT_EQ(report->new_key_id, pending->id());
    EXPECT_EQ(report->resealed, 1);
    EXPECT_EQ(file_keys().ids(), std::vector<std::string>{std::string(pending->id())});
    expect_all_sealed_with(pending->id(), file_keys());
}

TEST_F(key_rotation_test, a_given_new_key_makes_rerunning_idempotent) {
    add_source(*first_key_, 1);
    const auto chosen = std::make_shared<const master_key>(master_key::generate());
    auto first_run = rotate_key_file(dir_, *store_, chosen);
    ASSERT_TRUE(first_run) << first_run.error().message;
    EXPECT_EQ(first_run->new_key_id, chosen->id());
    EXPECT_EQ(first_run->resealed, 1);

    auto second_run = rotate_key_file(dir_, *store_, chosen);
    ASSERT_TRUE(second_run) << second_run.error().message;
    EXPECT_TRUE(second_run->resumed);
    EXPECT_EQ(second_run->resealed, 0);
    EXPECT_TRUE(second_run->retired_key_ids.empty());
    EXPECT_EQ(file_keys().ids(), std::vector<std::string>{std::string(chosen->id())});
}

// A secret that no key in the file opens stops the rotation with nothing changed in the store, and no key
// is retired: the administrator can still find the missing key.
TEST_F(key_rotation_test, a_secret_no_key_opens_stops_the_rotation_and_retires_nothing) {
    add_source(*first_key_, 1);
    const auto stranger = master_key::generate();
    add_source(stranger, 2);
    auto before = store_->list_all_sources();
    auto report = rotate_key_file(dir_, *store_, nullptr);
    ASSERT_FALSE(report);
    EXPECT_NE(report.error().message.find(std::string(stranger.id())), std::string::npos) << report.error().message;
    EXPECT_EQ(report.error().message.find(plaintext), std::string::npos);
    auto after = store_->list_all_sources();
    ASSERT_TRUE(before && after);
    ASSERT_EQ(before->size(), after->size());
    for (std::size_t index = 0; index < before->size(); ++index) {
        EXPECT_EQ((*before)[index].sealed_secrets, (*after)[index].sealed_secrets) << "one transaction: all or none";
    }
    EXPECT_EQ(file_keys().size(), 2U) << "the new key was added, the old one kept";
    EXPECT_NE(file_keys().find(first_key_->id()), nullptr);
}

TEST_F(key_rotation_test, a_second_rotation_at_the_same_time_is_refused) {
    const auto lock_path = dir_ / ".rotate-key.lock";
    const int held = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(held, 0);
    ASSERT_EQ(::flock(held, LOCK_EX), 0);
    auto report = rotate_key_file(dir_, *store_, nullptr);
    ::close(held);
    ASSERT_FALSE(report);
    EXPECT_NE(report.error().message.find("another `metahog rotate-key`"), std::string::npos);
    EXPECT_EQ(file_keys().ids(), std::vector<std::string>{std::string(first_key_->id())});
}

TEST_F(key_rotation_test, a_missing_key_file_is_an_error_not_a_new_key) {
    fs::remove(dir_ / "secret.key");
    auto report = rotate_key_file(dir_, *store_, nullptr);
    ASSERT_FALSE(report);
    EXPECT_NE(report.error().message.find("no key file"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir_ / "secret.key"));
}

TEST_F(key_rotation_test, the_environment_form_reseals_under_the_first_key) {
    add_source(*first_key_, 1);
    const auto newer = std::make_shared<const master_key>(master_key::generate());
    const keyring env_keys({newer, first_key_});
    auto report = reseal_for_environment(*store_, env_keys);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->resealed, 1);
    EXPECT_EQ(report->retired_key_ids, std::vector<std::string>{std::string(first_key_->id())});
    expect_all_sealed_with(newer->id(), keyring({newer}));
    EXPECT_EQ(file_keys().ids(), std::vector<std::string>{std::string(first_key_->id())})
        << "the key file is never written in the environment form";
}

// The race the running server closes itself: it sealed with a key that rotate-key retired meanwhile.
TEST_F(key_rotation_test, a_server_reseals_what_it_sealed_with_a_key_retired_meanwhile) {
    auto keys = security::secret_keys::load(dir_);
    ASSERT_TRUE(keys) << keys.error().message;
    auto rotated = rotate_key_file(dir_, *store_, nullptr);
    ASSERT_TRUE(rotated);
    // As if the server's seal had happened just before the rotation and its write just after.
    add_source(*first_key_, 4);
    EXPECT_FALSE(*(*keys)->still_held(first_key_->id()));
    auto resealed = reseal_under_primary(*store_, (*keys)->all_keys());
    ASSERT_TRUE(resealed) << resealed.error().message << " (the server still holds the retired key)";
    EXPECT_EQ(*resealed, 1);
    expect_all_sealed_with(rotated->new_key_id, file_keys());
}

}  // namespace
}  // namespace metahog::services
