"""Writing exported rows as CSV or XLSX, a batch at a time, with every text cell neutralized against formula
injection.

A cell is text (str), a moment (a naive datetime in the office's time zone: spreadsheets know no zones, the
header names it), a whole number (int) or empty (None). Text that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return could be read as a formula by a spreadsheet:

- CSV: such a cell gets a leading apostrophe (OWASP's advice), so Excel and LibreOffice show it as text; the
  apostrophe is part of the value a script reads.
- XLSX: every text cell is written as a string (never a formula, number or link) in text format, and such a
  cell also carries Excel's "quote prefix" style: the value itself is unchanged ("+62 812-3456-7890" stays
  exactly that), and editing the cell does not turn it into a formula either.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, Protocol

import xlsxwriter

Cell = str | int | dt.datetime | None
# text: what people typed and codes (checked in every row); listed: values from Rangkul's own lists (region names
# and codes, labels), made safe once by whoever makes them (bot/views/export_table.py).
CellType = Literal["text", "listed", "moment", "number"]
RISKY_STARTS = ("=", "+", "-", "@", "\t", "\r")
_RISKY_FIRST = frozenset(RISKY_STARTS)
XLSX_MOMENT = "dd/mm/yyyy hh:mm"
# Column widths in characters: at least the header's (within MAX), at most MAX so one long reply does not make a
# column wider than the screen.
MAX_WIDTH = 60
MOMENT_WIDTH = 17


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    type: CellType = "text"


def risky(text: str) -> bool:
    """Whether a spreadsheet could take TEXT for a formula."""
    return text.startswith(RISKY_STARTS)


def neutralized_csv(text: str) -> str:
    return "'" + text if text.startswith(RISKY_STARTS) else text


class Sheet(Protocol):
    def write_rows(self, rows: Iterable[list[Cell]]) -> None: ...

    def close(self) -> None: ...


class CsvSheet:
    """UTF-8 with a byte-order mark (Excel then reads Indonesian names right), RFC 4180 quoting, CRLF lines."""

    def __init__(self, stream: IO[str], columns: Sequence[Column]) -> None:
        stream.write("\ufeff")
        self._writer = csv.writer(stream, lineterminator="\r\n")
        self._writer.writerow([neutralized_csv(column.header) for column in columns])
        self._stream = stream
        self._texts = [index for index, column in enumerate(columns) if column.type == "text"]
        self._moments = [index for index, column in enumerate(columns) if column.type == "moment"]

    def write_rows(self, rows: Iterable[list[Cell]]) -> None:
        """Write ROWS (lists this sheet may change in place)."""
        # Only the text columns are looked at in every row, and only by index: this loop is most of a CSV
        # export's own time. The csv module writes None as an empty field and numbers as digits.
        risky_first, texts, moments = _RISKY_FIRST, self._texts, self._moments
        rows = list(rows)
        for cells in rows:
            for index in texts:
                text = cells[index]
                if text and text[0] in risky_first:  # type: ignore[index]
                    cells[index] = "'" + text  # type: ignore[operator]
            for index in moments:
                stamp = cells[index]
                if stamp is not None:
                    cells[index] = stamp.isoformat(" ", "minutes")  # type: ignore[union-attr]
        self._writer.writerows(rows)

    def close(self) -> None:
        self._stream.flush()


class XlsxSheet:
    """One worksheet written row by row in xlsxwriter's constant-memory mode: a bold frozen header row with an
    autofilter, moments as real dates, text as text, and column widths that fit what was written."""

    def __init__(self, path: Path, columns: Sequence[Column], title: str) -> None:
        self._book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                # write_string is used for all text anyway; these keep any other path from guessing.
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        self._sheet = self._book.add_worksheet(title[:31])
        self._text = self._book.add_format({"num_format": "@"})
        self._quoted = self._book.add_format({"num_format": "@", "quote_prefix": True})
        self._moment = self._book.add_format({"num_format": XLSX_MOMENT})
        header = self._book.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "num_format": "@"})
        self._types = [column.type for column in columns]
        self._widths = [min(MAX_WIDTH, max(len(column.header), 6)) for column in columns]
        for index, column in enumerate(columns):
            self._sheet.write_string(0, index, column.header, self._quoted if risky(column.header) else header)
            if column.type == "moment":
                self._widths[index] = max(self._widths[index], MOMENT_WIDTH)
        self._sheet.freeze_panes(1, 0)
        self._row = 0

    def write_rows(self, rows: Iterable[list[Cell]]) -> None:
        sheet, widths, text, quoted, moment = self._sheet, self._widths, self._text, self._quoted, self._moment
        write_string, write_number, write_datetime = sheet.write_string, sheet.write_number, sheet.write_datetime
        row_number = self._row
        for row in rows:
            row_number += 1
            for index, cell in enumerate(row):
                if cell is None:
                    continue
                if isinstance(cell, str):
                    write_string(row_number, index, cell, quoted if cell.startswith(RISKY_STARTS) else text)
                    if len(cell) > widths[index]:
                        widths[index] = min(MAX_WIDTH, len(cell))
                elif isinstance(cell, dt.datetime):
                    write_datetime(row_number, index, cell, moment)
                else:
                    write_number(row_number, index, cell)
        self._row = row_number

    def close(self) -> None:
        for index, width in enumerate(self._widths):
            # A little room for the autofilter's arrow.
            self._sheet.set_column(index, index, width + 2)
        self._sheet.autofilter(0, 0, self._row, len(self._widths) - 1)
        self._book.close()
