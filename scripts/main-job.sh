#!/usr/bin/env bash
# The main job: installs what is missing, builds the Windows stage binaries (mingw-w64) and the
# Linux release build, runs every Phase I stage under Wine (reports/ + reports/SUMMARY.md), then
# runs the echo demo on Linux (TCP and UDS) and a Linux <-> Windows (Wine) exchange, and prints
# what each measured. Exits non-zero if a stage fails or the demo does not answer.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1

step() { printf '\n=== %s\n' "$*"; }
build() {
  local preset=$1 log
  log=$(mktemp)
  if cmake --preset "$preset" >"$log" 2>&1 && cmake --build --preset "$preset" >>"$log" 2>&1; then
    rm -f "$log"
  else
    tail -n 60 "$log"; rm -f "$log"; echo "build of $preset failed"; exit 1
  fi
}

step "build: windows (stage binaries, cross-compiled) and linux-release (library, examples)"
build windows
build linux-release

failed=0
step "Phase I stages under Wine ($(wine --version 2>/dev/null))"
# tofu_stages runs every stage binary next to it and writes reports/SUMMARY.md (docs/stages.md).
build/windows/wine-run.sh build/windows/poc/tofu_stages.exe --report-dir reports >/dev/null || failed=1

step "demo: echo over TCP and UDS on Linux (examples/echo_server + examples/echo_client)"
bin=build/linux-release/examples
port=$((20000 + RANDOM % 20000))
for addr in "tcp|127.0.0.1|$port" "uds|/tmp/tofu-demo-$$.sock"; do
  "$bin/echo_server" "$addr" --count 10000 & server=$!
  ok=0
  for _ in $(seq 50); do
    if "$bin/echo_client" "$addr" --count 10000 --size 64; then ok=1; break; fi
    sleep 0.1   # the server may still be starting
  done
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
  ((ok)) || { echo "demo on $addr failed"; failed=1; }
done

step "demo: a Linux client against a Windows (Wine) echo server over loopback TCP"
wport=$((20000 + RANDOM % 20000))
wlog=$(mktemp)
build/windows/wine-run.sh build/windows/examples/echo_server.exe "tcp|127.0.0.1|$wport" --count 1000 >"$wlog" 2>&1 & wserver=$!
# The client starts once the server says it listens (Wine's start-up takes a moment).
for _ in $(seq 200); do
  grep -q '^listening on' "$wlog" && break
  kill -0 "$wserver" 2>/dev/null || break
  sleep 0.1
done
ok=0
if grep -q '^listening on' "$wlog" && "$bin/echo_client" "tcp|127.0.0.1|$wport" --count 1000 --size 64; then ok=1; fi
# The server ends by itself after --count requests and the client's close; not after a failure.
for _ in $(seq 100); do
  ((ok)) && kill -0 "$wserver" 2>/dev/null || break
  sleep 0.1
done
kill "$wserver" 2>/dev/null; wait "$wserver" 2>/dev/null
cat "$wlog"
rm -f "$wlog"
((ok)) || { echo "Linux <-> Windows demo failed"; failed=1; }

step "summary"
cat reports/SUMMARY.md 2>/dev/null
exit $failed
