// Tests of metahog::services::rate_limits: token-bucket arithmetic against a fake clock, the Retry-After a
// client is told, per-user and per-team independence, concurrency permits and their release, bounded memory,
// and thread safety under many threads.
#include "services/rate_limits.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace metahog::services {
namespace {

using namespace std::chrono_literals;

// A clock the test moves by hand; copies share the same time.
class fake_clock {
public:
    std::chrono::steady_clock::time_point now() const {
        return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(nanoseconds_->load()));
    }
    void advance(std::chrono::nanoseconds by) { nanoseconds_->fetch_add(by.count()); }
    rate_limits::clock_function function() const {
        return [shared = nanoseconds_] {
            return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(shared->load()));
        };
    }

private:
    std::shared_ptr<std::atomic<std::int64_t>> nanoseconds_ =
        std::make_shared<std::atomic<std::int64_t>>(1'000'000'000'000);
};

// Only what a test sets is limited; everything else is off.
rate_limit_settings nothing_limited() {
    rate_limit_settings settings;
    settings.user_queries_per_minute = 0;
    settings.team_queries_per_minute = 0;
    settings.max_running_per_user = 0;
    settings.max_running_per_source = 0;
    return settings;
}

rate_limits make_limits(const rate_limit_settings& settings, const fake_clock& clock) {
    auto made = rate_limits::make(settings, clock.function());
    EXPECT_TRUE(made.has_value()) << (made ? "" : made.error().message);
    return *std::move(made);
}

constexpr std::int64_t team_a = 100;
constexpr std::int64_t team_b = 200;
constexpr std::string_view source_x = "0190b6a4-7c1e-7d3a-9f12-3b4c5d6e7f80";
constexpr std::string_view source_y = "0190b6a4-7c1e-7d3a-9f12-3b4c5d6e7f81";

// Acquires and immediately releases: a query that ran and finished.
result<void> run_query(rate_limits& limits, std::int64_t user, std::int64_t team = team_a,
                       std::string_view source = source_x) {
    auto permit = limits.acquire(user, team, source);
    if (!permit) {
        return std::move(permit).error();
    }
    return {};
}

// --- Token buckets
// --------------------------------------------------------------------------------------------

// A quiet user may spend the whole burst at once, and not one query more.
TEST(rate_limits_buckets, a_fresh_user_gets_exactly_the_burst) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 60;
    settings.user_burst = 5;
    auto limits = make_limits(settings, clock);
    for (int query = 0; query < 5; ++query) {
        EXPECT_TRUE(run_query(limits, 1)) << "query " << query;
    }
    const auto refused = run_query(limits, 1);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, error_code::rate_limited);
    ASSERT_TRUE(refused.error().retry_after_seconds.has_value());
    EXPECT_EQ(*refused.error().retry_after_seconds, 1);
}

// 60 per minute is one per second, exactly: not a nanosecond early, and on time.
TEST(rate_limits_buckets, refill_is_exact_at_the_boundary) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 60;
    settings.user_burst = 1;
    auto limits = make_limits(settings, clock);
    ASSERT_TRUE(run_query(limits, 1));
    clock.advance(999'999'999ns);
    EXPECT_FALSE(run_query(limits, 1));
    clock.advance(1ns);
    EXPECT_TRUE(run_query(limits, 1));
    EXPECT_FALSE(run_query(limits, 1));
    // Many small steps add up without drift.
    for (int step = 0; step < 1000; ++step) {
        clock.advance(1ms);
    }
    EXPECT_TRUE(run_query(limits, 1));
}

// Rates that do not divide a second evenly still refill exactly (7 per minute: one every 60/7 s).
TEST(rate_limits_buckets, uneven_rates_refill_without_rounding_drift) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 7;
    settings.user_burst = 7;
    auto limits = make_limits(settings, clock);
    for (int query = 0; query < 7; ++query) {
        ASSERT_TRUE(run_query(limits, 1));
    }
    EXPECT_FALSE(run_query(limits, 1));
    clock.advance(60s - 1ns);
    int admitted = 0;
    while (run_query(limits, 1)) {
        ++admitted;
    }
    EXPECT_EQ(admitted, 6);
    clock.advance(1ns);
    EXPECT_TRUE(run_query(limits, 1));
}

