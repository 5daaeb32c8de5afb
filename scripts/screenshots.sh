#!/usr/bin/env bash
# Renders sample-data and takes screenshots of the pages partners receive, with headless Chromium,
# at 600 px (desktop mail) and 375 px (phone), light and dark, into docs/screenshots/.
#
#   scripts/screenshots.sh [OUT_DIR]
#
# Needs python3 and Chromium (Debian: apt-get install -y chromium). Builds the release binary
# unless BALANCE_REPORT names one. scripts/screenshot.py does the capturing (full page height,
# emulated phone viewport and prefers-color-scheme).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
bin=${BALANCE_REPORT:-}
if [ -z "$bin" ]; then
    swift build -c release --product balance-report >&2
    bin="$(swift build -c release --show-bin-path)/balance-report"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" render --period 2024-03 --quiet --out "$work/ru" sample-data/*.csv sample-data/*.xml
"$bin" render --period 2024-03 --quiet --lang en --out "$work/en" sample-data/*.csv sample-data/*.xml
# The change since February (issue 13) and a month of daily usage with a spend spike and a short runway.
"$bin" render --period 2024-03 --quiet --compare previous --out "$work/compare" sample-data/*.csv sample-data/*.xml
"$bin" render --period 2024-03 --quiet --out "$work/daily" sample-data/daily/*.csv
# Several currencies in one run (issue 23): a client with money in RUB and USD.
"$bin" render --period 2024-03 --quiet --out "$work/currencies" sample-data/currencies/*.csv
mkdir -p "$out"
python3 scripts/screenshot.py \
    "$work/ru/vega-it/index.html" 600 light "$out/index-600.png" \
    "$work/ru/vega-it/index.html" 375 light "$out/index-375.png" \
    "$work/ru/vega-it/index.html" 600 dark "$out/index-600-dark.png" \
    "$work/en/alfa-cloud/index.html" 600 light "$out/index-en-600.png" \
    "$work/ru/alfa-cloud/clients/cl-1001.html" 600 light "$out/client-600.png" \
    "$work/ru/alfa-cloud/clients/cl-1001.html" 375 dark "$out/client-375-dark.png" \
    "$work/ru/vega-it/clients/cl-1008.html" 600 light "$out/client-unattached-600.png" \
    "$work/ru/vega-it/clients/cl-1008.html" 375 light "$out/client-unattached-375.png" \
    "$work/ru/vega-it/snapshot.html" 600 light "$out/snapshot-600.png" \
    "$work/ru/vega-it/snapshot.html" 375 light "$out/snapshot-375.png" \
    "$work/compare/alfa-cloud/index.html" 600 light "$out/index-compare-600.png" \
    "$work/compare/alfa-cloud/clients/cl-1001.html" 600 light "$out/client-compare-600.png" \
    "$work/daily/orbita-partners/index.html" 600 light "$out/index-spike-600.png" \
    "$work/daily/orbita-partners/clients/c-orbit.html" 375 light "$out/client-spike-375.png" \
    "$work/currencies/orion/index.html" 600 light "$out/index-currencies-600.png" \
    "$work/currencies/orion/clients/mc-2.html" 600 light "$out/client-currencies-600.png" \
    "$work/currencies/orion/snapshot.html" 375 light "$out/snapshot-currencies-375.png"
