// The parser wall: one read-only query per request, checked on the real Postgres parse tree.
#include "sql/analyze.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "sql/detail/parse_tree.hpp"
#include "sql/detail/statement_kinds.hpp"
#include "sql/positions.hpp"

namespace metahog::sql {

namespace {

// query_to_xml('select query_to_xml(''…'')') nests SQL in strings; real queries need one level, maybe two.
constexpr int max_sql_text_depth = 4;

constexpr std::string_view read_only_reason = "MetaHog runs read-only queries";

error refusal(std::string message, std::optional<int> position, std::string hint = {}) {
    error e = make_error(error_code::statement_refused, std::move(message));
    e.position = position;
    e.hint = std::move(hint);
    return e;
}

std::string join(const std::vector<std::string>& parts) {
    std::string joined;
    for (const auto& part : parts) {
        if (!joined.empty()) {
            joined.push_back('.');
        }
        joined += part;
    }
    return joined;
}

bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        return lower(x) == lower(y);
    });
}

std::string refused_kind_message(std::string_view kind_name) {
    return std::string(kind_name) + " statements are not allowed: " + std::string(read_only_reason);
}

std::string hint_for(statement_kind kind, std::string_view kind_name) {
    if (kind_name == "SHOW") {
        return "use SELECT current_setting('name') to read a setting";
    }
    if (kind == statement_kind::transaction_control) {
        return "MetaHog runs every query in its own read-only transaction";
    }
    return {};
}

result<analyzed_statement> analyze_text(std::string_view sql_view, const query_policy& policy, int depth);

// Walks one statement's tree and collects every reason to refuse it, plus the functions it calls.
class statement_checker {
public:
    statement_checker(const std::string& sql, const std::vector<detail::token>& tokens,
                      const query_policy& policy, int depth, int statement_start)
        : sql_(sql), tokens_(tokens), policy_(policy), depth_(depth), statement_start_(statement_start) {}

    void check(const boost::json::value& statement, const boost::json::object* top_explain) {
        detail::for_each_node(statement, [&](detail::node_view node) {
            if (node.fields == top_explain || reported_.contains(node.fields)) {
                return;
            }
            if (node.type == "SelectStmt") {
                check_select(*node.fields);
            } else if (node.type == "CommonTableExpr") {
                check_common_table_expression(*node.fields);
            } else if (node.type == "FuncCall") {
                check_call(*node.fields);
            } else if (node.type.ends_with("Stmt")) {
                // Only WITH can hold another statement inside a query (handled above); anything else is
                // refused all the same rather than trusted.
                const auto info = detail::classify_statement(node.type, *node.fields);
                add(refusal(refused_kind_message(info.kind_name), statement_start_));
            }
        });
    }

    // The refusal that comes first in the text, so users fix their SQL from the top.
    std::optional<error> first_refusal() const {
        const auto first =
            std::min_element(refusals_.begin(), refusals_.end(), [](const error& a, const error& b) {
                return a.position.value_or(std::numeric_limits<int>::max()) <
                       b.position.value_or(std::numeric_limits<int>::max());
            });
        if (first == refusals_.end()) {
            return std::nullopt;
        }
        return *first;
    }

    std::vector<std::string> take_functions_called() { return std::move(functions_called_); }

private:
    int position_of(const boost::json::object& fields) const {
        const auto location = detail::location_of(fields);
        return location ? char_position_from_byte_offset(sql_, *location) : statement_start_;
    }

    void add(error refused) { refusals_.push_back(std::move(refused)); }

    void check_select(const boost::json::object& fields) {
        if (const auto* into = detail::object_field(fields, "intoClause")) {
            const auto* relation = detail::object_field(*into, "rel");
            add(refusal(
                "SELECT … INTO is not allowed: it creates a table, and " + std::string(read_only_reason),
                relation != nullptr ? position_of(*relation) : statement_start_));
        }
        if (const auto* locking = detail::array_field(fields, "lockingClause");
            locking != nullptr && !locking->empty()) {
            std::string clause = "FOR UPDATE";
            if (const auto node = detail::unwrap(locking->front())) {
                const std::string_view strength = detail::string_field(*node->fields, "strength");
                if (strength == "LCS_FORKEYSHARE") {
                    clause = "FOR KEY SHARE";
                } else if (strength == "LCS_FORSHARE") {
                    clause = "FOR SHARE";
                } else if (strength == "LCS_FORNOKEYUPDATE") {
                    clause = "FOR NO KEY UPDATE";
                }
            }
            add(refusal(
                "SELECT … " + clause + " is not allowed: it locks rows, and " + std::string(read_only_reason),
                locking_clause_position()));
        }
    }

