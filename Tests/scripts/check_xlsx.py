#!/usr/bin/env python3
"""Reads a partner's XLSX workbooks back with openpyxl and checks them against the CSV files of the same run.

    python3 Tests/scripts/check_xlsx.py PARTNER_DIR [PARTNER_DIR ...] [--lang ru|en]

For each of snapshot, services and daily in PARTNER_DIR: the workbook opens; its first sheet is named
after the file, its header row is frozen (panes at A2) and filtered, every column has a width; and each
row and cell matches the CSV of the same name (standard or Excel-for-Russia dialect):

* text cells are strings (data type "s") equal to the CSV text without the CSV's formula-guard
  apostrophe, so a phone `+7 (495) …` or a name `=HYPERLINK(…)` is text with no apostrophe; the
  OOXML `_xHHHH_` escapes are decoded first, as a spreadsheet does; a text over the 32 767
  characters a cell holds is cut there and ends in `…`;
* amount cells are numbers with the format `#,##0.00`, equal to the CSV's exact amount rounded half
  away from zero to two decimals (the exact value stays in the CSV);
* `state_since` cells are date-times and `date` cells dates (Moscow time, as the CSV writes it),
  with a date number format;
* an empty CSV field is an empty cell;
* no sheet holds a formula (`<f>`): text from the data can never run.

Exit status 0 when every check passes; otherwise every failure is printed.
"""
import argparse
import csv
import datetime as dt
import io
import os
import re
import sys
import zipfile
from decimal import Decimal, ROUND_HALF_UP

import openpyxl

failures = []

MONEY = {"opening_balance", "topups", "charges", "refunds", "unattached_change", "closing_balance",
         "charged", "refunded", "net", "spend_rate_daily"}
WHOLE = {"runway_days"}
INSTANT = {"state_since"}
DATE = {"date"}
HEADERS = {
    "ru": {
        "snapshot": ["ID клиента", "Название", "E-mail", "Телефон", "Состояние", "Состояние с", "Баланс на начало",
                     "Пополнения", "Списания", "Возвраты", "Вне подключения", "Баланс на конец",
                     "Расход в день", "Дней до нуля"],
        "services": ["ID клиента", "Сервис", "Списано", "Возвращено", "Расход"],
        "daily": ["ID клиента", "Дата", "Сервис", "Расход"],
    },
    "en": {
        "snapshot": ["Client ID", "Name", "E-mail", "Phone", "State", "State since", "Opening balance",
                     "Top-ups", "Charges", "Refunds", "Change while not attached", "Closing balance",
                     "Spend a day", "Days left"],
        "services": ["Client ID", "Service", "Charged", "Refunded", "Spend"],
        "daily": ["Client ID", "Date", "Service", "Spend"],
    },
}
CURRENCY = {"ru": "Валюта", "en": "Currency"}
GUARDED = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
MAX_TEXT = 32_767


def short(text):
    return text if len(text) <= 80 else text[:60] + f"… ({len(text)} characters)"


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def read_csv(path):
    raw = open(path, "rb").read()
    excel = raw.startswith(b"\xef\xbb\xbf")
    text = raw[3:].decode("utf-8") if excel else raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))
    return rows, excel


def unescape(text):
    """OOXML ST_Xstring: `_xHHHH_` stands for the character U+HHHH (`_x005F_` for `_`)."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def unguarded(text):
    """The CSV text without the apostrophe the formula guard put before a formula-like cell."""
    if text.startswith("'") and text[1:2] and text[1] in GUARDED:
        return text[1:]
    return text


def kopecks(text, excel):
    exact = Decimal(text.replace(",", ".") if excel else text)
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # half away from zero, both signs


def moscow(text):
    """`YYYY-MM-DDTHH:MM:SS[.fff]+03:00` as the naive Moscow wall-clock time a cell shows."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?\+03:00", text)
    if not match:
        # The excel-ru dialect writes `DD.MM.YYYY HH:MM:SS`, the form Russian Excel reads as a date-time.
        if re.fullmatch(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}", text):
            return dt.datetime.strptime(text, "%d.%m.%Y %H:%M:%S")
        return None
    moment = dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
    if match.group(2):
        moment += dt.timedelta(microseconds=round(float("0" + match.group(2)) * 1_000_000))
    return moment


# The Russian workbook names states as the Russian pages do (issue 20); the CSV keeps the codes.
RUSSIAN_STATES = {"invited": "приглашён", "active": "активен", "blocked": "заблокирован", "removed": "отключён"}


