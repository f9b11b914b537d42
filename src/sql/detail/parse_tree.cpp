// Reads libpg_query's parse tree (JSON), token stream (protobuf) and fingerprint into owned C++ values.
//
// Thread safety: libpg_query may be called from several threads at once. Each thread gets its own Postgres
// memory contexts and error state: in libpg_query 15-4 TopMemoryContext, CurrentMemoryContext, ErrorContext,
// the elog error stack, the scanner's settings and pg_query_initialized are all `__thread` variables (checked
// with readelf on the installed libpg_query.a, where they are TLS symbols), pg_query_init() runs once per
// thread on first use (changelog 9.5-1.4.1: "automatically call pg_query_init as needed to ease threaded
// usage"), and a pthread key frees a thread's top context when the thread exits. Every result we get is
// plain malloc'ed memory freed by its pg_query_free_* call, so a result may even be freed on another thread.
// sql_test runs the wall from several threads at once to keep this true.
#include "sql/detail/parse_tree.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <cstdint>

#include "sql/detail/pg_query_guard.hpp"
#include "sql/positions.hpp"

namespace metahog::sql::detail {

namespace {

// Boost.JSON's parser recurses once per nesting level of the tree's JSON: about 100 bytes of stack per level,
// measured on Boost 1.81 with and without AddressSanitizer. The depth we allow follows the stack we have,
// within these bounds (20,000 levels: 10,000 chained operators or 2,500 nested subqueries).
constexpr std::size_t json_stack_bytes_per_level = 160;
constexpr std::size_t min_json_depth = 64;
constexpr std::size_t max_json_depth = 20000;

// Stack the parser may use per unit of nesting_units() (below). Measured on libpg_query 15-4 with a 1 MiB
// stack: a chain of `+x` crashes at about 10,000 units (~100 bytes each), nested subqueries at about 3,000
// levels of 4 units (~90 bytes each). 256 leaves a wide margin, also for our sanitizer builds.
constexpr std::size_t stack_bytes_per_unit = 256;
// When the thread cannot tell its stack size: Postgres's own default max_stack_depth.
constexpr std::size_t assumed_stack_bytes = 2U * 1024U * 1024U;

// Bytes of stack left below this frame on the calling thread. glibc answers for the main thread too.
std::size_t remaining_stack_bytes() {
    pthread_attr_t attributes;
    if (pthread_getattr_np(pthread_self(), &attributes) != 0) {
        return assumed_stack_bytes;
    }
    void* lowest = nullptr;
    std::size_t size = 0;
    const int status = pthread_attr_getstack(&attributes, &lowest, &size);
    pthread_attr_destroy(&attributes);
    if (status != 0 || lowest == nullptr) {
        return assumed_stack_bytes;
    }
    // The frame address, not a local's: sanitizers may move locals to a heap-allocated fake stack.
    const auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    const auto bottom = reinterpret_cast<std::uintptr_t>(lowest);
    return here > bottom ? static_cast<std::size_t>(here - bottom) : 0;
}

bool equals_ignoring_case(std::string_view text, std::string_view lower) noexcept {
    if (text.size() != lower.size()) {
        return false;
    }
    for (std::size_t index = 0; index < text.size(); ++index) {
        const char c = text[index];
        if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != lower[index]) {
            return false;
        }
    }
    return true;
}

bool is_operator_text(std::string_view text) noexcept {
    return !text.empty() && text.find_first_not_of("+-*/<>=~!@#%^&|`?") == std::string_view::npos;
}

// An upper bound, from tokens alone, of how deep the parse tree (and so libpg_query's recursion) can get:
// every bracket opens a level (4 units: a subquery is several nodes deep); within a level, every operator or
// operator-like keyword may nest the expression one deeper (left-deep chains like `x+x+x`, `x::int::int`,
// `x is null is null`, `not not x`), until a comma starts a sibling expression; UNION/INTERSECT/EXCEPT and
// JOIN chains nest their whole level. Comparisons are not counted: Postgres does not let them chain without
// brackets. AND/OR are not counted: the parser flattens their chains into one node.
std::size_t nesting_units(std::string_view sql, const std::vector<token>& tokens) {
    static constexpr std::array<std::string_view, 7> comparisons{"=", "<", ">", "<=", ">=", "<>", "!="};
    static constexpr std::array<std::string_view, 19> expression_keywords{
        "not", "is",   "isnull",   "notnull",  "collate", "at",  "like", "ilike", "similar", "between",
        "in",  "case", "operator", "overlaps", "escape",  "any", "all",  "some",  "exists"};
    static constexpr std::array<std::string_view, 4> structural_keywords{"union", "intersect", "except",
                                                                         "join"};
    constexpr std::size_t bracket_units = 4;

    struct level {
        std::size_t expression = 0;
        std::size_t structural = 0;
    };
    std::vector<level> levels(1);
    std::size_t total = 0;
    std::size_t deepest = 0;
    for (const token& t : tokens) {
        const std::string_view text = sql.substr(t.start, t.end - t.start);
        if (text == "(" || text == "[") {
            levels.emplace_back();
            total += bracket_units;
        } else if (text == ")" || text == "]") {
            if (levels.size() > 1) {
                total -= bracket_units + levels.back().expression + levels.back().structural;
                levels.pop_back();
            }
        } else if (text == ",") {
            total -= levels.back().expression;
            levels.back().expression = 0;
        } else if (text == "::" ||
                   (is_operator_text(text) &&
                    std::find(comparisons.begin(), comparisons.end(), text) == comparisons.end())) {
            ++levels.back().expression;
            ++total;
        } else if (t.keyword) {
            const auto matches = [&](std::string_view word) { return equals_ignoring_case(text, word); };
            if (std::any_of(expression_keywords.begin(), expression_keywords.end(), matches)) {
                ++levels.back().expression;
                ++total;
            } else if (std::any_of(structural_keywords.begin(), structural_keywords.end(), matches)) {
                ++levels.back().structural;
                ++total;
            }
        }
        deepest = std::max(deepest, total);
    }
    return deepest;
}

result<std::vector<token>> scan(const std::string& sql);

error syntax_error(const PgQueryError& parser_error) {
    error e = make_error(error_code::query_failed,
                         parser_error.message != nullptr ? parser_error.message : "syntax error");
    // libpg_query does not pass the SQLSTATE through; every error its raw parser raises is a syntax error
    // (42601) apart from a few rarer 22xxx/0A000 conditions, so report the class users expect.
    e.sqlstate = "42601";
    // cursorpos is already a 1-based character position: the scanner converts with pg_mbstrlen_with_len under
    // the UTF-8 database encoding libpg_query sets, exactly as the server does.
    if (parser_error.cursorpos > 0) {
        e.position = parser_error.cursorpos;
    }
    return e;
}

// A minimal reader of the protobuf wire format, for pg_query_scan's ScanResult only: the generated protobuf-c
// code is not installed (see parse_tree.hpp), and the message is two levels of varints.
class wire_reader {
public:
    wire_reader(const std::uint8_t* data, std::size_t size) noexcept : data_(data), end_(data + size) {}

