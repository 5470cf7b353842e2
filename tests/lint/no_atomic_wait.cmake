# Fails when a source under tests/, bench/, poc/, examples/ or reactor/ uses a C++20 waiting
# primitive that libstdc++ 12 builds on its atomic-wait layer, which loses wake-ups under Wine
# (D-45): counting/binary semaphores, latch, barrier, jthread/stop_callback, atomic wait/notify.
# Comment lines and lines citing D-45 are allowed.
# Usage: cmake -DROOT=<source dir> -P no_atomic_wait.cmake
set(_pattern "(#include <(semaphore|latch|barrier|stop_token)>|counting_semaphore|binary_semaphore|std::latch|std::barrier|std::jthread|stop_callback|atomic_wait|atomic_notify)")
set(_bad "")
foreach(_dir tests bench poc examples reactor)
  file(GLOB_RECURSE _files "${ROOT}/${_dir}/*.cpp" "${ROOT}/${_dir}/*.hpp" "${ROOT}/${_dir}/*.h")
  foreach(_f IN LISTS _files)
    file(STRINGS "${_f}" _hits REGEX "${_pattern}")
    foreach(_h IN LISTS _hits)
      if(NOT _h MATCHES "^[ \t]*//" AND NOT _h MATCHES "D-45")
        string(APPEND _bad "  ${_f}: ${_h}\n")
      endif()
    endforeach()
  endforeach()
endforeach()
if(_bad)
  message(FATAL_ERROR "waiting primitives that lose wake-ups with libstdc++ 12 (D-45); use tests/support/semaphore.hpp or a mutex + condition variable:\n${_bad}")
endif()
message(STATUS "no std semaphore, latch, barrier, jthread or atomic wait in the sources")
