// Maps Postgres statement nodes to the command names users know (as in Postgres's CreateCommandTag) and to
// MetaHog's statement kinds.
#include "sql/detail/statement_kinds.hpp"

#include <array>
#include <string>
#include <utility>

#include "sql/detail/parse_tree.hpp"

namespace metahog::sql::detail {

namespace {

struct fixed_statement {
    std::string_view type;
    statement_kind kind;
    std::string_view name;
};

// Statements whose name does not depend on their fields. Anything missing falls back to a name derived from
// the node type ("CreateExtensionStmt" → "CREATE EXTENSION").
constexpr std::array fixed_statements{
    fixed_statement{"SelectStmt", statement_kind::query, "SELECT"},
    fixed_statement{"ExplainStmt", statement_kind::explain, "EXPLAIN"},
    fixed_statement{"InsertStmt", statement_kind::insert, "INSERT"},
    fixed_statement{"UpdateStmt", statement_kind::update, "UPDATE"},
    fixed_statement{"DeleteStmt", statement_kind::delete_, "DELETE"},
    fixed_statement{"MergeStmt", statement_kind::merge, "MERGE"},
    fixed_statement{"TruncateStmt", statement_kind::truncate, "TRUNCATE TABLE"},
    fixed_statement{"CopyStmt", statement_kind::copy, "COPY"},
    fixed_statement{"CallStmt", statement_kind::call, "CALL"},
    fixed_statement{"DoStmt", statement_kind::do_block, "DO"},
    fixed_statement{"PrepareStmt", statement_kind::prepare, "PREPARE"},
    fixed_statement{"ExecuteStmt", statement_kind::execute, "EXECUTE"},
    fixed_statement{"LockStmt", statement_kind::lock, "LOCK TABLE"},
    fixed_statement{"ListenStmt", statement_kind::listen_notify, "LISTEN"},
    fixed_statement{"UnlistenStmt", statement_kind::listen_notify, "UNLISTEN"},
    fixed_statement{"NotifyStmt", statement_kind::listen_notify, "NOTIFY"},
    fixed_statement{"ClusterStmt", statement_kind::maintenance, "CLUSTER"},
    fixed_statement{"ReindexStmt", statement_kind::maintenance, "REINDEX"},
    fixed_statement{"CheckPointStmt", statement_kind::maintenance, "CHECKPOINT"},
    fixed_statement{"ConstraintsSetStmt", statement_kind::set, "SET CONSTRAINTS"},
    fixed_statement{"VariableShowStmt", statement_kind::other, "SHOW"},
    fixed_statement{"DeclareCursorStmt", statement_kind::other, "DECLARE CURSOR"},
    fixed_statement{"ClosePortalStmt", statement_kind::other, "CLOSE CURSOR"},
    fixed_statement{"LoadStmt", statement_kind::other, "LOAD"},
    fixed_statement{"ReturnStmt", statement_kind::other, "RETURN"},
    fixed_statement{"CreateStmt", statement_kind::ddl, "CREATE TABLE"},
    fixed_statement{"IndexStmt", statement_kind::ddl, "CREATE INDEX"},
    fixed_statement{"ViewStmt", statement_kind::ddl, "CREATE VIEW"},
    fixed_statement{"RuleStmt", statement_kind::ddl, "CREATE RULE"},
    fixed_statement{"CreateSeqStmt", statement_kind::ddl, "CREATE SEQUENCE"},
    fixed_statement{"AlterSeqStmt", statement_kind::ddl, "ALTER SEQUENCE"},
    fixed_statement{"CreatedbStmt", statement_kind::ddl, "CREATE DATABASE"},
    fixed_statement{"DropdbStmt", statement_kind::ddl, "DROP DATABASE"},
    fixed_statement{"CreateTrigStmt", statement_kind::ddl, "CREATE TRIGGER"},
    fixed_statement{"CreatePLangStmt", statement_kind::ddl, "CREATE LANGUAGE"},
    fixed_statement{"CreateSchemaStmt", statement_kind::ddl, "CREATE SCHEMA"},
    fixed_statement{"CompositeTypeStmt", statement_kind::ddl, "CREATE TYPE"},
    fixed_statement{"CreateEnumStmt", statement_kind::ddl, "CREATE TYPE"},
    fixed_statement{"CreateRangeStmt", statement_kind::ddl, "CREATE TYPE"},
    fixed_statement{"AlterEnumStmt", statement_kind::ddl, "ALTER TYPE"},
    fixed_statement{"CreateFdwStmt", statement_kind::ddl, "CREATE FOREIGN DATA WRAPPER"},
    fixed_statement{"AlterFdwStmt", statement_kind::ddl, "ALTER FOREIGN DATA WRAPPER"},
    fixed_statement{"CreateForeignServerStmt", statement_kind::ddl, "CREATE SERVER"},
    fixed_statement{"AlterForeignServerStmt", statement_kind::ddl, "ALTER SERVER"},
    fixed_statement{"CreateForeignTableStmt", statement_kind::ddl, "CREATE FOREIGN TABLE"},
    fixed_statement{"AlterTSDictionaryStmt", statement_kind::ddl, "ALTER TEXT SEARCH DICTIONARY"},
    fixed_statement{"AlterTSConfigurationStmt", statement_kind::ddl, "ALTER TEXT SEARCH CONFIGURATION"},
    fixed_statement{"CreateOpClassStmt", statement_kind::ddl, "CREATE OPERATOR CLASS"},
    fixed_statement{"CreateOpFamilyStmt", statement_kind::ddl, "CREATE OPERATOR FAMILY"},
    fixed_statement{"AlterOpFamilyStmt", statement_kind::ddl, "ALTER OPERATOR FAMILY"},
    fixed_statement{"CreateAmStmt", statement_kind::ddl, "CREATE ACCESS METHOD"},
    fixed_statement{"CreateStatsStmt", statement_kind::ddl, "CREATE STATISTICS"},
    fixed_statement{"AlterStatsStmt", statement_kind::ddl, "ALTER STATISTICS"},
    fixed_statement{"AlterDatabaseSetStmt", statement_kind::ddl, "ALTER DATABASE"},
    fixed_statement{"AlterDatabaseRefreshCollStmt", statement_kind::ddl, "ALTER DATABASE"},
    fixed_statement{"AlterRoleSetStmt", statement_kind::ddl, "ALTER ROLE"},
    fixed_statement{"AlterTableMoveAllStmt", statement_kind::ddl, "ALTER TABLE"},
    fixed_statement{"AlterTableSpaceOptionsStmt", statement_kind::ddl, "ALTER TABLESPACE"},
    fixed_statement{"CreateTableSpaceStmt", statement_kind::ddl, "CREATE TABLESPACE"},
    fixed_statement{"DropTableSpaceStmt", statement_kind::ddl, "DROP TABLESPACE"},
    fixed_statement{"AlterExtensionContentsStmt", statement_kind::ddl, "ALTER EXTENSION"},
    fixed_statement{"AlterObjectDependsStmt", statement_kind::ddl, "ALTER OBJECT DEPENDS"},
    fixed_statement{"SecLabelStmt", statement_kind::ddl, "SECURITY LABEL"},
    fixed_statement{"RefreshMatViewStmt", statement_kind::ddl, "REFRESH MATERIALIZED VIEW"},
    fixed_statement{"AlterSystemStmt", statement_kind::ddl, "ALTER SYSTEM"},
    fixed_statement{"CommentStmt", statement_kind::ddl, "COMMENT"},
};

// "OBJECT_MATVIEW" → "MATERIALIZED VIEW", as the object appears in command names.
std::string object_name(std::string_view object_type) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> irregular{{
        {"OBJECT_MATVIEW", "MATERIALIZED VIEW"},
        {"OBJECT_FDW", "FOREIGN DATA WRAPPER"},
        {"OBJECT_FOREIGN_SERVER", "SERVER"},
        {"OBJECT_TSCONFIGURATION", "TEXT SEARCH CONFIGURATION"},
        {"OBJECT_TSDICTIONARY", "TEXT SEARCH DICTIONARY"},
        {"OBJECT_TSPARSER", "TEXT SEARCH PARSER"},
        {"OBJECT_TSTEMPLATE", "TEXT SEARCH TEMPLATE"},
        {"OBJECT_OPCLASS", "OPERATOR CLASS"},
        {"OBJECT_OPFAMILY", "OPERATOR FAMILY"},
        {"OBJECT_STATISTIC_EXT", "STATISTICS"},
        {"OBJECT_LARGEOBJECT", "LARGE OBJECT"},
    }};
    for (const auto& [type, name] : irregular) {
        if (type == object_type) {
            return std::string(name);
        }
    }
    std::string name(object_type.starts_with("OBJECT_") ? object_type.substr(7) : object_type);
    for (char& c : name) {
        if (c == '_') {
            c = ' ';
        }
    }
    return name.empty() ? std::string("OBJECT") : name;
}

// "CreateExtensionStmt" → "CREATE EXTENSION"; "AlterTSDictionaryStmt" → "ALTER TS DICTIONARY".
std::string name_from_type(std::string_view type) {
    if (type.ends_with("Stmt")) {
        type.remove_suffix(4);
    }
    std::string name;
    for (std::size_t index = 0; index < type.size(); ++index) {
        const char c = type[index];
        const bool upper = c >= 'A' && c <= 'Z';
        if (upper && index > 0) {
            const char previous = type[index - 1];
            const bool previous_lower = previous >= 'a' && previous <= 'z';
            const bool next_lower =
                index + 1 < type.size() && type[index + 1] >= 'a' && type[index + 1] <= 'z';
            if (previous_lower || next_lower) {
                name.push_back(' ');
            }
        }
        name.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    }
    return name;
}

statement_kind kind_from_type(std::string_view type) {
    for (const std::string_view prefix : {"Create", "Alter", "Drop", "Grant", "Revoke", "Comment", "Rename",
                                          "Refresh", "Import", "Reassign", "Define", "SecLabel"}) {
        if (type.starts_with(prefix)) {
            return statement_kind::ddl;
        }
    }
    return statement_kind::other;
}

statement_info transaction_statement(const boost::json::object& fields) {
    const std::string_view kind = string_field(fields, "kind");
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> names{{
        {"TRANS_STMT_BEGIN", "BEGIN"},
        {"TRANS_STMT_START", "START TRANSACTION"},
        {"TRANS_STMT_COMMIT", "COMMIT"},
        {"TRANS_STMT_ROLLBACK", "ROLLBACK"},
        {"TRANS_STMT_SAVEPOINT", "SAVEPOINT"},
        {"TRANS_STMT_RELEASE", "RELEASE"},
        {"TRANS_STMT_ROLLBACK_TO", "ROLLBACK"},
        {"TRANS_STMT_PREPARE", "PREPARE TRANSACTION"},
        {"TRANS_STMT_COMMIT_PREPARED", "COMMIT PREPARED"},
        {"TRANS_STMT_ROLLBACK_PREPARED", "ROLLBACK PREPARED"},
    }};
    for (const auto& [tag, name] : names) {
        if (tag == kind) {
            return {statement_kind::transaction_control, std::string(name)};
        }
    }
    return {statement_kind::transaction_control, "TRANSACTION"};
}

statement_info variable_set_statement(const boost::json::object& fields) {
    const std::string_view kind = string_field(fields, "kind");
    if (kind == "VAR_RESET" || kind == "VAR_RESET_ALL") {
        return {statement_kind::set, "RESET"};
    }
    if (kind == "VAR_SET_MULTI") {
        // SET TRANSACTION … and SET SESSION CHARACTERISTICS AS TRANSACTION …
        return {statement_kind::set, "SET " + std::string(string_field(fields, "name"))};
    }
    return {statement_kind::set, "SET"};
}

}  // namespace