// A long pause refills to the burst, never beyond it.
TEST(rate_limits_buckets, refill_is_capped_at_the_burst) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 60;
    settings.user_burst = 3;
    auto limits = make_limits(settings, clock);
    for (int query = 0; query < 3; ++query) {
        ASSERT_TRUE(run_query(limits, 1));
    }
    clock.advance(24h * 365);
    for (int query = 0; query < 3; ++query) {
        EXPECT_TRUE(run_query(limits, 1)) << "query " << query;
    }
    EXPECT_FALSE(run_query(limits, 1));
}

// Retry-After is the whole seconds until the next token, rounded up, never 0.
TEST(rate_limits_buckets, retry_after_counts_whole_seconds_up_to_the_next_token) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 6;  // one every 10 s
    settings.user_burst = 1;
    auto limits = make_limits(settings, clock);
    ASSERT_TRUE(run_query(limits, 1));
    const auto retry_after = [&] {
        const auto refused = run_query(limits, 1);
        return refused ? -1 : refused.error().retry_after_seconds.value_or(-2);
    };
    EXPECT_EQ(retry_after(), 10);
    clock.advance(2500ms);
    EXPECT_EQ(retry_after(), 8);  // 7.5 s to go
    clock.advance(6500ms);
    EXPECT_EQ(retry_after(), 1);
    clock.advance(999ms);
    EXPECT_EQ(retry_after(), 1);  // 1 ms to go still says 1, not 0
    clock.advance(1ms);
    EXPECT_EQ(retry_after(), -1);  // admitted
}

TEST(rate_limits_buckets, retry_after_is_at_least_one_second_for_fast_rates) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 6000;  // one every 10 ms
    settings.user_burst = 1;
    auto limits = make_limits(settings, clock);
    ASSERT_TRUE(run_query(limits, 1));
    const auto refused = run_query(limits, 1);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().retry_after_seconds, 1);
}

TEST(rate_limits_buckets, refusal_messages_name_the_limit_and_the_wait) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 6;
    settings.user_burst = 1;
    settings.team_queries_per_minute = 1;
    settings.team_burst = 2;
    auto limits = make_limits(settings, clock);
    ASSERT_TRUE(run_query(limits, 1));
    EXPECT_EQ(run_query(limits, 1).error().message,
              "you have used your 6 queries per minute (bursts of up to 1); retry in 10 seconds");
    ASSERT_TRUE(run_query(limits, 2));
    EXPECT_EQ(run_query(limits, 3).error().message,
              "your team has used its 1 query per minute (bursts of up to 2); retry in 60 seconds");
}

// Each user has a bucket of their own: one busy user does not slow a colleague down.
TEST(rate_limits_buckets, users_are_limited_independently) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 60;
    settings.user_burst = 2;
    auto limits = make_limits(settings, clock);
    ASSERT_TRUE(run_query(limits, 1));
    ASSERT_TRUE(run_query(limits, 1));
    EXPECT_FALSE(run_query(limits, 1));
    EXPECT_TRUE(run_query(limits, 2));
    EXPECT_TRUE(run_query(limits, 2));
}

// The team bucket is shared by its members and separate from other teams.
TEST(rate_limits_buckets, team_bucket_is_shared_by_members_and_separate_per_team) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 600;
    settings.user_burst = 100;
    settings.team_queries_per_minute = 60;
    settings.team_burst = 3;
    auto limits = make_limits(settings, clock);
    EXPECT_TRUE(run_query(limits, 1, team_a));
    EXPECT_TRUE(run_query(limits, 2, team_a));
    EXPECT_TRUE(run_query(limits, 3, team_a));
    const auto refused = run_query(limits, 4, team_a);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, error_code::rate_limited);
    EXPECT_EQ(refused.error().message.rfind("your team", 0), 0u) << refused.error().message;
    EXPECT_TRUE(run_query(limits, 5, team_b));
    // A user in two teams spends each team's bucket separately.
    EXPECT_TRUE(run_query(limits, 1, team_b));
}

