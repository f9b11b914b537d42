// The direct-query pipeline: validate → parse and classify (sql/) → strip the source's prefix on the tree →
// run read-only on the source's pool (drivers/) → encode rows as they arrive, with row and byte caps. Also the
// schema cache, EXPLAIN, and cancellation by client_query_id. The API and the workbench share it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "core/result.hpp"
#include "core/settings.hpp"
#include "drivers/driver.hpp"
#include "encoding/json_response_encoder.hpp"
#include "services/audit_log.hpp"
#include "services/rate_limits.hpp"
#include "services/sources_service.hpp"
#include "sql/policy.hpp"
#include "sql/prefix.hpp"

namespace metahog::services {

struct query_request {
    std::int64_t team_id = 0;
    std::int64_t user_id = 0;
    std::string source_id;
    std::string sql;
    std::optional<std::int64_t> max_rows;
    std::optional<std::int64_t> timeout_ms;
    encoding::json_row_format format = encoding::json_row_format::objects;
    // Chosen by the client so it can cancel the query from another request.
    std::string client_query_id;
    // The TCP peer, for the audit record (never a forwarded-for header: nothing vouches for it).
    std::string client_address;
};

// Reads the JSON body of execute/explain/export: `source_id`, `sql` (or `query`), `max_rows`, `timeout_ms`,
// `format`, `client_query_id`. Each bad field is named.
result<query_request> parse_query_request(const boost::json::object& body);

// Every execute, explain and export is recorded in the audit log here, refusals included, and the record is
// committed before the answer is returned: when the audit log cannot be written the answer is withheld and
// the caller gets internal (fail closed).
class query_service {
public:
    query_service(sources_service& sources, rate_limits& limits, audit_log& audit, query_settings settings,
                  sql::query_policy policy);

    // The whole `direct_query/execute` response body (JSON), bounded by max_rows and the response byte cap.
    // While it runs, cancel(team, user, request.client_query_id) stops it.
    boost::asio::awaitable<result<std::string>> execute(const query_request& request);

    enum class export_format { csv, ndjson };
    // Writes one chunk to the client, waiting for it to be sent; false when the client is gone.
    using chunk_writer = std::function<boost::asio::awaitable<bool>(std::string_view chunk)>;
    class export_job;
    // Everything that can be refused before the response starts (source, SQL, limits) is checked here, so
    // those errors keep their status; run_export then streams every row in constant memory. A prepared export
    // is recorded ("export", phase "started") before this returns; its end is recorded ("export.finished")
    // when run_export ends, or when the job is dropped without having run (the client left first).
    boost::asio::awaitable<result<std::shared_ptr<export_job>>> prepare_export(const query_request& request,
                                                                               export_format format);
    // After a failure mid-stream an NDJSON export ends with one {"error": …} line; either way the caller must
    // end the response as incomplete.
    boost::asio::awaitable<result<void>> run_export(export_job& job, const chunk_writer& write);

    // The plan as JSON text.
    boost::asio::awaitable<result<std::string>> explain(const query_request& request, bool analyze);

    // `refresh` bypasses the cache.
    boost::asio::awaitable<result<std::shared_ptr<const drivers::schema_description>>> schema(
        const source_caller& caller, std::string_view source_id, bool refresh);

    // Cancels the caller's running query with that client_query_id; not_found when there is none.
    boost::asio::awaitable<result<drivers::cancel_outcome>> cancel(std::int64_t team_id, std::int64_t user_id,
                                                                   std::string_view client_query_id);

    const query_settings& settings() const { return settings_; }

private:
    struct prepared {
        opened_source source;
        std::string fingerprint;
        std::string sql;  // what is sent: the submitted SQL with the prefix removed
        sql::rewritten_sql rewrite;
        drivers::statement_shape shape = drivers::statement_shape::query;
        drivers::query_limits limits;
        std::size_t max_rows = 0;
        // Counts the run against its user's and source's limits until the run ends.
        query_permit permit;
    };
    boost::asio::awaitable<result<prepared>> prepare(const query_request& request);
    // Maps the position of a database error from the SQL that was sent back to the SQL the user wrote.
    static error map_error_position(error failure, const sql::rewritten_sql& rewrite);

    struct running_query {
        std::string source_id;
        drivers::driver* engine = nullptr;
        drivers::source_config config;
        std::shared_ptr<drivers::query_control> control;
    };
    // Registers a run under (user, client_query_id) so cancel can find it; the guard removes it.
    class registration;

    // The record of one request, begun when it arrives; written once by audit_finish.
    struct audit_draft {
        audit_entry entry;
        std::chrono::steady_clock::time_point started;
    };
    audit_draft audit_begin(const query_request& request, std::string_view action) const;
    // Completes the draft with the outcome (fingerprint recomputed when the SQL never reached prepare's end)
    // and commits it; internal when the audit log cannot be written, and then nothing may be answered.
    result<void> audit_finish(audit_draft draft, const std::optional<error>& failure, std::int64_t rows);
    // Records a request that failed and answers its error, or internal when it could not be recorded.
    error audit_failure(audit_draft draft, error failure);

    sources_service& sources_;
    rate_limits& limits_;
    audit_log& audit_;
    query_settings settings_;
    sql::query_policy policy_;

    std::mutex running_mutex_;
    std::map<std::pair<std::int64_t, std::string>, running_query> running_;

    struct cached_schema {
        std::shared_ptr<const drivers::schema_description> schema;
        std::chrono::steady_clock::time_point loaded_at;
    };
    std::mutex schema_mutex_;
    std::map<std::string, cached_schema, std::less<>> schemas_;
};

}  // namespace metahog::services
