# Plots of a tofu_bench run (gnuplot-nox is enough: PNGs through the pngcairo or png terminal).
#   tofu_bench --csv results.csv --cdf cdf.dat > table.md
#   gnuplot -e "csv='results.csv'; cdf='cdf.dat'; out='plots'" bench/plot.gp
# Writes <out>/latency-cdf.png (64 B round trips: every implementation, tcp and uds) and
# <out>/throughput-tcp.png, <out>/throughput-uds.png (one-way MB/s and msgs/s by message size,
# tofu with the epoll backend vs the floor vs libzmq).
if (!exists("csv")) csv = "results.csv"
if (!exists("cdf")) cdf = "cdf.dat"
if (!exists("out")) out = "."
system("mkdir -p " . out)

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 1000,640 noenhanced font ",10"
} else {
  set terminal png size 1000,640 noenhanced
}

# ---- latency CDF (data blocks from --cdf: "label" "fraction", then value fraction rows) ----
set output out . "/latency-cdf.png"
set title "Request/response round trip, 64 B payload: CDF (one client)"
set xlabel "round-trip time (µs, log scale)"
set ylabel "fraction of round trips"
set logscale x
set yrange [0:1.001]
set key bottom right
set grid
plot for [i=0:*] cdf index i using 1:2 with lines lw 2 title columnheader(1)
unset logscale x
unset yrange

# ---- throughput by size, from the CSV ----
set datafile separator ","
set logscale x 2
set logscale y
set xlabel "payload size (bytes)"
set key top left
# columns: 1 scenario,2 size,3 transport,4 backend,5 metric,6 unit,7 better,8 ours,9 floor,10 zmq
# (rows are filtered with awk, so that each series is one connected line)
sel(net, metric) = sprintf("< awk -F, '$1==\"throughput\" && $3==\"%s\" && $4==\"epoll\" && $5==\"%s\"' %s", net, metric, csv)
do for [net in "tcp uds"] {
  set output out . "/throughput-" . net . ".png"
  set multiplot layout 1,2 title "One-way throughput over " . net . " (tofu epoll backend)"
  set title "MB/s"
  set ylabel "MB/s (payload)"
  plot sel(net, "MB/s") using 2:8 with linespoints lw 2 title "tofu", \
       "" using 2:9 with linespoints lw 2 title "floor (raw sockets)", \
       "" using 2:10 with linespoints lw 2 title "libzmq PUSH/PULL"
  set title "messages/s"
  set ylabel "messages/s"
  plot sel(net, "msgs/s") using 2:8 with linespoints lw 2 title "tofu", \
       "" using 2:9 with linespoints lw 2 title "floor (raw sockets)", \
       "" using 2:10 with linespoints lw 2 title "libzmq PUSH/PULL"
  unset multiplot
}
