// Bearer tokens (API keys, sessions), their stored hashes, keyed hashes (CSRF) and constant-time comparison.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "security/master_key.hpp"

namespace metahog::security {

inline constexpr std::string_view api_key_prefix = "mhk_";
inline constexpr std::string_view session_token_prefix = "mhs_";

// prefix + base64url (no padding) of random_bytes fresh random bytes: 43 characters after the prefix for the
// default 256 bits. The prefix lets secret scanners and people recognise a leaked MetaHog token.
std::string random_token(std::string_view prefix, std::size_t random_bytes = 32);

// Lower-case hex BLAKE2b-256 of the token: what the store keeps instead of the token.
std::string hash_token(std::string_view token);

// Lower-case hex BLAKE2b-256 of message, keyed with a subkey derived from the master key for context8
// (crypto_kdf; exactly 8 characters, e.g. "csrf____"). Derives values such as a session's CSRF token without
// storing them; a different context or key gives unrelated values. Throws std::invalid_argument when
// context8 is not 8 characters: contexts are constants in our code, so that is a programming error.
std::string keyed_hash(const master_key& key, std::string_view context8, std::string_view message);

// Equality whose running time does not depend on where the inputs differ. Inputs of different lengths are
// unequal at once: lengths are not secret (all our tokens and hashes have fixed, public lengths).
bool constant_time_equal(std::string_view left, std::string_view right);

}  // namespace metahog::security