// A refusal by one bucket charges nothing to the other: a refused request costs the user nothing.
TEST(rate_limits_buckets, a_refused_query_spends_no_token) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 1;  // the user's bucket barely refills during the test
    settings.user_burst = 2;
    settings.team_queries_per_minute = 60;
    settings.team_burst = 1;
    auto limits = make_limits(settings, clock);
    ASSERT_TRUE(run_query(limits, 1));
    for (int attempt = 0; attempt < 10; ++attempt) {
        EXPECT_FALSE(run_query(limits, 1));  // the team bucket is empty
    }
    clock.advance(1s);
    EXPECT_TRUE(run_query(limits, 1));  // the user's second token was still there
}

// Retry-After must be when the query would actually pass: the longer of the two waits.
TEST(rate_limits_buckets, retry_after_is_the_longer_of_user_and_team_waits) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 60;  // 1 s per token
    settings.user_burst = 1;
    settings.team_queries_per_minute = 6;  // 10 s per token
    settings.team_burst = 1;
    auto limits = make_limits(settings, clock);
    ASSERT_TRUE(run_query(limits, 1));
    const auto refused = run_query(limits, 1);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().retry_after_seconds, 10);
    clock.advance(9s);
    EXPECT_FALSE(run_query(limits, 1));
    clock.advance(1s);
    EXPECT_TRUE(run_query(limits, 1));
}

// A clock that steps back grants nothing and breaks nothing.
TEST(rate_limits_buckets, a_clock_stepping_back_grants_no_tokens) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 60;
    settings.user_burst = 1;
    auto limits = make_limits(settings, clock);
    ASSERT_TRUE(run_query(limits, 1));
    clock.advance(-10s);
    EXPECT_FALSE(run_query(limits, 1));
    clock.advance(10s);
    EXPECT_FALSE(run_query(limits, 1));
    clock.advance(1s);
    EXPECT_TRUE(run_query(limits, 1));
}

TEST(rate_limits_buckets, a_zero_rate_means_unlimited) {
    fake_clock clock;
    auto limits = make_limits(nothing_limited(), clock);
    for (int query = 0; query < 10000; ++query) {
        ASSERT_TRUE(run_query(limits, 1));
    }
    EXPECT_EQ(limits.tracked_entries(), 0u);
}

// --- Memory
// ---------------------------------------------------------------------------------------------------

// Buckets that have refilled completely are dropped, so memory follows recent activity, not all users ever.
TEST(rate_limits_memory, refilled_buckets_are_evicted) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 60;
    settings.user_burst = 1;
    settings.team_queries_per_minute = 600;
    settings.team_burst = 10;
    auto limits = make_limits(settings, clock);
    for (std::int64_t user = 1; user <= 1000; ++user) {
        ASSERT_TRUE(run_query(limits, user, user));  // a team per user: 1000 team buckets too
    }
    EXPECT_EQ(limits.tracked_entries(), 2000u);
    clock.advance(1s);
    for (int call = 0; call < 600; ++call) {
        (void)run_query(limits, 1, 1);
    }
    EXPECT_EQ(limits.tracked_entries(), 2u);
}

// Eviction never forgives a debt: a bucket that is not yet full stays, and its user stays limited.
TEST(rate_limits_memory, buckets_still_refilling_are_kept) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 60;
    settings.user_burst = 1;
    auto limits = make_limits(settings, clock);
    for (std::int64_t user = 1; user <= 100; ++user) {
        ASSERT_TRUE(run_query(limits, user));
    }
    clock.advance(999ms);
    for (int call = 0; call < 300; ++call) {
        (void)run_query(limits, 1000);
    }
    EXPECT_EQ(limits.tracked_entries(), 101u);
    for (std::int64_t user = 1; user <= 100; ++user) {
        EXPECT_FALSE(run_query(limits, user)) << "user " << user;
    }
}

