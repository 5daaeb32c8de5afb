#!/usr/bin/env python3
"""The Spark route of balance-report: the same reports as one `balance-report render`, byte for byte,
with the work split by partner over a Spark cluster (or local mode). See docs/scale.md.

    spark-submit --master 'local[2]' scale/spark/balance_report_spark.py \\
        --binary .build/release/balance-report \\
        --period 2024-03 --out out [render options] FILE-OR-GLOB...

Arguments are render's (`--period` / `--from` `--to`, `--profile`, `--encoding`, `--map`,
`--input-offset`, `--allow-rejects`, `--out`, `--lang`, `--csv-dialect`, `--templates`, `--xlsx`,
`--eml`, `--contacts`, `--eml-from`, `--eml-date`, `--runway-days`, `--quiet`), plus:

  --binary PATH    the balance-report binary (default: `balance-report` on PATH); it must run on
                   every executor: at that path, or shipped with --ship-binary
  --ship-binary    ship --binary with the job (SparkContext.addFile) instead of relying on a path
                   present on the executors
  --broadcast-clients N  up to N clients, the client-to-partner map is broadcast to the executors;
                   above, the rows are joined with it (one more shuffle). Default 5,000,000
  --partitions N   buckets of partners rendered together, one `render` each (default: 4 x the
                   default parallelism, at most one per partner)

What runs where (the parsing and every rule stay in the binary; Spark only moves rows):
  1. every export file is read on an executor by `balance-report split-export` (with the profile,
     gzip, Windows-1251, XML: every reader of the tool): each record becomes a canonical CSV row
     carrying its original file and line (provenance columns), keyed by its client id as bytes (hex);
     a file read through a row layout (FOCUS, the Yandex partner report) passes its rows on as they
     were read instead, with the partner each row names, and the renders read them with the profile;
  2. without a clients file, rows of a row layout go to the set of the partner they name (FOCUS
     BillingAccountId), a superseding layout makes one set; otherwise
     each client is attached to the partner of its first clients record (file order); records of a
     client no clients record names, and transaction ids found in two partners' sets, go to one more
     set, "no partner's", so they are counted (unknown client, or rejected as a conflict) exactly as
     one run counts them;
  3. each set is rendered by `balance-report render --summary-part` on an executor, into a staging
     folder beside --out; `balance-report merge-parts` then merges the summaries (with the exact
     control-total check) and publishes everything into --out atomically, as render does.

The inputs, --out's parent folder, --templates and --contacts must be on storage the executors and
the driver share (on one machine: any folder).
"""

import argparse
import base64
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zlib

KIND_ORDER = {"client": 0, "event": 1, "transaction": 2}
HEADERS = {
    "client": b"client_id,name,email,phone,partner_id,balance,balance_at,balance_currency,balance_report_source_file,balance_report_source_line\n",
    "event": b"client_id,timestamp,type,balance_report_source_file,balance_report_source_line\n",
    "transaction": b"id,timestamp,client_id,type,service,amount,currency,description,balance_report_source_file,balance_report_source_line\n",
}
# The set of records no partner owns (unknown clients, ids in two partners' sets).
NOBODY = "-"
# A run without any clients file: every client is the partner `default`'s, one set.
EVERYONE = "*"
# `default` in hex: a row that names this partner is in the everyone set, as one without any.
DEFAULT_HEX = b"default".hex()


