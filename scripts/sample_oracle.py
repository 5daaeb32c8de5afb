#!/usr/bin/env python3
"""Independent oracle for balance-report's sample data.

Reads billing export files (CSV and XML) exactly as SPEC.md section 2
describes them and computes, with decimal.Decimal and no rounding, what
`balance-report render --period 2024-03` must show each partner:

* per client: state, state_since, opening balance, top-ups, charges,
  refunds, unattached change, closing balance (snapshot.csv), where the
  unattached change is the net movement of the balance between two
  visible intervals (removed, then added again) and
  opening + top-ups - charges + refunds + unattached change = closing;
* per client and service: charged, refunded, net (services.csv);
* per client, Moscow day and service: net (daily.csv);
* per client: the detail rows with the running balance, and one
  unattached_change row per gap between visible intervals (clients/<id>.csv);
* the run summary: records per file and per outcome, with amounts.

It shares no code with the Swift implementation, on purpose: it is a second
reading of the SPEC to check golden files against.

Usage:
    python3 scripts/sample_oracle.py sample-data            # a directory
    python3 scripts/sample_oracle.py FILE...                # or files
    python3 scripts/sample_oracle.py --write sample-data/EXPECTED.md sample-data
    python3 scripts/sample_oracle.py --summary-only --period 2024 /tmp/bench   # big exports

A directory stands for `DIR/*.csv DIR/*.xml` (CSV files first, each group in
byte order of the file name), the order of the README's run command. The order
matters only for which file a duplicate is counted in (the first occurrence is
the accepted one, later ones are duplicates).

Any record that the SPEC would reject makes this script exit with status 1 and
a `file:line: reason` message: the sample data must have no rejects.
"""

import argparse
import calendar
import csv
import datetime as dt
import io
import os
import re
import sys
import xml.parsers.expat
from decimal import Decimal, getcontext

getcontext().prec = 60

MSK = 3 * 3600  # fixed UTC+03:00, no DST
TX_TYPES = ("topup", "charge", "refund")
EVENT_TYPES = ("invited", "confirmed", "blocked", "unblocked", "removed")
TX_FIELDS = ("id", "timestamp", "client_id", "type", "service", "amount", "currency", "description")
CLIENT_FIELDS = ("client_id", "name", "email", "phone", "partner_id", "balance", "balance_at")
EVENT_FIELDS = ("client_id", "timestamp", "type")
INF = Decimal("Infinity")


class Reject(Exception):
    pass


def die(where, reason):
    print(f"{where}: {reason}", file=sys.stderr)
    sys.exit(1)


# --------------------------------------------------------------------------
# Timestamps (SPEC 2.4)
# --------------------------------------------------------------------------

RE_ISO_OFFSET = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2}|[+-]\d{4})$")
RE_NAIVE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})$")
RE_RU = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})$")
RE_UNIX = re.compile(r"^\d+$")


class Instant:
    """A moment: whole Unix seconds plus the fractional digits as written."""

    __slots__ = ("sec", "frac", "key")

    def __init__(self, sec, frac=""):
        self.sec = sec
        self.frac = frac  # "" or ".250" exactly as in the input
        self.key = Decimal(sec) + (Decimal("0" + frac) if frac else Decimal(0))

    def msk(self):
        """YYYY-MM-DDTHH:MM:SS[.fff]+03:00, keeping the input's fraction."""
        d = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=self.sec + MSK)
        return d.strftime("%Y-%m-%dT%H:%M:%S") + self.frac + "+03:00"

    def msk_date(self):
        d = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=self.sec + MSK)
        return d.strftime("%Y-%m-%d")


def _epoch(y, mo, d, h, mi, s, offset_seconds):
    y, mo, d, h, mi, s = (int(v) for v in (y, mo, d, h, mi, s))
    try:
        dt.datetime(y, mo, d, h, mi, s)  # range checks: no 2024-02-30, no 24:00
    except ValueError as e:
        raise Reject(f"invalid date/time: {e}")
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) - offset_seconds


