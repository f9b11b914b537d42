# End-to-end tests of the real binary's key handling (rotate-key, key start-up errors) and TLS serving.
metahog_add_test(NAME api_keys_test LABELS http FIXTURES pg
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/api_keys_test.cpp
  LIBS Boost::json)
add_dependencies(api_keys_test metahog)
metahog_add_test(NAME api_tls_test LABELS http
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/api_tls_test.cpp
  LIBS Boost::json)
add_dependencies(api_tls_test metahog)
