# Configures, builds and runs (via its own CTest) a consumer project from
# scratch.
#   cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DGENERATOR=...
#         [-DMAKE_PROGRAM=...] [-DCXX_COMPILER=...] [-DCTEST_COMMAND=...]
#         [-DCONFIG=...] [-DPREFIX_PATH=...] [-DSHARDPLAN_SOURCE_DIR=...] [-DFMT_DIR=...]
#         -P build_consumer.cmake
foreach(var SOURCE_DIR BINARY_DIR GENERATOR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "build_consumer.cmake: ${var} must be set")
  endif()
endforeach()

if(NOT CONFIG)
  set(CONFIG Release)
endif()

set(configure_args
  -S "${SOURCE_DIR}"
  -B "${BINARY_DIR}"
  -G "${GENERATOR}"
  "-DCMAKE_BUILD_TYPE=${CONFIG}"
  # Only ever pick up the package from the prefix we were given.
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(PREFIX_PATH)
  list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${PREFIX_PATH}")
endif()
if(SHARDPLAN_SOURCE_DIR)
  list(APPEND configure_args "-DSHARDPLAN_SOURCE_DIR=${SHARDPLAN_SOURCE_DIR}")
endif()
if(FMT_DIR)
  list(APPEND configure_args "-Dfmt_DIR=${FMT_DIR}")
endif()

if(NOT CTEST_COMMAND)
  get_filename_component(cmake_bin_dir "${CMAKE_COMMAND}" DIRECTORY)
  set(CTEST_COMMAND "${cmake_bin_dir}/ctest")
endif()

file(REMOVE_RECURSE "${BINARY_DIR}")

execute_process(COMMAND "${CMAKE_COMMAND}" ${configure_args}
  COMMAND_ECHO STDOUT COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BINARY_DIR}" --config "${CONFIG}"
  COMMAND_ECHO STDOUT COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${CTEST_COMMAND}" --test-dir "${BINARY_DIR}" -C "${CONFIG}"
  --output-on-failure --no-tests=error
  COMMAND_ECHO STDOUT COMMAND_ERROR_IS_FATAL ANY)
