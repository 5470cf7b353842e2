#!/usr/bin/env bash
# Stress run: repeats the thread-heavy suites of one preset N times while a bounded CPU load runs
# beside them, then prints every failure with its output, the counts and the wall time.
#
#   scripts/stress.sh PRESET [N]        e.g. scripts/stress.sh windows 100, scripts/stress.sh linux-tsan 100
#
# - configures and builds the preset when needed (nice 10), then runs
#   ctest --preset PRESET -L '<labels>' --repeat until-fail:N: every test runs up to N times and
#   stops at its first failure, so one flaky test cannot hide behind its later passes;
# - the load: STRESS_HOGS (default 2) busy processes at this script's niceness, started before the
#   tests and killed on any exit (end, error, Ctrl-C, TERM); each also stops by itself within a
#   second if this script dies without cleaning up (kill -9);
# - a hang is a CTest "Timeout"; the test's watchdog (D-46) has printed its test case, section and
#   thread stacks into the output shown below;
# - STRESS_LABELS (default 'parity|regression|fault|core|hostile') and STRESS_JOBS (default: the
#   preset's) change what runs and how many tests run at once; STRESS_EXCLUDE (a ctest -E regex,
#   default: the hostile 60 s mixed run, which alone would take N minutes; empty = nothing) leaves
#   tests out; extra arguments after N go to ctest as is (e.g. -R 'send and receive').
# Exit status: 0 when every test passed all N times, 1 otherwise, 2 on a usage or build error.
set -uo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}
[ $# -ge 1 ] || usage
preset=$1
repeat=${2:-100}
shift $(($# >= 2 ? 2 : 1))
[[ $repeat =~ ^[1-9][0-9]*$ ]] || usage
labels=${STRESS_LABELS:-parity|regression|fault|core|hostile}
exclude=${STRESS_EXCLUDE-beside 100 well-behaved}
hogs=${STRESS_HOGS:-2}
build="build/$preset"

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake --preset "$preset" >/dev/null || exit 2
fi
nice -n 10 cmake --build --preset "$preset" -j 2 >/dev/null || {
  echo "stress: the $preset build failed (cmake --build --preset $preset)" >&2
  exit 2
}

# The load: each hog is a shell loop that checks every ~0.2 s that this script still lives.
# ctest runs in its own session (setsid), so that an interrupt can end it with every test it runs.
hog_pids=()
ctest_pid=
stop_all() {
  local pid
  [ -n "$ctest_pid" ] && kill -TERM -- "-$ctest_pid" 2>/dev/null
  for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${hog_pids[@]}"; do wait "$pid" 2>/dev/null; done
  hog_pids=()
}
trap stop_all EXIT
trap 'echo "stress: interrupted" >&2; exit 130' INT TERM HUP
parent=$$
for ((i = 0; i < hogs; i++)); do
  (
    while kill -0 "$parent" 2>/dev/null; do
      for ((j = 0; j < 20000; j++)); do :; done
    done
  ) &
  hog_pids+=($!)
done

log="$build/stress-$(date +%Y%m%d-%H%M%S).log"
jobs=()
[ -n "${STRESS_JOBS:-}" ] && jobs=(-j "$STRESS_JOBS")
[ -n "$exclude" ] && jobs+=(-E "$exclude")
echo "stress: $preset, labels '$labels'${exclude:+, except '$exclude'}, each test up to $repeat times (until it fails), $hogs CPU hogs beside; log: $log"
start=$SECONDS
setsid ctest --preset "$preset" -L "$labels" --repeat "until-fail:$repeat" --output-on-failure "${jobs[@]}" "$@" \
  >"$log" 2>&1 </dev/null &
ctest_pid=$!
wait "$ctest_pid"
ctest_status=$?
ctest_pid=
wall=$((SECONDS - start))
stop_all

# Counts. Every run of a test prints one result line ("Test #k: name .... Passed"), so result
# lines count the runs; the tests and their final outcomes come from CTest's summary.
runs=$(grep -cE '^ *([0-9]+/[0-9]+ )?Test +#[0-9]+: ' "$log")
tests=$(sed -nE 's/.* tests failed out of ([0-9]+)$/\1/p' "$log" | tail -n 1)
failed=$(sed -n '/^The following tests FAILED:/,$p' "$log" | grep -cE '^[[:space:]]+[0-9]+ - .*\([^)]*\)$')
timeouts=$(sed -n '/^The following tests FAILED:/,$p' "$log" | grep -cE '^[[:space:]]+[0-9]+ - .*\(Timeout\)$')
skipped=$(sed -n '/^The following tests did not run:/,/^The following tests FAILED:/p' "$log" | grep -cE '\(Skipped\)$')
if [ -z "$tests" ]; then
  echo "stress: ctest printed no summary (status $ctest_status); the end of its log:" >&2
  tail -n 40 "$log" >&2
  exit 2
fi

if ((failed > 0)); then
  echo
  echo "=== failures, with their output"
  # The block of a failed result: its result line and the output CTest prints under it, up to
  # the next "Start"/result line or the summary.
  awk '
    /^ *([0-9]+\/[0-9]+ )?Test +#[0-9]+: / {
      show = ($0 !~ /(Passed|Skipped) +[0-9.]+ sec/)
      if (show) print "---"
    }
    /^ *Start +[0-9]+: / { show = 0 }
    /^[0-9]+% tests passed/ { show = 0 }
    show { print }
  ' "$log"
fi
echo
echo "=== summary ($preset)"
sed -n '/^[0-9]*% tests passed/,$p' "$log" | grep -vE '^Label Time Summary|sec\*proc|^$' | head -n 40
echo "tests: $tests, runs: $runs, failed: $failed (of which timeouts/hangs: $timeouts), skipped: $skipped"
echo "wall time: $((wall / 60)) min $((wall % 60)) s, load: $hogs CPU hogs, log: $log"
if ((ctest_status != 0 || failed > 0)); then
  exit 1
fi
exit 0
