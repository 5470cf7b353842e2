#!/usr/bin/env bash
# Linux <-> Windows interop: 10k messages each way between a native engine and one under Wine.
# usage: run_interop.sh LINUX_PEER WINDOWS_PEER_EXE WINE_RUN [COUNT]
set -u
linux=$1 windows=$2 wine_run=$3 count=${4:-10000}
if [ ! -x "$linux" ]; then
  echo "SKIPPED: the Linux peer $linux is not built (build the linux-debug preset first)"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"; kill $(jobs -p) 2>/dev/null' EXIT
wait_port() {
  for _ in $(seq 300); do [ -s "$1" ] && { tr -d "\r\n" <"$1"; return 0; }; sleep 0.1; done
  return 1
}
status=0
# 1. Windows serves, Linux drives.
"$wine_run" "$windows" serve "Z:$dir/w.port" &  # Wine maps Z: to /
server=$!
if port=$(wait_port "$dir/w.port"); then
  "$linux" drive "tcp|127.0.0.1|$port" "$count" || status=1
else
  echo "Windows server did not start"; status=1
fi
wait "$server" || status=1
# 2. Linux serves, Windows drives.
"$linux" serve "$dir/l.port" &
server=$!
if port=$(wait_port "$dir/l.port"); then
  "$wine_run" "$windows" drive "tcp|127.0.0.1|$port" "$count" || status=1
else
  echo "Linux server did not start"; status=1
fi
wait "$server" || status=1
exit $status
