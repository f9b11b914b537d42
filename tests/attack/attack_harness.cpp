// Reporting for the bad-input suite.
#include "attack/attack_harness.hpp"

#include <cstdio>
#include <exception>

#include <boost/json.hpp>

namespace metahog::test_support {

void attack_report::check(const std::string& category, const std::string& name,
                          const std::function<verdict()>& body) {
    verdict outcome;
    try {
        outcome = body();
    } catch (const std::exception& failure) {
        outcome = {false, std::string("threw: ") + failure.what()};
    }
    record(category, name, outcome);
}

void attack_report::record(const std::string& category, const std::string& name, const verdict& outcome) {
    std::string detail = outcome.detail;
    for (auto& c : detail) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    if (detail.size() > 400) {
        detail = detail.substr(0, 400) + "…";
    }
    const std::string line = std::string(outcome.passed ? "PASS " : "FAIL ") + category + " " + name + ": " + detail;
    std::lock_guard lock(mutex_);
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    if (outcome.passed) {
        ++passed_;
    } else {
        ++failed_;
        failures_.push_back(line);
    }
}

void attack_report::print_summary() const {
    std::lock_guard lock(mutex_);
    if (!failures_.empty()) {
        std::printf("\nFailed cases:\n");
        for (const auto& line : failures_) {
            std::printf("  %s\n", line.c_str());
        }
    }
    std::printf("\n%d passed, %d failed\n", passed_, failed_);
    std::fflush(stdout);
}

std::string json_string(const http_reply& reply, const char* key) {
    const auto parsed = reply.json();
    if (!parsed.is_object()) {
        return {};
    }
    const auto* value = parsed.as_object().if_contains(key);
    if (value == nullptr) {
        return {};
    }
    if (value->is_string()) {
        return std::string(value->as_string());
    }
    return boost::json::serialize(*value);
}

std::string describe(const http_reply& reply) {
    std::string text = std::to_string(reply.status);
    const std::string code = json_string(reply, "code");
    if (code.empty()) {
        return text + " (" + std::to_string(reply.body.size()) + " bytes)";
    }
    text += " " + code;
    if (const auto field = json_string(reply, "field"); !field.empty()) {
        text += " field=" + field;
    }
    if (const auto sqlstate = json_string(reply, "sqlstate"); !sqlstate.empty()) {
        text += " sqlstate=" + sqlstate;
    }
    std::string message = json_string(reply, "error");
    if (message.size() > 140) {
        message = message.substr(0, 140) + "…";
    }
    return text + " \"" + message + "\"";
}

}  // namespace metahog::test_support
