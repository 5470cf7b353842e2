#!/usr/bin/env bash
# Runs every Phase I stage binary with tofu_stages (poc/runner/tofu_stages.cpp, a Windows program
# built and installed next to the stages) and prints <report-dir>/SUMMARY.md. This script only
# finds the build and starts tofu_stages under Wine; on Windows run tofu_stages.exe directly.
#
# usage: poc/run_stages.sh [BUILD_DIR [REPORT_DIR]] [--build-dir DIR] [--report-dir DIR]
#                          [--stage-timeout S] [-- ARGS...]
#   BUILD_DIR / --build-dir    a configured and built tree of the windows preset (default:
#                              build/windows); its wine-run.sh runs tofu_stages under Wine
#   REPORT_DIR / --report-dir  where reports go (default: reports/ at the repository root)
#   --stage-timeout            kill a stage after this many seconds (default 600)
#   -- ARGS...                 passed to every stage: only flags all stages know (e.g. -- --timeout 300)
# Exit status: tofu_stages' own: 0 when no stage failed (skips are fine: they are shown as skip,
# never as pass), 1 when any stage failed or could not run, 2 on a usage error.
set -u
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
build="$repo/build/windows"
reports="$repo/reports"
runner_args=()
extra=()
positional=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build="${2:?--build-dir needs a value}"; shift 2 ;;
    --report-dir) reports="${2:?--report-dir needs a value}"; shift 2 ;;
    --stage-timeout) runner_args+=(--stage-timeout "${2:?--stage-timeout needs a value}"); shift 2 ;;
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
runner="$build/poc/tofu_stages.exe"
if [ ! -f "$runner" ]; then
  echo "run_stages.sh: $runner not found (build the windows preset first)" >&2
  exit 1
fi
mkdir -p "$reports" || exit 1
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
# Under Wine a Unix path names the same directory (drive Z: is /).
exec "${run[@]}" "$runner" --report-dir "$reports" "${runner_args[@]}" ${extra[@]+-- "${extra[@]}"}
