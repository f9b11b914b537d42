// JSON string escaping with UTF-8 repair, number validation and number formatting for the encoders.
#include "encoding/json_text.hpp"

#include <array>
#include <charconv>
#include <cstdint>

namespace metahog::encoding {
namespace {

// 0: copied as is; 1: needs an escape; 2: first byte of a multi-byte (or invalid) UTF-8 sequence.
constexpr std::array<std::uint8_t, 256> make_byte_classes() {
    std::array<std::uint8_t, 256> classes{};
    for (int byte = 0; byte < 0x20; ++byte) {
        classes[byte] = 1;
    }
    classes['"'] = 1;
    classes['\\'] = 1;
    for (int byte = 0x80; byte < 0x100; ++byte) {
        classes[byte] = 2;
    }
    return classes;
}

constexpr std::array<std::uint8_t, 256> byte_classes = make_byte_classes();

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence starting at text[index], or 0 when it is invalid (overlong forms,
// surrogates and code points past U+10FFFF included), following the Unicode table of well-formed sequences.
std::size_t valid_utf8_length(std::string_view text, std::size_t index) noexcept {
    const auto byte_at = [&](std::size_t offset) -> unsigned {
        return index + offset < text.size() ? static_cast<unsigned char>(text[index + offset]) : 0x100U;
    };
    const auto continuation = [](unsigned byte) { return byte >= 0x80 && byte <= 0xBF; };
    const unsigned lead = byte_at(0);
    if (lead >= 0xC2 && lead <= 0xDF) {
        return continuation(byte_at(1)) ? 2 : 0;
    }
    if (lead >= 0xE0 && lead <= 0xEF) {
        const unsigned second = byte_at(1);
        const unsigned low = lead == 0xE0 ? 0xA0 : 0x80;
        const unsigned high = lead == 0xED ? 0x9F : 0xBF;
        return second >= low && second <= high && continuation(byte_at(2)) ? 3 : 0;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        const unsigned second = byte_at(1);
        const unsigned low = lead == 0xF0 ? 0x90 : 0x80;
        const unsigned high = lead == 0xF4 ? 0x8F : 0xBF;
        return second >= low && second <= high && continuation(byte_at(2)) && continuation(byte_at(3)) ? 4
                                                                                                       : 0;
    }
    return 0;
}

void append_escape(std::string& out, unsigned char byte) {
    switch (byte) {
        case '"':
            out.append("\\\"");
            return;
        case '\\':
            out.append("\\\\");
            return;
        case '\b':
            out.append("\\b");
            return;
        case '\f':
            out.append("\\f");
            return;
        case '\n':
            out.append("\\n");
            return;
        case '\r':
            out.append("\\r");
            return;
        case '\t':
            out.append("\\t");
            return;
        default: {
            constexpr std::string_view hex = "0123456789abcdef";
            const char escaped[6] = {'\\', 'u', '0', '0', hex[byte >> 4], hex[byte & 0xF]};
            out.append(escaped, sizeof escaped);
            return;
        }
    }
}

}  // namespace

void append_json_string_body(std::string& out, std::string_view text) {
    std::size_t run_start = 0;
    std::size_t index = 0;
    const std::size_t size = text.size();
    while (index < size) {
        const auto byte = static_cast<unsigned char>(text[index]);
        const std::uint8_t byte_class = byte_classes[byte];
        if (byte_class == 0) {
            ++index;
            continue;
        }
        if (byte_class == 2) {
            const std::size_t length = valid_utf8_length(text, index);
            if (length != 0) {
                index += length;
                continue;
            }
            out.append(text.data() + run_start, index - run_start);
            out.append(replacement_character);
            ++index;
            run_start = index;
            continue;
        }
        out.append(text.data() + run_start, index - run_start);
        append_escape(out, byte);
        ++index;
        run_start = index;
    }
    out.append(text.data() + run_start, size - run_start);
}

void append_json_string(std::string& out, std::string_view text) {
    out.push_back('"');
    append_json_string_body(out, text);
    out.push_back('"');
}

bool is_json_number(std::string_view text) noexcept {
    std::size_t index = 0;
    const std::size_t size = text.size();
    const auto digit_at = [&](std::size_t at) { return at < size && text[at] >= '0' && text[at] <= '9'; };
    if (index < size && text[index] == '-') {
        ++index;
    }
    if (!digit_at(index)) {
        return false;
    }
    if (text[index] == '0') {
        ++index;
    } else {
        while (digit_at(index)) {
            ++index;
        }
    }
    if (index < size && text[index] == '.') {
        ++index;
        if (!digit_at(index)) {
            return false;
        }
        while (digit_at(index)) {
            ++index;
        }
    }
    if (index < size && (text[index] == 'e' || text[index] == 'E')) {
        ++index;
        if (index < size && (text[index] == '+' || text[index] == '-')) {
            ++index;
        }
        if (!digit_at(index)) {
            return false;
        }
        while (digit_at(index)) {
            ++index;
        }
    }
    return index == size;
}

void append_fixed(std::string& out, double value, int decimals) {
    char buffer[64];
    const auto [end, failure] =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, decimals);
    if (failure != std::errc{}) {
        out.push_back('0');  // only for absurd magnitudes, which a timing never has
        return;
    }
    out.append(buffer, end);
}

void append_unsigned(std::string& out, unsigned long long value) {
    char buffer[24];
    const auto [end, failure] = std::to_chars(buffer, buffer + sizeof buffer, value);
    (void)failure;  // 24 characters always hold a 64-bit value
    out.append(buffer, end);
}

}  // namespace metahog::encoding
