# The umbrella header must not bring file I/O or threading headers into a TU: those belong in the headers that do
# I/O or locking (resharding/safetensors_file.hpp, model/checkpoint_files.hpp, redistribution/plan_cache.hpp), which the umbrella leaves out. Run by CTest
# (test headers.umbrella_no_io):
#   cmake -DCXX_COMPILER=g++ -DINCLUDE_DIR=<repo>/include -DWORK_DIR=<scratch> [-DHEADER=shardplan/shardplan.hpp]
#         [-DFORBIDDEN=fstream;filesystem;...] -P check_no_io_headers.cmake
# Lists every file the TU includes with -M (GCC and Clang) and fails on a standard header named in FORBIDDEN.
cmake_minimum_required(VERSION 3.20)
foreach(var CXX_COMPILER INCLUDE_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_no_io_headers.cmake: ${var} must be set")
  endif()
endforeach()
if(NOT HEADER)
  set(HEADER "shardplan/shardplan.hpp")
endif()
if(NOT FORBIDDEN)
  set(FORBIDDEN fstream filesystem iostream istream ostream sstream thread mutex)
endif()

file(MAKE_DIRECTORY "${WORK_DIR}")
set(source "${WORK_DIR}/umbrella_includes.cpp")
file(WRITE "${source}" "#include \"${HEADER}\"\n")
execute_process(COMMAND "${CXX_COMPILER}" -std=c++20 -M "-I${INCLUDE_DIR}" "${source}"
  RESULT_VARIABLE result OUTPUT_VARIABLE deps ERROR_VARIABLE err)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "listing the includes of ${HEADER} failed:\n${err}")
endif()
string(REPLACE "\\\n" " " deps "${deps}")
string(REGEX REPLACE "[ \t\r\n]+" ";" deps "${deps}")
set(found "")
foreach(path IN LISTS deps)
  get_filename_component(name "${path}" NAME)
  if(name IN_LIST FORBIDDEN)
    list(APPEND found "${path}")
  endif()
endforeach()
if(found)
  list(JOIN found "\n  " text)
  message(FATAL_ERROR "${HEADER} includes I/O or threading headers:\n  ${text}")
endif()
list(JOIN FORBIDDEN ", " names)
message(STATUS "${HEADER} includes none of: ${names}")
