#!/usr/bin/env bash
# Installs what is missing, then configures, builds and runs every test of every preset:
# linux-debug, linux-asan (ASan+UBSan, with a bounded fuzz run), linux-tsan, and windows
# (mingw-w64 cross build, tests under Wine). Prints per preset how many tests passed, failed and
# were skipped (skip reasons grouped), then one line "N passed, N failed, N skipped" over all
# presets. Exits non-zero if any preset fails to configure or build, or any test fails.
# Usage: scripts/test-all.sh [preset...]
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1
presets=("$@")
((${#presets[@]})) || presets=(linux-debug linux-asan linux-tsan windows)

# quiet STEP CMD...: run CMD, show only its last lines unless it fails (then show the log's tail).
quiet() {
  local step=$1 log
  shift
  log=$(mktemp)
  if "$@" >"$log" 2>&1; then
    tail -n 1 "$log"
    rm -f "$log"
  else
    echo "--- $step failed; last 80 lines:"
    tail -n 80 "$log"
    rm -f "$log"
    return 1
  fi
}

# tally JUNIT: reads CTest's JUnit file and prints "passed failed skipped", then one line per
# failed test ("F <name>") and per skipped test ("S <reason>", the test's "SKIPPED: ..." line).
tally() {
  awk '
    function unxml(s) {
      gsub(/&quot;/, "\"", s); gsub(/&apos;/, "\047", s); gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s)
      gsub(/&amp;/, "\\&", s); return s
    }
    /<testcase / {
      name = $0; sub(/.*<testcase name="/, "", name); sub(/" classname=.*/, "", name)
      status = $0; sub(/.* status="/, "", status); sub(/".*/, "", status)
      skip_code = 0; reason = ""; in_case = 1; next
    }
    in_case && /<skipped message="SKIP_RETURN_CODE/ { skip_code = 1 }
    in_case && /<skipped message="Disabled"/ { skip_code = 1; reason = "disabled in CTest" }
    in_case && reason == "" && /^SKIPPED: / { reason = substr($0, 10) }
    in_case && /<\/testcase>/ {
      in_case = 0
      if (status == "run") { ++pass }
      else if ((status == "notrun" || status == "disabled") && skip_code) {
        ++skip; lines[++n] = "S " unxml(reason == "" ? "(no reason printed)" : reason)
      } else { ++fail; lines[++n] = "F " unxml(name) }
    }
    END { print pass + 0, fail + 0, skip + 0; for (i = 1; i <= n; ++i) print lines[i] }
  ' "$1"
}

declare -A result
total_pass=0 total_fail=0 total_skip=0 status=0
for preset in "${presets[@]}"; do
  start=$SECONDS
  echo "=== $preset"
  junit="$PWD/build/$preset/Testing/test-all-junit.xml"
  rm -f "$junit"
  if ! quiet configure cmake --preset "$preset"; then
    result[$preset]="configure FAILED"
  elif ! quiet build cmake --build --preset "$preset"; then
    result[$preset]="build FAILED"
  else
    ctest --preset "$preset" --output-junit "$junit"
    result[$preset]=""
  fi
  if [ -n "${result[$preset]}" ] || [ ! -s "$junit" ]; then
    [ -n "${result[$preset]}" ] || result[$preset]="ctest wrote no results"
    result[$preset]="${result[$preset]} (counted as 1 failed; $((SECONDS - start)) s)"
    ((total_fail += 1))
    status=1
    continue
  fi
  mapfile -t lines < <(tally "$junit")
  read -r pass fail skip <<<"${lines[0]}"
  ((total_pass += pass, total_fail += fail, total_skip += skip))
  ((fail == 0)) || status=1
  summary="$pass passed, $fail failed, $skip skipped ($((SECONDS - start)) s)"
  for line in "${lines[@]:1}"; do
    [ "${line:0:1}" = F ] && summary+=$'\n'"    failed: ${line:2}"
  done
  while read -r count reason; do
    summary+=$'\n'"    skipped ($count): $reason"
  done < <(printf '%s\n' "${lines[@]:1}" | sed -n 's/^S //p' | sort | uniq -c | sort -rn)
  result[$preset]=$summary
done
echo
echo "=== summary"
for preset in "${presets[@]}"; do printf '%-14s %s\n' "$preset" "${result[$preset]}"; done
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
exit $status
