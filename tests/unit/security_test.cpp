// Tests of metahog::security: what users and the rest of MetaHog rely on from sealing, keys, passwords,
// tokens and ids.
#include "security/security.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <memory>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace metahog::security {
namespace {

namespace fs = std::filesystem;

// A plaintext no error message may ever contain.
constexpr std::string_view secret_plaintext = "correct-horse-battery-staple-4711";

// A fresh directory under TMPDIR, removed with everything in it.
class temp_dir {
public:
    temp_dir() {
        std::string pattern = (fs::temp_directory_path() / "metahog-security-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// Sets or unsets an environment variable for one scope, then puts back whatever was there before.
class scoped_env {
public:
    scoped_env(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* previous = std::getenv(name); previous != nullptr) {
            previous_ = previous;
        }
        apply(value);
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;
    ~scoped_env() { apply(previous_); }

private:
    void apply(const std::optional<std::string>& value) {
        if (value) {
            ::setenv(name_.c_str(), value->c_str(), 1);
        } else {
            ::unsetenv(name_.c_str());
        }
    }
    std::string name_;
    std::optional<std::string> previous_;
};

// Every key-file test runs as if METAHOG_SECRET_KEY were not set, whatever the developer's shell holds.
scoped_env without_env_key() {
    return scoped_env(master_key_env_var, std::nullopt);
}

unsigned file_mode(const fs::path& path) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) {
        throw std::runtime_error("stat failed");
    }
    return status.st_mode & 07777;
}

void write_file(const fs::path& path, const std::string& content, unsigned mode) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    ::chmod(path.c_str(), mode);
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void expect_no_secret(const error& failure, std::string_view secret) {
    EXPECT_EQ(failure.message.find(secret), std::string::npos) << failure.message;
    EXPECT_EQ(failure.detail.find(secret), std::string::npos) << failure.detail;
    EXPECT_EQ(failure.hint.find(secret), std::string::npos) << failure.hint;
}

// ---- seal / open ----

// Source passwords must come back exactly as entered, whatever their size or bytes.
TEST(security_seal, round_trips_plaintexts_of_any_size) {
    const auto key = master_key::generate();
    std::string binary(256, '\0');
    for (std::size_t index = 0; index < binary.size(); ++index) {
        binary[index] = static_cast<char>(index);
    }
    std::string mebibyte(1 << 20, '\0');
    for (std::size_t index = 0; index < mebibyte.size(); ++index) {
        mebibyte[index] = static_cast<char>((index * 131) % 251);
    }
    for (const std::string& plaintext : {std::string(), std::string(secret_plaintext), binary, mebibyte}) {
        const std::string sealed = seal(key, plaintext, "source-1");
        auto opened = open(key, sealed, "source-1");
        ASSERT_TRUE(opened) << opened.error().message;
        EXPECT_EQ(*opened, plaintext);
    }
}

// The stored form is text tagged with the key id, so rotate-key can tell which key sealed what.
TEST(security_seal, sealed_text_carries_version_and_key_id) {
    const auto key = master_key::generate();
    const std::string sealed = seal(key, secret_plaintext, "source-1");
    EXPECT_EQ(sealed.rfind("v1." + std::string(key.id()) + ".", 0), 0U) << sealed;
    EXPECT_EQ(sealed_key_id(sealed), key.id());
    EXPECT_EQ(sealed.find(secret_plaintext), std::string::npos);
    EXPECT_EQ(sealed.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."),
              std::string::npos)
        << "sealed values must be safe in any text column, URL or JSON string";
    // A random nonce: sealing the same secret twice must not reveal that the two are equal.
    EXPECT_NE(seal(key, secret_plaintext, "source-1"), sealed);
}

TEST(security_seal, sealed_key_id_is_empty_for_malformed_text) {
    EXPECT_EQ(sealed_key_id(""), "");
    EXPECT_EQ(sealed_key_id("plain password"), "");
    EXPECT_EQ(sealed_key_id("v1.notahexkeyid!!.abc"), "");
    EXPECT_EQ(sealed_key_id("v1.0123456789abcdef"), "");
}

// A changed byte anywhere in the stored value is detected, never silently decrypted to something else.
TEST(security_seal, tampered_bytes_fail_without_revealing_plaintext) {
    const auto key = master_key::generate();
    const std::string sealed = seal(key, secret_plaintext, "source-1");
    const std::size_t payload_start = sealed.rfind('.') + 1;
    for (std::size_t index = payload_start; index < sealed.size(); ++index) {
        std::string tampered = sealed;
        tampered[index] = tampered[index] == 'A' ? 'B' : 'A';
        auto opened = open(key, tampered, "source-1");
        ASSERT_FALSE(opened) << "tampering at " << index << " went unnoticed";
        EXPECT_EQ(opened.error().code, error_code::internal);
        expect_no_secret(opened.error(), secret_plaintext);
    }
}

// A secret copied onto another source's row must not open there.
TEST(security_seal, wrong_associated_data_fails) {
    const auto key = master_key::generate();
    const std::string sealed = seal(key, secret_plaintext, "source-1");
    auto opened = open(key, sealed, "source-2");
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, error_code::internal);
    EXPECT_NE(opened.error().message.find("authentication"), std::string::npos) << opened.error().message;
    expect_no_secret(opened.error(), secret_plaintext);
    EXPECT_FALSE(open(key, sealed, ""));
}

// Starting with the wrong key gives an administrator both key ids, not a generic failure.
TEST(security_seal, wrong_key_names_both_key_ids) {
    const auto sealing_key = master_key::generate();
    const auto other_key = master_key::generate();
    const std::string sealed = seal(sealing_key, secret_plaintext, "source-1");
    auto opened = open(other_key, sealed, "source-1");
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, error_code::internal);
    const std::string& message = opened.error().message;
    EXPECT_NE(message.find("sealed with key " + std::string(sealing_key.id())), std::string::npos) << message;
    EXPECT_NE(message.find("the current key is " + std::string(other_key.id())), std::string::npos)
        << message;
    expect_no_secret(opened.error(), secret_plaintext);
}

