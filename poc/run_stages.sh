#!/usr/bin/env bash
# Runs every Phase I stage binary, one after the other, and writes <report-dir>/SUMMARY.md: one
# table row per stage with its status (pass | skip | fail), key figures and host. Each stage also
# leaves <report-dir>/<binary>.json and .md, and its console output in <report-dir>/logs/.
#
# usage: poc/run_stages.sh [BUILD_DIR [REPORT_DIR]] [--build-dir DIR] [--report-dir DIR]
#                          [--stage-timeout S] [-- ARGS...]
#   BUILD_DIR / --build-dir  a configured and built tree (default: build/windows). When it holds
#                            wine-run.sh (the windows preset on Linux) every stage runs under Wine;
#                            on Windows (MSYS2 / Git Bash) the .exe files run directly.
#   REPORT_DIR / --report-dir  where reports go (default: reports/ at the repository root)
#   --stage-timeout          kill a stage after this many seconds (default 600); it then counts as
#                            fail. Every stage also has its own --timeout and reports fail itself.
#   -- ARGS...               passed to every stage: only flags all stages know (e.g. -- --timeout 300)
# Exit status: 0 when no stage failed (skips are fine: they are shown as skip, never as pass),
# 1 when any stage failed or could not run, 2 on a usage error.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
build="$repo/build/windows"
reports="$repo/reports"
stage_timeout=600
extra=()
positional=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build="${2:?--build-dir needs a value}"; shift 2 ;;
    --report-dir) reports="${2:?--report-dir needs a value}"; shift 2 ;;
    --stage-timeout) stage_timeout="${2:?--stage-timeout needs a value}"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run_stages.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      case $positional in
        0) build="$1" ;;
        1) reports="$1" ;;
        *) echo "run_stages.sh: too many arguments (see --help)" >&2; exit 2 ;;
      esac
      positional=$((positional + 1)); shift ;;
  esac
done
stages=(stage0_wakeup stage1_accept stage1_accept_iocp stage1u_listener stage1u_echo stage1u_stress
        stage2_echo stage3_stress)

if ! build_abs="$(cd "$build" 2>/dev/null && pwd)"; then
  echo "run_stages.sh: no build directory $build (build the windows preset first)" >&2
  exit 1
fi
build="$build_abs"
mkdir -p "$reports/logs" || exit 1
reports="$(cd "$reports" && pwd)"
run=()
if [ -x "$build/wine-run.sh" ]; then
  run=("$build/wine-run.sh")
else
  case "$(uname -s)" in
    MINGW*|MSYS*|CYGWIN*) ;;
    *) echo "run_stages.sh: $build has no wine-run.sh: give a build of the windows preset" >&2; exit 1 ;;
  esac
fi

# Top-level string fields of a stage report. The writer (poc/report) puts one field per line, at
# two spaces of indentation, so sed is enough; \" and \\ are the only escapes our texts contain.
field() {  # field FILE NAME [INDENT]
  local indent="${3:-  }"
  sed -n "s/^${indent}\"$2\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" "$1" | head -n 1 | sed 's/\\"/"/g; s/\\\\/\\/g'
}
number() { sed -n "s/^  \"$2\": \\([0-9.]*\\),\\{0,1\\}\$/\\1/p" "$1" | head -n 1; }
cell() { printf '%s' "$1" | sed 's/|/\\|/g'; }

rows=()
failed=0; passed=0; skipped=0
host=""
for s in "${stages[@]}"; do
  exe="$build/poc/$s.exe"
  [ -f "$exe" ] || exe="$build/poc/$s"
  json="$reports/$s.json"
  log="$reports/logs/$s.log"
  rm -f "$json" "$reports/$s.md"
  echo "== $s" >&2
  if [ ! -f "$exe" ]; then
    status="fail"; figures="binary not built: $exe"; stage_id="?"; stage_host=""; secs=""
    rc=127
  else
    t0=$(date +%s.%N)
    timeout --kill-after=10 "$stage_timeout" "${run[@]}" "$exe" --report-dir "$reports" "${extra[@]}" \
      >"$log" 2> >(tee -a "$log" >&2)
    rc=$?
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')
    case $rc in
      0) status="pass" ;;
      77) status="skip" ;;
      *) status="fail" ;;
    esac
    stage_id="?"; stage_host=""; figures=""
    if [ -f "$json" ]; then
      stage_id=$(field "$json" stage)
      stage_host=$(field "$json" description "    ")
      reported=$(field "$json" status)
      if [ "$status" = "pass" ]; then
        figures=$(field "$json" key_figures)
      else
        figures="$(field "$json" reason)"
        kf=$(field "$json" key_figures)
        [ -n "$kf" ] && figures="$figures — $kf"
      fi
      if [ "$reported" != "$status" ]; then
        figures="exit code $rc but the report says '$reported': $figures"
        status="fail"
      fi
    else
      case $rc in
        124|137) figures="killed after ${stage_timeout} s by run_stages.sh (no report written)" ;;
        *) figures="exit code $rc and no report written; see $log" ;;
      esac
      status="fail"
    fi
  fi
  [ -z "$host" ] && host="$stage_host"
  case $status in
    pass) passed=$((passed + 1)) ;;
    skip) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1)) ;;
  esac
  echo "== $s: $status (exit $rc)" >&2
  rows+=("| $(cell "$stage_id") | \`$s\` | **$status** | $(cell "$figures") | $(cell "$stage_host") | $secs |")
done

summary="$reports/SUMMARY.md"
{
  echo "# Phase I stages: summary"
  echo
  echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`poc/run_stages.sh\` from \`$build\`; host: ${host:-unknown}."
  echo
  echo "| stage | binary | status | key figures (pass) / reason (skip, fail) | host | wall time |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "pass: $passed, skip: $skipped, fail: $failed. A skip is not a pass: the host lacks what the stage"
  echo "needs (the reason says what). Each stage's evidence is in \`<binary>.md\` / \`<binary>.json\` next to"
  echo "this file; \`docs/stages.md\` explains every check and how real Windows and Wine differ."
} >"$summary"
cat "$summary"
[ "$failed" -eq 0 ]
