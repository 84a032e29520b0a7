# wes_man.cmake — writes a man page (roff) for wesley or wesley-worker from
# the built program's own --help texts, so the page lists exactly the flags
# and defaults the program accepts. Run at build time:
#   cmake -DBIN=path/to/wesley -DNAME=wesley -DHEADER=docs/man/wesley.1.in
#         -DOUT=build/man/wesley.1 -DWES_VERSION=0.1.0 -P docs/man/wes_man.cmake
# HEADER is the hand-written part (NAME, DESCRIPTION, ...); the generated part
# follows it: for wesley, one subsection per verb that `wesley --help` lists.
cmake_minimum_required (VERSION 3.22)
foreach (var BIN NAME HEADER OUT WES_VERSION)
    if (NOT DEFINED ${var})
        message (FATAL_ERROR "wes_man.cmake: -D${var}=... is required")
    endif ()
endforeach ()

# roff-escapes a help text and wraps it in a no-fill block.
function (wes_man_block text out_var)
    string (REPLACE "\\" "\\e" text "${text}")
    # A line starting with . or ' would be a roff request.
    string (REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
    set (${out_var} ".nf\n${text}.fi\n" PARENT_SCOPE)
endfunction ()

function (wes_man_help out_var)
    execute_process (COMMAND ${BIN} ${ARGN} --help OUTPUT_VARIABLE text RESULT_VARIABLE rc)
    if (NOT rc EQUAL 0)
        # Not fatal, so the build goes on; tests/integration/test_help.c
        # fails on a verb without --help.
        message (WARNING "wes_man.cmake: `${BIN} ${ARGN} --help` exited ${rc}")
        set (text "(no help text: `${NAME} ${ARGN} --help` exited ${rc})\n")
    endif ()
    set (${out_var} "${text}" PARENT_SCOPE)
endfunction ()

file (READ ${HEADER} page)
string (CONFIGURE "${page}" page @ONLY)
wes_man_help (top)
wes_man_block ("${top}" block)
string (APPEND page ".SH OPTIONS\n${block}")
if (NAME STREQUAL "wesley")
    # The verbs: the lines after "verbs:" up to the first blank line.
    string (REGEX MATCH "verbs:\n(( +[a-z-]+ [^\n]*\n)+)" _ "${top}")
    string (REGEX MATCHALL "\n  [a-z][a-z-]*" verbs "\n${CMAKE_MATCH_1}")
    string (APPEND page ".SH VERBS\n")
    foreach (v ${verbs})
        string (STRIP "${v}" v)
        wes_man_help (text ${v})
        wes_man_block ("${text}" block)
        string (APPEND page ".SS wesley ${v}\n${block}")
    endforeach ()
endif ()
string (APPEND page ".SH SEE ALSO\n")
if (NAME STREQUAL "wesley")
    string (APPEND page ".BR wesley-worker (1),\n")
else ()
    string (APPEND page ".BR wesley (1),\n")
endif ()
string (APPEND page ".BR psql (1).\nThe repository's README.md, DESIGN.md and deploy/README.md.\n")
file (WRITE ${OUT}.tmp "${page}")
file (RENAME ${OUT}.tmp ${OUT})
