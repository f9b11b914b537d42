// The bad-input suite (issue 5): every hostile input of the issue against the real `metahog serve` and the real
// Postgres of CTest's `pg` fixture, then proofs over a direct superuser connection that nothing was written and
// nothing leaked. Prints "PASS|FAIL <category> <name>: <expected / seen>" per case and "N passed, M failed".
//
// Sources use a dedicated non-superuser role that *may* write (DML on every table, CREATE on the schema), so a
// statement that got through would really change something: the proofs would see it.
//
// Adding a case: one line in the matching table (sql_cases, option_cases, …) or one report.check(...) call.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json.hpp>

#include "attack/attack_harness.hpp"
#include "attack/raw_http.hpp"
#include "support/http_client.hpp"
#include "support/postgres_instance.hpp"
#include "support/server_process.hpp"

namespace metahog::test_support {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::string fmt_seconds(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2fs", seconds);
    return text;
}

// Everything any client received, for the leak check at the end.
struct transcripts {
    std::mutex mutex;
    std::string all;
    void add(const std::string& text) {
        std::lock_guard lock(mutex);
        all += text;
    }
};
transcripts& received() {
    static transcripts value;
    return value;
}

// An http_client whose transcript joins the global one when it goes away.
class client : public http_client {
public:
    explicit client(unsigned short port) : http_client("127.0.0.1", port) {}
    ~client() { received().add(transcript()); }
};

// A user of one server: their API key and team.
struct party {
    std::string key;
    std::int64_t team_id = 0;
    std::int64_t user_id = 0;
    std::string path(const std::string& suffix) const {
        return "/api/environments/" + std::to_string(team_id) + "/" + suffix;
    }
};

party party_of(const json::object& bootstrap) {
    return party{std::string(bootstrap.at("api_key").as_string()), bootstrap.at("team_id").as_int64(),
                 bootstrap.at("user_id").as_int64()};
}

std::string random_hex(std::size_t bytes) {
    std::random_device device;
    std::string text;
    for (std::size_t i = 0; i < bytes * 2; ++i) {
        text += "0123456789abcdef"[device() % 16];
    }
    return text;
}

// The world the cases run in.
struct world {
    const postgres_instance* pg = nullptr;
    std::string database;
    std::string writer;
    std::string writer_password;
    std::string marker_prefix;  // /tmp/<…>: no file with this prefix may ever appear
    std::filesystem::path web_root;
    std::string outside_secret;  // content of a file beside web_root, never to be served
    std::vector<std::string> secrets;  // must never appear in a response or a log line
    std::vector<const server_process*> servers;
};

json::object job_inputs(const world& w, const std::string& database = {}) {
    return json::object{{"host", "127.0.0.1"},       {"port", w.pg->port()},
                        {"database", database.empty() ? w.database : database},
                        {"user", w.writer},          {"password", w.writer_password},
                        {"schema", "public"},        {"sslmode", "disable"}};
}

std::string create_source(http_client& http, const party& who, const world& w, const std::string& prefix) {
    auto reply = http.post_json(who.path("external_data_sources/"),
                                json::object{{"source_type", "Postgres"},
                                             {"prefix", prefix},
                                             {"query_only", true},
                                             {"job_inputs", job_inputs(w)}},
                                bearer(who.key));
    if (reply.status != 201) {
        throw std::runtime_error("creating a source failed: " + describe(reply));
    }
    return std::string(reply.json().at("id").as_string());
}

http_reply execute(http_client& http, const party& who, const std::string& source, const std::string& sql,
                   json::object extra = {}) {
    json::object body{{"source_id", source}, {"sql", sql}, {"max_rows", 10}, {"timeout_ms", 5000}};
    for (auto& item : extra) {
        body[item.key()] = item.value();
    }
    return http.post_json(who.path("direct_query/execute"), body, bearer(who.key));
}

// ---------------------------------------------------------------------------------------------------------------
// Verdict helpers.

verdict expect_error(const http_reply& reply, unsigned status, const std::string& code,
                     const std::string& field = {}) {
    const bool ok = reply.status == status && (code.empty() || json_string(reply, "code") == code) &&
                    (field.empty() || json_string(reply, "field") == field);
    std::string expected = std::to_string(status) + (code.empty() ? "" : " " + code) +
                           (field.empty() ? "" : " field=" + field);
    return {ok, "expected " + expected + "; seen " + describe(reply)};
}

enum class expect {
    refused,    // 400 statement_refused: MetaHog refused it before sending
    read_only,  // 400 query_failed with a 25xxx SQLSTATE: the read-only transaction stopped it
    rejected,   // any 400 (refused, invalid, the database's own error): nothing ran
    invalid,    // 400 invalid_input
    ok,         // 200: harmless, and the proofs show nothing changed
};

std::string name_of(expect what) {
    switch (what) {
        case expect::refused: return "400 statement_refused";
        case expect::read_only: return "400 query_failed sqlstate=25xxx";
        case expect::rejected: return "400";
        case expect::invalid: return "400 invalid_input";
        case expect::ok: return "200";
    }
    return "?";
}

verdict judge(const http_reply& reply, expect what) {
    const std::string code = json_string(reply, "code");
    bool ok = false;
    switch (what) {
        case expect::refused: ok = reply.status == 400 && code == "statement_refused"; break;
        case expect::read_only:
            ok = reply.status == 400 && code == "query_failed" && json_string(reply, "sqlstate").starts_with("25");
            break;
        case expect::rejected: ok = reply.status == 400; break;
        case expect::invalid: ok = reply.status == 400 && code == "invalid_input"; break;
        case expect::ok: ok = reply.status == 200; break;
    }
    return {ok, "expected " + name_of(what) + "; seen " + describe(reply)};
}

// ---------------------------------------------------------------------------------------------------------------
// Set-up of the database the attacks aim at.

void create_attack_database(world& w) {
    const auto& pg = *w.pg;
    const std::string db = postgres_instance::identifier(w.database);
    const std::string role = postgres_instance::identifier(w.writer);
    pg.execute("CREATE ROLE " + role + " LOGIN PASSWORD " + postgres_instance::literal(w.writer_password));
    pg.execute("CREATE DATABASE " + db);
    pg.execute("GRANT CONNECT, CREATE, TEMPORARY ON DATABASE " + db + " TO " + role);
    const std::string marker = w.marker_prefix;
    pg.execute(R"sql(
CREATE TABLE films (id int PRIMARY KEY, title text NOT NULL, price numeric(6,2));
INSERT INTO films SELECT g, 'film ' || g, g * 1.25 FROM generate_series(1, 500) g;
CREATE TABLE customers (id serial PRIMARY KEY, email text, card text);
INSERT INTO customers (email, card) SELECT 'c' || g || '@example.com', 'card-' || g FROM generate_series(1, 200) g;
CREATE TABLE audit_sink (id serial PRIMARY KEY, what text, at timestamptz DEFAULT now());
CREATE TABLE wide (id int, payload text);
INSERT INTO wide SELECT g, repeat('x', 2000) FROM generate_series(1, 100) g;
CREATE SEQUENCE attack_seq;
CREATE VIEW film_titles AS SELECT id, title FROM films;
CREATE MATERIALIZED VIEW film_count AS SELECT count(*) AS n FROM films;
-- Writes hidden behind functions the parser cannot see into.
CREATE FUNCTION attack_write() RETURNS int LANGUAGE sql VOLATILE AS
  $$ INSERT INTO audit_sink (what) VALUES ('sql function wrote') RETURNING 1 $$;
CREATE FUNCTION attack_plpgsql_write() RETURNS int LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN INSERT INTO audit_sink (what) VALUES ('plpgsql wrote'); RETURN 1; END $$;
CREATE FUNCTION attack_nextval() RETURNS bigint LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN RETURN nextval('attack_seq'); END $$;
CREATE FUNCTION attack_read_write() RETURNS text LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN PERFORM set_config('transaction_read_only', 'off', true);
           INSERT INTO audit_sink (what) VALUES ('read-write'); RETURN 'done'; END $$;
CREATE FUNCTION attack_dynamic(text) RETURNS int LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN EXECUTE $1; RETURN 1; END $$;
CREATE FUNCTION attack_temp_table() RETURNS int LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN CREATE TEMP TABLE scratch (x int); RETURN 1; END $$;
CREATE FUNCTION attack_advisory() RETURNS bool LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN PERFORM pg_advisory_lock(4242); RETURN true; END $$;
CREATE FUNCTION attack_session_setting() RETURNS text LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN RETURN set_config('default_transaction_read_only', 'off', false); END $$;
CREATE FUNCTION attack_notify() RETURNS int LANGUAGE plpgsql VOLATILE AS
  $$ BEGIN PERFORM pg_notify('attack', 'x'); RETURN 1; END $$;
CREATE PROCEDURE attack_proc() LANGUAGE sql AS $$ INSERT INTO audit_sink (what) VALUES ('procedure wrote') $$;
SELECT lo_from_bytea(0, 'existing large object');
)sql",
               w.database);
    pg.execute("GRANT USAGE, CREATE ON SCHEMA public TO " + role +
                   "; GRANT ALL ON ALL TABLES IN SCHEMA public TO " + role +
                   "; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + role +
                   "; GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO " + role +
                   "; GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA public TO " + role,
               w.database);
    (void)marker;
}

// What must not change: every table's rows, the sequence, the catalog of the attack database, the role.
std::map<std::string, std::string> snapshot(const world& w) {
    std::map<std::string, std::string> state;
    const auto& pg = *w.pg;
    const auto tables = pg.query(
        "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
        w.database);
    for (const auto& row : tables) {
        const std::string table = *row[0];
        state["table " + table] = *pg.query("SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|' ORDER BY "
                                            "t::text), '')) FROM " +
                                                table + " t",
                                            w.database)[0][0];
    }
    state["sequence attack_seq"] =
        *pg.query("SELECT last_value || ',' || is_called FROM attack_seq", w.database)[0][0];
    state["matview film_count"] = *pg.query("SELECT n::text FROM film_count", w.database)[0][0];
    state["catalog"] = *pg.query(
        "SELECT concat_ws(',', (SELECT count(*) FROM pg_class), (SELECT count(*) FROM pg_proc), "
        "(SELECT count(*) FROM pg_largeobject_metadata), (SELECT count(*) FROM pg_namespace), "
        "(SELECT count(*) FROM pg_trigger), (SELECT count(*) FROM pg_event_trigger), "
        "(SELECT count(*) FROM pg_extension), (SELECT count(*) FROM pg_policy), (SELECT count(*) FROM pg_rewrite), "
        "(SELECT count(*) FROM pg_type), (SELECT count(*) FROM pg_attribute), "
        "(SELECT md5(string_agg(relname || relacl::text, ',' ORDER BY relname)) FROM pg_class "
        " WHERE relnamespace = 'public'::regnamespace AND relacl IS NOT NULL), "
        "(SELECT md5(coalesce(string_agg(loid || ':' || md5(data), ',' ORDER BY loid, pageno), '')) "
        " FROM pg_largeobject))",
        w.database)[0][0];
    const std::string role = postgres_instance::literal(w.writer);
    state["role"] = *pg.query(
        "SELECT concat_ws(',', rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolconnlimit, "
        "(SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid), "
        "(SELECT count(*) FROM pg_database d WHERE d.datdba = r.oid), "
        "(SELECT count(*) FROM pg_db_role_setting s WHERE s.setrole = r.oid), "
        "(SELECT count(*) FROM pg_replication_slots), (SELECT count(*) FROM pg_prepared_xacts)) "
        "FROM pg_roles r WHERE rolname = " + role)[0][0];
    state["database settings"] = *pg.query(
        "SELECT count(*)::text FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
        "WHERE d.datname = " + postgres_instance::literal(w.database))[0][0];
    return state;
}