// A different key that claims the right key id (an edited header) still fails authentication.
TEST(security_seal, forged_key_id_fails_authentication) {
    const auto sealing_key = master_key::generate();
    const auto other_key = master_key::generate();
    std::string sealed = seal(sealing_key, secret_plaintext, "source-1");
    sealed.replace(3, 16, other_key.id());
    auto opened = open(other_key, sealed, "source-1");
    ASSERT_FALSE(opened);
    expect_no_secret(opened.error(), secret_plaintext);
}

TEST(security_seal, truncated_text_fails) {
    const auto key = master_key::generate();
    const std::string sealed = seal(key, secret_plaintext, "source-1");
    for (std::size_t length = 0; length < sealed.size(); ++length) {
        auto opened = open(key, std::string_view(sealed).substr(0, length), "source-1");
        ASSERT_FALSE(opened) << "truncated to " << length << " characters still opened";
        EXPECT_EQ(opened.error().code, error_code::internal);
        expect_no_secret(opened.error(), secret_plaintext);
    }
}

TEST(security_seal, bad_version_or_garbage_fails_with_a_clear_message) {
    const auto key = master_key::generate();
    std::string sealed = seal(key, secret_plaintext, "source-1");
    sealed[1] = '2';
    auto opened = open(key, sealed, "source-1");
    ASSERT_FALSE(opened);
    EXPECT_NE(opened.error().message.find("format v2"), std::string::npos) << opened.error().message;
    expect_no_secret(opened.error(), secret_plaintext);

    // A plaintext stored where a sealed value belongs must not be echoed back in the error.
    auto garbage = open(key, secret_plaintext, "source-1");
    ASSERT_FALSE(garbage);
    EXPECT_NE(garbage.error().message.find("malformed"), std::string::npos) << garbage.error().message;
    expect_no_secret(garbage.error(), secret_plaintext);
}

// ---- master key ----

TEST(security_master_key, text_form_round_trips_and_ids_are_stable) {
    const auto key = master_key::generate();
    const std::string text = key.to_text();
    EXPECT_EQ(text.size(), 44U);
    EXPECT_EQ(key.id().size(), 16U);
    EXPECT_EQ(key.id().find_first_not_of("0123456789abcdef"), std::string::npos);

    auto again = master_key_from_text(text + "\n");
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->id(), key.id());
    auto raw = hex_decode(std::string_view(text));
    EXPECT_FALSE(raw) << "44 characters of base64 are not hex";

    // The 64-hex-digit form names the same key.
    const std::string hex = hex_encode(key.bytes());
    auto from_hex = master_key_from_text(hex);
    ASSERT_TRUE(from_hex) << from_hex.error().message;
    EXPECT_EQ(from_hex->id(), key.id());

    EXPECT_NE(master_key::generate().id(), key.id());
}

// The key id is part of every stored secret: it must never change for the same key.
TEST(security_master_key, id_is_blake2b_of_the_key) {
    std::array<unsigned char, master_key_size> zeros{};
    // BLAKE2b-256 of 32 zero bytes begins 89eb0d6a8a691dae.
    EXPECT_EQ(master_key::from_bytes(zeros).id(), "89eb0d6a8a691dae");
}

