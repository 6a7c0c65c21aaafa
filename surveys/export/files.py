"""The binary export writers: XLSX (openpyxl write-only) and Parquet (pyarrow, typed).

Both formats end with an index (a zip directory, a Parquet footer), so they are written to a
spooled temporary file batch by batch and streamed out once complete: memory stays flat (the
file spills to disk past a few MB) but the first byte leaves after the last row is read.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from surveys.export.formats import Batch, Column, typed_value

if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow and openpyxl are imported inside the writers: together they add ~35 MB to every
# gunicorn worker that imports them, and most workers never write a Parquet or XLSX file.

CHUNK_BYTES = 256 * 1024
SPOOL_BYTES = 8 * 1024 * 1024
# Excel's limit is 1,048,576 rows per sheet; the header takes one. Longer exports continue on
# further sheets, each with the header, so nothing is cut off.
XLSX_SHEET_ROWS = 1_048_575
PARQUET_GROUP_ROWS = 16_384


def arrow_type(kind: str) -> pa.DataType:
    import pyarrow as pa

    return {
        "int": pa.int64,
        "float": pa.float64,
        "bool": pa.bool_,
        "time": lambda: pa.timestamp("us", tz="UTC"),
        "str": pa.string,
        "text": pa.string,
    }[kind]()


def _drain(spool: IO[bytes]) -> Iterator[bytes]:
    spool.seek(0)
    while chunk := spool.read(CHUNK_BYTES):
        yield chunk


def _xlsx_text(sheet: Any, value: str) -> Any:
    """A string cell: never a formula, and without what XML cannot hold."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # XML 1.0 cannot carry control characters other than tab and newlines.
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith("="):
        # openpyxl would store this as a formula; a string cell is never evaluated.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def _xlsx_cell(sheet: Any, kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "time":
        # Naive UTC: spreadsheets have no time zones; the column header says UTC in the docs.
        return datetime.fromisoformat(value).replace(tzinfo=None)
    value = typed_value(kind, value)
    if kind in ("str", "text"):
        return _xlsx_text(sheet, value)
    return value


def xlsx_chunks(
    columns: Sequence[Column],
    batches: Iterable[Batch],
    *,
    sheet_title: str = "responses",
    sheet_rows: int = XLSX_SHEET_ROWS,
) -> Iterator[bytes]:
    """An XLSX workbook; text cells keep their exact value and are never formulas."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    kinds = [c.kind for c in columns]
    sheets = 1
    sheet = book.create_sheet(sheet_title)
    # Property names are the customer's text, as hostile as any value.
    sheet.append([_xlsx_text(sheet, c.name) for c in columns])
    used = 0
    for batch in batches:
        for row in batch:
            if used == sheet_rows:
                sheets += 1
                sheet = book.create_sheet(f"{sheet_title} ({sheets})")
                sheet.append([_xlsx_text(sheet, c.name) for c in columns])
                used = 0
            sheet.append([_xlsx_cell(sheet, k, v) for k, v in zip(kinds, row, strict=True)])
            used += 1
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        book.save(spool)
        yield from _drain(spool)


def arrow_schema(columns: Sequence[Column]) -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(c.name, arrow_type(c.kind)) for c in columns])


def _record_batch(columns: Sequence[Column], schema: pa.Schema, batch: Batch) -> pa.RecordBatch:
    import pyarrow as pa

    arrays = []
    for i, column in enumerate(columns):
        kind = column.kind
        values = [row[i] for row in batch]
        if kind == "time":
            arrays.append(pa.array(values, pa.string()).cast(arrow_type(kind)))
        else:
            typed = [typed_value(kind, v) for v in values]
            arrays.append(pa.array(typed, arrow_type(kind)))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def parquet_chunks(columns: Sequence[Column], batches: Iterable[Batch]) -> Iterator[bytes]:
    """A typed Parquet file (times as UTC timestamps), in row groups of 16k rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(columns)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        writer = pq.ParquetWriter(spool, schema, compression="zstd")
        pending: list[pa.RecordBatch] = []
        rows = 0
        for batch in batches:
            if not batch:
                continue
            pending.append(_record_batch(columns, schema, batch))
            rows += len(batch)
            if rows >= PARQUET_GROUP_ROWS:
                writer.write_table(pa.Table.from_batches(pending, schema=schema))
                pending, rows = [], 0
        if pending:
            writer.write_table(pa.Table.from_batches(pending, schema=schema))
        writer.close()
        yield from _drain(spool)
