// The master keys that seal stored secrets: held in locked, guarded memory; loaded from METAHOG_SECRET_KEY or
// DIR/secret.key (created on first start); rotated by `metahog rotate-key`.
//
// Design of key rotation (docs/configuration.md tells administrators the same):
// - A sealed value names the key that sealed it: `v1.<key id>.<data>` (security/seal.hpp). The key id is the
//   first 16 hex digits of BLAKE2b-256 of the key: it tells keys apart and reveals nothing usable about a
//   256-bit random key. The format is unchanged from the first release, so every value sealed so far opens.
// - A keyring is one or more keys; the first (the primary) seals, every key opens. The key file holds one
//   key per line ('#' starts a comment line); a file of one key, as every release has written, is a keyring
//   of one. METAHOG_SECRET_KEY holds the same list separated by commas: "NEW,OLD".
// - `metahog rotate-key --data-dir DIR`, with the server running or not:
//   1. takes DIR/.rotate-key.lock, so two rotations never interleave;
//   2. writes the keyring "new key, then every key in the file" (temporary file, fsync, rename, fsync of the
//      directory, mode 0600). A file that already holds more than one key is a rotation that stopped
//      half-way: its primary is reused rather than a third key made, so re-running finishes it;
//   3. re-seals under the new key, in one SQLite write transaction, every secret sealed with another key
//      (deleted sources too);
//   4. in a further write transaction that finds nothing left to re-seal, and while it still holds the write
//      lock, rewrites the file with the new key alone; then it prints counts and the new key id.
//   A crash before 2 leaves the old file; after 2 the file opens old and new secrets alike; 3 is all or
//   nothing; 4 retires keys only once no row can name them. Every step is safe to repeat.
// - A running server (security/secret_keys.hpp) re-reads the file, with the same checks as at start-up
//   (regular file, mode 0600, well-formed keys), whenever it meets a value sealed under a key id it does
//   not hold and whenever the file changed before it seals. It keeps every key it has held, so requests
//   never fail during a rotation. A value it sealed with a key that rotate-key retired meanwhile (a race of
//   microseconds) is re-sealed by the server itself right after storing it (services/key_rotation.hpp).
// - With METAHOG_SECRET_KEY set there is no file to rewrite: put the new key first in the variable
//   ("NEW,OLD") on every server, restart them, run `metahog rotate-key` to re-seal everything under NEW,
//   then drop OLD from the variable. The command says so instead of writing a file the servers never read.
// - At start-up (security/secret_keys.hpp, services/key_rotation.hpp) a malformed variable, a key file of the
//   wrong mode, size or content, a missing key file while secrets exist, or a stored secret that no key opens
//   stops MetaHog with one line naming the cause, before it listens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace metahog::security {

inline constexpr std::size_t master_key_size = 32;
inline constexpr const char* master_key_env_var = "METAHOG_SECRET_KEY";
inline constexpr const char* master_key_file_name = "secret.key";
// A keyring holds the keys of at most a few rotations that stopped half-way; more is a mistake, not a keyring.
inline constexpr std::size_t max_keyring_size = 16;

class master_key {
public:
    // 32 fresh random bytes.
    static master_key generate();
    static master_key from_bytes(std::span<const unsigned char, master_key_size> bytes);

    master_key(master_key&&) noexcept = default;
    master_key& operator=(master_key&&) noexcept = default;
    master_key(const master_key&) = delete;
    master_key& operator=(const master_key&) = delete;
    ~master_key() = default;

    // First 16 hex digits of BLAKE2b-256(key): tags sealed values so `rotate-key` can tell which key sealed
    // what. It reveals nothing usable about the key. Empty after a move.
    std::string_view id() const noexcept { return id_; }
    // Standard base64 (44 characters), for printing a newly generated key; master_key_from_text reads it
    // back.
    std::string to_text() const;
    // The raw key, for the primitives in this folder: never log it or copy it into ordinary memory.
    // Throws std::logic_error on a moved-from key.
    std::span<const unsigned char, master_key_size> bytes() const;

private:
    // sodium_free: wipes the bytes, unlocks and releases the guarded pages.
    struct secure_memory_deleter {
        void operator()(unsigned char* memory) const noexcept;
    };
    using secure_memory = std::unique_ptr<unsigned char, secure_memory_deleter>;

