// Names and kinds of Postgres statements, from their parse tree node. Private to metahog_sql.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

#include "sql/analyze.hpp"

namespace metahog::sql::detail {

// `type` is the statement node's name ("InsertStmt"), `fields` its members.
statement_info classify_statement(std::string_view type, const boost::json::object& fields);

}  // namespace metahog::sql::detail
