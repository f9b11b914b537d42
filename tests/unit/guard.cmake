# Unit tests of the network guard (security/network_policy) and the query limiters (services/rate_limits).
metahog_add_test(NAME network_policy_test LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/network_policy_test.cpp
  LIBS metahog_security)
# rate_limits.cpp is compiled in directly: it needs only metahog_core, and linking all of metahog_services would
# tie this test to the store, drivers and sql libraries.
metahog_add_test(NAME rate_limits_test LABELS unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/rate_limits_test.cpp ${PROJECT_SOURCE_DIR}/src/services/rate_limits.cpp
  LIBS metahog_core)
