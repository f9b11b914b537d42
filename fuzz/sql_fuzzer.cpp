// Fuzz target: users' SQL through the parser wall — sql::analyze with the default policy, sql::classify and
// sql::strip_source_prefix with the prefix `pagila` — checking what the query service relies on:
//   - accepted SQL is one SELECT/EXPLAIN whose tree, parsed again by libpg_query directly (a second check that
//     shares no code with the wall's walk), holds no other *Stmt node, no SELECT … INTO and no FOR UPDATE/SHARE;
//   - classify agrees with analyze on accepted SQL;
//   - every error position lies within the submitted text (1 … characters + 1);
//   - stripped SQL parses again, its cuts and position map stay in bounds and map each character back to the
//     same character, and SQL the wall accepted is still accepted after stripping;
//   - naming the prefix as a real schema strips nothing.
#include <pg_query.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>
#include <optional>
#include <cctype>

#include "sql/analyze.hpp"
#include "sql/policy.hpp"
#include "sql/positions.hpp"
#include "sql/prefix.hpp"

namespace {

using namespace metahog;

constexpr std::string_view prefix = "pagila";

[[noreturn]] void fail(const char* what, std::string_view sql) {
    std::fprintf(stderr, "invariant broken: %s\nSQL: %.*s\n", what, static_cast<int>(sql.size()), sql.data());
    std::abort();
}

const sql::query_policy& policy() {
    static const sql::query_policy defaults = sql::query_policy::defaults();
    return defaults;
}

// libpg_query's JSON tree of `text`, or nullopt on a syntax error. Call it only on text the wall has parsed
// already: libpg_query has no stack guard of its own (see sql/detail/parse_tree.hpp).
std::optional<std::string> parse_tree_json(const std::string& text) {
    PgQueryParseResult parsed = pg_query_parse(text.c_str());
    std::optional<std::string> tree;
    if (parsed.error == nullptr && parsed.parse_tree != nullptr) {
        tree = parsed.parse_tree;
    }
    pg_query_free_parse_result(parsed);
    return tree;
}

// The second check: scans the JSON text for node keys. Inside JSON strings every quote is escaped, so
// `Name":` only ever matches a key.
void check_read_only_tree(const std::string& tree, std::string_view sql) {
    std::size_t statements = 0;
    for (std::size_t at = tree.find("\"stmt\":"); at != std::string::npos; at = tree.find("\"stmt\":", at + 1)) {
        ++statements;
    }
    if (statements != 1) {
        fail("accepted SQL is not exactly one statement", sql);
    }
    for (std::size_t at = tree.find("Stmt\":"); at != std::string::npos; at = tree.find("Stmt\":", at + 1)) {
        std::size_t start = at;
        while (start > 0 && std::isalpha(static_cast<unsigned char>(tree[start - 1])) != 0) {
            --start;
        }
        const std::string_view name(tree.data() + start, at + 4 - start);
        if (name != "SelectStmt" && name != "ExplainStmt") {
            fail("accepted SQL contains a statement node other than SELECT/EXPLAIN", sql);
        }
    }
    for (const std::string_view key : {"\"intoClause\":", "\"lockingClause\":"}) {
        if (tree.find(key) != std::string::npos) {
            fail("accepted SQL contains SELECT INTO or a row lock", sql);
        }
    }
}

void check_position(const error& failure, std::string_view sql) {
    if (failure.position && (*failure.position < 1 || *failure.position > sql::char_count(sql) + 1)) {
        fail("an error position lies outside the SQL", sql);
    }
}

// Byte offset where each character starts, plus text.size() at the end.
std::vector<std::size_t> char_starts(std::string_view text) {
    std::vector<std::size_t> starts;
    for (std::size_t at = 0; at < text.size(); ++at) {
        if ((static_cast<unsigned char>(text[at]) & 0xc0) != 0x80) {
            starts.push_back(at);
        }
    }
    starts.push_back(text.size());
    return starts;
}

void check_rewrite(const sql::rewritten_sql& rewrite, std::string_view sql) {
    if (rewrite.cuts.empty()) {
        if (rewrite.sql != sql) {
            fail("SQL changed without a cut", sql);
        }
        return;
    }
    const auto original_starts = char_starts(sql);
    const auto rewritten_starts = char_starts(rewrite.sql);
    const int original_chars = static_cast<int>(original_starts.size()) - 1;
    const int rewritten_chars = static_cast<int>(rewritten_starts.size()) - 1;
    if (original_chars != sql::char_count(sql) || rewritten_chars != sql::char_count(rewrite.sql)) {
        fail("char_count disagrees with a plain count of UTF-8 lead bytes", sql);
    }
    int removed = 0;
    int last_position = 0;
    for (const auto& cut : rewrite.cuts) {
        if (cut.removed_chars <= 0 || cut.rewritten_position < last_position || cut.rewritten_position < 1 ||
            cut.rewritten_position > rewritten_chars + 1) {
            fail("a cut is out of order or out of bounds", sql);
        }
        last_position = cut.rewritten_position;
        removed += cut.removed_chars;
    }
    if (original_chars - removed != rewritten_chars) {
        fail("the cuts do not account for the removed characters", sql);
    }
    const std::string_view rewritten = rewrite.sql;
    int previous = 0;
    for (int position = 1; position <= rewritten_chars + 1; ++position) {
        const int original = rewrite.original_position(position);
        if (original <= previous || original > original_chars + 1) {
            fail("the position map is not increasing or leaves the SQL", sql);
        }
        previous = original;
        if (position > rewritten_chars) {
            break;
        }
        const auto index = static_cast<std::size_t>(position - 1);
        const auto source = static_cast<std::size_t>(original - 1);
        const auto here = rewritten.substr(rewritten_starts[index], rewritten_starts[index + 1] - rewritten_starts[index]);
        const auto there = sql.substr(original_starts[source], original_starts[source + 1] - original_starts[source]);
        if (here != there) {
            fail("the position map points at a different character", sql);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string sql(reinterpret_cast<const char*>(data), size);

    auto analyzed = sql::analyze(sql, policy());
    auto classified = sql::classify(sql);
    if (!classified) {
        check_position(classified.error(), sql);
    }
    if (!analyzed) {
        check_position(analyzed.error(), sql);
    } else {
        if (analyzed->kind != sql::statement_kind::query && analyzed->kind != sql::statement_kind::explain) {
            fail("analyze accepted a statement that is not a query", sql);
        }
        if (!classified || classified->kind != analyzed->kind) {
            fail("classify disagrees with analyze", sql);
        }
        const auto tree = parse_tree_json(sql);
        if (!tree) {
            fail("libpg_query rejects SQL the wall accepted", sql);
        }
        check_read_only_tree(*tree, sql);
    }

    auto stripped = sql::strip_source_prefix(sql, prefix, {});
    if (!stripped) {
        check_position(stripped.error(), sql);
        if (analyzed) {
            fail("the wall accepted SQL whose prefix cannot be stripped", sql);
        }
    } else {
        check_rewrite(*stripped, sql);
        if (!stripped->cuts.empty() && !parse_tree_json(stripped->sql)) {
            fail("the stripped SQL does not parse", sql);
        }
        if (analyzed) {
            auto again = sql::analyze(stripped->sql, policy());
            if (!again || again->kind != analyzed->kind) {
                fail("stripping the prefix turned accepted SQL into refused SQL", sql);
            }
        }
    }

    auto kept = sql::strip_source_prefix(sql, prefix, {std::string(prefix)});
    if (kept && (kept->sql != sql || !kept->cuts.empty())) {
        fail("a prefix that is a real schema was stripped", sql);
    }
    return 0;
}
