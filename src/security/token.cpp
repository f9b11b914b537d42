// Random tokens, token hashes and keyed hashes on libsodium's randombytes, BLAKE2b and crypto_kdf.
#include "security/token.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>

#include "security/ensure_initialized.hpp"
#include "security/text_encoding.hpp"

namespace metahog::security {
namespace {

using digest = std::array<unsigned char, crypto_generichash_BYTES>;

// A fixed subkey number: one subkey per context is all we need; the context string is what separates uses.
constexpr std::uint64_t keyed_hash_subkey_id = 1;

const unsigned char* as_bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

}  // namespace

std::string random_token(std::string_view prefix, std::size_t random_bytes) {
    ensure_initialized();
    // std::string, not std::vector: its data() is never null, which randombytes_buf requires even for 0
    // bytes.
    std::string bytes(random_bytes, '\0');
    randombytes_buf(bytes.data(), bytes.size());
    std::string token(prefix);
    token += base64url_encode(std::string_view(bytes));
    sodium_memzero(bytes.data(), bytes.size());
    return token;
}

std::string hash_token(std::string_view token) {
    ensure_initialized();
    // Unsalted and fast on purpose. Salts and slow hashes (argon2) exist to stop guessing low-entropy secrets
    // such as passwords; a token carries 256 random bits, so guessing is hopeless either way. An unsalted
    // hash lets the store find a presented token by an indexed lookup of its hash, at BLAKE2b speed per
    // request.
    digest hash{};
    crypto_generichash(hash.data(), hash.size(), as_bytes(token), token.size(), nullptr, 0);
    return hex_encode(hash);
}

std::string keyed_hash(const master_key& key, std::string_view context8, std::string_view message) {
    ensure_initialized();
    if (context8.size() != crypto_kdf_CONTEXTBYTES) {
        throw std::invalid_argument("keyed_hash context must be exactly 8 characters");
    }
    // A subkey per context rather than the master key itself: the master key then keys only the AEAD, and
    // values derived for one purpose can never be replayed as values for another.
    std::array<unsigned char, crypto_generichash_KEYBYTES> subkey{};
    std::array<char, crypto_kdf_CONTEXTBYTES> context{};
    std::copy(context8.begin(), context8.end(), context.begin());
    crypto_kdf_derive_from_key(subkey.data(), subkey.size(), keyed_hash_subkey_id, context.data(),
                               key.bytes().data());
    digest hash{};
    crypto_generichash(hash.data(), hash.size(), as_bytes(message), message.size(), subkey.data(),
                       subkey.size());
    sodium_memzero(subkey.data(), subkey.size());
    return hex_encode(hash);
}

bool constant_time_equal(std::string_view left, std::string_view right) {
    ensure_initialized();
    if (left.size() != right.size()) {
        return false;
    }
    if (left.empty()) {
        return true;
    }
    return sodium_memcmp(left.data(), right.data(), left.size()) == 0;
}

}  // namespace metahog::security
