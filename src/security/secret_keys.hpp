// The keys a running MetaHog seals and opens stored secrets with, kept in step with the key file while
// `metahog rotate-key` changes it (the design is at the top of master_key.hpp).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "security/master_key.hpp"

namespace metahog::security {

// Safe to use from any number of threads. Opening a value costs one mutex-guarded pointer copy on top of the
// cipher; the key file is touched only when a value names a key id this process does not hold, and before
// sealing (a stat(), then a read only when the file changed).
class secret_keys {
public:
    // load_keyring's rules and errors: the variable, else the key file (created only when secrets_exist
    // says there is nothing it would fail to open).
    static result<std::shared_ptr<secret_keys>> load(const std::filesystem::path& data_dir,
                                                     const secrets_exist_check& secrets_exist = {});
    explicit secret_keys(loaded_keyring loaded);

    secret_keys(const secret_keys&) = delete;
    secret_keys& operator=(const secret_keys&) = delete;

    // Seals with the primary of the key file as it is now (re-read first when it changed), so that a server
    // never seals with a key that a rotation has replaced. Errors only when the changed file cannot be read.
    result<std::string> seal(std::string_view plaintext, std::string_view associated_data);
    // Opens with whichever held key sealed the value; re-reads the key file once when no held key did.
    result<std::string> open(std::string_view sealed, std::string_view associated_data);
    // Whether the key file (or the variable) still holds the key with this id, re-reading a changed file:
    // false once rotate-key has retired it.
    result<bool> still_held(std::string_view key_id);

    // Every key this process has held: the file's (or variable's) keys as last read, primary first, then keys
    // held earlier, so that values a running server could open once it can always open.
    keyring all_keys() const;
    key_origin origin() const noexcept { return origin_; }
    // Where the keys come from, for messages: the variable's name or the file's path.
    std::string location() const;

private:
    struct state {
        keyring all;
        // The ids the file (or the variable) held when last read.
        std::vector<std::string> current_ids;
        std::optional<key_file_stamp> stamp;
    };

    // Re-reads the key file when its stamp differs from the last read; a no-op for the variable.
    result<void> refresh_locked();

    const key_origin origin_;
    const std::filesystem::path file_;
    mutable std::mutex mutex_;
    state state_;
};

}  // namespace metahog::security
