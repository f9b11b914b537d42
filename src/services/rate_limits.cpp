// Token buckets in exact integer arithmetic, LRU eviction of refilled buckets, and running-query counts.
#include "services/rate_limits.hpp"

#include <algorithm>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace metahog::services {
namespace {

using clock_type = std::chrono::steady_clock;
using std::chrono::nanoseconds;

// Credit is counted in units of 1/60e9 token: a rate of r queries per minute then adds exactly r units per
// nanosecond, so refills never drift through floating-point rounding.
constexpr std::int64_t units_per_token = 60'000'000'000;
constexpr std::uint32_t max_setting = 1'000'000;
// Refilled buckets dropped per call. Each call adds at most one bucket per table, so two keeps the tables no
// larger than the keys seen within one refill period, plus a constant.
constexpr int evictions_per_call = 2;

struct bucket_config {
    std::int64_t rate = 0;  // units per nanosecond = queries per minute
    std::int64_t capacity = 0;
    nanoseconds fill_time{0};  // from empty to full; a bucket untouched this long is full

    bool enabled() const noexcept { return rate > 0; }
};

bucket_config make_config(std::uint32_t per_minute, std::uint32_t burst) {
    bucket_config config;
    config.rate = per_minute;
    config.capacity = static_cast<std::int64_t>(burst) * units_per_token;
    if (per_minute > 0) {
        config.fill_time = nanoseconds((config.capacity + config.rate - 1) / config.rate);
    }
    return config;
}

int whole_seconds_ceil(std::int64_t nanoseconds_count) {
    const std::int64_t seconds = (nanoseconds_count + 999'999'999) / 1'000'000'000;
    return static_cast<int>(std::max<std::int64_t>(1, seconds));
}

// Buckets of one kind (users or teams), most recently used first.
class bucket_table {
public:
    explicit bucket_table(bucket_config config) : config_(config) {}

    const bucket_config& config() const noexcept { return config_; }

    // The bucket's credit, refilled up to now; creates a full bucket for a new key.
    std::int64_t refill(std::int64_t key, clock_type::time_point now) {
        auto found = buckets_.find(key);
        if (found == buckets_.end()) {
            recency_.push_front(key);
            found = buckets_.emplace(key, bucket{config_.capacity, now, recency_.begin()}).first;
            return found->second.credit;
        }
        bucket& entry = found->second;
        recency_.splice(recency_.begin(), recency_, entry.position);
        // Clamped both ways: a clock that steps back adds nothing, a long pause cannot overflow.
        const nanoseconds elapsed = std::clamp(std::chrono::duration_cast<nanoseconds>(now - entry.updated),
                                               nanoseconds{0}, config_.fill_time);
        entry.credit = std::min(config_.capacity, entry.credit + elapsed.count() * config_.rate);
        entry.updated = std::max(entry.updated, now);
        return entry.credit;
    }

    void take_token(std::int64_t key) { buckets_.at(key).credit -= units_per_token; }

    // Whole seconds until a bucket with this credit holds one token.
    int retry_after(std::int64_t credit) const {
        const std::int64_t missing = units_per_token - credit;
        return whole_seconds_ceil((missing + config_.rate - 1) / config_.rate);
    }

    void evict_refilled(clock_type::time_point now) {
        for (int step = 0; step < evictions_per_call && !recency_.empty(); ++step) {
            const auto oldest = buckets_.find(recency_.back());
            if (now - oldest->second.updated < config_.fill_time) {
                return;
            }
            buckets_.erase(oldest);
            recency_.pop_back();
        }
    }

    std::size_t size() const noexcept { return buckets_.size(); }

private:
    struct bucket {
        std::int64_t credit = 0;
        clock_type::time_point updated;
        std::list<std::int64_t>::iterator position;
    };

    bucket_config config_;
    std::unordered_map<std::int64_t, bucket> buckets_;
    std::list<std::int64_t> recency_;
};

// Lets the source map be searched with a string_view, without building a std::string per lookup.
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
        return std::hash<std::string_view>{}(text);
    }
};

