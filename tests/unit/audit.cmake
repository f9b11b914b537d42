# Unit tests of the audit log (src/store's audit table and services/audit_log) on real SQLite files in temp
# dirs. The test also opens the files directly (the store's own sqlite_handle.hpp) to play an attacker who
# edits the file, hence its own link to SQLite.
metahog_add_test(NAME audit_test LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/audit_test.cpp
  LIBS metahog_services metahog_store PkgConfig::SQLITE3)