def check_book(folder, stem, lang):
    where = f"{os.path.basename(folder)}/{stem}.xlsx"
    rows, excel = read_csv(os.path.join(folder, stem + ".csv"))
    header, data = rows[0], rows[1:]
    # A run of several currencies has a currency column last (SPEC §4), in the CSV and the workbook.
    expected = HEADERS[lang][stem] + ([CURRENCY[lang]] if header[-1] == "currency" else [])
    path = os.path.join(folder, stem + ".xlsx")
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.startswith("xl/worksheets/"):
                xml = archive.read(member)
                check(b"<f>" not in xml and b"<f " not in xml, f"{where}: a formula in {member}")
    book = openpyxl.load_workbook(path)
    sheets = book.worksheets
    check(sheets[0].title == stem, f"{where}: the first sheet is {sheets[0].title!r}")
    cells = []
    for number, sheet in enumerate(sheets):
        check(sheet.title == (stem if number == 0 else f"{stem} {number + 1}"), f"{where}: sheet {sheet.title!r}")
        check(sheet.freeze_panes == "A2", f"{where}/{sheet.title}: the header row is not frozen ({sheet.freeze_panes})")
        check(sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:"), f"{where}: no filter on the header")
        got = [cell.value for cell in sheet[1]]
        check(got == expected, f"{where}: header {got}")
        check(all(cell.font.b for cell in sheet[1]), f"{where}: the header is not bold")
        for index in range(len(header)):
            letter = openpyxl.utils.get_column_letter(index + 1)
            width = sheet.column_dimensions[letter].width
            check(width is not None and width >= len(expected[index]), f"{where}: column {letter} width {width}")
        cells += [list(row) for row in sheet.iter_rows(min_row=2)]
    check(len(cells) == len(data), f"{where}: {len(cells)} rows, the CSV has {len(data)}")
    for line, (row, values) in enumerate(zip(cells, data), start=2):
        row = row + [None] * (len(header) - len(row))
        for name, cell, value in zip(header, row, values):
            at = f"{where} row {line} {name}"
            if value == "":
                check(cell is None or cell.value is None, f"{at}: {cell.value!r} where the CSV is empty")
                continue
            if not check(cell is not None and cell.value is not None, f"{at}: empty where the CSV has {value!r}"):
                continue
            # What a person can use (issue 20): a runway past a year and a rate under half a kopeck
            # are words in the workbook; the CSV keeps the exact figures they stand for.
            if name in WHOLE and cell.data_type == "s":
                check(int(value) > 365 and cell.value in ("больше года", "more than a year"), f"{at}: {cell.value!r}, the CSV has {value}")
                continue
            if name == "spend_rate_daily" and cell.data_type == "s":
                check(cell.value in ("< 0,01", "< 0.01") and 0 < Decimal(value.replace(",", ".")) < Decimal("0.005"),
                      f"{at}: {cell.value!r}, the CSV has {value}")
                continue
            if name in MONEY:
                check(cell.data_type == "n" and isinstance(cell.value, (int, float)), f"{at}: not a number: {cell.value!r}")
                check(cell.number_format == "#,##0.00", f"{at}: number format {cell.number_format!r}")
                check(Decimal(repr(float(cell.value))).quantize(Decimal("0.01")) == kopecks(value, excel),
                      f"{at}: {cell.value!r}, the CSV has {value}")
            elif name in WHOLE:
                check(cell.data_type == "n" and cell.value == int(value), f"{at}: {cell.value!r}, the CSV has {value}")
                check(cell.number_format == "0", f"{at}: number format {cell.number_format!r}")
            elif name in INSTANT:
                check(isinstance(cell.value, dt.datetime), f"{at}: not a date-time: {cell.value!r}")
                check("yy" in cell.number_format and "hh:mm" in cell.number_format, f"{at}: number format {cell.number_format!r}")
                check(cell.value == moscow(value), f"{at}: {cell.value!r}, the CSV has {value}")
            elif name in DATE:
                check(isinstance(cell.value, dt.datetime) and cell.value.time() == dt.time(0), f"{at}: not a date: {cell.value!r}")
                check("yy" in cell.number_format and "h" not in cell.number_format, f"{at}: number format {cell.number_format!r}")
                check(cell.value.date().isoformat() == value, f"{at}: {cell.value!r}, the CSV has {value}")
            else:
                check(cell.data_type == "s" and isinstance(cell.value, str), f"{at}: not text: {cell.value!r}")
                text = unescape(cell.value)
                expected = unguarded(value)
                if name == "state" and lang == "ru":
                    expected = RUSSIAN_STATES.get(expected, expected)
                if len(expected) > MAX_TEXT:  # a cell holds 32 767 characters: cut, ending in an ellipsis
                    expected = expected[:MAX_TEXT - 1] + "\u2026"
                check(text == expected, f"{at}: {short(text)!r}, the CSV has {short(value)!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("partner_dirs", nargs="+")
    parser.add_argument("--lang", default="ru")
    args = parser.parse_args()
    for folder in args.partner_dirs:
        for stem in ("snapshot", "services", "daily"):
            try:
                check_book(folder.rstrip("/"), stem, args.lang)
            except Exception as error:  # a workbook openpyxl cannot read is a failure, not a crash
                failures.append(f"{os.path.basename(folder)}/{stem}.xlsx: {type(error).__name__}: {error}")
    if failures:
        for failure in failures:
            print("check_xlsx: " + failure, file=sys.stderr)
        sys.exit(1)
    print("check_xlsx: ok")


if __name__ == "__main__":
    main()
