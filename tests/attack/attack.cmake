# The bad-input suite (issue 5): one executable that runs every hostile case against a real server and the pg
# fixture's Postgres, prints one line per case and "N passed, M failed", and fails when any case fails. It is one
# CTest test (the proofs at its end cover every case before them), labelled pg.
add_executable(attack_suite
  ${CMAKE_CURRENT_LIST_DIR}/attack_suite.cpp
  ${CMAKE_CURRENT_LIST_DIR}/attack_harness.cpp
  ${CMAKE_CURRENT_LIST_DIR}/raw_http.cpp)
target_include_directories(attack_suite PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(attack_suite PRIVATE metahog_test_support Boost::json PostgreSQL::PostgreSQL metahog_warnings)
add_dependencies(attack_suite metahog)
add_test(NAME attack_suite COMMAND attack_suite)
set_tests_properties(attack_suite PROPERTIES
  LABELS pg FIXTURES_REQUIRED pg TIMEOUT 900 SKIP_RETURN_CODE 77
  ENVIRONMENT "METAHOG_SOURCE_DIR=${PROJECT_SOURCE_DIR};METAHOG_BINARY_DIR=${PROJECT_BINARY_DIR};METAHOG_TEST_PG_DIR=${METAHOG_TEST_PG_DIR}")
