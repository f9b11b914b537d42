// Unit tests of the parser wall (src/sql): what it refuses, what it lets through, the positions it reports
// and how it removes a source's prefix. Each test says which user-facing promise or bypass it guards.
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <functional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "sql/analyze.hpp"
#include "sql/policy.hpp"
#include "sql/positions.hpp"
#include "sql/prefix.hpp"

namespace metahog::sql {
namespace {

result<analyzed_statement> check(std::string_view sql) {
    return analyze(sql, query_policy::defaults());
}

// Asserts a refusal with `code` whose message contains `needle`; returns the error for further checks.
error expect_refused(std::string_view sql, error_code code, std::string_view needle) {
    auto analyzed = check(sql);
    EXPECT_FALSE(analyzed.has_value()) << "accepted: " << sql;
    if (analyzed.has_value()) {
        return {};
    }
    const error& e = analyzed.error();
    EXPECT_EQ(e.code, code) << sql << " → " << e.message;
    EXPECT_NE(e.message.find(needle), std::string::npos) << sql << " → " << e.message;
    return e;
}

analyzed_statement expect_allowed(std::string_view sql) {
    auto analyzed = check(sql);
    EXPECT_TRUE(analyzed.has_value()) << sql << " → " << (analyzed ? "" : analyzed.error().message);
    return analyzed.has_value() ? *analyzed : analyzed_statement{};
}

// ---------------------------------------------------------------------------------------------------------
// Positions: every error position a user sees goes through these conversions.

// Guards: ASCII text maps byte offsets to positions one to one, 1-based.
TEST(sql_positions, ascii_offsets_are_one_based_characters) {
    EXPECT_EQ(char_position_from_byte_offset("select", 0), 1);
    EXPECT_EQ(char_position_from_byte_offset("select", 5), 6);
    EXPECT_EQ(byte_offset_from_char_position("select", 1), 0U);
    EXPECT_EQ(byte_offset_from_char_position("select", 6), 5U);
}

// Guards: after multibyte characters a position counts characters, not bytes (as Postgres reports them).
TEST(sql_positions, multibyte_characters_count_once) {
    const std::string text = "select 'héllo€' x";  // é is 2 bytes, € is 3
    const std::size_t x_byte = text.find(" x") + 1;
    EXPECT_EQ(char_position_from_byte_offset(text, x_byte), 17);
    EXPECT_EQ(byte_offset_from_char_position(text, 17), x_byte);
    EXPECT_EQ(char_count(text), 17);
}

// Guards: an offset inside a multibyte character points at that character, and the end maps to length + 1
// (where Postgres points for "at end of input").
TEST(sql_positions, inner_bytes_and_end_of_text) {
    const std::string text = "a€b";
    EXPECT_EQ(char_position_from_byte_offset(text, 1), 2);
    EXPECT_EQ(char_position_from_byte_offset(text, 2), 2);
    EXPECT_EQ(char_position_from_byte_offset(text, 3), 2);
    EXPECT_EQ(char_position_from_byte_offset(text, 4), 3);
    EXPECT_EQ(char_position_from_byte_offset(text, 5), 4);
    EXPECT_EQ(char_position_from_byte_offset(text, 500), 4);
    EXPECT_EQ(byte_offset_from_char_position(text, 0), 0U);
    EXPECT_EQ(byte_offset_from_char_position(text, 99), text.size());
}

// Guards: the UTF-8 check rejects what Postgres rejects (overlong forms, surrogates, > U+10FFFF, truncation)
// and accepts 4-byte characters.
TEST(sql_positions, strict_utf8_validation) {
    EXPECT_FALSE(first_invalid_utf8_byte("plain ascii").has_value());
    EXPECT_FALSE(first_invalid_utf8_byte("emoji 😀 and ü").has_value());
    EXPECT_EQ(first_invalid_utf8_byte("ab\xC0\xAF"), 2U);        // overlong '/'
    EXPECT_EQ(first_invalid_utf8_byte("a\xED\xA0\x80"), 1U);     // UTF-16 surrogate
    EXPECT_EQ(first_invalid_utf8_byte("\xF4\x90\x80\x80"), 0U);  // above U+10FFFF
    EXPECT_EQ(first_invalid_utf8_byte("abc\xE2\x82"), 3U);       // truncated €
    EXPECT_EQ(first_invalid_utf8_byte("x\x80"), 1U);             // stray continuation byte
    EXPECT_EQ(first_invalid_utf8_byte("x\xFF"), 1U);
}

// ---------------------------------------------------------------------------------------------------------
// Input checks that run before the parser.

// Guards: a NUL byte would cut the C string handed to the parser, so the server could run text we never saw.
TEST(sql_input, nul_byte_is_refused_before_parsing) {
    const std::string sql("select 1\0; drop table film", 26);
    const error e = expect_refused(sql, error_code::invalid_input, "NUL");
    EXPECT_EQ(e.position, 9);
    EXPECT_EQ(e.field, "sql");
}

// Guards: invalid UTF-8 never reaches the parser, and the position says where it is.
TEST(sql_input, invalid_utf8_is_refused_before_parsing) {
    const error e = expect_refused("select 'é\xFF'", error_code::invalid_input, "UTF-8");
    EXPECT_EQ(e.position, 10);
}

// Guards: empty and comment-only SQL gets a clear invalid_input, not a confusing parser or server message.
TEST(sql_input, empty_and_comment_only_sql) {
    expect_refused("", error_code::invalid_input, "empty");
    expect_refused("   \n\t ", error_code::invalid_input, "empty");
    expect_refused("-- just a note\n/* and another */", error_code::invalid_input, "no statement");
    expect_refused(" ; ;", error_code::invalid_input, "no statement");
}

// ---------------------------------------------------------------------------------------------------------
// Syntax errors: the parser's own message and position, as the server would give them.

// Guards: a syntax error is query_failed with SQLSTATE 42601 and the 1-based character position.
TEST(sql_syntax, syntax_error_has_sqlstate_and_position) {
    const error e = expect_refused("select * frm film", error_code::query_failed, "syntax error at or near");
    EXPECT_EQ(e.sqlstate, "42601");
    EXPECT_EQ(e.position, 10);  // "frm": a * cannot take an alias
}

// Guards: positions count characters after multibyte text, so the editor marks the right spot.
TEST(sql_syntax, position_after_multibyte_characters) {
    const error e = expect_refused("select 'ééé€' frm x", error_code::query_failed, "\"x\"");
    EXPECT_EQ(e.position, 19);
}

// Guards: an unterminated string reports where the string starts.
TEST(sql_syntax, unterminated_literal) {
    const error e =
        expect_refused("select 'ü', 'abc", error_code::query_failed, "unterminated quoted string");
    EXPECT_EQ(e.position, 13);
}

// Guards: an error at the very end points just past the last character.
TEST(sql_syntax, error_at_end_of_input) {
    const error e = expect_refused("select ü from", error_code::query_failed, "end of input");
    EXPECT_EQ(e.position, 14);
}

// Guards: a syntax error in a later statement is reported as such, at its own position, not as "two
// statements".
TEST(sql_syntax, syntax_error_in_second_statement) {
    const error e = expect_refused("select 1; selec 2", error_code::query_failed, "syntax error");
    EXPECT_EQ(e.position, 11);
}

// ---------------------------------------------------------------------------------------------------------
// Refused statement kinds: anything but a plain query is refused with a message naming what it is.

struct refused_case {
    const char* name;
    const char* sql;
    const char* kind_name;
    statement_kind kind;
};

// Printed by name in test output instead of as raw bytes.
void PrintTo(const refused_case& c, std::ostream* out) {
    *out << c.sql;
}

class sql_refused_kind : public ::testing::TestWithParam<refused_case> {};

// Guards: each statement kind that can change data, state or the session is refused, names its kind, and is
// classified for the audit log.
TEST_P(sql_refused_kind, is_refused_naming_its_kind) {
    const refused_case& c = GetParam();
    const error e = expect_refused(c.sql, error_code::statement_refused,
                                   std::string(c.kind_name) + " statements are not allowed");
    EXPECT_NE(e.message.find("read-only"), std::string::npos) << e.message;
    EXPECT_TRUE(e.position.has_value());
    const auto info = classify(c.sql);
    ASSERT_TRUE(info.has_value()) << c.sql;
    EXPECT_EQ(info->kind, c.kind) << c.sql << " classified as " << to_string(info->kind);
    EXPECT_EQ(info->kind_name, c.kind_name);
}

INSTANTIATE_TEST_SUITE_P(
    kinds, sql_refused_kind,
    ::testing::Values(
        refused_case{"insert", "INSERT INTO film (title) VALUES ('x')", "INSERT", statement_kind::insert},
        refused_case{"insert_select", "insert into film select * from film", "INSERT",
                     statement_kind::insert},
        refused_case{"update", "UPDATE film SET title = 'x'", "UPDATE", statement_kind::update},
        refused_case{"delete", "DELETE FROM film", "DELETE", statement_kind::delete_},
        refused_case{"merge", "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "MERGE",
                     statement_kind::merge},
        refused_case{"create_table", "CREATE TABLE t (id int)", "CREATE TABLE", statement_kind::ddl},
        refused_case{"create_table_as", "CREATE TABLE t AS SELECT 1", "CREATE TABLE AS", statement_kind::ddl},
        refused_case{"create_function", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'",
                     "CREATE FUNCTION", statement_kind::ddl},
        refused_case{"create_extension", "CREATE EXTENSION dblink", "CREATE EXTENSION", statement_kind::ddl},
        refused_case{"alter_table", "ALTER TABLE film ADD COLUMN x int", "ALTER TABLE", statement_kind::ddl},
        refused_case{"alter_view_rename", "ALTER VIEW v RENAME TO w", "ALTER VIEW", statement_kind::ddl},
        refused_case{"drop_table", "DROP TABLE film", "DROP TABLE", statement_kind::ddl},
        refused_case{"drop_matview", "DROP MATERIALIZED VIEW mv", "DROP MATERIALIZED VIEW",
                     statement_kind::ddl},
        refused_case{"truncate", "TRUNCATE film", "TRUNCATE TABLE", statement_kind::truncate},
        refused_case{"grant", "GRANT SELECT ON film TO public", "GRANT", statement_kind::ddl},
        refused_case{"revoke", "REVOKE SELECT ON film FROM public", "REVOKE", statement_kind::ddl},
        refused_case{"comment", "COMMENT ON TABLE film IS 'x'", "COMMENT", statement_kind::ddl},
        refused_case{"refresh", "REFRESH MATERIALIZED VIEW mv", "REFRESH MATERIALIZED VIEW",
                     statement_kind::ddl},
        refused_case{"begin", "BEGIN", "BEGIN", statement_kind::transaction_control},
        refused_case{"start_transaction", "START TRANSACTION READ WRITE", "START TRANSACTION",
                     statement_kind::transaction_control},
        refused_case{"commit", "COMMIT", "COMMIT", statement_kind::transaction_control},
        refused_case{"end", "END", "COMMIT", statement_kind::transaction_control},
        refused_case{"rollback", "ROLLBACK", "ROLLBACK", statement_kind::transaction_control},
        refused_case{"savepoint", "SAVEPOINT s", "SAVEPOINT", statement_kind::transaction_control},
        refused_case{"set_transaction", "SET TRANSACTION READ WRITE", "SET TRANSACTION", statement_kind::set},
        refused_case{"set_session_characteristics", "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
                     "SET SESSION CHARACTERISTICS", statement_kind::set},
        refused_case{"set", "SET statement_timeout = 0", "SET", statement_kind::set},
        refused_case{"set_local_role", "SET LOCAL ROLE postgres", "SET", statement_kind::set},
        refused_case{"reset", "RESET ALL", "RESET", statement_kind::set},
        refused_case{"set_constraints", "SET CONSTRAINTS ALL DEFERRED", "SET CONSTRAINTS",
                     statement_kind::set},
        refused_case{"show", "SHOW search_path", "SHOW", statement_kind::other},
        refused_case{"copy_to_program", "COPY film TO PROGRAM 'curl evil'", "COPY", statement_kind::copy},
        refused_case{"copy_from", "COPY film FROM '/tmp/x'", "COPY", statement_kind::copy},
        refused_case{"copy_query_to_stdout", "COPY (SELECT 1) TO STDOUT", "COPY", statement_kind::copy},
        refused_case{"call", "CALL do_things()", "CALL", statement_kind::call},
        refused_case{"do", "DO $$ BEGIN PERFORM pg_sleep(1); END $$", "DO", statement_kind::do_block},
        refused_case{"prepare", "PREPARE p AS SELECT 1", "PREPARE", statement_kind::prepare},
        refused_case{"execute", "EXECUTE p", "EXECUTE", statement_kind::execute},
        refused_case{"deallocate", "DEALLOCATE p", "DEALLOCATE", statement_kind::deallocate},
        refused_case{"deallocate_all", "DEALLOCATE ALL", "DEALLOCATE ALL", statement_kind::deallocate},
        refused_case{"lock", "LOCK TABLE film IN ACCESS EXCLUSIVE MODE", "LOCK TABLE", statement_kind::lock},
        refused_case{"vacuum", "VACUUM film", "VACUUM", statement_kind::maintenance},
        refused_case{"analyze", "ANALYZE film", "ANALYZE", statement_kind::maintenance},
        refused_case{"reindex", "REINDEX TABLE film", "REINDEX", statement_kind::maintenance},
        refused_case{"checkpoint", "CHECKPOINT", "CHECKPOINT", statement_kind::maintenance},
        refused_case{"listen", "LISTEN channel", "LISTEN", statement_kind::listen_notify},
        refused_case{"notify", "NOTIFY channel, 'x'", "NOTIFY", statement_kind::listen_notify},
        refused_case{"unlisten", "UNLISTEN *", "UNLISTEN", statement_kind::listen_notify},
        refused_case{"discard", "DISCARD ALL", "DISCARD ALL", statement_kind::discard},
        refused_case{"declare_cursor", "DECLARE c CURSOR FOR SELECT 1", "DECLARE CURSOR",
                     statement_kind::other},
        refused_case{"load", "LOAD 'auto_explain'", "LOAD", statement_kind::other},
        refused_case{"alter_system", "ALTER SYSTEM SET work_mem = '1TB'", "ALTER SYSTEM",
                     statement_kind::ddl},
        refused_case{"create_role", "CREATE USER mallory", "CREATE USER", statement_kind::ddl}),
    [](const ::testing::TestParamInfo<refused_case>& param_info) {
        return std::string(param_info.param.name);
    });

// Guards: the refusal points at the statement, after leading comments, not at the start of the text.
TEST(sql_refused, position_is_the_statement_start_after_comments) {
    const error e =
        expect_refused("-- clean up\n  DELETE FROM film", error_code::statement_refused, "DELETE");
    EXPECT_EQ(e.position, 15);
}

// Guards: users who try BEGIN or SHOW learn what to do instead.
TEST(sql_refused, hints_for_transactions_and_show) {
    EXPECT_NE(
        expect_refused("BEGIN", error_code::statement_refused, "BEGIN").hint.find("read-only transaction"),
        std::string::npos);
    EXPECT_NE(
        expect_refused("SHOW work_mem", error_code::statement_refused, "SHOW").hint.find("current_setting"),
        std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------
// More than one statement.

// Guards: a second statement is never sent, and the error points at it.
TEST(sql_multiple, two_selects_are_refused_at_the_second) {
    const error e =
        expect_refused("SELECT 1; SELECT 2", error_code::statement_refused, "only one statement is allowed");
    EXPECT_EQ(e.position, 11);
}

// Guards: the classic stacked query after a harmless first statement.
TEST(sql_multiple, commit_then_drop_is_refused) {
    const error e = expect_refused("COMMIT; DROP TABLE x", error_code::statement_refused,
                                   "only one statement is allowed");
    EXPECT_EQ(e.position, 9);
}

// Guards: the second statement's position skips the comments in front of it and counts characters.
TEST(sql_multiple, second_statement_position_after_comment_and_multibyte) {
    const error e = expect_refused("select 'ü'; /* next */ delete from film", error_code::statement_refused,
                                   "only one statement");
    EXPECT_EQ(e.position, 24);
}

// Guards: a semicolon inside a string or comment does not split, and a trailing semicolon is fine.
TEST(sql_multiple, semicolons_in_strings_comments_and_at_the_end) {
    expect_allowed("select ';' as a -- ; drop table film\n");
    expect_allowed("select 1 /* ; */;");
    expect_allowed("select 1;;");
}

// ---------------------------------------------------------------------------------------------------------
// Writes hidden inside queries.

// Guards: a data-modifying CTE runs its DELETE even though the outer statement is a SELECT.
TEST(sql_hidden_writes, writable_cte_is_refused) {
    const std::string sql = "WITH d AS (DELETE FROM film RETURNING *) SELECT * FROM d";
    const error e = expect_refused(sql, error_code::statement_refused, "WITH queries that change data");
    EXPECT_NE(e.message.find("DELETE"), std::string::npos);
    EXPECT_EQ(e.position, 6);
}

// Guards: a writable CTE nested under another CTE or an INSERT/UPDATE CTE is refused too.
TEST(sql_hidden_writes, other_writable_ctes) {
    expect_refused("WITH a AS (SELECT 1), u AS (UPDATE film SET title = 'x' RETURNING 1) SELECT * FROM a",
                   error_code::statement_refused, "UPDATE");
    expect_refused("WITH i AS (INSERT INTO t VALUES (1) RETURNING *) TABLE i", error_code::statement_refused,
                   "INSERT");
    expect_refused("EXPLAIN WITH d AS (DELETE FROM t RETURNING 1) SELECT 1", error_code::statement_refused,
                   "DELETE");
}

// Guards: EXPLAIN ANALYZE executes its statement, so EXPLAIN of a write must be refused (plain EXPLAIN too).
TEST(sql_hidden_writes, explain_of_writes_is_refused) {
    expect_refused("EXPLAIN ANALYZE DELETE FROM film", error_code::statement_refused,
                   "DELETE statements are not allowed, not even under EXPLAIN");
    expect_refused("EXPLAIN (ANALYZE, BUFFERS) UPDATE film SET title = ''", error_code::statement_refused,
                   "UPDATE");
    expect_refused("EXPLAIN INSERT INTO t VALUES (1)", error_code::statement_refused, "INSERT");
    expect_refused("EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1", error_code::statement_refused,
                   "CREATE TABLE AS");
    expect_refused("EXPLAIN EXECUTE p", error_code::statement_refused, "EXECUTE");
}

// Guards: SELECT … INTO creates a table; it must not pass as a SELECT.
TEST(sql_hidden_writes, select_into_is_refused) {
    const error e = expect_refused("SELECT * INTO stolen FROM film", error_code::statement_refused,
                                   "SELECT … INTO is not allowed");
    EXPECT_EQ(e.position, 15);
    expect_refused("EXPLAIN ANALYZE SELECT 1 INTO t", error_code::statement_refused, "INTO");
}

// Guards: row locks block other sessions' writes; every lock strength and subquery locks are refused.
TEST(sql_hidden_writes, row_locks_are_refused) {
    const error e = expect_refused("SELECT * FROM film FOR UPDATE", error_code::statement_refused,
                                   "FOR UPDATE is not allowed");
    EXPECT_EQ(e.position, 20);
    expect_refused("select * from film for share", error_code::statement_refused, "FOR SHARE");
    expect_refused("select * from film for no key update nowait", error_code::statement_refused,
                   "FOR NO KEY UPDATE");
    expect_refused("select * from film for key share skip locked", error_code::statement_refused,
                   "FOR KEY SHARE");
    expect_refused("select * from (select * from film for update) f", error_code::statement_refused,
                   "FOR UPDATE");
}

// ---------------------------------------------------------------------------------------------------------
// Denied functions: the classic bypasses of a read-only wall.

// Guards: reading server files.
TEST(sql_functions, pg_read_file_is_refused_with_name_and_position) {
    const error e =
        expect_refused("select pg_read_file('/etc/passwd')", error_code::statement_refused, "pg_read_file");
    EXPECT_EQ(e.position, 8);
}

// Guards: the deny list sees calls wherever they are: subqueries, CTEs, FROM, arguments, ORDER BY, EXPLAIN,
// window and aggregate filters, schema-qualified, upper-case unquoted.
TEST(sql_functions, denied_calls_are_found_anywhere) {
    for (const char* sql : {
             "select * from (select pg_read_file('/etc/passwd')) s",
             "with x as (select lo_import('/etc/passwd')) select * from x",
             "select * from pg_ls_dir('/')",
             "select * from rows from (pg_ls_dir('.'), generate_series(1, 2))",
             "select length(pg_read_binary_file('/etc/shadow')::text)",
             "select 1 order by pg_read_file('/x')",
             "select 1 where exists (select 1 where pg_terminate_backend(42))",
             "explain select pg_read_file('/etc/passwd')",
             "explain analyze select nextval('s')",
             "select count(*) filter (where pg_advisory_lock(1) is not null) from film",
             "select pg_catalog.pg_read_file('/etc/passwd')",
             "select PG_READ_FILE('/etc/passwd')",
             "select \"pg_read_file\"('/etc/passwd')",
             "select pg_catalog . /* spaced */ pg_read_file('/x')",
             "values (pg_notify('c', 'x'))",
             "select setval('s', 1)",
             "select pg_try_advisory_lock(1)",
             "select pg_create_logical_replication_slot('s', 'test_decoding')",
             "select pg_replication_origin_create('o')",
             "select lo_unlink(1)",
             "select lowrite(0, 'x')",
             "select pg_ls_waldir()",
         }) {
        expect_refused(sql, error_code::statement_refused, "is not allowed by MetaHog's query policy");
    }
}

// Guards: dblink runs statements on another connection, outside the read-only transaction.
TEST(sql_functions, dblink_family_is_refused) {
    expect_refused("select dblink_exec('dbname=x', 'drop table film')", error_code::statement_refused,
                   "dblink_exec");
    expect_refused("select * from dblink('dbname=x', 'select 1') as t(a int)", error_code::statement_refused,
                   "dblink");
    expect_refused("select public.dblink_connect('x')", error_code::statement_refused, "dblink_connect");
}

// Guards: U&"…" escapes spell a denied name without writing it; the parser decodes them, so do we.
TEST(sql_functions, unicode_escaped_name_is_refused) {
    expect_refused("select U&\"\\0070g_read_file\"('/etc/passwd')", error_code::statement_refused,
                   "pg_read_file");
    expect_refused("select U&\"!0070g_read_file\" UESCAPE '!'('/etc/passwd')", error_code::statement_refused,
                   "pg_read_file");
}

// Guards: a comment inside a qualified name still calls the function; inside an identifier it is a syntax
// error, never a way around the list.
TEST(sql_functions, comments_inside_names) {
    expect_refused("select pg_catalog/**/.pg_read_file('/x')", error_code::statement_refused, "pg_read_file");
    expect_refused("select pg_read/**/_file('/x')", error_code::query_failed, "syntax error");
}

// Guards: identifier case follows Postgres: a quoted upper-case name is a different function, not the denied
// one, and must not be refused by a case-insensitive match.
TEST(sql_functions, quoted_upper_case_name_is_a_different_function) {
    const auto analyzed = expect_allowed("select \"PG_READ_FILE\"('/etc/passwd')");
    ASSERT_EQ(analyzed.functions_called.size(), 1U);
    EXPECT_EQ(analyzed.functions_called[0], "PG_READ_FILE");
}

// Guards: the timeout bounds pg_sleep, so it stays usable (and is not caught by a prefix pattern).
TEST(sql_functions, pg_sleep_is_allowed) {
    expect_allowed("select pg_sleep(0.1)");
    expect_allowed("select pg_sleep_for('1 second')");
}

// Guards: set_config is the function form of SET; it may not switch off read-only mode or the limits.
TEST(sql_functions, set_config_of_protected_settings_is_refused) {
    for (const char* sql : {
             "SELECT set_config('transaction_read_only', 'off', true)",
             "SELECT set_config('TRANSACTION_READ_ONLY', 'off', true)",
             "SELECT pg_catalog.set_config('statement_timeout', '0', false)",
             "SELECT set_config('role', 'postgres', true)",
             "SELECT set_config('session_authorization', 'postgres', true)",
             "SELECT set_config('search_path', 'evil, public', true)",
             "SELECT set_config('app.tenant_id', '42', true)",
             "SELECT set_config('default_transaction_read_only', 'off', false)",
             "SELECT set_config('work_mem', '64GB', true)",
             "SELECT set_config(E'\\x72ole', 'postgres', true)",
             "SELECT set_config(U&'\\0072ole', 'postgres', true)",
             "SELECT set_config(new_value => 'postgres', setting_name => 'role', is_local => true)",
         }) {
        expect_refused(sql, error_code::statement_refused, "may not change the setting");
    }
}

// Guards: a computed setting name could be any setting, so it is refused.
TEST(sql_functions, set_config_with_computed_name_is_refused) {
    for (const char* sql : {
             "SELECT set_config(lower('ROLE'), 'postgres', true)",
             "SELECT set_config('ro' || 'le', 'postgres', true)",
             "SELECT set_config('role'::text, 'postgres', true)",
             "SELECT set_config(name, 'x', true) FROM settings",
             "SELECT set_config(new_value => 'x', is_local => true, setting_name => current_user)",
         }) {
        expect_refused(sql, error_code::statement_refused, "string literal");
    }
}

// Guards: harmless settings stay usable through set_config.
TEST(sql_functions, set_config_of_harmless_setting_is_allowed) {
    const auto analyzed = expect_allowed("SELECT set_config('application_name', 'report', true)");
    EXPECT_EQ(analyzed.functions_called, std::vector<std::string>{"set_config"});
}

// Guards: query_to_xml & co. run SQL given as a string; that SQL passes the same wall.
TEST(sql_functions, sql_in_strings_is_checked) {
    expect_allowed("select query_to_xml('select title from film', true, false, '')");
    const error e =
        expect_refused("select query_to_xml('select pg_read_file(''/etc/passwd'')', true, false, '')",
                       error_code::statement_refused, "the SQL passed to query_to_xml() is refused");
    EXPECT_NE(e.message.find("pg_read_file"), std::string::npos);
    EXPECT_EQ(e.position, 21);
    expect_refused("select query_to_xml('delete from film returning 1', true, false, '')",
                   error_code::statement_refused, "DELETE");
    expect_refused("select query_to_xml('select 1; select 2', true, false, '')",
                   error_code::statement_refused, "only one statement");
    expect_refused("select query_to_xml('select ' || 'pg_read_file(1)', true, false, '')",
                   error_code::statement_refused, "string literal");
    expect_refused(
        "select query_to_xml(query => 'select 1', nulls => true, tableforest => false, targetns => '')",
        error_code::statement_refused, "positional");
    expect_refused("select * from ts_stat('select pg_read_file(''/x'')::tsvector')",
                   error_code::statement_refused, "pg_read_file");
    expect_refused(
        "select query_to_xml('select query_to_xml(''select lo_import(''''/x'''')'', true, false, '''')',"
        " true, false, '')",
        error_code::statement_refused, "lo_import");
    expect_allowed("select * from crosstab('select 1, 2, 3', 2) as t(a int, b int)");
}

// Guards: a policy can deny schema-qualified names and patterns with a star anywhere.
TEST(sql_functions, policy_patterns) {
    query_policy policy;
    policy.denied_functions = {"audit.purge*", "pg_create_*_slot"};
    EXPECT_TRUE(denies_function(policy, {"audit", "purge_all"}));
    EXPECT_TRUE(denies_function(policy, {"purge_all"}));  // search_path may resolve it to audit
    EXPECT_FALSE(denies_function(policy, {"other", "purge_all"}));
    EXPECT_TRUE(denies_function(policy, {"pg_create_physical_slot"}));
    EXPECT_FALSE(denies_function(policy, {"pg_create_slot_x"}));
    EXPECT_TRUE(wildcard_match("*.*", "app.tenant"));
    EXPECT_FALSE(wildcard_match("*.*", "role"));
    EXPECT_TRUE(protects_setting(query_policy::defaults(), "Search_Path"));
    EXPECT_FALSE(protects_setting(query_policy::defaults(), "application_name"));
    EXPECT_FALSE(analyze("select purge_all()", policy).has_value());
    EXPECT_TRUE(analyze("select pg_read_file('/x')", policy).has_value());  // not in this policy
}

// Guards: when several things are wrong, the first one in the text is reported.
TEST(sql_functions, first_refusal_in_text_order) {
    const error e = expect_refused(
        "select a from t where pg_read_file('x') is null and lo_import('y') > 0 "
        "order by pg_ls_dir('z')",
        error_code::statement_refused, "pg_read_file");
    EXPECT_EQ(e.position, 23);
}

// ---------------------------------------------------------------------------------------------------------
// Allowed queries.

// Guards: ordinary analytical SQL passes and is reported as a query named SELECT.
TEST(sql_allowed, plain_queries) {
    for (const char* sql : {
             "SELECT 1", "select film_id, title from film where rating = 'PG' order by title limit 10",
             "SELECT * FROM film f JOIN film_actor fa USING (film_id) WHERE f.length > 100",
             "VALUES (1, 'a'), (2, 'b')", "TABLE film",
             "select rating, count(*) from film group by rating having count(*) > 10",
             "select title, rank() over (partition by rating order by length desc) from film",
             "select * from film where film_id in (select film_id from inventory)",
             "select 1 union all select 2 except select 3", "(select 1) order by 1",
             "select now(), current_user, extract(year from now())",
             "select 'insert into film values (1)' as not_a_statement", "select $$ drop table film; $$",
             "select 'pg_read_file(''/etc/passwd'')' as just_text", "select * from generate_series(1, 10) g",
             "select lo_get(1)", "select currval('s')",
             "select pg_advisory_unlock_all",  // a column, not a call
         }) {
        const auto analyzed = expect_allowed(sql);
        EXPECT_EQ(analyzed.kind, statement_kind::query) << sql;
        EXPECT_EQ(analyzed.kind_name, "SELECT") << sql;
        EXPECT_FALSE(analyzed.explain_analyze);
    }
}

// Guards: CTEs made only of queries pass, recursive ones too.
TEST(sql_allowed, read_only_ctes) {
    expect_allowed("WITH a AS (SELECT 1 AS x), b AS (SELECT x + 1 FROM a) SELECT * FROM b");
    expect_allowed(
        "WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t");
    expect_allowed("WITH m AS MATERIALIZED (TABLE film) SELECT count(*) FROM m");
}

// Guards: EXPLAIN and EXPLAIN ANALYZE of queries pass, and ANALYZE is reported because it executes.
TEST(sql_allowed, explain_and_explain_analyze) {
    auto plain = expect_allowed("EXPLAIN SELECT * FROM film");
    EXPECT_EQ(plain.kind, statement_kind::explain);
    EXPECT_EQ(plain.kind_name, "EXPLAIN");
    EXPECT_FALSE(plain.explain_analyze);
    EXPECT_TRUE(expect_allowed("EXPLAIN ANALYZE SELECT 1").explain_analyze);
    EXPECT_TRUE(expect_allowed("EXPLAIN (ANALYZE, FORMAT JSON) SELECT 1").explain_analyze);
    EXPECT_TRUE(expect_allowed("EXPLAIN (ANALYZE true) SELECT 1").explain_analyze);
    EXPECT_FALSE(expect_allowed("EXPLAIN (ANALYZE off, COSTS off) SELECT 1").explain_analyze);
    EXPECT_FALSE(expect_allowed("EXPLAIN (ANALYZE 0) VALUES (1)").explain_analyze);
    EXPECT_TRUE(expect_allowed("explain analyze with a as (select 1) select * from a").explain_analyze);
}

// Guards: the functions a query calls are listed once each, in order, as the parser names them.
TEST(sql_allowed, functions_called_are_listed) {
    const auto analyzed =
        expect_allowed("select lower(title), upper(title), lower(description), pg_catalog.now() from film");
    EXPECT_EQ(analyzed.functions_called, (std::vector<std::string>{"lower", "upper", "pg_catalog.now"}));
}

// Guards: the fingerprint groups the same query with other constants and layout, and differs across queries.
TEST(sql_allowed, fingerprint_ignores_constants_and_layout) {
    const auto a = expect_allowed("select * from film where film_id = 1");
    const auto b = expect_allowed("SELECT *\n  FROM film   WHERE film_id = 42 -- note");
    const auto c = expect_allowed("select * from actor where actor_id = 1");
    EXPECT_EQ(a.fingerprint.size(), 16U);
    EXPECT_EQ(a.fingerprint, b.fingerprint);
    EXPECT_NE(a.fingerprint, c.fingerprint);
}

std::string nested_subqueries(int levels) {
    std::string sql = "select ";
    for (int level = 0; level < levels; ++level) {
        sql += "(select ";
    }
    return sql + "1" + std::string(static_cast<std::size_t>(levels), ')');
}

std::string operator_chain(int terms) {
    std::string sql = "select x";
    for (int term = 0; term < terms; ++term) {
        sql += "+x";
    }
    return sql;
}

// Guards: absurdly nested SQL is refused cleanly, while ordinary nesting passes. libpg_query 15-4 recurses
// over its tree without a stack guard: `select x+x+…` with 200,000 terms used to crash the whole server.
TEST(sql_nesting, deep_sql_is_refused_not_crashing) {
    expect_allowed(nested_subqueries(100));
    expect_allowed(operator_chain(2000));
    expect_allowed("select 1 where " + [] {
        std::string ors = "id = 0";
        for (int term = 1; term < 20000; ++term) {
            ors += " or id = " + std::to_string(term);  // flat in the tree: must not count as deep
        }
        return ors;
    }());
    for (const std::string& deep :
         {nested_subqueries(3000), nested_subqueries(20000), operator_chain(200000)}) {
        auto analyzed = check(deep);
        ASSERT_FALSE(analyzed.has_value());
        // Either our own limit or, past the parser's 10,000-entry stack, its "memory exhausted".
        EXPECT_TRUE(analyzed.error().code == error_code::statement_refused ||
                    analyzed.error().code == error_code::query_failed)
            << analyzed.error().message;
    }
    auto stripped = strip_source_prefix(operator_chain(200000) + " from pagila.t", "pagila", {});
    ASSERT_FALSE(stripped.has_value());
    EXPECT_EQ(stripped.error().code, error_code::statement_refused);
}

// Runs `work` on a thread with a 256 KiB stack (the size of many thread pools' and coroutine stacks).
void run_on_small_stack(const std::function<void()>& work) {
    pthread_attr_t attributes;
    ASSERT_EQ(pthread_attr_init(&attributes), 0);
    ASSERT_EQ(pthread_attr_setstacksize(&attributes, 256U * 1024U), 0);
    pthread_t thread{};
    auto trampoline = [](void* argument) -> void* {
        (*static_cast<const std::function<void()>*>(argument))();
        return nullptr;
    };
    ASSERT_EQ(pthread_create(&thread, &attributes, trampoline, const_cast<std::function<void()>*>(&work)), 0);
    pthread_join(thread, nullptr);
    pthread_attr_destroy(&attributes);
}

// Guards: the nesting limit follows the calling thread's stack, so a small-stack thread refuses instead of
// overflowing, and still accepts ordinary queries.
TEST(sql_nesting, small_thread_stacks_are_respected) {
    bool ordinary_accepted = false;
    std::vector<error_code> deep_codes;
    run_on_small_stack([&] {
        ordinary_accepted =
            check("select title, lower(title) from film where film_id in (1, 2, 3)").has_value();
        for (const std::string& deep : {nested_subqueries(400), operator_chain(6000)}) {
            auto analyzed = check(deep);
            deep_codes.push_back(analyzed ? error_code::internal : analyzed.error().code);
        }
    });
    EXPECT_TRUE(ordinary_accepted);
    EXPECT_EQ(deep_codes,
              (std::vector<error_code>{error_code::statement_refused, error_code::statement_refused}));
}

// Guards: libpg_query keeps its state per thread; concurrent requests must not corrupt each other.
TEST(sql_threads, concurrent_analysis_gives_consistent_answers) {
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int thread = 0; thread < 4; ++thread) {
        threads.emplace_back([&wrong, thread] {
            const query_policy policy = query_policy::defaults();
            for (int round = 0; round < 150; ++round) {
                const std::string good = "select title, lower(title) from film where film_id = " +
                                         std::to_string(thread * 1000 + round);
                const auto accepted = analyze(good, policy);
                if (!accepted || accepted->functions_called != std::vector<std::string>{"lower"}) {
                    ++wrong;
                }
                const auto refused = analyze("select pg_read_file('/etc/passwd')", policy);
                if (refused || refused.error().position != 8) {
                    ++wrong;
                }
                const auto syntax = analyze("select ü frm x", policy);
                if (syntax || syntax.error().position != 14) {
                    ++wrong;
                }
                const auto stripped = strip_source_prefix("select * from pagila.film", "pagila", {});
                if (!stripped || stripped->sql != "select * from film") {
                    ++wrong;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(wrong.load(), 0);
}

// ---------------------------------------------------------------------------------------------------------
// Prefix removal.

std::string strip(std::string_view sql, std::string_view prefix = "pagila",
                  const std::vector<std::string>& real_schemas = {"public"}) {
    auto rewritten = strip_source_prefix(sql, prefix, real_schemas);
    EXPECT_TRUE(rewritten.has_value()) << sql << " → " << (rewritten ? "" : rewritten.error().message);
    return rewritten ? rewritten->sql : std::string();
}

// Guards: the documented promise: `SELECT * FROM pagila.film` reaches the database as `SELECT * FROM film`.
TEST(sql_prefix, table_reference_is_stripped) {
    EXPECT_EQ(strip("SELECT * FROM pagila.film"), "SELECT * FROM film");
    EXPECT_EQ(strip("select f.title from pagila.film f join pagila.film_actor fa using (film_id)"),
              "select f.title from film f join film_actor fa using (film_id)");
    EXPECT_EQ(strip("TABLE pagila.film"), "TABLE film");
}

// Guards: identifier rules: unquoted names fold to lower case; quoted ones must match exactly.
TEST(sql_prefix, identifier_case_and_quotes) {
    EXPECT_EQ(strip("select * from PAGILA.film"), "select * from film");
    EXPECT_EQ(strip("select * from \"pagila\".film"), "select * from film");
    EXPECT_EQ(strip("select * from \"Pagila\".film"), "select * from \"Pagila\".film");
    EXPECT_EQ(strip("select * from pagila.film", "Pagila"), "select * from film");
    EXPECT_EQ(strip("select * from U&\"pagil\\0061\".film"), "select * from film");
}

// Guards: whitespace and comments between the prefix and the dot go with the prefix.
TEST(sql_prefix, whitespace_and_comments_around_the_dot) {
    EXPECT_EQ(strip("select * from pagila /* src */ . film"), "select * from  film");
    EXPECT_EQ(strip("select * from pagila.\n  film"), "select * from \n  film");
}

// Guards: the same text anywhere but a table or column qualifier stays: strings, comments, aliases, function
// names, a column or table named like the prefix.
TEST(sql_prefix, look_alikes_stay_untouched) {
    for (const char* sql : {
             "select 'pagila.film' as s from film",
             "select 1 -- from pagila.film\n",
             "select 1 /* pagila.film */",
             "select title as \"pagila.film\" from film",
             "select pagila.fn() from film",
             "select pagila.title from film pagila",
             "select pagila from film",
             "select (pagila).x from t",
             "select 1::pagila.mytype",
             "with pagila as (select 1 as film) select pagila.film from pagila",
             "select $$pagila.film$$",
         }) {
        EXPECT_EQ(strip(sql), sql);
    }
}

// Guards: three-part column references and qualified stars lose the prefix too.
TEST(sql_prefix, column_references) {
    EXPECT_EQ(strip("select pagila.film.title, pagila.film.* from pagila.film"),
              "select film.title, film.* from film");
    EXPECT_EQ(strip("select pagila.public.film.title from pagila.public.film"),
              "select public.film.title from public.film");
}

// Guards: the prefix in the catalog place (prefix.schema.table) is removed, never a real schema part.
TEST(sql_prefix, prefix_as_catalog) {
    EXPECT_EQ(strip("select * from pagila.public.film"), "select * from public.film");
    EXPECT_EQ(strip("select * from other.pagila.film"), "select * from other.pagila.film");
}

// Guards: references deep in the tree are found: subqueries, CTEs, joins, EXPLAIN, lateral, IN lists.
TEST(sql_prefix, references_anywhere_in_the_tree) {
    EXPECT_EQ(strip("with a as (select * from pagila.actor) select * from a where exists "
                    "(select 1 from pagila.film_actor fa where fa.actor_id = a.actor_id)"),
              "with a as (select * from actor) select * from a where exists "
              "(select 1 from film_actor fa where fa.actor_id = a.actor_id)");
    EXPECT_EQ(strip("explain analyze select * from pagila.film, lateral (select * from pagila.inventory) i"),
              "explain analyze select * from film, lateral (select * from inventory) i");
}

// Guards: a prefix that is a real schema of the source means that schema; nothing is removed.
TEST(sql_prefix, real_schema_is_left_alone) {
    EXPECT_EQ(strip("select * from pagila.film", "pagila", {"public", "pagila"}),
              "select * from pagila.film");
    EXPECT_EQ(strip("select * from public.film", "public", {"public"}), "select * from public.film");
}

// Guards: an empty prefix changes nothing.
TEST(sql_prefix, empty_prefix_is_a_no_op) {
    auto rewritten = strip_source_prefix("select * from pagila.film", "", {});
    ASSERT_TRUE(rewritten.has_value());
    EXPECT_EQ(rewritten->sql, "select * from pagila.film");
    EXPECT_TRUE(rewritten->cuts.empty());
    EXPECT_EQ(rewritten->original_position(15), 15);
}

// Guards: a server error position in the rewritten SQL maps back to the same character the user wrote,
// also after multibyte text and several cuts.
TEST(sql_prefix, positions_map_back_to_the_submitted_text) {
    const std::string submitted = "select 'é' from pagila.film f join pagila.actor a on nosuch = 1";
    auto rewritten = strip_source_prefix(submitted, "pagila", {});
    ASSERT_TRUE(rewritten.has_value());
    EXPECT_EQ(rewritten->sql, "select 'é' from film f join actor a on nosuch = 1");
    const auto rewritten_position = [&](std::string_view needle) {
        return char_position_from_byte_offset(rewritten->sql, rewritten->sql.find(needle));
    };
    const auto submitted_position = [&](std::string_view needle) {
        return char_position_from_byte_offset(submitted, submitted.find(needle));
    };
    EXPECT_EQ(rewritten->original_position(rewritten_position("nosuch")), submitted_position("nosuch"));
    EXPECT_EQ(rewritten->original_position(rewritten_position("film")), submitted_position("film"));
    EXPECT_EQ(rewritten->original_position(rewritten_position("actor")), submitted_position("actor"));
    EXPECT_EQ(rewritten->original_position(rewritten_position("'é'")), submitted_position("'é'"));
    EXPECT_EQ(rewritten->original_position(1), 1);
}

// Guards: prefix removal refuses text the parser cannot be given, and reports syntax errors like analyze.
TEST(sql_prefix, bad_input_is_an_error) {
    auto nul = strip_source_prefix(std::string("select 1\0", 9), "pagila", {});
    ASSERT_FALSE(nul.has_value());
    EXPECT_EQ(nul.error().code, error_code::invalid_input);
    auto syntax = strip_source_prefix("select * frm pagila.film", "pagila", {});
    ASSERT_FALSE(syntax.has_value());
    EXPECT_EQ(syntax.error().code, error_code::query_failed);
    EXPECT_EQ(syntax.error().sqlstate, "42601");
}

}  // namespace
}  // namespace metahog::sql
