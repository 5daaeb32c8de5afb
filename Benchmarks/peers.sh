#!/usr/bin/env bash
# Peer benchmark: the aggregates of `balance-report render` (spend per client and service, daily
# spend per client, service and Moscow day, opening and closing balances) computed by DuckDB from the
# same generated export, timed like Benchmarks/run.sh times the product (whole process, median of
# RUNS, peak RSS), for a side-by-side with run.sh's `validate` and `render` lines.
#
#   pip install duckdb                                   # once (the Python package; add
#                                                        # --break-system-packages on a Debian python)
#   Benchmarks/peers.sh [TRANSACTIONS] [CLIENTS] [RUNS]  (defaults: 1000000 2000 5)
#
# Environment: OUT_BASE, BENCH_DATA and RESULTS as for run.sh (RESULTS appends a row with the
# command `duckdb`); DUCKDB_THREADS=N limits DuckDB's threads (default: every core);
# CHECK=1 also renders the same export with balance-report (BINARY=PATH, or built as run.sh does)
# and checks with peers/compare.py that both computed the same numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import duckdb' 2>/dev/null; then
    echo "peers.sh: the Python package duckdb is missing; install it with: pip install duckdb" >&2
    exit 1
fi
source Benchmarks/common.sh
bytes=$(cat "$data"/*.csv | wc -c)
threads=()
[ -z "${DUCKDB_THREADS:-}" ] || threads=(--threads "$DUCKDB_THREADS")
results=${RESULTS:-}
if [ -n "$results" ] && [ ! -s "$results" ]; then
    echo "rows,command,median_s,peak_rss_mb" > "$results"
fi

times=() mems=() inner=()
stats=$(mktemp)
for _ in $(seq "$runs"); do
    rm -rf "$out/duckdb"
    query=$(/usr/bin/time -o "$stats" -f "%e %M" \
        python3 Benchmarks/peers/duckdb_run.py "$data" "$out/duckdb" "${threads[@]}")
    read -r elapsed rss < "$stats"
    times+=("$elapsed"); mems+=("$rss"); inner+=("$query")
done
rm -f "$stats"
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m=$(median "${times[@]}")
q=$(median "${inner[@]}")
mem=$(printf '%s\n' "${mems[@]}" | sort -n | tail -n 1)
printf '%-10s %9s tx  median %6.2f s  (runs: %s)  peak RSS %5d MB  %7.1f MB/s  (SQL alone: median %.2f s)\n' \
    duckdb "$transactions" "$m" "${times[*]}" $((mem / 1024)) \
    "$(awk -v b="$bytes" -v t="$m" 'BEGIN { print (t > 0 ? b / 1048576 / t : 0) }')" "$q"
if [ -n "$results" ]; then
    printf '%s,%s,%s,%d\n' "$transactions" duckdb "$m" $((mem / 1024)) >> "$results"
fi

if [ "${CHECK:-}" = 1 ]; then
    binary=$(release_binary)
    "$binary" render --period 2024 --quiet --out "$out/reports" "$data"/*.csv
    python3 Benchmarks/peers/compare.py "$out/reports" "$out/duckdb"
fi