TEST(security_master_key, malformed_text_is_refused_without_echo) {
    const std::string valid = master_key::generate().to_text();
    const std::vector<std::string> malformed = {
        "",
        "not-a-key-at-all-but-a-secret-value",
        valid.substr(0, 43),                  // padding dropped
        valid.substr(0, 40) + "!!!!",         // not base64
        std::string(64, 'g'),                 // not hex
        std::string(62, 'a'),                 // 31 bytes of hex
        base64_encode(std::string(33, 'x')),  // 33 bytes
    };
    for (const std::string& text : malformed) {
        auto key = master_key_from_text(text);
        ASSERT_FALSE(key) << "accepted: " << text;
        EXPECT_EQ(key.error().code, error_code::invalid_input);
        if (!text.empty()) {
            expect_no_secret(key.error(), text);
        }
    }
}

TEST(security_master_key, moved_from_key_refuses_use) {
    auto key = master_key::generate();
    const std::string id(key.id());
    auto moved = std::move(key);
    EXPECT_EQ(moved.id(), id);
    EXPECT_THROW((void)key.bytes(), std::logic_error);  // NOLINT(bugprone-use-after-move): the point
}

// First start creates the key file privately; every later start reads the same key back.
TEST(security_load_master_key, creates_file_0600_then_returns_the_same_key) {
    const auto env = without_env_key();
    const temp_dir root;
    const fs::path data_dir = root.path() / "parent" / "data";
    auto first = load_master_key(data_dir);
    ASSERT_TRUE(first) << first.error().message;
    const fs::path key_file = data_dir / "secret.key";
    ASSERT_TRUE(fs::is_regular_file(key_file));
    EXPECT_EQ(file_mode(key_file), 0600U);
    EXPECT_EQ(file_mode(data_dir), 0700U);
    auto on_disk = read_keyring_file(key_file);
    ASSERT_TRUE(on_disk && on_disk->has_value());
    EXPECT_EQ((*on_disk)->keys.size(), 1U);
    EXPECT_EQ((*on_disk)->keys.primary().id(), first->id());

    auto second = load_master_key(data_dir);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->id(), first->id());

    // No temporary files left behind.
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(data_dir)) {
        ++entries;
    }
    EXPECT_EQ(entries, 1U);
}

// Two servers (or a server and `bootstrap`) starting at once on a new directory must agree on one key,
// or secrets sealed by one are lost to the other.
TEST(security_load_master_key, concurrent_first_starts_agree_on_one_key) {
    const auto env = without_env_key();
    const temp_dir root;
    const fs::path data_dir = root.path() / "data";
    constexpr int starters = 8;
    std::vector<std::string> ids(starters);
    std::vector<std::string> failures(starters);
    std::atomic<bool> go = false;
    std::vector<std::thread> threads;
    for (int index = 0; index < starters; ++index) {
        threads.emplace_back([&, index] {
            while (!go.load()) {
                std::this_thread::yield();
            }
            auto key = load_master_key(data_dir);
            if (key) {
                ids[index] = std::string(key->id());
            } else {
                failures[index] = key.error().message;
            }
        });
    }
    go = true;
    for (auto& thread : threads) {
        thread.join();
    }
    for (int index = 0; index < starters; ++index) {
        EXPECT_EQ(failures[index], "");
        EXPECT_EQ(ids[index], ids[0]);
    }
    auto later = load_master_key(data_dir);
    ASSERT_TRUE(later);
    EXPECT_EQ(later->id(), ids[0]);
}

TEST(security_load_master_key, environment_variable_wins_over_the_file) {
    const temp_dir root;
    std::string file_key_id;
    {
        const auto env = without_env_key();
        auto from_file = load_master_key(root.path());
        ASSERT_TRUE(from_file) << from_file.error().message;
        file_key_id = from_file->id();
    }
    const auto env_key = master_key::generate();
    const scoped_env env(master_key_env_var, env_key.to_text());
    auto loaded = load_master_key(root.path());
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->id(), env_key.id());
    EXPECT_NE(loaded->id(), file_key_id);
}

// With the variable set, nothing is created in the data directory.
TEST(security_load_master_key, environment_variable_needs_no_data_dir) {
    const temp_dir root;
    const auto env_key = master_key::generate();
    const scoped_env env(master_key_env_var, hex_encode(env_key.bytes()));
    auto loaded = load_master_key(root.path() / "absent");
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->id(), env_key.id());
    EXPECT_FALSE(fs::exists(root.path() / "absent"));
}

TEST(security_load_master_key, malformed_environment_variable_is_named_not_echoed) {
    const temp_dir root;
    const std::string value = "my-database-password-is-hunter2";
    const scoped_env env(master_key_env_var, value);
    auto loaded = load_master_key(root.path());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code, error_code::invalid_input);
    EXPECT_NE(loaded.error().message.find("METAHOG_SECRET_KEY"), std::string::npos) << loaded.error().message;
    expect_no_secret(loaded.error(), value);
    expect_no_secret(loaded.error(), "hunter2");
    EXPECT_FALSE(fs::exists(root.path() / "secret.key")) << "must not fall back to the file";
}

