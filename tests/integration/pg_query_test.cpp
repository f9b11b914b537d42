// The Postgres query engine against the real server (CTest's pg fixture): values checked against the server's
// own to_json(), truncation that keeps rows in the database, timeouts, cancels that really stop, the
// read-only transaction, a session left clean for the next user, exports byte for byte like COPY, EXPLAIN and
// the schema.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "drivers/postgres/cancel.hpp"
#include "drivers/postgres/connection_pool.hpp"
#include "drivers/postgres/pg_connection.hpp"
#include "drivers/postgres/query_engine.hpp"
#include "drivers/postgres/query_executor.hpp"
#include "drivers/postgres/schema_catalog.hpp"
#include "drivers/postgres/type_catalog.hpp"
#include "encoding/csv_encoder.hpp"
#include "encoding/json_response_encoder.hpp"
#include "encoding/json_text.hpp"
#include "encoding/ndjson_encoder.hpp"
#include "support/postgres_instance.hpp"

namespace metahog::drivers::postgres {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test_support::postgres_instance;
using test_support::test_database;
using test_support::test_role;

// Runs the coroutine `make()` returns on an io_context served by two threads, until it finishes.
template <class F>
auto run(F make) {
    using value_type = typename std::invoke_result_t<F>::value_type;
    asio::io_context io;
    std::optional<value_type> out;
    std::exception_ptr thrown;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { out.emplace(co_await make()); },
        [&](std::exception_ptr failure) { thrown = failure; });
    std::thread helper([&io] { io.run(); });
    io.run();
    helper.join();
    if (thrown) {
        std::rethrow_exception(thrown);
    }
    return std::move(*out);
}

// Everything a sink was told, with each cell's JSON as the encoders would write it.
struct collected_rows {
    std::vector<column_info> columns_;
    std::vector<std::vector<std::string>> rows_;
    std::vector<std::vector<std::optional<std::string>>> texts_;
    bool ended_ = false;
    stream_end end_;
};

class collecting_sink final : public row_sink, public collected_rows {
public:
    collected_rows take() { return std::move(static_cast<collected_rows&>(*this)); }

    bool on_columns(std::span<const column_info> columns) override {
        columns_.assign(columns.begin(), columns.end());
        return true;
    }
    bool on_row(row_view row) override {
        if (rows_.size() >= stop_after_) {
            return false;
        }
        std::vector<std::string> json;
        std::vector<std::optional<std::string>> text;
        for (const cell& value : row) {
            std::string rendered;
            encoding::append_json_cell(rendered, value);
            json.push_back(std::move(rendered));
            text.push_back(value.is_null() ? std::nullopt : std::optional<std::string>(value.text));
        }
        rows_.push_back(std::move(json));
        texts_.push_back(std::move(text));
        return true;
    }
    void on_end(const stream_end& end) override {
        ended_ = true;
        end_ = end;
    }

    std::size_t stop_after_ = std::numeric_limits<std::size_t>::max();
};

class pg_query_test : public ::testing::Test {
protected:
    void SetUp() override {
        METAHOG_REQUIRE_POSTGRES();
        prepare_process_environment();
        instance_ = postgres_instance::shared();
        role_.emplace("pgq");
        database_.emplace("pgq", role_->name());
        pool_ = make_pool(config(), 2);
    }

    connection_config config() const {
        connection_config config;
        config.host = instance_->host();
        config.port = instance_->port();
        config.database = database_->name();
        config.user = role_->name();
        config.password = role_->password();
        return config;
    }

    static std::shared_ptr<connection_pool> make_pool(connection_config target, std::size_t size) {
        pool_options options;
        options.max_size = size;
        options.connect.connect_timeout = 5s;
        return connection_pool::create(std::move(target), query_engine::with_session_reset(options));
    }

    // Set-up SQL as the superuser in the test database; the role may read (and write, so that refusals prove
    // the read-only transaction and not a missing grant) everything in public.
    void setup_sql(const std::string& sql) const {
        instance_->execute(sql, database_->name());
        instance_->execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " +
                               postgres_instance::identifier(role_->name()) +
                               "; GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " +
                               postgres_instance::identifier(role_->name()),
                           database_->name());
    }

    result<execution_summary> execute(std::string_view sql, row_sink& sink, std::size_t max_rows = 1000,
                                      statement_limits limits = {},
                                      std::shared_ptr<pg_query_control> control = nullptr,
                                      statement_mode mode = statement_mode::cursor) {
        return run([&]() -> asio::awaitable<result<execution_summary>> {
            auto lease = co_await pool_->acquire();
            if (!lease) {
                co_return std::move(lease).error();
            }
            query_executor executor(*types_, &cancels_);
            execute_request request;
            request.sql = sql;
            request.max_rows = max_rows;
            request.limits = limits;
            request.control = control;
            request.mode = mode;
            auto outcome = co_await executor.execute(*lease, request, sink);
            // Whatever happened, the session must be idle now: nothing left open on the server.
            if (*lease) {
                EXPECT_EQ(PQtransactionStatus((*lease)->native()), PQTRANS_IDLE);
            }
            co_return outcome;
        });
    }

    result<execution_summary> export_to(std::string_view sql, row_sink& sink, export_strategy strategy,
                                        std::size_t max_rows = 10'000'000) {
        return run([&]() -> asio::awaitable<result<execution_summary>> {
            auto lease = co_await pool_->acquire();
            if (!lease) {
                co_return std::move(lease).error();
            }
            query_executor executor(*types_, &cancels_);
            export_request request;
            request.sql = sql;
            request.max_rows = max_rows;
            request.strategy = strategy;
            request.batch_bytes = 64 * 1024;  // several batches even for small test results
            co_return co_await executor.export_rows(*lease, request, sink);
        });
    }

    collected_rows collect(std::string_view sql, std::size_t max_rows = 1000) {
        collecting_sink sink;
        auto outcome = execute(sql, sink, max_rows);
        EXPECT_TRUE(outcome) << sql << ": " << (outcome ? "" : outcome.error().message);
        return sink.take();
    }

    // What COPY (query) TO STDOUT (FORMAT csv, HEADER) sends for the same query and role — what psql \copy
    // writes.
    std::string copy_csv(const std::string& sql) const {
        const std::string conninfo =
            "host=" + instance_->host() + " port=" + std::to_string(instance_->port()) +
            " dbname=" + database_->name() + " user=" + role_->name() + " password=" + role_->password();
        PGconn* conn = PQconnectdb(conninfo.c_str());
        std::string out;
        PGresult* started = PQexec(conn, ("COPY (" + sql + ") TO STDOUT (FORMAT csv, HEADER)").c_str());
        EXPECT_EQ(PQresultStatus(started), PGRES_COPY_OUT) << PQerrorMessage(conn);
        PQclear(started);
        char* chunk = nullptr;
        int length = 0;
        while ((length = PQgetCopyData(conn, &chunk, 0)) > 0) {
            out.append(chunk, static_cast<std::size_t>(length));
            PQfreemem(chunk);
        }
        while (PGresult* rest = PQgetResult(conn)) {
            PQclear(rest);
        }
        PQfinish(conn);
        return out;
    }

    const postgres_instance* instance_ = nullptr;
    std::optional<test_role> role_;
    std::optional<test_database> database_;
    std::shared_ptr<connection_pool> pool_;
    // A fresh cache per test; tests that need first-sight lookups replace it.
    std::unique_ptr<type_catalog> types_ = std::make_unique<type_catalog>();
    cancel_service cancels_;
};

