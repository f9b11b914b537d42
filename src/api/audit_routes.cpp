// The audit log as team admins read it (GET audit_log/), and the helpers that record route-level events.
#include <spdlog/spdlog.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <charconv>
#include <map>

#include "api/audit_events.hpp"
#include "api/request_support.hpp"
#include "api/routes.hpp"
#include "http/error_response.hpp"

namespace metahog::api {
namespace {

namespace json = boost::json;
using verb = http::beast_http::verb;
using awaitable_result = boost::asio::awaitable<result<http::outgoing>>;

constexpr std::size_t audit_message_max = 500;
constexpr std::size_t filter_text_max = 1000;

error bad_filter(std::string name, std::string message) {
    return make_error(error_code::invalid_input, std::move(message), std::move(name));
}

std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
    if (at + count > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    for (std::size_t index = at; index < at + count; ++index) {
        if (text[index] < '0' || text[index] > '9') {
            return std::nullopt;
        }
        value = value * 10 + (text[index] - '0');
    }
    return value;
}

// ISO-8601 as browsers and people write it: a date ("2026-11-22", midnight UTC), or a date and time
// ("2026-11-22T03:40", seconds and any fraction optional) with "Z", "+hh:mm", "-hh:mm" or no zone (UTC).
// A space may stand for the 'T'. Years 1900 to 2200.
std::optional<store::wall_clock::time_point> parse_iso8601(std::string_view text) {
    using namespace std::chrono;
    const auto year_value = digits(text, 0, 4);
    const auto month_value = digits(text, 5, 2);
    const auto day_value = digits(text, 8, 2);
    // system_clock counts nanoseconds in 64 bits: it ends in 2262.
    if (!year_value || !month_value || !day_value || text[4] != '-' || text[7] != '-' || *year_value < 1900 ||
        *year_value > 2200) {
        return std::nullopt;
    }
    const year_month_day date{year{*year_value}, month{static_cast<unsigned>(*month_value)},
                              day{static_cast<unsigned>(*day_value)}};
    if (!date.ok()) {
        return std::nullopt;
    }
    store::wall_clock::time_point when = sys_days{date};
    if (text.size() == 10) {
        return when;
    }
    if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') {
        return std::nullopt;
    }
    const auto hour_value = digits(text, 11, 2);
    const auto minute_value = digits(text, 14, 2);
    if (!hour_value || !minute_value || text[13] != ':' || *hour_value > 23 || *minute_value > 59) {
        return std::nullopt;
    }
    when += hours(*hour_value) + minutes(*minute_value);
    std::size_t at = 16;
    if (at < text.size() && text[at] == ':') {
        const auto second_value = digits(text, at + 1, 2);
        if (!second_value || *second_value > 59) {
            return std::nullopt;
        }
        when += seconds(*second_value);
        at += 3;
        if (at < text.size() && (text[at] == '.' || text[at] == ',')) {
            ++at;
            const std::size_t fraction_start = at;
            std::int64_t micros = 0;
            while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
                if (at - fraction_start < 6) {
                    micros = micros * 10 + (text[at] - '0');
                }
                ++at;
            }
            if (at == fraction_start) {
                return std::nullopt;
            }
            for (auto used = std::min<std::size_t>(at - fraction_start, 6); used < 6; ++used) {
                micros *= 10;
            }
            when += duration_cast<store::wall_clock::duration>(microseconds(micros));
        }
    }
    if (at == text.size()) {
        return when;
    }
    if ((text[at] == 'Z' || text[at] == 'z') && at + 1 == text.size()) {
        return when;
    }
    if (text[at] != '+' && text[at] != '-') {
        return std::nullopt;
    }
    const int sign = text[at] == '+' ? 1 : -1;
    const auto offset_hours = digits(text, at + 1, 2);
    std::size_t minutes_at = at + 3;
    if (minutes_at < text.size() && text[minutes_at] == ':') {
        ++minutes_at;
    }
    const auto offset_minutes = digits(text, minutes_at, 2);
    if (!offset_hours || !offset_minutes || minutes_at + 2 != text.size() || *offset_hours > 23 ||
        *offset_minutes > 59) {
        return std::nullopt;
    }
    // Local time minus its offset is UTC.
    return when - sign * (hours(*offset_hours) + minutes(*offset_minutes));
}

