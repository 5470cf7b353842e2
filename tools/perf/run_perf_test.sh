#!/bin/sh
# CTest perf/<backend>/<transport> (tools/perf/CMakeLists.txt): lat-server + lat-client, then
# thr-server + thr-client, on loopback. Each server binds port 0 (or a fresh UDS path) and prints
# where; the client is pointed there. Passes when all four exit 0 and print their result line.
# Usage: run_perf_test.sh RUNNER TOFU_PERF BACKEND TRANSPORT WORK_DIR   (RUNNER: "" or wine-run.sh)
set -u
runner=$1 perf=$2 backend=$3 transport=$4 work=$5
rm -rf "$work" && mkdir -p "$work" || exit 1

case $transport in
  tcp) addr="tcp://127.0.0.1:0" ;;
  uds) addr="uds:///tmp/tofu-perf-$$-$backend.sock" ;;  # sun_path is short: not under the build tree
  *) echo "unknown transport $transport" >&2; exit 2 ;;
esac

run() {
  if [ -n "$runner" ]; then "$runner" "$perf" "$@"; else "$perf" "$@"; fi
}

status=0
# pair ROLE COUNT SIZE CLIENT_LINE_REGEX SERVER_LINE_REGEX
pair() {
  role=$1 count=$2 size=$3 client_re=$4 server_re=$5
  out="$work/$role"
  run "$role-server" "$addr" --backend "$backend" --timeout 60 >"$out-server.out" 2>"$out-server.err" &
  server=$!
  waited=0
  until grep -q "^tofu_perf: listening on " "$out-server.out" 2>/dev/null; do
    if ! kill -0 "$server" 2>/dev/null || [ $waited -ge 600 ]; then
      echo "$role-server did not start:" >&2
      cat "$out-server.out" "$out-server.err" >&2
      kill "$server" 2>/dev/null
      status=1
      return
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  bound=$(tr -d '\r' <"$out-server.out" | sed -n 's/^tofu_perf: listening on \([^ ]*\) .*/\1/p')
  run "$role-client" "$bound" --backend "$backend" --size "$size" --count "$count" --timeout 60 \
    >"$out-client.out" 2>"$out-client.err"
  client_rc=$?
  [ $client_rc -eq 0 ] || kill "$server" 2>/dev/null
  wait "$server"
  server_rc=$?
  for f in "$out"-*.out; do  # Windows programs end lines with CRLF
    tr -d '\r' <"$f" >"$f.txt" && mv "$f.txt" "$f"
  done
  echo "== $role on $bound (backend $backend)"
  cat "$out-server.out" "$out-client.out"
  cat "$out-server.err" "$out-client.err" >&2
  if [ $client_rc -ne 0 ] || [ $server_rc -ne 0 ]; then
    echo "$role: client exit $client_rc, server exit $server_rc" >&2
    status=1
  fi
  grep -Eq "$client_re" "$out-client.out" || { echo "$role-client: no result line" >&2; status=1; }
  grep -Eq "$server_re" "$out-server.out" || { echo "$role-server: no result line" >&2; status=1; }
}

num='[0-9]+(\.[0-9]+)?'
pair lat 1000 64 \
  "^lat-client: 1000 round trips of 64 B to .* \\($transport, backend $backend\\): p50 $num us, p99 $num us, mean $num us$" \
  "^lat-server: echoed 1100 round trips of 64 B "
pair thr 20000 1024 \
  "^thr-client: 20000 messages of 1024 B in $num s: $num msg/s, $num MB/s \\($transport, backend $backend\\)$" \
  "^thr-server: 20000 messages of 1024 B in $num s: $num msg/s, $num MB/s \\($transport, backend $backend\\)$"
exit $status
