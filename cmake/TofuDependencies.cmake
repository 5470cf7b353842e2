# Third-party code comes from Debian packages only. Natively we link the packaged spdlog/fmt; in the
# mingw-w64 cross build the packaged Linux libraries are useless, so spdlog, fmt and Catch2 are used
# header-only from a build-tree folder that holds links to exactly those three header trees (never
# all of /usr/include, which would drag glibc headers into a Windows build).
add_library(tofu_logging INTERFACE)
if(CMAKE_CROSSCOMPILING AND WIN32)
  set(_tofu_hdrs "${CMAKE_BINARY_DIR}/third-party-headers")
  file(MAKE_DIRECTORY "${_tofu_hdrs}")
  foreach(_dir spdlog fmt catch2)
    if(NOT EXISTS "/usr/include/${_dir}")
      message(FATAL_ERROR "tofu: /usr/include/${_dir} is missing; install libspdlog-dev libfmt-dev catch2")
    endif()
    file(CREATE_LINK "/usr/include/${_dir}" "${_tofu_hdrs}/${_dir}" SYMBOLIC)
  endforeach()
  target_include_directories(tofu_logging SYSTEM INTERFACE "${_tofu_hdrs}")
  target_compile_definitions(tofu_logging INTERFACE SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)
  set(TOFU_CATCH2_INCLUDE "${_tofu_hdrs}" CACHE INTERNAL "")
else()
  find_package(fmt REQUIRED)
  find_package(spdlog REQUIRED)
  target_link_libraries(tofu_logging INTERFACE spdlog::spdlog fmt::fmt)
endif()
find_package(Threads REQUIRED)
