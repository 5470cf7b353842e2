# Third-party code comes from Debian packages only. Natively we link the packaged spdlog/fmt; in the
# mingw-w64 cross build the packaged Linux libraries are useless, so spdlog, fmt, Catch2 and CLI11
# (header-only anyway) are used from a build-tree folder that holds links to exactly those header
# trees (never all of /usr/include, which would drag glibc headers into a Windows build; D-06).
add_library(tofu_logging INTERFACE)
add_library(tofu_cli11 INTERFACE)  # CLI11 (libcli11-dev) for the tools' command lines
if(CMAKE_CROSSCOMPILING AND WIN32)
  set(_tofu_hdrs "${CMAKE_BINARY_DIR}/third-party-headers")
  file(MAKE_DIRECTORY "${_tofu_hdrs}")
  foreach(_dir spdlog fmt catch2 CLI)
    if(NOT EXISTS "/usr/include/${_dir}")
      message(FATAL_ERROR "tofu: /usr/include/${_dir} is missing; install libspdlog-dev libfmt-dev catch2 libcli11-dev")
    endif()
    file(CREATE_LINK "/usr/include/${_dir}" "${_tofu_hdrs}/${_dir}" SYMBOLIC)
  endforeach()
  target_include_directories(tofu_logging SYSTEM INTERFACE "${_tofu_hdrs}")
  target_compile_definitions(tofu_logging INTERFACE SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)
  set(TOFU_CATCH2_INCLUDE "${_tofu_hdrs}" CACHE INTERNAL "")
  target_include_directories(tofu_cli11 SYSTEM INTERFACE "${_tofu_hdrs}")
else()
  find_package(fmt REQUIRED)
  find_package(spdlog REQUIRED)
  target_link_libraries(tofu_logging INTERFACE spdlog::spdlog fmt::fmt)
  find_package(CLI11 2 CONFIG REQUIRED)
  target_link_libraries(tofu_cli11 INTERFACE CLI11::CLI11)
endif()
find_package(Threads REQUIRED)
