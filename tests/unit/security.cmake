# Unit tests of src/security: sealing, the master key contract, passwords, tokens, ids, codecs.
metahog_add_test(NAME security_test LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/security_test.cpp
  LIBS metahog_security)
# Master-key rotation over a real SQLite store (services/key_rotation).
metahog_add_test(NAME key_rotation_test LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/key_rotation_test.cpp
  LIBS metahog_services)