def parse_timestamp(text, input_offset=MSK):
    t = text
    m = RE_ISO_OFFSET.match(t)
    if m:
        y, mo, d, h, mi, s, frac, off = m.groups()
        if off == "Z":
            off_s = 0
        else:
            sign = -1 if off[0] == "-" else 1
            digits = off[1:].replace(":", "")
            oh, om = int(digits[:2]), int(digits[2:])
            if oh > 23 or om > 59:
                raise Reject(f"invalid offset in timestamp {text!r}")
            off_s = sign * (oh * 3600 + om * 60)
        return Instant(_epoch(y, mo, d, h, mi, s, off_s), frac or "")
    m = RE_NAIVE.match(t)
    if m:
        return Instant(_epoch(*m.groups(), input_offset))
    m = RE_RU.match(t)
    if m:
        d, mo, y, h, mi, s = m.groups()
        return Instant(_epoch(y, mo, d, h, mi, s, input_offset))
    if RE_UNIX.match(t):
        return Instant(int(t))
    raise Reject(f"unrecognised timestamp {text!r}")


# --------------------------------------------------------------------------
# Amounts
# --------------------------------------------------------------------------

RE_AMOUNT_DOT = re.compile(r"^\d+(\.\d{1,6})?$")
RE_AMOUNT_COMMA = re.compile(r"^\d+(,\d{1,6})?$")
RE_BALANCE_DOT = re.compile(r"^-?\d+(\.\d{1,6})?$")
RE_BALANCE_COMMA = re.compile(r"^-?\d+(,\d{1,6})?$")


def parse_decimal(text, decimal_comma, signed):
    if decimal_comma:
        rx = RE_BALANCE_COMMA if signed else RE_AMOUNT_COMMA
        if not rx.match(text):
            raise Reject(f"bad decimal {text!r} (decimal comma file)")
        return Decimal(text.replace(",", "."))
    rx = RE_BALANCE_DOT if signed else RE_AMOUNT_DOT
    if not rx.match(text):
        raise Reject(f"bad decimal {text!r}")
    return Decimal(text)


def fmt(d):
    """Exact decimal, '.' mark, no grouping; trailing zeros trimmed but at
    least two fractional digits (so 13 -> 13.00, 0.5 -> 0.50)."""
    if d is None:
        return ""
    if d == 0:
        return "0.00"
    s = format(d.normalize(), "f")
    if "." not in s:
        s += ".00"
    elif len(s.split(".")[1]) == 1:
        s += "0"
    return s


# --------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------

class Record:
    __slots__ = ("kind", "fields", "file", "line", "decimal_comma")

    def __init__(self, kind, fields, file, line, decimal_comma=False):
        self.kind = kind
        self.fields = fields
        self.file = file
        self.line = line
        self.decimal_comma = decimal_comma

    @property
    def where(self):
        return f"{self.file}:{self.line}"


def kind_of(names, where):
    s = set(names)
    if {"id", "timestamp", "client_id", "type", "amount"} <= s:
        return "transaction"
    if {"client_id", "email"} <= s:
        return "client"
    if {"client_id", "timestamp", "type"} <= s:
        return "event"
    die(where, f"cannot tell the file's kind from header {sorted(s)}")


def read_csv(path):
    raw = open(path, "rb").read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        die(f"{path}:1", f"not UTF-8: {e}")
    first = text.split("\n", 1)[0]
    delim = ";" if ";" in first else ","
    decimal_comma = delim == ";"
    # newline='': lines keep their CR/LF/CRLF endings, as csv.reader wants
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    records = []
    try:
        header = next(reader)
    except StopIteration:
        die(f"{path}:1", "empty file")
    header = [h.strip() for h in header]
    kind = kind_of(header, f"{path}:1")
    allowed = {"transaction": TX_FIELDS, "client": CLIENT_FIELDS, "event": EVENT_FIELDS}[kind]
    for h in header:
        if h not in allowed:
            die(f"{path}:1", f"unknown column {h!r}")
    prev_end = reader.line_num
    for row in reader:
        start = prev_end + 1
        prev_end = reader.line_num
        if row == []:
            die(f"{path}:{start}", "empty line")
        if len(row) != len(header):
            die(f"{path}:{start}", f"{len(row)} fields, header has {len(header)}")
        records.append(Record(kind, dict(zip(header, row)), path, start, decimal_comma))
    return records


