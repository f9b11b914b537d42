# The Postgres query engine against the fixture's real server: values against to_json(), limits, timeouts, cancel,
# the read-only transaction, session reset, exports against COPY, EXPLAIN and schema discovery.
metahog_add_test(NAME pg_query_test LABELS pg SOURCES ${CMAKE_CURRENT_LIST_DIR}/pg_query_test.cpp
  LIBS metahog_driver_postgres metahog_encoding PostgreSQL::PostgreSQL Boost::json FIXTURES pg)
