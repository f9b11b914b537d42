// Hex and base64 codecs on top of libsodium's constant-time implementations (safe for key material).
#include "security/text_encoding.hpp"

#include <sodium.h>

#include "security/ensure_initialized.hpp"

namespace metahog::security {
namespace {

std::span<const unsigned char> as_bytes(std::string_view text) {
    return {reinterpret_cast<const unsigned char*>(text.data()), text.size()};
}

std::string encode_base64(std::span<const unsigned char> bytes, int variant) {
    ensure_initialized();
    // sodium_base64_ENCODED_LEN counts the terminating NUL that sodium_bin2base64 writes.
    std::string text(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
    sodium_bin2base64(text.data(), text.size(), bytes.data(), bytes.size(), variant);
    text.pop_back();
    return text;
}

result<std::string> decode_base64(std::string_view text, int variant, const char* what) {
    ensure_initialized();
    std::string bytes(text.size() / 4 * 3 + 3, '\0');
    std::size_t decoded_size = 0;
    // A null b64_end makes libsodium reject trailing garbage; it also rejects non-zero padding bits, so each
    // byte string has exactly one accepted text form.
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(),
                          text.size(), nullptr, &decoded_size, nullptr, variant) != 0) {
        sodium_memzero(bytes.data(), bytes.size());
        return make_error(error_code::invalid_input, std::string("not valid ") + what);
    }
    bytes.resize(decoded_size);
    return bytes;
}

}  // namespace

std::string hex_encode(std::span<const unsigned char> bytes) {
    ensure_initialized();
    std::string text(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(text.data(), text.size(), bytes.data(), bytes.size());
    text.pop_back();
    return text;
}

std::string hex_encode(std::string_view bytes) {
    return hex_encode(as_bytes(bytes));
}

result<std::string> hex_decode(std::string_view text) {
    ensure_initialized();
    if (text.size() % 2 != 0) {
        return make_error(error_code::invalid_input, "not valid hex: odd number of digits");
    }
    std::string bytes(text.size() / 2, '\0');
    std::size_t decoded_size = 0;
    if (sodium_hex2bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(), text.size(),
                       nullptr, &decoded_size, nullptr) != 0 ||
        decoded_size != bytes.size()) {
        sodium_memzero(bytes.data(), bytes.size());
        return make_error(error_code::invalid_input, "not valid hex");
    }
    return bytes;
}

std::string base64_encode(std::span<const unsigned char> bytes) {
    return encode_base64(bytes, sodium_base64_VARIANT_ORIGINAL);
}

std::string base64_encode(std::string_view bytes) {
    return base64_encode(as_bytes(bytes));
}

result<std::string> base64_decode(std::string_view text) {
    return decode_base64(text, sodium_base64_VARIANT_ORIGINAL, "base64");
}

std::string base64url_encode(std::span<const unsigned char> bytes) {
    return encode_base64(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

std::string base64url_encode(std::string_view bytes) {
    return base64url_encode(as_bytes(bytes));
}

result<std::string> base64url_decode(std::string_view text) {
    return decode_base64(text, sodium_base64_VARIANT_URLSAFE_NO_PADDING, "base64url");
}

}  // namespace metahog::security
