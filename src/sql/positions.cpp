// Byte ⇄ character position conversions and strict UTF-8 validation for users' SQL.
#include "sql/positions.hpp"

#include <algorithm>

namespace metahog::sql {

namespace {

bool is_continuation_byte(unsigned char byte) noexcept {
    return (byte & 0xC0U) == 0x80U;
}

}  // namespace

int char_position_from_byte_offset(std::string_view text, std::size_t byte_offset) noexcept {
    if (byte_offset >= text.size()) {
        return char_count(text) + 1;
    }
    // Counting lead bytes up to and including the byte at the offset lands on the character containing it,
    // also when the offset points into the middle of a multibyte character.
    int position = 0;
    for (std::size_t index = 0; index <= byte_offset; ++index) {
        if (!is_continuation_byte(static_cast<unsigned char>(text[index]))) {
            ++position;
        }
    }
    return std::max(position, 1);
}

std::size_t byte_offset_from_char_position(std::string_view text, int char_position) noexcept {
    if (char_position <= 1) {
        return 0;
    }
    int seen = 0;
    for (std::size_t index = 0; index < text.size(); ++index) {
        if (!is_continuation_byte(static_cast<unsigned char>(text[index]))) {
            ++seen;
            if (seen == char_position) {
                return index;
            }
        }
    }
    return text.size();
}

int char_count(std::string_view text) noexcept {
    return static_cast<int>(std::count_if(text.begin(), text.end(), [](char byte) {
        return !is_continuation_byte(static_cast<unsigned char>(byte));
    }));
}

std::optional<std::size_t> first_invalid_utf8_byte(std::string_view text) noexcept {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t size = text.size();
    std::size_t index = 0;
    while (index < size) {
        const unsigned char lead = bytes[index];
        if (lead < 0x80U) {
            ++index;
            continue;
        }
        std::size_t length = 0;
        // The allowed range of the second byte excludes overlong forms, UTF-16 surrogates and values above
        // U+10FFFF (RFC 3629, table 3-7 of the Unicode standard).
        unsigned char second_min = 0x80U;
        unsigned char second_max = 0xBFU;
        if (lead >= 0xC2U && lead <= 0xDFU) {
            length = 2;
        } else if (lead >= 0xE0U && lead <= 0xEFU) {
            length = 3;
            if (lead == 0xE0U) {
                second_min = 0xA0U;
            } else if (lead == 0xEDU) {
                second_max = 0x9FU;
            }
        } else if (lead >= 0xF0U && lead <= 0xF4U) {
            length = 4;
            if (lead == 0xF0U) {
                second_min = 0x90U;
            } else if (lead == 0xF4U) {
                second_max = 0x8FU;
            }
        } else {
            return index;
        }
        if (index + length > size) {
            return index;
        }
        if (bytes[index + 1] < second_min || bytes[index + 1] > second_max) {
            return index;
        }
        for (std::size_t next = 2; next < length; ++next) {
            if (!is_continuation_byte(bytes[index + next])) {
                return index;
            }
        }
        index += length;
    }
    return std::nullopt;
}

}  // namespace metahog::sql