// An empty variable is a deployment mistake (an unset ${KEY}), not a request to use the file.
TEST(security_load_master_key, empty_environment_variable_is_refused) {
    const temp_dir root;
    const scoped_env env(master_key_env_var, "");
    auto loaded = load_master_key(root.path());
    ASSERT_FALSE(loaded);
    EXPECT_NE(loaded.error().message.find("METAHOG_SECRET_KEY"), std::string::npos) << loaded.error().message;
}

TEST(security_load_master_key, group_readable_key_file_is_refused) {
    const auto env = without_env_key();
    const temp_dir root;
    const std::string key_text = master_key::generate().to_text();
    const fs::path key_file = root.path() / "secret.key";
    write_file(key_file, key_text + "\n", 0640);
    auto loaded = load_master_key(root.path());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code, error_code::invalid_input);
    EXPECT_NE(loaded.error().message.find("chmod 600 " + key_file.string()), std::string::npos)
        << loaded.error().message;
    expect_no_secret(loaded.error(), key_text);
    EXPECT_EQ(read_file(key_file), key_text + "\n") << "a refused key file must be left untouched";

    ::chmod(key_file.c_str(), 0600);
    EXPECT_TRUE(load_master_key(root.path()));
}

TEST(security_load_master_key, malformed_key_file_is_named_not_echoed) {
    const auto env = without_env_key();
    const temp_dir root;
    const fs::path key_file = root.path() / "secret.key";
    const std::string content = "this-is-not-a-key-but-maybe-a-password\n";
    write_file(key_file, content, 0600);
    auto loaded = load_master_key(root.path());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().code, error_code::invalid_input);
    EXPECT_NE(loaded.error().message.find(key_file.string()), std::string::npos) << loaded.error().message;
    expect_no_secret(loaded.error(), "this-is-not-a-key");
    EXPECT_EQ(read_file(key_file), content) << "a malformed key file must never be replaced";

    write_file(key_file, "", 0600);
    auto empty = load_master_key(root.path());
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.error().message.find("empty"), std::string::npos) << empty.error().message;
}

// Keys written by hand (hex, with a trailing newline) are accepted.
TEST(security_load_master_key, reads_a_hand_written_hex_key_file) {
    const auto env = without_env_key();
    const temp_dir root;
    const auto key = master_key::generate();
    write_file(root.path() / "secret.key", hex_encode(key.bytes()) + "\n", 0600);
    auto loaded = load_master_key(root.path());
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->id(), key.id());
}

// ---- keyrings and rotation ----

std::string key_text_of(const master_key& key) {
    return key.to_text();
}

std::shared_ptr<const master_key> shared_key() {
    return std::make_shared<const master_key>(master_key::generate());
}

// Every key file written so far holds one key and a newline: it must read as a keyring of one.
TEST(security_keyring, a_single_key_file_of_earlier_releases_is_a_keyring_of_one) {
    const auto key = master_key::generate();
    auto keys = keyring_from_text(key.to_text() + "\n");
    ASSERT_TRUE(keys) << keys.error().message;
    EXPECT_EQ(keys->size(), 1U);
    EXPECT_EQ(keys->primary().id(), key.id());
}

TEST(security_keyring, lines_comments_and_the_comma_form_of_the_variable) {
    const auto first = master_key::generate();
    const auto second = master_key::generate();
    auto from_file = keyring_from_text("# a comment, with a comma\n\n  " + first.to_text() + "\n" +
                                       hex_encode(second.bytes()) + "\n# trailing comment\n");
    ASSERT_TRUE(from_file) << from_file.error().message;
    EXPECT_EQ(from_file->ids(), (std::vector<std::string>{std::string(first.id()), std::string(second.id())}));
    EXPECT_EQ(&from_file->primary(), from_file->find(first.id()));
    ASSERT_NE(from_file->find(second.id()), nullptr);
    EXPECT_EQ(from_file->find("0000000000000000"), nullptr);

    auto from_env = keyring_from_text(second.to_text() + "," + first.to_text());
    ASSERT_TRUE(from_env) << from_env.error().message;
    EXPECT_EQ(from_env->primary().id(), second.id()) << "the first key seals";
    EXPECT_EQ(from_env->size(), 2U);

    auto duplicated = keyring_from_text(first.to_text() + ", " + first.to_text() + " " + second.to_text());
    ASSERT_TRUE(duplicated);
    EXPECT_EQ(duplicated->size(), 2U) << "a repeated key counts once";
}