// "1 query", "4 queries".
std::string count_of(std::int64_t count, std::string_view one, std::string_view many) {
    return std::to_string(count) + " " + std::string(count == 1 ? one : many);
}

error limited(error_code code, std::string message, int retry_after_seconds) {
    error failure = make_error(code, std::move(message));
    failure.retry_after_seconds = retry_after_seconds;
    return failure;
}

result<void> check_setting(std::uint32_t value, std::string_view name) {
    if (value > max_setting) {
        return make_error(error_code::invalid_input,
                          std::string(name) + " must be at most " + std::to_string(max_setting),
                          std::string(name));
    }
    return {};
}

}  // namespace

struct rate_limits_state {
    rate_limits_state(const rate_limit_settings& limits, rate_limits::clock_function now_function)
        : settings(limits),
          clock(std::move(now_function)),
          users(make_config(limits.user_queries_per_minute, limits.user_burst)),
          teams(make_config(limits.team_queries_per_minute, limits.team_burst)) {}

    void release(std::int64_t user_id, std::string_view source_id) noexcept {
        const std::lock_guard lock(mutex);
        if (const auto found = running_by_user.find(user_id); found != running_by_user.end()) {
            if (--found->second == 0) {
                running_by_user.erase(found);
            }
        }
        if (const auto found = running_by_source.find(source_id); found != running_by_source.end()) {
            if (--found->second == 0) {
                running_by_source.erase(found);
            }
        }
    }

    const rate_limit_settings settings;
    const rate_limits::clock_function clock;
    mutable std::mutex mutex;
    bucket_table users;
    bucket_table teams;
    std::unordered_map<std::int64_t, std::uint32_t> running_by_user;
    std::unordered_map<std::string, std::uint32_t, string_hash, std::equal_to<>> running_by_source;
};

query_permit::query_permit(std::shared_ptr<rate_limits_state> state, std::int64_t user_id,
                           std::string source_id) noexcept
    : state_(std::move(state)), user_id_(user_id), source_id_(std::move(source_id)) {}

query_permit::query_permit(query_permit&& other) noexcept
    : state_(std::move(other.state_)), user_id_(other.user_id_), source_id_(std::move(other.source_id_)) {}

query_permit& query_permit::operator=(query_permit&& other) noexcept {
    if (this != &other) {
        release();
        state_ = std::move(other.state_);
        user_id_ = other.user_id_;
        source_id_ = std::move(other.source_id_);
    }
    return *this;
}

query_permit::~query_permit() {
    release();
}

void query_permit::release() noexcept {
    if (state_ != nullptr) {
        state_->release(user_id_, source_id_);
        state_.reset();
    }
}

rate_limits::rate_limits(std::shared_ptr<rate_limits_state> state) noexcept : state_(std::move(state)) {}

result<rate_limits> rate_limits::make(const rate_limit_settings& settings, clock_function clock) {
    const std::pair<std::uint32_t, std::string_view> checked[] = {
        {settings.user_queries_per_minute, "user_queries_per_minute"},
        {settings.user_burst, "user_burst"},
        {settings.team_queries_per_minute, "team_queries_per_minute"},
        {settings.team_burst, "team_burst"},
        {settings.max_running_per_user, "max_running_per_user"},
        {settings.max_running_per_source, "max_running_per_source"},
    };
    for (const auto& [value, name] : checked) {
        if (auto valid = check_setting(value, name); !valid) {
            return std::move(valid).error();
        }
    }
    if (settings.user_queries_per_minute > 0 && settings.user_burst == 0) {
        return make_error(error_code::invalid_input,
                          "user_burst must be at least 1 when user_queries_per_minute is set", "user_burst");
    }
    if (settings.team_queries_per_minute > 0 && settings.team_burst == 0) {
        return make_error(error_code::invalid_input,
                          "team_burst must be at least 1 when team_queries_per_minute is set", "team_burst");
    }
    if (!clock) {
        clock = [] { return clock_type::now(); };
    }
    return rate_limits(std::make_shared<rate_limits_state>(settings, std::move(clock)));
}

