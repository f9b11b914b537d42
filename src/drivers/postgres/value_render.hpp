// Postgres values as the contract's "Values" section wants them: each value rendered as the server's own
// to_json() would render it, from the text the server sent (numbers bare with their exact digits,
// NaN/Infinity quoted, booleans, ISO-8601 timestamps, arrays parsed from the text array format, json
// embedded, composites as objects, everything else as its text). Pure functions and a per-result row renderer
// that allocates nothing per cell.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/rows.hpp"

namespace metahog::drivers::postgres {

using oid = std::uint32_t;

// How to_json() renders a type: json_categorize_type() in Postgres's json.c, after looking through domains.
// int2/int4/int8/float4/float8/numeric are numbers; oid and the other integer-like types are not.
enum class json_category : std::uint8_t {
    text,         // the text output as a JSON string (the default: enums, uuid, interval, bytea, time, ...)
    number,       // bare when the text is a JSON number, else a string ("NaN", "Infinity")
    boolean,      // true / false
    date,         // ISO text as a string (the same as to_json's XSD form)
    timestamp,    // "YYYY-MM-DDTHH:MM:SS[.ffffff]"
    timestamptz,  // the same with a "+HH:MM" offset
    json,         // json and jsonb: embedded as is
    array,        // a JSON array of the elements, nested for several dimensions
    composite,    // a JSON object of the attributes, in order
};

struct type_info;

struct type_attribute {
    std::string name;
    std::shared_ptr<const type_info> type;
};

// One type as the renderer and the `types` list need it. Immutable once built; shared between results.
struct type_info {
    oid type_oid = 0;
    // format_type(oid, NULL): "integer", "character varying", "timestamp with time zone", "mpaa_rating".
    std::string name;
    // pg_type.typcategory of the type itself ('N', 'S', 'A', 'U', ...).
    char category = 'U';
    // For domains, the base type's rendering: fields below describe the type being rendered.
    json_category rendering = json_category::text;
    // Arrays: the element type and its delimiter (',' for all but box, which uses ';').
    std::shared_ptr<const type_info> element;
    char delimiter = ',';
    // Composites: the live attributes in order (dropped ones excluded).
    std::vector<type_attribute> attributes;
};

// Appends the JSON form of one non-null value given as the server's text output. Text that does not have the
// shape its type promises (an anonymous record, a stale composite definition, a non-ISO DateStyle) is written
// as a JSON string of the text instead, so the output is always valid JSON.
void append_value_json(std::string& out, const type_info& type, std::string_view text);

// The JSON-string body (no quotes) of a timestamp's ISO text in to_json's form: 'T' between date and time and
// an offset with minutes ("+00" becomes "+00:00"). infinity and -infinity pass through.
void append_iso_timestamp(std::string& out, std::string_view text, bool with_time_zone);

// One value as libpq hands it over.
struct raw_value {
    const char* data = nullptr;
    std::size_t length = 0;
    bool is_null = true;
};

// Turns rows of one result into cells. Holds the per-row scratch that rendered values (arrays, timestamps,
// composites) live in; it is reused row after row, so once warm no cell costs an allocation.
class row_renderer {
public:
    // With `render_json` false only text and the null flag are filled in (for sinks that write text, like
    // CSV).
    explicit row_renderer(std::vector<std::shared_ptr<const type_info>> column_types,
                          bool render_json = true);
    row_renderer(row_renderer&&) noexcept = default;
    row_renderer& operator=(row_renderer&&) noexcept = default;
    row_renderer(const row_renderer&) = delete;
    row_renderer& operator=(const row_renderer&) = delete;

    // The cells stay valid until the next call and as long as the values' memory does.
    row_view render(std::span<const raw_value> values);

    std::size_t column_count() const noexcept { return types_.size(); }

private:
    std::vector<std::shared_ptr<const type_info>> types_;
    std::vector<cell> cells_;
    // Cells whose JSON lives in scratch_: their offsets, turned into views once the row is complete (scratch_
    // may move while it grows).
    std::vector<std::size_t> scratch_offsets_;
    std::string scratch_;
    bool render_json_ = true;
};

}  // namespace metahog::drivers::postgres
