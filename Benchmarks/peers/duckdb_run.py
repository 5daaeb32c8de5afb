#!/usr/bin/env python3
"""Run Benchmarks/peers/duckdb.sql over one generated export (what Benchmarks/peers.sh times).

    python3 Benchmarks/peers/duckdb_run.py DATA_DIR OUT_DIR [--threads N] [--sql FILE]

DATA_DIR holds clients.csv, events.csv and transactions*.csv (Benchmarks/generate.py); the result
files go to OUT_DIR (created). --sql names the script (default duckdb.sql beside this file;
duckdb_unordered.sql for `generate.py --unordered` data). Prints the seconds the SQL took, without Python's start-up
and the import of duckdb, on stdout. Needs `pip install duckdb`.
"""
import argparse
import os
import sys
import tempfile
import time

SQL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "duckdb.sql")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: every core)")
    ap.add_argument("--sql", default=SQL, help="the SQL script (default duckdb.sql beside this file)")
    a = ap.parse_args()
    try:
        import duckdb
    except ImportError:
        sys.exit("duckdb_run.py: the Python package duckdb is missing: pip install duckdb")

    data = os.path.abspath(a.data)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    # The macros, clients, events and attachment windows both scripts share come first.
    with open(os.path.join(os.path.dirname(SQL), "common.sql"), encoding="utf-8") as f:
        script = f.read()
    with open(a.sql, encoding="utf-8") as f:
        script += "\n" + f.read()
    # The SQL names its files relative to the working folder: one that holds the three inputs
    # (links to them) and out/ (a link to OUT_DIR).
    with tempfile.TemporaryDirectory(prefix="balance-report-duckdb.") as work:
        for name in sorted(os.listdir(data)):
            if name.endswith(".csv"):
                os.symlink(os.path.join(data, name), os.path.join(work, name))
        os.symlink(out, os.path.join(work, "out"))
        os.chdir(work)
        start = time.perf_counter()
        con = duckdb.connect()  # in memory
        if a.threads:
            con.execute(f"SET threads = {int(a.threads)}")
        con.execute(script)
        con.close()
        elapsed = time.perf_counter() - start
    print(f"{elapsed:.3f}")


if __name__ == "__main__":
    main()