TEST(security_keyring, a_bad_key_is_named_by_position_never_echoed) {
    const std::string good = master_key::generate().to_text();
    const std::string bad = "not-a-key-but-a-password-hunter2";
    auto keys = keyring_from_text(good + "\n" + bad + "\n");
    ASSERT_FALSE(keys);
    EXPECT_EQ(keys.error().code, error_code::invalid_input);
    EXPECT_NE(keys.error().message.find("key 2 of 2"), std::string::npos) << keys.error().message;
    expect_no_secret(keys.error(), bad);
    expect_no_secret(keys.error(), good);

    EXPECT_FALSE(keyring_from_text("# only a comment\n"));
    EXPECT_FALSE(keyring_from_text(" , ,\n"));
    std::string too_many;
    for (std::size_t index = 0; index <= max_keyring_size; ++index) {
        too_many += master_key::generate().to_text() + "\n";
    }
    EXPECT_FALSE(keyring_from_text(too_many));
    // A key of the wrong length (31 bytes) is refused.
    std::array<unsigned char, master_key_size - 1> short_key{};
    EXPECT_FALSE(keyring_from_text(base64_encode(short_key)));
}

// A value sealed by the first release (fixed key 00..1f, fixed nonce): the envelope format and key id are a
// stored contract, so it must open with every later release, through a keyring too.
TEST(security_keyring, values_sealed_by_earlier_releases_still_open) {
    std::array<unsigned char, master_key_size> bytes{};
    for (std::size_t index = 0; index < bytes.size(); ++index) {
        bytes[index] = static_cast<unsigned char>(index);
    }
    auto old_key = std::make_shared<const master_key>(master_key::from_bytes(bytes));
    EXPECT_EQ(old_key->id(), "cb2f5160fc1f7e05");
    const std::string sealed =
        "v1.cb2f5160fc1f7e05.QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXrxt1EaOTDnn9kKWEje8A8_7fyelxPDX1GFTQN2ZwQuR_lmxMKA0"
        "IHFAK3gBsE4Vz5VmRn24";
    const std::string owner = "0192a3b4-0000-7000-8000-000000000001";
    const std::string expected = R"({"password":"sealed-before-rotation"})";
    auto direct = open(*old_key, sealed, owner);
    ASSERT_TRUE(direct) << direct.error().message;
    EXPECT_EQ(*direct, expected);

    const keyring rotated({shared_key(), old_key});
    auto through_keyring = open(rotated, sealed, owner);
    ASSERT_TRUE(through_keyring) << through_keyring.error().message;
    EXPECT_EQ(*through_keyring, expected);
    EXPECT_FALSE(open(rotated, sealed, "another-owner"));

    const keyring without_it({shared_key()});
    auto refused = open(without_it, sealed, owner);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("cb2f5160fc1f7e05"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find(std::string(without_it.primary().id())), std::string::npos);
}

TEST(security_keyring, written_files_are_private_replaced_atomically_and_read_back_in_order) {
    const temp_dir root;
    const fs::path path = root.path() / "secret.key";
    const auto old_mask = ::umask(0);  // the file must be 0600 whatever the umask allows
    const keyring first({shared_key()});
    ASSERT_TRUE(write_keyring_file(path, first));
    ::umask(old_mask);
    EXPECT_EQ(file_mode(path), 0600U);
    struct stat before {};
    ASSERT_EQ(::stat(path.c_str(), &before), 0);
    // A hard link keeps the old file's inode reachable: an in-place rewrite would change it too.
    ASSERT_EQ(::link(path.c_str(), (root.path() / "old-copy").c_str()), 0);

    const keyring second({shared_key(), first.primary_shared()});
    ASSERT_TRUE(write_keyring_file(path, second));
    struct stat after {};
    ASSERT_EQ(::stat(path.c_str(), &after), 0);
    EXPECT_NE(before.st_ino, after.st_ino) << "replaced by rename, never rewritten in place";
    auto old_copy = read_keyring_file(root.path() / "old-copy");
    ASSERT_TRUE(old_copy && old_copy->has_value());
    EXPECT_EQ((*old_copy)->keys.ids(), first.ids()) << "the old file was never touched";

    auto reread = read_keyring_file(path);
    ASSERT_TRUE(reread && reread->has_value()) << (reread ? "" : reread.error().message);
    EXPECT_EQ((*reread)->keys.ids(), second.ids());
    auto stamp = stat_key_file(path);
    ASSERT_TRUE(stamp && stamp->has_value());
    EXPECT_EQ(**stamp, (*reread)->stamp);

    std::size_t entries = 0;
    for (const auto& entry : fs::directory_iterator(root.path())) {
        EXPECT_EQ(entry.path().extension(), entry.path().filename() == "old-copy" ? "" : ".key")
            << "no temporary file may be left: " << entry.path();
        ++entries;
    }
    EXPECT_EQ(entries, 2U);
    EXPECT_FALSE(read_keyring_file(root.path() / "absent")->has_value());
}

