// JSON text primitives shared by the encoders and the drivers' value rendering: string escaping that also
// repairs invalid UTF-8, so whatever bytes a database hands us, the response stays valid JSON.
#pragma once

#include <string>
#include <string_view>

#include "core/rows.hpp"

namespace metahog::encoding {

// Appends `text` as a JSON string, quotes included. Escapes like Postgres's escape_json (\" \\ \b \f \n \r
// \t, other control characters as \u00XX); every byte sequence that is not valid UTF-8 becomes U+FFFD, so a
// SQL_ASCII database or a binary-ish text value cannot break the document.
void append_json_string(std::string& out, std::string_view text);

// The same without the surrounding quotes, for callers that build one string from several pieces.
void append_json_string_body(std::string& out, std::string_view text);

// True when `text` is a complete JSON number (RFC 8259 grammar): only then may a database's text of a number
// be emitted bare. Postgres prints NaN and ±Infinity for floats and numerics, which are not.
bool is_json_number(std::string_view text) noexcept;

// Appends a cell's JSON: `null`, its verbatim JSON, or its text as a JSON string.
inline void append_json_cell(std::string& out, const cell& value) {
    switch (value.form) {
        case json_form::null:
            out.append("null");
            return;
        case json_form::verbatim:
            out.append(value.json);
            return;
        case json_form::string:
            append_json_string(out, value.json);
            return;
    }
}

// Appends `value` with a fixed number of decimals ("8.51"); for timings and other figures we compute.
void append_fixed(std::string& out, double value, int decimals);

// Appends an unsigned integer in decimal.
void append_unsigned(std::string& out, unsigned long long value);

}  // namespace metahog::encoding
