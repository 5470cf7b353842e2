# Applies TOFU_SANITIZE to every target defined after this point.
if(TOFU_SANITIZE)
  list(JOIN TOFU_SANITIZE "," _tofu_san)
  add_compile_options(-fsanitize=${_tofu_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_tofu_san})
  message(STATUS "tofu: sanitizers ${_tofu_san}")
endif()
