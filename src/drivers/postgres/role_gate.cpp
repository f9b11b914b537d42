// The role gate's catalog query and the sentences it turns into. Every catalog function is schema-qualified:
// the role's own search_path (ALTER ROLE … SET search_path) must not be able to put other functions in their
// place. Privileges are those of session_user, the role that logged in; a role it could SET ROLE to counts
// through the memberships.
#include "drivers/postgres/role_gate.hpp"

#include <libpq-fe.h>

#include <array>
#include <boost/json/parse.hpp>

#include "drivers/postgres/pg_io.hpp"

namespace metahog::drivers::postgres {
namespace {

namespace json = boost::json;

// How many objects a warning names; the count says how many there are in all.
constexpr int examples_shown = 10;

// The role, and the roles it is a member of (directly, through others, or with NOINHERIT so that it could
// SET ROLE to them) that are privileged themselves or give access to the server's files, programs or
// backends.
constexpr std::string_view gate_ctes = R"sql(
WITH me AS (
    SELECT r.oid, r.rolname, r.rolsuper, r.rolreplication, r.rolbypassrls
    FROM pg_catalog.pg_roles r WHERE r.rolname = SESSION_USER
))sql";

constexpr std::string_view gate_fields = R"sql(
SELECT pg_catalog.json_build_object(
    'role', me.rolname, 'superuser', me.rolsuper, 'replication', me.rolreplication,
    'bypassrls', me.rolbypassrls,
    'memberships', (
        SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
                   'role', g.rolname, 'superuser', g.rolsuper, 'replication', g.rolreplication,
                   'bypassrls', g.rolbypassrls,
                   'direct', EXISTS (SELECT FROM pg_catalog.pg_auth_members m
                                     WHERE m.roleid = g.oid AND m.member = me.oid)) ORDER BY g.rolname), '[]')
        FROM pg_catalog.pg_roles g
        WHERE g.oid <> me.oid
          AND (g.rolsuper OR g.rolreplication OR g.rolbypassrls
               OR g.rolname IN ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files',
                                'pg_signal_backend'))
          AND pg_catalog.pg_has_role(me.oid, g.oid, 'MEMBER')))sql";

// Write grants on tables and views, ownership, CREATE on the database or a schema, and EXECUTE on functions
// that reach outside a read-only query. System schemas are left out: every role sees them the same way.
// Large-object and file functions count only when their ACL is no longer the built-in one: by default PUBLIC
// may execute the large-object functions (they refuse to write in a read-only transaction) and nobody but
// superusers the file ones, so a default install has nothing to report. dblink counts however it was granted:
// it opens connections to other servers, where MetaHog's read-only transaction does not follow.
constexpr std::string_view lint_ctes = R"sql(,
user_schemas AS (
    SELECT n.oid, n.nspname, n.nspowner FROM pg_catalog.pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
),
writable AS (
    SELECT pg_catalog.format('%I.%I', s.nspname, c.relname) AS name,
           pg_catalog.array_remove(ARRAY[
               CASE WHEN pg_catalog.has_any_column_privilege(me.oid, c.oid, 'INSERT') THEN 'INSERT' END,
               CASE WHEN pg_catalog.has_any_column_privilege(me.oid, c.oid, 'UPDATE') THEN 'UPDATE' END,
               CASE WHEN pg_catalog.has_table_privilege(me.oid, c.oid, 'DELETE') THEN 'DELETE' END,
               CASE WHEN pg_catalog.has_table_privilege(me.oid, c.oid, 'TRUNCATE') THEN 'TRUNCATE' END],
               NULL) AS privileges
    FROM pg_catalog.pg_class c JOIN user_schemas s ON s.oid = c.relnamespace CROSS JOIN me
    WHERE c.relkind IN ('r', 'p', 'v', 'f') AND NOT pg_catalog.pg_has_role(me.oid, c.relowner, 'MEMBER')
),
owned AS (
    SELECT 'database ' || pg_catalog.quote_ident(d.datname) AS name
    FROM pg_catalog.pg_database d CROSS JOIN me
    WHERE d.datname = pg_catalog.current_database() AND pg_catalog.pg_has_role(me.oid, d.datdba, 'MEMBER')
    UNION ALL
    SELECT 'schema ' || pg_catalog.quote_ident(s.nspname) FROM user_schemas s CROSS JOIN me
    WHERE pg_catalog.pg_has_role(me.oid, s.nspowner, 'MEMBER')
    UNION ALL
    SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence '
               WHEN 'f' THEN 'foreign table ' ELSE 'table ' END
           || pg_catalog.format('%I.%I', s.nspname, c.relname)
    FROM pg_catalog.pg_class c JOIN user_schemas s ON s.oid = c.relnamespace CROSS JOIN me
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND pg_catalog.pg_has_role(me.oid, c.relowner, 'MEMBER')
    UNION ALL
    SELECT 'function ' || p.oid::pg_catalog.regprocedure::pg_catalog.text
    FROM pg_catalog.pg_proc p JOIN user_schemas s ON s.oid = p.pronamespace CROSS JOIN me
    WHERE pg_catalog.pg_has_role(me.oid, p.proowner, 'MEMBER')
),
creatable AS (
    SELECT 'database ' || pg_catalog.quote_ident(pg_catalog.current_database()) AS name FROM me
    WHERE pg_catalog.has_database_privilege(me.oid, pg_catalog.current_database(), 'CREATE')
    UNION ALL
    SELECT 'schema ' || pg_catalog.quote_ident(s.nspname) FROM user_schemas s CROSS JOIN me
    WHERE pg_catalog.has_schema_privilege(me.oid, s.oid, 'CREATE')
),
risky_functions AS (
    SELECT DISTINCT pg_catalog.format('%I.%I', n.nspname, p.proname) AS name,
           pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') AS through_public
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace CROSS JOIN me
    WHERE (p.proname LIKE 'dblink%'
           OR (p.proname IN ('lo_import', 'lo_export', 'lo_unlink', 'lo_put', 'lo_from_bytea', 'lowrite',
                             'lo_create', 'lo_creat', 'lo_truncate', 'lo_truncate64', 'lo_open',
                             'pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file')
               AND p.proacl IS NOT NULL))
      AND pg_catalog.has_function_privilege(me.oid, p.oid, 'EXECUTE')
))sql";

