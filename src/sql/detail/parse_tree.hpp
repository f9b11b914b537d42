// The parse tree and token stream of one SQL text as libpg_query gives them, in types the rest of
// metahog_sql can walk. Private to metahog_sql.
//
// Why the JSON tree (pg_query_parse) and not the protobuf one: Debian ships libpg_query without the
// protobuf-c headers its generated pg_query.pb-c.h needs, and the checks we make are generic walks over every
// node ("any FuncCall anywhere", "any *Stmt below the top"), which a JSON object model expresses in a few
// lines without generated per-node code. Locations are the same byte offsets in both forms.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace metahog::sql::detail {

// Refuses text that cannot be handed to the parser as it is: a NUL byte would silently cut the C string short
// (so the server would run more than we checked), and the parser, like MetaHog's positions, assumes UTF-8.
result<void> check_text(std::string_view sql);

struct token {
    std::size_t start = 0;  // byte offsets into the text, end exclusive
    std::size_t end = 0;
    bool keyword = false;  // a keyword of any category (reserved or not)
};

class parse_tree {
public:
    parse_tree(parse_tree&&) noexcept;
    parse_tree& operator=(parse_tree&&) noexcept;
    parse_tree(const parse_tree&) = delete;
    parse_tree& operator=(const parse_tree&) = delete;
    ~parse_tree();

    // [{"stmt": {"SelectStmt": {...}}, "stmt_location": byte offset, "stmt_len": bytes (0: to the end)}, ...]
    const boost::json::array& statements() const noexcept;
    // The scanner's tokens, comments included, in text order.
    const std::vector<token>& tokens() const noexcept;

private:
    friend result<parse_tree> parse(const std::string& sql);
    struct storage;
    explicit parse_tree(std::unique_ptr<storage> stored) noexcept;
    std::unique_ptr<storage> storage_;
};

// Scans and parses `sql` (already through check_text). A syntax error comes back as query_failed, SQLSTATE
// 42601, the parser's message and its 1-based character position, as the server itself would report it.
// SQL nested too deeply for the calling thread's stack is refused (statement_refused) before the parser sees
// it: libpg_query 15-4 walks its tree recursively without a stack guard, so `select x+x+…+x` with 100,000
// terms would otherwise crash the process.
result<parse_tree> parse(const std::string& sql);

// pg_query_fingerprint as 16 hex digits: the same for queries that differ only in constants and layout.
// Call it only on text parse() accepted on this thread (the nesting check protects it too).
result<std::string> fingerprint(const std::string& sql);
bool is_comment(std::string_view sql, const token& t) noexcept;
std::string_view text_of(std::string_view sql, const token& t) noexcept;
// Index of the first token at or after byte `offset` that is not a comment, or tokens.size().
std::size_t first_token_at_or_after(std::string_view sql, const std::vector<token>& tokens,
                                    std::size_t offset);

// One node of the tree: its type name ("FuncCall") and its fields.
struct node_view {
    std::string_view type;
    const boost::json::object* fields = nullptr;
};

// {"FuncCall": {...}} → the node; anything else → nullopt.
std::optional<node_view> unwrap(const boost::json::value& wrapped);

// Visits every node below `root` (root included) in document order. Iterative: the trees of deeply nested SQL
// are deeper than a recursive walk should go. Wrapped nodes are reported by their wrapper key; nodes stored
// in typed fields without a wrapper (the RangeVar in InsertStmt.relation or IntoClause.rel, the FuncCall in
// CallStmt.funccall) are recognised by their shape and reported as "RangeVar" and "FuncCall".
void for_each_node(const boost::json::value& root, const std::function<void(node_view)>& visit);

// Field readers. libpg_query leaves out fields that hold 0, false, "" or NULL, so absence means that.
std::string_view string_field(const boost::json::object& fields, std::string_view key);
long long int_field(const boost::json::object& fields, std::string_view key);
bool bool_field(const boost::json::object& fields, std::string_view key);
const boost::json::array* array_field(const boost::json::object& fields, std::string_view key);
const boost::json::object* object_field(const boost::json::object& fields, std::string_view key);
// The node's "location" as a byte offset; nullopt when the parser recorded none (-1).
std::optional<std::size_t> location_of(const boost::json::object& fields);
// A list of String nodes ([{"String": {"sval": "pg_catalog"}}, ...]) → ["pg_catalog", ...]; any other
// element (A_Star) ends the list with a "*".
std::vector<std::string> string_list(const boost::json::array* list);
// The string value of an A_Const string literal node, or nullopt for any other node.
std::optional<std::string_view> string_literal(const boost::json::value& wrapped);

}  // namespace metahog::sql::detail
