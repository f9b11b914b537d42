# Driver layer against the fixture's real Postgres: connecting, failures users see, environment isolation, pools.
# libpq is linked directly only so that tests can inspect a session synchronously.
metahog_add_test(NAME drivers_pg_test LABELS pg SOURCES ${CMAKE_CURRENT_LIST_DIR}/drivers_pg_test.cpp
  LIBS metahog_drivers metahog_driver_postgres PostgreSQL::PostgreSQL FIXTURES pg)

# The query engine's tests against the real server (their owner keeps them in their own file).
include(${CMAKE_CURRENT_LIST_DIR}/pg_query.cmake OPTIONAL)
target_compile_options(drivers_pg_test PRIVATE -Wno-mismatched-new-delete)
# The role gate (refusals, warnings, the pool's gate on new connections) against the fixture's real Postgres.
metahog_add_test(NAME role_gate_test LABELS pg SOURCES ${CMAKE_CURRENT_LIST_DIR}/role_gate_test.cpp
  LIBS metahog_drivers metahog_driver_postgres Boost::json FIXTURES pg)
target_compile_options(role_gate_test PRIVATE -Wno-mismatched-new-delete)
