// Outcome names and the audit chain's canonical encoding and hash (SHA-256 from libsodium).
#include "store/audit_record.hpp"

#include <sodium.h>

#include <array>
#include <charconv>
#include <stdexcept>

namespace metahog::store {

namespace {

constexpr std::string_view encoding_header = "metahog.audit.v1\n";

// sodium_init() must run before any other libsodium call; it is idempotent and thread-safe, and a function
// static makes every later call free. -1 means libsodium cannot work at all: a broken invariant.
void ensure_sodium() {
    static const bool started = [] { return sodium_init() >= 0; }();
    if (!started) {
        throw std::runtime_error("audit log: libsodium failed to initialise");
    }
}

// Writes the canonical encoding piece by piece into sink (a string, or a running hash), so that hashing a
// record never builds the encoding in memory first: verify() hashes every record of the log.
template <class Sink>
void encode(const audit_record& record, Sink& sink) {
    auto text = [&](std::string_view value) {
        std::array<char, 24> length{};
        const auto written = std::to_chars(length.data(), length.data() + length.size(), value.size());
        sink(std::string_view(length.data(), static_cast<std::size_t>(written.ptr - length.data())));
        sink(":");
        sink(value);
        sink(",");
    };
    auto optional_text = [&](const std::optional<std::string>& value) {
        if (value.has_value()) {
            text(*value);
        } else {
            sink("~");
        }
    };
    auto integer = [&](std::int64_t value) {
        std::array<char, 24> digits{};
        const auto written = std::to_chars(digits.data(), digits.data() + digits.size(), value);
        text(std::string_view(digits.data(), static_cast<std::size_t>(written.ptr - digits.data())));
    };

    const auto& event = record.event;
    sink(encoding_header);
    integer(record.id);
    text(record.occurred_at);
    integer(event.team_id);
    integer(event.user_id);
    optional_text(event.source_id);
    text(event.action);
    optional_text(event.sql);
    optional_text(event.fingerprint);
    text(event.started_at);
    integer(event.duration_ms);
    integer(event.rows_returned);
    text(to_string(event.outcome));
    optional_text(event.error_code);
    text(event.client_address);
    text(event.details);
    text(record.previous_hash);
}

}  // namespace

std::string_view to_string(audit_outcome outcome) noexcept {
    switch (outcome) {
        case audit_outcome::ok:
            return "ok";
        case audit_outcome::error:
            return "error";
        case audit_outcome::timeout:
            return "timeout";
        case audit_outcome::cancelled:
            return "cancelled";
        case audit_outcome::refused:
            return "refused";
    }
    return "error";
}

std::optional<audit_outcome> parse_audit_outcome(std::string_view text) noexcept {
    for (const auto outcome : {audit_outcome::ok, audit_outcome::error, audit_outcome::timeout,
                               audit_outcome::cancelled, audit_outcome::refused}) {
        if (text == to_string(outcome)) {
            return outcome;
        }
    }
    return std::nullopt;
}

std::string canonical_audit_encoding(const audit_record& record) {
    std::string encoded;
    auto append = [&encoded](std::string_view piece) { encoded += piece; };
    encode(record, append);
    return encoded;
}

std::string compute_audit_hash(const audit_record& record) {
    ensure_sodium();
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    auto update = [&state](std::string_view piece) {
        crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(piece.data()), piece.size());
    };
    encode(record, update);
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256_final(&state, digest.data());
    std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
    return std::string(hex.data(), crypto_hash_sha256_BYTES * 2);
}

}  // namespace metahog::store
