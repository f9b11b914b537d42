# Driver layer without a server: config validation, connection strings, registry, process environment.
metahog_add_test(NAME drivers_test LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/drivers_test.cpp
  LIBS metahog_drivers metahog_driver_postgres)

# The query engine's value rendering tests (their owner keeps them in their own file).
include(${CMAKE_CURRENT_LIST_DIR}/pg_values.cmake)
# g++ 12 misreports Asio's coroutine frame allocator as a new/delete mismatch (a known false positive).
target_compile_options(drivers_test PRIVATE -Wno-mismatched-new-delete)
