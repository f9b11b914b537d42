// The master key that seals stored secrets: held in locked, guarded memory; loaded from METAHOG_SECRET_KEY or
// DIR/secret.key (created on first start).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace metahog::security {

inline constexpr std::size_t master_key_size = 32;
inline constexpr const char* master_key_env_var = "METAHOG_SECRET_KEY";
inline constexpr const char* master_key_file_name = "secret.key";

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

// The key MetaHog runs with: the environment variable METAHOG_SECRET_KEY when set, otherwise
// DATA_DIR/secret.key, created with mode 0600 on first start (DATA_DIR created with 0700 when missing).
// Errors name the variable or the file, never the key: invalid_input for a malformed value, an empty
// variable or a key file that group or others may access; internal for an operating-system failure.
// Safe when several processes start on the same directory at once: all of them end up with one key.
result<master_key> load_master_key(const std::filesystem::path& data_dir);

}  // namespace metahog::security
