# The message core (issue C): messages, codec, pool, addresses. Platform-independent, no sockets.
# Included by reactor/CMakeLists.txt.
set(_tofu_core_sources
  ${CMAKE_CURRENT_LIST_DIR}/status.cpp
  ${CMAKE_CURRENT_LIST_DIR}/message.cpp
  ${CMAKE_CURRENT_LIST_DIR}/codec.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/address.cpp
  ${CMAKE_CURRENT_LIST_DIR}/uds_access.cpp)
target_sources(tofu PRIVATE ${_tofu_core_sources})
# The fuzz targets compile their own coverage-instrumented copy of these sources (tests/fuzz).
set_property(GLOBAL PROPERTY TOFU_CORE_SOURCES ${_tofu_core_sources})
