#!/usr/bin/env bash
# Scaling run: Benchmarks/run.sh (read, validate, render) and, when the duckdb package is installed,
# Benchmarks/peers.sh at 100k and 1M transactions (and 10M with BENCH_10M=1: minutes per run, about
# 800 MB of CSV and several GB of memory), all rows collected in one CSV, then Benchmarks/plot.py
# draws time and peak memory against rows into docs/performance-scaling.png.
#
#   Benchmarks/scaling.sh [RUNS]         (default 5)
#
# Environment: SIZES="100000 1000000" (overrides the list), BENCH_10M=1, PEERS=0 (skip DuckDB),
# RESULTS=FILE (default /tmp/balance-report-scaling.csv, started afresh), PLOT=PNG (default
# docs/performance-scaling.png), and OUT_BASE, SCRATCH_PATH, BINARY as for run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
sizes=(${SIZES:-100000 1000000})
if [ "${BENCH_10M:-}" = 1 ] && [[ " ${sizes[*]} " != *" 10000000 "* ]]; then
    sizes+=(10000000)
fi
export RESULTS=${RESULTS:-/tmp/balance-report-scaling.csv}
plot=${PLOT:-docs/performance-scaling.png}
rm -f "$RESULTS"

peers=${PEERS:-1}
if [ "$peers" = 1 ] && ! python3 -c 'import duckdb' 2>/dev/null; then
    echo "scaling.sh: duckdb is not installed (pip install duckdb): no peer line" >&2
    peers=0
fi
if [ -z "${BINARY:-}" ]; then
    # Build once, then time that binary at every size.
    scratch=${SCRATCH_PATH:-.build}
    swift build -c release --scratch-path "$scratch" --product balance-report >&2
    export BINARY=$scratch/release/balance-report
fi

for n in "${sizes[@]}"; do
    Benchmarks/run.sh "$n" 2000 "$runs"
    if [ "$peers" = 1 ]; then
        Benchmarks/peers.sh "$n" 2000 "$runs"
    fi
done
echo
echo "results: $RESULTS"
cat "$RESULTS"
python3 Benchmarks/plot.py "$RESULTS" --out "$plot"
