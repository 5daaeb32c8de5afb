#!/usr/bin/env bash
# The Spark route's test: equality. On generated exports (scale/spark/make_exports.py: hundreds of
# partners, duplicates across files, unknown clients, rejected and conflicting records), the Spark
# job in local mode must write an output folder byte-identical to one `balance-report render` of the
# same files (`diff -r`, summary.json, rejects.csv and the marker included).
#
#   scale/spark/test_equality.sh                     # 100k transactions (CI)
#   SPARK_TEST_TRANSACTIONS=1000000 scale/spark/test_equality.sh   # 1M (docs/scale.md)
#
# Environment: BALANCE_REPORT (the binary; default balance-report on PATH, else .build/debug's),
# SPARK_TEST_TRANSACTIONS (default 100000), SPARK_TEST_MAIN_ONLY (set: only the main case),
# SPARK_TEST_PARTNERS (default 300), SPARK_MASTER
# (default local[2]), SPARK_TEST_KEEP (a folder to keep the runs in). Needs java and pyspark.
# Prints one line per check and a last line `spark equality: PASS` (exit 0) or `... FAIL` (exit 1).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${BALANCE_REPORT:-$(command -v balance-report || echo "$repo/.build/debug/balance-report")}"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
count="${SPARK_TEST_TRANSACTIONS:-100000}"
partners="${SPARK_TEST_PARTNERS:-300}"
master="${SPARK_MASTER:-local[2]}"
export SPARK_CONF_DIR="$here/conf"
work="${SPARK_TEST_KEEP:-$(mktemp -d)}"
mkdir -p "$work"
[ -n "${SPARK_TEST_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
failures=0
check() { # check NAME COMMAND...: runs it, prints ok/FAIL
    local name="$1"; shift
    if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}
# spark-submit: on PATH, else the one pip's pyspark carries.
submit="$(command -v spark-submit || echo "$(python3 -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')/bin/spark-submit")"
spark() { "$submit" --master "$master" "$here/balance_report_spark.py" --binary "$bin" "$@"; }
seconds() { local start=$SECONDS; "$@"; local rc=$?; echo "$((SECONDS - start))" > "$work/.seconds"; return $rc; }
same() { diff -r "$1" "$2" > "$work/diff.txt" 2>&1 || { head -20 "$work/diff.txt"; return 1; }; }
differs() { ! diff -r "$1" "$2" > /dev/null 2>&1; }

echo "spark equality: $count transactions, $partners partners, $master, $bin"
cd "$work" || exit 1
rm -rf in small out-* && mkdir in small
python3 "$here/make_exports.py" --transactions "$count" --partners "$partners" --out in > files.txt || exit 1
mapfile -t files < files.txt

# 1. The main case: --allow-rejects, every outcome there is.
seconds "$bin" render --quiet --jobs 1 --period 2024 --allow-rejects --out out-single "${files[@]}" > single.log 2>&1
single_rc=$?; single_s=$(cat .seconds)
seconds spark --quiet --period 2024 --allow-rejects --out out-spark "${files[@]}" > spark.log 2>&1
spark_rc=$?; spark_s=$(cat .seconds)
echo "     times: single render (--jobs 1) ${single_s} s, Spark $master ${spark_s} s"
check "render and the Spark route both succeed (exit $single_rc, $spark_rc)" test "$single_rc" -eq 0 -a "$spark_rc" -eq 0
[ "$spark_rc" -eq 0 ] || tail -20 spark.log
check "the output folders are byte-identical (diff -r, $(find out-single -type f | wc -l) files)" same out-single out-spark
check "summary.json is identical" cmp -s out-single/summary.json out-spark/summary.json
check "rejects.csv lists the rejected records, identically" cmp -s out-single/rejects.csv out-spark/rejects.csv
# The test can fail: one byte changed in a copy is seen.
cp -r out-spark out-tampered
printf 'x' >> "$(find out-tampered -name '*.csv' -path '*clients*' | sort | head -1)"
check "a one-byte difference is detected" differs out-single out-tampered

# 2. Layouts that name their clients in the rows (issue 22), always: FOCUS 1.0-1.3 exports as AWS,
#    Azure and GCP write them (sample-data/focus*: overlapping versions, float-printed and E-notation
#    amounts, a sub-account under two billing accounts, account-level charges, one gzipped), routed by
#    the partner each row names; and the Yandex Cloud partner report (a day's later export supersedes).
mkdir -p focus && gzip -c "$repo/sample-data/focus-1.1/aws-focus-1.1-2024-09.csv" > focus/aws-focus-1.1-2024-09.csv.gz
focus=("$repo"/sample-data/focus-1.0/*.csv focus/aws-focus-1.1-2024-09.csv.gz "$repo"/sample-data/focus-1.1/azure*.csv "$repo"/sample-data/focus-1.1/gcp*.csv
       "$repo"/sample-data/focus-1.2/*.csv "$repo"/sample-data/focus-1.3/*.csv "$repo"/sample-data/focus/*.csv)
"$bin" render --quiet --period 2024-09 --profile focus --out out-focus-single "${focus[@]}" > focus-single.log 2>&1; a=$?
spark --quiet --period 2024-09 --profile focus --out out-focus-spark "${focus[@]}" > focus-spark.log 2>&1; b=$?
check "FOCUS 1.0-1.3 (${#focus[@]} files): both succeed ($a, $b)" test "$a" -eq 0 -a "$b" -eq 0
[ "$b" -eq 0 ] || tail -20 focus-spark.log
check "... and the output folders are byte-identical ($(find out-focus-single -type f | wc -l) files, $(ls out-focus-single | wc -l) entries)" same out-focus-single out-focus-spark
check "... and summary.json states the roundings" \
    grep -q '"amounts_rounded"' out-focus-spark/summary.json
"$bin" render --quiet --period 2024-03 --profile yandex-cloud-partner --out out-yandex-single "$repo"/sample-data/yandex/*.csv > /dev/null 2>&1; a=$?
spark --quiet --period 2024-03 --profile yandex-cloud-partner --out out-yandex-spark "$repo"/sample-data/yandex/*.csv > yandex-spark.log 2>&1; b=$?
check "the Yandex partner report (superseded days): both succeed ($a, $b), byte-identical" same out-yandex-single out-yandex-spark
# Several currencies in one run (issue 23): every set is rendered in the run's currencies, so a set
# of one currency writes the columns of the run's; totals, tallies and roundings merge per currency.
"$bin" render --quiet --period 2024-03 --out out-cur-single "$repo"/sample-data/currencies/*.csv > /dev/null 2>&1; a=$?
spark --quiet --period 2024-03 --out out-cur-spark "$repo"/sample-data/currencies/*.csv > cur-spark.log 2>&1; b=$?
check "several currencies (RUB, USD, KZT, a client in two, an unknown client's EUR): both succeed ($a, $b), byte-identical" same out-cur-single out-cur-spark
[ "$b" -eq 0 ] || tail -5 cur-spark.log
"$bin" render --quiet --period 2024-09 --profile focus --out out-focus-cur-single "$repo"/sample-data/focus-currencies/*.csv > /dev/null 2>&1; a=$?
spark --quiet --period 2024-09 --profile focus --out out-focus-cur-spark "$repo"/sample-data/focus-currencies/*.csv > focus-cur-spark.log 2>&1; b=$?
check "FOCUS in two billing currencies: both succeed ($a, $b), byte-identical" same out-focus-cur-single out-focus-cur-spark
"$bin" render --quiet --period 2024-03 --profile yandex-cloud-partner --out out-yandex-cur-single "$repo"/sample-data/yandex-currencies/*.csv > /dev/null 2>&1; a=$?
spark --quiet --period 2024-03 --profile yandex-cloud-partner --out out-yandex-cur-spark "$repo"/sample-data/yandex-currencies/*.csv > yandex-cur-spark.log 2>&1; b=$?
check "the Yandex partner report in RUB, USD and KZT: both succeed ($a, $b), byte-identical" same out-yandex-cur-single out-yandex-cur-spark

# 3. The smaller cases, on a small export (SPARK_TEST_MAIN_ONLY=1 skips them: a second, larger run).
if [ -z "${SPARK_TEST_MAIN_ONLY:-}" ]; then
python3 "$here/make_exports.py" --transactions 3000 --partners 40 --seed 3 --out small > small.txt || exit 1
mapfile -t small < small.txt
"$bin" render --quiet --period 2024-03 --out out-norej-single "${small[@]}" > /dev/null 2>&1; a=$?
spark --quiet --period 2024-03 --out out-norej-spark "${small[@]}" > norej.log 2>&1; b=$?
check "rejected records without --allow-rejects: both exit 1 ($a, $b) and write nothing" \
    test "$a" -eq 1 -a "$b" -eq 1 -a ! -e out-norej-single -a ! -e out-norej-spark
# A clean export (Benchmarks/generate.py alone: 5 partners, no rejects), with --xlsx and en.
python3 "$repo/Benchmarks/generate.py" --clients 300 --transactions 5000 --seed 5 --out clean 2> /dev/null
"$bin" render --quiet --period 2024-Q2 --lang en --xlsx --out out-clean-single clean/clients.csv clean/events.csv clean/transactions.csv
spark --quiet --period 2024-Q2 --lang en --xlsx --out out-clean-spark clean/clients.csv clean/events.csv clean/transactions.csv > clean.log 2>&1
check "a clean export with --lang en --xlsx: identical" same out-clean-single out-clean-spark
# A deliberately different route (another runway) must not compare equal.
spark --quiet --period 2024-Q2 --lang en --xlsx --runway-days 3 --out out-clean-other clean/clients.csv clean/events.csv clean/transactions.csv > other.log 2>&1
check "a different option gives a different folder (the comparison can fail)" differs out-clean-single out-clean-other
# The Spark output is the tool's own folder: a later render replaces it, and Spark replaces a render.
check "render replaces a Spark output (its marker is accepted)" \
    "$bin" render --quiet --period 2024-Q2 --lang en --xlsx --out out-clean-other clean/clients.csv clean/events.csv clean/transactions.csv
check "... and is then identical to the single run" same out-clean-single out-clean-other
mkdir -p out-foreign && echo mine > out-foreign/notes.txt
spark --quiet --period 2024-Q2 --out out-foreign clean/clients.csv clean/events.csv clean/transactions.csv > foreign.log 2>&1; c=$?
check "a folder that is not the tool's is refused (exit $c), its file kept" test "$c" -eq 1 -a "$(cat out-foreign/notes.txt)" = mine
fi
check "no staging folder is left beside --out" test -z "$(find . -maxdepth 1 -name '.out-*spark-*')"

if [ "$failures" -eq 0 ]; then echo "spark equality: PASS"; exit 0; fi
echo "spark equality: FAIL ($failures check(s))"
exit 1