// --- values ---

// Every built-in type renders exactly as the server's own to_json() of the same value, in the same session
// (same TimeZone), even when the role's defaults try other date and bytea output styles.
TEST_F(pg_query_test, every_builtin_type_matches_to_json) {
    instance_->execute("ALTER ROLE " + postgres_instance::identifier(role_->name()) +
                       " SET timezone = 'Europe/Amsterdam'; ALTER ROLE " +
                       postgres_instance::identifier(role_->name()) +
                       " SET DateStyle = 'SQL, DMY'; ALTER ROLE " +
                       postgres_instance::identifier(role_->name()) + " SET bytea_output = 'escape'");
    // A fresh pool so that the new role defaults apply.
    pool_ = make_pool(config(), 1);
    setup_sql(R"sql(
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy "really"');
        CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
        CREATE DOMAIN tags AS text[];
        CREATE TYPE pair AS (label text, amount numeric, seen timestamptz, flags boolean[]);
        CREATE TABLE all_types (
            id serial PRIMARY KEY,
            b boolean, i2 smallint, i4 integer, i8 bigint, n numeric, f4 real, f8 double precision, m money,
            t text, vc varchar(10), c char(5), ch "char", nm name, by bytea,
            d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
            u uuid, j json, jb jsonb, x xml, ip inet, cidr_value cidr, mac macaddr, mac8 macaddr8,
            bt bit(4), vb varbit, tv tsvector, tq tsquery,
            pt point, ln line, ls lseg, bx box, pa path, pg polygon, ci circle,
            r4 int4range, rn numrange, rts tstzrange, rd daterange, mr int4multirange,
            o oid, rc regclass, lsn pg_lsn,
            ai integer[], at text[], a2 integer[][], ab boolean[], atz timestamptz[], aj json[], ajb jsonb[],
            aby bytea[], an numeric[], abx box[], e mood, ae mood[], dp positive, dt tags, cp pair, acp pair[]
        );
        INSERT INTO all_types (b, i2, i4, i8, n, f4, f8, m, t, vc, c, ch, nm, by, d, tm, ttz, ts, tstz, iv, u, j, jb,
            x, ip, cidr_value, mac, mac8, bt, vb, tv, tq, pt, ln, ls, bx, pa, pg, ci, r4, rn, rts, rd, mr, o, rc, lsn,
            ai, at, a2, ab, atz, aj, ajb, aby, an, abx, e, ae, dp, dt, cp, acp) VALUES
          (true, -32768, 2147483647, 9223372036854775807, 123456789012345678901234567890.000000000000000000001,
           1.5e-7, 1e100, 1234.56, E'quote " backslash \\ newline \n tab \t bell \x07 é 😀', 'abc', 'ab',
           'x', 'a name', '\x00ff10', '2020-02-29', '10:00:01.5', '10:00:00+02', '2020-01-01 10:00:00.123456',
           '2020-06-01 12:00:00+00', '1 year 2 months 3 days 04:05:06.7', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
           '{"b": [1, 2.50, "x"], "a": null}', '{"b": [1, 2.50, "x"], "a": null}', '<a>x</a>', '192.168.0.1/24',
           '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', B'1010', B'10101', 'a fat cat:1',
           'fat & rat', '(1,2)', '{1,-1,0}', '[(0,0),(1,1)]', '(1,1),(0,0)', '((0,0),(1,1),(2,0))',
           '((0,0),(1,1),(1,0))', '<(0,0),1>', '[1,5)', '(1.5,2.5]', '[2020-01-01 00:00+00,2021-01-01 00:00+00)',
           '[2020-01-01,2020-02-01)', '{[1,3),[5,7)}', 4242, 'pg_class', '16/B374D848',
           '{1,NULL,3}', '{"a b",NULL,"","x\\y","NULL","q\"u",plain}', '{{1,2},{3,NULL}}', '{t,f,NULL}',
           '{"2020-01-01 10:00:00+00",NULL}', ARRAY['{"a":1}'::json, NULL], ARRAY['{"a": 1}'::jsonb],
           ARRAY['\x01'::bytea, NULL], '{1.0,NaN,-Infinity}', ARRAY['(1,2),(0,0)'::box, '(3,3),(1,1)'::box],
           'happy "really"', '{sad,ok}', 7, '{x,"y z"}',
           ROW('a "label", (with parens)', 12.50, '2020-01-01 00:00+00', '{t,NULL}')::pair,
           ARRAY[ROW('x', 1, NULL, NULL)::pair, NULL]),
          (false, 0, 0, -9223372036854775808, 'NaN', 'Infinity', '-Infinity', -0.5, '', '', '', '', '', '',
           '0044-03-15 BC', '00:00', '23:59:59.999999-14:59', '-infinity', '1800-01-01 00:00', '-1 day', NULL, 'null',
           '[]', '', '::1', '::/0', NULL, NULL, B'0000', B'', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           'empty', 'empty', NULL, NULL, '{}', 0, NULL, NULL, '{}', '{}', NULL, '{}', NULL, NULL, NULL, NULL, '[0:1]={1.5,2}',
           NULL, 'sad', '{}', NULL, '{}', ROW(NULL, NULL, NULL, NULL)::pair, '{}'),
          (NULL, NULL, NULL, NULL, 'Infinity', 'NaN', 0.1, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           'infinity', NULL, NULL, 'infinity', '0044-03-15 10:00:00+00 BC', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL);
    )sql");
    const auto columns = instance_->query(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'all_types'::regclass AND attnum > 1 "
        "AND NOT attisdropped ORDER BY attnum",
        database_->name());
    std::string sql = "SELECT ";
    for (std::size_t index = 0; index < columns.size(); ++index) {
        const std::string name = postgres_instance::identifier(*columns[index][0]);
        sql += (index > 0 ? ", " : "") + name + ", to_json(" + name + ")::text";
    }
    // Expressions no table column can hold.
    sql +=
        ", '1 2 3'::int2vector, to_json('1 2 3'::int2vector)::text, '1 2'::oidvector, "
        "to_json('1 2'::oidvector)::text, ROW(1, 'a'), to_json(ROW(1, 'a'))::text, '7'::xid8, "
        "to_json('7'::xid8)::text FROM all_types ORDER BY id";
    collected_rows sink = collect(sql);
    ASSERT_EQ(sink.rows_.size(), 3U);
    for (std::size_t row = 0; row < sink.rows_.size(); ++row) {
        for (std::size_t column = 0; column + 1 < sink.columns_.size(); column += 2) {
            const auto& expected = sink.texts_[row][column + 1];
            const std::string want = expected ? *expected : "null";
            if (sink.columns_[column].type_id == 2249) {
                // An anonymous record has no attribute names on the client side: its text, as a string.
                EXPECT_EQ(sink.rows_[row][column], "\"(1,a)\"");
                continue;
            }
            EXPECT_EQ(sink.rows_[row][column], want)
                << "row " << row << ", column " << sink.columns_[column].name << " ("
                << sink.columns_[column].type_name << ")";
        }
    }
    // Type names come from the server's catalog, user types included.
    std::vector<std::string> names;
    for (std::size_t column = 0; column < sink.columns_.size(); column += 2) {
        names.push_back(sink.columns_[column].type_name);
    }
    for (const char* expected :
         {"boolean", "numeric", "money", "character", "\"char\"", "timestamp with time zone", "mood",
          "mood[]", "pair", "pair[]", "int4multirange", "int2vector", "record"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
    }
}

// Every row of Pagila's tables renders as row_to_json() renders it (text[], tsvector, enums, domains, bytea,
// numeric, timestamptz, partitions...).
TEST_F(pg_query_test, every_pagila_table_matches_row_to_json) {
    if (!instance_->has_pagila()) {
        GTEST_SKIP() << "Pagila is not loaded (../shared/data/pagila absent)";
    }
    test_role reader("pgqr", "IN ROLE pg_read_all_data");
    connection_config pagila = config();
    pagila.database = "pagila";
    pagila.user = reader.name();
    pagila.password = reader.password();
    pool_ = make_pool(pagila, 1);
    const auto tables = instance_->query(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm') AND "
        "c.relispopulated "
        // actor_info is Pagila's deliberately slow view (seconds of aggregation, nothing new to render).
        "AND c.relname <> 'actor_info' ORDER BY 1",
        "pagila");
    ASSERT_GT(tables.size(), 10U);
    for (const auto& table : tables) {
        // The last column is the expectation; every column before it is the row.
        collected_rows sink =
            collect("SELECT t.*, row_to_json(t)::text AS expected FROM " + *table[0] + " t LIMIT 300", 300);
        ASSERT_FALSE(sink.columns_.empty());
        for (std::size_t row = 0; row < sink.rows_.size(); ++row) {
            std::string object = "{";
            for (std::size_t column = 0; column + 1 < sink.columns_.size(); ++column) {
                if (column > 0) {
                    object += ",";
                }
                encoding::append_json_string(object, sink.columns_[column].name);
                object += ":" + sink.rows_[row][column];
            }
            object += "}";
            ASSERT_EQ(object, sink.texts_[row].back().value_or("")) << *table[0] << " row " << row;
        }
    }
}

// The fast path of built-in type facts must say what the server's catalog says, row for row.
TEST_F(pg_query_test, builtin_type_table_matches_the_server) {
    std::string oids;
    for (const builtin_type& entry : type_catalog::builtin_types()) {
        oids += (oids.empty() ? "" : ",") + std::to_string(entry.type_oid);
    }
    const auto rows = instance_->query(
        "SELECT t.oid, format_type(t.oid, NULL), t.typcategory, "
        "CASE WHEN t.typsubscript = 'array_subscript_handler'::regproc THEN t.typelem ELSE 0 END, "
        "coalesce(e.typdelim, ',') FROM pg_type t LEFT JOIN pg_type e ON e.oid = t.typelem "
        "WHERE t.oid = ANY('{" +
        oids + "}'::oid[])");
    ASSERT_EQ(rows.size(), type_catalog::builtin_types().size());
    for (const auto& row : rows) {
        const auto type_oid = static_cast<oid>(std::stoul(*row[0]));
        const auto entry =
            std::find_if(type_catalog::builtin_types().begin(), type_catalog::builtin_types().end(),
                         [&](const builtin_type& candidate) { return candidate.type_oid == type_oid; });
        ASSERT_NE(entry, type_catalog::builtin_types().end());
        EXPECT_EQ(*row[1], entry->name) << type_oid;
        EXPECT_EQ((*row[2])[0], entry->category) << type_oid;
        EXPECT_EQ(*row[3], std::to_string(entry->element_oid)) << type_oid;
        if (entry->element_oid != 0) {
            EXPECT_EQ((*row[4])[0], entry->delimiter) << type_oid;
        }
    }
}

// A user type seen for the first time is read from pg_type before its rows are rendered — in execute (rows
// held until the lookup) and in exports (looked up inside the transaction).
TEST_F(pg_query_test, new_user_types_are_looked_up_on_first_sight) {
    setup_sql(
        "CREATE TYPE color AS ENUM ('red', 'green'); CREATE DOMAIN amount AS numeric(10,2); "
        "CREATE TYPE money_pair AS (a amount, c color[]); "
        "CREATE TABLE things (p money_pair, ps money_pair[], a amount); "
        "INSERT INTO things VALUES (ROW(1.5, '{red,green}'), ARRAY[ROW(2, '{}')::money_pair], 3.25)");
    collected_rows sink = collect("SELECT p, ps, a FROM things");
    ASSERT_EQ(sink.rows_.size(), 1U);
    EXPECT_EQ(sink.columns_[0].type_name, "money_pair");
    EXPECT_EQ(sink.columns_[1].type_name, "money_pair[]");
    // Postgres describes a domain column by its base type (RowDescription): the name comes from the table's
    // declaration, the value renders as the base type. A computed domain value has only its base type.
    EXPECT_EQ(sink.columns_[2].type_name, "amount");
    EXPECT_EQ(sink.rows_[0][0], R"({"a":1.50,"c":["red","green"]})");
    EXPECT_EQ(sink.rows_[0][1], R"([{"a":2.00,"c":[]}])");
    EXPECT_EQ(sink.rows_[0][2], "3.25");

    collected_rows computed = collect("SELECT a + 1 AS b, (p).a FROM things");
    EXPECT_EQ(computed.columns_[0].type_name, "numeric");

    types_ = std::make_unique<type_catalog>();
    encoding::ndjson_encoder ndjson;
    auto exported = export_to("SELECT p, a FROM things", ndjson, export_strategy::batched_fetch);
    ASSERT_TRUE(exported) << exported.error().message;
    EXPECT_EQ(ndjson.take_output(), "{\"p\":{\"a\":1.50,\"c\":[\"red\",\"green\"]},\"a\":3.25}\n");
}

// The contract's body, end to end through the JSON encoder: duplicate names kept, exact digits.
TEST_F(pg_query_test, json_response_keeps_duplicates_and_exact_numbers) {
    encoding::json_response_encoder encoder(encoding::json_row_format::arrays, {.max_rows = 10});
    auto outcome = execute("SELECT 1 AS a, 'x' AS a, 12345678901234567890.123::numeric AS n", encoder, 10);
    ASSERT_TRUE(outcome) << outcome.error().message;
    const std::string body = encoder.take_output();
    EXPECT_NE(body.find(R"("columns":["a","a","n"],"types":["integer","text","numeric"],"rows":[[1,"x",)"
                        R"(12345678901234567890.123]],"row_count":1,"truncated":false)"),
              std::string::npos)
        << body;
    EXPECT_NO_THROW(boost::json::parse(body));
}

// --- limits ---

// Only max_rows + 1 rows leave the database: even an endless query answers at once, truncated.
TEST_F(pg_query_test, an_endless_query_returns_max_rows_truncated) {
    encoding::json_response_encoder encoder(encoding::json_row_format::arrays, {.max_rows = 5});
    const auto started = std::chrono::steady_clock::now();
    auto outcome = execute("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
                           encoder, 5);
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_EQ(outcome->rows_fetched, 6U);
    EXPECT_FALSE(outcome->source_exhausted);
    const auto body = boost::json::parse(encoder.take_output()).as_object();
    EXPECT_EQ(boost::json::serialize(body.at("rows")), "[[1],[2],[3],[4],[5]]");
    EXPECT_TRUE(body.at("truncated").as_bool());
    EXPECT_GE(body.at("execution_time_ms").as_double(), 0.0);
}

TEST_F(pg_query_test, exactly_max_rows_is_complete) {
    encoding::json_response_encoder encoder(encoding::json_row_format::arrays, {.max_rows = 3});
    auto outcome = execute("SELECT g FROM generate_series(1, 3) g", encoder, 3);
    ASSERT_TRUE(outcome);
    EXPECT_TRUE(outcome->source_exhausted);
    EXPECT_FALSE(boost::json::parse(encoder.take_output()).as_object().at("truncated").as_bool());
}

// A giant value stops at the byte cap instead of filling the response.
TEST_F(pg_query_test, the_byte_cap_truncates) {
    encoding::json_response_encoder encoder(encoding::json_row_format::arrays, {.max_bytes = 64 * 1024});
    auto outcome = execute("SELECT repeat('x', 40000) FROM generate_series(1, 10)", encoder);
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_TRUE(outcome->stopped_by_sink);
    const std::string body = encoder.take_output();
    EXPECT_LE(body.size(), 64U * 1024U);
    const auto parsed = boost::json::parse(body).as_object();
    EXPECT_TRUE(parsed.at("truncated").as_bool());
    EXPECT_EQ(parsed.at("rows").as_array().size(), 1U);
}

// statement_timeout fires on the server and comes back as query_timeout; the connection stays usable.
TEST_F(pg_query_test, statement_timeout_is_query_timeout) {
    collecting_sink sink;
    statement_limits limits;
    limits.statement_timeout = 200ms;
    const auto started = std::chrono::steady_clock::now();
    auto outcome = execute("SELECT pg_sleep(10)", sink, 10, limits);
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, error_code::query_timeout);
    EXPECT_EQ(outcome.error().sqlstate, "57014");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_TRUE(collect("SELECT 1").rows_.size() == 1);
}

