#!/usr/bin/env bash
# Builds the libFuzzer binary (swiftc -sanitize=fuzzer,address) from Fuzz/FuzzTargets.swift and
# the library's Support, Model and Ingest sources, then runs each target for SECONDS (default 60).
#
#   Fuzz/run.sh [SECONDS] [TARGET...]        # targets: csv xml timestamp amount (default: all)
#
# SwiftPM's own fuzzing support has had link problems, so this calls swiftc directly. Work files
# (the binary, the growing corpora, crash artifacts) go to .build-fuzz/ (ignored by git). A crash
# stops its target; copy the artifact to Tests/BalanceTestSupport/Fixtures/fuzz-regressions/ as
# TARGET-NAME, where the normal test suite replays it (FuzzRegressionTests).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(csv xml timestamp amount)

work=.build-fuzz
mkdir -p "$work/artifacts"
binary="$work/balance-report-fuzz"
# The stage targets (Support, Model, Ingest) compiled as one module: copies without their
# imports of each other.
mkdir -p "$work/src"
rm -f "$work"/src/*.swift
sources=(Fuzz/FuzzTargets.swift Fuzz/ProfileWithoutYAML.swift)
for file in Sources/BalanceSupport/*.swift Sources/BalanceModel/*.swift Sources/BalanceIngest/*.swift; do
    # The profile's YAML reader needs Yams; the parsers under test do not.
    [ "$(basename "$file")" = ImportProfileYAML.swift ] && continue
    copy="$work/src/$(basename "$(dirname "$file")")-$(basename "$file")"
    grep -v '^import Balance' "$file" > "$copy"
    sources+=("$copy")
done
echo "building $binary"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 \
    -module-name BalanceReportFuzz -package-name balance_report \
    -I Sources/CLibXML2 $(pkg-config --cflags libxml-2.0 | sed 's/-I/-Xcc -I/g') -I Sources/CZlib \
    "${sources[@]}" $(pkg-config --libs libxml-2.0) -lz -o "$binary"

status=0
for target in "${targets[@]}"; do
    corpus="$work/corpus/$target"
    mkdir -p "$corpus"
    echo "== $target: ${seconds}s"
    start=$(date +%s)
    if ! BALANCE_REPORT_FUZZ_TARGET="$target" "$binary" "$corpus" "Fuzz/seeds/$target" \
        -max_total_time="$seconds" -timeout=5 -rss_limit_mb=512 -max_len=65536 \
        -artifact_prefix="$work/artifacts/$target-" -print_final_stats=1 2>"$work/$target.log"; then
        status=1
        echo "   CRASH or failure: see $work/$target.log and $work/artifacts/"
    fi
    end=$(date +%s)
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov: " "$work/$target.log" | tail -3 | sed 's/^/   /'
    echo "   ran $((end - start))s"
done
rm -f /tmp/balance-report-fuzz-*
exit $status
