// Password hashing for MetaHog's own users: argon2id, in the self-describing PHC string form.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace metahog::security {

// "$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>" with a fresh random salt (libsodium's INTERACTIVE limits:
// about 64 MiB and a few tenths of a second per call, so run it off the event loop).
// error_code::internal when the memory cannot be had; the message never contains the password.
result<std::string> hash_password(std::string_view password);

// True only when stored_hash is a valid argon2 hash of password. False for anything malformed.
bool verify_password(std::string_view stored_hash, std::string_view password);

// True when stored_hash was not made with today's algorithm and limits (or is malformed): after a successful
// verify_password, hash the password again and store the new hash.
bool password_needs_rehash(std::string_view stored_hash);

}  // namespace metahog::security
