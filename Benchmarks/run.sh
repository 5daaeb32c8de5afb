#!/usr/bin/env bash
# End-to-end benchmark: generate a realistic export (cached), build a release binary,
# time `render` (and `validate`, the aggregates alone) several times, print medians and peak memory.
#
#   Benchmarks/run.sh [TRANSACTIONS] [CLIENTS] [RUNS]     (defaults: 1000000 2000 5)
#
# Environment (all optional; the printed lines are the same with or without them):
#   OUT_BASE=/dev/shm   write the reports to tmpfs instead of /tmp (disk)
#   BENCH_DATA=DIR      use (or generate into) DIR instead of /tmp/balance-report-bench-TX-CLIENTS
#   RESULTS=FILE        also append one CSV row per command to FILE: rows,command,median_s,peak_rss_mb
#                       (header written when FILE is new; Benchmarks/plot.py reads it)
#   SCRATCH_PATH=DIR    build folder (default .build), e.g. .build-bench beside another build
#   BINARY=PATH         time this balance-report binary instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
binary=$(release_binary)
results=${RESULTS:-}
if [ -n "$results" ] && [ ! -s "$results" ]; then
    echo "rows,command,median_s,peak_rss_mb" > "$results"
fi
bytes=$(cat "$data"/*.csv | wc -c)

measure() { # label, command...
    local label=$1; shift
    local times=() mems=() stats
    stats=$(mktemp)
    for _ in $(seq "$runs"); do
        /usr/bin/time -o "$stats" -f "%e %M" "$@" >/dev/null 2>&1
        read -r elapsed rss < "$stats"
        times+=("$elapsed"); mems+=("$rss")
    done
    rm -f "$stats"
    local median mem
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    mem=$(printf '%s\n' "${mems[@]}" | sort -n | tail -n 1)
    printf '%-10s %9s tx  median %6.2f s  (runs: %s)  peak RSS %5d MB  %7.1f MB/s\n' \
        "$label" "$transactions" "$median" "${times[*]}" $((mem / 1024)) \
        "$(awk -v b="$bytes" -v t="$median" 'BEGIN { print (t > 0 ? b / 1048576 / t : 0) }')"
    if [ -n "$results" ]; then
        printf '%s,%s,%s,%d\n' "$transactions" "$label" "$median" $((mem / 1024)) >> "$results"
    fi
}

# A plain read of the same bytes: the physical floor.
measure read cat "$data/clients.csv" "$data/events.csv" "$data/transactions.csv"
measure validate "$binary" validate --period 2024 --quiet "$data"/*.csv
measure render "$binary" render --period 2024 --quiet --out "$out/r" "$data"/*.csv
