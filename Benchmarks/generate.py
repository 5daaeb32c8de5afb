#!/usr/bin/env python3
"""Generate a large, realistic, valid billing export for balance-report.

    python3 Benchmarks/generate.py --clients 2000 --transactions 1000000 \\
        --seed 42 --out /tmp/bench [--format csv|csv-ru|xml] [--year 2024]

Writes, in the formats of SPEC.md section 2:

  --format csv     OUT/clients.csv, OUT/events.csv, OUT/transactions.csv
                   (`,` delimiter, LF, UTF-8 without BOM, `.` decimal mark)
  --format csv-ru  the same three files in the Excel-for-Russia dialect
                   (`;`, decimal comma, CRLF, UTF-8 with BOM)
  --format xml     OUT/export.xml holding <clients>, <events>, <transactions>
  --unordered      one month of transactions in no time order, in two CSV exports that
                   overlap by a tenth of the rows (the benchmark data of Benchmarks/bench.sh);
                   with --format xml also OUT/export.xml holding exactly the same records
                   (attributes; --xml-children N: every N-th as child elements)

The output depends only on the arguments (random.Random(seed)); it never
contains the wall-clock time. Every record is valid: unique ids, service
empty for top-ups and present otherwise, positive amounts with at most six
fractional digits, one currency (RUB), legal client state transitions,
every transaction's client has a clients record. Timing and sizes go to
stderr.
"""

import argparse
import calendar
import csv
import datetime as dt
import io
import os
import random
import sys
import time
from xml.sax.saxutils import escape as xml_escape

MSK = 3 * 3600
DAY = 86400

PARTNERS = ["alfa-cloud", "vega-it", "orion-soft", "sigma-hosting", "nord-integrator"]
PARTNER_WEIGHTS = [30, 25, 20, 15, 10]

SERVICES = [
    "Compute Cloud", "Object Storage", "Managed PostgreSQL", "Managed ClickHouse",
    "Managed Kafka", "Managed Redis", "Kubernetes", "Cloud CDN", "Cloud DNS",
    "Load Balancer", "Cloud Functions", "Monitoring",
]
# per-second billed services dominate the charge stream
SERVICE_WEIGHTS = [30, 14, 10, 4, 3, 4, 12, 8, 2, 5, 5, 3]

NAME_WORDS = [
    "Ромашка", "Вектор", "Север", "Техно-Сфера", "Альфа-Строй", "Гранит", "Меридиан",
    "Восход", "Полюс", "Байкал", "Орбита", "Сигма", "Протон", "Кедр", "Импульс",
    "Дельта", "Горизонт", "Спектр", "Квант", "Атлант", "Витязь", "Лидер", "Прогресс",
    "Искра", "Нева", "Волга", "Урал", "Сибирь", "Фактор", "Логос",
]
FORMS = ["ООО", "ООО", "ООО", "АО", "ПАО", "ЗАО"]
SURNAMES = ["Петров", "Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев",
            "Козлов", "Новиков", "Морозов", "Волков", "Алексеев", "Фёдоров", "Орлов"]
FIRST = ["Пётр", "Иван", "Сергей", "Алексей", "Дмитрий", "Андрей", "Михаил", "Ольга",
         "Мария", "Анна", "Елена", "Наталья"]
CITY_CODES = ["495", "499", "812", "343", "383", "846", "863", "843", "423", "916", "903", "985"]

DESCRIPTIONS = [
    "Оплата по счёту №{n}",
    "Оплата по счёту №{n}, НДС не облагается",
    "per-second billing",
    "VM s2.medium, 2 vCPU",
    "bucket \"logs\"",
    "Перерасчёт за {m}",
    "Возврат за простой",
    "+ бонус за {m}",
    "R&D <lab>",
    "node pool gpu-a100",
]
MONTHS_RU = ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август",
             "сентябрь", "октябрь", "ноябрь", "декабрь"]


def epoch_msk(y, mo, d, h=0, mi=0, s=0):
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) - MSK


