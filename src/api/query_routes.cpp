// direct_query: execute, explain, schema, cancel (export lives beside them once streaming lands).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <mutex>
#include <unordered_map>

#include "api/request_support.hpp"
#include "api/routes.hpp"
#include "encoding/json_text.hpp"
#include "http/error_response.hpp"
#include "security/uuid.hpp"

namespace metahog::api {
namespace {

namespace json = boost::json;
using verb = http::beast_http::verb;
using awaitable_result = boost::asio::awaitable<result<http::outgoing>>;

std::string_view relation_kind_name(drivers::relation_kind kind) {
    switch (kind) {
        case drivers::relation_kind::table: return "table";
        case drivers::relation_kind::view: return "view";
        case drivers::relation_kind::materialized_view: return "materialized_view";
        case drivers::relation_kind::partitioned_table: return "partitioned_table";
        case drivers::relation_kind::foreign_table: return "foreign_table";
    }
    return "table";
}

json::array strings(const std::vector<std::string>& values) {
    json::array out;
    for (const auto& value : values) {
        out.emplace_back(value);
    }
    return out;
}

// The contract's {"tables": {name: [[column, type], …]}}, plus the rich form when asked for.
json::object schema_json(const drivers::schema_description& schema, bool detailed) {
    json::object tables;
    json::array relations;
    for (const auto& table : schema.tables) {
        const std::string name = table.schema == schema.default_schema ? table.name : table.schema + "." + table.name;
        json::array columns;
        for (const auto& column : table.columns) {
            columns.push_back(json::array{column.name, column.type});
        }
        tables[name] = std::move(columns);
        if (!detailed) {
            continue;
        }
        json::array column_details;
        for (const auto& column : table.columns) {
            json::object detail{{"name", column.name}, {"type", column.type}, {"nullable", column.nullable}};
            detail["default"] = column.default_value ? json::value(*column.default_value) : json::value(nullptr);
            if (!column.comment.empty()) {
                detail["comment"] = column.comment;
            }
            column_details.push_back(std::move(detail));
        }
        json::array foreign_keys;
        for (const auto& key : table.foreign_keys) {
            foreign_keys.push_back(json::object{{"name", key.name},
                                                {"columns", strings(key.columns)},
                                                {"referenced_schema", key.referenced_schema},
                                                {"referenced_table", key.referenced_table},
                                                {"referenced_columns", strings(key.referenced_columns)}});
        }
        json::object relation{{"schema", table.schema},
                              {"name", table.name},
                              {"kind", relation_kind_name(table.kind)},
                              {"is_partition", table.is_partition},
                              {"columns", std::move(column_details)},
                              {"primary_key", strings(table.primary_key)},
                              {"foreign_keys", std::move(foreign_keys)}};
        relation["estimated_rows"] = table.estimated_rows ? json::value(*table.estimated_rows) : json::value(nullptr);
        if (!table.comment.empty()) {
            relation["comment"] = table.comment;
        }
        relations.push_back(std::move(relation));
    }
    json::object body{{"tables", std::move(tables)}};
    if (detailed) {
        body["default_schema"] = schema.default_schema;
        body["relations"] = std::move(relations);
    }
    return body;
}

// The contract's form written straight to text. Building it as a JSON tree first costs an allocation per name
// and type: for 2,000 tables × 20 columns that took longer than the catalog queries (bench/run, part d).
std::string contract_schema_text(const drivers::schema_description& schema) {
    // As with the object assignment this replaces, a name seen twice ("a.b"."c" and "a"."b.c") keeps its first
    // place and the last table's columns.
    std::vector<std::string> names;
    std::vector<const drivers::table_description*> tables;
    std::unordered_map<std::string, std::size_t> position;
    std::size_t columns = 0;
    for (const auto& table : schema.tables) {
        std::string name = table.schema == schema.default_schema ? table.name : table.schema + "." + table.name;
        columns += table.columns.size();
        const auto [found, inserted] = position.try_emplace(name, names.size());
        if (!inserted) {
            tables[found->second] = &table;
            continue;
        }
        names.push_back(std::move(name));
        tables.push_back(&table);
    }
    std::string out;
    out.reserve(32 + names.size() * 24 + columns * 32);
    out.append("{\"tables\":{");
    for (std::size_t index = 0; index < names.size(); ++index) {
        if (index != 0) {
            out.push_back(',');
        }
        encoding::append_json_string(out, names[index]);
        out.append(":[");
        bool first = true;
        for (const auto& column : tables[index]->columns) {
            out.append(first ? "[" : ",[");
            first = false;
            encoding::append_json_string(out, column.name);
            out.push_back(',');
            encoding::append_json_string(out, column.type);
            out.push_back(']');
        }
        out.push_back(']');
    }
    out.append("}}");
    return out;
}

// Rendered schema bodies, reused while the query service keeps handing out the same cached schema: a cached
// schema is immutable, so its text is too. Entries die with their schema (a refresh or the cache's expiry
// replaces it); expired ones are dropped whenever a body is added.
class rendered_schemas {
public:
    using schema_ptr = std::shared_ptr<const drivers::schema_description>;

