// The direct-query pipeline and its schema cache.
#include "services/query_service.hpp"

#include <algorithm>
#include <deque>
#include <set>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "encoding/csv_encoder.hpp"
#include "encoding/ndjson_encoder.hpp"

#include "sql/analyze.hpp"
#include "sql/prefix.hpp"

namespace metahog::services {
namespace {

namespace json = boost::json;

constexpr auto schema_cache_lifetime = std::chrono::minutes(5);
constexpr std::size_t max_client_query_id_length = 200;
// Longer texts are cut in audit records: the audit log refuses longer ones, and a refused record would turn
// a hostile request into a 500 without a trace.
constexpr std::size_t audit_text_max = 256;
constexpr std::size_t audit_message_max = 500;

error field_error(std::string field, std::string message) {
    return make_error(error_code::invalid_input, std::move(message), std::move(field));
}

result<std::optional<std::int64_t>> optional_positive_integer(const json::object& body, std::string_view name) {
    const json::value* value = body.if_contains(name);
    if (value == nullptr || value->is_null()) {
        return std::optional<std::int64_t>();
    }
    if (value->is_int64() && value->as_int64() > 0) {
        return std::optional<std::int64_t>(value->as_int64());
    }
    if (value->is_uint64() && value->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return std::optional<std::int64_t>(static_cast<std::int64_t>(value->as_uint64()));
    }
    return field_error(std::string(name), std::string(name) + " must be a positive integer");
}

}  // namespace

result<query_request> parse_query_request(const json::object& body) {
    query_request request;
    const json::value* source_id = body.if_contains("source_id");
    if (source_id == nullptr || !source_id->is_string() || source_id->as_string().empty()) {
        return field_error("source_id", "source_id is required and must be a string");
    }
    request.source_id = std::string(source_id->as_string());
    const json::value* sql = body.if_contains("sql");
    if (sql == nullptr || sql->is_null()) {
        sql = body.if_contains("query");
    }
    if (sql == nullptr || !sql->is_string()) {
        return field_error("sql", "sql is required and must be a string");
    }
    request.sql = std::string(sql->as_string());

    auto max_rows = optional_positive_integer(body, "max_rows");
    if (!max_rows) {
        return std::move(max_rows).error();
    }
    request.max_rows = *max_rows;
    auto timeout_ms = optional_positive_integer(body, "timeout_ms");
    if (!timeout_ms) {
        return std::move(timeout_ms).error();
    }
    request.timeout_ms = *timeout_ms;

    if (const json::value* format = body.if_contains("format"); format != nullptr && !format->is_null()) {
        if (format->is_string() && format->as_string() == "objects") {
            request.format = encoding::json_row_format::objects;
        } else if (format->is_string() && format->as_string() == "arrays") {
            request.format = encoding::json_row_format::arrays;
        } else {
            return field_error("format", "format must be \"objects\" or \"arrays\"");
        }
    }
    if (const json::value* id = body.if_contains("client_query_id"); id != nullptr && !id->is_null()) {
        if (!id->is_string() || id->as_string().empty() || id->as_string().size() > max_client_query_id_length) {
            return field_error("client_query_id", "client_query_id must be a non-empty string of at most 200 "
                                                  "characters");
        }
        request.client_query_id = std::string(id->as_string());
    }
    return request;
}

class query_service::registration {
public:
    registration(query_service& service, std::int64_t user_id, std::string client_query_id, running_query run)
        : service_(service), key_(user_id, std::move(client_query_id)) {
        if (key_.second.empty()) {
            return;
        }
        std::lock_guard lock(service_.running_mutex_);
        // A second run with the same id replaces the first as the one a cancel reaches.
        service_.running_.insert_or_assign(key_, std::move(run));
        registered_ = true;
    }
    ~registration() {
        if (registered_) {
            std::lock_guard lock(service_.running_mutex_);
            service_.running_.erase(key_);
        }
    }
    registration(const registration&) = delete;
    registration& operator=(const registration&) = delete;

private:
    query_service& service_;
    std::pair<std::int64_t, std::string> key_;
    bool registered_ = false;
};

query_service::query_service(sources_service& sources, rate_limits& limits, audit_log& audit,
                             query_settings settings, sql::query_policy policy)
    : sources_(sources), limits_(limits), audit_(audit), settings_(std::move(settings)), policy_(std::move(policy)) {}

query_service::audit_draft query_service::audit_begin(const query_request& request, std::string_view action) const {
    audit_draft draft;
    draft.started = std::chrono::steady_clock::now();
    audit_entry& entry = draft.entry;
    entry.team_id = request.team_id;
    entry.user_id = request.user_id;
    if (!request.source_id.empty()) {
        entry.source_id = request.source_id.substr(0, audit_text_max);
    }
    entry.action = std::string(action);
    entry.sql = request.sql;
    entry.started_at = store::wall_clock::now();
    entry.client_address = request.client_address.substr(0, audit_text_max);
    if (!request.client_query_id.empty()) {
        entry.details["client_query_id"] = request.client_query_id;
    }
    return draft;
}

result<void> query_service::audit_finish(audit_draft draft, const std::optional<error>& failure,
                                         std::int64_t rows) {
    audit_entry& entry = draft.entry;
    entry.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - draft.started);
    entry.rows_returned = rows;
    // Refused and unparsable SQL never got its fingerprint from prepare; refused statements still have one.
    if (!entry.fingerprint && entry.sql) {
        if (auto print = sql::fingerprint(*entry.sql)) {
            entry.fingerprint = std::move(*print);
        }
    }
    if (failure) {
        entry.outcome = audit_outcome_of(failure->code);
        entry.error = failure->code;
        if (!failure->sqlstate.empty()) {
            entry.details["sqlstate"] = failure->sqlstate;
        }
        entry.details["message"] = failure->message.substr(0, audit_message_max);
        if (failure->code == error_code::statement_refused && entry.sql) {
            if (auto info = sql::classify(*entry.sql)) {
                entry.details["statement"] = info->kind_name;
            }
        }
    }
    auto recorded = audit_.record(entry);
    if (!recorded) {
        spdlog::error("msg=audit_write_failed action={} team_id={} user_id={} error=\"{}\"", entry.action,
                      entry.team_id, entry.user_id, recorded.error().message);
        return make_error(error_code::internal, "the audit log could not be written, so the answer is withheld");
    }
    return result<void>{};
}