    bool at_end() const noexcept { return data_ == end_; }

    bool read_varint(std::uint64_t& value) noexcept {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (data_ == end_) {
                return false;
            }
            const std::uint8_t byte = *data_++;
            value |= static_cast<std::uint64_t>(byte & 0x7FU) << shift;
            if ((byte & 0x80U) == 0) {
                return true;
            }
        }
        return false;
    }

    // Reads one field header and hands back its number and wire type.
    bool read_tag(std::uint64_t& field, std::uint64_t& wire_type) noexcept {
        std::uint64_t tag = 0;
        if (!read_varint(tag)) {
            return false;
        }
        field = tag >> 3U;
        wire_type = tag & 7U;
        return true;
    }

    bool read_bytes(const std::uint8_t*& bytes, std::size_t& size) noexcept {
        std::uint64_t length = 0;
        if (!read_varint(length) || length > static_cast<std::uint64_t>(end_ - data_)) {
            return false;
        }
        bytes = data_;
        size = static_cast<std::size_t>(length);
        data_ += size;
        return true;
    }

    bool skip(std::uint64_t wire_type) noexcept {
        std::uint64_t ignored = 0;
        const std::uint8_t* bytes = nullptr;
        std::size_t size = 0;
        switch (wire_type) {
            case 0:
                return read_varint(ignored);
            case 1:
                return advance(8);
            case 2:
                return read_bytes(bytes, size);
            case 5:
                return advance(4);
            default:
                return false;
        }
    }

private:
    bool advance(std::size_t count) noexcept {
        if (count > static_cast<std::size_t>(end_ - data_)) {
            return false;
        }
        data_ += count;
        return true;
    }