constexpr std::string_view lint_fields = R"sql(,
    'writable', (
        SELECT pg_catalog.json_build_object(
            'count', pg_catalog.count(*),
            'insert', pg_catalog.count(*) FILTER (WHERE 'INSERT' = ANY (w.privileges)),
            'update', pg_catalog.count(*) FILTER (WHERE 'UPDATE' = ANY (w.privileges)),
            'delete', pg_catalog.count(*) FILTER (WHERE 'DELETE' = ANY (w.privileges)),
            'truncate', pg_catalog.count(*) FILTER (WHERE 'TRUNCATE' = ANY (w.privileges)),
            'examples', (SELECT COALESCE(pg_catalog.json_agg(x.name || ' (' ||
                                             pg_catalog.array_to_string(x.privileges, ', ') || ')'), '[]')
                         FROM (SELECT * FROM writable WHERE privileges <> '{}' ORDER BY name LIMIT $1) x))
        FROM writable w WHERE w.privileges <> '{}'),
    'owned', (
        SELECT pg_catalog.json_build_object('count', pg_catalog.count(*), 'examples',
            (SELECT COALESCE(pg_catalog.json_agg(x.name), '[]')
             FROM (SELECT name FROM owned ORDER BY name LIMIT $1) x))
        FROM owned),
    'creatable', (
        SELECT pg_catalog.json_build_object('count', pg_catalog.count(*), 'examples',
            (SELECT COALESCE(pg_catalog.json_agg(x.name), '[]')
             FROM (SELECT name FROM creatable ORDER BY name LIMIT $1) x))
        FROM creatable),
    'functions', (
        SELECT pg_catalog.json_build_object('count', pg_catalog.count(*),
            'through_public', COALESCE(pg_catalog.bool_or(through_public), false), 'examples',
            (SELECT COALESCE(pg_catalog.json_agg(x.name), '[]')
             FROM (SELECT DISTINCT name FROM risky_functions ORDER BY name LIMIT $1) x))
        FROM (SELECT DISTINCT name, through_public FROM risky_functions) f))sql";

constexpr std::string_view closing = R"sql(
) FROM me)sql";

const std::string gate_sql = std::string(gate_ctes) + std::string(gate_fields) + std::string(closing);
const std::string full_sql = std::string(gate_ctes) + std::string(lint_ctes) + std::string(gate_fields) +
                             std::string(lint_fields) + std::string(closing);

std::string quoted(std::string_view name) {
    return "\"" + std::string(name) + "\"";
}

std::string plural(std::int64_t count, std::string_view one, std::string_view many) {
    return std::to_string(count) + " " + std::string(count == 1 ? one : many);
}

