#!/usr/bin/env python3
"""Plot time and peak memory against rows from the CSV that run.sh / peers.sh append to (RESULTS=FILE).

    python3 Benchmarks/plot.py RESULTS.csv [--out docs/performance-scaling.png] [--title TEXT]

RESULTS.csv has the header `rows,command,median_s,peak_rss_mb`, one row per command and size
(`read`, `validate`, `render`, `duckdb`, ...). When a (rows, command) pair appears more than once,
the last row wins, so a file can be appended to across runs. Writes one PNG with two log-log
panels, median wall time and peak RSS against the number of transactions, one line per command.
Needs matplotlib (`pip install matplotlib`).
"""
import argparse
import csv
import os
import sys

LABELS = {
    "read": "cat of the inputs (floor)",
    "validate": "balance-report validate",
    "render": "balance-report render",
    "duckdb": "DuckDB (same aggregates)",
}
STYLE = {
    "read": dict(color="0.6", linestyle=":", marker="."),
    "validate": dict(color="tab:blue", marker="o"),
    "render": dict(color="tab:red", marker="s"),
    "duckdb": dict(color="tab:green", marker="^", linestyle="--"),
}


def load(path):
    series = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows = int(r["rows"])
            series.setdefault(r["command"], {})[rows] = (float(r["median_s"]), float(r["peak_rss_mb"]))
    return series


def rows_label(n):
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs",
                                                  "performance-scaling.png"))
    ap.add_argument("--title", default="balance-report: time and memory against rows "
                                        "(median of runs, 2 cores)")
    a = ap.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator
    except ImportError:
        sys.exit("plot.py: matplotlib is missing: pip install matplotlib")

    series = load(a.results)
    if not series:
        sys.exit(f"plot.py: no rows in {a.results}")
    order = [c for c in LABELS if c in series] + sorted(c for c in series if c not in LABELS)
    sizes = sorted({n for points in series.values() for n in points})
    if not sizes:
        sys.exit(f"plot.py: nothing to plot in {a.results}")

    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(11, 4.4), dpi=120)
    for command in order:
        # Log axes: a 0.00 s median (`read` of small inputs, below time's resolution) is left out.
        points = sorted((n, (t, m)) for n, (t, m) in series[command].items() if t > 0 and m > 0)
        if not points:
            continue
        xs = [n for n, _ in points]
        style = STYLE.get(command, dict(marker="x"))
        label = LABELS.get(command, command)
        ax_time.plot(xs, [t for _, (t, _) in points], label=label, **style)
        ax_mem.plot(xs, [m for _, (_, m) in points], label=label, **style)
        for x, (t, m) in points:
            ax_time.annotate(f"{t:.2f} s" if t < 10 else f"{t:.0f} s", (x, t), textcoords="offset points",
                             xytext=(4, 4), fontsize=7, color=style.get("color", "black"))
            ax_mem.annotate(f"{m:.0f} MB", (x, m), textcoords="offset points", xytext=(4, 4), fontsize=7,
                            color=style.get("color", "black"))

    for ax, ylabel, fmt in ((ax_time, "median wall time (s)", lambda v, _: f"{v:g}"),
                            (ax_mem, "peak RSS (MB)", lambda v, _: f"{v:g}")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("transactions")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(FixedLocator(sizes))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: rows_label(int(round(v)))))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(fmt))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.grid(True, which="both", alpha=0.3)
        if len(sizes) == 1:
            ax.set_xlim(sizes[0] / 2, sizes[0] * 2)
    ax_time.legend(fontsize=8, loc="best")
    fig.suptitle(a.title, fontsize=10)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    fig.savefig(a.out)
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
