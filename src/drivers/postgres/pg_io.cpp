// Sending statements and reading results on the event loop, and translating failed results into errors.
#include "drivers/postgres/pg_io.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <optional>
#include <string>
#include <vector>

namespace metahog::drivers::postgres {
namespace {

std::string field_of(const PGresult* failed, int field) {
    const char* value = PQresultErrorField(failed, field);
    return value != nullptr ? std::string(value) : std::string();
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

}  // namespace

result<void> send_statement(pg_connection& connection, std::string_view sql,
                            std::span<const char* const> parameters) {
    // libpq reads up to the first NUL: a NUL inside would silently cut the statement short.
    if (sql.find('\0') != std::string_view::npos) {
        return make_error(error_code::invalid_input, "the SQL contains a NUL character", "sql");
    }
    // libpq wants a NUL-terminated string; the caller's view may not be one.
    const std::string text(sql);
    if (PQsendQueryParams(connection.native(), text.c_str(), static_cast<int>(parameters.size()), nullptr,
                          parameters.empty() ? nullptr : parameters.data(), nullptr, nullptr, 0) == 0) {
        return connection.error_from_connection(error_code::source_connection_failed);
    }
    return {};
}

boost::asio::awaitable<result<pg_result_ptr>> next_result(pg_connection& connection) {
    PGconn* conn = connection.native();
    while (PQisBusy(conn) != 0) {
        auto readable = co_await connection.wait_readable();
        if (!readable) {
            co_return std::move(readable).error();
        }
        if (PQconsumeInput(conn) == 0) {
            co_return connection.error_from_connection(error_code::source_connection_failed);
        }
    }
    co_return pg_result_ptr(PQgetResult(conn));
}

boost::asio::awaitable<result<pg_result_ptr>> run_statement(pg_connection& connection, std::string_view sql,
                                                            std::span<const char* const> parameters) {
    if (auto sent = send_statement(connection, sql, parameters); !sent) {
        co_return std::move(sent).error();
    }
    if (auto flushed = co_await connection.flush(); !flushed) {
        co_return std::move(flushed).error();
    }
    pg_result_ptr last;
    std::optional<error> failure;
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
        last = std::move(*next);
    }
    if (failure) {
        co_return std::move(*failure);
    }
    if (!last) {
        co_return make_error(error_code::internal, "the server sent no result");
    }
    co_return std::move(last);
}

bool result_failed(const PGresult* result) noexcept {
    switch (PQresultStatus(result)) {
        case PGRES_FATAL_ERROR:
        case PGRES_BAD_RESPONSE:
        case PGRES_NONFATAL_ERROR:
        case PGRES_PIPELINE_ABORTED:
            return true;
        default:
            return false;
    }
}

error error_from_result(const PGresult* failed, std::size_t position_offset, bool cancel_requested) {
    error failure;
    failure.sqlstate = field_of(failed, PG_DIAG_SQLSTATE);
    failure.message = field_of(failed, PG_DIAG_MESSAGE_PRIMARY);
    if (failure.message.empty()) {
        failure.message = trimmed(PQresultErrorMessage(failed));
    }
    if (failure.message.empty()) {
        failure.message = PQresultStatus(failed) == PGRES_PIPELINE_ABORTED
                              ? "the statement was not run because an earlier one failed"
                              : "the database reported an error without a message";
    }
    failure.detail = field_of(failed, PG_DIAG_MESSAGE_DETAIL);
    failure.hint = field_of(failed, PG_DIAG_MESSAGE_HINT);
    const std::string position = field_of(failed, PG_DIAG_STATEMENT_POSITION);
    int parsed = 0;
    if (!position.empty() &&
        std::from_chars(position.data(), position.data() + position.size(), parsed).ec == std::errc{} &&
        parsed > static_cast<int>(position_offset)) {
        failure.position = parsed - static_cast<int>(position_offset);
    }
    if (failure.sqlstate == "57014") {
        failure.code = cancel_requested ? error_code::query_cancelled : error_code::query_timeout;
    } else {
        failure.code = error_code::query_failed;
    }
    return failure;
}

}  // namespace metahog::drivers::postgres
