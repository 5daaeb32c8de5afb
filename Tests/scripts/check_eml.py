#!/usr/bin/env python3
"""Checks a partner's report.eml with Python's own MIME parser (the `email` package).

    python3 Tests/scripts/check_eml.py PARTNER_DIR [--to ADDR ...] [--from ADDR] [--date RFC5322-DATE] [--lang ru|en]

PARTNER_DIR is a rendered partner folder (`out/alfa-cloud`); its report.eml is checked against the
files beside it. `--to` lists the expected recipients (`Name <addr>` or `addr`, in order; none means
no To: header), `--from` the expected sender, `--date` the expected Date: (none means no Date: and
`X-Unsent: 1`). Exit status 0 when every check passes; otherwise every failure is printed.

Checks: the raw bytes (CRLF line ends, ASCII-only headers, lines within the RFC 5322 limits, base64
lines of 76 characters); no parser defects in any part; the structure multipart/mixed =
[multipart/alternative = [text/plain, text/html], 3 attachments]; the attachments are the XLSX
workbooks in Russian and the CSV files in English, each equal byte for byte to the file of the same
name beside report.eml (a workbook, when the run wrote none with --xlsx, is at least a zip holding
xl/workbook.xml); the HTML part equals index.html; the text part is plain text about this partner and
names the attachments' format; the headers decode to what was expected; the Message-ID is the hash
of the rest; the boundaries occur nowhere in the content.
"""
import argparse
import io
import zipfile
import email
import email.header
import email.policy
import email.utils
import hashlib
import os
import re
import sys

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def lf(data):
    return data.replace(b"\r\n", b"\n")


