# Warnings every target of ours compiles with; third-party headers are included as system headers.
add_library(metahog_warnings INTERFACE)
target_compile_options(metahog_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wno-missing-field-initializers
  # GCC 12 misreports Asio's coroutine frame allocator (awaitable_frame_base::operator delete).
  -Wno-mismatched-new-delete)