    // A LockingClause has no location; the scanner finds its FOR, which no other query syntax follows with
    // UPDATE, SHARE, NO or KEY.
    int locking_clause_position() const {
        for (std::size_t index = 0; index + 1 < tokens_.size(); ++index) {
            if (!tokens_[index].keyword || !iequals_ascii(detail::text_of(sql_, tokens_[index]), "for")) {
                continue;
            }
            const std::size_t next = detail::first_token_at_or_after(sql_, tokens_, tokens_[index].end);
            if (next == tokens_.size()) {
                break;
            }
            const std::string_view word = detail::text_of(sql_, tokens_[next]);
            if (tokens_[next].keyword && (iequals_ascii(word, "update") || iequals_ascii(word, "share") ||
                                          iequals_ascii(word, "no") || iequals_ascii(word, "key"))) {
                return char_position_from_byte_offset(sql_, tokens_[index].start);
            }
        }
        return statement_start_;
    }

    void check_common_table_expression(const boost::json::object& fields) {
        const auto* query = fields.if_contains("ctequery");
        const auto node = query != nullptr ? detail::unwrap(*query) : std::nullopt;
        if (!node || node->type == "SelectStmt") {
            return;
        }
        reported_.insert(node->fields);
        const auto info = detail::classify_statement(node->type, *node->fields);
        add(refusal("WITH queries that change data are not allowed: \"" +
                        std::string(detail::string_field(fields, "ctename")) + "\" holds a " +
                        info.kind_name + " statement, and " + std::string(read_only_reason),
                    position_of(fields)));
    }

    void check_call(const boost::json::object& fields) {
        const std::vector<std::string> name = detail::string_list(detail::array_field(fields, "funcname"));
        if (name.empty()) {
            return;
        }
        std::string display = join(name);
        if (std::find(functions_called_.begin(), functions_called_.end(), display) ==
            functions_called_.end()) {
            functions_called_.push_back(display);
        }
        const int position = position_of(fields);
        if (denies_function(policy_, name)) {
            add(refusal("the function " + display + "() is not allowed by MetaHog's query policy", position));
            return;
        }
        if (name.back() == "set_config") {
            check_set_config(fields, position);
        }
        for (const auto& sql_function : policy_.sql_text_functions) {
            if (sql_function.name == name.back()) {
                check_sql_text_call(fields, display, sql_function, position);
            }
        }
    }

    // set_config(setting_name, new_value, is_local) changes a setting mid-statement; allowed only when the
    // name is visible in the text and not protected.
    void check_set_config(const boost::json::object& fields, int position) {
        const boost::json::value* setting = nullptr;
        if (const auto* args = detail::array_field(fields, "args")) {
            for (std::size_t index = 0; index < args->size(); ++index) {
                const auto node = detail::unwrap((*args)[index]);
                if (node && node->type == "NamedArgExpr") {
                    if (detail::string_field(*node->fields, "name") == "setting_name") {
                        setting = node->fields->if_contains("arg");
                    }
                } else if (index == 0) {
                    setting = &(*args)[index];
                }
            }
        }
        const auto literal = setting != nullptr ? detail::string_literal(*setting) : std::nullopt;
        if (!literal) {
            add(refusal(
                "set_config() is only allowed with the setting name written as a string literal, so that "
                "MetaHog can check which setting it changes",
                position));
            return;
        }
        if (protects_setting(policy_, *literal)) {
            add(refusal("set_config() may not change the setting \"" + std::string(*literal) +
                            "\": MetaHog's query policy protects it",
                        position));
        }
    }