// Write counters; they reach pg_stat only when a backend reports, so this is compared after the servers stop.
std::string write_counters(const world& w) {
    return *w.pg->query("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text || ',' || "
                        "coalesce(sum(n_live_tup), 0)::text FROM pg_stat_user_tables",
                        w.database)[0][0];
}

sql_rows writer_sessions(const world& w) {
    return w.pg->query("SELECT pid, state, coalesce(backend_xid::text, ''), left(query, 60) FROM pg_stat_activity "
                       "WHERE usename = " +
                       postgres_instance::literal(w.writer));
}

// Waits (polling the catalog, not sleeping blindly) until `sql` returns a row whose first column is `wanted`.
bool wait_for(const world& w, const std::string& sql, const std::string& wanted,
              std::chrono::milliseconds limit = 5000ms) {
    const auto deadline = clock_type::now() + limit;
    while (clock_type::now() < deadline) {
        const auto rows = w.pg->query(sql);
        if (!rows.empty() && rows[0][0] && *rows[0][0] == wanted) {
            return true;
        }
        std::this_thread::sleep_for(25ms);
    }
    return false;
}

// Sessions of the source role sleeping in pg_sleep (queries run through a cursor, so the text shows FETCH).
std::string running_sleeps_sql(const world& w) {
    return "SELECT count(*)::text FROM pg_stat_activity WHERE state = 'active' AND wait_event = 'PgSleep' AND "
           "usename = " +
           postgres_instance::literal(w.writer);
}

// ---------------------------------------------------------------------------------------------------------------
// Item 8: hostile SQL.

struct sql_case {
    std::string name;
    std::string sql;
    expect what;
};

