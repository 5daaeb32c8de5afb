# Shared by run.sh and peers.sh (sourced): their arguments, the output folder and the cached export.
#   TRANSACTIONS CLIENTS RUNS as arguments; BENCH_DATA and OUT_BASE from the environment.
transactions=${1:-1000000}
clients=${2:-2000}
runs=${3:-5}
data=${BENCH_DATA:-/tmp/balance-report-bench-$transactions-$clients}
# Reports go to OUT_BASE (default /tmp, on disk); OUT_BASE=/dev/shm measures without the disk.
out=$(mktemp -d "${OUT_BASE:-/tmp}/balance-report-bench-out.XXXXXX")
trap 'rm -rf "$out"' EXIT

if [ ! -f "$data/transactions.csv" ]; then
    # Generated beside and renamed into place (transactions.csv last): an interrupted run leaves
    # no half-written export that looks complete.
    partial="$data.partial-$$"
    python3 Benchmarks/generate.py --clients "$clients" --transactions "$transactions" --seed 42 --out "$partial" >&2
    mkdir -p "$data"
    mv "$partial/clients.csv" "$partial/events.csv" "$data/"
    mv "$partial/transactions.csv" "$data/"
    rmdir "$partial"
fi

# The binary to time: BINARY, or a release build (SCRATCH_PATH: its build folder, default .build).
release_binary() {
    if [ -n "${BINARY:-}" ]; then
        echo "$BINARY"
    else
        local scratch=${SCRATCH_PATH:-.build}
        swift build -c release --scratch-path "$scratch" --product balance-report >&2
        echo "$scratch/release/balance-report"
    fi
}
