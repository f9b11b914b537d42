# HTTP end-to-end tests of the real binary against a real Postgres.
metahog_add_test(NAME api_sources_test LABELS http FIXTURES pg
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/api_sources_test.cpp
  LIBS Boost::json)
add_dependencies(api_sources_test metahog)

# Roles and grants: every team-scoped route × role. It also builds the application in-process (no serving) to
# read the routes the server registers, hence its link to metahog_api.
metahog_add_test(NAME api_roles_test LABELS http FIXTURES pg
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/api_roles_test.cpp
  LIBS metahog_api Boost::json)
add_dependencies(api_roles_test metahog)