    const std::uint8_t* data_;
    const std::uint8_t* end_;
};

// message ScanToken { int32 start = 1; int32 end = 2; Token token = 4; KeywordKind keyword_kind = 5; }
bool read_scan_token(const std::uint8_t* data, std::size_t size, token& out) {
    wire_reader reader(data, size);
    while (!reader.at_end()) {
        std::uint64_t field = 0;
        std::uint64_t wire_type = 0;
        if (!reader.read_tag(field, wire_type)) {
            return false;
        }
        if (wire_type == 0 && (field == 1 || field == 2 || field == 5)) {
            std::uint64_t value = 0;
            if (!reader.read_varint(value)) {
                return false;
            }
            if (field == 1) {
                out.start = static_cast<std::size_t>(value);
            } else if (field == 2) {
                out.end = static_cast<std::size_t>(value);
            } else {
                out.keyword = value != 0;  // KeywordKind: 0 is NO_KEYWORD
            }
        } else if (!reader.skip(wire_type)) {
            return false;
        }
    }
    return true;
}

}  // namespace

result<void> check_text(std::string_view sql) {
    if (const auto nul = sql.find('\0'); nul != std::string_view::npos) {
        error e = make_error(error_code::invalid_input,
                             "the SQL contains a NUL byte, which Postgres does not "
                             "accept in a statement",
                             "sql");
        e.position = char_position_from_byte_offset(sql, nul);
        return e;
    }
    if (const auto bad = first_invalid_utf8_byte(sql)) {
        error e = make_error(error_code::invalid_input, "the SQL is not valid UTF-8", "sql");
        e.position = char_position_from_byte_offset(sql, *bad);
        return e;
    }
    return {};
}

struct parse_tree::storage {
    // Declared before `root` so that it outlives it. Values in a monotonic arena are freed all at once
    // without a (recursive) walk over the tree.
    boost::json::monotonic_resource arena;
    boost::json::value root = boost::json::value(boost::json::storage_ptr(&arena));
    const boost::json::array* statements = nullptr;
    std::vector<token> tokens;
};

parse_tree::parse_tree(std::unique_ptr<storage> stored) noexcept : storage_(std::move(stored)) {}
parse_tree::parse_tree(parse_tree&&) noexcept = default;
parse_tree& parse_tree::operator=(parse_tree&&) noexcept = default;
parse_tree::~parse_tree() = default;

const boost::json::array& parse_tree::statements() const noexcept {
    return *storage_->statements;
}
const std::vector<token>& parse_tree::tokens() const noexcept {
    return storage_->tokens;
}

