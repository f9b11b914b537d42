// The parser wall: decides whether a user's SQL is one read-only query MetaHog may send to a source, and
// what kind of statement it is. Everything else is refused with a message that names the reason.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sql/policy.hpp"

namespace metahog::sql {

enum class statement_kind {
    query,  // SELECT, VALUES, TABLE, WITH … SELECT
    explain,
    insert,
    update,
    delete_,
    merge,
    truncate,             // Postgres logs it with the data modifications, not with DDL
    ddl,                  // CREATE/ALTER/DROP/GRANT/REVOKE/COMMENT/REFRESH …
    transaction_control,  // BEGIN/COMMIT/ROLLBACK/SAVEPOINT …
    set,                  // SET/RESET/SET TRANSACTION/SET CONSTRAINTS
    copy,
    call,
    do_block,
    prepare,
    execute,
    deallocate,
    lock,
    maintenance,  // VACUUM/ANALYZE/CLUSTER/REINDEX/CHECKPOINT
    listen_notify,
    discard,
    other,  // SHOW, DECLARE/FETCH/CLOSE, LOAD …
};

std::string_view to_string(statement_kind kind) noexcept;

struct statement_info {
    statement_kind kind = statement_kind::other;
    // What users read, as Postgres names the command: "SELECT", "INSERT", "CREATE TABLE", "COPY", "DO",
    // "BEGIN".
    std::string kind_name;
};

struct analyzed_statement {
    statement_kind kind = statement_kind::query;
    std::string kind_name;
    // EXPLAIN ANALYZE runs the query; callers may want to account for that.
    bool explain_analyze = false;
    // pg_query_fingerprint in hex: equal for queries that differ only in constants and whitespace.
    std::string fingerprint;
    // Every function the query calls, as the parser names it ("lower", "pg_catalog.now"), first call first,
    // each once.
    std::vector<std::string> functions_called;
};

// Accepts exactly one read-only query: SELECT, VALUES, TABLE, WITH whose parts are all plain queries, and
// EXPLAIN [ANALYZE] of those, calling no function the policy denies. Refusals:
//   invalid_input      empty or comment-only SQL, a NUL byte, invalid UTF-8 (checked before parsing);
//   query_failed       a syntax error: SQLSTATE 42601, the parser's message, its position;
//   statement_refused  more than one statement, any other kind of statement (also under EXPLAIN or inside
//                      WITH), SELECT … INTO, SELECT … FOR UPDATE/SHARE, a denied function, set_config of a
//                      protected setting, refused SQL inside query_to_xml & co.
// Every position is a 1-based character position in `sql`.
//
// The wall assumes the server reads SQL as libpg_query does: client_encoding UTF8 and
// standard_conforming_strings on. The driver must make sure of both on every connection.
// Safe to call from several threads at once (libpg_query keeps its state per thread; see
// detail/parse_tree.cpp). SQL nested too deeply for the calling thread's stack is refused, not parsed.
result<analyzed_statement> analyze(std::string_view sql, const query_policy& policy);

// The kind of the first statement in `sql`, without judging it (for audit records of refused statements).
result<statement_info> classify(std::string_view sql);

// pg_query_fingerprint in hex of any SQL the parser accepts, refused statements included (for audit records;
// analyze() gives it for accepted ones). Errors as classify's.
result<std::string> fingerprint(std::string_view sql);

}  // namespace metahog::sql