error query_service::audit_failure(audit_draft draft, error failure) {
    if (auto recorded = audit_finish(std::move(draft), failure, 0); !recorded) {
        return std::move(recorded).error();
    }
    return failure;
}

error query_service::map_error_position(error failure, const sql::rewritten_sql& rewrite) {
    if (failure.position) {
        failure.position = rewrite.original_position(*failure.position);
    }
    return failure;
}

boost::asio::awaitable<result<query_service::prepared>> query_service::prepare(const query_request& request) {
    auto source = sources_.open({request.team_id, request.user_id}, request.source_id);
    if (!source) {
        co_return std::move(source).error();
    }
    // The parser is the second wall: anything but one plain query is refused before a connection is touched.
    auto analyzed = sql::analyze(request.sql, policy_);
    if (!analyzed) {
        co_return std::move(analyzed).error();
    }
    auto rewrite = sql::strip_source_prefix(request.sql, source->record.prefix, {});
    if (!rewrite) {
        co_return std::move(rewrite).error();
    }
    // A prefix that is also a real schema of the database means that schema: only then is the catalog needed.
    if (!rewrite->cuts.empty()) {
        auto described = co_await schema({request.team_id, request.user_id}, request.source_id, false);
        if (!described) {
            co_return std::move(described).error();
        }
        std::vector<std::string> real_schemas;
        for (const auto& table : (*described)->tables) {
            if (real_schemas.empty() || real_schemas.back() != table.schema) {
                real_schemas.push_back(table.schema);
            }
        }
        if (std::find(real_schemas.begin(), real_schemas.end(), source->record.prefix) != real_schemas.end()) {
            rewrite = sql::strip_source_prefix(request.sql, source->record.prefix, real_schemas);
            if (!rewrite) {
                co_return std::move(rewrite).error();
            }
        }
    }

    // Limits are per user and team, whatever connection or API key the request came through.
    auto permit = limits_.acquire(request.user_id, request.team_id, source->record.id);
    if (!permit) {
        co_return std::move(permit).error();
    }

    prepared ready;
    ready.fingerprint = std::move(analyzed->fingerprint);
    ready.permit = std::move(*permit);
    ready.sql = rewrite->sql;
    ready.rewrite = std::move(*rewrite);
    ready.source = std::move(*source);
    ready.shape = analyzed->kind == sql::statement_kind::explain ? drivers::statement_shape::utility
                                                                 : drivers::statement_shape::query;
    const auto requested_rows = static_cast<std::size_t>(request.max_rows.value_or(
        static_cast<std::int64_t>(settings_.default_max_rows)));
    ready.max_rows = std::min(requested_rows, settings_.max_rows_cap);
    const auto requested_timeout = request.timeout_ms ? std::chrono::milliseconds(*request.timeout_ms)
                                                      : settings_.default_timeout;
    ready.limits.statement_timeout = std::min(requested_timeout, settings_.max_timeout);
    co_return ready;
}

