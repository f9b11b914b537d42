// The bad-input suite's runner: one line per case ("PASS|FAIL <category> <name>: <expected / seen>"), a final
// "N passed, M failed", and small helpers to describe replies. Adding a case is one call of `check`.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "support/http_client.hpp"

namespace metahog::test_support {

struct verdict {
    bool passed = false;
    std::string detail;  // what was expected and what was seen
};

class attack_report {
public:
    // Runs one case; an exception fails it with its message.
    void check(const std::string& category, const std::string& name, const std::function<verdict()>& body);
    void record(const std::string& category, const std::string& name, const verdict& outcome);
    int passed() const { return passed_; }
    int failed() const { return failed_; }
    // "N passed, M failed" and the failed cases again, so they are easy to find in a long log.
    void print_summary() const;

private:
    mutable std::mutex mutex_;
    int passed_ = 0;
    int failed_ = 0;
    std::vector<std::string> failures_;
};

// "400 statement_refused field=sql sqlstate=25006 \"message…\"" for a JSON error reply, "200 (N bytes)" else.
std::string describe(const http_reply& reply);
std::string json_string(const http_reply& reply, const char* key);

}  // namespace metahog::test_support
