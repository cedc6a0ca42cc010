# imgbuild_module(NAME DEPS ...): one static library per top-level folder, built from every .cpp
# below it (new files are picked up on the next build). Public headers live at the folder's root
# and are included as "NAME/header.h" from the project root. A file named *_main.cpp is a program's
# entry point and stays out of the library.
function(imgbuild_module name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${name}/*.cpp)
  list(FILTER sources EXCLUDE REGEX "_main\\.cpp$")
  string(REPLACE "-" "_" target ${name})
  if(sources)
    add_library(${target} STATIC ${sources})
    target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR})
    target_compile_options(${target} PRIVATE ${IMGBUILD_WARNINGS})
    target_link_libraries(${target} PUBLIC ${ARG_DEPS})
  else()
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${CMAKE_SOURCE_DIR})
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
  endif()
  # "registry-client" is the folder; "registry_client" the target. Alias the folder name too.
  if(NOT "${target}" STREQUAL "${name}")
    add_library(${name} ALIAS ${target})
  endif()
endfunction()

# imgbuild_test(NAME DIR LABEL DEPS ...): one Catch2 executable from every .cpp in DIR.
function(imgbuild_test name dir label)
  cmake_parse_arguments(ARG "" "TIMEOUT" "DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  if(NOT sources)
    return()
  endif()
  add_executable(${name} ${sources})
  target_compile_options(${name} PRIVATE ${IMGBUILD_WARNINGS})
  target_link_libraries(${name} PRIVATE test_support ${ARG_DEPS})
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  # 77: a test skipped because something it needs is missing (tests/support/skip.h).
  set_tests_properties(${name} PROPERTIES LABELS ${label} TIMEOUT ${ARG_TIMEOUT}
    SKIP_RETURN_CODE 77)
  if(NOT TARGET ${label}_tests)
    add_custom_target(${label}_tests)
  endif()
  add_dependencies(${label}_tests ${name})
endfunction()
