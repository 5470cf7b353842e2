# bench-smoke: runs `tofu_bench --quick` and checks that it exits 0 (it exits 1 when any measurement
# failed), emits table rows for every scenario and lists no failed measurement (values are not
# checked: a smoke run on a loaded machine says nothing about speed).
# Usage: cmake -DBENCH=<tofu_bench> -DOUT_DIR=<dir> -P smoke_check.cmake
file(MAKE_DIRECTORY "${OUT_DIR}")
execute_process(
  COMMAND "${BENCH}" --quick --csv "${OUT_DIR}/quick.csv" --cdf "${OUT_DIR}/quick-cdf.dat"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 280)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "tofu_bench --quick failed (${rc}):\n${err}")
endif()
string(FIND "${out}" "Failed measurements" failed_at)
if(NOT failed_at EQUAL -1)
  message(FATAL_ERROR "measurements failed (see 'Failed measurements' above):\n${err}")
endif()
foreach(scenario "| rtt |" "| throughput |" "| fan-in 10 |" "| scale |" "| churn |")
  string(FIND "${out}" "${scenario}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "no row for '${scenario}' in the output")
  endif()
endforeach()
file(STRINGS "${OUT_DIR}/quick.csv" csv)
list(LENGTH csv lines)
if(lines LESS 2)
  message(FATAL_ERROR "the CSV has no rows")
endif()
message(STATUS "bench-smoke: ${lines} CSV lines")
