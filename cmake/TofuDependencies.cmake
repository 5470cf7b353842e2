# Third-party code comes from Debian packages only. Natively we link the packaged spdlog/fmt; in the
# mingw-w64 cross build the packaged Linux libraries are useless, so spdlog, fmt, Catch2 and the
# header-only nlohmann-json and CLI11 are used from a build-tree folder that holds links to exactly
# those header trees (never all of /usr/include, which would drag glibc headers into a Windows build).
# tofu_json (nlohmann-json) and tofu_cli11 (CLI11) serve the stage binaries and their runner.
add_library(tofu_logging INTERFACE)
add_library(tofu_json INTERFACE)
add_library(tofu_cli11 INTERFACE)
if(CMAKE_CROSSCOMPILING AND WIN32)
  set(_tofu_hdrs "${CMAKE_BINARY_DIR}/third-party-headers")
  file(MAKE_DIRECTORY "${_tofu_hdrs}")
  foreach(_dir spdlog fmt catch2 nlohmann CLI)
    if(NOT EXISTS "/usr/include/${_dir}")
      message(FATAL_ERROR "tofu: /usr/include/${_dir} is missing; "
                          "install libspdlog-dev libfmt-dev catch2 nlohmann-json3-dev libcli11-dev")
    endif()
    file(CREATE_LINK "/usr/include/${_dir}" "${_tofu_hdrs}/${_dir}" SYMBOLIC)
  endforeach()
  target_include_directories(tofu_logging SYSTEM INTERFACE "${_tofu_hdrs}")
  target_compile_definitions(tofu_logging INTERFACE SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)
  target_include_directories(tofu_json SYSTEM INTERFACE "${_tofu_hdrs}")
  target_include_directories(tofu_cli11 SYSTEM INTERFACE "${_tofu_hdrs}")
  set(TOFU_CATCH2_INCLUDE "${_tofu_hdrs}" CACHE INTERNAL "")
else()
  find_package(fmt REQUIRED)
  find_package(spdlog REQUIRED)
  target_link_libraries(tofu_logging INTERFACE spdlog::spdlog fmt::fmt)
  # nlohmann-json: only the Windows stage programs; CLI11: tofu_perf (native too) and the runner.
  find_package(nlohmann_json 3 CONFIG QUIET)
  if(TARGET nlohmann_json::nlohmann_json)
    target_link_libraries(tofu_json INTERFACE nlohmann_json::nlohmann_json)
  endif()
  find_package(CLI11 2 CONFIG REQUIRED)
  target_link_libraries(tofu_cli11 INTERFACE CLI11::CLI11)
endif()
find_package(Threads REQUIRED)
