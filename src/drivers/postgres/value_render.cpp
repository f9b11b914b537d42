// Rendering Postgres text output as to_json() would: the text array format (array_out) and record format
// (record_out) are parsed here, so arrays and composites become JSON without a second trip to the server.
#include "drivers/postgres/value_render.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "encoding/json_text.hpp"

namespace metahog::drivers::postgres {
namespace {

using encoding::append_json_string;
using encoding::is_json_number;

// Arrays have at most 6 dimensions, but composites and arrays may nest through each other; past this the
// value is written as text rather than risk the stack.
constexpr int max_depth = 32;

// Unquoted, unescaped element and field texts, one buffer per nesting depth: the element being rendered at
// depth d lives in buffers[d] while deeper elements use deeper buffers. thread_local because rendering never
// suspends, and it keeps the buffers' capacity from row to row.
thread_local std::array<std::string, max_depth> unescape_buffers;

bool is_digit(char character) noexcept {
    return character >= '0' && character <= '9';
}

bool equals_null_ignoring_case(std::string_view token) noexcept {
    if (token.size() != 4) {
        return false;
    }
    constexpr std::string_view upper = "NULL";
    for (std::size_t index = 0; index < 4; ++index) {
        const char character = token[index];
        const char folded =
            character >= 'a' && character <= 'z' ? static_cast<char>(character - 32) : character;
        if (folded != upper[index]) {
            return false;
        }
    }
    return true;
}

bool render(std::string& out, const type_info& type, std::string_view text, int depth);

// Renders one array element or composite field, falling back to a JSON string of its text.
void render_or_text(std::string& out, const type_info* type, std::string_view text, int depth) {
    if (type == nullptr || !render(out, *type, text, depth)) {
        append_json_string(out, text);
    }
}

// One level of array_out's text: "{a,b,{c,d}}" with quoted elements ("a b", "x\"y") and unquoted NULL.
bool render_array_level(std::string& out, const type_info& element, char delimiter, std::string_view text,
                        std::size_t& position, int depth) {
    if (position >= text.size() || text[position] != '{') {
        return false;
    }
    ++position;
    out.push_back('[');
    if (position < text.size() && text[position] == '}') {
        ++position;
        out.push_back(']');
        return true;
    }
    std::string& buffer = unescape_buffers[depth];
    for (bool first = true;; first = false) {
        if (position >= text.size()) {
            return false;
        }
        if (!first) {
            out.push_back(',');
        }
        if (text[position] == '{') {
            if (!render_array_level(out, element, delimiter, text, position, depth)) {
                return false;
            }
        } else if (text[position] == '"') {
            buffer.clear();
            ++position;
            while (position < text.size() && text[position] != '"') {
                if (text[position] == '\\') {
                    ++position;
                    if (position >= text.size()) {
                        return false;
                    }
                }
                buffer.push_back(text[position]);
                ++position;
            }
            if (position >= text.size()) {
                return false;
            }
            ++position;  // the closing quote
            render_or_text(out, &element, buffer, depth + 1);
        } else {
            const std::size_t start = position;
            while (position < text.size() && text[position] != delimiter && text[position] != '}') {
                ++position;
            }
            const std::string_view token = text.substr(start, position - start);
            if (equals_null_ignoring_case(token)) {
                out.append("null");
            } else {
                render_or_text(out, &element, token, depth + 1);
            }
        }
        if (position >= text.size()) {
            return false;
        }
        if (text[position] == delimiter) {
            ++position;
            continue;
        }
        if (text[position] == '}') {
            ++position;
            out.push_back(']');
            return true;
        }
        return false;
    }
}

bool render_array(std::string& out, const type_info& type, std::string_view text, int depth) {
    if (!type.element) {
        return false;
    }
    // Arrays whose lower bounds are not 1 start with their dimensions ("[2:3]={1,2}"); to_json ignores them.
    if (!text.empty() && text[0] == '[') {
        const std::size_t equals = text.find('=');
        if (equals == std::string_view::npos) {
            return false;
        }
        text.remove_prefix(equals + 1);
    }
    if (!text.empty() && text[0] == '{') {
        std::size_t position = 0;
        return render_array_level(out, *type.element, type.delimiter, text, position, depth) &&
               position == text.size();
    }
    // int2vector and oidvector print their elements separated by spaces, without braces.
    out.push_back('[');
    bool first = true;
    std::size_t position = 0;
    while (position < text.size()) {
        const std::size_t end = std::min(text.find(' ', position), text.size());
        if (end > position) {
            if (!first) {
                out.push_back(',');
            }
            first = false;
            render_or_text(out, type.element.get(), text.substr(position, end - position), depth + 1);
        }
        position = end + 1;
    }
    out.push_back(']');
    return true;
}

// record_out's text: "(1,abc,,"x ""y""")" — an empty unquoted field is NULL, quotes double inner quotes and
// backslashes (record_in also accepts backslash escapes, in and out of quotes).
bool render_composite(std::string& out, const type_info& type, std::string_view text, int depth) {
    if (type.attributes.empty() || text.size() < 2 || text.front() != '(') {
        return false;
    }
    std::string& buffer = unescape_buffers[depth];
    std::size_t position = 1;
    out.push_back('{');
    for (std::size_t index = 0; index < type.attributes.size(); ++index) {
        if (index > 0) {
            if (position >= text.size() || text[position] != ',') {
                return false;
            }
            ++position;
            out.push_back(',');
        }
        buffer.clear();
        bool quoted = false;
        bool in_quotes = false;
        while (position < text.size()) {
            const char character = text[position];
            if (!in_quotes && (character == ',' || character == ')')) {
                break;
            }
            if (character == '\\') {
                if (position + 1 >= text.size()) {
                    return false;
                }
                buffer.push_back(text[position + 1]);
                position += 2;
            } else if (character == '"' && in_quotes && position + 1 < text.size() &&
                       text[position + 1] == '"') {
                buffer.push_back('"');
                position += 2;
            } else if (character == '"') {
                in_quotes = !in_quotes;
                quoted = true;
                ++position;
            } else {
                buffer.push_back(character);
                ++position;
            }
        }
        if (in_quotes) {
            return false;
        }
        const type_attribute& attribute = type.attributes[index];
        append_json_string(out, attribute.name);
        out.push_back(':');
        if (!quoted && buffer.empty()) {
            out.append("null");
        } else {
            render_or_text(out, attribute.type.get(), buffer, depth + 1);
        }
    }
    if (position + 1 != text.size() || text[position] != ')') {
        return false;  // more or fewer fields than the catalog says: a changed type, rendered as text
    }
    out.push_back('}');
    return true;
}

// Appends the value's JSON; false (with `out` possibly extended) when the text has an unexpected shape.
bool render(std::string& out, const type_info& type, std::string_view text, int depth) {
    if (depth >= max_depth) {
        return false;
    }
    const std::size_t mark = out.size();
    bool rendered = true;
    switch (type.rendering) {
        case json_category::text:
        case json_category::date:
            append_json_string(out, text);
            break;
        case json_category::number:
            if (is_json_number(text)) {
                out.append(text);
            } else {
                append_json_string(out, text);
            }
            break;
        case json_category::boolean:
            if (text == "t") {
                out.append("true");
            } else if (text == "f") {
                out.append("false");
            } else {
                rendered = false;
            }
            break;
        case json_category::timestamp:
        case json_category::timestamptz:
            out.push_back('"');
            append_iso_timestamp(out, text, type.rendering == json_category::timestamptz);
            out.push_back('"');
            break;
        case json_category::json:
            out.append(text);
            break;
        case json_category::array:
            rendered = render_array(out, type, text, depth);
            break;
        case json_category::composite:
            rendered = render_composite(out, type, text, depth);
            break;
    }
    if (!rendered) {
        out.resize(mark);
    }
    return rendered;
}

}  // namespace

void append_value_json(std::string& out, const type_info& type, std::string_view text) {
    render_or_text(out, &type, text, 0);
}

void append_iso_timestamp(std::string& out, std::string_view text, bool with_time_zone) {
    const std::size_t space = text.find(' ');
    if (text.empty() || !is_digit(text[0]) || space == std::string_view::npos) {
        out.append(text);  // infinity, -infinity
        return;
    }
    out.append(text.substr(0, space));
    out.push_back('T');
    const std::string_view rest = text.substr(space + 1);
    if (!with_time_zone) {
        out.append(rest);
        return;
    }
    // "HH:MM:SS[.ffffff]±HH[:MM[:SS]][ BC]": to_json always writes the minutes of the offset.
    const std::size_t sign = rest.find_first_of("+-");
    if (sign == std::string_view::npos) {
        out.append(rest);
        return;
    }
    std::size_t digits_end = sign + 1;
    while (digits_end < rest.size() && is_digit(rest[digits_end])) {
        ++digits_end;
    }
    out.append(rest.substr(0, digits_end));
    if (digits_end == rest.size() || rest[digits_end] == ' ') {
        out.append(":00");
    }
    out.append(rest.substr(digits_end));
}

row_renderer::row_renderer(std::vector<std::shared_ptr<const type_info>> column_types, bool render_json)
    : types_(std::move(column_types)),
      cells_(types_.size()),
      scratch_offsets_(types_.size() * 2),
      render_json_(render_json) {
    scratch_.reserve(1024);
}

row_view row_renderer::render(std::span<const raw_value> values) {
    constexpr std::size_t not_in_scratch = std::numeric_limits<std::size_t>::max();
    if (!render_json_) {
        for (std::size_t index = 0; index < types_.size(); ++index) {
            const raw_value& value = values[index];
            cells_[index] = value.is_null
                                ? cell{}
                                : cell{std::string_view(value.data, value.length),
                                       std::string_view(value.data, value.length), json_form::string};
        }
        return cells_;
    }
    scratch_.clear();
    bool any_in_scratch = false;
    const std::size_t count = types_.size();
    for (std::size_t index = 0; index < count; ++index) {
        const raw_value& value = values[index];
        cell& target = cells_[index];
        scratch_offsets_[2 * index] = not_in_scratch;
        if (value.is_null) {
            target = cell{};
            continue;
        }
        const std::string_view text(value.data, value.length);
        const type_info& type = *types_[index];
        target.text = text;
        target.json = text;
        switch (type.rendering) {
            case json_category::text:
            case json_category::date:
                target.form = json_form::string;
                break;
            case json_category::number:
                target.form = is_json_number(text) ? json_form::verbatim : json_form::string;
                break;
            case json_category::json:
                target.form = json_form::verbatim;
                break;
            case json_category::boolean:
                target.form = json_form::verbatim;
                target.json = text == "t" ? std::string_view("true") : std::string_view("false");
                if (text != "t" && text != "f") {
                    target.json = text;
                    target.form = json_form::string;
                }
                break;
            case json_category::timestamp:
            case json_category::timestamptz:
                target.form = json_form::string;
                scratch_offsets_[2 * index] = scratch_.size();
                append_iso_timestamp(scratch_, text, type.rendering == json_category::timestamptz);
                scratch_offsets_[2 * index + 1] = scratch_.size();
                any_in_scratch = true;
                break;
            case json_category::array:
            case json_category::composite:
                target.form = json_form::verbatim;
                scratch_offsets_[2 * index] = scratch_.size();
                append_value_json(scratch_, type, text);
                scratch_offsets_[2 * index + 1] = scratch_.size();
                any_in_scratch = true;
                break;
        }
    }
    if (any_in_scratch) {
        for (std::size_t index = 0; index < count; ++index) {
            const std::size_t start = scratch_offsets_[2 * index];
            if (start != not_in_scratch) {
                cells_[index].json =
                    std::string_view(scratch_).substr(start, scratch_offsets_[2 * index + 1] - start);
            }
        }
    }
    return cells_;
}

}  // namespace metahog::drivers::postgres
