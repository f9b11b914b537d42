# HTTP end-to-end tests of the real binary against a real Postgres.
metahog_add_test(NAME api_sources_test LABELS http FIXTURES pg
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/api_sources_test.cpp
  LIBS Boost::json)
add_dependencies(api_sources_test metahog)

metahog_add_test(NAME api_query_test LABELS http FIXTURES pg
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/api_query_test.cpp
  LIBS Boost::json)
add_dependencies(api_query_test metahog)

# The audit log end to end. It also opens the data dir's SQLite file directly (the store's own
# sqlite_handle.hpp) to play an attacker who edits it, and to make a plain member without a membership API.
metahog_add_test(NAME api_audit_test LABELS http FIXTURES pg
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/api_audit_test.cpp
  LIBS Boost::json metahog_store PkgConfig::SQLITE3)
add_dependencies(api_audit_test metahog)

# Roles and grants: every team-scoped route × role. It also builds the application in-process (no serving) to
# read the routes the server registers, hence its link to metahog_api.
metahog_add_test(NAME api_roles_test LABELS http FIXTURES pg
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/api_roles_test.cpp
  LIBS metahog_api Boost::json)
add_dependencies(api_roles_test metahog)