class Formatter:
    """Fast timestamp and amount formatting through lookup tables."""

    def __init__(self, first_day, last_day, ru):
        self.first_day = first_day
        self.days_iso = []
        self.days_ru = []
        base = dt.date(1970, 1, 1)
        for d in range(first_day, last_day + 1):
            x = base + dt.timedelta(days=d)
            self.days_iso.append(x.isoformat())
            self.days_ru.append(f"{x.day:02d}.{x.month:02d}.{x.year:04d}")
        self.hms = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
        self.ru = ru

    # form: 0 ISO Z, 1 ISO +03:00, 2 ISO +0300, 3 ISO Z with milliseconds,
    # 4 naive "YYYY-MM-DD HH:MM:SS", 5 naive "YYYY-MM-DDTHH:MM:SS",
    # 6 Unix seconds, 7 Russian "DD.MM.YYYY HH:MM:SS"
    def ts(self, t, form, ms=0):
        if form == 6:
            return str(t)
        if form == 0 or form == 3:
            d, s = divmod(t, DAY)
            head = self.days_iso[d - self.first_day] + "T" + self.hms[s]
            return head + "Z" if form == 0 else f"{head}.{ms:03d}Z"
        d, s = divmod(t + MSK, DAY)
        i = d - self.first_day
        if form == 1:
            return self.days_iso[i] + "T" + self.hms[s] + "+03:00"
        if form == 2:
            return self.days_iso[i] + "T" + self.hms[s] + "+0300"
        if form == 4:
            return self.days_iso[i] + " " + self.hms[s]
        if form == 5:
            return self.days_iso[i] + "T" + self.hms[s]
        return self.days_ru[i] + " " + self.hms[s]

    def amount(self, micro):
        q, r = divmod(micro, 1000000)
        if r == 0:
            s = str(q)
        elif r % 10000 == 0:
            s = f"{q}.{r // 10000:02d}"
        else:
            s = f"{q}.{r:06d}".rstrip("0")
        return s.replace(".", ",") if self.ru else s


def csv_cell(s, delim):
    if any(c in s for c in (delim, '"', "\n", "\r")):
        return '"' + s.replace('"', '""') + '"'
    return s


def xml_attr(s):
    return xml_escape(s, {'"': "&quot;"})


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

def make_clients(rng, n, year, partners=None):
    y0 = epoch_msk(year, 1, 1)
    y1 = epoch_msk(year + 1, 1, 1)
    prev = epoch_msk(year - 1, 1, 1)
    width = max(5, len(str(n)))
    clients = []
    events = []  # (t, client_id, type)
    for i in range(1, n + 1):
        cid = f"cl-{i:0{width}d}"
        partner = rng.choices(partners or PARTNERS, (partners and PARTNER_WEIGHTS[:len(partners)]) or PARTNER_WEIGHTS)[0]
        r = rng.random()
        if r < 0.2:
            name = f"ИП {rng.choice(SURNAMES)} {rng.choice(FIRST)}"
        elif r < 0.23:
            name = f'{rng.choice(FORMS)} "{rng.choice(NAME_WORDS)}", филиал'
        else:
            name = f"{rng.choice(FORMS)} «{rng.choice(NAME_WORDS)}-{rng.randrange(1, 100)}»"
        email = f"billing{i}@client{i}.example"
        phone = "" if rng.random() < 0.15 else \
            f"+7 ({rng.choice(CITY_CODES)}) {rng.randrange(100, 1000)}-{rng.randrange(10, 100)}-{rng.randrange(10, 100)}"
        # lifecycle: 80 % attached before the year, 20 % during it
        if rng.random() < 0.8:
            invited = prev + rng.randrange(y0 - prev - 10 * DAY)
        else:
            invited = y0 + rng.randrange(int((y1 - y0) * 0.9))
        confirmed = invited + rng.randrange(600, 5 * DAY)
        evs = [(invited, "invited"), (confirmed, "confirmed")]
        t = confirmed
        ok = True

        def step(kind, lo, hi):
            nonlocal t, ok
            if not ok:
                return
            nt = max(t, y0) + rng.randrange(lo, hi)
            if nt >= y1:
                ok = False
                return
            t = nt
            evs.append((t, kind))

        if rng.random() < 0.08:
            step("blocked", DAY, 200 * DAY)
            if rng.random() < 0.6:
                step("unblocked", 3600, 30 * DAY)
        if rng.random() < 0.03:
            step("removed", DAY, 200 * DAY)
            if rng.random() < 0.4:
                step("invited", DAY, 60 * DAY)
                step("confirmed", 600, 3 * DAY)
        balance = balance_at = None
        if rng.random() < 0.1:
            balance_at = y0 + rng.randrange(y1 - y0)
            balance = rng.randrange(-50000, 5000000) * 10000  # micro-roubles, kopeck precision
        clients.append({"id": cid, "name": name, "email": email, "phone": phone,
                        "partner": partner, "start": max(y0, confirmed),
                        "balance": balance, "balance_at": balance_at})
        for et, ek in evs:
            events.append((et, cid, ek))
    events.sort()
    return clients, events


