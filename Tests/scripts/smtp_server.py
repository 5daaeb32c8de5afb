#!/usr/bin/env python3
"""A real SMTP server for the send tests (aiosmtpd, PyPI), on 127.0.0.1 only.

    smtp_server.py SPOOL [--refuse ADDRESS]...

Listens on a free port of 127.0.0.1 and prints `port N` on stdout once it accepts connections.
Every message it accepts is written to SPOOL as NNNNNN.eml (the DATA bytes exactly as received,
dot-unstuffed) and NNNNNN.json (envelope sender and recipients), the .eml last and by rename, so
a reader never sees half a message. A RCPT TO of a --refuse address gets `550 5.1.1`.
The server stops when its stdin closes: a test that dies takes its server with it.
"""
import argparse
import asyncio
import itertools
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Spool:
    def __init__(self, folder, refused):
        self.folder = folder
        self.refused = {address.lower() for address in refused}
        self.numbers = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        number = "%06d" % next(self.numbers)
        base = os.path.join(self.folder, number)
        with open(base + ".json", "w") as meta:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, meta)
        with open(base + ".tmp", "wb") as message:
            message.write(envelope.original_content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as " + number


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("spool")
    parser.add_argument("--refuse", action="append", default=[])
    args = parser.parse_args()
    os.makedirs(args.spool, exist_ok=True)
    handler = Spool(args.spool, args.refuse)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="test.invalid"), host="127.0.0.1", port=0)
    print("port %d" % server.sockets[0].getsockname()[1], flush=True)
    # Until stdin is closed.
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