result<query_permit> rate_limits::acquire(std::int64_t user_id, std::int64_t team_id,
                                          std::string_view source_id) {
    rate_limits_state& state = *state_;
    const rate_limit_settings& limits = state.settings;
    const clock_type::time_point now = state.clock();
    const std::lock_guard lock(state.mutex);

    state.users.evict_refilled(now);
    state.teams.evict_refilled(now);

    const auto user_running = state.running_by_user.find(user_id);
    if (limits.max_running_per_user > 0 && user_running != state.running_by_user.end() &&
        user_running->second >= limits.max_running_per_user) {
        return limited(error_code::rate_limited,
                       "you already have " + count_of(user_running->second, "query", "queries") +
                           " running; wait for one to finish",
                       1);
    }

    // Both buckets are refilled before either is charged, so a refusal by one costs nothing in the other.
    int user_wait = 0;
    int team_wait = 0;
    if (state.users.config().enabled()) {
        const std::int64_t credit = state.users.refill(user_id, now);
        if (credit < units_per_token) {
            user_wait = state.users.retry_after(credit);
        }
    }
    if (state.teams.config().enabled()) {
        const std::int64_t credit = state.teams.refill(team_id, now);
        if (credit < units_per_token) {
            team_wait = state.teams.retry_after(credit);
        }
    }
    if (user_wait > 0 || team_wait > 0) {
        // The wait is the longer one: only then do both buckets hold a token.
        const int wait = std::max(user_wait, team_wait);
        const std::string retry = "; retry in " + count_of(wait, "second", "seconds");
        if (user_wait >= team_wait) {
            return limited(
                error_code::rate_limited,
                "you have used your " + count_of(limits.user_queries_per_minute, "query", "queries") +
                    " per minute (bursts of up to " + std::to_string(limits.user_burst) + ")" + retry,
                wait);
        }
        return limited(error_code::rate_limited,
                       "your team has used its " +
                           count_of(limits.team_queries_per_minute, "query", "queries") +
                           " per minute (bursts of up to " + std::to_string(limits.team_burst) + ")" + retry,
                       wait);
    }

    auto source_running = state.running_by_source.find(source_id);
    if (limits.max_running_per_source > 0 && source_running != state.running_by_source.end() &&
        source_running->second >= limits.max_running_per_source) {
        return limited(error_code::busy,
                       "this source already runs " + count_of(source_running->second, "query", "queries") +
                           ", the most MetaHog allows on one source; try again when one finishes",
                       1);
    }

    if (state.users.config().enabled()) {
        state.users.take_token(user_id);
    }
    if (state.teams.config().enabled()) {
        state.teams.take_token(team_id);
    }
    ++state.running_by_user[user_id];
    if (source_running == state.running_by_source.end()) {
        source_running = state.running_by_source.emplace(std::string(source_id), 0).first;
    }
    ++source_running->second;
    return query_permit(state_, user_id, std::string(source_id));
}

std::size_t rate_limits::running_for_user(std::int64_t user_id) const {
    const std::lock_guard lock(state_->mutex);
    const auto found = state_->running_by_user.find(user_id);
    return found == state_->running_by_user.end() ? 0 : found->second;
}

std::size_t rate_limits::running_for_source(std::string_view source_id) const {
    const std::lock_guard lock(state_->mutex);
    const auto found = state_->running_by_source.find(source_id);
    return found == state_->running_by_source.end() ? 0 : found->second;
}

std::size_t rate_limits::tracked_entries() const {
    const std::lock_guard lock(state_->mutex);
    return state_->users.size() + state_->teams.size() + state_->running_by_user.size() +
           state_->running_by_source.size();
}

}  // namespace metahog::services
