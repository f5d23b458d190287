"""One export from the database to a file: batches read, laid out and written one after another, so memory holds
one batch at a time. Shared by `rangkul export` and the chat's /ekspor."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import scratch
from bot.config import Settings
from bot.services import exports
from bot.services.exports import Batch, Filters, Format, Kind, Viewer
from bot.spreadsheet import CsvSheet, XlsxSheet
from bot.views.export_table import Table

Progress = Callable[[int], Awaitable[None]]
SHEET_TITLES = {Kind.FIGURES: "Tokoh", Kind.COMMITMENTS: "Komitmen", Kind.REPLIES: "Balasan"}


def open_sheet(
    fmt: Format, kind: Kind, table: Table, target: Path | IO[str], *, parts: Path | None = None
) -> tuple[CsvSheet | XlsxSheet, IO[str] | None]:
    """The sheet writing to TARGET (a path; a CSV may also go to an open text stream), and a stream opened here
    that the caller closes after the sheet."""
    if fmt is Format.XLSX:
        if not isinstance(target, Path):
            raise ValueError("an XLSX file is written to a path")
        return XlsxSheet(target, table.columns, SHEET_TITLES[kind], parts=parts), None
    if isinstance(target, Path):
        stream = target.open("w", encoding="utf-8", newline="")
        return CsvSheet(stream, table.columns), stream
    return CsvSheet(target, table.columns), None


async def write(
    *,
    session: AsyncSession,
    kind: Kind,
    fmt: Format,
    filters: Filters,
    viewer: Viewer,
    settings: Settings,
    locale: str,
    target: Path | IO[str],
    progress: Progress | None = None,
    offload: bool = False,
    batch_size: int = exports.BATCH,
) -> int:
    """Write the export to TARGET and return how many rows it holds. With OFFLOAD (in the running bot) the laying
    out and writing of each batch runs in a worker thread, so the event loop keeps answering other people."""
    with scratch.folder() as parts:
        table = Table(kind, locale=locale, tz=settings.tz, masked=viewer.masked)
        # xlsxwriter keeps the rows written so far in files of its own: in the private folder, never in /tmp itself.
        sheet, stream = open_sheet(fmt, kind, table, target, parts=parts)
        written = 0

        async def step(work: Callable[..., None], *args: Any) -> None:
            """WORK in a worker thread with OFFLOAD, here otherwise."""
            if offload:
                await asyncio.to_thread(work, *args)
            else:
                work(*args)

        def put(batch: Batch) -> None:
            if isinstance(sheet, CsvSheet):
                sheet.write_lines(table.csv_lines(batch))
            else:
                sheet.write_rows(table.rows(batch))

        rows = exports.batches(
            session=session, kind=kind, filters=filters, viewer=viewer, tz=settings.tz, size=batch_size
        )
        try:
            async for batch in rows:
                await step(put, batch)
                written += len(batch.rows)
                if progress is not None:
                    await progress(written)
            await step(sheet.close)  # closing an XLSX assembles the file from its parts: seconds for a large one
        finally:
            await rows.aclose()
            if stream is not None:
                stream.close()
        return written


def text_stream(binary: IO[bytes]) -> io.TextIOWrapper:
    """A CSV text stream over BINARY (standard output) that the csv module's own line endings pass through."""
    return io.TextIOWrapper(binary, encoding="utf-8", newline="", write_through=False)
