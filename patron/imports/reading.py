"""Reading an uploaded file: CSV (UTF-8, with or without BOM) or XLSX, row by row.

Rows are streamed, never held all at once, so a file of a million customers
reads in constant memory. Problems with the file as a whole (not UTF-8, not a
workbook, no header) raise `FileProblem` with a message for the person who
uploaded it.

A CSV cell that starts with a single quote followed by `=`, `+`, `-`, `@`, a
tab or a carriage return is read without that one quote: it is how an export
(Patron's, or a careful spreadsheet's) keeps such text from running as a
formula, so `'+44 113 496 0100` reads as `+44 113 496 0100`. Other quotes
(`'quoted'`, `O'Brien`) are kept. See `patron.core.spreadsheet`.
"""

from __future__ import annotations

import csv
import datetime
import zipfile
from collections.abc import Iterator
from pathlib import Path

from patron.core.spreadsheet import restore_cell

BOM = b"\xef\xbb\xbf"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls format
FORMATS = ("csv", "xlsx")


class FileProblem(Exception):
    """The file as a whole cannot be read; `row` is set when a line is to blame."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.message = message
        self.row = row


def detect_format(name: str, head: bytes) -> str:
    """ "csv" or "xlsx", from the content first and the file name second."""
    if head.startswith(OLE_MAGIC):
        raise FileProblem(
            "This is an old Excel 97–2003 (.xls) file. Save it as .xlsx or as CSV UTF-8 and "
            "upload it again."
        )
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise FileProblem("The file is named .xlsx but is not an Excel workbook.")
    return "csv"


def _decoded_lines(handle) -> Iterator[str]:
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = raw[exc.start : exc.start + 1].hex()
            raise FileProblem(
                f"Line {number} is not UTF-8 text (byte 0x{bad} at position {exc.start + 1}). "
                "Save the file as “CSV UTF-8” (in Excel: Save As → CSV UTF-8) and upload it "
                "again.",
                row=number,
            ) from None


def _delimiter(first_line: str) -> str:
    """Comma, semicolon (Excel in many European locales) or tab: whichever the header uses."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_rows(path: Path) -> Iterator[list[str]]:
    with open(path, "rb") as handle:
        lines = _decoded_lines(handle)
        first = next(lines, None)
        if first is None:
            return
        delimiter = _delimiter(first)

        def all_lines():
            yield first
            yield from lines

        try:
            yield from csv.reader(all_lines(), delimiter=delimiter)
        except csv.Error as exc:
            raise FileProblem(f"The file is not valid CSV: {exc}.") from None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and not value.time():
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return str(value)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileProblem(f"The file could not be read as an Excel workbook ({exc}).") from None
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        workbook.close()


def read_rows(path: Path, file_format: str) -> Iterator[list[str]]:
    """Every row of the file as a list of stripped strings, the header first.

    CSV cells are stripped and then lose the quote that defused a formula-like
    value (`restore_cell`), so an exported `'-2.50` comes back as `-2.50`. XLSX
    cells are typed, and text in them is read as it is.
    """
    if file_format == "xlsx":
        for row in _xlsx_rows(path):
            yield [cell.strip() for cell in row]
        return
    for row in _csv_rows(path):
        yield [restore_cell(cell.strip()) for cell in row]