def addresses(raw, name):
    """(display name, address) pairs of an address header, display names decoded as RFC 2047 §6.2 says:
    white space between adjacent encoded-words is dropped. (The `email.policy.default` address parser
    puts a space there, so it would read an encoded-word split inside a name with a stray space.)"""
    legacy = email.message_from_bytes(raw, policy=email.policy.compat32)
    values = legacy.get_all(name) or []
    return [(str(email.header.make_header(email.header.decode_header(display))), address)
            for display, address in email.utils.getaddresses(values)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("partner_dir")
    parser.add_argument("--to", action="append", default=[])
    parser.add_argument("--from", dest="sender")
    parser.add_argument("--date")
    parser.add_argument("--lang", default="ru")
    args = parser.parse_args()

    folder = args.partner_dir.rstrip("/")
    partner = os.path.basename(folder)
    raw = open(os.path.join(folder, "report.eml"), "rb").read()

    # Raw form: CRLF everywhere, no bare CR or LF, line lengths, ASCII headers.
    check(raw.endswith(b"\r\n"), "the message does not end with CRLF")
    check(b"\n" not in raw.replace(b"\r\n", b""), "a bare LF outside CRLF")
    check(b"\r" not in raw.replace(b"\r\n", b""), "a bare CR outside CRLF")
    lines = raw.split(b"\r\n")
    check(all(len(line) <= 998 for line in lines), "a line longer than 998 octets (RFC 5322 2.1.1)")
    check(all(len(line) <= 78 for line in lines), "a line longer than 78 characters (RFC 5322 2.1.1 SHOULD)")
    head = raw.split(b"\r\n\r\n", 1)[0]
    check(all(byte < 0x80 for byte in head), "non-ASCII bytes in the header (must be RFC 2047 encoded)")
    check(all(byte < 0x80 for byte in raw), "non-ASCII bytes anywhere in the message (every part is base64)")

    message = email.message_from_bytes(raw, policy=email.policy.default)
    strict = email.message_from_bytes(raw, policy=email.policy.strict)
    for part in message.walk():
        check(not part.defects, f"parser defects in {part.get_content_type()}: {part.defects}")
    check(strict is not None, "the strict policy could not parse the message")

    # Headers.
    check(message["MIME-Version"] == "1.0", "MIME-Version is not 1.0")
    subject = str(message["Subject"] or "")
    check(partner in subject, f"the subject {subject!r} does not name the partner {partner}")
    check("=?" not in subject, f"the subject did not decode: {subject!r}")
    check(message["Content-Language"] == args.lang, f"Content-Language is {message['Content-Language']!r}, not {args.lang}")
    expected_to = [email.utils.parseaddr(address) for address in args.to]
    actual_to = addresses(raw, "To")
    check(actual_to == expected_to, f"To: is {actual_to}, expected {expected_to}")
    if args.sender:
        actual = addresses(raw, "From")
        check(actual == [email.utils.parseaddr(args.sender)], f"From: is {actual}, expected {args.sender}")
    else:
        check(message["From"] is None, "a From: header nobody asked for")
    if args.date:
        check(message["Date"] is not None and email.utils.parsedate_to_datetime(message["Date"]) == email.utils.parsedate_to_datetime(args.date),
              f"Date: is {message['Date']!r}, expected {args.date!r}")
        check(message["X-Unsent"] is None, "X-Unsent on a dated message")
    else:
        check(message["Date"] is None, f"a Date: header without --date: {message['Date']!r}")
        check(message["X-Unsent"] == "1", "a draft without Date: should carry X-Unsent: 1")
    # Message-ID: <first-last day of the period . 20 hex of SHA-256(partner id, NUL, the message
    # without that header line) @ the From: domain, else balance-report.invalid>.
    found = re.search(rb"\r\nMessage-ID:(?:\r\n)? <(\d{8})-(\d{8})\.([0-9a-f]{20})@([^>\s]+)>\r\n", raw)
    if check(found is not None and raw.count(b"Message-ID:") == 1, f"no single well-formed Message-ID: {message['Message-ID']!r}"):
        rest = raw[:found.start() + 2] + raw[found.end():]
        check(hashlib.sha256(partner.encode() + b"\0" + rest).hexdigest()[:20] == found.group(3).decode(),
              "the Message-ID is not the hash of the rest of the message")
        domain = email.utils.parseaddr(args.sender)[1].rsplit("@", 1)[1].lower() if args.sender else "balance-report.invalid"
        check(found.group(4).decode() == domain, f"the Message-ID domain is {found.group(4)!r}, expected {domain}")
        check(found.group(1) <= found.group(2), "the Message-ID period ends before it starts")

    # Structure.
    check(message.get_content_type() == "multipart/mixed", f"top level is {message.get_content_type()}")
    parts = message.get_payload() if message.is_multipart() else []
    if not check(len(parts) == 4, f"multipart/mixed holds {len(parts)} parts, expected 4 (alternative + 3 tables)"):
        report(); return
    alternative = parts[0]
    check(alternative.get_content_type() == "multipart/alternative", f"first part is {alternative.get_content_type()}")
    inner = alternative.get_payload() if alternative.is_multipart() else []
    if not check(len(inner) == 2, f"multipart/alternative holds {len(inner)} parts"):
        report(); return
    text, html = inner
    for part, kind in ((text, "text/plain"), (html, "text/html")):
        check(part.get_content_type() == kind, f"expected {kind}, found {part.get_content_type()}")
        check(part.get_content_charset() == "utf-8", f"{kind} charset is {part.get_content_charset()}")
        check(part["Content-Transfer-Encoding"] == "base64", f"{kind} is not base64")
        check(part.get_content_disposition() is None, f"{kind} should be inline, is {part.get_content_disposition()}")

    index = open(os.path.join(folder, "index.html"), "rb").read()
    html_bytes = html.get_payload(decode=True)
    # The body is index.html without the folder's links (it is read away from the folder) and with a
    # line naming the attachments where index.html links to snapshot.html.
    check(b"<a " not in html_bytes and b"href=" not in html_bytes, "the HTML part holds links")
    attached = [line for line in lf(html_bytes).split(b"\n") if b"\xd0\x92\xd0\xbe \xd0\xb2\xd0\xbb\xd0\xbe\xd0\xb6\xd0\xb5\xd0\xbd\xd0\xb8\xd0\xb8: " in line or b">Attached: " in line]
    check(len(attached) == 1, "the HTML part does not say once what is attached")
    folder_index = [line for line in lf(index).split(b"\n") if b'href="snapshot.html"' not in line]
    folder_index = re.sub(rb'<a href="clients/[^"]*" style="color:#0969da;">(.*?)</a>', rb"\1", b"\n".join(folder_index), flags=re.S)
    mail_index = b"\n".join(line for line in lf(html_bytes).split(b"\n") if line not in attached)
    check(mail_index == folder_index, "the HTML part differs from index.html (links aside)")
    check(b"\n" not in html_bytes.replace(b"\r\n", b""), "the HTML part is not in canonical CRLF form")
    check(len(html_bytes) < 102_000, f"the HTML part is {len(html_bytes)} bytes: Gmail clips it")

    body = text.get_content()
    check(partner in body, "the text part does not name the partner")
    check(not re.search(r"<(td|tr|table|p|div|span|br)\b", body), "HTML tags in the text part")
    check(not re.search(r"&(amp|lt|gt|quot|#39);", body), "HTML entities in the text part")
    check(re.search(r"\d", body) is not None, "the text part shows no figures")

    # Russian messages carry the XLSX workbooks (a Russian Excel reads a CSV's numbers as text); English the CSV.
    xlsx = args.lang == "ru"
    extension = "xlsx" if xlsx else "csv"
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if xlsx else "text/csv"
    if xlsx:
        check("XLSX" in body and "CSV" not in body, "the Russian text does not say the attachments are XLSX workbooks")
    else:
        check("CSV" in body and "XLSX" not in body, "the English text does not say the attachments are CSV files")
    for folder_words in ("clients folder", "папке clients"):
        check(folder_words not in body, "the text points at a folder the partner does not receive")
        check(folder_words not in html.get_content(), "the HTML points at a folder the partner does not receive")
    expected_files = ["snapshot", "services", "daily"]
    for part, stem in zip(parts[1:], expected_files):
        name = part.get_filename() or ""
        check(bool(attached) and name.encode() in attached[0], f"{name}: not named in the HTML part")
        check(part.get_content_type() == kind, f"{name}: content type {part.get_content_type()}")
        check(part.get_content_disposition() == "attachment", f"{name}: not an attachment")
        check(part["Content-Transfer-Encoding"] == "base64", f"{name}: not base64")
        check(re.fullmatch(stem + r"_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\." + extension, name) is not None, f"attachment name {name!r}")
        data = part.get_payload(decode=True)
        path = os.path.join(folder, f"{stem}.{extension}")
        if os.path.exists(path):
            check(data == open(path, "rb").read(), f"{name} differs from {stem}.{extension}")
        else:
            check(xlsx, f"{stem}.{extension} is missing beside report.eml")
            try:
                check("xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist(), f"{name}: not a workbook")
            except zipfile.BadZipFile:
                check(False, f"{name}: not a zip file")
        for line in part.get_payload().splitlines():
            check(len(line) <= 76, f"{name}: a base64 line over 76 characters")

    # Boundaries: present as delimiters, absent from every decoded part.
    boundaries = [message.get_boundary(), alternative.get_boundary()]
    check(len(set(boundaries)) == 2 and all(boundaries), f"boundaries {boundaries}")
    decoded = [text.get_payload(decode=True), html_bytes] + [part.get_payload(decode=True) for part in parts[1:]]
    for boundary in boundaries:
        check(all(boundary.encode() not in data for data in decoded), f"boundary {boundary} occurs in the content")
    report()


def report():
    if failures:
        for failure in failures:
            print("check_eml: " + failure, file=sys.stderr)
        sys.exit(1)
    print("check_eml: ok")


if __name__ == "__main__":
    main()
