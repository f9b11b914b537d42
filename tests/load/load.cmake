# Load test (issue 5): 200 concurrent slow queries on one source against its own Postgres (max_connections 300),
# small queries of other users answering meanwhile, memory and descriptors flat; default limits refuse a flood
# with 429/503 and Retry-After. One CTest test, labelled pg, well under a minute.
add_executable(load_test ${CMAKE_CURRENT_LIST_DIR}/load_test.cpp)
target_link_libraries(load_test PRIVATE metahog_test_support Boost::json PostgreSQL::PostgreSQL metahog_warnings)
add_dependencies(load_test metahog)
add_test(NAME load_test COMMAND load_test)
set_tests_properties(load_test PROPERTIES LABELS pg TIMEOUT 180 RUN_SERIAL TRUE
  ENVIRONMENT "METAHOG_SOURCE_DIR=${PROJECT_SOURCE_DIR};METAHOG_BINARY_DIR=${PROJECT_BINARY_DIR}")
