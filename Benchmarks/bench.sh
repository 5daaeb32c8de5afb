#!/usr/bin/env bash
# The benchmark the targets of docs/performance.md are measured with: data shaped as finance gets it
# (`generate.py --unordered`: one month of transactions in no time order, two exports overlapping by
# a tenth of the rows, seven timestamp forms, two partners), `balance-report render` and `validate`
# against DuckDB's equivalent query (peers/duckdb_unordered.sql: the aggregates and a detail with a
# running balance) in the same run, alternating D R V D R V …; medians, ratios to DuckDB's median,
# peak memory and bytes per transaction.
#
#   Benchmarks/bench.sh [TRANSACTIONS] [CLIENTS] [RUNS]     (defaults: 1000000 2000 5)
#
# Environment (optional):
#   BINARY=PATH        time this balance-report binary instead of a fresh release build
#   BENCH_DATA=DIR     the export folder (default /tmp/balance-report-unordered-TX-CLIENTS; generated once)
#   OUT_BASE=DIR       where the reports go (default /dev/shm where it exists, else /tmp: creating
#                      thousands of files on a much-churned ext4 /tmp costs seconds of kernel time
#                      that say nothing about the tool)
#   PEER=0             leave DuckDB out (e.g. past what it fits in memory)
#   COMMANDS="render validate"   which of the product's commands to time; `render-xml` and
#                      `validate-xml` time the same records read from one XML export
#                      (export.xml, generated beside the CSV files on first use), DuckDB still on the CSV:
#                      COMMANDS="render render-xml" Benchmarks/bench.sh
# Needs: python3 with the duckdb package (pip install duckdb), /usr/bin/time (Debian package time).
# Time only on an idle machine: a build or a test suite running beside it makes every figure noise.
set -euo pipefail
cd "$(dirname "$0")/.."
transactions=${1:-1000000}
clients=${2:-2000}
runs=${3:-5}
data=${BENCH_DATA:-/tmp/balance-report-unordered-$transactions-$clients}
peer=${PEER:-1}
commands=${COMMANDS:-render validate}
default_out=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && default_out=/dev/shm
out=$(mktemp -d "${OUT_BASE:-$default_out}/balance-report-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT

if [ ! -f "$data/transactions-2.csv" ]; then
    partial="$data.partial-$$"
    python3 Benchmarks/generate.py --unordered --clients "$clients" --transactions "$transactions" \
        --seed 42 --out "$partial" >&2
    mkdir -p "$data"
    mv "$partial"/*.csv "$data/"
    rmdir "$partial"
fi
if [[ " $commands " == *-xml\ * ]] && [ ! -f "$data/export.xml" ]; then
    # The same records as one XML export (the CSV files come out byte for byte the same).
    partial="$data.partial-xml-$$"
    python3 Benchmarks/generate.py --unordered --format xml --clients "$clients" --transactions "$transactions" \
        --seed 42 --out "$partial" >&2
    mkdir -p "$data"
    for file in "$partial"/*.csv; do cmp -s "$file" "$data/$(basename "$file")" || mv "$file" "$data/"; done
    mv "$partial/export.xml" "$data/"
    rm -rf "$partial"
fi
if [ -n "${BINARY:-}" ]; then
    binary=$BINARY
else
    swift build -c release --product balance-report >&2
    binary=.build/release/balance-report
fi
if [ "$peer" = 1 ] && ! python3 -c 'import duckdb' 2>/dev/null; then
    echo "bench.sh: the Python package duckdb is missing: pip install duckdb (or PEER=0)" >&2
    exit 1
fi

declare -A times mems
stats=$(mktemp)
run() { # label, command...
    local label=$1; shift
    /usr/bin/time -o "$stats" -f "%e %M" "$@" >/dev/null 2>"$out/stderr" || {
        # validate and render exit 0 on this data; anything else is a broken benchmark.
        echo "bench.sh: $label failed:" >&2; cat "$out/stderr" >&2; exit 1; }
    read -r elapsed rss < "$stats"
    times[$label]+="$elapsed "
    mems[$label]+="$rss "
}
for _ in $(seq "$runs"); do
    if [ "$peer" = 1 ]; then
        rm -rf "$out/duckdb"
        run duckdb python3 Benchmarks/peers/duckdb_run.py "$data" "$out/duckdb" --sql Benchmarks/peers/duckdb_unordered.sql
    fi
    for command in $commands; do
        case $command in
            render) run render "$binary" render --period 2024-03 --quiet --out "$out/r" "$data"/*.csv ;;
            validate) run validate "$binary" validate --period 2024-03 --quiet "$data"/*.csv ;;
            render-xml) run render-xml "$binary" render --period 2024-03 --quiet --out "$out/rx" "$data/export.xml" ;;
            validate-xml) run validate-xml "$binary" validate --period 2024-03 --quiet "$data/export.xml" ;;
        esac
    done
done
rm -f "$stats"

median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
peak() { printf '%s\n' $1 | sort -n | tail -n 1; }
base=""
[ "$peer" = 1 ] && base=$(median "${times[duckdb]}")
printf '%s transactions (%s rows in the exports), %s clients, %s runs each, alternating\n' \
    "$transactions" "$(($(cat "$data"/transactions-*.csv | wc -l) - 2))" "$clients" "$runs"
for label in ${peer:+$([ "$peer" = 1 ] && echo duckdb)} $commands; do
    m=$(median "${times[$label]}")
    kb=$(peak "${mems[$label]}")
    ratio=""
    [ -n "$base" ] && ratio=$(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2f x DuckDB", a / b }')
    printf '%-12s median %7.2f s  %-15s peak %6d MB  %5.0f bytes/transaction  (runs: %s)\n' \
        "$label" "$m" "$ratio" $((kb / 1024)) "$(awk -v k="$kb" -v n="$transactions" 'BEGIN { print k * 1024 / n }')" \
        "${times[$label]% }"
done
