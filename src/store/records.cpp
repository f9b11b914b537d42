// Role names and the store's timestamp format.
#include "store/records.hpp"

#include <cstdio>

namespace metahog::store {

std::string format_utc_timestamp(wall_clock::time_point when) {
    using namespace std::chrono;
    // floor, not duration_cast: a time just before a second boundary must not round into the next one.
    const auto millis = floor<milliseconds>(when);
    const auto day = floor<days>(millis);
    const year_month_day date{day};
    const hh_mm_ss time{millis - day};
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
    return text;
}

std::string_view to_string(team_role role) noexcept {
    switch (role) {
        case team_role::admin:
            return "admin";
        case team_role::member:
            return "member";
        case team_role::viewer:
            return "viewer";
    }
    return "viewer";
}

std::optional<team_role> parse_team_role(std::string_view text) noexcept {
    if (text == "admin") {
        return team_role::admin;
    }
    if (text == "member") {
        return team_role::member;
    }
    if (text == "viewer") {
        return team_role::viewer;
    }
    return std::nullopt;
}

}  // namespace metahog::store