result<std::optional<std::int64_t>> positive_parameter(const http::request_context& context,
                                                       std::string_view name) {
    const std::string text = context.query_param(name);
    if (text.empty()) {
        return std::optional<std::int64_t>();
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value <= 0) {
        return bad_filter(std::string(name), std::string(name) + " must be a positive integer");
    }
    return std::optional<std::int64_t>(value);
}

result<std::optional<std::string>> text_parameter(const http::request_context& context,
                                                  std::string_view name) {
    std::string text = context.query_param(name);
    if (text.empty()) {
        return std::optional<std::string>();
    }
    if (text.size() > filter_text_max) {
        return bad_filter(std::string(name), std::string(name) + " must have at most 1000 characters");
    }
    return std::optional<std::string>(std::move(text));
}

result<std::optional<store::wall_clock::time_point>> time_parameter(const http::request_context& context,
                                                                    std::string_view name) {
    const std::string text = context.query_param(name);
    if (text.empty()) {
        return std::optional<store::wall_clock::time_point>();
    }
    auto when = parse_iso8601(text);
    if (!when) {
        return bad_filter(
            std::string(name),
            std::string(name) + " must be an ISO-8601 time such as 2026-11-22T03:40:00Z or a date");
    }
    return std::optional<store::wall_clock::time_point>(*when);
}

// Every filter of the query string, each bad one named.
result<services::audit_filter> filter_of(const team_call& call) {
    services::audit_filter filter;
    filter.team_id = call.team_id;
    const auto& context = call.http;

    auto user_id = positive_parameter(context, "user_id");
    if (!user_id) {
        return std::move(user_id).error();
    }
    filter.user_id = *user_id;
    auto source_id = text_parameter(context, "source_id");
    if (!source_id) {
        return std::move(source_id).error();
    }
    filter.source_id = std::move(*source_id);
    auto action = text_parameter(context, "action");
    if (!action) {
        return std::move(action).error();
    }
    filter.action = std::move(*action);
    if (const std::string outcome = context.query_param("outcome"); !outcome.empty()) {
        filter.outcome = store::parse_audit_outcome(outcome);
        if (!filter.outcome) {
            return bad_filter("outcome", "outcome must be one of ok, error, timeout, cancelled, refused");
        }
    }
    auto from = time_parameter(context, "from");
    if (!from) {
        return std::move(from).error();
    }
    filter.from = *from;
    auto to = time_parameter(context, "to");
    if (!to) {
        return std::move(to).error();
    }
    filter.to = *to;
    if (filter.from && filter.to && *filter.to < *filter.from) {
        return bad_filter("to", "to must not be before from");
    }
    auto sql_contains = text_parameter(context, "sql_contains");
    if (!sql_contains) {
        return std::move(sql_contains).error();
    }
    filter.sql_contains = std::move(*sql_contains);
    auto before_id = positive_parameter(context, "before_id");
    if (!before_id) {
        return std::move(before_id).error();
    }
    filter.before_id = *before_id;
    if (const std::string limit = context.query_param("limit"); !limit.empty()) {
        std::int64_t value = 0;
        const auto [end, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), value);
        if (ec != std::errc{} || end != limit.data() + limit.size() || value < 1 ||
            value > services::audit_page_limit_max) {
            return bad_filter("limit", "limit must be an integer from 1 to 500");
        }
        filter.limit = value;
    }
    return filter;
}

json::value optional_text(const std::optional<std::string>& value) {
    return value ? json::value(*value) : json::value(nullptr);
}

