// Engine-independent rows: column metadata, a non-owning view of one cell in both of its renderings (JSON for
// responses, plain text for CSV), and the row_sink interface through which drivers stream rows into encoders.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace metahog {

struct column_info {
    // Kept exactly as the database named it: several columns may share a name ("SELECT 1 AS a, 2 AS a").
    std::string name;
    // The database's own type name, from its catalog ("integer", "character varying", "mpaa_rating").
    std::string type_name;
    // Engine-specific type identity (the Postgres OID) and modifier; 0 and -1 when the engine has none.
    std::uint32_t type_id = 0;
    std::int32_t type_modifier = -1;
};

// How a cell's `json` text becomes JSON.
enum class json_form : std::uint8_t {
    null,      // SQL NULL: `null` in JSON, an empty unquoted field in CSV
    string,    // `json` is raw text that the encoder escapes into a JSON string
    verbatim,  // `json` is already valid JSON (a number, true/false, embedded json, a rendered array/object)
};

// One value of one row. Both views point into memory the driver owns until the next row is produced (the
// driver's result buffer or its per-row scratch), so the hot path allocates nothing per cell.
struct cell {
    // The database's text output of the value (what COPY … CSV writes); empty for NULL.
    std::string_view text;
    // The value as the contract's "Values" section wants it, interpreted through `form`.
    std::string_view json;
    json_form form = json_form::null;

    bool is_null() const noexcept { return form == json_form::null; }
};

using row_view = std::span<const cell>;

// How a stream of rows ended, as the producer (the driver) saw it.
struct stream_end {
    // True when the source had no more rows; false when the sink stopped it early or it failed.
    bool source_exhausted = false;
    // Time from sending the statement to its last row (or its failure), in milliseconds.
    double execution_time_ms = 0;
    // Set when the statement failed after on_columns (rows already delivered stay delivered).
    std::optional<error> failure;
};

// Receives one result set. Calls come in order: on_columns once, on_row zero or more times, on_end once —
// on_end also after a failure or an early stop. Implementations are not thread-safe; one stream at a time.
class row_sink {
public:
    row_sink() = default;
    row_sink(const row_sink&) = delete;
    row_sink& operator=(const row_sink&) = delete;
    virtual ~row_sink() = default;

    // Returns false to stop before any row is read (the consumer went away).
    [[nodiscard]] virtual bool on_columns(std::span<const column_info> columns) = 0;
    // Returns whether to continue; false once a cap is reached or the consumer went away. The row's views
    // are valid only during the call.
    [[nodiscard]] virtual bool on_row(row_view row) = 0;
    virtual void on_end(const stream_end& end) = 0;

    // False when the sink reads only `cell.text` (CSV): the driver may then skip rendering JSON, and `json`
    // and `form` carry nothing but the null flag.
    virtual bool wants_json() const noexcept { return true; }
};

}  // namespace metahog