std::vector<sql_case> sql_cases(const world& w) {
    const std::string m = w.marker_prefix;
    const std::string nested_parens = "SELECT " + std::string(60000, '(') + "1" + std::string(60000, ')');
    std::string operator_chain = "SELECT 1";
    for (int i = 0; i < 100000; ++i) {
        operator_chain += "+1";
    }
    std::string cast_chain = "SELECT 1";
    for (int i = 0; i < 60000; ++i) {
        cast_chain += "::int";
    }
    std::string not_chain = "SELECT ";
    for (int i = 0; i < 60000; ++i) {
        not_chain += "NOT ";
    }
    not_chain += "true";
    std::string subqueries = "SELECT ";
    for (int i = 0; i < 20000; ++i) {
        subqueries += "(SELECT ";
    }
    subqueries += "1" + std::string(20000, ')');
    std::string unions = "SELECT 1";
    for (int i = 0; i < 40000; ++i) {
        unions += " UNION SELECT 1";
    }
    std::string cases = "SELECT ";
    for (int i = 0; i < 30000; ++i) {
        cases += "CASE WHEN true THEN ";
    }
    cases += "1";
    for (int i = 0; i < 30000; ++i) {
        cases += " END";
    }
    std::string arrays = "SELECT " + std::string(50000, '[');
    arrays = "SELECT ARRAY" + std::string(50000, '[') + "1" + std::string(50000, ']');
    std::string flat_list = "SELECT 1";
    for (int i = 0; i < 200000; ++i) {
        flat_list += ",1";
    }

    return {
        // Transaction escapes.
        {"commit_then_drop", "COMMIT; DROP TABLE films", expect::refused},
        {"rollback_then_delete", "ROLLBACK; DELETE FROM films", expect::refused},
        {"end_then_insert", "END; INSERT INTO audit_sink (what) VALUES ('x')", expect::refused},
        {"begin_read_write", "BEGIN READ WRITE", expect::refused},
        {"start_transaction_read_write", "START TRANSACTION READ WRITE", expect::refused},
        {"set_transaction_read_write", "SET TRANSACTION READ WRITE", expect::refused},
        {"set_session_characteristics", "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", expect::refused},
        {"set_default_read_only", "SET default_transaction_read_only = off", expect::refused},
        {"set_local_statement_timeout", "SET LOCAL statement_timeout = 0", expect::refused},
        {"reset_all", "RESET ALL", expect::refused},
        {"set_role", "SET ROLE postgres", expect::refused},
        {"set_session_authorization", "SET SESSION AUTHORIZATION postgres", expect::refused},
        {"savepoint", "SAVEPOINT s", expect::refused},
        {"prepare_transaction", "PREPARE TRANSACTION 'attack'", expect::refused},
        {"commit_prepared", "COMMIT PREPARED 'attack'", expect::refused},
        {"discard_all", "DISCARD ALL", expect::refused},
        {"show_all", "SHOW ALL", expect::refused},
        // set_config in all its spellings.
        {"set_config_default_read_only", "SELECT set_config('default_transaction_read_only', 'off', false)",
         expect::refused},
        {"set_config_statement_timeout", "SELECT set_config('statement_timeout', '0', false)", expect::refused},
        {"set_config_transaction_read_only", "SELECT set_config('transaction_read_only', 'off', true)",
         expect::refused},
        {"set_config_upper_case", "SELECT set_config('TRANSACTION_READ_ONLY', 'off', true)", expect::refused},
        {"set_config_qualified", "SELECT pg_catalog.set_config('statement_timeout', '0', false)", expect::refused},
        {"set_config_named_args",
         "SELECT set_config(setting_name => 'statement_timeout', new_value => '0', is_local => false)",
         expect::refused},
        {"set_config_computed_name", "SELECT set_config('statement' || '_timeout', '0', false)", expect::refused},
        {"set_config_from_subquery",
         "SELECT set_config(n, 'off', true) FROM (VALUES ('transaction_read_only')) v(n)", expect::refused},
        {"set_config_unicode_escape", "SELECT set_config(U&'statement\\005ftimeout', '0', false)", expect::refused},
        {"set_config_uescape", "SELECT set_config(U&'statement!005ftimeout' UESCAPE '!', '0', false)",
         expect::refused},
        {"set_config_e_string", "SELECT set_config(E'statement\\x5ftimeout', '0', false)", expect::refused},
        {"set_config_dollar_quoted", "SELECT set_config($$statement_timeout$$, '0', false)", expect::refused},
        {"set_config_role", "SELECT set_config('role', 'postgres', false)", expect::refused},
        {"set_config_search_path", "SELECT set_config('search_path', 'evil', true)", expect::refused},
        {"set_config_custom_guc", "SELECT set_config('app.tenant_id', '2', true)", expect::refused},
        {"set_config_work_mem", "SELECT set_config('work_mem', '64GB', true)", expect::refused},
        {"set_config_client_encoding", "SELECT set_config('client_encoding', 'SQL_ASCII', false)", expect::refused},
        {"set_config_scs_off", "SELECT set_config('standard_conforming_strings', 'off', false)", expect::refused},
        {"set_config_inside_function_read_write", "SELECT attack_read_write()", expect::read_only},
        // Procedural code.
        {"do_block", "DO $$ BEGIN DELETE FROM films; END $$", expect::refused},
        {"do_block_language", "DO LANGUAGE plpgsql $x$ BEGIN DROP TABLE films; END $x$", expect::refused},
        {"call_procedure", "CALL attack_proc()", expect::refused},
        // Every write and DDL statement kind.
        {"create_table", "CREATE TABLE pwned (x int)", expect::refused},
        {"create_temp_table", "CREATE TEMP TABLE pwned (x int)", expect::refused},
        {"create_table_as", "CREATE TABLE pwned AS SELECT 1", expect::refused},
        {"select_into", "SELECT * INTO pwned FROM films", expect::refused},
        {"create_function", "CREATE FUNCTION pwned() RETURNS int LANGUAGE sql AS 'SELECT 1'", expect::refused},
        {"create_extension", "CREATE EXTENSION IF NOT EXISTS dblink", expect::refused},
        {"insert", "INSERT INTO audit_sink (what) VALUES ('insert')", expect::refused},
        {"insert_returning", "INSERT INTO audit_sink (what) VALUES ('x') RETURNING *", expect::refused},
        {"update", "UPDATE films SET price = 0", expect::refused},
        {"delete", "DELETE FROM films", expect::refused},
        {"merge", "MERGE INTO films f USING (SELECT 1 AS id) s ON f.id = s.id WHEN MATCHED THEN DELETE",
         expect::refused},
        {"truncate", "TRUNCATE films CASCADE", expect::refused},
        {"alter_table", "ALTER TABLE films ADD COLUMN pwned int", expect::refused},
        {"alter_role", "ALTER ROLE CURRENT_USER SUPERUSER", expect::refused},
        {"alter_system", "ALTER SYSTEM SET fsync = off", expect::refused},
        {"drop_table", "DROP TABLE films", expect::refused},
        {"grant", "GRANT ALL ON films TO PUBLIC", expect::refused},
        {"revoke", "REVOKE ALL ON films FROM PUBLIC", expect::refused},
        {"comment_on", "COMMENT ON TABLE films IS 'pwned'", expect::refused},
        {"vacuum", "VACUUM FULL films", expect::refused},
        {"analyze", "ANALYZE films", expect::refused},
        {"cluster", "CLUSTER films USING films_pkey", expect::refused},
        {"reindex", "REINDEX TABLE films", expect::refused},
        {"refresh_matview", "REFRESH MATERIALIZED VIEW film_count", expect::refused},
        {"checkpoint", "CHECKPOINT", expect::refused},
        {"lock_table", "LOCK TABLE films IN ACCESS EXCLUSIVE MODE", expect::refused},
        {"listen", "LISTEN attack", expect::refused},
        {"notify", "NOTIFY attack, 'x'", expect::refused},
        {"unlisten", "UNLISTEN *", expect::refused},
        {"load_library", "LOAD 'plpgsql'", expect::refused},
        {"security_label", "SECURITY LABEL ON TABLE films IS 'x'", expect::refused},
        {"declare_cursor", "DECLARE c CURSOR WITH HOLD FOR SELECT * FROM films", expect::refused},
        {"import_foreign_schema", "IMPORT FOREIGN SCHEMA public FROM SERVER s INTO public", expect::refused},
        {"create_event_trigger",
         "CREATE EVENT TRIGGER t ON ddl_command_start EXECUTE FUNCTION attack_write()", expect::refused},
        // COPY.
        {"copy_to_program", "COPY films TO PROGRAM 'touch " + m + "_copy_program'", expect::refused},
        {"copy_query_to_program", "COPY (SELECT 1) TO PROGRAM 'touch " + m + "_copy_query'", expect::refused},
        {"copy_to_file", "COPY films TO '" + m + "_copy_file'", expect::refused},
        {"copy_from_file", "COPY audit_sink (what) FROM '/etc/hostname'", expect::refused},
        {"copy_from_stdin", "COPY audit_sink (what) FROM STDIN", expect::refused},
        {"copy_to_stdout", "COPY films TO STDOUT", expect::refused},
        // Server files, large objects, other servers, other sessions.
        {"pg_read_file", "SELECT pg_read_file('/etc/passwd')", expect::refused},
        {"pg_read_file_qualified", "SELECT pg_catalog.pg_read_file('/etc/passwd', 0, 100)", expect::refused},
        {"pg_read_file_quoted", "SELECT \"pg_read_file\"('/etc/passwd')", expect::refused},
        {"pg_read_file_upper", "SELECT PG_READ_FILE('/etc/passwd')", expect::refused},
        {"pg_read_file_unicode_ident", "SELECT U&\"pg\\005fread\\005ffile\"('/etc/passwd')", expect::refused},
        {"pg_read_file_in_from", "SELECT * FROM pg_read_file('/etc/passwd') AS f(x)", expect::refused},
        {"pg_read_file_in_lateral",
         "SELECT f.x FROM films, LATERAL pg_read_file('/etc/passwd') AS f(x) LIMIT 1", expect::refused},
        {"pg_read_file_in_cte", "WITH x AS (SELECT pg_read_file('/etc/passwd')) SELECT * FROM x", expect::refused},
        {"pg_read_binary_file", "SELECT pg_read_binary_file('/etc/passwd')", expect::refused},
        {"pg_ls_dir", "SELECT pg_ls_dir('/')", expect::refused},
        {"pg_ls_logdir", "SELECT * FROM pg_ls_logdir()", expect::refused},
        {"pg_stat_file", "SELECT pg_stat_file('/etc/passwd')", expect::refused},
        {"lo_import", "SELECT lo_import('/etc/passwd')", expect::refused},
        {"lo_export", "SELECT lo_export(l.oid, '" + m + "_lo_export') FROM pg_largeobject_metadata l",
         expect::refused},
        {"lo_from_bytea", "SELECT lo_from_bytea(0, 'pwned')", expect::refused},
        {"lo_create", "SELECT lo_create(0)", expect::refused},
        {"lo_unlink", "SELECT lo_unlink(oid) FROM pg_largeobject_metadata", expect::refused},
        {"lo_put", "SELECT lo_put(oid, 0, 'x') FROM pg_largeobject_metadata", expect::refused},
        {"dblink", "SELECT * FROM dblink('host=127.0.0.1', 'DELETE FROM films') AS t(x text)", expect::refused},
        {"dblink_exec", "SELECT dblink_exec('dbname=x', 'DROP TABLE films')", expect::refused},
        {"pg_terminate_backend", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity", expect::refused},
        {"pg_cancel_backend", "SELECT pg_cancel_backend(pid) FROM pg_stat_activity", expect::refused},
        {"pg_reload_conf", "SELECT pg_reload_conf()", expect::refused},
        {"pg_stat_reset", "SELECT pg_stat_reset()", expect::refused},
        {"pg_advisory_lock", "SELECT pg_advisory_lock(1)", expect::refused},
        {"pg_advisory_xact_lock", "SELECT pg_advisory_xact_lock(1)", expect::refused},
        {"pg_try_advisory_lock_shared", "SELECT pg_try_advisory_lock_shared(1, 2)", expect::refused},
        {"pg_notify", "SELECT pg_notify('attack', 'x')", expect::refused},
        {"pg_logical_emit_message", "SELECT pg_logical_emit_message(true, 'x', 'y')", expect::refused},
        {"pg_create_replication_slot", "SELECT pg_create_logical_replication_slot('s', 'pgoutput')",
         expect::refused},
        {"nextval", "SELECT nextval('attack_seq')", expect::refused},
        {"nextval_qualified", "SELECT pg_catalog.nextval('attack_seq')", expect::refused},
        {"setval", "SELECT setval('attack_seq', 1000)", expect::refused},
        {"query_to_xml_delete", "SELECT query_to_xml('DELETE FROM films RETURNING *', true, false, '')",
         expect::refused},
        {"query_to_xml_dollar", "SELECT query_to_xml($q$SELECT pg_read_file('/etc/passwd')$q$, true, false, '')",
         expect::refused},
        {"query_to_xml_computed", "SELECT query_to_xml('DELETE FROM ' || 'films', true, false, '')",
         expect::refused},
        // Locking reads: refused (they lock rows other sessions wait on; Postgres also refuses them read-only).
        {"select_for_update", "SELECT * FROM films FOR UPDATE", expect::refused},
        {"select_for_share", "SELECT * FROM films FOR SHARE", expect::refused},
        {"select_for_no_key_update_subquery", "SELECT * FROM (SELECT * FROM films FOR NO KEY UPDATE) f",
         expect::refused},
        {"select_for_key_share_skip_locked", "SELECT * FROM films FOR KEY SHARE SKIP LOCKED", expect::refused},
        // Writable CTEs.
        {"writable_cte_delete", "WITH d AS (DELETE FROM films RETURNING *) SELECT count(*) FROM d",
         expect::refused},
        {"writable_cte_insert", "WITH i AS (INSERT INTO audit_sink (what) VALUES ('cte') RETURNING id) SELECT 1",
         expect::refused},
        {"writable_cte_nested",
         "SELECT * FROM (WITH u AS (UPDATE films SET price = 0 RETURNING id) SELECT * FROM u) x",
         expect::refused},
        {"explain_analyze_delete", "EXPLAIN ANALYZE DELETE FROM films", expect::refused},
        {"explain_analyze_cte_delete", "EXPLAIN ANALYZE WITH d AS (DELETE FROM films RETURNING 1) SELECT 1",
         expect::refused},
        // Prepared statements.
        {"prepare", "PREPARE p AS DELETE FROM films", expect::refused},
        {"execute", "EXECUTE p", expect::refused},
        {"deallocate", "DEALLOCATE ALL", expect::refused},
        // Writes hidden in functions: only the read-only transaction can stop them.
        {"volatile_sql_function_insert", "SELECT attack_write()", expect::read_only},
        {"volatile_plpgsql_function_insert", "SELECT attack_plpgsql_write()", expect::read_only},
        {"function_in_from", "SELECT * FROM films, attack_write() LIMIT 1", expect::read_only},
        {"function_in_where", "SELECT id FROM films WHERE attack_plpgsql_write() = 1", expect::read_only},
        {"function_nextval", "SELECT attack_nextval()", expect::read_only},
        {"function_dynamic_delete", "SELECT attack_dynamic('DELETE FROM films')", expect::read_only},
        {"function_dynamic_drop", "SELECT attack_dynamic('DROP TABLE customers')", expect::read_only},
        {"function_dynamic_commit", "SELECT attack_dynamic('COMMIT')", expect::rejected},
        {"function_temp_table", "SELECT attack_temp_table()", expect::read_only},
        // NOTIFY is queued until commit; MetaHog always rolls back, so it is never delivered.
        {"function_notify", "SELECT attack_notify()", expect::ok},
        {"explain_analyze_function_write", "EXPLAIN ANALYZE SELECT attack_write()", expect::read_only},
        {"query_to_xml_function_write", "SELECT query_to_xml('SELECT attack_write()', true, false, '')",
         expect::read_only},
        // Side effects that outlive the statement are undone when the connection goes back to the pool (the
        // proofs check no advisory lock is left and the next query runs read-only).
        {"function_advisory_lock", "SELECT attack_advisory()", expect::ok},
        {"function_session_setting", "SELECT attack_session_setting()", expect::ok},
        {"session_setting_did_not_stick",
         "SELECT 1 / (current_setting('default_transaction_read_only') = 'on' OR "
         "current_setting('transaction_read_only') = 'on')::int",
         expect::ok},
        // Transaction ids: txid_current() assigns one (harmless in a read-only transaction; rate limits bound it).
        {"txid_current", "SELECT txid_current() > 0", expect::ok},
        // Comment tricks.
        {"block_comment_hides_drop", "SELECT 1 /* ; DROP TABLE films; */", expect::ok},
        {"nested_block_comment", "SELECT 1 /* outer /* inner */ ; DROP TABLE films; */", expect::ok},
        {"nested_comment_closed_early", "SELECT 1 /* outer /* inner */ */ ; DROP TABLE films", expect::refused},
        {"line_comment_newline", "SELECT 1 -- comment\n; DROP TABLE films", expect::refused},
        {"line_comment_carriage_return", "SELECT 1 -- comment\r; DROP TABLE films", expect::refused},
        {"line_comment_swallows_rest", "SELECT 1 -- ; DROP TABLE films", expect::ok},
        {"unclosed_comment", "SELECT 1 /* ; DROP TABLE films", expect::rejected},
        {"comment_only", "/* DROP TABLE films */ -- nothing", expect::invalid},
        {"empty_statements", ";;; SELECT 1 ;;;", expect::rejected},
        {"string_with_semicolon", "SELECT '; DROP TABLE films; --'", expect::ok},
        {"e_string_escaped_quote", "SELECT E'\\'; DROP TABLE films; --'", expect::ok},
        {"backslash_quote_standard_strings", "SELECT '\\'; DROP TABLE films; --'", expect::refused},
        {"quoted_identifier_semicolon", "SELECT 1 AS \"; DROP TABLE films; --\"", expect::ok},
        // Unicode tricks.
        {"fullwidth_semicolon", "SELECT 1\xEF\xBC\x9B DROP TABLE films", expect::rejected},
        {"zero_width_space_between", "SELECT 1;\xE2\x80\x8B DROP TABLE films", expect::rejected},
        {"zero_width_space_in_keyword", "DR\xE2\x80\x8BOP TABLE films", expect::rejected},
        {"homoglyph_keyword", "D\xD0\x95LETE FROM films", expect::rejected},
        {"homoglyph_table", "SELECT * FROM f\xD1\x96lms", expect::rejected},
        {"unicode_string_ok", "SELECT U&'\\0041\\+01F600'", expect::ok},
        {"right_to_left_override_comment", "SELECT 1 /* \xE2\x80\xAE ; DROP TABLE films */", expect::ok},
        {"nul_byte", std::string("SELECT 1\0; DROP TABLE films", 27), expect::invalid},
        // Dollar quoting.
        {"dollar_quoted_drop", "SELECT $$; DROP TABLE films; $$", expect::ok},
        {"tagged_dollar_quote", "SELECT $tag$ $$; DROP TABLE films; $$ $tag$", expect::ok},
        {"dollar_quote_then_statement", "SELECT $$a$$; DROP TABLE films", expect::refused},
        {"unterminated_dollar_quote", "SELECT $a$ ; DROP TABLE films", expect::rejected},
        {"dollar_parameter", "SELECT $1", expect::rejected},
        // Size and depth: refused quickly, server alive (checked by the next cases).
        {"deep_parentheses", nested_parens, expect::refused},
        {"long_operator_chain", operator_chain, expect::refused},
        {"long_cast_chain", cast_chain, expect::refused},
        {"long_not_chain", not_chain, expect::refused},
        {"deep_subqueries", subqueries, expect::refused},
        {"long_union_chain", unions, expect::refused},
        {"deep_case", cases, expect::refused},
        {"deep_arrays", arrays, expect::refused},
        {"very_wide_select_list", flat_list, expect::rejected},
        {"alive_after_deep_nesting", "SELECT count(*) FROM films", expect::ok},
    };
}

// ---------------------------------------------------------------------------------------------------------------

int run() {
    attack_report report;
    const postgres_instance* pg = postgres_instance::shared();
    if (pg == nullptr) {
        std::printf("SKIP: %s\n", postgres_instance::unavailable_reason().c_str());
        return 77;
    }
    world w;
    w.pg = pg;
    const std::string tag = std::to_string(::getpid()) + "_" + random_hex(3);
    w.database = "mh_attack_" + tag;
    w.writer = "mh_attack_writer_" + tag;
    w.writer_password = "pw-" + random_hex(16);
    w.marker_prefix = "/tmp/mh_attack_marker_" + tag;
    create_attack_database(w);

    temp_dir scratch;
    std::filesystem::permissions(scratch.path(), std::filesystem::perms(0755));
    w.web_root = scratch.path() / "webroot";
    std::filesystem::create_directories(w.web_root / "assets");
    std::ofstream(w.web_root / "index.html") << "<!doctype html><title>ATTACK-INDEX-MARKER</title>";
    std::ofstream(w.web_root / "assets" / "app-1234.js") << "console.log('ATTACK-ASSET-MARKER');";
    w.outside_secret = "ATTACK-OUTSIDE-SECRET-" + random_hex(8);
    std::ofstream(scratch.path() / "secret.txt") << w.outside_secret;

    const std::string admin_password = "attack admin " + random_hex(6);
    const std::vector<std::string> common_environment = {
        "METAHOG_LOG_LEVEL=info", "METAHOG_CONNECT_TIMEOUT_MS=2000", "METAHOG_WEB_ROOT=" + w.web_root.string()};
    auto environment = [&](std::vector<std::string> extra) {
        extra.insert(extra.end(), common_environment.begin(), common_environment.end());
        return extra;
    };

    // The main server: generous rate limits (the cases themselves are not what is being limited), a short read
    // timeout for slowloris, small caps for huge results and exports.
    server_process server(scratch.path() / "main",
                          environment({"METAHOG_READ_TIMEOUT_SECONDS=2", "METAHOG_MAX_RESPONSE_BYTES=1048576",
                                       "METAHOG_EXPORT_MAX_ROWS=20000", "METAHOG_USER_QUERIES_PER_MINUTE=100000",
                                       "METAHOG_USER_BURST=100000", "METAHOG_TEAM_QUERIES_PER_MINUTE=100000",
                                       "METAHOG_TEAM_BURST=100000", "METAHOG_MAX_RUNNING_PER_USER=16"}));
    w.servers.push_back(&server);
    const unsigned short port = server.port();
    const party alpha = party_of(server.bootstrap("alpha@example.com", admin_password, "Alpha"));
    const party beta = party_of(server.bootstrap("beta@example.com", admin_password, "Beta"));
    w.secrets = {w.writer_password, admin_password, alpha.key, beta.key, pg->superuser_password()};

    client http(port);
    const std::string source = create_source(http, alpha, w, "atk");
    const std::string beta_source = create_source(http, beta, w, "beta");

    std::string logs_of_stopped;  // logs of servers that are gone before the end
    const auto before = snapshot(w);
    const std::string counters_before = write_counters(w);
    std::printf("attack suite: server on port %u, database %s, role %s\n", port, w.database.c_str(),
                w.writer.c_str());

    // ----- Item 8: hostile SQL --------------------------------------------------------------------------------
    const char* only = std::getenv("ATTACK_ONLY");
    for (const auto& c : sql_cases(w)) {
        if (only != nullptr && c.name.find(only) == std::string::npos) {
            continue;
        }
        report.check("sql", c.name, [&] {
            const auto started = clock_type::now();
            // On a connection of its own, with a deadline: a server that stops answering fails this case (the
            // abandoned client is leaked on purpose) instead of blocking the suite.
            auto done = std::make_shared<std::promise<http_reply>>();
            auto answer = done->get_future();
            std::thread([done, port, alpha, source, sql = c.sql] {
                try {
                    client own(port);
                    done->set_value(execute(own, alpha, source, sql));
                } catch (...) {
                    done->set_exception(std::current_exception());
                }
            }).detach();
            if (answer.wait_for(30s) != std::future_status::ready) {
                return verdict{false, "expected " + name_of(c.what) + "; the server did not answer within 30 s"};
            }
            auto reply = answer.get();
            auto outcome = judge(reply, c.what);
            const double took = seconds_since(started);
            // A 1 MiB select list takes the parser seconds on a loaded machine (see the issue note): 30 s for it.
            if (took > (c.name == "very_wide_select_list" ? 30.0 : 10.0)) {
                outcome.passed = false;
            }
            outcome.detail += " in " + fmt_seconds(took);
            return outcome;
        });
    }
    report.check("sql", "invalid_utf8_in_sql", [&] {
        // Raw bytes: an overlong ';' (C0 BB) and a lone continuation byte, inside the JSON string.
        const std::string body = "{\"source_id\": \"" + source + "\", \"sql\": \"SELECT 1\xC0\xBB DROP TABLE films \x80\"}";
        auto reply = http.request("POST", alpha.path("direct_query/execute"), body,
                                  {{"Authorization", "Bearer " + alpha.key}, {"Content-Type", "application/json"}});
        return expect_error(reply, 400, "invalid_input");
    });
    report.check("sql", "lone_surrogate_in_sql", [&] {
        const std::string body = "{\"source_id\": \"" + source + "\", \"sql\": \"SELECT '\\ud800'\"}";
        auto reply = http.request("POST", alpha.path("direct_query/execute"), body,
                                  {{"Authorization", "Bearer " + alpha.key}, {"Content-Type", "application/json"}});
        return expect_error(reply, 400, "invalid_input");
    });
    report.check("sql", "sql_over_body_limit", [&] {
        // 2 MB announced, 1 MB limit: refused from the headers alone.
        const std::string head = "POST " + alpha.path("direct_query/execute") +
                                 " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alpha.key +
                                 "\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n";
        const std::string raw = raw_exchange(port, head + "{\"sql\": \"SELECT " + std::string(100000, '1'), 3000ms);
        const auto statuses = response_statuses(raw);
        return verdict{statuses.size() == 1 && statuses[0] == 413,
                       "expected one 413; seen " + std::to_string(statuses.size()) + " response(s)" +
                           (statuses.empty() ? "" : ", first " + std::to_string(statuses[0]))};
    });
    report.check("sql", "huge_result_is_capped", [&] {
        const auto started = clock_type::now();
        auto reply = execute(http, alpha, source, "SELECT g, repeat('x', 5000) FROM generate_series(1, 100000) g",
                             {{"max_rows", 100000}});
        const double took = seconds_since(started);
        const bool truncated = reply.status == 200 && reply.json().at("truncated") == true;
        const bool bounded = reply.body.size() <= 1048576 + 65536;
        return verdict{truncated && bounded && took < 10,
                       "expected 200 truncated within 1 MiB; seen " + describe(reply) + " truncated=" +
                           (truncated ? "true" : "false") + " in " + fmt_seconds(took)};
    });
    report.check("sql", "billion_rows_through_execute_truncate_fast", [&] {
        const auto started = clock_type::now();
        auto reply = execute(http, alpha, source, "SELECT generate_series(1, 1000000000) AS g",
                             {{"max_rows", 1000}, {"timeout_ms", 60000}});
        const double took = seconds_since(started);
        const bool ok = reply.status == 200 && reply.json().at("truncated") == true &&
                        reply.json().at("row_count") == 1000 && took < 5;
        return verdict{ok, "expected 200, 1000 rows, truncated, < 5 s; seen " + describe(reply) + " in " +
                               fmt_seconds(took)};
    });
    report.check("sql", "billion_rows_through_export_stop_at_row_cap", [&] {
        const auto started = clock_type::now();
        auto reply = http.post_json(alpha.path("direct_query/export"),
                                    json::object{{"source_id", source},
                                                 {"sql", "SELECT generate_series(1, 1000000000) AS g"},
                                                 {"format", "csv"},
                                                 {"timeout_ms", 60000}},
                                    bearer(alpha.key));
        const double took = seconds_since(started);
        const auto lines = std::count(reply.body.begin(), reply.body.end(), '\n');
        const bool ok = reply.status == 200 && lines >= 20000 && lines <= 20002 && took < 15;
        return verdict{ok, "expected 200 and the 20000-row cap (+header); seen " + std::to_string(reply.status) + ", " +
                               std::to_string(lines) + " lines in " + fmt_seconds(took)};
    });
    report.check("sql", "endless_query_times_out", [&] {
        const auto started = clock_type::now();
        auto reply = execute(http, alpha, source, "SELECT pg_sleep(3600)", {{"timeout_ms", 1000}});
        const double took = seconds_since(started);
        auto outcome = expect_error(reply, 400, "query_timeout");
        outcome.passed = outcome.passed && took < 2.0;
        outcome.detail += " in " + fmt_seconds(took) + " (limit 1 s, allowed < 2 s)";
        return outcome;
    });
    report.check("sql", "timeout_above_server_max_is_capped", [&] {
        // A request may not lift the statement timeout beyond max_timeout_ms: ask for a year, get the cap.
        auto reply = execute(http, alpha, source, "SELECT current_setting('statement_timeout')",
                             {{"timeout_ms", 31536000000LL}});
        const std::string body = reply.body;
        const bool capped = body.find("\"5min\"") != std::string::npos ||
                            body.find("\"300s\"") != std::string::npos;
        return verdict{reply.status == 200 && capped && body.find("31536000") == std::string::npos,
                       "expected statement_timeout capped at 300s; seen " + describe(reply) + " " + body.substr(0, 160)};
    });
    report.check("sql", "endless_query_cancelled_by_route", [&] {
        http_reply slow;
        std::thread runner([&] {
            client own(port);
            slow = execute(own, alpha, source, "SELECT pg_sleep(3600) AS cancel_me",
                           {{"timeout_ms", 60000}, {"client_query_id", "attack-cancel-1"}});
        });
        const bool started = wait_for(w, running_sleeps_sql(w), "1");
        // Another team cannot cancel it: the id is scoped to its user.
        client other(port);
        auto foreign = other.post_json(beta.path("direct_query/cancel"),
                                       json::object{{"client_query_id", "attack-cancel-1"}}, bearer(beta.key));
        const auto cancel_at = clock_type::now();
        auto cancelled = other.post_json(alpha.path("direct_query/cancel"),
                                         json::object{{"client_query_id", "attack-cancel-1"}}, bearer(alpha.key));
        runner.join();
        const double took = seconds_since(cancel_at);
        const bool ok = started && foreign.status == 404 && cancelled.status == 200 &&
                        json_string(slow, "code") == "query_cancelled" && took < 2.0;
        return verdict{ok, "expected the foreign cancel 404, own cancel 200 and the query query_cancelled < 2 s; "
                           "seen running=" + std::string(started ? "yes" : "no") + ", foreign " + describe(foreign) +
                               ", own " + describe(cancelled) + ", query " + describe(slow) + " after " +
                               fmt_seconds(took)};
    });
    report.check("sql", "client_disconnect_cancels_the_query", [&] {
        const std::string body = json::serialize(json::object{
            {"source_id", source}, {"sql", "SELECT pg_sleep(3600) AS abandoned"}, {"timeout_ms", 60000}});
        {
            raw_socket socket(port);
            socket.send("POST " + alpha.path("direct_query/execute") + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                        alpha.key + "\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body);
            if (!wait_for(w, running_sleeps_sql(w), "1")) {
                std::string sessions;
                for (const auto& row : writer_sessions(w)) {
                    sessions += *row[1] + ": " + *row[3] + "; ";
                }
                return verdict{false, "the query never started; sessions: " + sessions};
            }
        }  // closed here
        const auto gone_at = clock_type::now();
        const bool stopped = wait_for(w, running_sleeps_sql(w), "0", 5000ms);
        return verdict{stopped, "expected the backend to stop after the client left; " +
                                    std::string(stopped ? "stopped" : "still running") + " after " +
                                    fmt_seconds(seconds_since(gone_at))};
    });

    // ----- Item 4: SSRF and smuggled connection options ---------------------------------------------------------
    const std::string pg_port = std::to_string(pg->port());
    const std::string own_port = std::to_string(port);
    auto check_inputs = [&](json::object inputs) {
        return http.post_json(alpha.path("external_data_sources/check"),
                              json::object{{"source_type", "Postgres"}, {"job_inputs", std::move(inputs)}},
                              bearer(alpha.key));
    };
    auto with = [&](std::initializer_list<std::pair<std::string, json::value>> changes) {
        auto inputs = job_inputs(w);
        for (const auto& [key, value] : changes) {
            inputs[key] = value;
        }
        return inputs;
    };
    auto log_lines_without_path = [&] {
        const std::string log = server.log();
        std::size_t count = 0;
        for (std::size_t at = 0; (at = log.find("path=- ", at)) != std::string::npos; ++at) {
            ++count;
        }
        return count;
    };
    // Addresses refused by the network policy (checked on every resolved address at connect time).
    struct host_case {
        std::string name;
        std::string host;
        std::string port;
    };
    const std::vector<host_case> host_cases = {
        {"cloud_metadata_ipv4", "169.254.169.254", "80"},
        {"link_local_ipv4", "169.254.1.1", pg_port},
        {"link_local_ipv6", "fe80::1", pg_port},
        {"link_local_ipv6_bracketed", "[fe80::abcd]", pg_port},
        {"mapped_metadata", "::ffff:169.254.169.254", "80"},
        {"mapped_metadata_hex", "::ffff:a9fe:a9fe", "80"},
        {"nat64_metadata", "64:ff9b::a9fe:a9fe", "80"},
        {"sixtofour_metadata", "2002:a9fe:a9fe::1", "80"},
        {"aws_ipv6_metadata", "fd00:ec2::254", "80"},
        {"alibaba_metadata", "100.100.100.200", "80"},
        {"azure_wireserver", "168.63.129.16", "80"},
        {"unspecified_ipv4", "0.0.0.0", pg_port},
        {"unspecified_ipv6", "::", pg_port},
        {"multicast", "224.0.0.1", pg_port},
        {"broadcast", "255.255.255.255", pg_port},
        {"reserved", "240.0.0.1", pg_port},
        {"own_port_ipv4", "127.0.0.1", own_port},
        {"own_port_by_name", "localhost", own_port},
        {"own_port_mapped", "::ffff:127.0.0.1", own_port},
        {"own_port_other_loopback", "127.0.0.2", own_port},
        {"legacy_decimal_metadata", "2852039166", "80"},
    };
    for (const auto& c : host_cases) {
        report.check("ssrf", c.name, [&] {
            const auto lines_before = log_lines_without_path();
            auto reply = check_inputs(with({{"host", json::value(c.host)}, {"port", json::value(c.port)}}));
            const bool reached_us = log_lines_without_path() != lines_before;
            // 127.0.0.2 is not where the server listens: refusing it is not needed, only not reaching us.
            const bool ok = reply.status == 400 && !reached_us &&
                            (json_string(reply, "field") == "job_inputs.host" || c.host == "127.0.0.2");
            return verdict{ok, "expected 400 naming job_inputs.host, no connection to our own port; seen " +
                                   describe(reply) + (reached_us ? " (a connection reached the server itself)" : "")};
        });
    }
    // Host strings refused before resolving.
    const std::vector<std::pair<std::string, std::string>> bad_hosts = {
        {"unix_socket_tmp", "/tmp"},
        {"unix_socket_pg_run", "/var/run/postgresql"},
        {"abstract_socket", "@abstract"},
        {"host_list", "127.0.0.1,169.254.169.254"},
        {"host_with_options", "127.0.0.1 options=-cdefault_transaction_read_only=off"},
        {"host_with_newline", "127.0.0.1\nhost=/tmp"},
        {"host_with_nul", std::string("127.0.0.1\0/tmp", 14)},
        {"legacy_decimal_ip", "2130706433"},
        {"legacy_short_ip", "127.1"},
        {"legacy_hex_ip", "0x7f.0.0.1"},
        {"zone_id", "fe80::1%eth0"},
        {"url_as_host", "http://169.254.169.254/"},
        {"empty_host", ""},
    };
    for (const auto& [name, host] : bad_hosts) {
        report.check("ssrf", name, [&, host = host] {
            return expect_error(check_inputs(with({{"host", json::value(host)}})), 400, "invalid_input",
                                "job_inputs.host");
        });
    }
    // Every libpq keyword MetaHog does not pass on, smuggled as a job_inputs field.
    const std::vector<std::pair<std::string, std::string>> smuggled = {
        {"options", "-c default_transaction_read_only=off"},
        {"service", "evil"},
        {"passfile", "/etc/passwd"},
        {"sslkey", "/etc/ssl/private/server.key"},
        {"sslcert", "/etc/ssl/certs/x.pem"},
        {"sslrootcert", "/etc/passwd"},
        {"sslcrl", "/etc/passwd"},
        {"sslcrldir", "/etc"},
        {"sslpassword", "x"},
        {"hostaddr", "169.254.169.254"},
        {"requirepeer", "root"},
        {"krbsrvname", "evil"},
        {"gsslib", "gssapi"},
        {"gssencmode", "require"},
        {"target_session_attrs", "read-write"},
        {"replication", "database"},
        {"client_encoding", "SQL_ASCII"},
        {"channel_binding", "disable"},
        {"keepalives", "0"},
        {"sslsni", "0"},
        {"ssl_min_protocol_version", "TLSv1"},
        {"fallback_application_name", "x"},
        {"dbname", "postgres"},
        {"Options", "-c x=y"},
    };
    for (const auto& [key, value] : smuggled) {
        report.check("options", "job_inputs_" + key, [&, key = key, value = value] {
            return expect_error(check_inputs(with({{key, json::value(value)}})), 400, "invalid_input",
                                "job_inputs." + key);
        });
    }
    // The same through connection strings, in URI and key=value form.
    const std::string userinfo = w.writer + ":" + w.writer_password;
    const std::string base_uri = "postgresql://" + userinfo + "@127.0.0.1:" + pg_port + "/" + w.database;
    const std::string base_kv = "host=127.0.0.1 port=" + pg_port + " dbname=" + w.database + " user=" + w.writer +
                                " password=" + w.writer_password;
    for (const auto& [key, value] : smuggled) {
        if (key == "dbname" || key == "Options") {
            continue;
        }
        report.check("options", "uri_" + key, [&, key = key, value = value] {
            std::string encoded;
            for (const char ch : value) {
                encoded += ch == ' ' ? std::string("%20") : ch == '=' ? std::string("%3D") : std::string(1, ch);
            }
            return expect_error(check_inputs({{"connection_string", base_uri + "?" + key + "=" + encoded}}), 400,
                                "invalid_input", "job_inputs.connection_string");
        });
        report.check("options", "key_value_" + key, [&, key = key, value = value] {
            return expect_error(check_inputs({{"connection_string", base_kv + " " + key + "='" + value + "'"}}), 400,
                                "invalid_input", "job_inputs.connection_string");
        });
    }
    const std::vector<std::pair<std::string, std::string>> connection_strings = {
        {"uri_percent_encoded_key", base_uri + "?%6Fptions=-c%20default_transaction_read_only%3Doff"},
        {"uri_percent_encoded_host_socket", "postgresql://" + userinfo + "@%2Ftmp/" + w.database},
        {"uri_host_param_socket", "postgresql:///" + w.database + "?host=/tmp&user=" + w.writer},
        {"uri_host_param_overrides", base_uri + "?host=/var/run/postgresql"},
        {"uri_host_list", "postgresql://" + userinfo + "@127.0.0.1,169.254.169.254/" + w.database},
        {"uri_hostaddr", base_uri + "?hostaddr=169.254.169.254"},
        {"key_value_repeated_host", base_kv + " host=/tmp"},
        {"key_value_abstract_socket", base_kv + " host=@abstract"},
        {"key_value_quoted_options", base_kv + " options = '-c statement_timeout=0'"},
        {"key_value_service_file", "service=evil"},
        {"key_value_nul", std::string("host=127.0.0.1\0 options=x", 26)},
        {"key_value_newline", base_kv + "\noptions=-cx"},
        {"not_a_connection_string", "'; DROP TABLE films; --"},
    };
    for (const auto& [name, text] : connection_strings) {
        report.check("options", name, [&, text = text] {
            return expect_error(check_inputs({{"connection_string", text}}), 400, "invalid_input",
                                "job_inputs.connection_string");
        });
    }
    report.check("options", "requiressl_is_only_sslmode", [&] {
        // libpq reads the old requiressl=1 as sslmode=require (an allowed setting): the fixture has no TLS, so
        // the check fails with that reason; no other effect.
        auto reply = check_inputs({{"connection_string", base_kv + " requiressl=1"}});
        return verdict{reply.status == 400 && json_string(reply, "error").find("SSL") != std::string::npos,
                       "expected 400 (SSL required, the fixture has none); seen " + describe(reply)};
    });
    report.check("options", "job_inputs_requiressl", [&] {
        return expect_error(check_inputs(with({{"requiressl", json::value("1")}})), 400, "invalid_input",
                            "job_inputs.requiressl");
    });
    report.check("options", "connection_string_beside_fields", [&] {
        return expect_error(check_inputs({{"connection_string", base_uri}, {"host", "169.254.169.254"}}), 400,
                            "invalid_input", "job_inputs.host");
    });
    // A database or user name that looks like a connection string stays a name (expand_dbname is off): the
    // check fails with the database's own reason instead of connecting with smuggled options.
    const std::vector<std::pair<std::string, json::object>> expansions = {
        {"database_field_expansion",
         with({{"database", json::value("dbname=" + w.database + " options=-cdefault_transaction_read_only=off")}})},
        {"database_field_uri", with({{"database", json::value(base_uri + "?options=-cx")}})},
        {"user_field_expansion", with({{"user", json::value(w.writer + " options=-cx")}})},
        {"key_value_dbname_expansion",
         json::object{{"connection_string", "host=127.0.0.1 port=" + pg_port + " user=" + w.writer + " password=" +
                                                w.writer_password + " dbname='dbname=" + w.database +
                                                " options=-cx'"}}},
    };
    for (const auto& [name, inputs] : expansions) {
        report.check("options", name, [&, inputs = inputs] {
            auto reply = check_inputs(inputs);
            const bool ok = reply.status == 400 && (json_string(reply, "code") == "source_connection_failed" ||
                                                    json_string(reply, "code") == "invalid_input");
            return verdict{ok, "expected 400 (a literal name that does not exist, never an expanded connection "
                               "string); seen " + describe(reply)};
        });
    }
    // Through PATCH of a stored source; afterwards the source is unchanged.
    const std::string patched = create_source(http, alpha, w, "patched");
    const std::string patch_path = alpha.path("external_data_sources/" + patched + "/");
    const std::vector<std::pair<std::string, json::object>> patches = {
        {"patch_options", {{"options", "-c default_transaction_read_only=off"}}},
        {"patch_hostaddr", {{"hostaddr", "169.254.169.254"}}},
        {"patch_unix_socket", {{"host", "/tmp"}, {"password", w.writer_password}}},
        {"patch_metadata_host", {{"host", "169.254.169.254"}, {"port", 80}, {"password", w.writer_password}}},
        {"patch_own_port", {{"host", "127.0.0.1"}, {"port", port}, {"password", w.writer_password}}},
        {"patch_connection_string_options", {{"connection_string", base_uri + "?options=-cx"}}},
        {"patch_host_without_password", {{"host", "127.0.0.2"}}},
        {"patch_database_expansion", {{"database", "dbname=x options=-cx"}}},
    };
    for (const auto& [name, inputs] : patches) {
        report.check("options", name, [&, inputs = inputs] {
            auto reply = http.patch_json(patch_path, json::object{{"job_inputs", inputs}}, bearer(alpha.key));
            return verdict{reply.status == 400, "expected 400; seen " + describe(reply)};
        });
    }
    report.check("options", "patched_source_unchanged", [&] {
        auto reply = http.get(patch_path, bearer(alpha.key));
        const auto inputs = reply.json().at("job_inputs");
        const bool ok = reply.status == 200 && inputs.at("host") == "127.0.0.1" &&
                        inputs.at("port") == pg->port() && inputs.at("database") == json::value(w.database);
        return verdict{ok, "expected the stored host, port and database; seen " + json::serialize(inputs)};
    });

    // ----- Item 7: HTTP -----------------------------------------------------------------------------------------
    const std::string execute_path = alpha.path("direct_query/execute");
    const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + alpha.key}};
    report.check("http", "oversized_headers_431", [&] {
        const auto statuses = response_statuses(raw_exchange(
            port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"));
        return verdict{statuses == std::vector<unsigned>{431},
                       "expected [431]; seen " + std::to_string(statuses.size()) + " response(s)" +
                           (statuses.empty() ? "" : " first " + std::to_string(statuses[0]))};
    });
    report.check("http", "many_headers_431", [&] {
        std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
        for (int i = 0; i < 2000; ++i) {
            request += "X-H" + std::to_string(i) + ": v\r\n";
        }
        const auto statuses = response_statuses(raw_exchange(port, request + "\r\n"));
        return verdict{statuses == std::vector<unsigned>{431}, "expected [431]; seen " + std::to_string(statuses.size()) +
                                                                    " response(s)"};
    });
    report.check("http", "oversized_body_413", [&] {
        auto reply = http.request("POST", execute_path, std::string(1100000, ' '), auth);
        return expect_error(reply, 413, "payload_too_large");
    });
    report.check("http", "deep_json_400", [&] {
        auto reply = http.request("POST", execute_path, "{\"sql\": " + std::string(200000, '[') + "]}", auth);
        return expect_error(reply, 400, "invalid_input");
    });
    report.check("http", "deep_json_object_400", [&] {
        std::string body;
        for (int i = 0; i < 50000; ++i) {
            body += "{\"a\":";
        }
        body += "1" + std::string(50000, '}');
        return expect_error(http.request("POST", execute_path, body, auth), 400, "invalid_input");
    });
    for (const auto& [name, body] : std::vector<std::pair<std::string, std::string>>{
             {"malformed_json", "{\"source_id\": "},
             {"json_array_body", "[1, 2]"},
             {"json_trailing_garbage", "{} x"},
             {"json_comment", "{/* c */}"},
             {"json_wrong_types", "{\"source_id\": 1, \"sql\": [\"SELECT 1\"]}"},
             {"json_negative_max_rows", "{\"source_id\": \"" + source + "\", \"sql\": \"SELECT 1\", \"max_rows\": -1}"},
             {"json_huge_max_rows", "{\"source_id\": \"" + source + "\", \"sql\": \"SELECT 1\", \"max_rows\": 1e309}"},
             {"json_zero_timeout", "{\"source_id\": \"" + source + "\", \"sql\": \"SELECT 1\", \"timeout_ms\": 0}"},
         }) {
        report.check("http", name, [&, body = body] {
            return expect_error(http.request("POST", execute_path, body, auth), 400, "invalid_input");
        });
    }
    report.check("http", "duplicate_json_keys_analysed_as_run", [&] {
        // Whichever value the parser keeps is the one checked and run.
        auto reply = http.request("POST", execute_path,
                                  "{\"source_id\": \"" + source +
                                      "\", \"sql\": \"SELECT 1\", \"sql\": \"DELETE FROM films\"}",
                                  auth);
        const bool ok = reply.status == 200 || json_string(reply, "code") == "statement_refused";
        return verdict{ok, "expected 200 (first kept) or statement_refused (last kept); seen " + describe(reply)};
    });
    for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
             {"content_type_text_plain", "text/plain"},
             {"content_type_form", "application/x-www-form-urlencoded"},
             {"content_type_multipart", "multipart/form-data; boundary=x"},
             {"content_type_missing", ""}}) {
        report.check("http", name + "_415", [&, type = type] {
            auto headers = auth;
            if (!type.empty()) {
                headers["Content-Type"] = type;
            }
            std::string request = "POST " + execute_path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                  alpha.key + "\r\n" + (type.empty() ? "" : "Content-Type: " + type + "\r\n") +
                                  "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
            const auto statuses = response_statuses(raw_exchange(port, request));
            return verdict{statuses == std::vector<unsigned>{415},
                           "expected [415]; seen " + std::to_string(statuses.size()) + " response(s)" +
                               (statuses.empty() ? "" : " first " + std::to_string(statuses[0]))};
        });
    }
    // Smuggling: a second request hidden in the body must never be answered.
    const std::string hidden = "GET /api/environments/@current/external_data_sources/ HTTP/1.1\r\nHost: x\r\n"
                               "Authorization: Bearer " + alpha.key + "\r\n\r\n";
    const std::vector<std::pair<std::string, std::string>> smuggling = {
        {"content_length_and_chunked",
         "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
             hidden},
        {"chunked_and_content_length",
         "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 200\r\n\r\n0\r\n\r\n" +
             hidden},
        {"duplicate_content_length",
         "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 300\r\n\r\n" + hidden},
        {"content_length_list", "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 300\r\n\r\n" + hidden},
        {"transfer_encoding_not_last",
         "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + hidden},
        {"transfer_encoding_space_before_colon",
         "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 0\r\n\r\n" + hidden},
        {"transfer_encoding_obs_fold",
         "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 0\r\n\r\n" + hidden},
        {"negative_content_length", "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n" + hidden},
        {"plus_content_length", "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\n\r\n" + hidden},
        {"chunk_size_overflow",
         "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\nx\r\n0\r\n\r\n" +
             hidden},
        {"bare_lf_chunk", "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\n\n" + hidden},
    };
    for (const auto& [name, bytes] : smuggling) {
        report.check("http", "smuggling_" + name, [&, bytes = bytes] {
            const std::string raw = raw_exchange(port, bytes, 2500ms);
            const auto statuses = response_statuses(raw);
            const bool listed = raw.find("\"results\"") != std::string::npos;
            const bool ok = !statuses.empty() && statuses[0] >= 400 && statuses.size() == 1 && !listed;
            std::string seen;
            for (const auto s : statuses) {
                seen += std::to_string(s) + " ";
            }
            return verdict{ok, "expected one 4xx and the hidden request never answered; seen [" + seen + "]" +
                                   (listed ? " and the hidden request was answered" : "")};
        });
    }
    const std::vector<std::pair<std::string, std::string>> bad_requests = {
        {"unknown_method", "FOO / HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"lower_case_method", "get /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"trace_method", "TRACE / HTTP/1.1\r\nHost: x\r\nX-Echo: secret\r\n\r\n"},
        {"connect_method", "CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80\r\n\r\n"},
        {"absolute_form_target", "GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"asterisk_target", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"space_in_target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"control_char_in_target", "GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"http2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
        {"http_0_9", "GET /\r\n\r\n"},
        {"header_without_colon", "GET /healthz HTTP/1.1\r\nHost x\r\n\r\n"},
        {"nul_in_header", std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 45)},
        {"long_request_line", "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"},
    };
    for (const auto& [name, bytes] : bad_requests) {
        report.check("http", name, [&, bytes = bytes] {
            const std::string raw = raw_exchange(port, bytes, 2500ms);
            const auto statuses = response_statuses(raw);
            const bool ok = statuses.empty() || (statuses[0] >= 400 && statuses[0] != 500);
            return verdict{ok && raw.find("X-Echo: secret") == std::string::npos,
                           "expected a 4xx (or the connection closed), never 2xx/500; seen " +
                               (statuses.empty() ? std::string("no response") : std::to_string(statuses[0]))};
        });
    }
    report.check("http", "alive_after_bad_requests", [&] {
        auto reply = http.get("/healthz");
        return verdict{reply.status == 200, "expected 200; seen " + describe(reply)};
    });
    // Static files: nothing outside the web root, whatever the encoding.
    for (const std::string target :
         {"/../../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
          "/%252e%252e/%252e%252e/etc/passwd", "/..%5c..%5cetc%5cpasswd", "/assets/../../secret.txt",
          "/assets/%2e%2e/%2e%2e/secret.txt", "/..;/secret.txt", "//etc/passwd", "/%2fetc%2fpasswd",
          "/assets/..%c0%af..%c0%afsecret.txt", "/assets/app-1234.js%00.html", "/.%2e/secret.txt",
          "/secret.txt", "/../secret.txt", "/index.html/../../secret.txt"}) {
        report.check("http", "static_traversal " + target, [&, target] {
            auto reply = http.get(target);
            const bool leaked = reply.body.find("root:") != std::string::npos ||
                                reply.body.find(w.outside_secret) != std::string::npos;
            const bool shape = reply.status == 404 || reply.status == 400 ||
                               (reply.status == 200 && reply.body.find("ATTACK-") != std::string::npos);
            return verdict{!leaked && shape, "expected 404/400 or a file of the web root; seen " +
                                                 std::to_string(reply.status) + (leaked ? " with a file outside" : "")};
        });
    }
    for (const std::string target : {"/", "/sql", "/assets/app-1234.js"}) {
        report.check("http", "security_headers " + target, [&, target] {
            auto reply = http.get(target);
            const std::string csp = reply.header("content-security-policy");
            const bool ok = reply.status == 200 && csp.find("default-src 'self'") != std::string::npos &&
                            csp.find("frame-ancestors 'none'") != std::string::npos &&
                            csp.find("unsafe-eval") == std::string::npos &&
                            reply.header("x-content-type-options") == "nosniff" &&
                            reply.header("x-frame-options") == "DENY";
            return verdict{ok, "expected 200 with CSP (default-src 'self', frame-ancestors 'none', no unsafe-eval), "
                               "nosniff, X-Frame-Options DENY; seen " +
                                   std::to_string(reply.status) + " CSP \"" + csp + "\""};
        });
    }
    report.check("http", "slowloris_dropped_others_served", [&] {
        // 50 connections dribble header bytes; the read timeout (2 s) must end them while others are served.
        std::vector<std::unique_ptr<raw_socket>> slow;
        for (int i = 0; i < 50; ++i) {
            slow.push_back(std::make_unique<raw_socket>(port));
            slow.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n");
        }
        const auto started = clock_type::now();
        double worst = 0;
        int served = 0;
        bool all_closed = false;
        while (seconds_since(started) < 6.0 && !all_closed) {
            all_closed = true;
            for (auto& s : slow) {
                if (!s->closed()) {
                    s->send("X-Slow: a\r\n");
                    s->read_for(1ms);
                }
                all_closed = all_closed && s->closed();
            }
            const auto asked = clock_type::now();
            client fresh(port);
            if (fresh.get("/healthz").status == 200) {
                ++served;
            }
            worst = std::max(worst, seconds_since(asked));
            std::this_thread::sleep_for(200ms);
        }
        const double took = seconds_since(started);
        const bool ok = all_closed && took < 4.5 && worst < 1.0 && served > 3;
        return verdict{ok, "expected all 50 slow clients dropped within ~2 s and /healthz served meanwhile (< 1 s); "
                           "seen dropped=" + std::string(all_closed ? "yes" : "no") + " after " + fmt_seconds(took) +
                               ", " + std::to_string(served) + " served, slowest " + fmt_seconds(worst)};
    });

    // ----- Items 2 and 3: authentication and tenancy ------------------------------------------------------------
    const std::string foreign = "external_data_sources/" + beta_source + "/";
    const std::vector<std::tuple<std::string, std::string, std::string, std::string>> tenancy = {
        {"get_foreign_source", "GET", alpha.path(foreign), ""},
        {"patch_foreign_source", "PATCH", alpha.path(foreign), "{\"prefix\": \"stolen\"}"},
        {"delete_foreign_source", "DELETE", alpha.path(foreign), ""},
        {"schema_of_foreign_source", "GET", alpha.path("direct_query/schema/" + beta_source), ""},
        {"execute_on_foreign_source", "POST", alpha.path("direct_query/execute"),
         "{\"source_id\": \"" + beta_source + "\", \"sql\": \"SELECT 1\"}"},
        {"explain_on_foreign_source", "POST", alpha.path("direct_query/explain"),
         "{\"source_id\": \"" + beta_source + "\", \"sql\": \"SELECT 1\"}"},
        {"export_from_foreign_source", "POST", alpha.path("direct_query/export"),
         "{\"source_id\": \"" + beta_source + "\", \"sql\": \"SELECT 1\"}"},
        {"foreign_team_list", "GET", beta.path("external_data_sources/"), ""},
        {"foreign_team_sources", "GET", beta.path("direct_query/sources"), ""},
        {"foreign_team_execute", "POST", beta.path("direct_query/execute"),
         "{\"source_id\": \"" + beta_source + "\", \"sql\": \"SELECT 1\"}"},
        {"foreign_team_check", "POST", beta.path("external_data_sources/check"),
         json::serialize(json::object{{"source_type", "Postgres"}, {"job_inputs", job_inputs(w)}})},
        {"foreign_team_projects_alias", "GET",
         "/api/projects/" + std::to_string(beta.team_id) + "/external_data_sources/" + beta_source + "/", ""},
        {"non_uuid_id", "GET", alpha.path("external_data_sources/..%2F" + beta_source + "/"), ""},
        {"team_id_overflow", "GET", "/api/environments/99999999999999999999999/external_data_sources/", ""},
        {"team_id_negative", "GET", "/api/environments/-1/external_data_sources/", ""},
    };
    for (const auto& [name, method, target, body] : tenancy) {
        report.check("tenancy", name, [&, method = method, target = target, body = body] {
            return expect_error(http.request(method, target, body, auth), 404, "not_found");
        });
    }
    report.check("tenancy", "foreign_source_untouched", [&] {
        auto reply = http.get(beta.path(foreign), bearer(beta.key));
        return verdict{reply.status == 200 && reply.json().at("prefix") == "beta",
                       "expected Beta's source unchanged; seen " + describe(reply)};
    });
    report.check("tenancy", "foreign_source_not_listed", [&] {
        auto reply = http.get(alpha.path("direct_query/sources"), bearer(alpha.key));
        return verdict{reply.status == 200 && reply.body.find(beta_source) == std::string::npos,
                       "expected Alpha's list without Beta's source; seen " + describe(reply)};
    });
    for (const auto& [name, header] : std::vector<std::pair<std::string, std::string>>{
             {"no_credentials", ""},
             {"garbage_key", "Bearer mhk_garbage"},
             {"empty_bearer", "Bearer "},
             {"basic_auth", "Basic YWRtaW46YWRtaW4="},
             {"key_with_suffix", "Bearer " + alpha.key + "x"},
             {"key_truncated", "Bearer " + alpha.key.substr(0, alpha.key.size() - 1)},
         }) {
        report.check("auth", name + "_401", [&, header = header] {
            std::map<std::string, std::string> headers;
            if (!header.empty()) {
                headers["Authorization"] = header;
            }
            return expect_error(http.get(alpha.path("external_data_sources/"), headers), 401, "unauthenticated");
        });
    }
    report.check("auth", "revoked_key_401", [&] {
        http_client minting("127.0.0.1", port);  // shows the new key once, legitimately: kept out of the leak check
        auto minted = minting.post_json("/api/personal_api_keys/", json::object{{"label", "attack"}}, bearer(alpha.key));
        const std::string key(minted.json().at("key").as_string());
        const std::string id = json_string(minted, "id");
        w.secrets.push_back(key);
        const auto before_revoke = http.get(alpha.path("direct_query/sources"), bearer(key)).status;
        const auto revoked = http.del("/api/personal_api_keys/" + id + "/", bearer(alpha.key)).status;
        auto after = execute(http, party{key, alpha.team_id, alpha.user_id}, source, "SELECT 1");
        auto listed = http.get(alpha.path("direct_query/sources"), bearer(key));
        const bool ok = before_revoke == 200 && revoked == 204 && after.status == 401 && listed.status == 401;
        return verdict{ok, "expected 200, revoke 204, then 401 everywhere; seen " + std::to_string(before_revoke) +
                               ", " + std::to_string(revoked) + ", " + describe(after) + ", " + describe(listed)};
    });
    report.check("auth", "other_users_key_cannot_revoke", [&] {
        http_client minting("127.0.0.1", port);
        auto minted = minting.post_json("/api/personal_api_keys/", json::object{{"label", "victim"}}, bearer(alpha.key));
        w.secrets.push_back(std::string(minted.json().at("key").as_string()));
        const std::string id = json_string(minted, "id");
        auto reply = http.del("/api/personal_api_keys/" + id + "/", bearer(beta.key));
        auto still = http.get(alpha.path("direct_query/sources"), {{"Authorization", "Bearer " + std::string(minted.json().at("key").as_string())}});
        return verdict{reply.status == 404 && still.status == 200,
                       "expected 404 and the key still working; seen " + describe(reply) + ", " + describe(still)};
    });
    // Cookie sessions need the CSRF token for every state change.
    http_client browser("127.0.0.1", port);  // its transcript holds the session cookie, legitimately
    auto login = browser.post_json("/api/auth/login",
                                   json::object{{"email", "alpha@example.com"}, {"password", admin_password}});
    const std::string cookie = login.header("set-cookie").substr(0, login.header("set-cookie").find(';'));
    const std::string csrf = json_string(login, "csrf_token");
    w.secrets.push_back(cookie.substr(cookie.find('=') + 1));
    const std::string execute_body =
        json::serialize(json::object{{"source_id", source}, {"sql", "SELECT 1"}});
    const std::vector<std::tuple<std::string, std::string, std::string, std::map<std::string, std::string>, unsigned>>
        csrf_cases = {
            {"execute_without_token", "POST", execute_path, {{"Cookie", cookie}}, 403},
            {"execute_with_wrong_token", "POST", execute_path, {{"Cookie", cookie}, {"X-CSRF-Token", "nope"}}, 403},
            {"execute_with_other_case_token", "POST", execute_path,
             {{"Cookie", cookie}, {"X-CSRF-Token", csrf + "x"}}, 403},
            {"create_source_without_token", "POST", alpha.path("external_data_sources/"), {{"Cookie", cookie}}, 403},
            {"delete_source_without_token", "DELETE", alpha.path("external_data_sources/" + patched + "/"),
             {{"Cookie", cookie}}, 403},
            {"mint_key_without_token", "POST", "/api/personal_api_keys/", {{"Cookie", cookie}}, 403},
            {"logout_without_token", "POST", "/api/auth/logout", {{"Cookie", cookie}}, 403},
            {"execute_with_token", "POST", execute_path, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, 200},
        };
    for (const auto& [name, method, target, headers, status] : csrf_cases) {
        report.check("csrf", name, [&, method = method, target = target, headers = headers, status = status] {
            auto reply = browser.request(method, target, method == "DELETE" ? "" : execute_body, headers);
            return verdict{reply.status == status,
                           "expected " + std::to_string(status) + "; seen " + describe(reply)};
        });
    }
    report.check("csrf", "source_still_there", [&] {
        return verdict{http.get(patch_path, bearer(alpha.key)).status == 200, "expected the source not deleted"};
    });

    // ----- Rate limits and concurrency caps: a second server with tight limits --------------------------------
    server_process limited(scratch.path() / "limits",
                           environment({"METAHOG_USER_QUERIES_PER_MINUTE=6", "METAHOG_USER_BURST=6",
                                        "METAHOG_TEAM_QUERIES_PER_MINUTE=1000", "METAHOG_TEAM_BURST=1000",
                                        "METAHOG_MAX_RUNNING_PER_USER=2", "METAHOG_MAX_RUNNING_PER_SOURCE=3"}));
    w.servers.push_back(&limited);
    {
        const party u1 = party_of(limited.bootstrap("u1@example.com", admin_password, "Gamma"));
        const party u2 = party_of(limited.bootstrap("u2@example.com", admin_password, "Gamma"));
        w.secrets.push_back(u1.key);
        w.secrets.push_back(u2.key);
        client lc(limited.port());
        const std::string limited_source = create_source(lc, u1, w, "lim");
        std::vector<std::string> keys{u1.key};
        for (int i = 0; i < 2; ++i) {
            http_client minting("127.0.0.1", limited.port());
            auto minted = minting.post_json("/api/personal_api_keys/", json::object{{"label", "extra"}}, bearer(u1.key));
            keys.emplace_back(minted.json().at("key").as_string());
            w.secrets.push_back(keys.back());
        }
        // Runs `sql` once per key at the same time; the replies in key order.
        auto concurrently = [&](const std::vector<std::pair<party, std::string>>& calls) {
            std::vector<http_reply> replies(calls.size());
            std::vector<std::thread> threads;
            for (std::size_t i = 0; i < calls.size(); ++i) {
                threads.emplace_back([&, i] {
                    client own(limited.port());
                    replies[i] = execute(own, calls[i].first, limited_source, calls[i].second);
                });
            }
            for (auto& t : threads) {
                t.join();
            }
            return replies;
        };
        auto with_key = [&](const std::string& key) { return party{key, u1.team_id, u1.user_id}; };
        auto count = [](const std::vector<http_reply>& replies, unsigned status) {
            return std::count_if(replies.begin(), replies.end(), [&](const auto& r) { return r.status == status; });
        };
        report.check("limits", "running_cap_per_user_across_keys", [&] {
            auto replies = concurrently({{with_key(keys[0]), "SELECT pg_sleep(1.5)"},
                                         {with_key(keys[1]), "SELECT pg_sleep(1.5)"},
                                         {with_key(keys[2]), "SELECT pg_sleep(1.5)"}});
            std::string seen;
            bool retry_after = true;
            for (const auto& r : replies) {
                seen += describe(r) + "; ";
                if (r.status == 429) {
                    retry_after = retry_after && !r.header("retry-after").empty();
                }
            }
            return verdict{count(replies, 200) == 2 && count(replies, 429) == 1 && retry_after,
                           "expected 2 × 200 and 1 × 429 with Retry-After (cap 2 per user, 3 keys); seen " + seen};
        });
        report.check("limits", "running_cap_per_source", [&] {
            http_reply first;
            http_reply second;
            std::thread a([&] { client own(limited.port()); first = execute(own, u1, limited_source, "SELECT pg_sleep(2)"); });
            std::thread b([&] {
                client own(limited.port());
                second = execute(own, with_key(keys[1]), limited_source, "SELECT pg_sleep(2)");
            });
            const bool running = wait_for(w, running_sleeps_sql(w), "2");
            auto others = concurrently({{u2, "SELECT pg_sleep(0.5)"}, {u2, "SELECT pg_sleep(0.5)"}});
            a.join();
            b.join();
            const bool busy = count(others, 503) == 1 && count(others, 200) == 1;
            const auto& refused = others[0].status == 503 ? others[0] : others[1];
            return verdict{running && busy && !refused.header("retry-after").empty() &&
                               json_string(refused, "code") == "busy",
                           "expected with 2 running, u2's two queries: one 200, one 503 busy with Retry-After (cap 3 "
                           "per source); seen " + describe(others[0]) + "; " + describe(others[1])};
        });
        report.check("limits", "rate_limit_not_bypassed_with_several_keys", [&] {
            int ok = 0;
            http_reply limited_reply;
            for (int i = 0; i < 12 && limited_reply.status == 0; ++i) {
                auto reply = execute(lc, with_key(keys[static_cast<std::size_t>(i) % keys.size()]), limited_source,
                                     "SELECT 1");
                if (reply.status == 200) {
                    ++ok;
                } else if (reply.status == 429) {
                    limited_reply = reply;
                }
            }
            // u1 had 6 tokens and has spent 4 above; a token comes back every 10 s.
            const bool ok_verdict = limited_reply.status == 429 && ok <= 4 &&
                                    json_string(limited_reply, "code") == "rate_limited" &&
                                    !limited_reply.header("retry-after").empty();
            return verdict{ok_verdict, "expected 429 rate_limited with Retry-After after at most 4 more queries over 3 "
                                       "keys; seen " + std::to_string(ok) + " × 200 then " + describe(limited_reply) +
                                           " Retry-After=" + limited_reply.header("retry-after")};
        });
        report.check("limits", "cookie_session_shares_the_users_bucket", [&] {
            http_client browser_l("127.0.0.1", limited.port());
            auto signed_in = browser_l.post_json("/api/auth/login",
                                                 json::object{{"email", "u1@example.com"}, {"password", admin_password}});
            const std::string c = signed_in.header("set-cookie").substr(0, signed_in.header("set-cookie").find(';'));
            auto reply = browser_l.request(
                "POST", u1.path("direct_query/execute"),
                json::serialize(json::object{{"source_id", limited_source}, {"sql", "SELECT 1"}}),
                {{"Cookie", c}, {"X-CSRF-Token", json_string(signed_in, "csrf_token")}});
            return expect_error(reply, 429, "rate_limited");
        });
        report.check("limits", "other_user_still_served", [&] {
            auto reply = execute(lc, u2, limited_source, "SELECT 1");
            return verdict{reply.status == 200, "expected 200 for u2 (own bucket); seen " + describe(reply)};
        });
    }
    limited.stop();

    // ----- Operator network lists: a source allowed yesterday is refused once the operator denies it ----------
    {
        const auto deny_dir = scratch.path() / "deny";
        std::string kept_source;
        party owner;
        {
            server_process open_server(deny_dir, environment({}));
            owner = party_of(open_server.bootstrap("ops@example.com", admin_password, "Ops"));
            w.secrets.push_back(owner.key);
            client oc(open_server.port());
            kept_source = create_source(oc, owner, w, "ops");
            logs_of_stopped += open_server.log();
        }
        server_process denying(deny_dir, environment({"METAHOG_NETWORK_DENY=127.0.0.0/8,::1/128",
                                                      "METAHOG_NETWORK_ALLOW=169.254.0.0/16",
                                                      "METAHOG_CONNECT_TIMEOUT_MS=500"}));
        client dc(denying.port());
        report.check("network_lists", "deny_list_refuses_new_source", [&] {
            auto reply = dc.post_json(owner.path("external_data_sources/check"),
                                      json::object{{"source_type", "Postgres"}, {"job_inputs", job_inputs(w)}},
                                      bearer(owner.key));
            return expect_error(reply, 400, "invalid_input", "job_inputs.host");
        });
        report.check("network_lists", "deny_list_refuses_name_resolving_there", [&] {
            auto inputs = job_inputs(w);
            inputs["host"] = "localhost";
            auto reply = dc.post_json(owner.path("external_data_sources/check"),
                                      json::object{{"source_type", "Postgres"}, {"job_inputs", inputs}},
                                      bearer(owner.key));
            return expect_error(reply, 400, "invalid_input", "job_inputs.host");
        });
        report.check("network_lists", "deny_list_applies_to_stored_source", [&] {
            auto reply = execute(dc, owner, kept_source, "SELECT 1");
            const bool ok = reply.status >= 400 && reply.status < 500 &&
                            json_string(reply, "error").find("refuses") != std::string::npos;
            return verdict{ok, "expected a 4xx refusal at connect time; seen " + describe(reply)};
        });
        report.check("network_lists", "allow_list_lifts_builtin_refusal", [&] {
            auto inputs = job_inputs(w);
            inputs["host"] = "169.254.169.254";
            auto reply = dc.post_json(owner.path("external_data_sources/check"),
                                      json::object{{"source_type", "Postgres"}, {"job_inputs", inputs}},
                                      bearer(owner.key));
            return expect_error(reply, 400, "source_connection_failed");
        });
        denying.stop();
        logs_of_stopped += denying.log();
    }

    // ----- Proofs -----------------------------------------------------------------------------------------------
    report.check("proof", "no_row_or_object_changed", [&] {
        const auto after = snapshot(w);
        std::string changed;
        for (const auto& [key, value] : before) {
            const auto found = after.find(key);
            if (found == after.end() || found->second != value) {
                changed += key + " (" + value + " -> " + (found == after.end() ? "gone" : found->second) + "); ";
            }
        }
        for (const auto& [key, value] : after) {
            if (!before.contains(key)) {
                changed += "new " + key + "; ";
            }
        }
        return verdict{changed.empty(), changed.empty() ? "every table checksum, the sequence, catalog counts and "
                                                          "the role are unchanged (" +
                                                              std::to_string(before.size()) + " items)"
                                                        : "changed: " + changed};
    });
    report.check("proof", "no_marker_file", [&] {
        std::string found;
        for (const auto& entry : std::filesystem::directory_iterator("/tmp")) {
            if (entry.path().string().starts_with(w.marker_prefix)) {
                found += entry.path().string() + " ";
            }
        }
        return verdict{found.empty(), found.empty() ? "no " + w.marker_prefix + "* file" : "found " + found};
    });
    report.check("proof", "sessions_idle_and_no_locks", [&] {
        // Connections still returning to the pool finish their reset first.
        const bool idle = wait_for(w,
                                   "SELECT count(*)::text FROM pg_stat_activity WHERE state <> 'idle' AND usename = " +
                                       postgres_instance::literal(w.writer),
                                   "0", 5000ms);
        const auto locks = *pg->query("SELECT count(*)::text FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                                      "WHERE a.usename = " +
                                      postgres_instance::literal(w.writer))[0][0];
        const auto advisory = *pg->query("SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory'")[0][0];
        std::string sessions;
        for (const auto& row : writer_sessions(w)) {
            sessions += *row[1] + (row[2]->empty() ? "" : " xid=" + *row[2]) + "; ";
        }
        return verdict{idle && locks == "0" && advisory == "0",
                       "expected only idle pooled sessions, no locks; seen sessions [" + sessions + "], locks " + locks +
                           ", advisory locks " + advisory};
    });

    // Stop every server: their pooled sessions must go, and their counters reach pg_stat.
    std::string logs = logs_of_stopped;
    for (const auto* s : w.servers) {
        logs += s->log();
    }
    for (const auto* s : w.servers) {
        const_cast<server_process*>(s)->stop();
    }
    report.check("proof", "no_session_left_after_stop", [&] {
        const bool gone = wait_for(w,
                                   "SELECT count(*)::text FROM pg_stat_activity WHERE usename = " +
                                       postgres_instance::literal(w.writer),
                                   "0", 5000ms);
        return verdict{gone, gone ? "no session of the source role remains" : "sessions remain"};
    });
    report.check("proof", "no_write_counted", [&] {
        // A backend reports its counters at exit at the latest; all of them have exited now.
        std::this_thread::sleep_for(200ms);
        const std::string counters_after = write_counters(w);
        return verdict{counters_after == counters_before,
                       "pg_stat_user_tables inserts+updates+deletes,live rows " + counters_before + " -> " +
                           counters_after};
    });
    report.check("proof", "no_secret_in_responses_or_logs", [&] {
        const std::string everything = received().all + http.transcript() + logs;
        std::string leaked;
        for (const auto& secret : w.secrets) {
            if (!secret.empty() && everything.find(secret) != std::string::npos) {
                leaked += secret.substr(0, 6) + "… ";
            }
        }
        return verdict{leaked.empty(), leaked.empty() ? "no password or API key in " +
                                                            std::to_string(everything.size()) + " bytes of responses "
                                                            "and logs"
                                                      : "leaked: " + leaked};
    });

    report.print_summary();
    try {
        pg->execute("DROP DATABASE IF EXISTS " + postgres_instance::identifier(w.database) + " WITH (FORCE)");
        pg->execute("DROP ROLE IF EXISTS " + postgres_instance::identifier(w.writer));
    } catch (const std::exception& failure) {
        std::printf("clean-up failed: %s\n", failure.what());
    }
    return report.failed() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace metahog::test_support

int main() {
    try {
        return metahog::test_support::run();
    } catch (const std::exception& failure) {
        std::printf("FAIL setup: %s\n0 passed, 1 failed\n", failure.what());
        return 1;
    }
}