boost::asio::awaitable<result<std::string>> query_service::execute(const query_request& request) {
    auto draft = audit_begin(request, audit_actions::query);
    auto ready = co_await prepare(request);
    if (!ready) {
        co_return audit_failure(std::move(draft), std::move(ready).error());
    }
    draft.entry.fingerprint = ready->fingerprint;
    draft.entry.details["max_rows"] = ready->max_rows;
    drivers::driver& engine = *ready->source.engine;
    drivers::execute_options options;
    options.sql = ready->sql;
    options.max_rows = ready->max_rows;
    options.limits = ready->limits;
    options.shape = ready->shape;
    options.control = engine.make_query_control();
    registration registered(*this, request.user_id, request.client_query_id,
                            running_query{ready->source.record.id, &engine, ready->source.config, options.control});

    encoding::encoder_limits limits;
    limits.max_rows = ready->max_rows;
    limits.max_bytes = settings_.max_response_bytes;
    encoding::json_response_encoder encoder(request.format, limits);
    auto summary = co_await engine.execute(ready->source.record.id, ready->source.config, options, encoder);
    if (!summary) {
        co_return audit_failure(std::move(draft), map_error_position(std::move(summary).error(), ready->rewrite));
    }
    if (encoder.failure()) {
        co_return audit_failure(std::move(draft), map_error_position(*encoder.failure(), ready->rewrite));
    }
    draft.entry.details["truncated"] = encoder.truncated();
    // Committed before the body is handed back: no answer leaves for an unrecorded query.
    if (auto recorded = audit_finish(std::move(draft), std::nullopt, static_cast<std::int64_t>(encoder.row_count()));
        !recorded) {
        co_return std::move(recorded).error();
    }
    co_return encoder.take_output();
}

class query_service::export_job {
public:
    export_job(query_service& service_in, prepared ready_in, export_format format_in, std::int64_t user_id,
               std::string client_query_id, audit_draft finish_in)
        : service(service_in),
          ready(std::move(ready_in)),
          format(format_in),
          control(ready.source.engine->make_query_control()),
          registered(service, user_id, std::move(client_query_id),
                     running_query{ready.source.record.id, ready.source.engine, ready.source.config, control}),
          finish(std::move(finish_in)) {}
    ~export_job() {
        // Dropped before run_export recorded its end: the client left before the stream began (or a bug
        // threw). The started record must not stay without its end.
        if (finish) {
            (void)service.audit_finish(std::move(*finish),
                                       make_error(error_code::query_cancelled, "the export ended before it streamed"),
                                       0);
        }
    }
    export_job(const export_job&) = delete;
    export_job& operator=(const export_job&) = delete;

