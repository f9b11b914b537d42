# Unit tests of src/store on real SQLite files in temp dirs. The test also opens the files directly (through
# the store's own sqlite_handle.hpp) to check what was written, hence its own link to SQLite.
metahog_add_test(NAME store_test LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/store_test.cpp
  LIBS metahog_store PkgConfig::SQLITE3)
