# HTTP end-to-end tests of the real binary against a real Postgres.
metahog_add_test(NAME api_sources_test LABELS http FIXTURES pg
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/api_sources_test.cpp
  LIBS Boost::json)
add_dependencies(api_sources_test metahog)

metahog_add_test(NAME api_query_test LABELS http FIXTURES pg
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/api_query_test.cpp
  LIBS Boost::json)
add_dependencies(api_query_test metahog)
