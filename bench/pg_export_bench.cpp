// Export throughput against a real Postgres: MetaHog's fetch strategies (batched FETCH with prefetch, one
// FETCH in single-row mode, the statement streamed in single-row mode) encoding CSV and NDJSON, beside COPY …
// TO STDOUT (what psql's \copy reads) as the reference, on a 1,000,000-row, 10-column table. Needs a test
// instance: METAHOG_TEST_PG_DIR=DIR (DIR/port, DIR/superuser.password), e.g. one started with
// `scripts/test-pg-fixture start DIR`. Skipped without one.
#include <benchmark/benchmark.h>
#include <libpq-fe.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "drivers/postgres/connection_pool.hpp"
#include "drivers/postgres/query_engine.hpp"
#include "drivers/postgres/query_executor.hpp"
#include "encoding/csv_encoder.hpp"
#include "encoding/ndjson_encoder.hpp"

namespace {

namespace asio = boost::asio;
using namespace metahog::drivers::postgres;
namespace encoding = metahog::encoding;

constexpr const char* database = "metahog_export_bench";
constexpr const char* query = "SELECT * FROM export_rows";
constexpr int row_count = 1'000'000;

std::string read_file(const std::string& path) {
    std::ifstream file(path);
    std::string text;
    std::getline(file, text);
    return text;
}

struct server {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    std::string password;
};

std::optional<server> find_server() {
    const char* dir = std::getenv("METAHOG_TEST_PG_DIR");
    if (dir == nullptr) {
        return std::nullopt;
    }
    server found;
    found.port = static_cast<std::uint16_t>(std::atoi(read_file(std::string(dir) + "/port").c_str()));
    found.password = read_file(std::string(dir) + "/superuser.password");
    if (found.port == 0) {
        return std::nullopt;
    }
    return found;
}

std::string conninfo(const server& target, const char* dbname) {
    return "host=" + target.host + " port=" + std::to_string(target.port) +
           " user=postgres dbname=" + dbname + " password=" + target.password;
}

bool exec(PGconn* conn, const std::string& sql) {
    PGresult* done = PQexec(conn, sql.c_str());
    const bool ok = PQresultStatus(done) == PGRES_COMMAND_OK || PQresultStatus(done) == PGRES_TUPLES_OK;
    if (!ok) {
        std::cerr << sql << ": " << PQerrorMessage(conn);
    }
    PQclear(done);
    return ok;
}

// Creates the database and table once; later runs reuse them.
bool prepare(const server& target) {
    PGconn* admin = PQconnectdb(conninfo(target, "postgres").c_str());
    PGresult* exists =
        PQexec(admin, (std::string("SELECT 1 FROM pg_database WHERE datname = '") + database + "'").c_str());
    const bool present = PQntuples(exists) == 1;
    PQclear(exists);
    if (!present && !exec(admin, std::string("CREATE DATABASE ") + database)) {
        PQfinish(admin);
        return false;
    }
    PQfinish(admin);
    PGconn* conn = PQconnectdb(conninfo(target, database).c_str());
    const bool ok = exec(conn,
                         "CREATE TABLE IF NOT EXISTS export_rows AS SELECT g AS id, g * 7 AS quantity, "
                         "g / 3.0 AS price, 'name ' || g AS name, md5(g::text) AS digest, "
                         "timestamptz '2020-01-01' + g * interval '1 minute' AS created, g % 2 = 0 AS even, "
                         "date '2020-01-01' + g % 1000 AS day, g::float8 / 7 AS ratio, "
                         "CASE WHEN g % 10 = 0 THEN NULL ELSE 'note, \"quoted\"' END AS note "
                         "FROM generate_series(1, " +
                             std::to_string(row_count) + ") g") &&
                    exec(conn, "VACUUM ANALYZE export_rows");
    PQfinish(conn);
    return ok;
}

void copy_reference(benchmark::State& state, server target) {
    std::size_t bytes = 0;
    for (auto _ : state) {
        PGconn* conn = PQconnectdb(conninfo(target, database).c_str());
        PGresult* started =
            PQexec(conn, (std::string("COPY (") + query + ") TO STDOUT (FORMAT csv, HEADER)").c_str());
        PQclear(started);
        char* chunk = nullptr;
        int length = 0;
        while ((length = PQgetCopyData(conn, &chunk, 0)) > 0) {
            bytes += static_cast<std::size_t>(length);
            PQfreemem(chunk);
        }
        while (PGresult* rest = PQgetResult(conn)) {
            PQclear(rest);
        }
        PQfinish(conn);
    }
    state.SetItemsProcessed(state.iterations() * row_count);
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

template <class encoder_type>
void metahog_export(benchmark::State& state, server target, export_strategy strategy) {
    connection_config config;
    config.host = target.host;
    config.port = target.port;
    config.database = database;
    config.user = "postgres";
    config.password = target.password;
    config.sslmode = "disable";
    pool_options options;
    options.max_size = 1;
    auto pool = connection_pool::create(config, query_engine::with_session_reset(options));
    type_catalog types;
    std::size_t bytes = 0;
    std::size_t rows = 0;
    for (auto _ : state) {
        asio::io_context io;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                auto lease = co_await pool->acquire();
                if (!lease) {
                    state.SkipWithError(lease.error().message.c_str());
                    co_return;
                }
                encoder_type encoder(encoding::encoder_limits{}, [&bytes](std::string_view chunk) {
                    bytes += chunk.size();
                    return true;
                });
                query_executor executor(types);
                export_request request;
                request.sql = query;
                request.strategy = strategy;
                auto outcome = co_await executor.export_rows(*lease, request, encoder);
                if (!outcome) {
                    state.SkipWithError(outcome.error().message.c_str());
                    co_return;
                }
                rows += outcome->rows_fetched;
            },
            [](std::exception_ptr failure) {
                if (failure) {
                    std::rethrow_exception(failure);
                }
            });
        io.run();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(rows));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

}  // namespace

int main(int argc, char** argv) {
    prepare_process_environment();
    benchmark::Initialize(&argc, argv);
    const auto target = find_server();
    if (!target) {
        std::cout << "pg_export_bench: METAHOG_TEST_PG_DIR does not name a running test instance; skipped\n";
        return 0;
    }
    if (!prepare(*target)) {
        return 1;
    }
    const auto unit = benchmark::kMillisecond;
    benchmark::RegisterBenchmark("copy_csv_reference", copy_reference, *target)->Unit(unit)->UseRealTime();
    benchmark::RegisterBenchmark("csv_batched_fetch", metahog_export<encoding::csv_encoder>, *target,
                                 export_strategy::batched_fetch)
        ->Unit(unit)
        ->UseRealTime();
    benchmark::RegisterBenchmark("csv_single_row", metahog_export<encoding::csv_encoder>, *target,
                                 export_strategy::single_row)
        ->Unit(unit)
        ->UseRealTime();
    benchmark::RegisterBenchmark("csv_streaming", metahog_export<encoding::csv_encoder>, *target,
                                 export_strategy::streaming)
        ->Unit(unit)
        ->UseRealTime();
    benchmark::RegisterBenchmark("ndjson_streaming", metahog_export<encoding::ndjson_encoder>, *target,
                                 export_strategy::streaming)
        ->Unit(unit)
        ->UseRealTime();
    benchmark::RegisterBenchmark("ndjson_batched_fetch", metahog_export<encoding::ndjson_encoder>, *target,
                                 export_strategy::batched_fetch)
        ->Unit(unit)
        ->UseRealTime();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
