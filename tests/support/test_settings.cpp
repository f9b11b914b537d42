// Test settings with compiled-in defaults.
#include "support/test_settings.hpp"

#include <cstdlib>
#include <string_view>

namespace metahog::test_support {

std::string test_setting(const char* name) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') {
        return value;
    }
    const std::string_view wanted(name);
    if (wanted == "METAHOG_SOURCE_DIR") {
        return METAHOG_DEFAULT_SOURCE_DIR;
    }
    if (wanted == "METAHOG_BINARY_DIR") {
        return METAHOG_DEFAULT_BINARY_DIR;
    }
    if (wanted == "METAHOG_TEST_PG_DIR") {
        return METAHOG_DEFAULT_TEST_PG_DIR;
    }
    return {};
}

}  // namespace metahog::test_support