def read_xml(path):
    """Streaming expat reader: root > {clients,events,transactions} > record,
    fields as attributes or child elements. DOCTYPE is an error."""
    records = []
    stack = []
    cur = {"rec": None, "field": None, "text": None, "line": None}
    p = xml.parsers.expat.ParserCreate("UTF-8")

    def doctype(*_a):
        raise Reject("DOCTYPE is not allowed")

    def start(name, attrs):
        depth = len(stack)
        stack.append(name)
        line = p.CurrentLineNumber
        if depth == 0:
            return
        if depth == 1:
            if name not in ("clients", "events", "transactions"):
                raise Reject(f"line {line}: unexpected element <{name}>")
            return
        if depth == 2:
            expect = {"clients": "client", "events": "event", "transactions": "transaction"}[stack[1]]
            if name != expect:
                raise Reject(f"line {line}: <{name}> inside <{stack[1]}>")
            cur["rec"] = Record(name, dict(attrs), path, line)
            return
        if depth == 3:
            if attrs:
                raise Reject(f"line {line}: attributes on field <{name}>")
            if name in cur["rec"].fields:
                raise Reject(f"line {line}: field {name!r} given twice")
            cur["field"] = name
            cur["text"] = []
            return
        raise Reject(f"line {line}: nesting too deep at <{name}>")

    def end(name):
        depth = len(stack) - 1
        stack.pop()
        if depth == 3:
            cur["rec"].fields[cur["field"]] = "".join(cur["text"])
            cur["field"] = None
            cur["text"] = None
        elif depth == 2:
            records.append(cur["rec"])
            cur["rec"] = None

    def chars(data):
        if cur["text"] is not None:
            cur["text"].append(data)
        elif data.strip():
            raise Reject(f"line {p.CurrentLineNumber}: stray text {data.strip()!r}")

    p.StartDoctypeDeclHandler = doctype
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    p.buffer_text = True
    try:
        with open(path, "rb") as f:
            p.ParseFile(f)
    except Reject as e:
        die(path, str(e))
    except xml.parsers.expat.ExpatError as e:
        die(f"{path}:{e.lineno}", f"malformed XML: {e}")
    allowed = {"transaction": TX_FIELDS, "client": CLIENT_FIELDS, "event": EVENT_FIELDS}
    for r in records:
        for k in r.fields:
            if k not in allowed[r.kind]:
                die(r.where, f"unknown field {k!r}")
    return records


# --------------------------------------------------------------------------
# Record validation (SPEC 2.1-2.3)
# --------------------------------------------------------------------------

class Tx:
    __slots__ = ("id", "at", "client_id", "type", "service", "amount", "currency",
                 "description", "file", "line")

    def net(self):
        return self.amount if self.type in ("topup", "refund") else -self.amount

    def identity(self):
        # Compared field by field after normalisation (instant, exact value,
        # currency default): overlapping exports of one record are equal.
        return (self.at.key, self.client_id, self.type, self.service,
                self.amount, self.currency, self.description)


def to_tx(r):
    f = {k: v for k, v in r.fields.items()}
    g = lambda k: f.get(k, "") or ""
    t = Tx()
    t.file, t.line = r.file, r.line
    t.id = g("id")
    if not t.id:
        raise Reject("empty id")
    t.at = parse_timestamp(g("timestamp"))
    t.client_id = g("client_id")
    if not t.client_id:
        raise Reject("empty client_id")
    t.type = g("type")
    if t.type not in TX_TYPES:
        raise Reject(f"bad type {t.type!r}")
    t.service = g("service")
    if t.type in ("charge", "refund") and not t.service:
        raise Reject(f"{t.type} without service")
    if t.type == "topup" and t.service:
        raise Reject("topup with a service")
    t.amount = parse_decimal(g("amount"), r.decimal_comma, signed=False)
    if t.amount <= 0:
        raise Reject("amount must be positive")
    t.currency = g("currency") or "RUB"
    t.description = g("description")
    return t


class Client:
    __slots__ = ("id", "name", "email", "phone", "partner", "balance", "balance_at",
                 "file", "line")


