// Process metrics in the Prometheus text format. Counters are lock-free on the hot path; gauges that other
// components own (pool sizes) are read through callbacks when /metrics is scraped.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace metahog::http {

class metrics {
public:
    // Records one finished request: its status class and its duration.
    void record_request(unsigned status_code, double duration_seconds);
    void connection_opened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
    void connection_closed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }

    // A callback appends complete metric families (with # HELP and # TYPE lines) to the output.
    void add_collector(std::function<void(std::string&)> collector);

    std::string render() const;

private:
    static constexpr std::array<double, 12> bucket_bounds_{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,   0.25,   0.5,   1.0,  2.5,   10.0};
    std::array<std::atomic<std::uint64_t>, 6> requests_by_class_{};  // 1xx..5xx, index 0 unused
    std::array<std::atomic<std::uint64_t>, bucket_bounds_.size()> duration_buckets_{};
    std::atomic<std::uint64_t> duration_count_{0};
    std::atomic<std::uint64_t> duration_sum_micros_{0};
    std::atomic<std::int64_t> open_connections_{0};
    mutable std::mutex collectors_mutex_;
    std::vector<std::function<void(std::string&)>> collectors_;
};

}  // namespace metahog::http
