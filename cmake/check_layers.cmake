# SPDX-License-Identifier: MIT
# Checks the layering of lib/ against the table in cmake/layers.txt: every #include of a lib/
# folder must be of the including file's own folder or of a folder its row names. Prints one
# "file:line: ..." per violation and fails when there is any. Run by the `layering` test:
#
#   cmake [-DHB_LIB_DIR=<lib dir>] [-DHB_LAYERS=<table>] -P cmake/check_layers.cmake
#
# A CMake script rather than Python so that the check needs nothing the build does not.
cmake_minimum_required(VERSION 3.25)

get_filename_component(hb_repo "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(NOT DEFINED HB_LAYERS)
  set(HB_LAYERS "${hb_repo}/cmake/layers.txt")
endif()
if(NOT DEFINED HB_LIB_DIR)
  set(HB_LIB_DIR "${hb_repo}/lib")
endif()
get_filename_component(HB_LAYERS "${HB_LAYERS}" ABSOLUTE)
get_filename_component(HB_LIB_DIR "${HB_LIB_DIR}" ABSOLUTE)
# Files are named as lib/<folder>/<file>, the table relative to the repository when it is in it.
file(RELATIVE_PATH table_name "${hb_repo}" "${HB_LAYERS}")
if(table_name MATCHES "^\\.\\./")
  set(table_name "${HB_LAYERS}")
endif()

set(problems "")

# Adds one violation to `problems`; the arguments are joined into one message.
function(problem)
  string(JOIN "" message ${ARGN})
  list(APPEND problems "${message}")
  set(problems "${problems}" PARENT_SCOPE)
endfunction()

# Sets <out> to the lines of <file> as a list, one element per line (empty lines included). The
# characters CMake's lists treat specially (';', '[', ']', '\') are replaced by placeholders first;
# none of them can be part of an include that this script has to understand.
function(read_lines file out)
  file(READ "${file}" text)
  string(REPLACE "\\" "<backslash>" text "${text}")
  string(REPLACE ";" "<semicolon>" text "${text}")
  string(REPLACE "[" "<lbracket>" text "${text}")
  string(REPLACE "]" "<rbracket>" text "${text}")
  string(REPLACE "\r" "" text "${text}")
  string(REPLACE "\n" ";" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Sets <out> to the row that the folder <dir> (relative to lib/) belongs to: the longest row that
# is <dir> or one of its parents, or "" when there is none.
function(layer_of dir out)
  set(result "")
  while(NOT dir STREQUAL "")
    if(dir IN_LIST rows)
      set(result "${dir}")
      break()
    endif()
    get_filename_component(dir "${dir}" DIRECTORY)
  endwhile()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

# The table: "<folder>: <folders it may include>", bottom-up; a row may only name rows above it.
if(NOT EXISTS "${HB_LAYERS}")
  message(FATAL_ERROR "${HB_LAYERS}: no such file")
endif()
read_lines("${HB_LAYERS}" table_lines)
set(rows "")
set(number 0)
foreach(line IN LISTS table_lines)
  math(EXPR number "${number} + 1")
  string(REGEX REPLACE "#.*" "" line "${line}")
  string(STRIP "${line}" line)
  if(line STREQUAL "")
    continue()
  endif()
  if(NOT line MATCHES "^([a-z0-9_]+(/[a-z0-9_]+)*)[ \t]*:(.*)$")
    problem("${table_name}:${number}: expected \"<folder>: <folders it may include>\", "
            "got \"${line}\"")
    continue()
  endif()
  set(row "${CMAKE_MATCH_1}")
  string(STRIP "${CMAKE_MATCH_3}" deps)
  string(REGEX REPLACE "[ \t]+" ";" deps "${deps}")
  if(row IN_LIST rows)
    problem("${table_name}:${number}: a second row for ${row}")
    continue()
  endif()
  foreach(dep IN LISTS deps)
    if(NOT dep IN_LIST rows)
      problem("${table_name}:${number}: ${row} may not name ${dep}: a row may only "
                           "name rows above it, so that dependencies point one way")
    endif()
  endforeach()
  list(APPEND rows "${row}")
  set("allowed_${row}" "${deps}")
endforeach()
if(rows STREQUAL "")
  problem("${table_name}: no rows")
endif()
if(NOT problems STREQUAL "")
  foreach(problem IN LISTS problems)
    message(NOTICE "${problem}")
  endforeach()
  message(FATAL_ERROR "${table_name} is not a valid layering table")
endif()

# Every source file under lib/, in a stable order.
file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${HB_LIB_DIR}" "${HB_LIB_DIR}/*")
list(FILTER files INCLUDE REGEX "\\.(h|hh|hpp|hxx|ipp|inl|c|cc|cpp|cxx)$")
list(SORT files)
list(LENGTH files file_count)
if(file_count EQUAL 0)
  # A wrong HB_LIB_DIR must not look like a clean tree.
  message(FATAL_ERROR "${HB_LIB_DIR}: no source files to check")
endif()

set(unlisted "")
set(include_count 0)
foreach(file IN LISTS files)
  get_filename_component(dir "${file}" DIRECTORY)
  if(dir STREQUAL "")
    problem("lib/${file}: a file directly in lib/: put it in the folder it belongs to")
    continue()
  endif()
  layer_of("${dir}" layer)
  if(layer STREQUAL "")
    string(REGEX MATCH "^[^/]+" top "${dir}")
    if(NOT top IN_LIST unlisted)
      list(APPEND unlisted "${top}")
      problem("lib/${top}/: a folder with no row in ${table_name}: add one (see "
                           "docs/ARCHITECTURE.md)")
    endif()
    continue()
  endif()

  read_lines("${HB_LIB_DIR}/${file}" lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(NOT line MATCHES "^[ \t]*#[ \t]*include[ \t]*([<\"])([^\">]*)[\">]")
      continue()
    endif()
    set(quote "${CMAKE_MATCH_1}")
    set(target "${CMAKE_MATCH_2}")
    set(where "lib/${file}:${number}")
    string(REGEX MATCH "^[^/]*" first "${target}")
    if(target MATCHES "(^|/)\\.\\.(/|$)")
      problem("${where}: \"${target}\" climbs folders with \"..\": include lib/ "
                           "headers as \"<folder>/<file>\"")
      continue()
    endif()
    if(first STREQUAL "tools" OR first STREQUAL "tests")
      problem("${where}: ${layer} may not include \"${target}\": nothing in lib/ "
                           "may include ${first}/")
      continue()
    endif()
    get_filename_component(target_dir "${target}" DIRECTORY)
    layer_of("${target_dir}" target_layer)
    if(target_layer STREQUAL "")
      # <...> names another library's header; "..." must name a folder of lib/.
      if(quote STREQUAL "<")
        continue()
      endif()
      if(NOT first STREQUAL "" AND IS_DIRECTORY "${HB_LIB_DIR}/${first}")
        problem("${where}: \"${target}\": lib/${first}/ has no row in ${table_name}")
      else()
        problem("${where}: \"${target}\" is not in a folder of lib/ (include other "
                             "libraries' headers with <...>)")
      endif()
      continue()
    endif()
    math(EXPR include_count "${include_count} + 1")
    if(NOT target_layer STREQUAL layer AND NOT target_layer IN_LIST "allowed_${layer}")
      problem("${where}: ${layer} may not include \"${target}\" (${target_layer} is "
                           "not in the row of ${layer} in ${table_name})")
    endif()
  endforeach()
endforeach()

if(NOT problems STREQUAL "")
  foreach(problem IN LISTS problems)
    message(NOTICE "${problem}")
  endforeach()
  list(LENGTH problems problem_count)
  message(FATAL_ERROR "${problem_count} layering violation(s) in ${HB_LIB_DIR} (see "
                      "${table_name} and docs/ARCHITECTURE.md)")
endif()
message(STATUS "layering: ${file_count} files, ${include_count} includes of lib/ folders, all "
               "allowed by ${table_name}")