// --- errors ---

// Errors carry the SQLSTATE and the position in the SQL the user sent (not in MetaHog's DECLARE wrapper).
TEST_F(pg_query_test, errors_carry_sqlstate_and_user_positions) {
    collecting_sink sink;
    auto missing = execute("SELECT * FROM no_such_table", sink);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, error_code::query_failed);
    EXPECT_EQ(missing.error().sqlstate, "42P01");
    EXPECT_EQ(missing.error().position, 15);
    EXPECT_FALSE(sink.ended_) << "a statement failing before its columns must not touch the sink";

    auto syntax = execute("SELEC 1", sink);
    ASSERT_FALSE(syntax);
    EXPECT_EQ(syntax.error().sqlstate, "42601");
    EXPECT_EQ(syntax.error().position, 1);

    auto column = execute("SELECT nope FROM (VALUES (1)) v(x)", sink);
    ASSERT_FALSE(column);
    EXPECT_EQ(column.error().sqlstate, "42703");
    EXPECT_EQ(column.error().position, 8);
    EXPECT_FALSE(column.error().message.empty());

    // libpq would stop at a NUL and run only the text before it: refused before anything is sent.
    auto nul = execute(std::string_view("SELECT 1\0 FROM victim", 22), sink);
    ASSERT_FALSE(nul);
    EXPECT_EQ(nul.error().code, error_code::invalid_input);

    auto hinted = execute("SELECT 'a'::int", sink);
    ASSERT_FALSE(hinted);
    EXPECT_EQ(hinted.error().sqlstate, "22P02");
    EXPECT_EQ(hinted.error().position, 8);
}

