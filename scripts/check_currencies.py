#!/usr/bin/env python3
"""An independent check of a render of a run of several currencies (issue 23), in the SPEC's
own CSV layout (clients, events, transactions with `currency`; ISO 8601 times with an offset).

Computes, with exact decimals and nothing of the tool, every client's money per currency
(SPEC §2.1: a client's money in two currencies is two balances, never added) and compares it
with what the render wrote:

* `P/snapshot.csv`: a row per listed client and currency, with opening, top-ups, charges,
  refunds, unattached change and closing balance (a client whose money the partner does not
  see: one row, empty money and currency);
* `P/services.csv` and `P/daily.csv`: spend per client, currency and service (and day);
* `P/clients/<id>.csv`: every detail row with its running balance in its own currency;
* `summary.json`: the accepted control totals and each partner's totals, per currency.

A checkpoint (`balance`, `balance_at`) is in `balance_currency`, else in the client's one
currency (or the run's one, or RUB). Balance at T = checkpoint + net(before T) − net(before the
checkpoint), counted in the account's own currency only.

    scripts/check_currencies.py FIRST_DAY LAST_DAY OUT FILE...

Exits 0 and prints what it compared when every figure agrees; else 1 and the differences.
"""
import csv
import datetime as dt
import json
import os
import sys
from collections import defaultdict
from decimal import Decimal

MSK = dt.timezone(dt.timedelta(hours=3))
INF = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


def instant(text):
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=MSK)
    return value


def read(paths):
    clients, events, txs = {}, [], {}
    for path in paths:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
        for r in rows:
            if "amount" in r:
                t = dict(r)
                t["at"] = instant(r["timestamp"])
                t["amount"] = Decimal(r["amount"])
                t["currency"] = r.get("currency") or "RUB"
                txs.setdefault(r["id"], t)
            elif "email" in r:
                clients[r["client_id"]] = r
            else:
                events.append((r["client_id"], instant(r["timestamp"]), r["type"]))
    return clients, events, list(txs.values())


def net(t):
    return -t["amount"] if t["type"] == "charge" else t["amount"]


def expected(first_day, last_day, paths):
    start = dt.datetime.fromisoformat(first_day).replace(tzinfo=MSK)
    end = dt.datetime.fromisoformat(last_day).replace(tzinfo=MSK) + dt.timedelta(days=1)
    clients, events, txs = read(paths)
    windows, state = defaultdict(list), {}
    for cid, at, kind in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == "confirmed":
            windows[cid].append([at, INF])
        elif kind == "removed" and windows[cid] and windows[cid][-1][1] == INF:
            windows[cid][-1][1] = at
        if at < end:
            state[cid] = "active" if kind in ("confirmed", "unblocked") else kind
    accounts = defaultdict(list)
    for t in txs:
        if t["client_id"] in clients:
            accounts[(t["client_id"], t["currency"])].append(t)
    for rows in accounts.values():
        rows.sort(key=lambda t: (t["at"], t["id"].encode()))
    run_currencies = {t["currency"] for t in txs}
    fallback = run_currencies.pop() if len(run_currencies) == 1 else "RUB"
    snapshot, services, daily, detail = {}, defaultdict(Decimal), defaultdict(Decimal), {}
    accepted = defaultdict(lambda: defaultdict(Decimal))
    partner_totals = defaultdict(lambda: defaultdict(Decimal))
    for cid, c in clients.items():
        visible = [(max(a, start), min(b, end)) for a, b in windows[cid] if max(a, start) < min(b, end)]
        listed = state.get(cid) in ("invited", "active", "blocked") or visible
        if not listed:
            continue
        currencies = sorted({cur for (k, cur) in accounts if k == cid})
        checkpoint = None
        if c.get("balance"):
            cur = c.get("balance_currency") or (currencies[0] if len(currencies) == 1 else fallback)
            checkpoint = (Decimal(c["balance"]), instant(c["balance_at"]), cur)
            if cur not in currencies:
                currencies = sorted(currencies + [cur])
        if not visible or not currencies:
            snapshot[(cid, "")] = None
            continue
        for cur in currencies:
            rows = accounts.get((cid, cur), [])
            base = Decimal(0)
            if checkpoint and checkpoint[2] == cur:
                base = checkpoint[0] - sum((net(t) for t in rows if t["at"] < checkpoint[1]), Decimal(0))

            def balance(at):
                return base + sum((net(t) for t in rows if t["at"] < at), Decimal(0))
            inside = [t for t in rows if any(a <= t["at"] < b for a, b in visible)]
            figures = {"opening": balance(visible[0][0]), "closing": balance(visible[-1][1])}
            for kind in ("topup", "charge", "refund"):
                figures[kind] = sum((t["amount"] for t in inside if t["type"] == kind), Decimal(0))
                accepted[cur][kind] += figures[kind]
            figures["unattached"] = sum((balance(b2) - balance(a1) for (a0, a1), (b2, b3) in zip(visible, visible[1:])), Decimal(0))
            snapshot[(cid, cur)] = figures
            for key, value in figures.items():
                partner_totals[(c.get("partner_id") or "default", cur)][key] += value
            shown = {t["id"] for t in inside}
            for t in inside:
                if t["type"] != "topup":
                    services[(cid, cur, t["service"], t["type"])] += t["amount"]
                    daily[(cid, cur, t["at"].astimezone(MSK).date().isoformat(), t["service"])] -= net(t)
            # Running balances in balance order, counting every row of the account.
            running = base
            for t in rows:
                running += net(t)
                if t["id"] in shown:
                    detail[t["id"]] = (running, cur)
    return snapshot, services, daily, detail, accepted, partner_totals, clients


