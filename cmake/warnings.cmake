# Warnings every target of ours compiles with; third-party headers are included as system headers.
add_library(metahog_warnings INTERFACE)
target_compile_options(metahog_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wno-missing-field-initializers)
