"""The file of rejected rows: exactly the rows that were not imported, with a reason.

It has the uploaded file's own header and cells, plus a `reason` column, so
it can be corrected in a spreadsheet and imported again as it is (the import
reads past the `reason` column). Cells are written as the import read them,
with formula-like text defused as in every CSV Patron writes.
"""

from __future__ import annotations

import csv
from pathlib import Path

from patron.core.spreadsheet import neutralise_row

REASON = "reason"


class RejectedRowsFile:
    """Written lazily: no file unless a row is rejected."""

    def __init__(self, path: Path, header: list[str]):
        self.path = path
        self.header = header
        self.count = 0
        self._handle = None
        self._writer = None

    def add(self, cells: list[str], reason: str) -> None:
        if self._writer is None:
            self._handle = open(self.path, "w", newline="", encoding="utf-8-sig")  # noqa: SIM115
            self._writer = csv.writer(self._handle)
            self._writer.writerow(neutralise_row([*self.header, REASON]))
        width = len(self.header)
        cells = list(cells[:width]) + [""] * max(0, width - len(cells))
        self._writer.writerow(neutralise_row([*cells, reason]))
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