// --- Concurrency
// ----------------------------------------------------------------------------------------------

TEST(rate_limits_concurrency, a_user_may_run_only_the_cap_at_once) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.max_running_per_user = 4;
    auto limits = make_limits(settings, clock);
    std::vector<query_permit> running;
    for (int query = 0; query < 4; ++query) {
        auto permit = limits.acquire(1, team_a, source_x);
        ASSERT_TRUE(permit);
        running.push_back(*std::move(permit));
    }
    const auto refused = limits.acquire(1, team_a, source_x);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, error_code::rate_limited);
    EXPECT_EQ(refused.error().message, "you already have 4 queries running; wait for one to finish");
    EXPECT_EQ(refused.error().retry_after_seconds, 1);
    EXPECT_EQ(limits.running_for_user(1), 4u);
    running.pop_back();
    EXPECT_EQ(limits.running_for_user(1), 3u);
    EXPECT_TRUE(limits.acquire(1, team_a, source_x));
}

// The cap follows the user id: spreading queries over sources, teams (or connections and API keys, which
// all resolve to the same user id) gains nothing.
TEST(rate_limits_concurrency, the_user_cap_cannot_be_bypassed_by_other_sources_or_teams) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.max_running_per_user = 2;
    auto limits = make_limits(settings, clock);
    auto first = limits.acquire(7, team_a, source_x);
    auto second = limits.acquire(7, team_b, source_y);
    ASSERT_TRUE(first);
    ASSERT_TRUE(second);
    EXPECT_FALSE(limits.acquire(7, team_b, "another-source"));
    EXPECT_TRUE(limits.acquire(8, team_a, source_x));  // another user is unaffected
}

// A full source answers busy (503) to everyone, while other sources keep working.
TEST(rate_limits_concurrency, a_source_runs_only_its_cap_at_once) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.max_running_per_source = 3;
    auto limits = make_limits(settings, clock);
    std::vector<query_permit> running;
    for (std::int64_t user = 1; user <= 3; ++user) {
        auto permit = limits.acquire(user, team_a, source_x);
        ASSERT_TRUE(permit);
        running.push_back(*std::move(permit));
    }
    const auto refused = limits.acquire(4, team_a, source_x);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, error_code::busy);
    EXPECT_EQ(refused.error().retry_after_seconds, 1);
    EXPECT_NE(refused.error().message.find("3 queries"), std::string::npos) << refused.error().message;
    EXPECT_TRUE(limits.acquire(4, team_a, source_y));
    running.clear();
    EXPECT_EQ(limits.running_for_source(source_x), 0u);
    EXPECT_TRUE(limits.acquire(4, team_a, source_x));
}

// A query refused for concurrency is not charged a token: the user's budget is for queries that ran.
TEST(rate_limits_concurrency, a_busy_refusal_spends_no_token_and_no_slot) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.user_queries_per_minute = 1;
    settings.user_burst = 2;
    settings.max_running_per_source = 1;
    auto limits = make_limits(settings, clock);
    auto holder = limits.acquire(1, team_a, source_x);
    ASSERT_TRUE(holder);
    for (int attempt = 0; attempt < 5; ++attempt) {
        const auto refused = limits.acquire(2, team_a, source_x);
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, error_code::busy);
    }
    EXPECT_EQ(limits.running_for_user(2), 0u);
    EXPECT_EQ(limits.running_for_source(source_x), 1u);
    holder->release();
    EXPECT_TRUE(run_query(limits, 2));
    EXPECT_TRUE(run_query(limits, 2));  // both of user 2's tokens were still there
}

// --- Permits
// --------------------------------------------------------------------------------------------------