// The fields of an object the query always returns; a missing one is a bug in the query.
struct reader {
    const json::object& object;
    bool ok = true;

    bool flag(std::string_view key) {
        const json::value* value = object.if_contains(key);
        if (value == nullptr || !value->is_bool()) {
            ok = false;
            return false;
        }
        return value->as_bool();
    }
    std::string text(std::string_view key) {
        const json::value* value = object.if_contains(key);
        if (value == nullptr || !value->is_string()) {
            ok = false;
            return {};
        }
        return std::string(value->as_string());
    }
    std::int64_t number(std::string_view key) {
        const json::value* value = object.if_contains(key);
        if (value == nullptr || !value->is_int64()) {
            ok = false;
            return 0;
        }
        return value->as_int64();
    }
    std::vector<std::string> texts(std::string_view key) {
        std::vector<std::string> out;
        const json::value* value = object.if_contains(key);
        if (value == nullptr || !value->is_array()) {
            ok = false;
            return out;
        }
        for (const auto& item : value->as_array()) {
            if (item.is_string()) {
                out.emplace_back(item.as_string());
            }
        }
        return out;
    }
    const json::object* child(std::string_view key) {
        const json::value* value = object.if_contains(key);
        if (value == nullptr || !value->is_object()) {
            ok = false;
            return nullptr;
        }
        return &value->as_object();
    }
};

void read_refusals(reader& me, role_verdict& verdict) {
    if (me.flag("superuser")) {
        // A superuser is a member of everything; its memberships would only repeat this.
        verdict.refusals.emplace_back("it is a superuser");
        return;
    }
    if (me.flag("replication")) {
        verdict.refusals.emplace_back(
            "it has the REPLICATION attribute (it can stream every table's changes)");
    }
    if (me.flag("bypassrls")) {
        verdict.refusals.emplace_back(
            "it has the BYPASSRLS attribute (row-level security does not apply to it)");
    }
    const json::value* memberships = me.object.if_contains("memberships");
    if (memberships == nullptr || !memberships->is_array()) {
        me.ok = false;
        return;
    }
    for (const auto& item : memberships->as_array()) {
        if (!item.is_object()) {
            me.ok = false;
            return;
        }
        reader group{item.as_object()};
        const std::string name = group.text("role");
        const std::string how = group.flag("direct") ? "" : " (through another role)";
        std::vector<std::string> powers;
        if (group.flag("superuser")) {
            powers.emplace_back("a superuser");
        }
        if (group.flag("replication")) {
            powers.emplace_back("has REPLICATION");
        }
        if (group.flag("bypassrls")) {
            powers.emplace_back("has BYPASSRLS");
        }
        if (!group.ok) {
            me.ok = false;
            return;
        }
        if (powers.empty()) {
            verdict.refusals.push_back("it is a member of " + name + how);
            continue;
        }
        std::string what;
        for (const auto& power : powers) {
            what += (what.empty() ? "" : " and ") + (power == "a superuser" ? "is " + power : power);
        }
        verdict.refusals.push_back("it is a member of " + quoted(name) + how + ", which " + what +
                                   ", and can SET ROLE to it");
    }
}

void read_warnings(reader& me, role_verdict& verdict) {
    if (const json::object* writable = me.child("writable")) {
        reader found{*writable};
        const auto count = found.number("count");
        if (count > 0) {
            std::string kinds;
            const std::array<std::pair<std::string_view, std::string_view>, 4> privileges{
                {{"insert", "INSERT"}, {"update", "UPDATE"}, {"delete", "DELETE"}, {"truncate", "TRUNCATE"}}};
            for (const auto& [key, name] : privileges) {
                if (const auto on = found.number(key); on > 0) {
                    kinds += (kinds.empty() ? "" : ", ") + std::string(name) + " on " + std::to_string(on);
                }
            }
            verdict.warnings.push_back(role_warning{
                "write_grant",
                "the role may write to " + plural(count, "table or view", "tables or views") + " (" + kinds +
                    "); MetaHog's read-only transactions stop these writes, but a "
                    "read-only role would not depend on them",
                found.texts("examples")});
        }
        me.ok = me.ok && found.ok;
    }
    if (const json::object* owned = me.child("owned")) {
        reader found{*owned};
        if (const auto count = found.number("count"); count > 0) {
            verdict.warnings.push_back(
                role_warning{"owns_objects",
                             "the role owns " + plural(count, "object", "objects") +
                                 "; an owner may change or drop them and grant itself any privilege on them",
                             found.texts("examples")});
        }
        me.ok = me.ok && found.ok;
    }
    if (const json::object* creatable = me.child("creatable")) {
        reader found{*creatable};
        if (const auto count = found.number("count"); count > 0) {
            verdict.warnings.push_back(role_warning{
                "create_privilege",
                "the role has CREATE on " + plural(count, "database or schema", "databases or schemas") +
                    ": it may create objects there",
                found.texts("examples")});
        }
        me.ok = me.ok && found.ok;
    }
    if (const json::object* functions = me.child("functions")) {
        reader found{*functions};
        if (const auto count = found.number("count"); count > 0) {
            std::string message = "the role may execute " + plural(count, "function", "functions") +
                                  " that reach beyond a read-only query (dblink connects to other servers; "
                                  "large-object and file functions write data or read the server's files)";
            if (found.flag("through_public")) {
                message += "; some are granted to PUBLIC, so every role has them";
            }
            verdict.warnings.push_back(
                role_warning{"dangerous_function", std::move(message), found.texts("examples")});
        }
        me.ok = me.ok && found.ok;
    }
}

}  // namespace