def gen_transactions(rng, clients, n, year, month=None):
    """Return the transactions sorted by time as parallel lists (within `month` of `year` when
    given: from the month's start, or the client's confirmation when later, to its end)."""
    y1 = epoch_msk(year + 1, 1, 1)
    m0 = None
    if month is not None:
        m0 = epoch_msk(year, month, 1)
        y1 = epoch_msk(year + (month == 12), month % 12 + 1, 1)
    nc = len(clients)
    # heavy-tailed activity: a few big clients, many small ones
    weights = [rng.paretovariate(1.2) for _ in range(nc)]
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    who = rng.choices(range(nc), cum_weights=cum, k=n)
    starts = [c["start"] for c in clients]
    if m0 is not None:
        # A client confirmed after the month still has money in it (outside its attachment).
        starts = [max(s, m0) if s < y1 else m0 for s in starts]
    rnd = rng.random
    times = [0] * n
    for i, c in enumerate(who):
        s = starts[c]
        times[i] = s + int(rnd() * (y1 - s))
    shift = max(n, 1).bit_length()
    order = sorted((t << shift) | i for i, t in enumerate(times))
    mask = (1 << shift) - 1
    idx = [k & mask for k in order]
    return [times[i] for i in idx], [who[i] for i in idx]


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------

class Sink:
    def __init__(self, path, bom, crlf):
        self.f = open(path, "wb", buffering=1 << 20)
        self.nl = "\r\n" if crlf else "\n"
        self.buf = []
        if bom:
            self.f.write(b"\xef\xbb\xbf")

    def line(self, s):
        self.buf.append(s)
        if len(self.buf) >= 20000:
            self.flush()

    def flush(self):
        if self.buf:
            self.f.write((self.nl.join(self.buf) + self.nl).encode("utf-8"))
            self.buf = []

    def close(self):
        self.flush()
        self.f.close()


def tx_rows(rng, fmt, times, who, clients, ts_forms, ts_weights):
    """Yield (id, ts, client_id, type, service, amount, currency, description)."""
    n = len(times)
    width = max(7, len(str(n)))
    types = rng.choices(("topup", "charge", "refund"), (10, 85, 5), k=n)
    services = rng.choices(SERVICES, SERVICE_WEIGHTS, k=n)
    forms = rng.choices(ts_forms, ts_weights, k=n)
    rnd = rng.random
    cids = [c["id"] for c in clients]
    for i in range(n):
        t = times[i]
        typ = types[i]
        form = forms[i]
        x = rnd()
        if typ == "charge":
            micro = int(x * x * x * 3e9) + 1          # mostly small, up to 3000 RUB
            if x > 0.5:
                micro = micro // 10000 * 10000 or 10000  # some priced in kopecks
            svc = services[i]
        elif typ == "topup":
            micro = (int(x * 500) + 1) * 100 * 1000000  # 100 … 50 000 RUB
            if x < 0.1:
                micro += int(rnd() * 100) * 10000      # and kopecks now and then
            svc = ""
        else:
            micro = int(x * x * 5e8) + 1
            svc = services[i]
        y = rnd()
        cur = "RUB" if y < 0.8 else ""
        if y < 0.15:
            k = int(y * 1000) % len(DESCRIPTIONS)
            desc = DESCRIPTIONS[k].format(n=int(y * 1e7) % 10000, m=MONTHS_RU[int(y * 1e5) % 12])
        else:
            desc = ""
        yield (f"t-{i + 1:0{width}d}", fmt.ts(t, form, int(x * 1000) % 1000), cids[who[i]],
               typ, svc, fmt.amount(micro), cur, desc)