    std::shared_ptr<const std::string> find(const schema_ptr& schema, bool detailed) {
        std::lock_guard lock(mutex_);
        for (const auto& kept : entries_) {
            if (kept.detailed == detailed && kept.schema.lock() == schema) {
                return kept.body;
            }
        }
        return nullptr;
    }

    void keep(const schema_ptr& schema, bool detailed, std::shared_ptr<const std::string> body) {
        std::lock_guard lock(mutex_);
        std::erase_if(entries_, [](const entry& old) { return old.schema.expired(); });
        entries_.push_back(entry{schema, detailed, std::move(body)});
    }

private:
    struct entry {
        std::weak_ptr<const drivers::schema_description> schema;
        bool detailed = false;
        std::shared_ptr<const std::string> body;
    };
    std::mutex mutex_;
    std::vector<entry> entries_;
};

http::outgoing schema_response(const rendered_schemas::schema_ptr& schema, bool detailed) {
    static rendered_schemas rendered;
    auto body = rendered.find(schema, detailed);
    if (!body) {
        body = std::make_shared<const std::string>(detailed ? json::serialize(schema_json(*schema, true))
                                                            : contract_schema_text(*schema));
        rendered.keep(schema, detailed, body);
    }
    http::outgoing response;
    response.body = *body;
    return response;
}

std::string_view outcome_name(drivers::cancel_outcome::kind kind) {
    switch (kind) {
        case drivers::cancel_outcome::kind::not_running: return "not_running";
        case drivers::cancel_outcome::kind::prevented: return "prevented";
        case drivers::cancel_outcome::kind::cancelled: return "cancelled";
        case drivers::cancel_outcome::kind::terminated: return "terminated";
        case drivers::cancel_outcome::kind::unconfirmed: return "unconfirmed";
    }
    return "unconfirmed";
}

// Reads the body as a query request of this caller, with a client_query_id so that a disconnect can cancel it.
result<services::query_request> query_request_of(team_call& call, const json::object& body) {
    auto request = services::parse_query_request(body);
    if (!request) {
        return request;
    }
    request->team_id = call.team_id;
    request->user_id = call.who.user_id;
    request->client_address = call.http.remote_address;
    if (request->client_query_id.empty()) {
        request->client_query_id = "server-" + security::new_uuid();
    }
    return request;
}

// When the client goes away mid-query, the query is cancelled on the database, not left running.
boost::asio::awaitable<void> cancel_when_client_leaves(application& app, team_call& call,
                                                       const services::query_request& request) {
    auto executor = co_await boost::asio::this_coro::executor;
    call.http.disconnect->on_disconnect([&app, executor, team = request.team_id, user = request.user_id,
                                         id = request.client_query_id] {
        boost::asio::co_spawn(
            executor,
            [&app, team, user, id]() -> boost::asio::awaitable<void> {
                (void)co_await app.queries.cancel(team, user, id);
            },
            boost::asio::detached);
    });
}

}  // namespace

void add_query_routes(application& app) {
    add_team_route(app, verb::post, "direct_query/execute", minimum_role::member,
                   [&app](team_call& call) -> awaitable_result {
                       auto parsed = json_body(call.http);
                       if (!parsed) {
                           co_return std::move(parsed).error();
                       }
                       auto request = query_request_of(call, *parsed);
                       if (!request) {
                           co_return std::move(request).error();
                       }
                       co_await cancel_when_client_leaves(app, call, *request);
                       auto body = co_await app.queries.execute(*request);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       http::outgoing response;
                       response.body = std::move(*body);
                       co_return response;
                   });

    add_team_route(app, verb::post, "direct_query/export", minimum_role::member,
                   [&app](team_call& call) -> awaitable_result {
                       auto body = json_body(call.http);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       using export_format = services::query_service::export_format;
                       export_format format = export_format::csv;
                       const json::value* requested = body->if_contains("format");
                       if (requested != nullptr && requested->is_string() && requested->as_string() == "ndjson") {
                           format = export_format::ndjson;
                       } else if (requested != nullptr &&
                                  !(requested->is_string() && requested->as_string() == "csv")) {
                           co_return make_error(error_code::invalid_input, "format must be \"csv\" or \"ndjson\"",
                                                "format");
                       }
                       // execute's "format" (objects/arrays) means something else here: parse without it.
                       body->erase("format");
                       auto request = query_request_of(call, *body);
                       if (!request) {
                           co_return std::move(request).error();
                       }
                       co_await cancel_when_client_leaves(app, call, *request);
                       auto job = co_await app.queries.prepare_export(*request, format);
                       if (!job) {
                           co_return std::move(job).error();
                       }
                       http::outgoing response;
                       const bool csv = format == export_format::csv;
                       response.content_type = csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
                       response.headers.emplace_back(
                           "Content-Disposition",
                           std::string("attachment; filename=\"query-result.") + (csv ? "csv" : "ndjson") + "\"");
                       response.headers.emplace_back("Cache-Control", "no-store");
                       response.stream = [&app, job = *job](http::chunk_writer& writer)
                           -> boost::asio::awaitable<result<void>> {
                           co_return co_await app.queries.run_export(
                               *job, [&writer](std::string_view chunk) -> boost::asio::awaitable<bool> {
                                   co_return static_cast<bool>(co_await writer.write(chunk));
                               });
                       };
                       co_return response;
                   });

    add_team_route(app, verb::post, "direct_query/explain", minimum_role::member,
                   [&app](team_call& call) -> awaitable_result {
                       auto body = json_body(call.http);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       auto request = query_request_of(call, *body);
                       if (!request) {
                           co_return std::move(request).error();
                       }
                       bool analyze = false;
                       if (const json::value* flag = body->if_contains("analyze"); flag && !flag->is_null()) {
                           if (!flag->is_bool()) {
                               co_return make_error(error_code::invalid_input, "analyze must be a boolean", "analyze");
                           }
                           analyze = flag->as_bool();
                       }
                       co_await cancel_when_client_leaves(app, call, *request);
                       auto plan = co_await app.queries.explain(*request, analyze);
                       if (!plan) {
                           co_return std::move(plan).error();
                       }
                       boost::system::error_code ec;
                       json::value parsed = json::parse(*plan, ec);
                       if (ec) {
                           co_return make_error(error_code::internal, "the database returned a plan that is not JSON");
                       }
                       co_return http::json_response(http::status::ok, json::object{{"plan", std::move(parsed)}});
                   });

    add_team_route(app, verb::get, "direct_query/schema/{source_id}", minimum_role::member,
                   [&app](team_call& call) -> awaitable_result {
                       const bool refresh = call.http.query_param("refresh") == "1" ||
                                            call.http.query_param("refresh") == "true";
                       const bool detailed = call.http.query_param("detail") == "1" ||
                                             call.http.query_param("detail") == "true";
                       auto schema = co_await app.queries.schema({call.team_id, call.who.user_id},
                                                                 call.http.path_param("source_id"), refresh);
                       if (!schema) {
                           co_return std::move(schema).error();
                       }
                       co_return schema_response(*schema, detailed);
                   });

    add_team_route(app, verb::post, "direct_query/cancel", minimum_role::member,
                   [&app](team_call& call) -> awaitable_result {
                       auto body = json_body(call.http);
                       if (!body) {
                           co_return std::move(body).error();
                       }
                       const json::value* id = body->if_contains("client_query_id");
                       if (id == nullptr || !id->is_string() || id->as_string().empty()) {
                           co_return make_error(error_code::invalid_input, "client_query_id is required",
                                                "client_query_id");
                       }
                       auto outcome = co_await app.queries.cancel(call.team_id, call.who.user_id,
                                                                  std::string_view(id->as_string()));
                       if (!outcome) {
                           co_return std::move(outcome).error();
                       }
                       co_return http::json_response(http::status::ok,
                                                     json::object{{"cancelled", outcome->cancelled},
                                                                  {"outcome", outcome_name(outcome->outcome)},
                                                                  {"detail", outcome->detail}});
                   });
}

}  // namespace metahog::api
