#!/usr/bin/env python3
"""An independent check of a render of FOCUS or Yandex Cloud partner exports.

Computes, with exact decimals and nothing of the tool, the net spend per partner, client,
service and currency in the period (Moscow time, UTC+03:00) straight from the export rows, and
compares it with every `services.csv` under the output folder (each partner's folder by its id).
Amounts of two currencies are never added (SPEC §2.1): when the `services.csv` files have a
`currency` column (a run of several currencies), each (partner, client, service) is compared per
currency; without it (a run of one currency) the currency is not part of the key.

FOCUS (any version 0.5-1.3, PascalCase or snake_case column ids): net = sum of BilledCost, read
exactly (E-notation too) and rounded half to even to 12 fractional digits, in its BillingCurrency; ChargePeriodStart in
UTC (a ChargeClass Correction whose charge period starts before its BillingPeriodStart: at that
start); the partner is the row's BillingAccountId, the client its SubAccountId, and a row with a
BillingAccountId and a null SubAccountId is the partner's account-level charge (client
"(account-level)"). A row repeated by Id counts once; without an Id column a row is its values
(instant, amount, partner, client, category, service, currency, description, sub-account name) and
its occurrence among identical rows of its file: identical rows of one file are that many charges,
the same rows in two files (of any FOCUS version) one.
Yandex: net = sum of cost + credit over the rows of each day's latest export (exported_at),
the day being in UTC+3, in the row's `currency`; partner `default`.

    scripts/check_net.py focus|yandex-cloud-partner FIRST_DAY LAST_DAY OUT FILE...

Exits 0 and prints the number of (partner, client, service[, currency]) keys compared when every one agrees.
"""
import csv
import datetime as dt
import decimal
import glob
import gzip
import os
import sys
from collections import defaultdict
from decimal import Decimal

MSK = dt.timezone(dt.timedelta(hours=3))
PICO = Decimal("1e-12")
ACCOUNT_LEVEL = "(account-level)"
decimal.getcontext().prec = 200


def rows(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def value(text):
    return None if text in (None, "", "NULL", "\\N") else text


def bare(name):
    return name.strip().lower().replace("_", "")


def utc(text):
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def focus(files, start, end):
    net = defaultdict(Decimal)
    seen = set()
    for index, path in enumerate(files):
        occurrences = defaultdict(int)
        for raw in rows(path):
            row = {bare(k): v for k, v in raw.items()}
            get = lambda *names: next((value(row[n]) for n in names if n in row), None)
            amount = Decimal(get("billedcost")).quantize(PICO, rounding=decimal.ROUND_HALF_EVEN)
            when = utc(get("chargeperiodstart"))
            # A ChargeClass Correction of an earlier period is booked at the start of the billing
            # period of the invoice that carries it (issue 23).
            billing = get("billingperiodstart")
            if (get("chargeclass") or "").lower() == "correction" and billing and when < utc(billing):
                when = utc(billing)
            partner = get("billingaccountid") or "default"
            client = get("subaccountid") or (ACCOUNT_LEVEL if partner != "default" else None)
            service = get("servicename") or ""
            currency = get("billingcurrency") or ""
            if "id" in row:
                key = row["id"]
            else:
                facts = (when, amount, partner, client, get("chargecategory", "chargetype"), service,
                         get("billingcurrency"), get("chargedescription"), get("subaccountname"))
                occurrences[facts] += 1
                key = (facts, occurrences[facts])
            if key in seen:
                continue
            seen.add(key)
            if start <= when < end:
                net[(partner, client, service, currency)] += amount
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
            key = ("default", row["billing_account_id"], row["service_name"], value(row.get("currency")) or "")
            net[key] += Decimal(row["cost"]) + Decimal(credit)
    return net


def safe_name(name):
    """The tool's file name of an id (README: ids that are not plain names are encoded)."""
    data = name.encode()
    plain = (0 < len(data) <= 64 and data[:1] not in (b".", b"-", b"_")
             and all(chr(b).isascii() and (chr(b).isalnum() or chr(b) in "._-") for b in data)
             and name.split(".", 1)[0].upper() not in {"CON", "PRN", "AUX", "NUL"} | {f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10)})
    if plain:
        return name
    if len(data) * 2 + 1 <= 128:
        return "_" + data.hex()
    h = 0x6c62272e07bb014262b821756295c58d
    for b in data:
        h = ((h ^ b) * 0x0000000001000000000000000000013B) % (1 << 128)
    return "_h" + h.to_bytes(16, "big").hex()


def main():
    profile, first, last, out, *files = sys.argv[1:]
    start = dt.datetime.fromisoformat(first).replace(tzinfo=MSK)
    end = dt.datetime.fromisoformat(last).replace(tzinfo=MSK) + dt.timedelta(days=1)
    expected = focus(files, start, end) if profile == "focus" else yandex(files, start, end)
    shown = defaultdict(Decimal)
    folders = {safe_name(key[0]): key[0] for key in expected}
    several = False
    for path in glob.glob(os.path.join(out, "*", "services.csv")):
        folder = os.path.basename(os.path.dirname(path))
        partner = folders.get(folder, "folder " + folder)
        for row in rows(path):
            several = several or "currency" in row
            shown[(partner, row["client_id"], row["service"], row.get("currency") or "")] += Decimal(row["net"])
    if not several:
        # A run of one currency names none in its files: compare per (partner, client, service).
        one = defaultdict(Decimal)
        for (partner, client, service, _), amount in expected.items():
            one[(partner, client, service, "")] += amount
        expected = one
    problems = [f"{key}: export {expected.get(key, 0)} report {shown.get(key, 0)}"
                for key in sorted(set(expected) | set(shown)) if expected.get(key, Decimal(0)) != shown.get(key, Decimal(0))]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{len(expected)} partner/client/service{'/currency' if several else ''} keys agree exactly")


if __name__ == "__main__":
    main()
