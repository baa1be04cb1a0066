# Installs the build tree BUILD_DIR into a fresh PREFIX.
#   cmake -DBUILD_DIR=... -DPREFIX=... -DINCLUDEDIR=... -DCMAKEDIR=...
#         [-DCONFIG=...] -P install.cmake
# INCLUDEDIR / CMAKEDIR are relative to PREFIX and only used for sanity checks.
foreach(var BUILD_DIR PREFIX INCLUDEDIR CMAKEDIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "install.cmake: ${var} must be set")
  endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")

set(config_args)
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()

execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args}
  COMMAND_ECHO STDOUT
  COMMAND_ERROR_IS_FATAL ANY)

foreach(f
    ${INCLUDEDIR}/shardplan/shardplan.hpp
    ${CMAKEDIR}/shardplanConfig.cmake
    ${CMAKEDIR}/shardplanConfigVersion.cmake
    ${CMAKEDIR}/shardplanTargets.cmake)
  if(NOT EXISTS "${PREFIX}/${f}")
    message(FATAL_ERROR "install.cmake: expected ${PREFIX}/${f} to be installed")
  endif()
endforeach()
