#!/usr/bin/env python3
"""An independent check of the invoice reconciliation (`P/invoices.csv`, issue 23) of a FOCUS render.

Recomputes every figure of every invoice from the export rows alone, with exact decimals and
nothing of the tool (stdlib csv and decimal), and compares it with each partner's invoices.csv:

* a row counts once by its Id (without an Id column: by its values and its occurrence among the
  identical rows of its file); BilledCost read exactly, rounded half to even to 12 digits;
* the partner is BillingAccountId, the invoice InvoiceId, the currency BillingCurrency;
* the row's time is ChargePeriodStart (UTC), except that a ChargeClass Correction whose charge
  period starts before its BillingPeriodStart is booked at that start and is a correction of the
  month it started in, in UTC (the time of the billing periods);
* the period is [FIRST_DAY 00:00, LAST_DAY + 1 00:00) in Moscow time (UTC+03:00); with no clients
  file every client is shown all the time, so a row is in the report exactly when it is in the period.

Then for each (partner, invoice, currency): invoice_total = sum of its rows; in_period, corrections
(with their months in corrections_of), outside_period and not_in_report (always 0 here) split it;
period_total = sum of the partner's rows in the period in that currency; other_rows = period_total
- in_period - corrections; difference = invoice_total - period_total. Every row of every
invoices.csv must match, and every invoice must have its row.

    Tests/scripts/check_invoices.py FIRST_DAY LAST_DAY OUT FILE...

Exits 0 and prints how many invoices agree; else prints each disagreement to stderr and exits 1.
"""
import csv
import datetime as dt
import decimal
import glob
import os
import sys
from collections import defaultdict
from decimal import Decimal

MSK = dt.timezone(dt.timedelta(hours=3))
PICO = Decimal("1e-12")
decimal.getcontext().prec = 200
MONEY = ["invoice_total", "in_period", "corrections", "outside_period", "not_in_report", "period_total", "other_rows", "difference"]


def value(text):
    return None if text in (None, "", "NULL", "\\N") else text


def utc(text):
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def safe_name(name):
    """The tool's folder name of a partner id (README: ids that are not plain names are encoded)."""
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


def expected(files, start, end):
    invoices = {}
    period_totals = defaultdict(Decimal)
    seen = set()
    for path in files:
        occurrences = defaultdict(int)
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for raw in csv.DictReader(handle):
                row = {k.strip().lower().replace("_", ""): v for k, v in raw.items()}
                get = lambda *names: next((value(row[n]) for n in names if n in row), None)
                amount = Decimal(get("billedcost")).quantize(PICO, rounding=decimal.ROUND_HALF_EVEN)
                when = utc(get("chargeperiodstart"))
                partner = get("billingaccountid") or "default"
                currency = get("billingcurrency") or "RUB"
                if "id" in row:
                    key = row["id"]
                else:
                    facts = (when, amount, partner, get("subaccountid"), get("chargecategory", "chargetype"), get("servicename"),
                             currency, get("chargedescription"), get("subaccountname"))
                    occurrences[facts] += 1
                    key = (facts, occurrences[facts])
                if key in seen:
                    continue
                seen.add(key)
                billing_start = get("billingperiodstart")
                billing_end = get("billingperiodend")
                corrected = None
                if (get("chargeclass") or "").lower() == "correction" and billing_start and when < utc(billing_start):
                    corrected = when.strftime("%Y-%m")   # the month in the export's own time (UTC)
                    when = utc(billing_start)
                inside = start <= when < end
                if inside:
                    period_totals[(partner, currency)] += amount
                invoice = get("invoiceid")
                if invoice is None:
                    continue
                line = invoices.setdefault((partner, invoice, currency), {
                    "rows": 0, "months": set(), "start": None, "end": None, **{name: Decimal(0) for name in MONEY}})
                line["rows"] += 1
                line["invoice_total"] += amount
                if billing_start and (line["start"] is None or utc(billing_start) < line["start"]):
                    line["start"] = utc(billing_start)
                if billing_end and (line["end"] is None or utc(billing_end) > line["end"]):
                    line["end"] = utc(billing_end)
                if inside and corrected:
                    line["corrections"] += amount
                    line["months"].add(corrected)
                elif inside:
                    line["in_period"] += amount
                else:
                    line["outside_period"] += amount
    for (partner, _, currency), line in invoices.items():
        line["period_total"] = period_totals[(partner, currency)]
        line["other_rows"] = line["period_total"] - line["in_period"] - line["corrections"]
        line["difference"] = line["invoice_total"] - line["period_total"]
    return invoices


def iso(when):
    return "" if when is None else when.astimezone(MSK).strftime("%Y-%m-%dT%H:%M:%S+03:00")


def main():
    first, last, out, *files = sys.argv[1:]
    start = dt.datetime.fromisoformat(first).replace(tzinfo=MSK)
    end = dt.datetime.fromisoformat(last).replace(tzinfo=MSK) + dt.timedelta(days=1)
    wanted = expected(files, start, end)
    folders = {safe_name(partner): partner for partner, _, _ in wanted}
    problems = []
    found = set()
    for path in sorted(glob.glob(os.path.join(out, "*", "invoices.csv"))):
        folder = os.path.basename(os.path.dirname(path))
        partner = folders.get(folder, "folder " + folder)
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                key = (partner, row["invoice_id"], row["currency"])
                found.add(key)
                line = wanted.get(key)
                if line is None:
                    problems.append(f"{key}: in {path} but on no row of the exports")
                    continue
                for name in MONEY:
                    if Decimal(row[name]) != line[name]:
                        problems.append(f"{key} {name}: exports {line[name]}, invoices.csv {row[name]}")
                if int(row["rows"]) != line["rows"]:
                    problems.append(f"{key} rows: exports {line['rows']}, invoices.csv {row['rows']}")
                if row["corrections_of"].split() != sorted(line["months"]):
                    problems.append(f"{key} corrections_of: exports {sorted(line['months'])}, invoices.csv {row['corrections_of']!r}")
                if row["billing_period_start"] != iso(line["start"]) or row["billing_period_end"] != iso(line["end"]):
                    problems.append(f"{key} billing period: exports {iso(line['start'])}–{iso(line['end'])}, "
                                    f"invoices.csv {row['billing_period_start']}–{row['billing_period_end']}")
                # The identities, stated once more on the file's own figures.
                figures = {name: Decimal(row[name]) for name in MONEY}
                if figures["invoice_total"] != figures["in_period"] + figures["corrections"] + figures["outside_period"] + figures["not_in_report"]:
                    problems.append(f"{key}: invoice_total is not the sum of its parts")
                if figures["period_total"] != figures["in_period"] + figures["corrections"] + figures["other_rows"]:
                    problems.append(f"{key}: period_total is not in_period + corrections + other_rows")
    for key in sorted(set(wanted) - found):
        problems.append(f"{key}: an invoice of the exports with no row in invoices.csv")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"{len(wanted)} invoices agree exactly")


if __name__ == "__main__":
    main()