    query_service& service;
    prepared ready;
    export_format format;
    std::shared_ptr<drivers::query_control> control;
    registration registered;
    // The "export.finished" record, until it is written.
    std::optional<audit_draft> finish;
};

boost::asio::awaitable<result<std::shared_ptr<query_service::export_job>>> query_service::prepare_export(
    const query_request& request, export_format format) {
    auto draft = audit_begin(request, audit_actions::export_rows);
    draft.entry.details["format"] = format == export_format::csv ? "csv" : "ndjson";
    auto ready = co_await prepare(request);
    if (!ready) {
        draft.entry.details["phase"] = "refused";
        co_return audit_failure(std::move(draft), std::move(ready).error());
    }
    draft.entry.fingerprint = ready->fingerprint;
    // The start is committed before the first byte; the same draft, renamed, becomes the finishing record.
    audit_draft started = draft;
    started.entry.details["phase"] = "started";
    if (auto recorded = audit_finish(std::move(started), std::nullopt, 0); !recorded) {
        co_return std::move(recorded).error();
    }
    draft.entry.action = std::string(audit_actions::export_finished);
    draft.entry.details["phase"] = "finished";
    co_return std::make_shared<export_job>(*this, std::move(*ready), format, request.user_id,
                                           request.client_query_id, std::move(draft));
}

boost::asio::awaitable<result<void>> query_service::run_export(export_job& job, const chunk_writer& write) {
    // The encoder's consumer is synchronous: it queues chunks, and the driver awaits `drain` between batches,
    // which writes them to the client. A slow client therefore slows the database reads instead of growing
    // memory: at most about one batch is ever held.
    std::deque<std::string> pending;
    bool client_gone = false;
    auto consumer = [&pending](std::string_view chunk) {
        pending.emplace_back(chunk);
        return true;
    };
    auto drain = [&]() -> boost::asio::awaitable<bool> {
        while (!pending.empty() && !client_gone) {
            std::string chunk = std::move(pending.front());
            pending.pop_front();
            client_gone = !co_await write(chunk);
        }
        co_return !client_gone;
    };

    encoding::encoder_limits limits;
    limits.max_rows = settings_.export_max_rows;
    std::unique_ptr<encoding::encoder> encoder;
    if (job.format == export_format::csv) {
        encoder = std::make_unique<encoding::csv_encoder>(limits, consumer);
    } else {
        encoder = std::make_unique<encoding::ndjson_encoder>(limits, consumer);
    }

    drivers::export_options options;
    options.sql = job.ready.sql;
    options.max_rows = settings_.export_max_rows;
    options.limits = job.ready.limits;
    options.control = job.control;
    options.drain = drain;
    drivers::driver& engine = *job.ready.source.engine;
    auto summary = co_await engine.export_rows(job.ready.source.record.id, job.ready.source.config, options, *encoder);

    std::optional<error> failure;
    if (!summary) {
        failure = map_error_position(std::move(summary).error(), job.ready.rewrite);
    } else if (encoder->failure()) {
        failure = map_error_position(*encoder->failure(), job.ready.rewrite);
    }
    if (failure && job.format == export_format::ndjson && !client_gone) {
        json::object frame{{"error", failure->message}, {"code", to_string(failure->code)}};
        if (!failure->sqlstate.empty()) {
            frame["sqlstate"] = failure->sqlstate;
        }
        pending.push_back(json::serialize(frame) + "\n");
    }
    const bool written = co_await drain();
    // Whatever the driver made of it (a cancel, a failed read), a client that left cancelled the export.
    if (client_gone || !written) {
        failure = make_error(error_code::query_cancelled, "the client went away during the export");
    }
    // Before the stream's last chunk: a client that sees a complete export sees a recorded one.
    if (job.finish) {
        job.finish->entry.details["truncated"] = encoder->truncated();
        auto finish = std::move(*job.finish);
        job.finish.reset();
        if (auto recorded = audit_finish(std::move(finish), failure, static_cast<std::int64_t>(encoder->row_count()));
            !recorded) {
            co_return std::move(recorded).error();
        }
    }
    if (failure) {
        co_return std::move(*failure);
    }
    co_return result<void>{};
}

