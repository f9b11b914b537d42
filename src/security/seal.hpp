// Sealing secrets (source passwords and the like) for storage under the master key, and opening them again.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "security/master_key.hpp"

namespace metahog::security {

// XChaCha20-Poly1305-IETF with a random 192-bit nonce (safe to pick at random for any number of values).
// Returns text, safe in any column or JSON string: `v1.<key id>.<base64url(nonce || ciphertext)>`.
// associated_data binds the secret to its owner (MetaHog passes the source id): a blob copied onto another
// row fails to open. The version and key id are bound too, so neither can be edited undetected.
std::string seal(const master_key& key, std::string_view plaintext, std::string_view associated_data);

// The plaintext, or error_code::internal with a message an administrator can act on: malformed text, an
// unknown format version, "sealed with key X, the current key is Y", or failed authentication (altered, or
// associated with another owner). No message ever contains any part of a plaintext.
result<std::string> open(const master_key& key, std::string_view sealed, std::string_view associated_data);
// The same with whichever key of `keys` sealed the value; "sealed with key X, which is not among the keys
// held (Y, Z)" when none did.
result<std::string> open(const keyring& keys, std::string_view sealed, std::string_view associated_data);

// The key id of a sealed value (a view into `sealed`), or empty when the text is not shaped like one.
// Lets `rotate-key` find what an old key sealed without holding that key.
std::string_view sealed_key_id(std::string_view sealed);

}  // namespace metahog::security
