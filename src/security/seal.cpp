// seal/open: XChaCha20-Poly1305 under the master key, in a versioned text envelope tagged with the key id.
#include "security/seal.hpp"

#include <sodium.h>

#include <optional>

#include "security/ensure_initialized.hpp"
#include "security/text_encoding.hpp"

namespace metahog::security {
namespace {

constexpr std::string_view current_version = "v1";
constexpr std::size_t key_id_length = 16;
constexpr std::size_t nonce_size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t tag_size = crypto_aead_xchacha20poly1305_ietf_ABYTES;

struct envelope {
    std::string_view version;
    std::string_view key_id;
    std::string_view payload;
};

bool is_version(std::string_view text) {
    if (text.size() < 2 || text.size() > 5 || text.front() != 'v') {
        return false;
    }
    return text.substr(1).find_first_not_of("0123456789") == std::string_view::npos;
}

bool is_key_id(std::string_view text) {
    return text.size() == key_id_length &&
           text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// Only the shape of the header is checked here; the payload is checked by decoding it.
std::optional<envelope> split_envelope(std::string_view sealed) {
    const auto first_dot = sealed.find('.');
    if (first_dot == std::string_view::npos) {
        return std::nullopt;
    }
    const auto second_dot = sealed.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos) {
        return std::nullopt;
    }
    envelope parts{sealed.substr(0, first_dot), sealed.substr(first_dot + 1, second_dot - first_dot - 1),
                   sealed.substr(second_dot + 1)};
    if (!is_version(parts.version) || !is_key_id(parts.key_id)) {
        return std::nullopt;
    }
    return parts;
}

// "v1.<key id>.": the start of every sealed value of this version.
std::string envelope_header(std::string_view key_id) {
    return std::string(current_version) + "." + std::string(key_id) + ".";
}

// The header followed by the caller's associated data. The header has a fixed length, so no two
// (header, associated data) pairs give the same bytes.
std::string authenticated_data(std::string_view header, std::string_view associated_data) {
    std::string data(header);
    data.append(associated_data);
    return data;
}

const unsigned char* as_bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
}

error open_failure(std::string message) {
    return make_error(error_code::internal, std::move(message));
}

}  // namespace

std::string seal(const master_key& key, std::string_view plaintext, std::string_view associated_data) {
    ensure_initialized();
    std::string sealed = envelope_header(key.id());
    const std::string data = authenticated_data(sealed, associated_data);
    // nonce || ciphertext || tag, built in place: one buffer, then one encoding.
    std::string box(nonce_size + plaintext.size() + tag_size, '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(box.data());
    randombytes_buf(nonce, nonce_size);
    unsigned long long cipher_size = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + nonce_size, &cipher_size, as_bytes(plaintext),
                                               plaintext.size(), as_bytes(data), data.size(), nullptr, nonce,
                                               key.bytes().data());
    sealed += base64url_encode(std::string_view(box));
    return sealed;
}

result<std::string> open(const master_key& key, std::string_view sealed, std::string_view associated_data) {
    ensure_initialized();
    const auto parts = split_envelope(sealed);
    if (!parts) {
        return open_failure(
            "the stored secret is malformed (expected v1.<key id>.<data>); it was damaged or "
            "not written by MetaHog");
    }
    if (parts->version != current_version) {
        return open_failure("the stored secret uses format " + std::string(parts->version) +
                            ", which this MetaHog version cannot read (it reads " +
                            std::string(current_version) + ")");
    }
    if (parts->key_id != key.id()) {
        return open_failure("the stored secret was sealed with key " + std::string(parts->key_id) +
                            ", the current key is " + std::string(key.id()) +
                            "; start MetaHog with the key that sealed it, or re-enter the secret");
    }
    auto box = base64url_decode(parts->payload);
    if (!box || box->size() < nonce_size + tag_size) {
        return open_failure(
            "the stored secret is malformed (its data is not valid or too short); it was damaged");
    }
    const std::string data = authenticated_data(envelope_header(parts->key_id), associated_data);
    const auto* nonce = reinterpret_cast<const unsigned char*>(box->data());
    const std::size_t cipher_size = box->size() - nonce_size;
    std::string plaintext(cipher_size - tag_size, '\0');
    unsigned long long plaintext_size = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char*>(plaintext.data()), &plaintext_size, nullptr, nonce + nonce_size,
            cipher_size, as_bytes(data), data.size(), nonce, key.bytes().data()) != 0) {
        return open_failure(
            "the stored secret failed authentication: it was altered, or it belongs to another "
            "record");
    }
    plaintext.resize(plaintext_size);
    return plaintext;
}

result<std::string> open(const keyring& keys, std::string_view sealed, std::string_view associated_data) {
    const std::string_view key_id = sealed_key_id(sealed);
    if (const master_key* key = keys.find(key_id); key != nullptr || key_id.empty()) {
        // A malformed value gets open's own message, whichever key tries it.
        return open(key != nullptr ? *key : keys.primary(), sealed, associated_data);
    }
    std::string held;
    for (const auto& id : keys.ids()) {
        held += (held.empty() ? "" : ", ") + id;
    }
    return open_failure("the stored secret was sealed with key " + std::string(key_id) +
                        ", which is not among the keys MetaHog holds (" + held +
                        "); start MetaHog with the key file or METAHOG_SECRET_KEY that holds it");
}

std::string_view sealed_key_id(std::string_view sealed) {
    const auto parts = split_envelope(sealed);
    return parts ? parts->key_id : std::string_view();
}

}  // namespace metahog::security
