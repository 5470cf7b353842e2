#!/usr/bin/env bash
# Runs tofu_bench N times (each a separate process, one after the other) and prints, per row, the
# median of each column and the median, lowest and highest of the per-run ratios. One run already
# interleaves its rounds, but whole runs differ (where the kernel places each process's threads):
# the 64 B one-way ratio against zmq moved 1.05-1.73x between idle runs of the same binaries, so a
# goal is only shown met when the median of several runs meets it.
#
#   bench/median.sh N BENCH_BINARY [tofu_bench arguments...]
#   e.g. bench/median.sh 5 build/linux-release/bench/tofu_bench --only throughput --sizes 64 --backends epoll
#
# Every run's CSV is kept as median-run-<i>.csv in the current directory; the table goes to stdout
# (progress to stderr). Needs only bash, awk and sort.
set -euo pipefail

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
[ $# -ge 2 ] || usage
runs=$1
bench=$2
shift 2
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || usage
[ -x "$bench" ] || { echo "median: $bench is not an executable" >&2; exit 2; }
for a in "$@"; do
  [ "$a" != "--csv" ] || { echo "median: --csv is set by this script" >&2; exit 2; }
done

for i in $(seq 1 "$runs"); do
  echo "median: run $i of $runs" >&2
  "$bench" "$@" --csv "median-run-$i.csv" >/dev/null
done

# One line per (row, column, value), sorted so that each group's values are in order; then the
# median of each group (the lower middle one for an even count) and, for ratios, the extremes.
# Columns of the CSV: scenario,size,transport,backend,metric,unit,better,ours,floor,zmq,
# ours_over_floor,ours_over_zmq.
for i in $(seq 1 "$runs"); do
  awk -F, -v run="$i" 'NR > 1 {
    key = $1 "|" $2 "|" $3 "|" $4 "|" $5 "|" $6
    if (!(key in order)) order[key] = NR
    for (c = 8; c <= 12; ++c) if ($c != "") printf "%06d\t%s\t%d\t%.9g\n", order[key], key, c, $c
  }' "median-run-$i.csv"
done | sort -t$'\t' -k1,1 -k3,3n -k4,4g | awk -F'\t' -v runs="$runs" '
  function flush() {
    if (group == "") return
    m = vals[int((n + 1) / 2)]
    med[gkey, gcol] = m
    lo[gkey, gcol] = vals[1]
    hi[gkey, gcol] = vals[n]
    if (!(gkey in seen)) { seen[gkey] = 1; keys[++nkeys] = gkey }
  }
  {
    g = $1 "\t" $3
    if (g != group) { flush(); group = g; gkey = $2; gcol = $3; n = 0 }
    vals[++n] = $4
  }
  END {
    flush()
    print "| scenario | size | transport | backend | metric | unit | ours | floor | zmq | ours/floor (median, range) | ours/zmq (median, range) |"
    print "|---|---|---|---|---|---|---:|---:|---:|---:|---:|"
    for (k = 1; k <= nkeys; ++k) {
      key = keys[k]
      split(key, f, "|")
      line = "| " f[1] " | " f[2] " | " f[3] " | " f[4] " | " f[5] " | " f[6] " |"
      for (c = 8; c <= 10; ++c) line = line (((key, c) in med) ? sprintf(" %.4g |", med[key, c]) : " n/a |")
      for (c = 11; c <= 12; ++c) {
        if ((key, c) in med) {
          line = line sprintf(" %.2f× (%.2f-%.2f) |", med[key, c], lo[key, c], hi[key, c])
        } else {
          line = line " n/a |"
        }
      }
      print line
    }
    printf "\n%d runs; each column is the median over the runs, each ratio the median of the per-run ratios.\n", runs
  }'