def write_csv(out, rng, clients, events, times, who, fmt, ru, unordered=False, xml_children=None):
    d = ";" if ru else ","
    # Excel-ru exports favour Russian dates; plain exports the ISO forms
    if ru:
        ts_forms, ts_weights = (7, 0, 1, 3, 6), (60, 15, 10, 5, 10)
    else:
        ts_forms, ts_weights = (0, 1, 2, 3, 4, 5, 6), (30, 20, 5, 10, 12, 8, 15)

    s = Sink(os.path.join(out, "clients.csv"), ru, ru)
    s.line(d.join(("client_id", "name", "email", "phone", "partner_id", "balance", "balance_at")))
    for c in clients:
        bal = fmt.amount(c["balance"]) if c["balance"] is not None and c["balance"] >= 0 else (
            "-" + fmt.amount(-c["balance"]) if c["balance"] is not None else "")
        bat = fmt.ts(c["balance_at"], 1) if c["balance_at"] is not None else ""
        s.line(d.join((c["id"], csv_cell(c["name"], d), c["email"], c["phone"], c["partner"],
                       bal, bat)))
    s.close()

    s = Sink(os.path.join(out, "events.csv"), ru, ru)
    s.line(d.join(("client_id", "timestamp", "type")))
    for k, (t, cid, typ) in enumerate(events):
        s.line(d.join((cid, fmt.ts(t, ts_forms[k % len(ts_forms)]), typ)))
    s.close()

    header = d.join(("id", "timestamp", "client_id", "type", "service", "amount", "currency",
                     "description"))
    q = {}

    def lines():
        for row in tx_rows(rng, fmt, times, who, clients, ts_forms, ts_weights):
            desc = row[7]
            if desc:
                if desc not in q:
                    q[desc] = csv_cell(desc, d)
                row = row[:7] + (q[desc],)
            yield d.join(row)

    if not unordered:
        path = os.path.join(out, "transactions.csv")
        s = Sink(path, ru, ru)
        s.line(header)
        for line in lines():
            s.line(line)
        s.close()
        return [os.path.join(out, n) for n in ("clients.csv", "events.csv", "transactions.csv")]
    # As finance gets them: rows in no time order, in two exports that overlap by a tenth of the
    # rows (identical repeats, counted once as duplicates).
    if xml_children is not None:
        # The same rows kept as fields, for the XML export of the same data (the shuffle draws the
        # same numbers whatever the list holds, so the CSV files are the same bytes either way).
        records = list(tx_rows(rng, fmt, times, who, clients, ts_forms, ts_weights))
        rng.shuffle(records)
        rows = []
        for row in records:
            desc = row[7]
            if desc:
                if desc not in q:
                    q[desc] = csv_cell(desc, d)
                row = row[:7] + (q[desc],)
            rows.append(d.join(row))
    else:
        rows = list(lines())
        rng.shuffle(rows)
    n = len(rows)
    parts = [rows[:n * 55 // 100], rows[n * 45 // 100:]]
    names = []
    for k, part in enumerate(parts, 1):
        name = f"transactions-{k}.csv"
        s = Sink(os.path.join(out, name), ru, ru)
        s.line(header)
        for line in part:
            s.line(line)
        s.close()
        names.append(name)
    paths = [os.path.join(out, n) for n in ["clients.csv", "events.csv"] + names]
    if xml_children is not None:
        # One XML export of exactly these records: the clients, the events (in the CSV's timestamp
        # forms), and the rows of both transaction exports, the overlap twice, in file order.
        del rows, parts
        overlap = records[:n * 55 // 100] + records[n * 45 // 100:]
        events_ts = [fmt.ts(t, ts_forms[k % len(ts_forms)]) for k, (t, _, _) in enumerate(events)]
        paths.append(write_xml_records(os.path.join(out, "export.xml"), clients, events, events_ts, fmt,
                                       overlap, xml_children))
    return paths


def write_xml(out, rng, clients, events, times, who, fmt):
    ts_forms, ts_weights = (0, 1, 2, 3, 4, 6), (30, 20, 5, 10, 10, 25)
    events_ts = [fmt.ts(t, ts_forms[k % len(ts_forms)]) for k, (t, _, _) in enumerate(events)]
    return write_xml_records(os.path.join(out, "export.xml"), clients, events, events_ts, fmt,
                             tx_rows(rng, fmt, times, who, clients, ts_forms, ts_weights), 10)


def write_xml_records(path, clients, events, events_ts, fmt, records, child_every):
    """OUT/export.xml: every `child_every`-th transaction (0: none) with its fields as child elements."""
    s = Sink(path, False, False)
    s.line('<?xml version="1.0" encoding="UTF-8"?>')
    s.line("<export>")
    s.line("  <clients>")
    for c in clients:
        bal = ""
        if c["balance"] is not None:
            b = c["balance"]
            bal = (f' balance="{"-" if b < 0 else ""}{fmt.amount(abs(b))}"'
                   f' balance_at="{fmt.ts(c["balance_at"], 1)}"')
        s.line(f'    <client client_id="{c["id"]}" name="{xml_attr(c["name"])}" '
               f'email="{c["email"]}" phone="{c["phone"]}" partner_id="{c["partner"]}"{bal}/>')
    s.line("  </clients>")
    s.line("  <events>")
    for k, (t, cid, typ) in enumerate(events):
        s.line(f'    <event client_id="{cid}" timestamp="{events_ts[k]}" '
               f'type="{typ}"/>')
    s.line("  </events>")
    s.line("  <transactions>")
    esc = {}
    for k, (i, ts, cid, typ, svc, amt, cur, desc) in enumerate(records):
        if desc and desc not in esc:
            esc[desc] = xml_attr(desc)
        if child_every and k % child_every == child_every - 1:  # with child elements
            parts = [f"<id>{i}</id><timestamp>{ts}</timestamp><client_id>{cid}</client_id>"
                     f"<type>{typ}</type>"]
            if svc:
                parts.append(f"<service>{svc}</service>")
            parts.append(f"<amount>{amt}</amount>")
            if cur:
                parts.append(f"<currency>{cur}</currency>")
            if desc:
                parts.append(f"<description>{esc[desc]}</description>")
            s.line("    <transaction>" + "".join(parts) + "</transaction>")
        else:
            a = f'    <transaction id="{i}" timestamp="{ts}" client_id="{cid}" type="{typ}"'
            if svc:
                a += f' service="{svc}"'
            a += f' amount="{amt}"'
            if cur:
                a += f' currency="{cur}"'
            if desc:
                a += f' description="{esc[desc]}"'
            s.line(a + "/>")
    s.line("  </transactions>")
    s.line("</export>")
    s.close()
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Generate a large valid billing export for balance-report benchmarks.")
    ap.add_argument("--clients", type=int, default=2000, help="number of clients (default 2000)")
    ap.add_argument("--transactions", type=int, default=1000000,
                    help="number of transactions (default 1000000)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ap.add_argument("--out", required=True, help="output directory (created if missing)")
    ap.add_argument("--format", choices=("csv", "csv-ru", "xml"), default="csv",
                    help="csv (default), csv-ru (Excel-for-Russia dialect) or xml")
    ap.add_argument("--year", type=int, default=2024, help="year the transactions span (default 2024)")
    ap.add_argument("--unordered", action="store_true",
                    help="data shaped as finance gets it: the transactions of one month (--month, default 3) "
                         "in no time order, in two exports overlapping by a tenth of the rows, two partners; "
                         "with --format xml the same CSV files and OUT/export.xml holding exactly their records "
                         "(clients, events, and the rows of both transaction exports), for XML against a peer on the CSV")
    ap.add_argument("--xml-children", type=int, default=0,
                    help="with --unordered --format xml: every N-th transaction with its fields as child "
                         "elements (default 0: all as attributes)")
    ap.add_argument("--month", type=int, default=3, help="with --unordered: the month the transactions span (default 3)")
    ap.add_argument("--partners", type=int, default=None,
                    help="number of partners (default 5; 2 with --unordered)")
    a = ap.parse_args(argv)
    if a.clients < 1 or a.transactions < 0:
        ap.error("--clients must be >= 1 and --transactions >= 0")
    if not 1971 <= a.year <= 9998:
        ap.error("--year out of range")

    t0 = time.perf_counter()
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    if a.xml_children < 0:
        ap.error("--xml-children must be >= 0")
    partners = a.partners if a.partners is not None else (2 if a.unordered else len(PARTNERS))
    if not 1 <= partners <= len(PARTNERS):
        ap.error(f"--partners must be 1 to {len(PARTNERS)}")
    clients, events = make_clients(rng, a.clients, a.year, PARTNERS[:partners])
    times, who = gen_transactions(rng, clients, a.transactions, a.year, a.month if a.unordered else None)
    first_day = (epoch_msk(a.year - 1, 1, 1)) // DAY - 1
    last_day = (epoch_msk(a.year + 1, 1, 1)) // DAY + 1
    fmt = Formatter(first_day, last_day, a.format == "csv-ru")
    if a.format == "xml" and a.unordered:
        files = write_csv(a.out, rng, clients, events, times, who, fmt, False, True, a.xml_children)
    elif a.format == "xml":
        files = [write_xml(a.out, rng, clients, events, times, who, fmt)]
    else:
        files = write_csv(a.out, rng, clients, events, times, who, fmt, a.format == "csv-ru", a.unordered)
    elapsed = time.perf_counter() - t0
    for f in files:
        print(f"{f}: {os.path.getsize(f)} bytes", file=sys.stderr)
    print(f"generated {a.clients} clients, {len(events)} events, {a.transactions} transactions "
          f"({a.format}, seed {a.seed}, year {a.year}) in {elapsed:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