result<parse_tree> parse(const std::string& sql) {
    // The scanner is a flex automaton without recursion, safe on any input; its errors are the parser's.
    auto tokens = scan(sql);
    if (!tokens) {
        return std::move(tokens).error();
    }
    const std::size_t usable_stack = remaining_stack_bytes() / 2;
    if (nesting_units(sql, *tokens) * stack_bytes_per_unit > usable_stack) {
        return make_error(error_code::statement_refused,
                          "the query is nested too deeply for MetaHog to check it; simplify it");
    }
    const parse_result_guard raw(pg_query_parse(sql.c_str()));
    if (raw->error != nullptr) {
        return syntax_error(*raw->error);
    }
    if (raw->parse_tree == nullptr) {
        return make_error(error_code::internal, "the SQL parser returned no tree");
    }
    auto stored = std::make_unique<parse_tree::storage>();
    stored->tokens = std::move(*tokens);
    boost::json::parse_options options;
    options.max_depth = std::clamp(usable_stack / json_stack_bytes_per_level, min_json_depth, max_json_depth);
    // Names are compared byte for byte; never fail a statement over how its tree spells a string.
    options.allow_invalid_utf8 = true;
    boost::system::error_code parse_error;
    stored->root =
        boost::json::parse(raw->parse_tree, parse_error, boost::json::storage_ptr(&stored->arena), options);
    if (parse_error == boost::json::error::too_deep) {
        return make_error(error_code::statement_refused,
                          "the query is nested too deeply for MetaHog to check it; simplify it");
    }
    if (parse_error) {
        return make_error(error_code::internal, "the SQL parser returned a tree MetaHog cannot read");
    }
    const auto* top = stored->root.if_object();
    const auto* statements = top != nullptr ? top->if_contains("stmts") : nullptr;
    static const boost::json::array no_statements;
    if (statements == nullptr) {
        // An input without statements ("", "-- note") comes back without the "stmts" member.
        stored->statements = &no_statements;
    } else if (const auto* list = statements->if_array()) {
        stored->statements = list;
    } else {
        return make_error(error_code::internal, "the SQL parser returned a tree MetaHog cannot read");
    }
    return parse_tree(std::move(stored));
}

namespace {

result<std::vector<token>> scan(const std::string& sql) {
    const scan_result_guard raw(pg_query_scan(sql.c_str()));
    if (raw->error != nullptr) {
        return syntax_error(*raw->error);
    }
    // message ScanResult { int32 version = 1; repeated ScanToken tokens = 2; }
    std::vector<token> tokens;
    wire_reader reader(reinterpret_cast<const std::uint8_t*>(raw->pbuf.data), raw->pbuf.len);
    while (!reader.at_end()) {
        std::uint64_t field = 0;
        std::uint64_t wire_type = 0;
        if (!reader.read_tag(field, wire_type)) {
            return make_error(error_code::internal, "the SQL scanner returned tokens MetaHog cannot read");
        }
        if (field == 2 && wire_type == 2) {
            const std::uint8_t* bytes = nullptr;
            std::size_t size = 0;
            token next;
            if (!reader.read_bytes(bytes, size) || !read_scan_token(bytes, size, next) ||
                next.end < next.start || next.end > sql.size()) {
                return make_error(error_code::internal,
                                  "the SQL scanner returned tokens MetaHog cannot read");
            }
            tokens.push_back(next);
        } else if (!reader.skip(wire_type)) {
            return make_error(error_code::internal, "the SQL scanner returned tokens MetaHog cannot read");
        }
    }
    return tokens;
}

}  // namespace

std::string_view text_of(std::string_view sql, const token& t) noexcept {
    return sql.substr(t.start, t.end - t.start);
}

bool is_comment(std::string_view sql, const token& t) noexcept {
    const std::string_view text = text_of(sql, t);
    return text.starts_with("--") || text.starts_with("/*");
}

std::size_t first_token_at_or_after(std::string_view sql, const std::vector<token>& tokens,
                                    std::size_t offset) {
    // Tokens come in text order, so a binary search finds the first candidate.
    auto candidate = std::lower_bound(tokens.begin(), tokens.end(), offset,
                                      [](const token& t, std::size_t wanted) { return t.start < wanted; });
    while (candidate != tokens.end() && is_comment(sql, *candidate)) {
        ++candidate;
    }
    return static_cast<std::size_t>(candidate - tokens.begin());
}

result<std::string> fingerprint(const std::string& sql) {
    const fingerprint_result_guard raw(pg_query_fingerprint(sql.c_str()));
    if (raw->error != nullptr) {
        return syntax_error(*raw->error);
    }
    if (raw->fingerprint_str == nullptr) {
        return make_error(error_code::internal, "the SQL parser returned no fingerprint");
    }
    return std::string(raw->fingerprint_str);
}

