#!/usr/bin/env bash
# Installs what is missing, then configures, builds and runs every test of every preset:
# linux-debug, linux-asan (ASan+UBSan, with a bounded fuzz run), linux-tsan, and windows
# (mingw-w64 cross build, tests under Wine). Exits non-zero if any preset fails.
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

declare -A result
failed=0
for preset in "${presets[@]}"; do
  start=$SECONDS
  echo "=== $preset"
  if ! quiet configure cmake --preset "$preset"; then
    result[$preset]="FAILED (configure)"
  elif ! quiet build cmake --build --preset "$preset"; then
    result[$preset]="FAILED (build)"
  elif ! ctest --preset "$preset"; then
    result[$preset]="FAILED (tests)"
  else
    result[$preset]="passed"
  fi
  [ "${result[$preset]}" = passed ] || failed=1
  result[$preset]+=" ($((SECONDS - start)) s)"
done
echo
echo "=== summary"
for preset in "${presets[@]}"; do printf '%-14s %s\n' "$preset" "${result[$preset]}"; done
exit $failed
