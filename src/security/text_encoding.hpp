// Hex, base64 and base64url text forms of bytes, used for keys, sealed values, tokens and hashes.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace metahog::security {

// Lower-case hexadecimal.
std::string hex_encode(std::span<const unsigned char> bytes);
std::string hex_encode(std::string_view bytes);
// Accepts upper or lower case; rejects odd lengths and any other character.
result<std::string> hex_decode(std::string_view text);

// Standard base64 (RFC 4648 §4) with '=' padding, as printed for master keys.
std::string base64_encode(std::span<const unsigned char> bytes);
std::string base64_encode(std::string_view bytes);
result<std::string> base64_decode(std::string_view text);

// URL- and filename-safe base64 (RFC 4648 §5) without padding, as used in tokens, cookies and sealed values.
std::string base64url_encode(std::span<const unsigned char> bytes);
std::string base64url_encode(std::string_view bytes);
result<std::string> base64url_decode(std::string_view text);

// Decoding errors are error_code::invalid_input and never quote the text: it may be a secret.

}  // namespace metahog::security