json::object record_json(const store::audit_record& record, const std::optional<std::string>& email) {
    const auto& event = record.event;
    boost::system::error_code ec;
    json::value details = json::parse(event.details, ec);
    if (ec || !details.is_object()) {
        details = json::object{};
    }
    json::object body{{"id", record.id},
                      {"occurred_at", record.occurred_at},
                      {"user_id", event.user_id},
                      {"source_id", optional_text(event.source_id)},
                      {"action", event.action},
                      {"sql", optional_text(event.sql)},
                      {"fingerprint", optional_text(event.fingerprint)},
                      {"started_at", event.started_at},
                      {"duration_ms", event.duration_ms},
                      {"rows_returned", event.rows_returned},
                      {"outcome", store::to_string(event.outcome)},
                      {"error_code", optional_text(event.error_code)},
                      {"client_address", event.client_address},
                      {"details", std::move(details)}};
    body["user_email"] = optional_text(email);
    return body;
}

}  // namespace

services::audit_entry audit_event_of(std::int64_t team_id, std::int64_t user_id, std::string_view action,
                                     const http::request_context& context) {
    services::audit_entry entry;
    entry.team_id = team_id;
    entry.user_id = user_id;
    entry.action = std::string(action);
    entry.started_at = store::wall_clock::now();
    entry.client_address = context.remote_address.substr(0, 256);
    return entry;
}

services::audit_entry with_failure(services::audit_entry entry, const error& failure) {
    entry.outcome = services::audit_outcome_of(failure.code);
    entry.error = failure.code;
    entry.details["message"] = failure.message.substr(0, audit_message_max);
    if (!failure.field.empty()) {
        entry.details["field"] = failure.field;
    }
    return entry;
}

result<void> record_audit(application& app, const services::audit_entry& entry) {
    auto recorded = app.audit.record(entry);
    if (!recorded) {
        spdlog::error("msg=audit_write_failed action={} team_id={} user_id={} error=\"{}\"", entry.action,
                      entry.team_id, entry.user_id, recorded.error().message);
        return make_error(error_code::internal, "the audit log could not be written");
    }
    return result<void>{};
}

result<void> record_user_audit(application& app, std::int64_t user_id, services::audit_entry entry) {
    auto teams = app.store->teams_of_user(user_id);
    if (!teams) {
        spdlog::error("msg=audit_write_failed action={} user_id={} error=\"{}\"", entry.action, user_id,
                      teams.error().message);
        return make_error(error_code::internal, "the audit log could not be written");
    }
    if (teams->empty()) {
        spdlog::info("msg=audit_event_without_team action={} user_id={} outcome={} remote={}", entry.action,
                     user_id, store::to_string(entry.outcome), entry.client_address);
        return result<void>{};
    }
    for (const auto& membership : *teams) {
        entry.team_id = membership.team.id;
        if (auto recorded = record_audit(app, entry); !recorded) {
            return recorded;
        }
    }
    return result<void>{};
}

void add_audit_routes(application& app) {
    add_team_route(
        app, verb::get, "audit_log", minimum_role::admin, [&app](team_call& call) -> awaitable_result {
            auto filter = filter_of(call);
            if (!filter) {
                co_return std::move(filter).error();
            }
            auto page = app.audit.query(call.who, *filter);
            if (!page) {
                co_return std::move(page).error();
            }
            // A page names few distinct users; users since deleted keep their id and show no e-mail.
            std::map<std::int64_t, std::optional<std::string>> emails;
            json::array results;
            for (const auto& record : page->records) {
                auto known = emails.find(record.event.user_id);
                if (known == emails.end()) {
                    auto found = app.store->find_user(record.event.user_id);
                    if (!found) {
                        co_return std::move(found).error();
                    }
                    known = emails
                                .emplace(record.event.user_id,
                                         found->has_value() ? std::optional<std::string>((*found)->email)
                                                            : std::nullopt)
                                .first;
                }
                results.push_back(record_json(record, known->second));
            }
            json::object body{{"results", std::move(results)}};
            body["next_before_id"] =
                page->next_before_id ? json::value(*page->next_before_id) : json::value(nullptr);
            auto response = http::json_response(http::status::ok, body);
            response.headers.emplace_back("Cache-Control", "no-store");
            co_return response;
        });
}

}  // namespace metahog::api
