"""Cells that a spreadsheet program would run as a formula, and how Patron defuses them.

A CSV cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
read by Excel, LibreOffice and Google Sheets as a formula (`=HYPERLINK(…)`,
`+cmd|…`, `@SUM(A1)`, `-2+3`), so a customer's name or note could run code on
the machine of whoever opens an export. As OWASP advises ("CSV Injection"),
every such cell is written with a single quote in front, which spreadsheet
programs take as "this is text"; reading a file, the quote is taken off again,
so a file Patron wrote imports back to exactly the values it was written from.

The rule is a bijection on text, so nothing is ever lost:

- `neutralise_cell` adds one `'` to text that, after any quotes it already
  starts with, starts with one of the characters above (`=1` → `'=1`,
  `'=1` → `''=1`); all other values are returned unchanged.
- `restore_cell` takes exactly one `'` off text that starts with a quote and,
  after its quotes, with one of the characters above (`'=1` → `=1`,
  `''=1` → `'=1`); `'quoted'`, `O'Brien` and `''` are left as they are.

Every CSV Patron writes goes through `neutralise_cell`, every CSV it reads
through `restore_cell`. An XLSX cell is typed: `xlsx_text_cell` stores such
text as a string cell marked with Excel's own "typed with a leading quote"
flag (`quotePrefix`), so the value is kept as it is and is read back as it is.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def looks_like_formula(text: str) -> bool:
    """Whether `text`, after any leading single quotes, starts like a formula."""
    return text.lstrip(QUOTE).startswith(FORMULA_STARTS)


def neutralise_cell(value):
    """The value to write in a CSV cell: `'` in front of formula-like text.

    Numbers count by the text the CSV writer makes of them, so -2.5 is
    written `'-2.5`. None and values that need nothing are returned unchanged.
    """
    if value is None or isinstance(value, bool):
        return value
    text = value if isinstance(value, str) else str(value)
    return QUOTE + text if looks_like_formula(text) else value


def neutralise_row(values) -> list:
    return [neutralise_cell(v) for v in values]


def restore_cell(text: str) -> str:
    """A CSV cell as read, without the quote `neutralise_cell` put in front of it."""
    if text.startswith(QUOTE) and looks_like_formula(text):
        return text[1:]
    return text


def xlsx_text_cell(sheet, value):
    """An openpyxl write-only cell for `value`; formula-like text stays text.

    openpyxl would store text starting with `=` as a formula; here it is a
    string cell with `quotePrefix` set, as if typed with a leading `'`, so a
    spreadsheet program neither runs it nor turns it into one when edited.
    """
    if not (isinstance(value, str) and looks_like_formula(value)):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell
