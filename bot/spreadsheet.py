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

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

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
CSV_LINE_END = "\r\n"
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


def csv_text(text: str) -> str:
    """TEXT as one CSV field: neutralized, then quoted as RFC 4180 asks when it holds a comma, a quote or a line
    break, its quotes doubled (what the csv module writes with QUOTE_MINIMAL). A function of its own rather than
    the csv module's writer, so that an export can make a field that repeats from row to row (a region's names, a
    label) once and reuse it: that is most of a large CSV export's time (bot/views/export_table.py)."""
    if text[:1] in _RISKY_FIRST:
        text = "'" + text
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def csv_cell(cell: Cell) -> str:
    """A cell as a CSV field: empty for None, digits for a number, "2026-12-01 09:30" for a moment."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return csv_text(cell)
    if isinstance(cell, dt.datetime):
        return cell.isoformat(" ", "minutes")
    return str(cell)


def csv_line(cells: Iterable[Cell]) -> str:
    return ",".join(map(csv_cell, cells)) + CSV_LINE_END


class CsvSheet:
    """UTF-8 with a byte-order mark (Excel then reads Indonesian names right), RFC 4180 quoting, CRLF lines.
    It writes lines made by `csv_line` (or field by field with `csv_text`), a batch at a time."""

    def __init__(self, stream: IO[str], columns: Sequence[Column]) -> None:
        stream.write("\ufeff")
        stream.write(csv_line(column.header for column in columns))
        self._stream = stream

    def write_lines(self, lines: Iterable[str]) -> None:
        # Line by line: the text stream gathers them into blocks, and a reader that goes away (`| head`) is
        # noticed at the next block, where one long write to a pipe can end as if all of it had gone.
        self._stream.writelines(lines)

    def close(self) -> None:
        self._stream.flush()


class XlsxSheet:
    """One worksheet written row by row in xlsxwriter's constant-memory mode: a bold frozen header row with an
    autofilter, moments as real dates, text as text, and column widths that fit what was written."""

    def __init__(self, path: Path, columns: Sequence[Column], title: str, *, parts: Path | None = None) -> None:
        """PARTS: the folder for xlsxwriter's own temporary files (the rows written so far), PATH's by default."""
        self._book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "tmpdir": str(parts or path.parent),
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
