# Test registration shared by tests/ and poc/.
# Catch2 v2 (Debian) ships Catch.cmake; we include it by path so the cross build can use it too.
set(TOFU_SKIP_RETURN_CODE 77)
set(TOFU_TEST_TIMEOUT 120 CACHE STRING "Per-test timeout in seconds (only guards against hangs)")

if(CMAKE_CROSSCOMPILING AND WIN32)
  include("/usr/lib/cmake/Catch2/Catch.cmake")
  add_library(tofu_catch2 INTERFACE)
  target_include_directories(tofu_catch2 SYSTEM INTERFACE "${TOFU_CATCH2_INCLUDE}")
else()
  find_package(Catch2 2 REQUIRED)
  include(Catch)
  add_library(tofu_catch2 INTERFACE)
  target_link_libraries(tofu_catch2 INTERFACE Catch2::Catch2)
endif()

# tofu_discover_tests(<target> LABELS <l>... [PREFIX <p>] [ENVIRONMENT <k=v>...] [EXTRA_ARGS <a>...])
# Every Catch2 test case becomes one CTest test; exit code 77 means "skipped, reason printed".
# Catch2 2.13 lists the test cases after each build (POST_BUILD), through the Wine wrapper when
# cross-compiling.
function(tofu_discover_tests target)
  cmake_parse_arguments(A "" "PREFIX" "LABELS;ENVIRONMENT;EXTRA_ARGS" ${ARGN})
  set(_props LABELS "${A_LABELS}" SKIP_RETURN_CODE ${TOFU_SKIP_RETURN_CODE} TIMEOUT ${TOFU_TEST_TIMEOUT})
  if(A_ENVIRONMENT)
    list(APPEND _props ENVIRONMENT "${A_ENVIRONMENT}")
  endif()
  catch_discover_tests(${target}
    TEST_PREFIX "${A_PREFIX}"
    EXTRA_ARGS ${A_EXTRA_ARGS}
    PROPERTIES ${_props})
endfunction()

# tofu_add_skipped_test(<name> <reason> [LABELS <l>...])
# An optional test this build cannot run registers under its own name anyway and reports Skipped
# with the reason, so a missing tool shows in every CTest summary instead of the test vanishing.
function(tofu_add_skipped_test name reason)
  cmake_parse_arguments(A "" "" "LABELS" ${ARGN})
  add_test(NAME ${name} COMMAND sh "${PROJECT_SOURCE_DIR}/tests/support/skipped_test.sh" "${reason}")
  set_tests_properties(${name} PROPERTIES LABELS "${A_LABELS}" SKIP_RETURN_CODE ${TOFU_SKIP_RETURN_CODE})
  message(STATUS "tofu: test ${name} registered as skipped: ${reason}")
endfunction()
