// The query policy of the parser wall: which functions a user's query may not call, which settings
// set_config may not touch, and which functions take SQL text that must pass the wall as well.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace metahog::sql {

// A function whose string arguments are themselves SQL that the server parses and runs (query_to_xml,
// ts_stat, crosstab). The wall analyses those strings with the same policy, so that
// `query_to_xml('select pg_read_file(...)', ...)` cannot smuggle a denied call past it.
struct sql_text_function {
    std::string name;                // lower-case, unqualified; matches in any schema
    std::vector<int> sql_arguments;  // 0-based indexes of the arguments that hold SQL text
};

struct query_policy {
    // Lower-case names, optionally schema-qualified ("pg_catalog.pg_read_file"). `*` matches any run of
    // characters ("dblink*", "pg_create_*_replication_slot"). An unqualified entry matches the function in
    // every schema; a qualified entry matches calls in that schema and unqualified calls (the search_path
    // may resolve them there).
    std::vector<std::string> denied_functions;
    // Setting names (lower-case, `*` as above) that set_config may not change. set_config is also refused
    // when its setting name is not a string literal, because then nobody can tell which setting it changes.
    std::vector<std::string> protected_settings;
    std::vector<sql_text_function> sql_text_functions;

    static query_policy defaults();
};

// True when `pattern` (with `*` wildcards) matches all of `text`. Both are compared byte for byte.
bool wildcard_match(std::string_view pattern, std::string_view text) noexcept;

// True when the policy denies a call of the function named by `qualified_name` as the parser gives it
// (identifier case already resolved: ["pg_catalog", "pg_read_file"] or ["PG_READ_FILE"]).
bool denies_function(const query_policy& policy, const std::vector<std::string>& qualified_name);

// True when set_config may not change `setting_name`. Setting names are case-insensitive in Postgres.
bool protects_setting(const query_policy& policy, std::string_view setting_name);

}  // namespace metahog::sql