def compare(first_day, last_day, out, paths):
    snapshot, services, daily, detail, accepted, partner_totals, clients = expected(first_day, last_day, paths)
    problems, compared = [], 0
    found_snapshot, found_services, found_daily = {}, defaultdict(Decimal), defaultdict(Decimal)
    for partner in sorted(os.listdir(out)):
        folder = os.path.join(out, partner)
        if not os.path.isdir(folder):
            continue
        with open(os.path.join(folder, "snapshot.csv"), encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                key = (r["client_id"], r["currency"])
                if r["opening_balance"] == "":
                    found_snapshot[key] = None
                    continue
                found_snapshot[key] = {"opening": Decimal(r["opening_balance"]), "closing": Decimal(r["closing_balance"]),
                                       "topup": Decimal(r["topups"]), "charge": Decimal(r["charges"]),
                                       "refund": Decimal(r["refunds"]), "unattached": Decimal(r["unattached_change"])}
        with open(os.path.join(folder, "services.csv"), encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                found_services[(r["client_id"], r["currency"], r["service"], "charge")] += Decimal(r["charged"])
                found_services[(r["client_id"], r["currency"], r["service"], "refund")] += Decimal(r["refunded"])
                if Decimal(r["net"]) != Decimal(r["charged"]) - Decimal(r["refunded"]):
                    problems.append(f"{partner}/services.csv: {r['client_id']} {r['service']}: net is not charged − refunded")
        with open(os.path.join(folder, "daily.csv"), encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                found_daily[(r["client_id"], r["currency"], r["date"], r["service"])] += Decimal(r["net"])
        clients_folder = os.path.join(folder, "clients")
        for name in sorted(os.listdir(clients_folder)):
            if not name.endswith(".csv"):
                continue
            with open(os.path.join(clients_folder, name), encoding="utf-8", newline="") as f:
                for r in csv.DictReader(f):
                    want = detail.get(r["id"])
                    got = (Decimal(r["balance_after"]), r["currency"])
                    compared += 1
                    if want != got:
                        problems.append(f"{partner}/clients/{name}: {r['id']}: balance after and currency {got}, expected {want}")
    for what, want, got in (("snapshot", snapshot, found_snapshot),
                            ("services", {k: v for k, v in services.items()}, {k: v for k, v in found_services.items() if v or k in services}),
                            ("daily", dict(daily), dict(found_daily))):
        for key in sorted(set(want) | set(got), key=str):
            compared += 1
            if want.get(key, "missing") != got.get(key, "missing"):
                problems.append(f"{what} {key}: the render has {got.get(key, 'nothing')}, expected {want.get(key, 'nothing')}")
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    several = "currencies" in summary
    totals = summary["control_totals"]["accepted"]
    for cur, kinds in accepted.items():
        got = totals[cur] if several else totals
        for kind, field in (("topup", "topups"), ("charge", "charges"), ("refund", "refunds")):
            compared += 1
            if Decimal(got[field]) != kinds[kind]:
                problems.append(f"summary.json accepted {field} {cur}: {got[field]}, expected {kinds[kind]}")
    for partner in summary["partners"]:
        for cur, figures in (partner["totals"].items() if several else [(None, partner["totals"])]):
            want = partner_totals[(partner["partner_id"], cur)]
            for field, key in (("opening_balance", "opening"), ("topups", "topup"), ("charges", "charge"),
                               ("refunds", "refund"), ("unattached_change", "unattached"), ("closing_balance", "closing")):
                compared += 1
                if Decimal(figures[field]) != want[key]:
                    problems.append(f"summary.json partner {partner['partner_id']} {cur} {field}: {figures[field]}, expected {want[key]}")
    return compared, problems


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    compared, problems = compare(argv[1], argv[2], argv[3], argv[4:])
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print(f"{compared} figures agree")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
