// Schema discovery for a Postgres source: tables, views, materialized views, partitioned and foreign tables,
// their columns (type via format_type, nullability, default, comment), primary and foreign keys, row
// estimates and comments — in three catalog queries pipelined in one round trip, whatever the schema's size
// (never a query per table), inside one read-only snapshot. System schemas (pg_*, information_schema) are
// left out.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "core/result.hpp"
#include "drivers/driver.hpp"
#include "drivers/postgres/pg_connection.hpp"

namespace metahog::drivers::postgres {

// Reads the schema over `connection` (idle, outside a transaction; left idle). `default_schema` is the
// source's schema setting, recorded in the description.
boost::asio::awaitable<result<schema_description>> describe_schema(pg_connection& connection,
                                                                   std::string default_schema);

// The contract's shape: {"tables": {"film": [["film_id", "integer"], ...], "other.t": [...]}} — tables of the
// default schema keyed by name, the others by schema.name; columns in table order.
boost::json::object contract_schema_json(const schema_description& schema);

// The richer form for the workbench: {"default_schema": …, "tables": [{"schema", "name", "kind",
// "is_partition", "estimated_rows", "comment", "columns": [{"ordinal", "name", "type", "nullable", "default",
// "comment"}], "primary_key": [...], "foreign_keys": [{"name", "columns", "references": {"schema", "table",
// "columns"}}]}]}.
boost::json::object rich_schema_json(const schema_description& schema);

}  // namespace metahog::drivers::postgres