// FETCH collects its rows on the server before sending them, so a cursor statement that fails part-way sends
// no row at all and leaves the sink untouched; a direct statement streams, and ends the sink with the failure
// after the rows it already gave.
TEST_F(pg_query_test, a_failure_mid_stream_ends_the_sink) {
    collecting_sink cursor_sink;
    auto through_cursor = execute("SELECT 1 / (3 - g) FROM generate_series(1, 5) g", cursor_sink);
    ASSERT_FALSE(through_cursor);
    EXPECT_EQ(through_cursor.error().sqlstate, "22012");
    EXPECT_FALSE(cursor_sink.ended_);

    collecting_sink sink;
    auto outcome = execute("SELECT 1 / (3 - g) FROM generate_series(1, 5) g", sink, 10, {}, nullptr,
                           statement_mode::direct);
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().sqlstate, "22012");
    EXPECT_EQ(sink.rows_.size(), 2U);
    ASSERT_TRUE(sink.ended_);
    ASSERT_TRUE(sink.end_.failure.has_value());
    EXPECT_EQ(sink.end_.failure->sqlstate, "22012");
}

// The extended protocol refuses a second statement: nothing can be smuggled after the first.
TEST_F(pg_query_test, a_second_statement_is_refused) {
    setup_sql("CREATE TABLE victim (x int)");
    collecting_sink sink;
    auto outcome = execute("SELECT 1; DROP TABLE victim", sink);
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, error_code::query_failed);
    EXPECT_EQ(instance_->query("SELECT count(*) FROM victim", database_->name())[0][0], "0");
}

