# Installing imgbuild (`cmake --install BUILD [--prefix P]`) and packaging it (`cpack -G DEB` in
# BUILD). Layout under the prefix:
#   bin/imgbuild, bin/imgfs           `mount -t fuse.imgfs` runs mount.fuse3, which runs the program
#                                     named after the subtype through /bin/sh; libmount drops PATH,
#                                     so the shell's default PATH finds it: the default prefix
#                                     (/usr/local) or the package's (/usr), not any other prefix
#   share/bash-completion/completions/imgbuild, share/zsh/vendor-completions/_imgbuild
#   share/man/man1/imgbuild.1, imgbuild-COMMAND.1
#   share/doc/imgbuild/README.md
# Completions and man pages are generated at build time by the imgbuild just built, from its
# command table (cli/command_spec.h), so they always match what it parses.
include(GNUInstallDirs)

# `cmake --install` and cpack install what has been built instead of building `all` first (every
# test included); build imgbuild, imgfs and imgbuild_docs before installing.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(IMGBUILD_MAN_DIR ${CMAKE_BINARY_DIR}/man)
set(IMGBUILD_COMPLETION_DIR ${CMAKE_BINARY_DIR}/completion)
add_custom_command(
  OUTPUT ${IMGBUILD_MAN_DIR}/imgbuild.1
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${IMGBUILD_MAN_DIR}
  COMMAND imgbuild __man ${IMGBUILD_MAN_DIR} --source "imgbuild ${PROJECT_VERSION}"
  DEPENDS imgbuild
  COMMENT "Generating man pages")
add_custom_command(
  OUTPUT ${IMGBUILD_COMPLETION_DIR}/imgbuild ${IMGBUILD_COMPLETION_DIR}/_imgbuild
  COMMAND ${CMAKE_COMMAND} -E make_directory ${IMGBUILD_COMPLETION_DIR}
  COMMAND ${CMAKE_COMMAND} -DOUTPUT=${IMGBUILD_COMPLETION_DIR}/imgbuild
    -P ${CMAKE_SOURCE_DIR}/cmake/run_to_file.cmake $<TARGET_FILE:imgbuild> completion bash
  COMMAND ${CMAKE_COMMAND} -DOUTPUT=${IMGBUILD_COMPLETION_DIR}/_imgbuild
    -P ${CMAKE_SOURCE_DIR}/cmake/run_to_file.cmake $<TARGET_FILE:imgbuild> completion zsh
  DEPENDS imgbuild ${CMAKE_SOURCE_DIR}/cmake/run_to_file.cmake
  COMMENT "Generating shell completions")
add_custom_target(imgbuild_docs ALL
  DEPENDS ${IMGBUILD_MAN_DIR}/imgbuild.1 ${IMGBUILD_COMPLETION_DIR}/imgbuild)

install(TARGETS imgbuild imgfs RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${IMGBUILD_COMPLETION_DIR}/imgbuild
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${IMGBUILD_COMPLETION_DIR}/_imgbuild
  DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(DIRECTORY ${IMGBUILD_MAN_DIR}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
  FILES_MATCHING PATTERN "*.1")
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# --- Debian package: cpack -G DEB -> imgbuild_VERSION_ARCH.deb --------------------------------
# Depends: the shared libraries' packages (dpkg-shlibdeps, from dpkg-dev) plus fuse3 for the mount
# helper (fusermount3, mount.fuse3); Recommends what rootless mode uses (docs/rootless.md).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME imgbuild)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "imgbuild developers <imgbuild@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "daemonless OCI container image toolkit: build, push, pull, mount and run images")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fuse3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "uidmap, slirp4netns")
include(CPack)

# The install and package checks need what `cmake --install` copies.
if(TARGET integration_install)
  add_dependencies(integration_install imgbuild imgfs imgbuild_docs)
endif()
if(IMGBUILD_TESTS AND NOT IMGBUILD_SANITIZE)
  # Fast: builds the .deb into a temporary directory and checks its control fields and files.
  # scripts/check_deb.sh without --quick also installs it into a fresh Debian 12 (slow, on demand).
  add_test(NAME package_deb
    COMMAND ${CMAKE_SOURCE_DIR}/scripts/check_deb.sh --quick --build-dir ${CMAKE_BINARY_DIR})
  set_tests_properties(package_deb PROPERTIES LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
