# Unit tests of the row encoders (JSON execute response, CSV, NDJSON) and JSON text primitives.
metahog_add_test(NAME encoding_test LABELS unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/encoding_test.cpp
  LIBS metahog_encoding Boost::json)
