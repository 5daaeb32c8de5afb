#!/usr/bin/env python3
"""Check that the DuckDB peer computes the same numbers as balance-report.

    python3 Benchmarks/peers/compare.py REPORTS_DIR DUCKDB_OUT_DIR

REPORTS_DIR is the --out folder of `balance-report render --period 2024` over an export, DUCKDB_OUT_DIR
what Benchmarks/peers/duckdb_run.py wrote for the same export. Compares every partner's services.csv,
daily.csv and the money columns of snapshot.csv with the peer's services.csv, daily.csv and
balances.csv, as exact decimals (rows with no visible interval, empty money columns in the
snapshot, are left out). Exits 1 on the first table that differs.
"""
import csv
import os
import sys
from decimal import Decimal


def dec(s):
    return Decimal(s) if s != "" else None


def product_rows(reports, name, key_fields, money_fields):
    rows = {}
    for partner in sorted(os.listdir(reports)):
        path = os.path.join(reports, partner, name)
        if not os.path.isfile(path):
            continue
        with open(path, newline="", encoding="utf-8-sig") as f:
            for r in csv.DictReader(f):
                money = tuple(dec(r[m]) for m in money_fields)
                if None in money:
                    continue
                rows[(partner,) + tuple(r[k] for k in key_fields)] = money
    return rows


def peer_rows(out, name, key_fields, money_fields):
    rows = {}
    with open(os.path.join(out, name), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows[(r["partner_id"],) + tuple(r[k] for k in key_fields)] = tuple(dec(r[m]) for m in money_fields)
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    reports, out = sys.argv[1:]
    tables = [
        ("services.csv", "services.csv", ["client_id", "service"], ["charged", "refunded", "net"]),
        ("daily.csv", "daily.csv", ["client_id", "date", "service"], ["net"]),
        ("snapshot.csv", "balances.csv", ["client_id"],
         ["opening_balance", "topups", "charges", "refunds", "closing_balance"]),
    ]
    failed = False
    for mine, theirs, keys, money in tables:
        a = product_rows(reports, mine, keys, money)
        b = peer_rows(out, theirs, keys, money)
        missing = sorted(set(a) - set(b))
        extra = sorted(set(b) - set(a))
        differ = sorted(k for k in set(a) & set(b) if a[k] != b[k])
        status = "same" if not (missing or extra or differ) else "DIFFERENT"
        print(f"{mine:13} vs {theirs:13} {len(a):8} rows  {status}"
              + (f"  (only product: {len(missing)}, only peer: {len(extra)}, values differ: {len(differ)})"
                 if status != "same" else ""))
        for k in (missing[:3] + extra[:3] + differ[:3]):
            print("   ", k, a.get(k), b.get(k))
        failed |= status != "same"
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
