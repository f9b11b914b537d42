# Unit tests of the parser wall (src/sql): refusals, bypasses, positions and prefix removal.
metahog_add_test(NAME sql_test LABELS unit SOURCES ${CMAKE_CURRENT_LIST_DIR}/sql_test.cpp LIBS metahog_sql)