// --- the read-only transaction ---

// Writes fail inside the read-only transaction, however they are attempted; nothing changes.
TEST_F(pg_query_test, write_attempts_fail_in_the_read_only_transaction) {
    setup_sql(
        "CREATE TABLE target (x int); CREATE SEQUENCE counter; "
        "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql VOLATILE AS "
        "'INSERT INTO target VALUES (1) RETURNING x';");
    collecting_sink sink;
    for (const char* attempt :
         {"SELECT sneaky()", "SELECT nextval('counter')",
          "WITH w AS (INSERT INTO target VALUES (2) RETURNING x) SELECT * FROM w",
          "SELECT set_config('transaction_read_only', 'off', false)", "SELECT * FROM target FOR UPDATE"}) {
        auto outcome = execute(attempt, sink);
        EXPECT_FALSE(outcome) << attempt;
    }
    auto direct = execute("SELECT sneaky()", sink, 10, {}, nullptr, statement_mode::direct);
    EXPECT_FALSE(direct);
    EXPECT_EQ(direct.error().sqlstate, "25006");
    EXPECT_EQ(instance_->query("SELECT count(*) FROM target", database_->name())[0][0], "0");
    EXPECT_EQ(instance_->query("SELECT last_value FROM counter", database_->name())[0][0], "1");
}

// After any statement — successful, failed, timed out — no transaction is left open on the server.
TEST_F(pg_query_test, the_pipeline_leaves_no_transaction_open) {
    collecting_sink sink;
    (void)execute("SELECT 1", sink);
    (void)execute("SELECT * FROM no_such_table", sink);
    (void)execute("SELECT 1 / 0", sink);
    const auto open = instance_->query("SELECT count(*) FROM pg_stat_activity WHERE usename = " +
                                       postgres_instance::literal(role_->name()) + " AND state <> 'idle'");
    EXPECT_EQ(*open[0][0], "0");
}

