#!/bin/sh
# The CTest fuzz run: runs the fuzzer (its arguments follow RUNS), then judges its final stats.
#   run_fuzz.sh RUNS FUZZER ARGS...
# - the fuzzer failed (a crash, a leak, a violated property): its exit status, a failure;
# - it stopped at its time cap before RUNS executions: exit 77 (Skipped) saying how far it got,
#   because the count, not the clock, is what the run promises (D-21);
# - RUNS executions or more: exit 0.
set -u
runs=$1
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$@" >"$log" 2>&1
rc=$?
cat "$log"
if [ "$rc" -ne 0 ]; then
  echo "fuzz: the fuzzer exited with $rc"
  exit "$rc"
fi
executed=$(sed -n 's/^stat::number_of_executed_units: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
if [ -z "$executed" ]; then
  echo "fuzz: no stat::number_of_executed_units line in the fuzzer's output (-print_final_stats=1 missing?)"
  exit 1
fi
if [ "$executed" -lt "$runs" ]; then
  echo "SKIPPED: the fuzzer reached its time cap after $executed of $runs executions (machine too loaded)"
  exit 77
fi
echo "fuzz: $executed executions (wanted $runs)"
