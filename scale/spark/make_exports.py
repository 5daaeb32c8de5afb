#!/usr/bin/env python3
"""Exports for the Spark equality test: Benchmarks/generate.py's data, cut and seasoned the way
real runs are (docs/scale.md).

    python3 scale/spark/make_exports.py --transactions 100000 --partners 300 --seed 7 --out DIR

Prints the input files, in the order a run names them, one per line. What it adds to the
generator's valid export:
  * hundreds of partners (`p-001` ...), each client given one by its number;
  * clients in two files, the second gzipped, overlapping (identical repeats: duplicates), and
    one client given twice with another partner (a conflict: both rejected, its money unknown);
  * transactions in three files that overlap (duplicates across files), plus transactions of
    clients no clients record names (unknown client), rejected rows (impossible date, bad amount,
    empty client, unknown type), ids reused with other facts in the same partner and across two
    partners (conflicts: every record of the id rejected);
  * events of unknown clients and an illegal transition.
Deterministic: the same arguments give the same bytes.
"""

import argparse
import gzip
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATE = os.path.join(HERE, "..", "..", "Benchmarks", "generate.py")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--transactions", type=int, default=100000)
    ap.add_argument("--clients", type=int, default=0, help="default: transactions / 40, at least 1000")
    ap.add_argument("--partners", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    clients = a.clients or max(1000, a.transactions // 40)
    raw = os.path.join(a.out, "raw")
    os.makedirs(raw, exist_ok=True)
    subprocess.run([sys.executable, GENERATE, "--clients", str(clients), "--transactions", str(a.transactions),
                    "--seed", str(a.seed), "--out", raw], check=True, stderr=subprocess.DEVNULL)

    def lines(name):
        with open(os.path.join(raw, name), "rb") as f:
            data = f.read().split(b"\n")
        assert data[-1] == b""
        return data[0], data[1:-1]

    def partner(client_id):
        number = int(client_id.split(b"-")[1])
        return b"p-%03d" % (number * 7919 % a.partners + 1)

    # Clients: partner_id (column 5) rewritten; two files, the second gzipped, overlapping.
    header, rows = lines("clients.csv")
    fixed = []
    for row in rows:
        cells = row.split(b",")
        # Names hold no comma in the generator's output unless quoted: find partner_id from the end.
        cells[-3] = partner(cells[0])
        fixed.append(b",".join(cells))
    cut = len(fixed) * 3 // 5
    first, second = fixed[:cut + 5], fixed[cut:]
    conflict = fixed[4].split(b",")
    conflict[-3] = b"p-999"
    second.append(b",".join(conflict))
    with open(os.path.join(a.out, "clients-1.csv"), "wb") as f:
        f.write(header + b"\n" + b"\n".join(first) + b"\n")
    with gzip.GzipFile(os.path.join(a.out, "clients-2.csv.gz"), "wb", mtime=0) as f:
        f.write(header + b"\n" + b"\n".join(second) + b"\n")

    # Events: as generated, plus unknown clients' and one illegal transition.
    header, rows = lines("events.csv")
    rows += [b"ghost-1,2024-03-01T10:00:00+03:00,invited", b"ghost-1,2024-03-02T10:00:00+03:00,confirmed",
             b"cl-00001,2024-06-01T12:00:00+03:00,unblocked"]
    with open(os.path.join(a.out, "events.csv"), "wb") as f:
        f.write(header + b"\n" + b"\n".join(rows) + b"\n")

    # Transactions: three overlapping files; the third with the unknown, rejected and conflicting rows.
    header, rows = lines("transactions.csv")
    n = len(rows)
    parts = [rows[:n * 45 // 100], rows[n * 40 // 100:n * 80 // 100], rows[n * 80 // 100:]]
    extra = []
    for i in range(max(10, n // 200)):
        extra.append(b"u-%07d,2024-05-%02dT10:00:00+03:00,ghost-%d,charge,Compute Cloud,%d.25,RUB," % (i, i % 28 + 1, i % 17, i % 900 + 1))
    extra += [
        b"bad-1,2024-02-30T10:00:00+03:00,cl-00002,charge,Compute Cloud,1.00,RUB,impossible date",
        b"bad-2,2024-03-05T10:00:00+03:00,cl-00002,charge,Compute Cloud,\"1,5\",RUB,decimal comma",
        b"bad-3,2024-03-05T10:00:00+03:00,,topup,,100.00,RUB,no client",
        b"bad-4,2024-03-05T10:00:00+03:00,cl-00003,transfer,,100.00,RUB,unknown type",
        b"bad-5,2024-03-05T10:00:00+03:00,cl-00003,charge,Compute Cloud,1.00,RUB,\"=HYPERLINK(\"\"http://x\"\")\"",
    ]
    # Reused ids: a row of the first file again, with another amount (same client, same partner),
    # and with another client (another partner, most likely).
    for k in range(3):
        cells = rows[k * 97].split(b",")
        cells[5] = b"999.99"
        extra.append(b",".join(cells))
    for k in range(3):
        cells = rows[k * 89 + 1].split(b",")
        number = int(cells[2].split(b"-")[1])
        cells[2] = b"cl-%05d" % (number % clients + 1)
        extra.append(b",".join(cells))
    parts[2] += extra
    names = []
    for k, part in enumerate(parts):
        name = os.path.join(a.out, f"transactions-{k + 1}.csv")
        with open(name, "wb") as f:
            f.write(header + b"\n" + b"\n".join(part) + b"\n")
        names.append(name)
    for name in ["clients-1.csv", "clients-2.csv.gz", "events.csv"] + [os.path.basename(x) for x in names]:
        print(os.path.join(a.out, name))


if __name__ == "__main__":
    main()