// What one user leaves in a session (advisory locks, session settings) is gone before the next one gets it.
TEST_F(pg_query_test, the_session_is_reset_between_users) {
    pool_ = make_pool(config(), 1);
    collecting_sink sink;
    auto first = execute(
        "SELECT pg_advisory_lock(4242), set_config('application_name', 'dirty', false), "
        "pg_backend_pid()",
        sink);
    ASSERT_TRUE(first) << first.error().message;
    const std::string pid = sink.texts_.at(0).at(2).value_or("");
    collected_rows second = collect(
        "SELECT pg_backend_pid(), current_setting('application_name'), "
        "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = "
        "pg_backend_pid())");
    ASSERT_EQ(second.texts_.size(), 1U);
    EXPECT_EQ(second.texts_[0][0], pid) << "the pool of one must hand out the same connection";
    EXPECT_NE(second.texts_[0][1], "dirty");
    EXPECT_EQ(second.texts_[0][2], "0");
}

// --- cancel ---

// A cancel while the statement runs stops it on the server within a second, and says so truthfully.
TEST_F(pg_query_test, cancel_stops_a_running_statement) {
    auto control = std::make_shared<pg_query_control>();
    collecting_sink sink;
    std::optional<result<execution_summary>> outcome;
    std::thread runner([&] { outcome.emplace(execute("SELECT pg_sleep(30)", sink, 10, {}, control)); });
    // Wait for the real signal: the statement is attached and active on the server.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (control->state().state != pg_query_control::phase::running) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline);
        std::this_thread::yield();
    }
    const auto started = std::chrono::steady_clock::now();
    const cancel_outcome cancelled = run([&]() -> asio::awaitable<std::optional<cancel_outcome>> {
                                         co_return co_await cancels_.cancel(control, {});
                                     }).value();
    runner.join();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
    EXPECT_TRUE(cancelled.cancelled) << cancelled.detail;
    EXPECT_EQ(cancelled.outcome, cancel_outcome::kind::cancelled);
    ASSERT_TRUE(outcome.has_value());
    ASSERT_FALSE(*outcome);
    EXPECT_EQ(outcome->error().code, error_code::query_cancelled);
    EXPECT_TRUE(collect("SELECT 1").rows_.size() == 1);
}

// Cancelled before it ran: it never runs. Cancelled after it finished: not reported as cancelled.
TEST_F(pg_query_test, cancel_before_and_after) {
    auto early = std::make_shared<pg_query_control>();
    const auto prevented = run([&]() -> asio::awaitable<std::optional<cancel_outcome>> {
                               co_return co_await cancels_.cancel(early, {});
                           }).value();
    EXPECT_TRUE(prevented.cancelled);
    collecting_sink sink;
    auto refused = execute("SELECT 1", sink, 10, {}, early);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, error_code::query_cancelled);

    auto late = std::make_shared<pg_query_control>();
    ASSERT_TRUE(execute("SELECT 1", sink, 10, {}, late));
    const auto nothing = run([&]() -> asio::awaitable<std::optional<cancel_outcome>> {
                             co_return co_await cancels_.cancel(late, {});
                         }).value();
    EXPECT_FALSE(nothing.cancelled);
    EXPECT_EQ(nothing.outcome, cancel_outcome::kind::not_running);
}

// When the statement has not visibly stopped within the confirmation time, pg_stat_activity decides, and a
// backend still running it is terminated; either way the statement is really over when `cancelled` is true.
TEST_F(pg_query_test, unconfirmed_cancels_are_checked_and_terminated) {
    auto control = std::make_shared<pg_query_control>();
    collecting_sink sink;
    std::optional<result<execution_summary>> outcome;
    std::thread runner([&] { outcome.emplace(execute("SELECT pg_sleep(30)", sink, 10, {}, control)); });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (control->state().state != pg_query_control::phase::running) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline);
        std::this_thread::yield();
    }
    const int pid = control->state().backend_pid;
    const connection_config side = config();
    const auto result = run([&]() -> asio::awaitable<std::optional<cancel_outcome>> {
                            connect_options options;
                            co_return co_await cancels_.cancel(
                                control, [&]() { return pg_connection::open(side, options); }, 0ms);
                        }).value();
    runner.join();
    EXPECT_TRUE(result.cancelled) << result.detail;
    ASSERT_TRUE(outcome.has_value());
    ASSERT_FALSE(*outcome);
    EXPECT_EQ(outcome->error().code, error_code::query_cancelled) << outcome->error().message;
    const auto still =
        instance_->query("SELECT state FROM pg_stat_activity WHERE pid = " + std::to_string(pid));
    EXPECT_TRUE(still.empty() || still[0][0] != "active");
}

// A cancel the server never acts on (here: sent to the wrong backend, as a pooler in between might) is caught
// by pg_stat_activity, and the backend is terminated from another connection; only then is it reported as
// stopped.
TEST_F(pg_query_test, ignored_cancels_end_in_termination) {
    const connection_config target = config();
    const std::string conninfo = "host=" + target.host + " port=" + std::to_string(target.port) +
                                 " dbname=" + target.database + " user=" + target.user +
                                 " password=" + target.password;
    PGconn* busy = PQconnectdb(conninfo.c_str());
    PGconn* bystander = PQconnectdb(conninfo.c_str());
    ASSERT_EQ(PQstatus(busy), CONNECTION_OK);
    ASSERT_EQ(PQstatus(bystander), CONNECTION_OK);
    const int busy_pid = PQbackendPID(busy);
    ASSERT_EQ(PQsendQuery(busy, "SELECT pg_sleep(60)"), 1);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (instance_
               ->query("SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND pid = " +
                       std::to_string(busy_pid))
               .empty()) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline);
        std::this_thread::yield();
    }
    auto control = std::make_shared<pg_query_control>();
    ASSERT_TRUE(control->attach(pg_cancel_ptr(PQgetCancel(bystander)), busy_pid));
    const auto outcome = run([&]() -> asio::awaitable<std::optional<cancel_outcome>> {
                             connect_options options;
                             co_return co_await cancels_.cancel(
                                 control, [&]() { return pg_connection::open(target, options); }, 300ms);
                         }).value();
    EXPECT_EQ(outcome.outcome, cancel_outcome::kind::terminated) << outcome.detail;
    EXPECT_TRUE(outcome.cancelled);
    EXPECT_TRUE(
        instance_->query("SELECT 1 FROM pg_stat_activity WHERE pid = " + std::to_string(busy_pid)).empty());
    PGresult* ended = PQgetResult(busy);
    EXPECT_NE(PQresultStatus(ended), PGRES_TUPLES_OK);
    PQclear(ended);
    PQfinish(busy);
    PQfinish(bystander);
}

