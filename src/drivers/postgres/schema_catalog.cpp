// The three schema queries (relations, columns, keys), pipelined in one read-only snapshot, and their JSON
// forms.
#include "drivers/postgres/schema_catalog.hpp"

#include <libpq-fe.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <charconv>
#include <cstdlib>
#include <unordered_map>

#include "drivers/postgres/pg_io.hpp"

namespace metahog::drivers::postgres {
namespace {

namespace asio = boost::asio;

// The same relation filter in every query so that the three agree. 'pg_' is reserved for system schemas
// (CREATE SCHEMA refuses it), which covers pg_catalog, pg_toast and the temporary schemas.
#define METAHOG_RELATION_FILTER                                                     \
    "c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname <> 'information_schema' " \
    "AND n.nspname NOT LIKE 'pg\\_%'"

constexpr const char* relations_sql =
    "SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition, c.reltuples, d.description "
    "FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid "
    "  AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = 0 "
    "WHERE " METAHOG_RELATION_FILTER
    " "
    "ORDER BY n.nspname, c.relname";

constexpr const char* columns_sql =
    "SELECT a.attrelid, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, "
    "  pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), d.description "
    "FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum "
    "LEFT JOIN pg_catalog.pg_description d ON d.objoid = a.attrelid "
    "  AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = a.attnum "
    "WHERE " METAHOG_RELATION_FILTER
    " AND a.attnum > 0 AND NOT a.attisdropped "
    "ORDER BY a.attrelid, a.attnum";

// Column lists as JSON arrays (names may hold any character; JSON parses them back exactly).
constexpr const char* keys_sql =
    "SELECT con.conrelid, con.contype, con.conname, "
    "  pg_catalog.array_to_json(ARRAY(SELECT a.attname FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY "
    "    AS k(attnum, position) JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = "
    "k.attnum "
    "    ORDER BY k.position)), "
    "  fn.nspname, fc.relname, "
    "  pg_catalog.array_to_json(ARRAY(SELECT a.attname FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY "
    "    AS k(attnum, position) JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid "
    "    AND a.attnum = k.attnum ORDER BY k.position)) "
    "FROM pg_catalog.pg_constraint con "
    "JOIN pg_catalog.pg_class c ON c.oid = con.conrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid "
    "LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace "
    "WHERE con.contype IN ('p', 'f') AND " METAHOG_RELATION_FILTER
    " "
    "ORDER BY con.conrelid, con.conname";

#undef METAHOG_RELATION_FILTER

std::string_view value_of(const PGresult* rows, int row, int column) {
    return {PQgetvalue(rows, row, column), static_cast<std::size_t>(PQgetlength(rows, row, column))};
}

std::optional<std::string> optional_value(const PGresult* rows, int row, int column) {
    if (PQgetisnull(rows, row, column) != 0) {
        return std::nullopt;
    }
    return std::string(value_of(rows, row, column));
}

unsigned long parse_unsigned(std::string_view text) {
    unsigned long value = 0;
    (void)std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

relation_kind kind_of(char relkind) {
    switch (relkind) {
        case 'v':
            return relation_kind::view;
        case 'm':
            return relation_kind::materialized_view;
        case 'p':
            return relation_kind::partitioned_table;
        case 'f':
            return relation_kind::foreign_table;
        default:
            return relation_kind::table;
    }
}

std::string_view kind_name(relation_kind kind) {
    switch (kind) {
        case relation_kind::view:
            return "view";
        case relation_kind::materialized_view:
            return "materialized_view";
        case relation_kind::partitioned_table:
            return "partitioned_table";
        case relation_kind::foreign_table:
            return "foreign_table";
        case relation_kind::table:
            break;
    }
    return "table";
}

std::vector<std::string> names_from_json(std::string_view text) {
    std::vector<std::string> names;
    boost::system::error_code parse_error;
    const auto parsed = boost::json::parse(text, parse_error);
    if (parse_error || !parsed.is_array()) {
        return names;
    }
    for (const auto& name : parsed.get_array()) {
        if (name.is_string()) {
            names.emplace_back(name.get_string());
        }
    }
    return names;
}

boost::json::array string_array(const std::vector<std::string>& values) {
    boost::json::array array;
    array.reserve(values.size());
    for (const auto& value : values) {
        array.emplace_back(value);
    }
    return array;
}

}  // namespace

asio::awaitable<result<schema_description>> describe_schema(pg_connection& connection,
                                                            std::string default_schema) {
    PGconn* conn = connection.native();
    if (!connection.usable()) {
        co_return make_error(error_code::source_connection_failed, "the connection is not ready for a query");
    }
    // One snapshot for the three queries, read-only, rolled back; bounded like any statement.
    if (PQenterPipelineMode(conn) == 0) {
        co_return connection.error_from_connection(error_code::internal);
    }
    for (const char* sql : {"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                            "SELECT pg_catalog.set_config('statement_timeout', '60000', true)", relations_sql,
                            columns_sql, keys_sql}) {
        if (auto sent = send_statement(connection, sql); !sent) {
            co_return std::move(sent).error();
        }
    }
    if (PQpipelineSync(conn) == 0 || !send_statement(connection, "ROLLBACK") || PQpipelineSync(conn) == 0) {
        co_return connection.error_from_connection(error_code::source_connection_failed);
    }
    if (auto flushed = co_await connection.flush(); !flushed) {
        co_return std::move(flushed).error();
    }
    std::vector<pg_result_ptr> answers;
    std::optional<error> failure;
    for (int command = 0; command < 5; ++command) {
        pg_result_ptr kept;
        while (true) {
            auto next = co_await next_result(connection);
            if (!next) {
                co_return std::move(next).error();
            }
            if (!*next) {
                break;
            }
            if (result_failed(next->get()) && !failure) {
                failure = error_from_result(next->get());
            }
            kept = std::move(*next);
        }
        answers.push_back(std::move(kept));
    }
    for (int sync_or_rollback = 0; sync_or_rollback < 3; ++sync_or_rollback) {
        while (true) {
            auto next = co_await next_result(connection);
            if (!next) {
                co_return std::move(next).error();
            }
            if (!*next || PQresultStatus(next->get()) == PGRES_PIPELINE_SYNC) {
                break;
            }
        }
    }
    if (PQexitPipelineMode(conn) == 0) {
        co_return connection.error_from_connection(error_code::internal);
    }
    if (failure) {
        co_return std::move(*failure);
    }

    schema_description schema;
    schema.default_schema = std::move(default_schema);
    std::unordered_map<unsigned long, std::size_t> table_index;
    const PGresult* relations = answers[2].get();
    const int relation_count = PQntuples(relations);
    schema.tables.reserve(static_cast<std::size_t>(relation_count));
    for (int row = 0; row < relation_count; ++row) {
        table_description table;
        table.schema = value_of(relations, row, 1);
        table.name = value_of(relations, row, 2);
        table.kind = kind_of(value_of(relations, row, 3).front());
        table.is_partition = value_of(relations, row, 4) == "t";
        const double estimate = std::strtod(PQgetvalue(relations, row, 5), nullptr);
        // reltuples is -1 until the first ANALYZE (Postgres 14+); views have none.
        if (estimate >= 0 && table.kind != relation_kind::view &&
            table.kind != relation_kind::foreign_table) {
            table.estimated_rows = estimate;
        }
        table.comment = optional_value(relations, row, 6).value_or("");
        table_index.emplace(parse_unsigned(value_of(relations, row, 0)), schema.tables.size());
        schema.tables.push_back(std::move(table));
    }

    const PGresult* columns = answers[3].get();
    const int column_count = PQntuples(columns);
    for (int row = 0; row < column_count; ++row) {
        const auto found = table_index.find(parse_unsigned(value_of(columns, row, 0)));
        if (found == table_index.end()) {
            continue;
        }
        column_description column;
        column.ordinal = static_cast<int>(parse_unsigned(value_of(columns, row, 1)));
        column.name = value_of(columns, row, 2);
        column.type = value_of(columns, row, 3);
        column.nullable = value_of(columns, row, 4) != "t";
        column.default_value = optional_value(columns, row, 5);
        column.comment = optional_value(columns, row, 6).value_or("");
        schema.tables[found->second].columns.push_back(std::move(column));
    }

    const PGresult* keys = answers[4].get();
    const int key_count = PQntuples(keys);
    for (int row = 0; row < key_count; ++row) {
        const auto found = table_index.find(parse_unsigned(value_of(keys, row, 0)));
        if (found == table_index.end()) {
            continue;
        }
        table_description& table = schema.tables[found->second];
        if (value_of(keys, row, 1) == "p") {
            table.primary_key = names_from_json(value_of(keys, row, 3));
            continue;
        }
        foreign_key_description key;
        key.name = value_of(keys, row, 2);
        key.columns = names_from_json(value_of(keys, row, 3));
        key.referenced_schema = optional_value(keys, row, 4).value_or("");
        key.referenced_table = optional_value(keys, row, 5).value_or("");
        key.referenced_columns = names_from_json(value_of(keys, row, 6));
        table.foreign_keys.push_back(std::move(key));
    }
    co_return schema;
}

boost::json::object contract_schema_json(const schema_description& schema) {
    boost::json::object tables;
    for (const auto& table : schema.tables) {
        boost::json::array columns;
        columns.reserve(table.columns.size());
        for (const auto& column : table.columns) {
            columns.push_back(
                boost::json::array{boost::json::string(column.name), boost::json::string(column.type)});
        }
        const std::string key =
            table.schema == schema.default_schema ? table.name : table.schema + "." + table.name;
        tables[key] = std::move(columns);
    }
    boost::json::object body;
    body["tables"] = std::move(tables);
    return body;
}

boost::json::object rich_schema_json(const schema_description& schema) {
    boost::json::array tables;
    tables.reserve(schema.tables.size());
    for (const auto& table : schema.tables) {
        boost::json::array columns;
        for (const auto& column : table.columns) {
            boost::json::object described;
            described["ordinal"] = column.ordinal;
            described["name"] = column.name;
            described["type"] = column.type;
            described["nullable"] = column.nullable;
            described["default"] = column.default_value ? boost::json::value(*column.default_value) : nullptr;
            described["comment"] = column.comment;
            columns.push_back(std::move(described));
        }
        boost::json::array foreign_keys;
        for (const auto& key : table.foreign_keys) {
            boost::json::object references;
            references["schema"] = key.referenced_schema;
            references["table"] = key.referenced_table;
            references["columns"] = string_array(key.referenced_columns);
            boost::json::object described;
            described["name"] = key.name;
            described["columns"] = string_array(key.columns);
            described["references"] = std::move(references);
            foreign_keys.push_back(std::move(described));
        }
        boost::json::object described;
        described["schema"] = table.schema;
        described["name"] = table.name;
        described["kind"] = kind_name(table.kind);
        described["is_partition"] = table.is_partition;
        described["estimated_rows"] =
            table.estimated_rows ? boost::json::value(*table.estimated_rows) : nullptr;
        described["comment"] = table.comment;
        described["columns"] = std::move(columns);
        described["primary_key"] = string_array(table.primary_key);
        described["foreign_keys"] = std::move(foreign_keys);
        tables.push_back(std::move(described));
    }
    boost::json::object body;
    body["default_schema"] = schema.default_schema;
    body["tables"] = std::move(tables);
    return body;
}

}  // namespace metahog::drivers::postgres
