# One helper adds a module's library, one a program, one a test binary.
# A module is every .cc directly under its folder; a test binary is every .cc
# under tests/<name>/. Adding a file needs no CMake change (re-run cmake only
# when a folder goes from empty to non-empty).

function(chipledger_module name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/${name}/*.cc)
  if(NOT srcs)
    return()
  endif()
  add_library(chipledger_${name} STATIC ${srcs})
  target_include_directories(chipledger_${name} PUBLIC ${CMAKE_SOURCE_DIR})
  target_link_libraries(chipledger_${name} PUBLIC ${ARGN})
endfunction()

function(chipledger_program name main)
  if(NOT EXISTS ${CMAKE_SOURCE_DIR}/${main})
    return()
  endif()
  add_executable(${name} ${main})
  target_link_libraries(${name} PRIVATE ${ARGN} ${CHIPLEDGER_ALLOCATOR})
endfunction()

function(chipledger_test name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${name}/*.cc)
  if(NOT srcs)
    return()
  endif()
  # CTest splits a name at ';', so a test case named with one never runs
  # under ctest (Catch matches no test and exits 0): refuse to configure.
  foreach(src ${srcs})
    file(STRINGS ${src} bad REGEX "TEST_CASE\\(\"[^\"]*;")
    if(bad)
      message(FATAL_ERROR "${src}: a TEST_CASE name contains ';' and will not run under ctest: ${bad}")
    endif()
    # A '[' or ']' in a name breaks catch_discover_tests' CMake list: the
    # following test cases of the file merge into one that runs nothing.
    file(STRINGS ${src} bad REGEX "TEST_CASE\\(\"[^\"]*[][]")
    if(bad)
      message(FATAL_ERROR "${src}: a TEST_CASE name contains '[' or ']', which hides later tests from ctest")
    endif()
  endforeach()
  add_executable(${name}_tests ${srcs})
  # Test code builds at -O1 in Release (the code under test stays -O3): the
  # tests run briefly or wait on processes, and at -O3 their objects took
  # 63% of a clean build's compile time (docs/performance.md, "Build time").
  target_compile_options(${name}_tests PRIVATE $<$<CONFIG:Release>:-O1>)
  target_link_libraries(${name}_tests PRIVATE chipledger_catch_main ${ARGN})
  target_include_directories(${name}_tests PRIVATE ${CMAKE_SOURCE_DIR})
  target_compile_definitions(${name}_tests PRIVATE
    CHIPLEDGER_TEST_VECTORS="${CMAKE_SOURCE_DIR}/tests/vectors")
  catch_discover_tests(${name}_tests TEST_PREFIX "${name}: " DISCOVERY_TIMEOUT 60)
  # `unit_tests` builds every test binary but the integration tests (which
  # drive the programs): what scripts/test.sh's sanitizer stage runs.
  if(NOT name STREQUAL "integration")
    add_dependencies(unit_tests ${name}_tests)
  endif()
endfunction()
