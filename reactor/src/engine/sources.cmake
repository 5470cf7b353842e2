# The engine (reactor thread, channels, groups); included by reactor/CMakeLists.txt.
target_sources(tofu PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/engine.cpp
  ${CMAKE_CURRENT_LIST_DIR}/engine_impl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/reactor_loop.cpp
  ${CMAKE_CURRENT_LIST_DIR}/channel_io.cpp
  ${CMAKE_CURRENT_LIST_DIR}/channel_registry.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logger.cpp
  ${CMAKE_CURRENT_LIST_DIR}/peer_headers.cpp)
