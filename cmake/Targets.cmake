# spacehook_library(<name> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# One static library per part of the flow. Public headers live next to their sources and are
# included as "<part>/<file>.hpp" from src/.
function(spacehook_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}/src")
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE spacehook_warnings ${ARG_PRIVATE_DEPS})
endfunction()

# spacehook_test(<name> SOURCES ... DEPS ... [LABELS ...] [DEFINITIONS NAME="value" ...])
# A GoogleTest binary; each TEST becomes its own ctest entry so the summary names failures. Nothing is
# defined when SPACEHOOK_BUILD_TESTS is off (the release preset), hence DEFINITIONS here rather than a
# target_compile_definitions after the call.
function(spacehook_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS;DEFINITIONS" ${ARGN})
  if(NOT SPACEHOOK_BUILD_TESTS)
    return()
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main spacehook_warnings)
  target_compile_definitions(${name} PRIVATE ${ARG_DEFINITIONS})
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 120)
endfunction()