boost::asio::awaitable<result<std::string>> query_service::explain(const query_request& request, bool analyze) {
    auto draft = audit_begin(request, audit_actions::explain);
    draft.entry.details["analyze"] = analyze;
    auto ready = co_await prepare(request);
    if (!ready) {
        co_return audit_failure(std::move(draft), std::move(ready).error());
    }
    draft.entry.fingerprint = ready->fingerprint;
    drivers::driver& engine = *ready->source.engine;
    drivers::explain_options options;
    options.sql = ready->sql;
    options.analyze = analyze;
    options.limits = ready->limits;
    options.control = engine.make_query_control();
    registration registered(*this, request.user_id, request.client_query_id,
                            running_query{ready->source.record.id, &engine, ready->source.config, options.control});
    auto plan = co_await engine.explain(ready->source.record.id, ready->source.config, options);
    if (!plan) {
        co_return audit_failure(std::move(draft), map_error_position(std::move(plan).error(), ready->rewrite));
    }
    // A plan is not rows: rows_returned stays 0.
    if (auto recorded = audit_finish(std::move(draft), std::nullopt, 0); !recorded) {
        co_return std::move(recorded).error();
    }
    co_return std::move(*plan);
}

boost::asio::awaitable<result<std::shared_ptr<const drivers::schema_description>>> query_service::schema(
    const source_caller& caller, std::string_view source_id, bool refresh) {
    // Access first, cache second: a cached schema is never shown to a caller who may not see the source.
    auto source = sources_.open(caller, source_id);
    if (!source) {
        co_return std::move(source).error();
    }
    // Keyed by id and update time, so a changed source never serves the schema of its old database.
    const std::string key = source->record.id + "@" + source->record.updated_at;
    if (!refresh) {
        std::lock_guard lock(schema_mutex_);
        const auto found = schemas_.find(key);
        if (found != schemas_.end() &&
            std::chrono::steady_clock::now() - found->second.loaded_at < schema_cache_lifetime) {
            co_return found->second.schema;
        }
    }
    auto described = co_await source->engine->describe_schema(source->record.id, source->config);
    if (!described) {
        co_return std::move(described).error();
    }
    auto shared = std::make_shared<const drivers::schema_description>(std::move(*described));
    {
        std::lock_guard lock(schema_mutex_);
        std::erase_if(schemas_, [&](const auto& entry) { return entry.first.starts_with(source->record.id + "@"); });
        schemas_.insert_or_assign(key, cached_schema{shared, std::chrono::steady_clock::now()});
    }
    co_return shared;
}

boost::asio::awaitable<result<drivers::cancel_outcome>> query_service::cancel(std::int64_t team_id,
                                                                              std::int64_t user_id,
                                                                              std::string_view client_query_id) {
    running_query run;
    {
        std::lock_guard lock(running_mutex_);
        const auto found = running_.find(std::make_pair(user_id, std::string(client_query_id)));
        if (found == running_.end()) {
            co_return make_error(error_code::not_found, "no running query with that client_query_id");
        }
        run = found->second;
    }
    // The source must still be one of this team's: a user in two teams cancels within the team they name.
    if (auto source = sources_.open({team_id, user_id}, run.source_id); !source) {
        co_return make_error(error_code::not_found, "no running query with that client_query_id");
    }
    co_return co_await run.engine->cancel(run.source_id, run.config, run.control);
}

}  // namespace metahog::services
