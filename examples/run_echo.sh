#!/bin/sh
# CTest driver for the examples: start echo_server on an ephemeral port, run echo_client against
# it (through the URL form of the address), check that both succeed.
#   run_echo.sh SERVER CLIENT BACKEND COUNT SIZE
set -eu
server=$1 client=$2 backend=$3 count=$4 size=$5
out=$(mktemp)
"$server" 'tcp|127.0.0.1|0' --count "$count" --backend "$backend" >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT

# The server prints "listening on tcp|127.0.0.1|PORT ..." once it is bound (wait up to 10 s).
addr=
for _ in $(seq 1 100); do
  addr=$(sed -n 's/^listening on \([^ ]*\).*/\1/p' "$out")
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$addr" ]; then echo "echo_server did not start:"; cat "$out"; exit 1; fi
port=${addr##*|}

"$client" "tcp://127.0.0.1:$port" --count "$count" --size "$size" --backend "$backend"
wait "$pid"  # with --count the server exits after the client said bye
trap - EXIT
cat "$out"
rm -f "$out"
