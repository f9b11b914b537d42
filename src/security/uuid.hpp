// Ids for MetaHog's records: UUIDv7 (RFC 9562), time-ordered so new rows land at the end of B-tree indexes.
#pragma once

#include <string>
#include <string_view>

namespace metahog::security {

// Lower-case canonical text, "0190b6a4-7c1e-7d3a-9f12-3b4c5d6e7f80": a 48-bit Unix millisecond timestamp,
// version 7, variant 10, and 74 bits from libsodium's random source, 12 of which (rand_a) count up within a
// millisecond. Ids made by one process are strictly increasing, in binary and as text, even if the system
// clock steps back.
std::string new_uuid();

// True for canonical UUID text of any version: 36 characters, 8-4-4-4-12 lower-case hex digits. Upper case
// is refused so that one id has one spelling (ids are compared as strings in the store and in URLs).
bool is_uuid(std::string_view text);

}  // namespace metahog::security