// A data directory whose key file was lost must not get a new key: nothing sealed could be opened again.
TEST(security_keyring, a_missing_key_file_is_not_recreated_while_secrets_exist) {
    const auto env = without_env_key();
    const temp_dir root;
    auto refused = load_keyring(root.path(), [] { return result<bool>(true); });
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, error_code::invalid_input);
    EXPECT_NE(refused.error().message.find("secret.key is missing"), std::string::npos) << refused.error().message;
    EXPECT_FALSE(fs::exists(root.path() / "secret.key"));

    auto created = load_keyring(root.path(), [] { return result<bool>(false); });
    ASSERT_TRUE(created) << created.error().message;
    EXPECT_EQ(created->origin, key_origin::file);
    EXPECT_TRUE(fs::exists(root.path() / "secret.key"));
}

TEST(security_keyring, the_variable_may_hold_new_and_old_keys) {
    const temp_dir root;
    const auto newer = master_key::generate();
    const auto older = master_key::generate();
    const scoped_env env(master_key_env_var, newer.to_text() + "," + older.to_text());
    auto loaded = load_keyring(root.path());
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->origin, key_origin::environment);
    EXPECT_EQ(loaded->keys.ids(), (std::vector<std::string>{std::string(newer.id()), std::string(older.id())}));
    auto primary = load_master_key(root.path());
    ASSERT_TRUE(primary);
    EXPECT_EQ(primary->id(), newer.id());
}

// What a running server does while `metahog rotate-key` rewrites the file under it.
TEST(security_secret_keys, follow_the_key_file_through_a_rotation) {
    const auto env = without_env_key();
    const temp_dir root;
    auto keys = secret_keys::load(root.path());
    ASSERT_TRUE(keys) << keys.error().message;
    const fs::path path = root.path() / "secret.key";
    const auto old_key = (*keys)->all_keys().primary_shared();
    auto before = (*keys)->seal(secret_plaintext, "owner");
    ASSERT_TRUE(before);
    EXPECT_EQ(sealed_key_id(*before), old_key->id());

    // Another process adds a new key in front and seals with it: the server must open that at once.
    const auto new_key = shared_key();
    ASSERT_TRUE(write_keyring_file(path, keyring({new_key, old_key})));
    const std::string by_rotation = seal(*new_key, secret_plaintext, "owner");
    auto opened = (*keys)->open(by_rotation, "owner");
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(*opened, secret_plaintext);
    auto after = (*keys)->seal(secret_plaintext, "owner");
    ASSERT_TRUE(after);
    EXPECT_EQ(sealed_key_id(*after), new_key->id()) << "seals with the file's new primary";
    EXPECT_TRUE(*(*keys)->still_held(old_key->id()));

    // The old key is retired from the file: the server notices, yet still opens what it sealed before.
    ASSERT_TRUE(write_keyring_file(path, keyring({new_key})));
    EXPECT_FALSE(*(*keys)->still_held(old_key->id()));
    EXPECT_TRUE(*(*keys)->still_held(new_key->id()));
    auto old_value = (*keys)->open(*before, "owner");
    ASSERT_TRUE(old_value) << old_value.error().message;
    EXPECT_EQ((*keys)->all_keys().primary().id(), new_key->id());

    // A re-read checks the file as start-up does: a file others may read is refused, the keys held stay.
    const auto newest = shared_key();
    ASSERT_TRUE(write_keyring_file(path, keyring({newest})));
    ::chmod(path.c_str(), 0644);
    auto refused = (*keys)->open(seal(*newest, secret_plaintext, "owner"), "owner");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("chmod 600"), std::string::npos) << refused.error().message;
    expect_no_secret(refused.error(), secret_plaintext);
    EXPECT_TRUE((*keys)->open(*after, "owner")) << "keys already held keep working";
    EXPECT_FALSE((*keys)->seal(secret_plaintext, "owner")) << "never seals while the file cannot be read";
    ::chmod(path.c_str(), 0600);
    EXPECT_TRUE((*keys)->open(seal(*newest, secret_plaintext, "owner"), "owner"));
}

TEST(security_secret_keys, an_unknown_key_id_names_both_sides) {
    const auto env = without_env_key();
    const temp_dir root;
    auto keys = secret_keys::load(root.path());
    ASSERT_TRUE(keys);
    const auto stranger = master_key::generate();
    auto refused = (*keys)->open(seal(stranger, secret_plaintext, "owner"), "owner");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find(std::string(stranger.id())), std::string::npos);
    EXPECT_NE(refused.error().message.find(std::string((*keys)->all_keys().primary().id())), std::string::npos);
    expect_no_secret(refused.error(), secret_plaintext);
    expect_no_secret(refused.error(), key_text_of(stranger));
}

