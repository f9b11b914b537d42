# Unit tests of Postgres value rendering (to_json() rules) and the type catalog's built-in fast path.
metahog_add_test(NAME pg_values_test LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/pg_values_test.cpp
  LIBS metahog_driver_postgres Boost::json)
