// Prometheus text exposition of the HTTP metrics.
#include "http/metrics.hpp"

#include <cstdio>

namespace metahog::http {

void metrics::record_request(unsigned status_code, double duration_seconds) {
    const unsigned status_class = status_code / 100;
    if (status_class >= 1 && status_class <= 5) {
        requests_by_class_[status_class].fetch_add(1, std::memory_order_relaxed);
    }
    for (std::size_t index = 0; index < bucket_bounds_.size(); ++index) {
        if (duration_seconds <= bucket_bounds_[index]) {
            duration_buckets_[index].fetch_add(1, std::memory_order_relaxed);
            break;
        }
    }
    duration_count_.fetch_add(1, std::memory_order_relaxed);
    duration_sum_micros_.fetch_add(static_cast<std::uint64_t>(duration_seconds * 1e6), std::memory_order_relaxed);
}

void metrics::add_collector(std::function<void(std::string&)> collector) {
    std::lock_guard lock(collectors_mutex_);
    collectors_.push_back(std::move(collector));
}

std::string metrics::render() const {
    std::string out;
    out += "# HELP metahog_http_requests_total HTTP requests answered, by status class.\n";
    out += "# TYPE metahog_http_requests_total counter\n";
    for (unsigned status_class = 1; status_class <= 5; ++status_class) {
        out += "metahog_http_requests_total{status=\"" + std::to_string(status_class) + "xx\"} " +
               std::to_string(requests_by_class_[status_class].load(std::memory_order_relaxed)) + "\n";
    }
    out += "# HELP metahog_http_request_duration_seconds Time from a complete request to its response.\n";
    out += "# TYPE metahog_http_request_duration_seconds histogram\n";
    std::uint64_t cumulative = 0;
    char bound[32];
    for (std::size_t index = 0; index < bucket_bounds_.size(); ++index) {
        cumulative += duration_buckets_[index].load(std::memory_order_relaxed);
        std::snprintf(bound, sizeof bound, "%g", bucket_bounds_[index]);
        out += "metahog_http_request_duration_seconds_bucket{le=\"" + std::string(bound) + "\"} " +
               std::to_string(cumulative) + "\n";
    }
    const auto count = duration_count_.load(std::memory_order_relaxed);
    out += "metahog_http_request_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(count) + "\n";
    std::snprintf(bound, sizeof bound, "%.6f",
                  static_cast<double>(duration_sum_micros_.load(std::memory_order_relaxed)) / 1e6);
    out += "metahog_http_request_duration_seconds_sum " + std::string(bound) + "\n";
    out += "metahog_http_request_duration_seconds_count " + std::to_string(count) + "\n";
    out += "# HELP metahog_http_open_connections Client connections currently open.\n";
    out += "# TYPE metahog_http_open_connections gauge\n";
    out += "metahog_http_open_connections " + std::to_string(open_connections_.load(std::memory_order_relaxed)) +
           "\n";
    std::lock_guard lock(collectors_mutex_);
    for (const auto& collector : collectors_) {
        collector(out);
    }
    return out;
}

}  // namespace metahog::http