// ---- passwords ----

TEST(security_password, hash_verifies_and_wrong_password_fails) {
    auto hash = hash_password(secret_plaintext);
    ASSERT_TRUE(hash) << hash.error().message;
    EXPECT_EQ(hash->rfind("$argon2id$", 0), 0U) << *hash;
    EXPECT_EQ(hash->find(secret_plaintext), std::string::npos);
    EXPECT_TRUE(verify_password(*hash, secret_plaintext));
    EXPECT_FALSE(verify_password(*hash, "correct-horse-battery-staple-4712"));
    EXPECT_FALSE(verify_password(*hash, ""));
    EXPECT_FALSE(password_needs_rehash(*hash));

    // A fresh salt each time: equal passwords do not give equal hashes.
    auto other = hash_password(secret_plaintext);
    ASSERT_TRUE(other);
    EXPECT_NE(*other, *hash);
}

TEST(security_password, malformed_or_weaker_hashes) {
    EXPECT_FALSE(verify_password("", "x"));
    EXPECT_FALSE(verify_password("$argon2id$garbage", "x"));
    EXPECT_FALSE(verify_password(std::string(1000, '$'), "x"));
    EXPECT_TRUE(password_needs_rehash(""));
    EXPECT_TRUE(password_needs_rehash("plaintext-password"));

    auto hash = hash_password("pw");
    ASSERT_TRUE(hash);
    // The same hash claiming fewer iterations: older, weaker parameters must be upgraded on next login.
    std::string weaker = *hash;
    const auto iterations = weaker.find(",t=2,");
    ASSERT_NE(iterations, std::string::npos) << weaker;
    weaker.replace(iterations, 5, ",t=1,");
    EXPECT_TRUE(password_needs_rehash(weaker));
    EXPECT_FALSE(verify_password(weaker, "pw"));
}

// ---- tokens and hashes ----

TEST(security_token, tokens_are_unique_and_carry_the_prefix) {
    std::set<std::string> seen;
    for (int index = 0; index < 1000; ++index) {
        const std::string token = random_token(api_key_prefix);
        ASSERT_EQ(token.rfind("mhk_", 0), 0U) << token;
        ASSERT_EQ(token.size(), 4U + 43U) << "256 random bits as unpadded base64url";
        ASSERT_EQ(
            token.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", 4),
            std::string::npos)
            << token;
        seen.insert(token);
    }
    EXPECT_EQ(seen.size(), 1000U);
    EXPECT_EQ(random_token(session_token_prefix, 16).size(), 4U + 22U);
    EXPECT_EQ(random_token("x_", 0), "x_");
}