    master_key(secure_memory memory, std::string id);
    static master_key adopt(secure_memory memory);
    static secure_memory allocate();

    secure_memory memory_;
    std::string id_;
};

// Standard base64 of 32 bytes (44 characters, padded) or 64 hex digits; surrounding whitespace (a file's
// trailing newline) is ignored. error_code::invalid_input otherwise; the message never contains the text.
result<master_key> master_key_from_text(std::string_view text);

// An ordered list of master keys: the first, the primary, seals; every key opens. Copies share the keys.
class keyring {
public:
    // Keeps the first of several keys with the same id. Throws std::invalid_argument when `keys` is empty or
    // holds a null pointer: a keyring without a primary is a programming error.
    explicit keyring(std::vector<std::shared_ptr<const master_key>> keys);

    const master_key& primary() const noexcept { return *keys_.front(); }
    std::shared_ptr<const master_key> primary_shared() const noexcept { return keys_.front(); }
    // nullptr when no key of this keyring has the id.
    const master_key* find(std::string_view id) const noexcept;
    const std::vector<std::shared_ptr<const master_key>>& keys() const noexcept { return keys_; }
    std::vector<std::string> ids() const;
    std::size_t size() const noexcept { return keys_.size(); }

private:
    std::vector<std::shared_ptr<const master_key>> keys_;
};

// Keys separated by newlines, commas or blanks; a line whose first non-blank character is '#' is a comment.
// invalid_input names the position of a bad key ("key 2 of 3") but never quotes any text, and refuses an
// empty list or one longer than max_keyring_size.
result<keyring> keyring_from_text(std::string_view text);

// What identifies one version of a key file, so that a running server re-reads it only when it changed.
// rename() gives the new file a new inode, which is what rotate-key does.
struct key_file_stamp {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::int64_t size = 0;
    std::int64_t modified_ns = 0;
    std::int64_t changed_ns = 0;
    bool operator==(const key_file_stamp&) const = default;
};

struct key_file_contents {
    keyring keys;
    key_file_stamp stamp;
};

// DIR/secret.key ("DIR/" names DIR too).
std::filesystem::path key_file_path(const std::filesystem::path& data_dir);

// The keyring in a key file, or nothing when the file does not exist. invalid_input when it is not a regular
// file, group or others may access it, it is empty or too large, or a key in it is malformed; internal for an
// operating-system failure. Errors name the file, never its content.
result<std::optional<key_file_contents>> read_keyring_file(const std::filesystem::path& path);
// The stamp of the file at path now; nothing when it does not exist.
result<std::optional<key_file_stamp>> stat_key_file(const std::filesystem::path& path);

// Replaces (or creates) the key file atomically: a fresh temporary file of mode 0600 in the same directory,
// written, fsynced, renamed over path, and the directory fsynced. Readers see the old file or the new one,
// never a mixture; a crash leaves one of the two (and at worst a stray temporary file).
result<void> write_keyring_file(const std::filesystem::path& path, const keyring& keys);

enum class key_origin { environment, file };

struct loaded_keyring {
    keyring keys;
    key_origin origin = key_origin::file;
    // The key file when origin is file.
    std::filesystem::path file;
    std::optional<key_file_stamp> stamp;
};

// Asked before a missing key file is created: true when the data directory already holds sealed secrets,
// which a new key could never open.
using secrets_exist_check = std::function<result<bool>()>;

// The keys MetaHog runs with: the environment variable METAHOG_SECRET_KEY when set (one key or "NEW,OLD"),
// otherwise DATA_DIR/secret.key, created with one new key and mode 0600 on first start (DATA_DIR created with
// 0700 when missing) unless `secrets_exist` says there are secrets to open: then the missing file is an
// invalid_input error. Errors name the variable or the file, never a key: invalid_input for a malformed
// value, an empty variable or a key file that group or others may access; internal for an operating-system
// failure. Safe when several processes start on the same directory at once: all of them end up with one key.
result<loaded_keyring> load_keyring(const std::filesystem::path& data_dir,
                                    const secrets_exist_check& secrets_exist = {});

// The primary of load_keyring, for callers that only seal with one key.
result<master_key> load_master_key(const std::filesystem::path& data_dir);

}  // namespace metahog::security
