// Segment-by-segment route matching.
#include "http/router.hpp"

namespace metahog::http {
namespace {

std::vector<std::string> split_pattern(std::string_view pattern) {
    std::vector<std::string> segments;
    std::size_t start = 0;
    while (start < pattern.size()) {
        if (pattern[start] == '/') {
            ++start;
            continue;
        }
        const auto end = pattern.find('/', start);
        segments.emplace_back(pattern.substr(start, end - start));
        if (end == std::string_view::npos) {
            break;
        }
        start = end;
    }
    return segments;
}

bool is_capture(const std::string& segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void router::add(beast_http::verb method, std::string_view pattern, handler route_handler) {
    routes_.push_back(route{method, split_pattern(pattern), std::move(route_handler)});
}

router::match router::find(beast_http::verb method, const std::vector<std::string>& segments) const {
    match result;
    for (const auto& candidate : routes_) {
        if (candidate.segments.size() != segments.size()) {
            continue;
        }
        bool matched = true;
        for (std::size_t index = 0; index < segments.size() && matched; ++index) {
            matched = is_capture(candidate.segments[index]) || candidate.segments[index] == segments[index];
        }
        if (!matched) {
            continue;
        }
        if (candidate.method != method) {
            result.other_method_matches = true;
            continue;
        }
        result.route_handler = &candidate.route_handler;
        for (std::size_t index = 0; index < segments.size(); ++index) {
            const auto& name = candidate.segments[index];
            if (is_capture(name)) {
                result.params.emplace(name.substr(1, name.size() - 2), segments[index]);
            }
        }
        return result;
    }
    return result;
}

}  // namespace metahog::http
