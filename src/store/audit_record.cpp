// Outcome names and the audit chain's canonical encoding and hash (BLAKE2b-256 from libsodium).
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

}  // namespace

std::string canonical_audit_encoding(const audit_record& record) {
    std::string out;
    // Enough for a typical record in one allocation; a long SQL text grows it once or twice.
    out.reserve(512);
    auto text = [&out](std::string_view value) {
        std::array<char, 24> length{};
        const auto written = std::to_chars(length.data(), length.data() + length.size(), value.size());
        out.append(length.data(), written.ptr);
        out += ':';
        out += value;
        out += ',';
    };
    auto optional_text = [&](const std::optional<std::string>& value) {
        if (value.has_value()) {
            text(*value);
        } else {
            out += '~';
        }
    };
    auto integer = [&](std::int64_t value) {
        std::array<char, 24> digits{};
        const auto written = std::to_chars(digits.data(), digits.data() + digits.size(), value);
        text(std::string_view(digits.data(), static_cast<std::size_t>(written.ptr - digits.data())));
    };

    const auto& event = record.event;
    out += encoding_header;
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
    return out;
}

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

std::string compute_audit_hash(const audit_record& record) {
    ensure_sodium();
    // One hash call over the whole encoding: four small hash updates per field cost more than building it,
    // and verify() hashes every record of the log.
    const auto encoded = canonical_audit_encoding(record);
    constexpr std::size_t digest_size = 32;
    std::array<unsigned char, digest_size> digest{};
    crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(encoded.data()),
                       encoded.size(), nullptr, 0);
    std::array<char, digest_size * 2 + 1> hex{};
    sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
    return std::string(hex.data(), digest_size * 2);
}

}  // namespace metahog::store