def parse_args(argv):
    ap = argparse.ArgumentParser(description="balance-report render on Apache Spark (docs/scale.md)")
    ap.add_argument("--binary", default=shutil.which("balance-report") or "balance-report")
    ap.add_argument("--ship-binary", action="store_true")
    ap.add_argument("--partitions", type=int, default=0)
    ap.add_argument("--broadcast-clients", type=int, default=5_000_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--period")
    ap.add_argument("--from", dest="from_day")
    ap.add_argument("--to", dest="to_day")
    # How inputs are read: for split-export.
    ap.add_argument("--profile")
    ap.add_argument("--encoding")
    ap.add_argument("--map", action="append", default=[])
    ap.add_argument("--input-offset")
    # How reports are written: for render and merge-parts.
    ap.add_argument("--allow-rejects", action="store_true")
    ap.add_argument("--lang")
    ap.add_argument("--csv-dialect")
    ap.add_argument("--templates")
    ap.add_argument("--xlsx", action="store_true")
    ap.add_argument("--eml", action="store_true")
    ap.add_argument("--contacts")
    ap.add_argument("--eml-from")
    ap.add_argument("--eml-date")
    ap.add_argument("--runway-days")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("inputs", nargs="+")
    return ap.parse_args(argv)


def absolute(path):
    return os.path.abspath(path) if path else path


def expand(patterns):
    """Paths as given, or a glob's matches in byte order (as a shell in the C locale lists them)."""
    paths = []
    for pattern in patterns:
        if os.path.exists(pattern) or not glob.has_magic(pattern):
            paths.append(pattern)
        else:
            matches = sorted(glob.glob(pattern), key=os.fsencode)
            if not matches:
                fail(f"{pattern}: no file matches", 1)
            paths.extend(matches)
    return paths


STARTED = time.monotonic()


def timing(stage):
    """`BALANCE_REPORT_TIMINGS=1`: how long each stage took, on stderr (as the tool's own timings)."""
    if os.environ.get("BALANCE_REPORT_TIMINGS") == "1":
        sys.stderr.write(f"timing: {stage} at {time.monotonic() - STARTED:.1f} s\n")


def here(cwd):
    """The driver's working folder where an executor has it (relative inputs are named from it, as
    render names them); elsewhere the executor's own (then give absolute paths)."""
    return cwd if os.path.isdir(cwd) else None


def fail(message, code):
    sys.stderr.write(f"balance-report-spark: error: {message}\n")
    sys.exit(code)


def split_options(a, builtins=()):
    opts = []
    if a.profile:
        # A built-in profile is a name, as the tool reads it even beside a file or folder of that
        # name (`focus/`); a file is made absolute for the executors.
        named = a.profile in builtins or not os.path.exists(a.profile)
        opts += ["--profile", a.profile if named else absolute(a.profile)]
    if a.encoding:
        opts += ["--encoding", a.encoding]
    for m in a.map:
        opts += ["--map", m]
    if a.input_offset:
        opts += ["--input-offset", a.input_offset]
    return opts


def period_options(a):
    if a.period:
        return ["--period", a.period]
    if a.from_day or a.to_day:
        return ["--from", a.from_day or "", "--to", a.to_day or ""]
    return []


def render_options(a):
    opts = period_options(a)
    if a.allow_rejects:
        opts.append("--allow-rejects")
    # One Date: for every partner's message, fixed on the driver (`now` once, SOURCE_DATE_EPOCH of
    # the driver's environment, which the executors do not share), as one render dates them all.
    date = a.eml_date
    if date == "now":
        date = str(int(time.time()))
    if a.eml and not date and os.environ.get("SOURCE_DATE_EPOCH"):
        date = os.environ["SOURCE_DATE_EPOCH"]
    for flag, value in (("--lang", a.lang), ("--csv-dialect", a.csv_dialect), ("--templates", absolute(a.templates)),
                        ("--contacts", absolute(a.contacts)), ("--eml-from", a.eml_from), ("--eml-date", date),
                        ("--runway-days", a.runway_days)):
        if value:
            opts += [flag, value]
    if a.xlsx:
        opts.append("--xlsx")
    if a.eml:
        opts.append("--eml")
    return opts


def merge_options(a):
    opts = []
    if a.allow_rejects:
        opts.append("--allow-rejects")
    for flag, value in (("--lang", a.lang), ("--csv-dialect", a.csv_dialect), ("--templates", absolute(a.templates))):
        if value:
            opts += [flag, value]
    return opts


def main(argv):
    a = parse_args(argv)
    if not period_options(a):
        fail("give --period or --from and --to", 2)
    paths = expand(a.inputs)
    if len({os.fsencode(p) for p in paths}) != len(paths):
        fail("a file is named twice; the Spark route names each record by its file, so each file is given once", 2)
    binary = absolute(a.binary) if os.path.exists(a.binary) else a.binary
    cwd = os.getcwd()
    out = absolute(a.out).rstrip("/")
    # The staging folder of the partners' renders, beside --out (on the storage --out is on): only
    # this job's files, removed when it ends.
    stage = os.path.join(os.path.dirname(out), f".{os.path.basename(out)}.spark-{uuid.uuid4().hex[:12]}")

    # --out is the tool's own folder: refused before any work when render would refuse it.
    checked = subprocess.run([binary, "merge-parts", "--check-out", "--out", out, *paths], cwd=cwd)
    if checked.returncode != 0:
        return checked.returncode

    from pyspark.sql import SparkSession
    spark = SparkSession.builder.appName("balance-report").getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel("ERROR")
    timing("spark started")
    shipped = None
    if a.ship_binary:
        sc.addFile(binary)
        shipped = os.path.basename(binary)

    def tool():
        if shipped:
            from pyspark import SparkFiles
            path = SparkFiles.get(shipped)
            os.chmod(path, 0o755)
            return path
        return binary

    # The tool's built-in profile names (`balance-report profiles`: one a line, the name first).
    listed = subprocess.run([binary, "profiles"], capture_output=True, cwd=cwd)
    builtins = {line.split()[0] for line in listed.stdout.decode("utf-8", "replace").splitlines() if line.split()}
    sopts = split_options(a, builtins)

    def split_one(item):
        """Stage 1, on an executor: one export file read by the tool, its records as routable rows."""
        index, path = item
        work = tempfile.mkdtemp(prefix="br-split-")
        try:
            rows, part = os.path.join(work, "rows.tsv"), os.path.join(work, "part.json")
            done = subprocess.run([tool(), "split-export", "--quiet", "--jobs", "1", *sopts, "--rows", rows, "--part", part, path],
                                  cwd=here(cwd), capture_output=True)
            if done.returncode != 0:
                yield ("failed", index, done.returncode, done.stderr.decode("utf-8", "replace"))
                return
            with open(part, "rb") as f:
                yield ("part", index, f.read())
            with open(rows, "rb") as f:
                for line in f:
                    # A layout that names clients in its rows passes its rows on as they were read
                    # (`raw`, with the partner the row names), after its header line.
                    kind, seq, client, key, row, *partner = line.rstrip(b"\n").split(b"\t")
                    if kind == b"header":
                        yield ("header", index, key.decode(), row)
                        continue
                    yield ("row", kind.decode(), index, int(seq), client.decode(), key.decode(), row,
                           partner[0].decode() if partner else "")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    try:
        os.mkdir(stage)
    except OSError as error:
        fail(f"cannot create the staging folder {stage} beside --out: {error.strerror}", 1)
    try:
        code = run(a, sc, paths, stage, out, split_one, tool, cwd, sopts)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        timing("staging removed")
        spark.stop()
        timing("spark stopped")
    return code


def run(a, sc, paths, stage, out, split_one, tool, cwd, sopts):
    from pyspark import StorageLevel
    # Kept (spilling to disk when memory is short) rather than read again: the rows are used twice.
    split = sc.parallelize(list(enumerate(paths)), max(1, len(paths))).flatMap(split_one).persist(StorageLevel.MEMORY_AND_DISK)
    failed = sorted(split.filter(lambda r: r[0] == "failed").map(lambda r: r[1:]).collect())
    if failed:
        for _, code, stderr in failed:
            sys.stderr.write(stderr)
        if len(failed) > 0 and all(code == 1 for _, code, _ in failed):
            sys.stderr.write(f"balance-report-spark: error: {len(failed)} input file(s) cannot be read, so the run stops: a file is read whole or not at all, also with --allow-rejects\n")
        return max(code for _, code, _ in failed)
    timing("split-export")
    parts = dict(split.filter(lambda r: r[0] == "part").map(lambda r: (r[1], r[2])).collect())
    input_parts = []
    kinds = set()
    rejected = []
    currencies = set()
    for index in range(len(paths)):
        part = json.loads(parts[index])
        for f in part["files"]:
            kinds.update(f["kinds"])
        currencies.update(part["currencies"])
        rejected += [f"{paths[index]}:{r['line']}: {r['reason']}" for r in part["rejections"]]
        name = os.path.join(stage, f"input-{index:06d}.json")
        with open(name, "wb") as f:
            f.write(parts[index])
        input_parts.append(name)
    if rejected and not a.allow_rejects:
        # As render: a run with a rejected record writes nothing and fails.
        for line in rejected[:50]:
            sys.stderr.write(line + "\n")
        sys.stderr.write(f"balance-report: error: {len(rejected)} rejected record(s); no report written (use --allow-rejects to render the rest)\n")
        return 1
    has_clients = "client" in kinds
    has_events = "event" in kinds
    # Files read through a row layout (FOCUS, the Yandex partner report): their header, and whether
    # a day's exports are compared across the whole run (`supersede`).
    headers = dict(split.filter(lambda r: r[0] == "header").map(lambda r: (r[1], (r[2], r[3]))).collect())
    supersede = any(flags == b"supersede".hex() for flags, _ in headers.values())

    # (kind, file, seq, client_hex, key_hex, row_b64, partner_hex)
    rows = split.filter(lambda r: r[0] == "row").map(lambda r: r[1:])
    def is_transaction(r):
        return r[0] == "transaction" or r[0] == "raw"
    if supersede:
        # The latest export of a day is chosen across every client of the run: one set.
        routed = rows.map(lambda r: (EVERYONE, r))
    elif has_clients:
        # Each client belongs to the partner of its first clients record (in file order); every
        # record of that client goes to that one set, so conflicts and duplicates meet there.
        owner = (rows.filter(lambda r: r[0] == "client")
                 .map(lambda r: (r[3], (r[1], r[2], r[4])))
                 .reduceByKey(min)
                 .mapValues(lambda v: v[2]))
        if owner.count() <= a.broadcast_clients:
            # A map of every client to its partner fits each executor: looked up where the rows
            # are, so the rows move once (to their partner's bucket), not twice.
            owners = sc.broadcast(owner.collectAsMap())
            routed = rows.map(lambda r: (owners.value.get(r[3], NOBODY), r))
        else:
            routed = (rows.map(lambda r: (r[3], r)).leftOuterJoin(owner)
                      .map(lambda kv: (kv[1][1] if kv[1][1] is not None else NOBODY, kv[1][0])))
    elif headers:
        # No clients file, clients from the rows: each row's money is the partner's its row names
        # (SPEC §3), so each partner a set; rows that name none (and every other record, which can
        # only be `default`'s) the everyone set.
        def by_partner(r):
            if r[0] == "raw" and r[6] and r[6] != DEFAULT_HEX:
                return "p" + r[6]
            return EVERYONE
        routed = rows.map(lambda r: (by_partner(r), r))
    else:
        routed = rows.map(lambda r: (EVERYONE, r))
    routed = routed.persist(StorageLevel.MEMORY_AND_DISK)
    # The same transaction id in two sets has other facts (another client): one run rejects every
    # record of that id, so they all go to the set no partner owns and are rejected there alike.
    # Combined where the rows are: one (id, set) pair per id and partition moves, not one per row.
    # Without a clients file there is no such set: they all go to the first of their sets instead,
    # where the same rule rejects them (a rejected row makes no client there).
    twice = dict(routed.filter(lambda kv: is_transaction(kv[1]))
                 .map(lambda kv: (kv[1][4], (kv[0], kv[0])))
                 .reduceByKey(lambda x, y: (min(x[0], y[0]), max(x[1], y[1])))
                 .filter(lambda kv: kv[1][0] != kv[1][1])
                 .mapValues(lambda v: NOBODY if has_clients else v[0]).collect())
    if twice:
        moved = sc.broadcast(twice)
        routed = routed.map(lambda kv: (moved.value[kv[1][4]], kv[1]) if is_transaction(kv[1]) and kv[1][4] in moved.value else kv)
    timing("routed")
    sets = routed.keys().distinct().count()
    # Every record rejected (or none at all): one empty set still gives the run's empty output.
    empty = sets == 0
    ropts = render_options(a)
    # Every set is rendered in the run's currencies: a set of one currency in a run of several
    # writes the columns a single render of the run writes (SPEC §4).
    if currencies:
        ropts = ropts + ["--run-currencies", ",".join(sorted(currencies))]
    if headers:
        # Rows passed on as they were read are read again as the run reads them: the profile too.
        ropts = sopts + ropts

    def render_set(item):
        """Stage 2, on an executor: a bucket of partners' sets as one self-contained input set,
        rendered by one `render`. Any union of sets is self-contained (every record of a client,
        and of a transaction id, is in one set), so a bucket gives the same reports as its sets
        apart, with one process instead of one per partner."""
        number, records = item
        work = tempfile.mkdtemp(prefix="br-set-")
        try:
            by_kind = {"client": [], "event": [], "transaction": []}
            raw = {}
            for r in records:
                if r[0] == "raw":
                    raw.setdefault(r[1], []).append((r[2], r[5]))
                else:
                    by_kind[r[0]].append((r[1], r[2], r[5]))
            files = []
            for kind in ("client", "event", "transaction"):
                # A clients or events file, even one without rows, tells the run it has such records.
                needed = by_kind[kind] or (kind == "client" and has_clients) or (kind == "event" and has_events)
                if not needed:
                    continue
                name = os.path.join(work, f"{kind}s.csv")
                with open(name, "wb") as f:
                    f.write(HEADERS[kind])
                    # In the order one run reads them: by file, then as the file has them.
                    for _, _, row in sorted(by_kind[kind]):
                        f.write(base64.b64decode(row))
                files.append(name)
            # Each file read through a row layout as a file of its own (its header, its rows in the
            # order it has them), named as the original (a profile's `files:` patterns match it).
            for index in sorted(raw):
                folder = os.path.join(work, f"raw-{index:06d}")
                os.mkdir(folder)
                base = os.path.basename(paths[index])
                name = os.path.join(folder, base[:-3] if base.endswith(".gz") else base)
                with open(name, "wb") as f:
                    f.write(base64.b64decode(headers[index][1]))
                    for _, row in sorted(raw[index]):
                        f.write(base64.b64decode(row))
                files.append(name)
            output = os.path.join(stage, f"set-{number:06d}")
            part = os.path.join(stage, f"render-{number:06d}.json")
            done = subprocess.run([tool(), "render", "--quiet", "--jobs", "1", *ropts, "--out", output,
                                   "--summary-part", part, *files], cwd=here(cwd), capture_output=True)
            return (number, done.returncode, done.stderr.decode("utf-8", "replace"), part)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    width = a.partitions or max(1, min(sets, 4 * sc.defaultParallelism))
    if empty:
        results = [render_set((0, []))]
    else:
        # Buckets by a stable hash of the set's key (Python's own hash differs between processes).
        buckets = routed.map(lambda kv: (zlib.crc32(kv[0].encode()) % width, kv[1]))
        results = buckets.groupByKey(width).map(render_set).collect()
    failures = [r for r in results if r[1] != 0]
    if failures:
        for _, code, stderr, _ in sorted(failures):
            sys.stderr.write(stderr)
        return max(r[1] for r in failures)
    timing("rendered")
    render_parts = [r[3] for r in sorted(results)]
    merge = [tool(), "merge-parts", *merge_options(a), "--out", out, *input_parts, *render_parts]
    if a.quiet:
        merge.insert(2, "--quiet")
    code = subprocess.run(merge, cwd=cwd).returncode
    timing("merged")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
