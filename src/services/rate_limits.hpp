// Query rate and concurrency limits: token buckets per user and per team, caps on running queries per user
// and per source. Keyed by user, team and source ids only, so more connections or API keys gain nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/settings.hpp"

namespace metahog::services {


struct rate_limits_state;

// The right to run one query: counted against its user and source until it is destroyed or released.
// Move-only; a moved-from or released permit holds nothing. It keeps the limiter's state alive, so it may
// safely outlive the rate_limits object that issued it (queries finishing during shutdown).
class query_permit {
public:
    query_permit() = default;
    query_permit(const query_permit&) = delete;
    query_permit& operator=(const query_permit&) = delete;
    query_permit(query_permit&& other) noexcept;
    query_permit& operator=(query_permit&& other) noexcept;
    ~query_permit();

    // Gives the slot back now; later calls and the destructor do nothing.
    void release() noexcept;
    bool holds_slot() const noexcept { return state_ != nullptr; }

private:
    friend class rate_limits;
    query_permit(std::shared_ptr<rate_limits_state> state, std::int64_t user_id,
                 std::string source_id) noexcept;

    std::shared_ptr<rate_limits_state> state_;
    std::int64_t user_id_ = 0;
    std::string source_id_;
};

// Thread-safe: one short critical section per call, O(1) on average. Memory stays bounded: a bucket that has
// refilled completely is indistinguishable from a new one, so it is dropped (a few per call, oldest first),
// and running counts are dropped when they reach zero.
class rate_limits {
public:
    using clock_function = std::function<std::chrono::steady_clock::time_point()>;

    // Refuses (invalid_input, naming the setting) a burst of 0 with a non-zero rate, and rates or bursts
    // above 1,000,000. An empty clock means std::chrono::steady_clock.
    static result<rate_limits> make(const rate_limit_settings& settings, clock_function clock = {});

    // Admits one query of user_id (a member of team_id) on source_id, or refuses it without charging
    // anything:
    // - rate_limited "you already have 4 queries running; wait for one to finish" (retry_after_seconds 1);
    // - rate_limited when the user's or the team's bucket is empty, with retry_after_seconds the whole
    //   seconds (at least 1) until both hold a token again;
    // - busy when the source already runs its maximum (retry_after_seconds 1).
    // On success one token is taken from each bucket and the permit holds a running slot.
    result<query_permit> acquire(std::int64_t user_id, std::int64_t team_id, std::string_view source_id);

    // For metrics and tests.
    std::size_t running_for_user(std::int64_t user_id) const;
    std::size_t running_for_source(std::string_view source_id) const;
    // Buckets and running counts currently held in memory.
    std::size_t tracked_entries() const;

private:
    explicit rate_limits(std::shared_ptr<rate_limits_state> state) noexcept;
    std::shared_ptr<rate_limits_state> state_;
};

}  // namespace metahog::services