std::string_view role_inspection_sql(role_inspection depth) {
    return depth == role_inspection::gate ? gate_sql : full_sql;
}

result<role_verdict> read_role_verdict(std::string_view json_text) {
    boost::system::error_code ec;
    json::value document = json::parse(json_text, ec);
    if (ec || !document.is_object()) {
        return make_error(error_code::internal, "the role inspection did not answer a JSON object");
    }
    reader me{document.as_object()};
    role_verdict verdict;
    verdict.role = me.text("role");
    read_refusals(me, verdict);
    if (me.object.contains("writable")) {
        read_warnings(me, verdict);
    }
    if (!me.ok) {
        return make_error(error_code::internal, "the role inspection answered an unexpected shape");
    }
    return verdict;
}

error unsafe_role_error(const role_verdict& verdict) {
    std::string reasons;
    for (const auto& reason : verdict.refusals) {
        reasons += (reasons.empty() ? "" : "; ") + reason;
    }
    auto failure =
        make_error(error_code::unsafe_database_role, "MetaHog refuses to connect as the database role " +
                                                         quoted(verdict.role) + ": " + reasons);
    failure.detail =
        "Such a role can read or write the server's files, run programs on it, stop other sessions "
        "or see past row-level security, which no read-only transaction prevents.";
    failure.hint =
        "Connect as a role without SUPERUSER, REPLICATION or BYPASSRLS that is not a member of "
        "pg_execute_server_program, pg_read_server_files, pg_write_server_files or "
        "pg_signal_backend; " +
        std::string(read_only_role_recipe) + ".";
    return failure;
}

boost::asio::awaitable<result<role_verdict>> inspect_role(pg_connection& connection, role_inspection depth) {
    const std::string limit = std::to_string(examples_shown);
    const std::array<const char*, 1> with_limit{limit.c_str()};
    const auto sql = role_inspection_sql(depth);
    auto answered =
        co_await run_statement(connection, sql,
                               depth == role_inspection::full ? std::span<const char* const>(with_limit)
                                                              : std::span<const char* const>());
    if (!answered) {
        auto failure = std::move(answered).error();
        if (failure.code == error_code::query_failed) {
            // The statement is ours: a failure means the role could not be checked, so it is not used.
            failure.code = error_code::source_connection_failed;
            failure.message = "could not check the database role's privileges: " + failure.message;
        }
        co_return failure;
    }
    const PGresult* rows = answered->get();
    if (PQresultStatus(rows) != PGRES_TUPLES_OK || PQntuples(rows) != 1 || PQnfields(rows) != 1 ||
        PQgetisnull(rows, 0, 0) != 0) {
        co_return make_error(
            error_code::source_connection_failed,
            "could not check the database role's privileges: the role was not found in pg_roles");
    }
    auto verdict = read_role_verdict(PQgetvalue(rows, 0, 0));
    if (!verdict) {
        co_return std::move(verdict).error();
    }
    if (!verdict->refusals.empty()) {
        co_return unsafe_role_error(*verdict);
    }
    co_return std::move(*verdict);
}

boost::asio::awaitable<result<void>> gate_role(pg_connection& connection) {
    auto verdict = co_await inspect_role(connection, role_inspection::gate);
    if (!verdict) {
        co_return std::move(verdict).error();
    }
    co_return result<void>();
}

}  // namespace metahog::drivers::postgres