// The store finds a presented token by this hash: its value must never change between releases.
TEST(security_token, hash_token_is_hex_blake2b_256) {
    EXPECT_EQ(hash_token(""), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    EXPECT_EQ(hash_token("abc"), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    const std::string token = random_token(api_key_prefix);
    EXPECT_EQ(hash_token(token), hash_token(token));
    EXPECT_NE(hash_token(token), hash_token(random_token(api_key_prefix)));
}

// CSRF tokens derived for sessions must be unguessable without the key and distinct per purpose.
TEST(security_token, keyed_hash_differs_per_context_key_and_message) {
    const auto key = master_key::generate();
    const auto other_key = master_key::generate();
    const std::string session = random_token(session_token_prefix);
    const std::string csrf = keyed_hash(key, "csrf____", session);
    EXPECT_EQ(csrf.size(), 64U);
    EXPECT_EQ(csrf.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(keyed_hash(key, "csrf____", session), csrf);
    EXPECT_NE(keyed_hash(key, "other___", session), csrf);
    EXPECT_NE(keyed_hash(other_key, "csrf____", session), csrf);
    EXPECT_NE(keyed_hash(key, "csrf____", session + "x"), csrf);
    EXPECT_NE(csrf, hash_token(session));
    EXPECT_THROW((void)keyed_hash(key, "short", session), std::invalid_argument);
    EXPECT_THROW((void)keyed_hash(key, "too-long-context", session), std::invalid_argument);
}

TEST(security_token, constant_time_equal_compares_contents) {
    EXPECT_TRUE(constant_time_equal("", ""));
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "ab"));
    EXPECT_FALSE(constant_time_equal("", "a"));
    const std::string token = random_token(api_key_prefix);
    EXPECT_TRUE(constant_time_equal(hash_token(token), hash_token(std::string(token))));
}

// ---- uuids ----

std::uint64_t uuid_unix_ms(const std::string& uuid) {
    const std::string digits = uuid.substr(0, 8) + uuid.substr(9, 4);
    return std::stoull(digits, nullptr, 16);
}

TEST(security_uuid, new_uuid_is_canonical_version_7) {
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const std::string uuid = new_uuid();
    const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    ASSERT_EQ(uuid.size(), 36U) << uuid;
    EXPECT_TRUE(is_uuid(uuid)) << uuid;
    EXPECT_EQ(uuid[14], '7') << "version nibble: " << uuid;
    EXPECT_NE(std::string_view("89ab").find(uuid[19]), std::string_view::npos) << "variant 10: " << uuid;
    // The id carries its creation time, so ids sort by creation.
    EXPECT_GE(uuid_unix_ms(uuid), static_cast<std::uint64_t>(before));
    EXPECT_LE(uuid_unix_ms(uuid), static_cast<std::uint64_t>(after) + 1);
}

// Records listed by id come out in creation order, and no two ids are equal.
TEST(security_uuid, ids_increase_in_creation_order) {
    std::string previous = new_uuid();
    std::set<std::string> seen{previous};
    for (int index = 0; index < 20000; ++index) {
        std::string next = new_uuid();
        ASSERT_LT(previous, next);
        seen.insert(next);
        previous = std::move(next);
    }
    EXPECT_EQ(seen.size(), 20001U);
}

TEST(security_uuid, ids_from_many_threads_are_unique) {
    constexpr int threads_count = 4;
    constexpr int per_thread = 5000;
    std::vector<std::vector<std::string>> made(threads_count);
    std::vector<std::thread> threads;
    for (int index = 0; index < threads_count; ++index) {
        threads.emplace_back([&made, index] {
            for (int count = 0; count < per_thread; ++count) {
                made[index].push_back(new_uuid());
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    std::set<std::string> all;
    for (const auto& ids : made) {
        EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
        all.insert(ids.begin(), ids.end());
    }
    EXPECT_EQ(all.size(), static_cast<std::size_t>(threads_count * per_thread));
}

TEST(security_uuid, is_uuid_accepts_only_canonical_text) {
    EXPECT_TRUE(is_uuid("00000000-0000-0000-0000-000000000000"));
    EXPECT_TRUE(is_uuid("f47ac10b-58cc-4372-a567-0e02b2c3d479"));  // version 4
    EXPECT_FALSE(is_uuid("F47AC10B-58CC-4372-A567-0E02B2C3D479"));
    EXPECT_FALSE(is_uuid("f47ac10b58cc4372a5670e02b2c3d479"));
    EXPECT_FALSE(is_uuid("{f47ac10b-58cc-4372-a567-0e02b2c3d479}"));
    EXPECT_FALSE(is_uuid("f47ac10b-58cc-4372-a567-0e02b2c3d47"));
    EXPECT_FALSE(is_uuid("f47ac10b-58cc-4372-a567-0e02b2c3d4799"));
    EXPECT_FALSE(is_uuid("f47ac10b-58cc-4372-a567_0e02b2c3d479"));
    EXPECT_FALSE(is_uuid("g47ac10b-58cc-4372-a567-0e02b2c3d479"));
    EXPECT_FALSE(is_uuid("1; DROP TABLE sources"));
    EXPECT_FALSE(is_uuid(""));
}

// ---- codecs ----

TEST(security_text_encoding, round_trips_and_rejects_garbage) {
    const std::string bytes("\x00\x01\xfe\xff hello", 10);
    EXPECT_EQ(hex_encode(std::string_view("\x01\xab", 2)), "01ab");
    EXPECT_EQ(*hex_decode(hex_encode(bytes)), bytes);
    EXPECT_EQ(*hex_decode("01AB"), std::string("\x01\xab", 2));
    EXPECT_FALSE(hex_decode("abc"));
    EXPECT_FALSE(hex_decode("zz"));

    EXPECT_EQ(base64_encode(std::string_view("\xfb\xff", 2)), "+/8=");
    EXPECT_EQ(base64url_encode(std::string_view("\xfb\xff", 2)), "-_8");
    EXPECT_EQ(*base64_decode(base64_encode(bytes)), bytes);
    EXPECT_EQ(*base64url_decode(base64url_encode(bytes)), bytes);
    EXPECT_EQ(*base64url_decode(""), "");
    EXPECT_FALSE(base64_decode("+/8"));      // missing padding
    EXPECT_FALSE(base64url_decode("-_8="));  // padding where none belongs
    EXPECT_FALSE(base64url_decode("+/8"));   // standard alphabet
    EXPECT_FALSE(base64url_decode("-_9"));   // non-zero unused bits: one text per byte string
    auto failure = base64_decode("secret value!");
    ASSERT_FALSE(failure);
    EXPECT_EQ(failure.error().code, error_code::invalid_input);
    expect_no_secret(failure.error(), "secret");
}

}  // namespace
}  // namespace metahog::security