    void check_sql_text_call(const boost::json::object& fields, const std::string& display,
                             const sql_text_function& sql_function, int position) {
        const auto* args = detail::array_field(fields, "args");
        if (args == nullptr) {
            return;
        }
        const bool named = std::any_of(args->begin(), args->end(), [](const boost::json::value& arg) {
            const auto node = detail::unwrap(arg);
            return node && node->type == "NamedArgExpr";
        });
        if (named || detail::bool_field(fields, "func_variadic")) {
            add(refusal(display + "() runs the SQL it is given; call it with positional arguments so that "
                                  "MetaHog can check that SQL",
                        position));
            return;
        }
        for (const int index : sql_function.sql_arguments) {
            if (index < 0 || static_cast<std::size_t>(index) >= args->size()) {
                continue;
            }
            const auto& arg = (*args)[static_cast<std::size_t>(index)];
            const auto node = detail::unwrap(arg);
            const int arg_position = node ? position_of(*node->fields) : position;
            const auto literal = detail::string_literal(arg);
            if (!literal) {
                // A number is fine where the function also takes one (crosstab(text, integer)).
                if (node && node->type == "A_Const") {
                    continue;
                }
                add(refusal(display +
                                "() runs the SQL it is given; it is only allowed with that SQL written as "
                                "a string literal, so that MetaHog can check it",
                            arg_position));
                continue;
            }
            if (depth_ + 1 > max_sql_text_depth) {
                add(refusal("SQL nested in strings is nested too deeply for MetaHog to check", arg_position));
                continue;
            }
            auto inner = analyze_text(*literal, policy_, depth_ + 1);
            if (!inner) {
                add(refusal("the SQL passed to " + display + "() is refused: " + inner.error().message,
                            arg_position));
                continue;
            }
            for (auto& function : inner->functions_called) {
                if (std::find(functions_called_.begin(), functions_called_.end(), function) ==
                    functions_called_.end()) {
                    functions_called_.push_back(std::move(function));
                }
            }
        }
    }

    const std::string& sql_;
    const std::vector<detail::token>& tokens_;
    const query_policy& policy_;
    int depth_;
    int statement_start_;
    std::vector<error> refusals_;
    std::vector<std::string> functions_called_;
    std::set<const boost::json::object*> reported_;
};

bool explain_analyzes(const boost::json::object& explain) {
    const auto* options = detail::array_field(explain, "options");
    if (options == nullptr) {
        return false;
    }
    bool analyze = false;
    for (const auto& option : *options) {
        const auto node = detail::unwrap(option);
        if (!node || node->type != "DefElem" || detail::string_field(*node->fields, "defname") != "analyze") {
            continue;
        }
        // Postgres's defGetBoolean: no value means true; "off", "false" and 0 mean false. Anything else would
        // be an error on the server; count it as analysing, which is the cautious answer.
        analyze = true;
        const auto* arg = node->fields->if_contains("arg");
        const auto value = arg != nullptr ? detail::unwrap(*arg) : std::nullopt;
        if (value && value->type == "String") {
            const std::string_view text = detail::string_field(*value->fields, "sval");
            analyze = !(iequals_ascii(text, "off") || iequals_ascii(text, "false"));
        } else if (value && value->type == "Integer") {
            analyze = detail::int_field(*value->fields, "ival") != 0;
        }
    }
    return analyze;
}

// The 1-based character position of the first token of the statement that starts at byte `location`
// (libpg_query's statement locations include the whitespace and comments before the statement).
int statement_position(const std::string& sql, const std::vector<detail::token>& tokens,
                       std::size_t location) {
    const std::size_t index = detail::first_token_at_or_after(sql, tokens, location);
    return char_position_from_byte_offset(sql, index < tokens.size() ? tokens[index].start : location);
}

struct parsed_statement {
    std::string sql;
    detail::parse_tree tree;
    const boost::json::value* statement = nullptr;  // {"SelectStmt": {...}}
    detail::node_view node;
    int start = 1;
};

// Checks the text, parses it and insists on exactly one statement.
result<parsed_statement> parse_one(std::string_view sql_view) {
    if (auto checked = detail::check_text(sql_view); !checked) {
        return std::move(checked).error();
    }
    std::string sql(sql_view);
    auto tree = detail::parse(sql);
    if (!tree) {
        return std::move(tree).error();
    }
    const auto& tokens = tree->tokens();
    const auto& statements = tree->statements();
    if (statements.empty()) {
        return make_error(error_code::invalid_input,
                          tokens.empty() ? "the SQL is empty"
                                         : "the SQL contains no statement, only comments or empty statements",
                          "sql");
    }
    if (statements.size() > 1) {
        const auto* second = statements[1].if_object();
        const auto location = second != nullptr ? detail::int_field(*second, "stmt_location") : 0;
        const int position =
            statement_position(sql, tokens, static_cast<std::size_t>(std::max(0LL, location)));
        return refusal("only one statement is allowed per query; a second statement starts at character " +
                           std::to_string(position),
                       position);
    }
    const auto* wrapper = statements[0].if_object();
    const auto* statement = wrapper != nullptr ? wrapper->if_contains("stmt") : nullptr;
    const auto node = statement != nullptr ? detail::unwrap(*statement) : std::nullopt;
    if (!node) {
        return make_error(error_code::internal, "the SQL parser returned a statement MetaHog cannot read");
    }
    const int start = statement_position(sql, tokens, 0);
    parsed_statement parsed{std::move(sql), std::move(*tree), statement, *node, start};
    return parsed;
}

