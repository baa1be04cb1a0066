# Every public header, compiled alone as C++17, must fail to compile, and its first error must be the #error of
# shardplan/core/cxx20.hpp. Run by CTest (test headers.cxx17_error):
#   cmake -DCXX_COMPILER=g++ -DCXX_COMPILER_ID=GNU -DINCLUDE_DIR=<repo>/include -DWORK_DIR=<scratch>
#         [-DHEADERS=shardplan/layout/layout.hpp;...] -P check_cxx17.cmake
# Without HEADERS, every include/shardplan/**/*.hpp is checked. The compiler stops after its first error
# (GCC -fmax-errors=1, Clang -ferror-limit=1), so "first" is what the output holds; other compilers are only checked
# for failing with the message somewhere in their output.
cmake_minimum_required(VERSION 3.20)
foreach(var CXX_COMPILER INCLUDE_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_cxx17.cmake: ${var} must be set")
  endif()
endforeach()

set(expected "shardplan needs C++20 (-std=c++20 or later)")
if(NOT HEADERS)
  file(GLOB_RECURSE HEADERS RELATIVE "${INCLUDE_DIR}" "${INCLUDE_DIR}/shardplan/*.hpp")
  list(SORT HEADERS)
endif()
list(LENGTH HEADERS count)
if(count EQUAL 0)
  message(FATAL_ERROR "check_cxx17.cmake: no headers under ${INCLUDE_DIR}/shardplan")
endif()

if(CXX_COMPILER_ID STREQUAL "MSVC")
  set(flags /nologo /std:c++17 /Zs "/I${INCLUDE_DIR}")
elseif(CXX_COMPILER_ID MATCHES "Clang")
  set(flags -std=c++17 -fsyntax-only -ferror-limit=1 "-I${INCLUDE_DIR}")
else()
  set(flags -std=c++17 -fsyntax-only -fmax-errors=1 "-I${INCLUDE_DIR}")
endif()

file(MAKE_DIRECTORY "${WORK_DIR}")
set(failures "")
foreach(header IN LISTS HEADERS)
  string(MAKE_C_IDENTIFIER "${header}" stem)
  set(source "${WORK_DIR}/${stem}.cpp")
  file(WRITE "${source}" "#include \"${header}\"\n")
  execute_process(COMMAND "${CXX_COMPILER}" ${flags} "${source}"
    RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(output "${out}${err}")
  if(result EQUAL 0)
    list(APPEND failures "${header}: compiled as C++17")
  else()
    string(FIND "${output}" "${expected}" at)
    if(at EQUAL -1)
      list(APPEND failures "${header}: failed without \"${expected}\":\n${output}")
    endif()
  endif()
endforeach()

if(failures)
  list(JOIN failures "\n" text)
  message(FATAL_ERROR "C++17 check failed:\n${text}")
endif()
message(STATUS "${count} headers, each compiled alone as C++17: the first error is \"${expected}\"")