std::optional<node_view> unwrap(const boost::json::value& wrapped) {
    const auto* object = wrapped.if_object();
    if (object == nullptr || object->size() != 1) {
        return std::nullopt;
    }
    const auto& member = *object->begin();
    const auto* fields = member.value().if_object();
    const std::string_view key = member.key();
    if (fields == nullptr || key.empty() || key.front() < 'A' || key.front() > 'Z') {
        return std::nullopt;
    }
    return node_view{key, fields};
}

namespace {

bool is_node_type_name(std::string_view key) noexcept {
    return !key.empty() && key.front() >= 'A' && key.front() <= 'Z';
}

// Nodes in typed fields carry no wrapper; these members are unique to their node types.
std::optional<std::string_view> unwrapped_node_type(const boost::json::object& fields) {
    if (fields.contains("relname") && fields.contains("relpersistence")) {
        return "RangeVar";
    }
    if (fields.contains("funcname") && fields.contains("funcformat")) {
        return "FuncCall";
    }
    return std::nullopt;
}

}  // namespace

void for_each_node(const boost::json::value& root, const std::function<void(node_view)>& visit) {
    struct pending {
        const boost::json::value* value;
        std::string_view key;  // the member name the value sits under ("" for array elements and the root)
    };
    std::vector<pending> stack{{&root, {}}};
    std::vector<pending> children;
    while (!stack.empty()) {
        const pending current = stack.back();
        stack.pop_back();
        children.clear();
        if (const auto* object = current.value->if_object()) {
            if (is_node_type_name(current.key)) {
                visit(node_view{current.key, object});
            } else if (const auto type = unwrapped_node_type(*object)) {
                visit(node_view{*type, object});
            }
            for (const auto& member : *object) {
                children.push_back({&member.value(), member.key()});
            }
        } else if (const auto* array = current.value->if_array()) {
            for (const auto& element : *array) {
                children.push_back({&element, {}});
            }
        }
        // Reversed, so that the first child is visited first: document order.
        stack.insert(stack.end(), children.rbegin(), children.rend());
    }
}

std::string_view string_field(const boost::json::object& fields, std::string_view key) {
    const auto* value = fields.if_contains(key);
    const auto* text = value != nullptr ? value->if_string() : nullptr;
    return text != nullptr ? std::string_view(*text) : std::string_view();
}

long long int_field(const boost::json::object& fields, std::string_view key) {
    const auto* value = fields.if_contains(key);
    if (value == nullptr) {
        return 0;
    }
    if (const auto* number = value->if_int64()) {
        return *number;
    }
    if (const auto* number = value->if_uint64()) {
        return static_cast<long long>(*number);
    }
    return 0;
}

bool bool_field(const boost::json::object& fields, std::string_view key) {
    const auto* value = fields.if_contains(key);
    const auto* flag = value != nullptr ? value->if_bool() : nullptr;
    return flag != nullptr && *flag;
}

const boost::json::array* array_field(const boost::json::object& fields, std::string_view key) {
    const auto* value = fields.if_contains(key);
    return value != nullptr ? value->if_array() : nullptr;
}

const boost::json::object* object_field(const boost::json::object& fields, std::string_view key) {
    const auto* value = fields.if_contains(key);
    return value != nullptr ? value->if_object() : nullptr;
}

std::optional<std::size_t> location_of(const boost::json::object& fields) {
    const long long location = int_field(fields, "location");
    if (location < 0) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(location);
}

std::vector<std::string> string_list(const boost::json::array* list) {
    std::vector<std::string> names;
    if (list == nullptr) {
        return names;
    }
    for (const auto& element : *list) {
        const auto node = unwrap(element);
        if (!node || node->type != "String") {
            names.emplace_back("*");
            break;
        }
        names.emplace_back(string_field(*node->fields, "sval"));
    }
    return names;
}

std::optional<std::string_view> string_literal(const boost::json::value& wrapped) {
    const auto node = unwrap(wrapped);
    if (!node || node->type != "A_Const") {
        return std::nullopt;
    }
    const auto* sval = object_field(*node->fields, "sval");
    if (sval == nullptr) {
        return std::nullopt;
    }
    return string_field(*sval, "sval");
}

}  // namespace metahog::sql::detail