// --- exports ---

// CSV exports are what psql's \copy writes for the same query, byte for byte, with both fetch strategies.
TEST_F(pg_query_test, csv_export_matches_copy_byte_for_byte) {
    setup_sql(
        "CREATE TABLE export_me (id int, label text, tags text[], at timestamptz, price numeric, ok boolean, "
        "raw bytea, doc jsonb); "
        "INSERT INTO export_me SELECT g, CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN "
        "E'a,\"quoted\"\\nline' WHEN 3 THEN 'plain ' || g ELSE E'\\\\.' END, ARRAY['x', NULL, 'y z'], "
        "'2020-01-01 00:00+00'::timestamptz + g * interval '1 hour', g / 7.0, g % 2 = 0, "
        "decode(lpad(to_hex(g), 4, '0'), 'hex'), jsonb_build_object('g', g) FROM generate_series(1, 3000) g");
    const std::string sql = "SELECT * FROM export_me ORDER BY id";
    const std::string expected = copy_csv(sql);
    for (const auto strategy :
         {export_strategy::batched_fetch, export_strategy::single_row, export_strategy::streaming}) {
        std::string streamed;
        encoding::csv_encoder encoder({}, [&](std::string_view chunk) {
            streamed.append(chunk);
            return true;
        });
        auto outcome = export_to(sql, encoder, strategy);
        ASSERT_TRUE(outcome) << outcome.error().message;
        EXPECT_TRUE(outcome->source_exhausted);
        EXPECT_EQ(outcome->rows_fetched, 3000U);
        EXPECT_TRUE(streamed == expected) << "strategy " << static_cast<int>(strategy) << ": "
                                          << streamed.size() << " bytes against " << expected.size();
    }
    // A single column holding \. alone on a line is quoted, as COPY does.
    const std::string single = "SELECT label FROM export_me WHERE id IN (1, 4, 5) ORDER BY id";
    encoding::csv_encoder encoder;
    ASSERT_TRUE(export_to(single, encoder, export_strategy::batched_fetch));
    EXPECT_EQ(encoder.take_output(), copy_csv(single));
}

// Exports stop at the server's row cap, and report it through the sink. Batched FETCH asks for exactly cap +
// 1 rows; streaming cancels the statement once the sink stops, and the session is clean either way.
TEST_F(pg_query_test, exports_stop_at_the_row_cap) {
    encoding::ndjson_encoder encoder({.max_rows = 2500});
    auto outcome = export_to("SELECT g FROM generate_series(1, 100000) g", encoder,
                             export_strategy::batched_fetch, 2500);
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(outcome->rows_fetched, 2501U);
    EXPECT_TRUE(encoder.truncated());
    EXPECT_EQ(encoder.row_count(), 2500U);

    encoding::ndjson_encoder streamed({.max_rows = 2500});
    const auto started = std::chrono::steady_clock::now();
    auto stopped =
        export_to("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r", streamed,
                  export_strategy::streaming, 2500);
    ASSERT_TRUE(stopped) << stopped.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
    EXPECT_TRUE(streamed.truncated());
    EXPECT_EQ(streamed.row_count(), 2500U);
    EXPECT_TRUE(stopped->stopped_by_sink);
    EXPECT_EQ(collect("SELECT 1").rows_.size(), 1U);
}

// Exports wait for the reader between batches (backpressure keeps memory bounded), and a reader that goes
// away stops them without fetching the rest.
TEST_F(pg_query_test, exports_wait_for_the_reader_between_batches) {
    encoding::csv_encoder encoder({}, [](std::string_view) { return true; });
    int drains = 0;
    auto outcome = run([&]() -> asio::awaitable<result<execution_summary>> {
        auto lease = co_await pool_->acquire();
        if (!lease) {
            co_return std::move(lease).error();
        }
        query_executor executor(*types_, &cancels_);
        export_request request;
        request.sql = "SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g";
        request.batch_bytes = 64 * 1024;
        request.drain = [&drains]() -> asio::awaitable<bool> {
            ++drains;
            co_return drains < 3;
        };
        co_return co_await executor.export_rows(*lease, request, encoder);
    });
    ASSERT_TRUE(outcome) << outcome.error().message;
    EXPECT_EQ(drains, 3);
    EXPECT_TRUE(outcome->stopped_by_sink);
    EXPECT_FALSE(outcome->source_exhausted);
    EXPECT_LT(outcome->rows_fetched, 200000U);
}

// --- explain and schema ---

TEST_F(pg_query_test, explain_returns_the_json_plan) {
    auto plan = run([&]() -> asio::awaitable<result<std::string>> {
        auto lease = co_await pool_->acquire();
        if (!lease) {
            co_return std::move(lease).error();
        }
        query_executor executor(*types_, &cancels_);
        explain_request request;
        request.sql = "SELECT g FROM generate_series(1, 10) g";
        request.analyze = true;
        auto answer = co_await executor.explain(*lease, request);
        request.sql = "SELECT nope";
        auto failed = co_await executor.explain(*lease, request);
        EXPECT_FALSE(failed);
        if (!failed) {
            co_return answer;
        }
        EXPECT_EQ(failed.error().position, 8);
        co_return answer;
    });
    ASSERT_TRUE(plan) << plan.error().message;
    const auto parsed = boost::json::parse(*plan);
    ASSERT_TRUE(parsed.is_array());
    EXPECT_TRUE(parsed.as_array().at(0).as_object().contains("Plan"));
    EXPECT_TRUE(parsed.as_array().at(0).as_object().at("Plan").as_object().contains("Actual Rows"));
}