def to_client(r):
    g = lambda k: r.fields.get(k, "") or ""
    c = Client()
    c.file, c.line = r.file, r.line
    c.id = g("client_id")
    if not c.id:
        raise Reject("empty client_id")
    c.name, c.email, c.phone = g("name"), g("email"), g("phone")
    if not c.email or "@" not in c.email:
        raise Reject("email is required")
    c.partner = g("partner_id") or "default"
    b, ba = g("balance"), g("balance_at")
    if bool(b) != bool(ba):
        raise Reject("balance and balance_at go together")
    c.balance = parse_decimal(b, r.decimal_comma, signed=True) if b else None
    c.balance_at = parse_timestamp(ba) if ba else None
    return c


class Event:
    __slots__ = ("client_id", "at", "type", "file", "line")


def to_event(r):
    g = lambda k: r.fields.get(k, "") or ""
    e = Event()
    e.file, e.line = r.file, r.line
    e.client_id = g("client_id")
    if not e.client_id:
        raise Reject("empty client_id")
    e.at = parse_timestamp(g("timestamp"))
    e.type = g("type")
    if e.type not in EVENT_TYPES:
        raise Reject(f"bad event type {e.type!r}")
    return e


# state machine (SPEC 2.3); None = the client does not exist for the partner
TRANSITIONS = {
    (None, "invited"): "invited",
    ("invited", "confirmed"): "active",
    ("active", "blocked"): "blocked",
    ("blocked", "unblocked"): "active",
    ("invited", "removed"): "removed",
    ("active", "removed"): "removed",
    ("blocked", "removed"): "removed",
    ("removed", "invited"): "invited",
}


# --------------------------------------------------------------------------
# Period
# --------------------------------------------------------------------------

def period_bounds(spec):
    m = re.match(r"^(\d{4})-(\d{2})$", spec)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        ny, nmo = (y + 1, 1) if mo == 12 else (y, mo + 1)
        return _epoch(y, mo, 1, 0, 0, 0, MSK), _epoch(ny, nmo, 1, 0, 0, 0, MSK)
    m = re.match(r"^(\d{4})-Q([1-4])$", spec)
    if m:
        y, q = int(m.group(1)), int(m.group(2))
        mo = 3 * (q - 1) + 1
        ny, nmo = (y + 1, 1) if q == 4 else (y, mo + 3)
        return _epoch(y, mo, 1, 0, 0, 0, MSK), _epoch(ny, nmo, 1, 0, 0, 0, MSK)
    m = re.match(r"^(\d{4})$", spec)
    if m:
        y = int(m.group(1))
        return _epoch(y, 1, 1, 0, 0, 0, MSK), _epoch(y + 1, 1, 1, 0, 0, 0, MSK)
    raise SystemExit(f"bad --period {spec!r}")


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------

