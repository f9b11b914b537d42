// Move-only owners of libpg_query results (returned by value, freed by a matching pg_query_free_*).
// Private to metahog_sql: this header includes pg_query.h and must stay out of our public headers.
#pragma once

#include <pg_query.h>

#include <utility>

namespace metahog::sql::detail {

template <class Result, void (*free_result)(Result)>
class pg_query_guard {
public:
    explicit pg_query_guard(Result value) noexcept : value_(value) {}
    pg_query_guard(pg_query_guard&& other) noexcept
        : value_(other.value_), owned_(std::exchange(other.owned_, false)) {}
    pg_query_guard& operator=(pg_query_guard&& other) noexcept {
        if (this != &other) {
            reset();
            value_ = other.value_;
            owned_ = std::exchange(other.owned_, false);
        }
        return *this;
    }
    pg_query_guard(const pg_query_guard&) = delete;
    pg_query_guard& operator=(const pg_query_guard&) = delete;
    ~pg_query_guard() { reset(); }

    const Result& get() const noexcept { return value_; }
    const Result* operator->() const noexcept { return &value_; }

private:
    void reset() noexcept {
        if (owned_) {
            free_result(value_);
            owned_ = false;
        }
    }

    Result value_;
    bool owned_ = true;
};

using parse_result_guard = pg_query_guard<PgQueryParseResult, &pg_query_free_parse_result>;
using scan_result_guard = pg_query_guard<PgQueryScanResult, &pg_query_free_scan_result>;
using fingerprint_result_guard = pg_query_guard<PgQueryFingerprintResult, &pg_query_free_fingerprint_result>;

}  // namespace metahog::sql::detail
