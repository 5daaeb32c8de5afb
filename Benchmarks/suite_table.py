#!/usr/bin/env python3
"""Summarise a benchmark run (the Influx CSV that `swift package benchmark --format influx` writes)
as one table: per stage and size, the median wall time and its range, median CPU time, rows per
second, peak resident memory, its growth during the run, and mallocs per run.

    python3 Benchmarks/suite_table.py RESULTS.influx.csv [--markdown]

Benchmarks/suite.sh runs the suite and calls this. Benchmark names are STAGE-SIZE (`CSVParse-100k`).
"""
import csv
import sys

STAGES = ["CSVParse", "CSVIngest", "XMLParse", "XMLIngest", "TimestampParse", "AmountParse",
          "Ledger", "Report", "Aggregate", "Render", "EndToEnd", "TemplateRowsResolved", "TemplateRowsGeneric"]
WHAT = {
    "CSVParse": "CSVReader over transactions.csv, fields split",
    "CSVIngest": "Ingestor over the three CSV files (read + decode)",
    "XMLParse": "XMLRecordReader over export.xml",
    "XMLIngest": "Ingestor over export.xml (read + decode)",
    "TimestampParse": "TimestampParser.parse, mixed forms",
    "AmountParse": "AmountParser.parse",
    "Ledger": "Ledger.build",
    "Report": "ReportBuilder.build (all cores)",
    "Aggregate": "Ledger + report",
    "Render": "ReportRenderer into memory (all cores)",
    "EndToEnd": "ingest + aggregate + render into memory",
    "TemplateRowsResolved": "detail rows, names resolved to fields once per section",
    "TemplateRowsGeneric": "the same rows, every name looked up by string per cell",
}


def metric_key(name):
    n = name.lower()
    if "wall" in n:
        return "wall"
    if "cpu" in n:
        return "cpu"
    if "malloc" in n:
        return "mallocs"
    if "resident" in n:
        return "rss_delta" if ("Δ" in name or "delta" in n) else "rss"
    return None


def rows_of(label):
    mult = {"k": 1_000, "K": 1_000, "M": 1_000_000}.get(label[-1:], 1)
    return int(label[:-1] if mult > 1 else label) * mult


def seconds(ns):
    s = ns / 1e9
    if s >= 10:
        return f"{s:.1f} s"
    if s >= 1:
        return f"{s:.2f} s"
    return f"{s * 1000:.1f} ms" if s >= 0.01 else f"{s * 1000:.2f} ms"


def megabytes(b):
    return f"{b / 1048576:.0f} MB" if b >= 10 * 1048576 else f"{b / 1048576:.1f} MB"


def count(n):
    if n >= 1e6:
        return f"{n / 1e6:.2f} M"
    if n >= 1e3:
        return f"{n / 1e3:.1f} k"
    return f"{n:.0f}"


def rate(r):
    return f"{r / 1e6:.2f} M/s" if r >= 1e6 else f"{r / 1e3:.0f} k/s"


def load(path):
    data = {}  # (test) -> metric -> {percentile: value}, plus iterations
    with open(path, newline="", encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    for r in csv.DictReader(lines):
        key = metric_key(r["metric"])
        if key is None:
            continue
        entry = data.setdefault(r["test"], {"iterations": int(r["iterations"])})
        entry.setdefault(key, {})[float(r["percentile"])] = float(r["value"])
    return data


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    if len(args) != 1:
        sys.exit(__doc__)
    data = load(args[0])

    def order(test):
        stage, _, size = test.rpartition("-")
        return (STAGES.index(stage) if stage in STAGES else len(STAGES), stage, rows_of(size))

    header = ["stage", "rows", "median", "min … max", "CPU", "rows/s", "peak RSS", "RSS growth",
              "mallocs", "runs", "what"]
    table = []
    for test in sorted(data, key=order):
        stage, _, size = test.rpartition("-")
        m = data[test]
        wall = m.get("wall", {})
        if 50.0 not in wall:
            continue
        rows = rows_of(size)
        table.append([
            stage, size, seconds(wall[50.0]), f"{seconds(wall[0.0])} … {seconds(wall[100.0])}",
            seconds(m["cpu"][50.0]) if "cpu" in m else "",
            rate(rows / (wall[50.0] / 1e9)) if wall[50.0] > 0 else "",
            megabytes(m["rss"][100.0]) if "rss" in m else "",
            megabytes(m["rss_delta"][100.0]) if "rss_delta" in m else "",
            count(m["mallocs"][50.0]) if "mallocs" in m else "",
            str(m["iterations"]), WHAT.get(stage, ""),
        ])
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" for _ in header) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in table)) if table else len(h) for i, h in enumerate(header)]
        right = {1, 2, 3, 4, 5, 6, 7, 8, 9}
        def fmt(row):
            return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
        print(fmt(header))
        print("  ".join("-" * w for w in widths))
        for row in table:
            print(fmt(row))
    print("\nmedian, min … max: wall clock per run; CPU: total CPU time per run (coarse, 10 ms ticks); "
          "peak RSS: whole benchmark process, setup data included; RSS growth: during the measured runs; "
          "mallocs: per run.")


if __name__ == "__main__":
    main()