result<analyzed_statement> analyze_text(std::string_view sql_view, const query_policy& policy, int depth) {
    auto parsed = parse_one(sql_view);
    if (!parsed) {
        return std::move(parsed).error();
    }
    const auto info = detail::classify_statement(parsed->node.type, *parsed->node.fields);
    analyzed_statement analyzed;
    analyzed.kind = info.kind;
    analyzed.kind_name = info.kind_name;

    const boost::json::object* top_explain = nullptr;
    if (info.kind == statement_kind::explain) {
        top_explain = parsed->node.fields;
        const auto* query = parsed->node.fields->if_contains("query");
        const auto inner = query != nullptr ? detail::unwrap(*query) : std::nullopt;
        if (!inner) {
            return make_error(error_code::internal, "the SQL parser returned an EXPLAIN MetaHog cannot read");
        }
        if (inner->type != "SelectStmt") {
            const auto inner_info = detail::classify_statement(inner->type, *inner->fields);
            return refusal(inner_info.kind_name + " statements are not allowed, not even under EXPLAIN: " +
                               std::string(read_only_reason),
                           parsed->start);
        }
        analyzed.explain_analyze = explain_analyzes(*parsed->node.fields);
    } else if (info.kind != statement_kind::query) {
        return refusal(refused_kind_message(info.kind_name), parsed->start,
                       hint_for(info.kind, info.kind_name));
    }

    statement_checker checker(parsed->sql, parsed->tree.tokens(), policy, depth, parsed->start);
    checker.check(*parsed->statement, top_explain);
    if (auto refused = checker.first_refusal()) {
        return std::move(*refused);
    }
    analyzed.functions_called = checker.take_functions_called();
    if (depth == 0) {
        auto print = detail::fingerprint(parsed->sql);
        if (!print) {
            return std::move(print).error();
        }
        analyzed.fingerprint = std::move(*print);
    }
    return analyzed;
}

}  // namespace

std::string_view to_string(statement_kind kind) noexcept {
    switch (kind) {
        case statement_kind::query:
            return "query";
        case statement_kind::explain:
            return "explain";
        case statement_kind::insert:
            return "insert";
        case statement_kind::update:
            return "update";
        case statement_kind::delete_:
            return "delete";
        case statement_kind::merge:
            return "merge";
        case statement_kind::truncate:
            return "truncate";
        case statement_kind::ddl:
            return "ddl";
        case statement_kind::transaction_control:
            return "transaction_control";
        case statement_kind::set:
            return "set";
        case statement_kind::copy:
            return "copy";
        case statement_kind::call:
            return "call";
        case statement_kind::do_block:
            return "do_block";
        case statement_kind::prepare:
            return "prepare";
        case statement_kind::execute:
            return "execute";
        case statement_kind::deallocate:
            return "deallocate";
        case statement_kind::lock:
            return "lock";
        case statement_kind::maintenance:
            return "maintenance";
        case statement_kind::listen_notify:
            return "listen_notify";
        case statement_kind::discard:
            return "discard";
        case statement_kind::other:
            return "other";
    }
    return "other";
}

result<analyzed_statement> analyze(std::string_view sql, const query_policy& policy) {
    return analyze_text(sql, policy, 0);
}

result<statement_info> classify(std::string_view sql_view) {
    if (auto checked = detail::check_text(sql_view); !checked) {
        return std::move(checked).error();
    }
    const std::string sql(sql_view);
    auto tree = detail::parse(sql);
    if (!tree) {
        return std::move(tree).error();
    }
    const auto& statements = tree->statements();
    const auto* wrapper = statements.empty() ? nullptr : statements[0].if_object();
    const auto* statement = wrapper != nullptr ? wrapper->if_contains("stmt") : nullptr;
    const auto node = statement != nullptr ? detail::unwrap(*statement) : std::nullopt;
    if (!node) {
        return make_error(error_code::invalid_input, "the SQL contains no statement", "sql");
    }
    return detail::classify_statement(node->type, *node->fields);
}

result<std::string> fingerprint(std::string_view sql_view) {
    if (auto checked = detail::check_text(sql_view); !checked) {
        return std::move(checked).error();
    }
    return detail::fingerprint(std::string(sql_view));
}

}  // namespace metahog::sql
