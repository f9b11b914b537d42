// Source prefix removal on the parse tree: the tree says where a qualifier is, the scanner says which bytes
// spell it (identifier, comments, dot), and only those bytes are cut.
#include "sql/prefix.hpp"

#include <algorithm>
#include <set>

#include "sql/detail/parse_tree.hpp"
#include "sql/positions.hpp"

namespace metahog::sql {

namespace {

// How Postgres folds an unquoted identifier: ASCII letters only (downcase_identifier under UTF-8).
std::string fold_identifier(std::string_view identifier) {
    std::string folded(identifier);
    std::transform(folded.begin(), folded.end(), folded.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return folded;
}

// Byte offsets where a qualifier equal to `prefix` starts, per the tree.
std::set<std::size_t> qualifier_locations(const boost::json::array& statements, const std::string& prefix) {
    std::set<std::size_t> locations;
    for (const auto& statement : statements) {
        detail::for_each_node(statement, [&](detail::node_view node) {
            const auto location = detail::location_of(*node.fields);
            if (!location) {
                return;
            }
            if (node.type == "RangeVar") {
                // The location is that of the first name part, which is the one we remove.
                const std::string_view catalog = detail::string_field(*node.fields, "catalogname");
                const std::string_view schema = detail::string_field(*node.fields, "schemaname");
                if ((!catalog.empty() && catalog == prefix) || (catalog.empty() && schema == prefix)) {
                    locations.insert(*location);
                }
            } else if (node.type == "ColumnRef") {
                // Two parts (`pagila.title`) are a table or alias named like the prefix; three or more put
                // the prefix where a schema (or catalog) goes.
                const auto fields = detail::string_list(detail::array_field(*node.fields, "fields"));
                if (fields.size() >= 3 && fields.front() == prefix) {
                    locations.insert(*location);
                }
            }
        });
    }
    return locations;
}

}  // namespace

int rewritten_sql::original_position(int rewritten_position) const noexcept {
    if (rewritten_position < 1) {
        return rewritten_position;
    }
    int original = rewritten_position;
    for (const auto& removed : cuts) {
        if (removed.rewritten_position <= rewritten_position) {
            original += removed.removed_chars;
        }
    }
    return original;
}

result<rewritten_sql> strip_source_prefix(std::string_view sql_view, std::string_view prefix,
                                          const std::vector<std::string>& real_schemas) {
    if (auto checked = detail::check_text(sql_view); !checked) {
        return std::move(checked).error();
    }
    rewritten_sql rewritten;
    const std::string folded_prefix = fold_identifier(prefix);
    if (prefix.empty() ||
        std::find(real_schemas.begin(), real_schemas.end(), folded_prefix) != real_schemas.end()) {
        rewritten.sql = std::string(sql_view);
        return rewritten;
    }
    const std::string sql(sql_view);
    auto tree = detail::parse(sql);
    if (!tree) {
        return std::move(tree).error();
    }
    const auto locations = qualifier_locations(tree->statements(), folded_prefix);
    if (locations.empty()) {
        rewritten.sql = sql;
        return rewritten;
    }
    const auto* tokens = &tree->tokens();

    // Each cut runs from the qualifier's first byte to the end of the dot after it, taking any comments and
    // whitespace in between; what follows the dot stays.
    std::vector<std::pair<std::size_t, std::size_t>> byte_cuts;
    for (const std::size_t location : locations) {
        const auto qualifier =
            std::lower_bound(tokens->begin(), tokens->end(), location,
                             [](const detail::token& t, std::size_t wanted) { return t.start < wanted; });
        if (qualifier == tokens->end() || qualifier->start != location) {
            return make_error(error_code::internal, "the SQL scanner and parser disagree about a table name");
        }
        const std::size_t dot = detail::first_token_at_or_after(sql, *tokens, qualifier->end);
        if (dot == tokens->size() || detail::text_of(sql, (*tokens)[dot]) != ".") {
            return make_error(error_code::internal, "the SQL scanner and parser disagree about a table name");
        }
        byte_cuts.emplace_back(location, (*tokens)[dot].end);
    }

    std::size_t copied_until = 0;
    int rewritten_chars = 0;
    for (const auto& [begin, end] : byte_cuts) {
        const std::string_view kept = std::string_view(sql).substr(copied_until, begin - copied_until);
        rewritten.sql += kept;
        rewritten_chars += char_count(kept);
        rewritten.cuts.push_back(
            {rewritten_chars + 1, char_count(std::string_view(sql).substr(begin, end - begin))});
        copied_until = end;
    }
    rewritten.sql += std::string_view(sql).substr(copied_until);
    return rewritten;
}

}  // namespace metahog::sql