def expand_inputs(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            names = sorted(os.listdir(p), key=lambda n: n.encode())
            files += [os.path.join(p, n) for n in names if n.endswith(".csv")]
            files += [os.path.join(p, n) for n in names if n.endswith(".xml")]
        else:
            files.append(p)
    return files


def run(paths, period):
    files = expand_inputs(paths)
    PS, PE = period_bounds(period)
    PSd, PEd = Decimal(PS), Decimal(PE)

    per_file = {}      # file -> dict of counters
    clients = {}
    events = []
    txs = {}           # id -> Tx (first occurrence)
    tx_order = []
    duplicates = []    # Tx
    currencies = set()

    for path in files:
        recs = read_xml(path) if path.endswith(".xml") else read_csv(path)
        cnt = per_file.setdefault(path, {"client": 0, "event": 0, "transaction": 0,
                                          "duplicate": 0, "rejected": 0})
        for r in recs:
            cnt[r.kind] += 1
            try:
                if r.kind == "transaction":
                    t = to_tx(r)
                    currencies.add(t.currency)
                    if len(currencies) > 1:
                        raise Reject(f"second currency {t.currency!r}")
                    if t.id in txs:
                        first = txs[t.id]
                        if first.identity() != t.identity():
                            raise Reject(f"id {t.id} already at {first.file}:{first.line} "
                                         "with different fields")
                        duplicates.append(t)
                        cnt["duplicate"] += 1
                    else:
                        txs[t.id] = t
                        tx_order.append(t)
                elif r.kind == "client":
                    c = to_client(r)
                    if c.id in clients:
                        raise Reject(f"client {c.id} listed twice")
                    clients[c.id] = c
                else:
                    events.append(to_event(r))
            except Reject as e:
                die(r.where, str(e))

    # ---- events -> state history and attachment windows
    by_client_events = {}
    for e in events:
        by_client_events.setdefault(e.client_id, []).append(e)
    have_events = bool(events)
    history = {}   # client -> [(instant, state)]
    windows = {}   # client -> [(start Decimal, end Decimal)]
    for cid, evs in by_client_events.items():
        evs.sort(key=lambda e: e.at.key)
        for a, b in zip(evs, evs[1:]):
            if a.at.key == b.at.key:
                die(f"{b.file}:{b.line}", f"two events of {cid} at one instant")
        state, hist, win, open_at = None, [], [], None
        for e in evs:
            nxt = TRANSITIONS.get((state, e.type))
            if nxt is None:
                die(f"{e.file}:{e.line}", f"illegal transition {state or 'none'} -> {e.type}")
            if e.type == "confirmed":
                open_at = e.at.key
            if e.type == "removed" and open_at is not None:
                win.append((open_at, e.at.key))
                open_at = None
            state = nxt
            hist.append((e.at, state))
        if open_at is not None:
            win.append((open_at, INF))
        history[cid] = hist
        windows[cid] = win
    for cid in by_client_events:
        if clients and cid not in clients:
            e = by_client_events[cid][0]
            die(f"{e.file}:{e.line}", f"event for client {cid} that no clients record names")

    def attached(cid, key):
        if not have_events:
            return True
        return any(s <= key < e for s, e in windows.get(cid, []))

    def visible_intervals(cid):
        if not have_events:
            return [(PSd, PEd)]
        out = []
        for s, e in windows.get(cid, []):
            a, b = max(s, PSd), min(e, PEd)
            if a < b:
                out.append((a, b))
        return out

    def state_at_end(cid):
        if not have_events:
            return "active", None
        st, since = None, None
        for at, s in history.get(cid, []):
            if at.key < PEd:
                st, since = s, at
        return st, since

    # ---- classify unique transactions
    outcome = {}
    no_clients = not clients
    for t in tx_order:
        if not (PSd <= t.at.key < PEd):
            outcome[t.id] = "outside period"
        elif not no_clients and t.client_id not in clients:
            outcome[t.id] = "unknown client"
        elif not attached(t.client_id, t.at.key):
            outcome[t.id] = "outside attachment"
        else:
            outcome[t.id] = "in report"

    # ---- per client ledgers
    ledger = {}
    for t in tx_order:
        ledger.setdefault(t.client_id, []).append(t)
    for lst in ledger.values():
        lst.sort(key=lambda t: (t.at.key, t.id.encode("utf-8")))

    if no_clients:
        for cid in ledger:
            c = Client()
            c.id, c.name, c.email, c.phone, c.partner = cid, "", "", "", "default"
            c.balance = c.balance_at = None
            c.file, c.line = "", 0
            clients[cid] = c

    def balance_fn(cid):
        c = clients[cid]
        lst = ledger.get(cid, [])
        B = c.balance if c.balance is not None else Decimal(0)
        base = Decimal(0)
        if c.balance_at is not None:
            base = sum((t.net() for t in lst if t.at.key < c.balance_at.key), Decimal(0))

        def at(T):
            return B + sum((t.net() for t in lst if t.at.key < T), Decimal(0)) - base
        return at, B, base

    partners = {}
    for cid, c in clients.items():
        partners.setdefault(c.partner, []).append(cid)

    report = {"files": files, "period": (PS, PE), "partners": {}, "per_file": per_file,
              "outcome": outcome, "tx_order": tx_order, "duplicates": duplicates,
              "clients": clients, "events": events, "txs": txs}
    for p, cids in sorted(partners.items(), key=lambda kv: kv[0].encode()):
        rows, services, daily, details = [], {}, {}, {}
        for cid in sorted(cids, key=lambda s: s.encode()):
            c = clients[cid]
            vis = visible_intervals(cid)
            st, since = state_at_end(cid)
            listed = st in ("invited", "active", "blocked") or bool(vis)
            if not listed:
                continue
            bal, B, base = balance_fn(cid)
            row = {"client": c, "state": st, "since": since, "intervals": vis}
            if vis:
                inside = [t for t in ledger.get(cid, [])
                          if any(a <= t.at.key < b for a, b in vis)]
                # cross-check: the visible window holds exactly the client's
                # transactions classified "in report"
                assert {t.id for t in inside} == {t.id for t in ledger.get(cid, [])
                                                  if outcome[t.id] == "in report"}
                row["opening"] = bal(vis[0][0])
                row["closing"] = bal(vis[-1][1])
                for k in TX_TYPES:
                    row[k] = sum((t.amount for t in inside if t.type == k), Decimal(0))
                # the gaps between visible intervals: the balance moved without the
                # partner seeing why; one row each, dated at the re-attachment
                gaps = []
                for (a0, b0), (a1, b1) in zip(vis, vis[1:]):
                    if b0 < a1:
                        gaps.append((b0, a1, bal(a1) - bal(b0), bal(a1)))
                row["unattached"] = sum((g[2] for g in gaps), Decimal(0))
                assert (row["opening"] + row["topup"] - row["charge"] + row["refund"]
                        + row["unattached"] == row["closing"]), cid
                det = []
                running = B - base
                inside_ids = {t.id for t in inside}
                pending = list(gaps)
                for t in ledger.get(cid, []):
                    running += t.net()
                    if t.id in inside_ids:
                        while pending and pending[0][1] <= t.at.key:
                            det.append((None, pending.pop(0)))
                        det.append((t, running))
                det += [(None, g) for g in pending]
                details[cid] = det
                for t in inside:
                    if t.type == "topup":
                        continue
                    s = services.setdefault((cid, t.service), [Decimal(0), Decimal(0)])
                    s[0 if t.type == "charge" else 1] += t.amount
                    key = (cid, t.at.msk_date(), t.service)
                    daily[key] = daily.get(key, Decimal(0)) + t.net() * -1
            else:
                details[cid] = []
            rows.append(row)
        report["partners"][p] = {"rows": rows, "services": services, "daily": daily,
                                 "details": details}
    return report


# --------------------------------------------------------------------------
# Output (Markdown)
# --------------------------------------------------------------------------

def code(s):
    """Show data text verbatim inside a Markdown code span."""
    if s is None or s == "":
        return ""
    s = s.replace("\r", "\\r").replace("\n", "\\n").replace("|", "\\|")
    tick = "``" if "`" in s else "`"
    return f"{tick}{s}{tick}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return "\n".join(out)


def render(rep, period, argv_files):
    PS, PE = rep["period"]
    L = []
    w = L.append
    w("# Expected results for the sample data")
    w("")
    w("Generated by `python3 scripts/sample_oracle.py "
      + " ".join(argv_files) + (f" --period {period}" if period != "2024-03" else "")
      + "` — an independent Python reading of SPEC.md (decimal.Decimal, no rounding). "
      "Do not edit by hand; re-run the script.")
    w("")
    w(f"Period `{period}`: [{Instant(PS).msk()}, {Instant(PE).msk()}). "
      "All times are Moscow time (fixed +03:00).")
    w("")
    w("Amounts are exact decimals; this file trims trailing zeros to at least two "
      "fractional digits (`13.00`, `0.50`, `1500.254167`), so compare values "
      "numerically, not as strings. An empty money cell means the partner does not "
      "see that client's money (no visible interval in the period).")
    w("")

    # ---- run summary
    outcome = rep["outcome"]
    tx_order = rep["tx_order"]
    dups = rep["duplicates"]
    w("## Run summary")
    w("")
    kinds = ("in report", "outside period", "outside attachment", "unknown client")
    w("### Per file")
    w("")
    rows = []
    for f in rep["files"]:
        c = rep["per_file"][f]
        mine = [t for t in tx_order if t.file == f]
        cnt = {k: sum(1 for t in mine if outcome[t.id] == k) for k in kinds}
        kind = ("transactions" if c["transaction"] else "") + \
               (" clients" if c["client"] else "") + (" events" if c["event"] else "")
        rows.append([code(os.path.basename(f)), kind.strip(), str(c["client"]), str(c["event"]),
                     str(c["transaction"]), str(c["duplicate"]), str(c["rejected"])]
                    + [str(cnt[k]) for k in kinds])
    w(table(["file", "kind", "client records", "event records", "transaction records",
             "duplicate", "rejected"] + list(kinds), rows))
    w("")
    w("A duplicate is counted in the file where it appears second (files read in the "
      "order above); its first occurrence is the accepted one.")
    w("")

    n_read = sum(c["transaction"] for c in rep["per_file"].values())
    w("### Transactions per outcome")
    w("")
    rows = []

    def sums(lst):
        return [str(len(lst))] + [fmt(sum((t.amount for t in lst if t.type == k), Decimal(0)))
                                  for k in TX_TYPES]
    rows.append(["records read"] + sums(tx_order + dups))
    rows.append(["duplicate"] + sums(dups))
    rows.append(["rejected"] + ["0", "0.00", "0.00", "0.00"])
    rows.append(["accepted (unique)"] + sums(tx_order))
    for k in kinds:
        rows.append([f"  of which {k}"] + sums([t for t in tx_order if outcome[t.id] == k]))
    w(table(["outcome", "count", "topup", "charge", "refund"], rows))
    w("")
    assert n_read == len(tx_order) + len(dups)
    w(f"Identity: records read {n_read} = duplicate {len(dups)} + rejected 0 + "
      + " + ".join(f"{k} {sum(1 for t in tx_order if outcome[t.id] == k)}" for k in kinds) + ".")
    w("")
    w(f"Client records: {len(rep['clients'])}; event records: {len(rep['events'])}; "
      "rejected: 0.")
    w("")
    w("Transactions by outcome (id → outcome) for everything not in a report:")
    w("")
    rows = []
    dup_objs = {id(t) for t in dups}
    for t in sorted(tx_order + dups, key=lambda t: t.id.encode()):
        o = "duplicate" if id(t) in dup_objs else outcome[t.id]
        if o == "in report":
            continue
        rows.append([code(t.id), code(t.client_id), t.at.msk(), t.type, fmt(t.amount), o,
                     code(os.path.basename(t.file)) + f":{t.line}"])
    w(table(["id", "client", "time (MSK)", "type", "amount", "outcome", "where"], rows))
    w("")

    # ---- per partner
    for p, data in rep["partners"].items():
        w(f"## Partner `{p}`")
        w("")
        w("### Snapshot (snapshot.csv)")
        w("")
        rows = []
        tot = {k: Decimal(0) for k in TX_TYPES + ("opening", "unattached", "closing")}
        for r in data["rows"]:
            c = r["client"]
            money = ["", "", "", "", "", ""]
            if r["intervals"]:
                money = [fmt(r["opening"]), fmt(r["topup"]), fmt(r["charge"]),
                         fmt(r["refund"]), fmt(r["unattached"]), fmt(r["closing"])]
                for k in TX_TYPES + ("opening", "unattached", "closing"):
                    tot[k] += r[k]
            rows.append([code(c.id), code(c.name), code(c.email), code(c.phone), r["state"],
                         r["since"].msk() if r["since"] else ""] + money)
        w(table(["client_id", "name", "email", "phone", "state", "state_since",
                 "opening_balance", "topups", "charges", "refunds", "unattached_change",
                 "closing_balance"], rows))
        w("")
        w("Visible intervals:")
        w("")
        for r in data["rows"]:
            iv = ", ".join(f"[{Instant(int(a)).msk()}, {Instant(int(b)).msk()})"
                           for a, b in r["intervals"]) or "none (money not shown)"
            w(f"- `{r['client'].id}`: {iv}")
        w("")
        w("### Spend per service (services.csv)")
        w("")
        rows = []
        per_service = {}
        for (cid, svc), (ch, rf) in sorted(data["services"].items(),
                                          key=lambda kv: (kv[0][0].encode(), kv[0][1].encode())):
            rows.append([code(cid), code(svc), fmt(ch), fmt(rf), fmt(ch - rf)])
            ps = per_service.setdefault(svc, [Decimal(0), Decimal(0)])
            ps[0] += ch
            ps[1] += rf
        w(table(["client_id", "service", "charged", "refunded", "net"], rows))
        w("")
        w("### Partner totals (index.html)")
        w("")
        spend = sum((v[0] - v[1] for v in per_service.values()), Decimal(0))
        w(table(["opening_balance", "topups", "charges", "refunds", "unattached_change",
                 "closing_balance", "spend (charges − refunds)"],
                [[fmt(tot["opening"]), fmt(tot["topup"]), fmt(tot["charge"]), fmt(tot["refund"]),
                  fmt(tot["unattached"]), fmt(tot["closing"]), fmt(spend)]]))
        w("")
        assert tot["opening"] + tot["topup"] - tot["charge"] + tot["refund"] + tot["unattached"] == tot["closing"]
        w("Identity: opening + topups − charges + refunds + unattached_change = closing_balance, "
          "for every client above and for these totals.")
        w("")
        rows = [[code(s), fmt(v[0]), fmt(v[1]), fmt(v[0] - v[1])]
                for s, v in sorted(per_service.items(), key=lambda kv: kv[0].encode())]
        w(table(["service", "charged", "refunded", "net"], rows))
        w("")
        w("### Spend per Moscow day (daily.csv)")
        w("")
        rows = [[code(cid), d, code(s), fmt(v)]
                for (cid, d, s), v in sorted(data["daily"].items(),
                                             key=lambda kv: (kv[0][0].encode(), kv[0][1],
                                                             kv[0][2].encode()))]
        w(table(["client_id", "date", "service", "net"], rows))
        w("")
        w("### Detail (clients/<client_id>.csv)")
        w("")
        for r in data["rows"]:
            cid = r["client"].id
            det = data["details"][cid]
            w(f"#### `{cid}`")
            w("")
            if not r["intervals"]:
                w("No visible interval: no rows, no balances shown.")
                w("")
                continue
            w(f"Opening balance {fmt(r['opening'])}, closing balance {fmt(r['closing'])}"
              + (f", unattached change {fmt(r['unattached'])} (an `unattached_change` row per gap, "
                 "dated at the re-attachment, its amount signed)." if len(r["intervals"]) > 1 else "."))
            w("")
            if not det:
                w("No transaction in the visible window.")
                w("")
                continue
            rows = []
            for t, b in det:
                if t is None:  # a gap: (from, to, change, balance at re-attachment)
                    frm, to, change, after = b
                    rows.append(["", Instant(int(to)).msk(), "unattached_change", "", fmt(change), fmt(after)])
                else:
                    rows.append([code(t.id), t.at.msk(), t.type, code(t.service), fmt(t.amount), fmt(b)])
            w(table(["id", "timestamp", "type", "service", "amount", "balance_after"], rows))
            w("")
    return "\n".join(L).rstrip("\n") + "\n"


def render_summary(rep):
    outcome = rep["outcome"]
    counts = {}
    for o in outcome.values():
        counts[o] = counts.get(o, 0) + 1
    n_read = sum(c["transaction"] for c in rep["per_file"].values())
    lines = [f"files: {len(rep['files'])}", f"client records: {len(rep['clients'])}",
             f"event records: {len(rep['events'])}", f"transaction records: {n_read}",
             f"duplicate: {len(rep['duplicates'])}", "rejected: 0"]
    lines += [f"{k}: {counts.get(k, 0)}"
              for k in ("in report", "outside period", "outside attachment", "unknown client")]
    lines += [f"listed clients of {p}: {len(d['rows'])}" for p, d in rep["partners"].items()]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--period", default="2024-03", help="YYYY-MM, YYYY-Qn or YYYY (default 2024-03)")
    ap.add_argument("--write", metavar="FILE", help="write the Markdown to FILE instead of stdout")
    ap.add_argument("--summary-only", action="store_true",
                    help="validate and print only the outcome counts (for large generated exports)")
    ap.add_argument("inputs", nargs="+", help="a directory (DIR/*.csv then DIR/*.xml) or files")
    a = ap.parse_args(argv)
    rep = run(a.inputs, a.period)
    if a.summary_only:
        text = render_summary(rep)
    else:
        text = render(rep, a.period, a.inputs)
    if a.write:
        with open(a.write, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