// Tables, views, keys, defaults, comments and estimates, without system schemas.
TEST_F(pg_query_test, schema_lists_relations_columns_and_keys) {
    setup_sql(
        "CREATE SCHEMA sales; "
        "CREATE TABLE customer (id serial PRIMARY KEY, name text NOT NULL, \"odd, name\" int DEFAULT 42); "
        "COMMENT ON TABLE customer IS 'people who pay'; COMMENT ON COLUMN customer.name IS 'full name'; "
        "CREATE TABLE sales.orders (id int, line int, customer_id int REFERENCES customer(id), "
        "PRIMARY KEY (id, line)); "
        "CREATE VIEW names AS SELECT name FROM customer; "
        "CREATE MATERIALIZED VIEW counted AS SELECT count(*) FROM customer; "
        "CREATE TABLE events (at date) PARTITION BY RANGE (at); "
        "CREATE TABLE events_2020 PARTITION OF events FOR VALUES FROM ('2020-01-01') TO ('2021-01-01'); "
        "INSERT INTO customer (name) SELECT 'n' || g FROM generate_series(1, 100) g; ANALYZE customer;");
    auto schema = run([&]() -> asio::awaitable<result<schema_description>> {
        auto lease = co_await pool_->acquire();
        if (!lease) {
            co_return std::move(lease).error();
        }
        co_return co_await describe_schema(**lease, "public");
    });
    ASSERT_TRUE(schema) << schema.error().message;
    const auto find = [&](std::string_view schema_name, std::string_view name) -> const table_description* {
        for (const auto& table : schema->tables) {
            if (table.schema == schema_name && table.name == name) {
                return &table;
            }
        }
        return nullptr;
    };
    for (const auto& table : schema->tables) {
        EXPECT_NE(table.schema, "pg_catalog");
        EXPECT_NE(table.schema, "information_schema");
    }
    const auto* customer = find("public", "customer");
    ASSERT_NE(customer, nullptr);
    EXPECT_EQ(customer->kind, relation_kind::table);
    EXPECT_EQ(customer->comment, "people who pay");
    ASSERT_EQ(customer->columns.size(), 3U);
    EXPECT_EQ(customer->columns[0].type, "integer");
    EXPECT_FALSE(customer->columns[0].nullable);
    EXPECT_EQ(customer->columns[1].comment, "full name");
    EXPECT_EQ(customer->columns[2].name, "odd, name");
    EXPECT_EQ(customer->columns[2].default_value, "42");
    EXPECT_EQ(customer->primary_key, std::vector<std::string>{"id"});
    EXPECT_EQ(customer->estimated_rows, 100.0);
    const auto* orders = find("sales", "orders");
    ASSERT_NE(orders, nullptr);
    EXPECT_EQ(orders->primary_key, (std::vector<std::string>{"id", "line"}));
    ASSERT_EQ(orders->foreign_keys.size(), 1U);
    EXPECT_EQ(orders->foreign_keys[0].referenced_table, "customer");
    EXPECT_EQ(orders->foreign_keys[0].referenced_columns, std::vector<std::string>{"id"});
    ASSERT_NE(find("public", "names"), nullptr);
    EXPECT_EQ(find("public", "names")->kind, relation_kind::view);
    EXPECT_EQ(find("public", "counted")->kind, relation_kind::materialized_view);
    EXPECT_EQ(find("public", "events")->kind, relation_kind::partitioned_table);
    EXPECT_TRUE(find("public", "events_2020")->is_partition);

    const auto contract = contract_schema_json(*schema);
    EXPECT_EQ(boost::json::serialize(contract.at("tables").at("customer")),
              R"([["id","integer"],["name","text"],["odd, name","integer"]])");
    EXPECT_TRUE(contract.at("tables").as_object().contains("sales.orders"));
    const auto rich = rich_schema_json(*schema);
    EXPECT_EQ(rich.at("default_schema").as_string(), "public");
}

// Pagila's schema comes back whole: every table with its columns and keys.
TEST_F(pg_query_test, pagila_schema) {
    if (!instance_->has_pagila()) {
        GTEST_SKIP() << "Pagila is not loaded (../shared/data/pagila absent)";
    }
    test_role reader("pgqs", "IN ROLE pg_read_all_data");
    connection_config pagila = config();
    pagila.database = "pagila";
    pagila.user = reader.name();
    pagila.password = reader.password();
    pool_ = make_pool(pagila, 1);
    auto schema = run([&]() -> asio::awaitable<result<schema_description>> {
        auto lease = co_await pool_->acquire();
        if (!lease) {
            co_return std::move(lease).error();
        }
        co_return co_await describe_schema(**lease, "public");
    });
    ASSERT_TRUE(schema) << schema.error().message;
    const auto contract = contract_schema_json(*schema);
    const auto& film = contract.at("tables").at("film").as_array();
    EXPECT_EQ(boost::json::serialize(film.at(0)), R"(["film_id","integer"])");
    bool has_fk = false;
    for (const auto& table : schema->tables) {
        if (table.name == "film") {
            EXPECT_EQ(table.primary_key, std::vector<std::string>{"film_id"});
            has_fk = !table.foreign_keys.empty();
        }
    }
    EXPECT_TRUE(has_fk);
}

}  // namespace
}  // namespace metahog::drivers::postgres
