# `cmake --install <build> [--prefix <dir>]`: headers, the static (and on Linux the shared) library,
# the CMake config package (find_package(tofu CONFIG) -> tofu::tofu), tofu.pc for pkg-config, and
# whatever programs this build made (POC stage binaries, benchmarks, examples).
# The version comes from project() in the top-level CMakeLists.txt and nowhere else.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TOFU_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/tofu" CACHE STRING
    "Where the CMake config package is installed (relative to the prefix)")

# Public headers: reactor/include/tofu/*.hpp and the generated version.hpp. Nothing else is public.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/reactor/include/tofu"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        COMPONENT tofu_development
        FILES_MATCHING PATTERN "*.hpp")
install(FILES "${PROJECT_BINARY_DIR}/reactor/include/tofu/version.hpp"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/tofu"
        COMPONENT tofu_development)

# Libraries. tofu_platform is installed because the static tofu needs its objects at link time
# (libtofu.so has them folded in).
set(_tofu_install_libs tofu tofu_platform)
if(TARGET tofu_shared)
  list(APPEND _tofu_install_libs tofu_shared)
endif()
install(TARGETS ${_tofu_install_libs}
        EXPORT tofuTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT tofu_development
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT tofu_runtime
                NAMELINK_COMPONENT tofu_development
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT tofu_runtime)
install(EXPORT tofuTargets
        NAMESPACE tofu::
        DESTINATION "${TOFU_INSTALL_CMAKEDIR}"
        COMPONENT tofu_development)

# The config file needs to know whether spdlog/fmt are link dependencies (native builds) or were
# used header-only (the mingw cross build).
if(CMAKE_CROSSCOMPILING AND WIN32)
  set(TOFU_CONFIG_NEEDS_SPDLOG OFF)
else()
  set(TOFU_CONFIG_NEEDS_SPDLOG ON)
endif()
configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/tofuConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/tofuConfig.cmake"
  INSTALL_DESTINATION "${TOFU_INSTALL_CMAKEDIR}")
# 0.x: a minor version may break the API, so only the same MAJOR.MINOR is compatible.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/tofuConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/tofuConfig.cmake" "${PROJECT_BINARY_DIR}/tofuConfigVersion.cmake"
        DESTINATION "${TOFU_INSTALL_CMAKEDIR}"
        COMPONENT tofu_development)

# pkg-config: relocatable (prefix computed from the .pc file's own location), so that
# `cmake --install --prefix <anywhere>` gives a working file.
set(_tofu_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
if(IS_ABSOLUTE "${_tofu_pc_dir}")
  set(TOFU_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  set(TOFU_PC_PREFIX "\${pcfiledir}")
  string(REPLACE "/" ";" _tofu_pc_parts "${_tofu_pc_dir}")
  foreach(_part IN LISTS _tofu_pc_parts)
    if(NOT _part STREQUAL "" AND NOT _part STREQUAL ".")
      string(APPEND TOFU_PC_PREFIX "/..")
    endif()
  endforeach()
endif()
# Static linking also needs spdlog and fmt (natively; not Requires.private, whose Cflags pkgconf would
# add to every compile) or Winsock (the cross build, where spdlog/fmt are header-only).
if(TOFU_CONFIG_NEEDS_SPDLOG)
  set(TOFU_PC_LIBS_PRIVATE "-lspdlog -lfmt")
else()
  set(TOFU_PC_LIBS_PRIVATE "-lws2_32")
endif()
configure_file("${CMAKE_CURRENT_LIST_DIR}/tofu.pc.in" "${PROJECT_BINARY_DIR}/tofu.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/tofu.pc" DESTINATION "${_tofu_pc_dir}" COMPONENT tofu_development)

# Programs, when this build has them, go to libexec/tofu/ (their names, e.g. stage0_wakeup or
# echo_server, are too generic for bin/): the POC stage binaries and their runner tofu_stages
# (Windows builds only) in poc/, the benchmarks and the examples next to it.
if(TOFU_BUILD_POC AND EXISTS "${PROJECT_SOURCE_DIR}/poc/CMakeLists.txt")
  get_property(_tofu_poc_targets DIRECTORY "${PROJECT_SOURCE_DIR}/poc" PROPERTY BUILDSYSTEM_TARGETS)
  set(_tofu_stage_programs)
  foreach(_t IN LISTS _tofu_poc_targets)
    get_target_property(_type ${_t} TYPE)
    # The stage binaries and tofu_stages, which runs whatever stage binaries sit next to it.
    if(_type STREQUAL "EXECUTABLE" AND (_t MATCHES "^stage" OR _t STREQUAL "tofu_stages"))
      list(APPEND _tofu_stage_programs ${_t})
    endif()
  endforeach()
  if(_tofu_stage_programs)
    install(TARGETS ${_tofu_stage_programs}
            RUNTIME DESTINATION "${CMAKE_INSTALL_LIBEXECDIR}/tofu/poc" COMPONENT tofu_programs)
  endif()
endif()
foreach(_t tofu_bench tofu_bench_win echo_server echo_client)
  if(TARGET ${_t})
    install(TARGETS ${_t} RUNTIME DESTINATION "${CMAKE_INSTALL_LIBEXECDIR}/tofu" COMPONENT tofu_programs)
  endif()
endforeach()
# Tools with names of their own, meant to be on PATH: tofu_perf, and the C++ stage runner
# tofu_stages when this build has it (issue K).
foreach(_t tofu_perf tofu_stages)
  if(TARGET ${_t})
    install(TARGETS ${_t} RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT tofu_programs)
  endif()
endforeach()

# User documentation (share/doc/tofu): the README and docs/*.md, stages.md among them.
file(GLOB _tofu_doc_pages "${PROJECT_SOURCE_DIR}/docs/*.md")
install(FILES "${PROJECT_SOURCE_DIR}/README.md" ${_tofu_doc_pages}
        DESTINATION "${CMAKE_INSTALL_DOCDIR}" COMPONENT tofu_documentation)

# The `docs` target (Doxygen API reference), when Doxygen is installed: see docs/CMakeLists.txt.
if(EXISTS "${PROJECT_SOURCE_DIR}/docs/CMakeLists.txt")
  add_subdirectory("${PROJECT_SOURCE_DIR}/docs" "${PROJECT_BINARY_DIR}/docs")
endif()
