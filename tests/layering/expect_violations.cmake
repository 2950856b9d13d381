# SPDX-License-Identifier: MIT
# Proves that the layering check can fail: runs cmake/check_layers.cmake on fixture/lib (one
# violation of each kind, beside includes that are allowed) and on a table with a cycle, and
# expects it to fail reporting exactly these lines, no more and no fewer.
#
#   cmake -P tests/layering/expect_violations.cmake
cmake_minimum_required(VERSION 3.25)

get_filename_component(repo "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
set(checker "${repo}/cmake/check_layers.cmake")
set(failed NO)

# expect_violations(<name> DEFINE <-Dname=value...> REPORT <line...>)
# Runs the checker with the -D arguments and records a failure unless it exits non-zero and its
# report lines (those naming a file) are exactly the REPORT lines, in order.
function(expect_violations name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "DEFINE;REPORT")
  set(expected "${arg_REPORT}")
  execute_process(COMMAND "${CMAKE_COMMAND}" ${arg_DEFINE} -P "${checker}"
                  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
  string(REPLACE ";" "<semicolon>" lines "${errors}")
  string(REPLACE "\n" ";" lines "${lines}")
  list(FILTER lines INCLUDE REGEX "^(lib|tests)/")
  set(failure "")
  if(result EQUAL 0)
    string(APPEND failure "  the check passed; expected it to fail\n")
  endif()
  if(NOT lines STREQUAL expected)
    string(REPLACE ";" "\n    " want "${expected}")
    string(REPLACE ";" "\n    " got "${lines}")
    string(APPEND failure "  expected:\n    ${want}\n  got:\n    ${got}\n")
  endif()
  if(NOT failure STREQUAL "")
    message(NOTICE "${name}:\n${failure}  full output:\n${output}${errors}")
    set(failed YES PARENT_SCOPE)
  endif()
endfunction()

set(why "is not in the row of")
expect_violations("a tree with violations"
  DEFINE -DHB_LIB_DIR=${CMAKE_CURRENT_LIST_DIR}/fixture/lib
  REPORT
  "lib/core/model/target.hpp:5: core may not include \"checks/check.hpp\" (checks ${why} core in cmake/layers.txt)"
  "lib/output/printer.cpp:5: output may not include \"tools/common/cli.hpp\": nothing in lib/ may include tools/"
  "lib/output/printer.cpp:6: \"../../tests/support/test_helpers.hpp\" climbs folders with \"..\": include lib/ headers as \"<folder>/<file>\""
  "lib/output/printer.cpp:7: \"common/cli.hpp\" is not in a folder of lib/ (include other libraries' headers with <...>)"
  "lib/util/hidden.hpp:3: util may not include \"core/types.hpp\" (core ${why} util in cmake/layers.txt)"
  "lib/util/hidden.hpp:4: util may not include \"core/model/target.hpp\" (core ${why} util in cmake/layers.txt)"
  "lib/util/upward.cpp:3: util may not include \"core/errors.hpp\" (core ${why} util in cmake/layers.txt)"
  "lib/widgets/: a folder with no row in cmake/layers.txt: add one (see docs/ARCHITECTURE.md)")

expect_violations("a table with a cycle"
  DEFINE -DHB_LAYERS=${CMAKE_CURRENT_LIST_DIR}/cyclic_layers.txt
  REPORT
  "tests/layering/cyclic_layers.txt:4: core may not name checks: a row may only name rows above it, so that dependencies point one way")

if(failed)
  message(FATAL_ERROR "the layering check did not report what it should (see above)")
endif()
message(STATUS "layering check: fails on every kind of violation, as it should")