TEST(rate_limits_permits, released_on_destruction) {
    fake_clock clock;
    auto settings = nothing_limited();
    settings.max_running_per_user = 1;
    auto limits = make_limits(settings, clock);
    {
        auto permit = limits.acquire(1, team_a, source_x);
        ASSERT_TRUE(permit);
        EXPECT_EQ(limits.running_for_user(1), 1u);
        EXPECT_EQ(limits.running_for_source(source_x), 1u);
    }
    EXPECT_EQ(limits.running_for_user(1), 0u);
    EXPECT_EQ(limits.running_for_source(source_x), 0u);
    EXPECT_EQ(limits.tracked_entries(), 0u);
}

// Moving a permit (into a coroutine frame, a container) keeps exactly one slot; the moved-from one gives none
// back.
TEST(rate_limits_permits, moving_transfers_the_slot_exactly_once) {
    fake_clock clock;
    auto limits = make_limits(nothing_limited(), clock);
    auto acquired = limits.acquire(1, team_a, source_x);
    ASSERT_TRUE(acquired);
    query_permit first = *std::move(acquired);
    query_permit second(std::move(first));
    EXPECT_FALSE(first.holds_slot());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
    EXPECT_TRUE(second.holds_slot());
    first.release();
    { query_permit discard = std::move(first); }
    EXPECT_EQ(limits.running_for_user(1), 1u);
    std::optional<query_permit> third(std::move(second));
    EXPECT_EQ(limits.running_for_user(1), 1u);
    third.reset();
    EXPECT_EQ(limits.running_for_user(1), 0u);
}

// Move-assigning over a permit that holds a slot gives that slot back.
TEST(rate_limits_permits, move_assignment_releases_the_overwritten_slot) {
    fake_clock clock;
    auto limits = make_limits(nothing_limited(), clock);
    auto on_x = limits.acquire(1, team_a, source_x);
    auto on_y = limits.acquire(2, team_a, source_y);
    ASSERT_TRUE(on_x);
    ASSERT_TRUE(on_y);
    *on_x = std::move(*on_y);
    EXPECT_EQ(limits.running_for_source(source_x), 0u);
    EXPECT_EQ(limits.running_for_user(1), 0u);
    EXPECT_EQ(limits.running_for_source(source_y), 1u);
    query_permit& self = *on_x;
    *on_x = std::move(self);  // self-assignment keeps the slot
    EXPECT_EQ(limits.running_for_source(source_y), 1u);
}

TEST(rate_limits_permits, explicit_release_is_idempotent) {
    fake_clock clock;
    auto limits = make_limits(nothing_limited(), clock);
    auto first = limits.acquire(1, team_a, source_x);
    auto second = limits.acquire(1, team_a, source_x);
    ASSERT_TRUE(first);
    ASSERT_TRUE(second);
    first->release();
    first->release();
    EXPECT_FALSE(first->holds_slot());
    EXPECT_EQ(limits.running_for_user(1), 1u);
}

// Queries still finishing during shutdown may outlive the limiter; their permits must stay safe.
TEST(rate_limits_permits, a_permit_may_outlive_its_limiter) {
    fake_clock clock;
    std::optional<rate_limits> limits(make_limits(nothing_limited(), clock));
    auto permit = limits->acquire(1, team_a, source_x);
    ASSERT_TRUE(permit);
    limits.reset();
    permit->release();
    EXPECT_FALSE(permit->holds_slot());
}

// --- Settings
// -------------------------------------------------------------------------------------------------

TEST(rate_limits_settings, refuses_impossible_settings_naming_them) {
    auto zero_burst = nothing_limited();
    zero_burst.user_queries_per_minute = 10;
    zero_burst.user_burst = 0;
    const auto refused = rate_limits::make(zero_burst);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, error_code::invalid_input);
    EXPECT_EQ(refused.error().field, "user_burst");

    auto zero_team_burst = nothing_limited();
    zero_team_burst.team_queries_per_minute = 10;
    zero_team_burst.team_burst = 0;
    EXPECT_EQ(rate_limits::make(zero_team_burst).error().field, "team_burst");

    auto huge = nothing_limited();
    huge.max_running_per_source = 2'000'000;
    EXPECT_EQ(rate_limits::make(huge).error().field, "max_running_per_source");

    EXPECT_TRUE(rate_limits::make(rate_limit_settings{}));  // the defaults are valid
}

