# The engine (reactor thread, channels, groups); included by reactor/CMakeLists.txt.
target_sources(tofu PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/engine.cpp
  ${CMAKE_CURRENT_LIST_DIR}/engine_impl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/reactor_loop.cpp
  ${CMAKE_CURRENT_LIST_DIR}/loop_owner.cpp
  ${CMAKE_CURRENT_LIST_DIR}/channel_io.cpp
  ${CMAKE_CURRENT_LIST_DIR}/channel_registry.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logger.cpp
  ${CMAKE_CURRENT_LIST_DIR}/peer_headers.cpp)
# UBSan's vptr check misfires on fmt's memory buffers (a known false positive of fmt's buffer type,
# google/sanitizers#1526); logger.cpp is the only engine file that formats with spdlog/fmt.
if("undefined" IN_LIST TOFU_SANITIZE)
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/logger.cpp PROPERTIES COMPILE_OPTIONS -fno-sanitize=vptr)
endif()
