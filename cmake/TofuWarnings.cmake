# Warnings every project target gets (not third-party headers: those are SYSTEM includes).
add_library(tofu_warnings INTERFACE)
target_compile_options(tofu_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Wnull-dereference -Wimplicit-fallthrough)
