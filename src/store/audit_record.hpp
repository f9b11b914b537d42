// The audit log's records and their hash chain: what one record holds, the canonical encoding its hash is
// computed over, and the filters of an admin's query. Append-only: nothing here changes a stored record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace metahog::store {

enum class audit_outcome { ok, error, timeout, cancelled, refused };

std::string_view to_string(audit_outcome outcome) noexcept;
// The exact names to_string gives; anything else is absent.
std::optional<audit_outcome> parse_audit_outcome(std::string_view text) noexcept;

// What happened, as the caller states it. The store adds the id, occurred_at and the two hashes. Never a
// secret in any field: the SQL is kept as the user sent it, details name changed fields, never their values
// when they are secrets.
struct audit_event {
    std::int64_t team_id = 0;
    std::int64_t user_id = 0;
    std::optional<std::string> source_id;
    // "query", "export", "explain", "source.create", "login", ... (a lower-case dotted name).
    std::string action;
    // The SQL exactly as the user sent it, before any rewriting.
    std::optional<std::string> sql;
    // libpg_query's fingerprint in hex.
    std::optional<std::string> fingerprint;
    // In the store's timestamp format (format_utc_timestamp).
    std::string started_at;
    std::int64_t duration_ms = 0;
    std::int64_t rows_returned = 0;
    audit_outcome outcome = audit_outcome::ok;
    // A stable error_code name ("query_timeout") when the outcome is not ok.
    std::optional<std::string> error_code;
    std::string client_address;
    // A JSON object as text.
    std::string details = "{}";
};

// One stored record. hash covers every field, id and occurred_at included, and previous_hash, which is the
// hash of the record before it (genesis_hash for the first): changing or removing any record breaks the chain
// from there on.
struct audit_record {
    std::int64_t id = 0;
    std::string occurred_at;
    audit_event event;
    std::string previous_hash;
    std::string hash;
};

// The previous_hash of record 1: 64 zeros.
inline constexpr std::string_view audit_genesis_hash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The bytes a record's hash is computed over, documented so that an auditor can recompute it without
// MetaHog: the line "metahog.audit.v1\n", then these fields in this order, each written as its byte length
// in decimal, ':', its bytes and ',' (a netstring), or as "~" when it is NULL; integers are written in
// decimal first: id, occurred_at, team_id, user_id, source_id, action, sql, fingerprint, started_at,
// duration_ms, rows_returned, outcome, error_code, client_address, details, previous_hash. Lengths make it
// unambiguous whatever bytes a field holds (commas, NULs, invalid UTF-8). record.hash is not part of it.
std::string canonical_audit_encoding(const audit_record& record);

// Lower-case hex BLAKE2b-256 (unkeyed, 32-byte digest: what `b2sum -l 256` and Python's
// hashlib.blake2b(digest_size=32) compute) of canonical_audit_encoding(record). BLAKE2b rather than SHA-256
// for speed: verify() hashes every record of the log.
std::string compute_audit_hash(const audit_record& record);

// An admin's query over one team's records, newest first. Absent filters match everything; occurred_from is
// inclusive and occurred_to exclusive, both in the store's timestamp format; sql_contains matches a
// substring of the SQL, ignoring ASCII case. Paging is by key: before_id is the smallest id of the previous
// page, so records appended meanwhile never shift a page.
struct audit_query {
    std::int64_t team_id = 0;
    std::optional<std::int64_t> user_id;
    std::optional<std::string> source_id;
    std::optional<std::string> action;
    std::optional<audit_outcome> outcome;
    std::optional<std::string> occurred_from;
    std::optional<std::string> occurred_to;
    std::optional<std::string> sql_contains;
    std::optional<std::int64_t> before_id;
    std::int64_t limit = 100;
};

}  // namespace metahog::store
