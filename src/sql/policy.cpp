// Default query policy and the name matching it relies on.
#include "sql/policy.hpp"

#include <algorithm>

namespace metahog::sql {

query_policy query_policy::defaults() {
    query_policy policy;
    policy.denied_functions = {
        // Connections to other servers run statements outside our read-only transaction.
        "dblink*",
        // Large objects: these write (or read server files) even in a read-only-looking SELECT.
        "lo_import", "lo_export", "lo_create", "lo_creat", "lo_unlink", "lo_put", "lo_from_bytea", "lo_open",
        "lowrite", "lo_truncate*",
        // Advisory locks outlive the statement and can block other sessions.
        "pg_advisory*", "pg_try_advisory*",
        // Server administration and server file access.
        "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
        "pg_log_backend_memory_contexts", "pg_read_file", "pg_read_binary_file", "pg_ls_*", "pg_stat_file",
        "pg_file_*", "pg_promote", "pg_switch_wal", "pg_create_restore_point", "pg_backup_*",
        "pg_start_backup", "pg_stop_backup", "pg_stat_reset*",
        // Replication: slots and WAL messages change server state; get_changes consumes a slot.
        "pg_logical_emit_message", "pg_create_*_replication_slot", "pg_drop_replication_slot",
        "pg_copy_*_replication_slot", "pg_replication_slot_advance", "pg_logical_slot_get_*",
        "pg_replication_origin_*",
        // Side effects visible to other sessions.
        "pg_notify", "nextval", "setval",
        // Not denied on purpose: pg_sleep (the statement timeout bounds it) and query_to_xml & co. (their SQL
        // argument is analysed instead, see sql_text_functions).
    };
    policy.protected_settings = {
        // The read-only transaction and the limits MetaHog sets around every statement.
        "transaction_read_only",
        "default_transaction_read_only",
        "transaction_isolation",
        "default_transaction_isolation",
        "statement_timeout",
        "lock_timeout",
        "idle_in_transaction_session_timeout",
        "idle_session_timeout",
        // Who the statement runs as, and whether triggers and rules fire.
        "role",
        "session_authorization",
        "session_replication_role",
        // search_path decides what unqualified names (tables after prefix stripping, functions) resolve to;
        // changing it mid-statement would make the query mean something other than what was checked.
        "search_path",
        // How the server reads SQL text that it parses later in the same statement (query_to_xml): the wall
        // assumes UTF-8 and standard_conforming_strings=on, as libpg_query does.
        "client_encoding",
        "standard_conforming_strings",
        "backslash_quote",
        // The formats the driver decodes values in.
        "datestyle",
        "intervalstyle",
        "bytea_output",
        "extra_float_digits",
        // Memory per sort/hash node: raising it lets one query exhaust the source server's memory.
        // sort_mem and vacuum_mem are Postgres's old aliases of the first and the last.
        "work_mem",
        "hash_mem_multiplier",
        "maintenance_work_mem",
        "sort_mem",
        "vacuum_mem",
        // Custom settings (`app.tenant_id`, `pgaudit.log`): row-level security policies commonly read them
        // with current_setting(), so setting one could impersonate another tenant.
        "*.*",
    };
    policy.sql_text_functions = {
        {"query_to_xml", {0}}, {"query_to_xmlschema", {0}}, {"query_to_xml_and_xmlschema", {0}},
        {"ts_stat", {0}},      {"crosstab", {0, 1}},        {"crosstab2", {0}},
        {"crosstab3", {0}},    {"crosstab4", {0}},
    };
    return policy;
}

bool wildcard_match(std::string_view pattern, std::string_view text) noexcept {
    // Greedy matching with a single backtrack point: linear for the patterns we use, no recursion.
    std::size_t pattern_index = 0;
    std::size_t text_index = 0;
    std::size_t star_index = std::string_view::npos;
    std::size_t star_text_index = 0;
    while (text_index < text.size()) {
        if (pattern_index < pattern.size() && pattern[pattern_index] == '*') {
            star_index = pattern_index++;
            star_text_index = text_index;
        } else if (pattern_index < pattern.size() && pattern[pattern_index] == text[text_index]) {
            ++pattern_index;
            ++text_index;
        } else if (star_index != std::string_view::npos) {
            pattern_index = star_index + 1;
            text_index = ++star_text_index;
        } else {
            return false;
        }
    }
    while (pattern_index < pattern.size() && pattern[pattern_index] == '*') {
        ++pattern_index;
    }
    return pattern_index == pattern.size();
}

bool denies_function(const query_policy& policy, const std::vector<std::string>& qualified_name) {
    if (qualified_name.empty()) {
        return false;
    }
    const std::string& name = qualified_name.back();
    const std::string* schema =
        qualified_name.size() >= 2 ? &qualified_name[qualified_name.size() - 2] : nullptr;
    return std::any_of(policy.denied_functions.begin(), policy.denied_functions.end(),
                       [&](const std::string& entry) {
                           const auto dot = entry.find('.');
                           if (dot == std::string::npos) {
                               return wildcard_match(entry, name);
                           }
                           const std::string_view entry_schema(entry.data(), dot);
                           const std::string_view entry_name = std::string_view(entry).substr(dot + 1);
                           if (!wildcard_match(entry_name, name)) {
                               return false;
                           }
                           return schema == nullptr || wildcard_match(entry_schema, *schema);
                       });
}

bool protects_setting(const query_policy& policy, std::string_view setting_name) {
    std::string lowered(setting_name);
    // GUC names compare case-insensitively in ASCII only (guc.c uses pg_strcasecmp).
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return std::any_of(policy.protected_settings.begin(), policy.protected_settings.end(),
                       [&](const std::string& entry) { return wildcard_match(entry, lowered); });
}

}  // namespace metahog::sql
