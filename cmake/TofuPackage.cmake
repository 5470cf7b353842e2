# `cmake --build --preset <preset> --target package` (CPack): exactly what `cmake --install` puts in
# a prefix (cmake/TofuInstall.cmake), so a package and an install never differ (D-74):
#   Linux:   tofu_<version>_<arch>.deb (prefix /usr) and tofu-<version>-Linux-<arch>.tar.gz (relocatable)
#   Windows: tofu-<version>-windows-x64.zip (mingw cross build): headers, the static libraries (and
#            the DLL when this build has one), every stage binary, the stage runner when this build
#            has it, tofu_perf, the examples, the CMake package, tofu.pc and docs/*.md.
# Packages land in <build>/packages. The `package` CTest (tests/install) checks them.
set(CPACK_PACKAGE_NAME "tofu")
set(CPACK_PACKAGE_VENDOR "tofu for C++")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/packages")
set(CPACK_RESOURCE_FILE_README "${PROJECT_SOURCE_DIR}/README.md")
set(CPACK_STRIP_FILES ON)  # programs and shared libraries; static archives keep their symbols
set(CPACK_VERBATIM_VARIABLES ON)
# Everything installed goes in (no component split): one package a user hands on.
set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)
set(CPACK_DEB_COMPONENT_INSTALL OFF)

if(WIN32)
  set(CPACK_GENERATOR "ZIP")
  set(CPACK_PACKAGE_FILE_NAME "tofu-${PROJECT_VERSION}-windows-x64")
else()
  set(CPACK_GENERATOR "DEB;TGZ")
  set(CPACK_PACKAGE_FILE_NAME "tofu-${PROJECT_VERSION}-Linux-${CMAKE_SYSTEM_PROCESSOR}")
  set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")  # tofu_<version>_<arch>.deb
  set(CPACK_DEBIAN_PACKAGE_MAINTAINER "tofu for C++ developers")
  set(CPACK_DEBIAN_PACKAGE_SECTION "libdevel")
  set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${PROJECT_DESCRIPTION}
 The library (static and shared), its headers, a CMake config package (find_package(tofu)),
 tofu.pc for pkg-config, tofu_perf, the examples and the documentation.")
  # Shared-library dependencies of the programs and libtofu.so from dpkg-shlibdeps; the static
  # library and the CMake package also need spdlog and fmt to link against.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libspdlog-dev, libfmt-dev")
endif()
include(CPack)
