// argon2id password hashes through libsodium's crypto_pwhash_str family.
#include "security/password.hpp"

#include <sodium.h>

#include <array>
#include <cstring>

#include "security/ensure_initialized.hpp"

namespace metahog::security {
namespace {

constexpr unsigned long long ops_limit = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
constexpr std::size_t memory_limit = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;

// libsodium reads the stored hash as a NUL-terminated string of at most crypto_pwhash_STRBYTES bytes: copy it
// into such a buffer, refusing anything longer (or holding a NUL) rather than letting the C side guess.
using hash_buffer = std::array<char, crypto_pwhash_STRBYTES>;

bool to_c_string(std::string_view stored_hash, hash_buffer& buffer) {
    if (stored_hash.size() >= buffer.size() || stored_hash.find('\0') != std::string_view::npos) {
        return false;
    }
    buffer.fill('\0');
    std::memcpy(buffer.data(), stored_hash.data(), stored_hash.size());
    return true;
}

// The crypto_pwhash functions are declared nonnull; an empty string_view may carry a null pointer.
const char* non_null(std::string_view text) {
    return text.data() != nullptr ? text.data() : "";
}

}  // namespace

result<std::string> hash_password(std::string_view password) {
    ensure_initialized();
    hash_buffer hash{};
    if (crypto_pwhash_str_alg(hash.data(), non_null(password), password.size(), ops_limit, memory_limit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return make_error(error_code::internal,
                          "hashing the password failed: not enough memory for argon2id");
    }
    return std::string(hash.data());
}

bool verify_password(std::string_view stored_hash, std::string_view password) {
    ensure_initialized();
    hash_buffer hash{};
    if (!to_c_string(stored_hash, hash)) {
        return false;
    }
    return crypto_pwhash_str_verify(hash.data(), non_null(password), password.size()) == 0;
}

bool password_needs_rehash(std::string_view stored_hash) {
    ensure_initialized();
    hash_buffer hash{};
    if (!to_c_string(stored_hash, hash)) {
        return true;
    }
    // The argon2id-specific check, not the generic one: the generic one accepts an argon2i hash with the same
    // limits as current, and we want those upgraded too. It answers -1 (malformed, other algorithm) or 1.
    return crypto_pwhash_argon2id_str_needs_rehash(hash.data(), ops_limit, memory_limit) != 0;
}

}  // namespace metahog::security
