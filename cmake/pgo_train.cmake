# pgo_train.cmake — runs the instrumented wesley of a profile-guided build
# over its training input (cmake -P, from the build; see CMakeLists.txt):
#   WESLEY   the instrumented wesley
#   GEN      wes_gen_schema (bench/gen_schema.c)
#   EXAMPLES the repository's examples/ directory
#   PROFILE  where the instrumented wesley writes its profile (emptied first:
#            counts would add up over builds)
#   WORK     scratch directory (emptied first)
# The input is what the compiler spends its time on: a generated schema of
# 2,000 tables with every directive the generator writes (compiled, hashed,
# parsed), and the examples. Any failure fails the build.
foreach (var WESLEY GEN EXAMPLES PROFILE WORK)
    if (NOT DEFINED ${var})
        message (FATAL_ERROR "pgo_train.cmake: ${var} is not set")
    endif ()
endforeach ()
file (REMOVE_RECURSE ${PROFILE} ${WORK})
file (MAKE_DIRECTORY ${PROFILE} ${WORK})

function (wes_train)
    execute_process (COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
    if (NOT rc EQUAL 0)
        string (REPLACE ";" " " cmd "${ARGN}")
        message (FATAL_ERROR "pgo_train.cmake: ${cmd} failed (${rc}): ${err}")
    endif ()
endfunction ()

wes_train (${GEN} -n 2000 -f 15 -o ${WORK}/generated.graphql)
wes_train (${WESLEY} compile ${WORK}/generated.graphql -o ${WORK}/generated)
# again: over the outputs it wrote the first time, as a compile usually runs
wes_train (${WESLEY} compile ${WORK}/generated.graphql -o ${WORK}/generated)
wes_train (${WESLEY} hash ${WORK}/generated.graphql)
wes_train (${WESLEY} parse ${WORK}/generated.graphql)
file (GLOB examples ${EXAMPLES}/*.graphql)
foreach (ex ${examples})
    get_filename_component (name ${ex} NAME_WE)
    wes_train (${WESLEY} compile ${ex} -o ${WORK}/${name})
endforeach ()
