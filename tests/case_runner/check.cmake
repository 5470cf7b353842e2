# tofu_case_runner's own check, run by CTest under Wine: the runner runs the probe's four cases
# one process each and counts them (a name with `,` and `[...]` must match itself alone, the skip
# must not end the run), and its exit status says whether any failed.
#   cmake -DEMULATOR=... -DRUNNER=... -DPROBE=... -P check.cmake
function(run_case_runner out_var rc_var)
  execute_process(COMMAND ${ARGN} ${EMULATOR} ${RUNNER} ${PROBE}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 300)
  message("${out}${err}")
  set(${out_var} "${out}" PARENT_SCOPE)
  set(${rc_var} "${rc}" PARENT_SCOPE)
endfunction()

function(expect text pattern what)
  string(REGEX MATCH "${pattern}" found "${text}")
  if(NOT found)
    message(FATAL_ERROR "${what}: expected output matching '${pattern}'")
  endif()
endfunction()

run_case_runner(out rc)
expect("${out}" "4 cases: 3 passed, 1 skipped, 0 failed" "every case but the skip passes")
expect("${out}" "SKIPPED: the probe's skip" "the skip says why")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "exit status ${rc} with no failed case, expected 0")
endif()

run_case_runner(out rc ${CMAKE_COMMAND} -E env TOFU_CASE_RUNNER_PROBE_FAIL=1)
expect("${out}" "4 cases: 2 passed, 1 skipped, 1 failed" "one case fails when asked")
expect("${out}" "failed: probe: fails when asked" "the failed case is named")
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "exit status ${rc} with a failed case, expected 1")
endif()
message("case runner: both scenarios as expected")