// The default clock is the real steady clock: a default-made limiter works without a fake.
TEST(rate_limits_settings, defaults_admit_an_ordinary_user) {
    auto limits = rate_limits::make(rate_limit_settings{});
    ASSERT_TRUE(limits);
    for (int query = 0; query < 4; ++query) {
        EXPECT_TRUE(run_query(*limits, 1));
    }
}

// --- Threads
// --------------------------------------------------------------------------------------------------

// Several I/O threads acquire and release at once: caps are never exceeded, and every slot comes back.
TEST(rate_limits_threads, many_threads_never_exceed_caps_and_end_at_zero) {
    constexpr int threads = 8;
    constexpr int iterations = 20000;
    constexpr std::uint32_t per_user_cap = 3;
    constexpr std::uint32_t per_source_cap = 5;
    constexpr int users = 6;
    constexpr int sources = 3;
    const std::array<std::string, sources> source_ids = {"source-a", "source-b", "source-c"};

    auto settings = nothing_limited();
    settings.user_queries_per_minute = 1'000'000;
    settings.user_burst = 1'000'000;
    settings.team_queries_per_minute = 1'000'000;
    settings.team_burst = 1'000'000;
    settings.max_running_per_user = per_user_cap;
    settings.max_running_per_source = per_source_cap;
    auto made = rate_limits::make(settings);
    ASSERT_TRUE(made);
    rate_limits& limits = *made;

    std::array<std::atomic<int>, users> running_by_user{};
    std::array<std::atomic<int>, sources> running_by_source{};
    std::atomic<int> over_cap{0};
    std::atomic<int> admitted{0};
    std::atomic<int> refused{0};

    // A running query as the test sees it. Our counters go up after a slot is granted and down before it is
    // given back, so they never exceed the limiter's own count: any value over a cap is an over-admission.
    struct running_query {
        query_permit permit;
        std::size_t user;
        std::size_t source;
    };
    const auto finish = [&](running_query& query) {
        --running_by_user[query.user];
        --running_by_source[query.source];
        query.permit.release();
    };

    std::vector<std::thread> workers;
    for (int worker = 0; worker < threads; ++worker) {
        workers.emplace_back([&, worker] {
            std::vector<running_query> held;
            for (int iteration = 0; iteration < iterations; ++iteration) {
                const auto user = static_cast<std::size_t>((worker + iteration) % users);
                const auto source = static_cast<std::size_t>((worker * 7 + iteration) % sources);
                auto permit = limits.acquire(static_cast<std::int64_t>(user),
                                             static_cast<std::int64_t>(user % 2), source_ids[source]);
                if (!permit) {
                    ++refused;
                    continue;
                }
                ++admitted;
                const int user_count = ++running_by_user[user];
                const int source_count = ++running_by_source[source];
                if (user_count > static_cast<int>(per_user_cap) ||
                    source_count > static_cast<int>(per_source_cap)) {
                    ++over_cap;
                }
                running_query query{*std::move(permit), user, source};
                if (iteration % 3 != 0) {
                    finish(query);
                    continue;
                }
                // Hold a few for a while so that the caps are actually reached, then finish them in bulk.
                held.push_back(std::move(query));
                if (held.size() > 2) {
                    for (auto& old : held) {
                        finish(old);
                    }
                    held.clear();
                }
            }
            for (auto& old : held) {
                finish(old);
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    EXPECT_EQ(over_cap.load(), 0);
    EXPECT_GT(admitted.load(), 0);
    EXPECT_EQ(admitted.load() + refused.load(), threads * iterations);
    for (int user = 0; user < users; ++user) {
        EXPECT_EQ(limits.running_for_user(user), 0u) << "user " << user;
    }
    for (const auto& source : source_ids) {
        EXPECT_EQ(limits.running_for_source(source), 0u) << source;
    }
}

}  // namespace
}  // namespace metahog::services