statement_info classify_statement(std::string_view type, const boost::json::object& fields) {
    for (const auto& fixed : fixed_statements) {
        if (fixed.type == type) {
            return {fixed.kind, std::string(fixed.name)};
        }
    }
    if (type == "TransactionStmt") {
        return transaction_statement(fields);
    }
    if (type == "VariableSetStmt") {
        return variable_set_statement(fields);
    }
    if (type == "VacuumStmt") {
        return {statement_kind::maintenance, bool_field(fields, "is_vacuumcmd") ? "VACUUM" : "ANALYZE"};
    }
    if (type == "DiscardStmt") {
        const std::string_view target = string_field(fields, "target");
        std::string name = "DISCARD";
        if (target.starts_with("DISCARD_")) {
            name += " " + std::string(target.substr(8));
        }
        return {statement_kind::discard, std::move(name)};
    }
    if (type == "DeallocateStmt") {
        return {statement_kind::deallocate, fields.contains("name") ? "DEALLOCATE" : "DEALLOCATE ALL"};
    }
    if (type == "FetchStmt") {
        return {statement_kind::other, bool_field(fields, "ismove") ? "MOVE" : "FETCH"};
    }
    if (type == "GrantStmt" || type == "GrantRoleStmt") {
        return {statement_kind::ddl, bool_field(fields, "is_grant") ? "GRANT" : "REVOKE"};
    }
    if (type == "CreateTableAsStmt") {
        if (string_field(fields, "objtype") == "OBJECT_MATVIEW") {
            return {statement_kind::ddl, "CREATE MATERIALIZED VIEW"};
        }
        return {statement_kind::ddl,
                bool_field(fields, "is_select_into") ? "SELECT INTO" : "CREATE TABLE AS"};
    }
    if (type == "CreateFunctionStmt") {
        return {statement_kind::ddl,
                bool_field(fields, "is_procedure") ? "CREATE PROCEDURE" : "CREATE FUNCTION"};
    }
    if (type == "CreateRoleStmt") {
        const std::string_view role_type = string_field(fields, "stmt_type");
        return {statement_kind::ddl, role_type == "ROLESTMT_USER"    ? "CREATE USER"
                                     : role_type == "ROLESTMT_GROUP" ? "CREATE GROUP"
                                                                     : "CREATE ROLE"};
    }
    // Statements named after the kind of object they work on.
    if (type == "DropStmt") {
        return {statement_kind::ddl, "DROP " + object_name(string_field(fields, "removeType"))};
    }
    if (type == "AlterTableStmt") {
        return {statement_kind::ddl, "ALTER " + object_name(string_field(fields, "objtype"))};
    }
    if (type == "AlterFunctionStmt") {
        return {statement_kind::ddl, "ALTER " + object_name(string_field(fields, "objtype"))};
    }
    if (type == "DefineStmt") {
        return {statement_kind::ddl, "CREATE " + object_name(string_field(fields, "kind"))};
    }
    if (type == "RenameStmt") {
        std::string_view object = string_field(fields, "renameType");
        if (object == "OBJECT_COLUMN" || object == "OBJECT_TABCONSTRAINT" || object == "OBJECT_ATTRIBUTE") {
            object = string_field(fields, "relationType");
        }
        return {statement_kind::ddl, "ALTER " + object_name(object)};
    }
    if (type == "AlterObjectSchemaStmt" || type == "AlterOwnerStmt") {
        return {statement_kind::ddl, "ALTER " + object_name(string_field(fields, "objectType"))};
    }
    return {kind_from_type(type), name_from_type(type)};
}

}  // namespace metahog::sql::detail
