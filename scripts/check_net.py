#!/usr/bin/env python3
"""An independent check of a render of FOCUS or Yandex Cloud partner exports.

Computes, with exact decimals and nothing of the tool, the net spend per client and service in
the period (Moscow time, UTC+03:00) straight from the export rows, and compares it with every
`services.csv` under the output folder. FOCUS: net = sum of BilledCost (ChargePeriodStart in
UTC; a row repeated, by Id or, without an Id column, byte for byte, counted once). Yandex: net = sum of cost + credit over the rows of each day's latest export (exported_at),
the day being in UTC+3.

    scripts/check_net.py focus|yandex-cloud-partner FIRST_DAY LAST_DAY OUT FILE...

Exits 0 and prints the number of (client, service) pairs compared when every one agrees.
"""
import csv
import datetime as dt
import glob
import gzip
import os
import sys
from collections import defaultdict
from decimal import Decimal

MSK = dt.timezone(dt.timedelta(hours=3))


def rows(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def value(text):
    return None if text in ("", "NULL", "\\N") else text


def focus(files, start, end):
    # The same row twice (overlapping exports; without an Id column, the same content) is one charge.
    net = defaultdict(Decimal)
    seen = set()
    for path in files:
        for row in rows(path):
            key = row["Id"] if "Id" in row else tuple(row.items())
            if key in seen:
                continue
            seen.add(key)
            when = dt.datetime.fromisoformat(row["ChargePeriodStart"].replace("Z", "")).replace(tzinfo=dt.timezone.utc)
            if start <= when < end:
                net[(row["SubAccountId"], row["ServiceName"])] += Decimal(row["BilledCost"])
    return net


def yandex(files, start, end):
    all_rows = [row for path in files for row in rows(path)]
    latest = {}
    for row in all_rows:
        version = dt.datetime.fromisoformat(row["exported_at"].replace("Z", "+00:00"))
        if version.tzinfo is None:
            version = version.replace(tzinfo=MSK)
        row["_version"] = version
        latest[row["date"]] = max(latest.get(row["date"], version), version)
    net = defaultdict(Decimal)
    for row in all_rows:
        if row["_version"] != latest[row["date"]]:
            continue
        day = dt.datetime.fromisoformat(row["date"]).replace(tzinfo=MSK)
        if start <= day < end:
            credit = value(row.get("credit", "")) or "0"
            net[(row["billing_account_id"], row["service_name"])] += Decimal(row["cost"]) + Decimal(credit)
    return net


def main():
    profile, first, last, out, *files = sys.argv[1:]
    start = dt.datetime.fromisoformat(first).replace(tzinfo=MSK)
    end = dt.datetime.fromisoformat(last).replace(tzinfo=MSK) + dt.timedelta(days=1)
    expected = focus(files, start, end) if profile == "focus" else yandex(files, start, end)
    shown = defaultdict(Decimal)
    for path in glob.glob(os.path.join(out, "*", "services.csv")):
        for row in rows(path):
            shown[(row["client_id"], row["service"])] += Decimal(row["net"])
    problems = [f"{key}: export {expected.get(key, 0)} report {shown.get(key, 0)}"
                for key in sorted(set(expected) | set(shown)) if expected.get(key, Decimal(0)) != shown.get(key, Decimal(0))]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{len(expected)} client/service pairs agree exactly")


if __name__ == "__main__":
    main()
