// Text positions in users' SQL: libpg_query speaks 0-based byte offsets, MetaHog (like Postgres) reports
// 1-based character positions in the SQL the user submitted. Also the UTF-8 check that guards the parser.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace metahog::sql {

// 1-based position of the character that contains byte `byte_offset` (0-based) of UTF-8 `text`.
// An offset at or past the end gives the position just after the last character (length + 1), which is
// where Postgres points for "syntax error at end of input".
int char_position_from_byte_offset(std::string_view text, std::size_t byte_offset) noexcept;

// 0-based byte offset where the character at 1-based `char_position` starts. Positions below 1 give 0;
// positions past the end give text.size().
std::size_t byte_offset_from_char_position(std::string_view text, int char_position) noexcept;

// Number of characters (code points) in UTF-8 `text`.
int char_count(std::string_view text) noexcept;

// Byte offset of the first byte that makes `text` invalid UTF-8 (overlong forms, surrogates, code points
// above U+10FFFF and truncated sequences included, as Postgres's own check rejects them), or nullopt.
std::optional<std::size_t> first_invalid_utf8_byte(std::string_view text) noexcept;

}  // namespace metahog::sql
