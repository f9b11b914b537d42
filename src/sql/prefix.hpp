// Removal of a source's prefix (`pagila.film` → `film`) on the parse tree, with a position map back to the
// SQL the user submitted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace metahog::sql {

struct rewritten_sql {
    // One cut: `removed_chars` characters of the submitted text were removed just before the character at
    // 1-based `rewritten_position` of the rewritten text.
    struct cut {
        int rewritten_position = 1;
        int removed_chars = 0;
    };

    std::string sql;
    std::vector<cut> cuts;  // in text order

    // Maps a 1-based character position in `sql` (for instance from a server error) to the same character in
    // the submitted text. Positions below 1 are returned unchanged.
    int original_position(int rewritten_position) const noexcept;
};

// Removes the qualifier `prefix.` where the parser says it qualifies a table (a RangeVar: `pagila.film`,
// `"pagila".film`, `pagila . /* c */ film`, also `pagila.public.film` where the prefix stands in the catalog
// place) or a column (a ColumnRef of three or more parts: `pagila.film.title`, `pagila.film.*`). The same
// text anywhere else — a string, a comment, an alias, a function name `pagila.fn()`, a column `pagila.x` of a
// table named pagila — stays as it is. Identifiers follow Postgres: the prefix is matched as an unquoted
// identifier would be (lower-cased), so `"Pagila".film` is not the prefix `pagila`.
// Nothing is removed when `prefix` is empty or when it names a real schema of the source (`real_schemas`,
// exact catalog names): then `pagila.film` means that schema.
// Errors: invalid_input for a NUL byte or invalid UTF-8, query_failed (42601) for a syntax error.
result<rewritten_sql> strip_source_prefix(std::string_view sql, std::string_view prefix,
                                          const std::vector<std::string>& real_schemas);

}  // namespace metahog::sql
