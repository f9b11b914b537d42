// Where the tree under test lives: from the environment when set, else the paths CMake configured. (CTest's
// gtest discovery cannot pass several environment variables reliably, so the defaults are compiled in.)
#pragma once

#include <string>

namespace metahog::test_support {

// METAHOG_SOURCE_DIR, METAHOG_BINARY_DIR or METAHOG_TEST_PG_DIR; empty for any other name.
std::string test_setting(const char* name);

}  // namespace metahog::test_support
