#!/usr/bin/env bash
# Load-independent per-message costs of one tofu_probe scenario: instructions (callgrind) and
# syscalls by name (perf's syscall tracepoints, or strace -f -c where perf cannot count them), each
# the difference between a run of N1 and a run of N2 messages divided by N2 - N1, so that set-up
# and tear-down cancel out. Also prints tofu_probe's own per-message context switches (a plain run,
# which does depend on the load). perf is preferred: strace slows every syscall ~100x, which
# inflates anything that happens per unit of time (the engine's 1 ms watch, D-83).
#
#   bench/probe.sh PROBE_BINARY rtt|throughput|scale [tcp|uds] [ours|floor|zmq] [N1 N2] [size] [channels]
#   e.g. bench/probe.sh build/linux-release/bench/tofu_probe rtt uds ours 200 1200
# scale runs its clients in a child process: callgrind traces it and both totals are added.
set -euo pipefail
probe=$1
scenario=$2
transport=${3:-tcp}
impl=${4:-ours}
n1=${5:-200}
n2=${6:-1200}
size=${7:-64}
channels=${8:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=("$scenario" --impl "$impl" --transport "$transport" --size "$size")
if [ "$scenario" = scale ]; then args+=(--channels "$channels"); fi

instructions() {  # total instructions of every thread (and child process) of one run of $1 messages
  valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$tmp/cg.$1.%p" "$probe" "${args[@]}" \
    --count "$1" >/dev/null 2>&1
  cat "$tmp"/cg."$1".* | awk '/^totals:/ {s += $2} END {print s}'
}
if perf stat -e syscalls:sys_enter_futex true >/dev/null 2>&1; then
  counter="perf stat"
  syscalls() {  # "name calls" lines of one run of $1 messages
    perf stat -x, -o "$tmp/st.$1" -e 'syscalls:sys_enter_*' "$probe" "${args[@]}" --count "$1" >/dev/null 2>&1
    awk -F, '$1 ~ /^[0-9]+$/ && $1 > 0 { sub("syscalls:sys_enter_", "", $3); print $3, $1 }' "$tmp/st.$1"
  }
else
  counter="strace -f -c"
  syscalls() {
    strace -f -c -o "$tmp/st.$1" "$probe" "${args[@]}" --count "$1" >/dev/null 2>&1
    awk 'NR > 2 && $NF != "total" && $1 !~ /^-/ { print $NF, ($4 ~ /^[0-9]+$/ ? $4 : $5) }' "$tmp/st.$1"
  }
fi

i1=$(instructions "$n1")
i2=$(instructions "$n2")
echo "$scenario $impl $transport ${size} B: $(( (i2 - i1) / (n2 - n1) )) instructions per message (callgrind, all threads)"
syscalls "$n1" > "$tmp/s1"
syscalls "$n2" > "$tmp/s2"
awk -v n="$((n2 - n1))" 'FNR == NR { a[$1] = $2; next } { d = ($2 - a[$1]) / n; if (d >= 0.01) { printf "  %-16s %6.2f\n", $1, d; t += d } }
  END { printf "  %-16s %6.2f syscalls per message (%s)\n", "total", t, c }' c="$counter" "$tmp/s1" "$tmp/s2"
"$probe" "${args[@]}" --count "$n2"
echo "callgrind profile of the larger run kept in bench-probe-last.callgrind"
cat "$tmp"/cg."$n2".* > bench-probe-last.callgrind
